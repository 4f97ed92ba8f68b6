-- The e-mails' languages, from the gateway's manager announcements: each
-- manager's console language (their alerts), and the shop's widget
-- language (its e-mails to visitors). Empty: not told yet, English.
select set_config('lock_timeout', '5s', true);
alter table manager add column language text not null default '';
alter table account_mail add column language text not null default '';
