-- Replies that must leave through a messenger, and what became of them.
create table delivery (
    id          uuid primary key,
    account_id  uuid not null,
    message_id  uuid not null,
    dialog_id   uuid not null,
    channel     text not null check (channel in ('telegram', 'vk', 'facebook')),
    state       text not null default 'pending' check (state in ('pending', 'sent', 'failed')),
    attempts    int not null default 0,
    last_error  text,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    -- A redelivered event queues nothing new.
    constraint delivery_message_unique unique (account_id, message_id)
);
create index delivery_pending on delivery (account_id, created_at) where state = 'pending';
