-- "Forgot password?": one-time links to set a new password, kept by the
-- hash of their token, valid briefly; using one ends every session.
create table password_reset (
    token_hash  bytea primary key,
    account_id  uuid not null,
    manager_id  uuid not null references manager (id) on delete cascade,
    expires_at  timestamptz not null,
    used_at     timestamptz,
    created_at  timestamptz not null default now()
);
create index password_reset_by_manager on password_reset (manager_id);
