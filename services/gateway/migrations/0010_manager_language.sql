-- The console's language, chosen by each manager (`en` or `ru`); null
-- while they have not chosen, when the console follows their browser.
-- E-mails to the manager use it too.
select set_config('lock_timeout', '5s', true);
alter table manager add column language text check (language in ('en', 'ru'));
