-- The messengers an account connected (one of each): what identifies the
-- connection, its secrets sealed (see src/secrets.rs), and its health as the
-- bridge last saw it, shown in the console before anyone writes into it.
create table integration (
    id               uuid primary key,
    account_id       uuid not null,
    channel          text not null check (channel in ('telegram', 'vk', 'facebook')),
    -- What is not secret: the bot's id and username, the community's or the
    -- page's id.
    settings         jsonb not null default '{}',
    -- Tokens and secrets, as JSON sealed under the key named.
    secrets_key_id   text not null,
    secrets_sealed   bytea not null,
    -- Health. Updates can arrive: the webhook is registered (webhook mode),
    -- or a poller's last long poll was recent (polling mode).
    webhook_registered boolean not null default false,
    last_poll_at     timestamptz,
    token_valid      boolean,
    token_checked_at timestamptz,
    last_update_at   timestamptz,
    last_error       text,
    last_error_at    timestamptz,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    constraint integration_channel_unique unique (account_id, channel)
);
-- A bot belongs to one account: two would poll it in turn (Telegram allows
-- one poller) or take its webhook from each other.
create unique index integration_bot_unique on integration (channel, (settings ->> 'bot_id'))
    where settings ? 'bot_id';

-- Which replica polls a bot (long polling mode): exactly one at a time; a
-- lease its holder renews every few seconds and another takes once expired.
create table poll_lease (
    integration_id uuid primary key references integration (id) on delete cascade,
    holder         text not null,
    expires_at     timestamptz not null
);
