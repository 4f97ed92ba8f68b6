-- Tenants (shops), their managers, and managers' sessions.
create table account (
    id         uuid primary key,
    name       text not null,
    -- Public key the widget on the shop's pages connects with.
    site_key   text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint account_site_key_unique unique (site_key)
);

create table manager (
    id             uuid primary key,
    account_id     uuid not null references account (id),
    -- Lowercased; a manager logs in by e-mail alone, so it is unique suite-wide.
    email          text not null,
    name           text not null,
    password_hash  text not null,
    -- Activity on any device keeps every session of the manager alive.
    last_active_at timestamptz not null default now(),
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    constraint manager_email_unique unique (email)
);
create index manager_account on manager (account_id);

create table session (
    id         uuid primary key,
    account_id uuid not null,
    manager_id uuid not null references manager (id),
    -- SHA-256 of the bearer token; the token itself is never stored.
    token_hash bytea not null,
    created_at timestamptz not null default now(),
    revoked_at timestamptz,
    constraint session_token_unique unique (token_hash)
);
create index session_manager on session (account_id, manager_id);
