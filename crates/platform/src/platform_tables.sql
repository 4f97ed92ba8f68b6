-- Tables the platform's mechanisms keep in every service's schema, created
-- at every start (each statement is idempotent) and by deploy/dev/sqlx-prepare.sh.
create table if not exists outbox (
    seq        bigserial primary key,
    event_id   uuid not null,
    subject    text not null,
    payload    bytea not null,
    headers    jsonb not null default '{}',
    created_at timestamptz not null default now()
);
-- A row may name what it tells of (`ref_id`) instead of carrying its
-- payload: an event written by the very statement that made its subject,
-- built by the service's resolver when the sweep takes it. (Only a service
-- that writes such rows lets `payload` be null, by a migration of its own,
-- so that builds whose relay cannot read them no longer start there.)
-- Altered only when it is not so yet, and waiting at most 2 s for the lock:
-- even an ALTER that changes nothing waits for the table's lock, and every
-- writer would wait behind it. A start that times out fails and is retried.
do $$
begin
    if not exists (select 1 from pg_attribute
                   where attrelid = 'outbox'::regclass and attname = 'ref_id' and not attisdropped) then
        perform set_config('lock_timeout', '2s', true);
        alter table outbox add column if not exists ref_id uuid;
    end if;
end
$$;
-- Event ids are new v7 UUIDs, unique by making, and nothing looks a row up
-- by one: the unique index they had cost every event an index entry.
do $$
begin
    if exists (select 1 from pg_constraint
               where conrelid = 'outbox'::regclass and conname = 'outbox_event_id_key') then
        perform set_config('lock_timeout', '2s', true);
        alter table outbox drop constraint if exists outbox_event_id_key;
    end if;
end
$$;
-- An inbox of handled events was never needed: every handler is idempotent
-- by its own unique keys.
drop table if exists inbox;
