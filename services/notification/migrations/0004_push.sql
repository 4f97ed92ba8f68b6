-- Browser push (Web Push with VAPID) for managers who are away.

-- The deployment's VAPID key pair, made once by the first replica to start
-- (unless NOTIFICATION_VAPID_PRIVATE_KEY gives one): the browsers'
-- subscriptions are bound to its public key.
create table vapid_key (
    id          boolean primary key default true check (id),
    private_key text not null,
    created_at  timestamptz not null default now()
);

-- Each browser (device) a manager allowed push on.
create table push_subscription (
    id         uuid primary key,
    account_id uuid not null,
    manager_id uuid not null,
    endpoint   text not null unique,
    p256dh     text not null,
    auth       text not null,
    created_at timestamptz not null default now()
);
create index push_subscription_by_manager on push_subscription (account_id, manager_id);

-- Every push, written before it is sent, once per event and subscription.
create table push (
    id              uuid primary key,
    account_id      uuid not null,
    dedupe_key      text not null unique,
    subscription_id uuid not null references push_subscription (id) on delete cascade,
    payload         jsonb not null,
    -- pending -> sending -> sent, or failed (for good)
    status          text not null default 'pending',
    attempts        integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    claimed_until   timestamptz,
    last_error      text not null default '',
    created_at      timestamptz not null default now(),
    sent_at         timestamptz
);
create index push_waiting on push (next_attempt_at) where status in ('pending', 'sending');
