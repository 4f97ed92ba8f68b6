-- What managers keep on a contact (phone, custom fields), when they were
-- last seen, and a trigram index for finding them by any part of their name,
-- e-mail or phone.
create extension if not exists pg_trgm;

alter table contact
    add column phone         text not null default '',
    add column custom_fields jsonb not null default '{}',
    add column last_seen_at  timestamptz not null default now(),
    add column search_text   text generated always as (lower(name || ' ' || email || ' ' || phone)) stored;
update contact set last_seen_at = created_at;

create index contact_search on contact using gin (search_text gin_trgm_ops);
-- The newest contacts first, when nothing is searched.
create index contact_account_seen on contact (account_id, last_seen_at desc, id desc);
