-- An address may manage several shops: an e-mail is unique within an
-- account, not across the suite, so adding a manager reveals nothing about
-- other accounts and nobody can squat an address for another shop.
alter table manager drop constraint manager_email_unique;
alter table manager add constraint manager_email_per_account unique (account_id, email);
-- Signing in looks an address up across shops.
create index manager_email on manager (email);
