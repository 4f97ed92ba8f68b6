-- Roles and deactivation of managers, invitations, and what a manager sees
-- of their own sessions (device, address, last activity, absolute expiry).

alter table manager
    -- owner and admin manage the account's managers; manager answers dialogs.
    add column role text not null default 'owner' check (role in ('owner', 'admin', 'manager')),
    add column active boolean not null default true,
    -- SHA-256 of a one-time invitation token; the manager sets a password with it.
    add column invitation_hash bytea,
    add column invitation_expires_at timestamptz;
alter table manager alter column role set default 'manager';
create unique index manager_invitation_unique on manager (invitation_hash) where invitation_hash is not null;

alter table session
    add column device       text not null default '',
    add column ip           text not null default '',
    add column last_seen_at timestamptz not null default now(),
    add column expires_at   timestamptz not null default now() + interval '12 hours';
-- The live sessions of a manager.
create index session_manager_live on session (manager_id) where revoked_at is null;
