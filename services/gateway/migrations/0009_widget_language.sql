-- The widget speaks Russian or English: the shop's language (`language`),
-- or the visitor's browser language when it is one of those and the shop
-- lets it (`language_from_browser`). Shops from before keep English unless
-- their visitors' browsers say Russian. Defaults fill the existing rows
-- without a rewrite (PostgreSQL 11+).
select set_config('lock_timeout', '5s', true);
alter table widget_settings
    add column language text not null default 'en' check (language in ('en', 'ru')),
    add column language_from_browser boolean not null default true;
