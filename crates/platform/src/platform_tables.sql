-- Tables the platform's mechanisms keep in every service's schema, created
-- at every start (each statement is idempotent) and by deploy/dev/sqlx-prepare.sh.
create table if not exists outbox (
    seq        bigserial primary key,
    event_id   uuid not null unique,
    subject    text not null,
    payload    bytea not null,
    headers    jsonb not null default '{}',
    created_at timestamptz not null default now()
);
-- An inbox of handled events was never needed: every handler is idempotent
-- by its own unique keys.
drop table if exists inbox;
