-- When the widget was first seen on a page of the shop's site, and that
-- page: the getting-started checklist ticks "install the snippet" by it.
select set_config('lock_timeout', '5s', true);
alter table widget_settings
    add column seen_at timestamptz,
    add column seen_url text not null default '';
