-- Where each contact is written to on each messenger, learnt from their
-- messages (Telegram: their private chat with the bot).
create table messenger_chat (
    account_id      uuid not null,
    contact_id      uuid not null,
    channel         text not null check (channel in ('telegram', 'vk', 'facebook')),
    chat_id         text not null,
    last_inbound_at timestamptz not null default now(),
    primary key (account_id, contact_id, channel)
);

-- What a delivery sends, to whom, and when it may be tried again. A delivery
-- is 'sending' while a replica calls the platform: one that stays so (the
-- replica died mid-call) is failed, never sent again, since the platform may
-- have taken it. `reported`: the dialog service knows the outcome.
alter table delivery
    add column contact_id uuid,
    add column text text not null default '',
    add column next_attempt_at timestamptz not null default now(),
    add column sent_at timestamptz,
    add column reported boolean not null default false,
    drop constraint delivery_state_check,
    add constraint delivery_state_check check (state in ('pending', 'sending', 'sent', 'failed'));
create index delivery_unreported on delivery (updated_at) where state in ('sent', 'failed') and not reported;
