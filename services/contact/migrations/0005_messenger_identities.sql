-- People who write through a messenger (Telegram, VK, Facebook): each
-- identity belongs to one contact of the account, which every later message
-- of theirs is found by. The key makes two first messages at once one
-- contact.
create table messenger_identity (
    account_id  uuid not null,
    channel     text not null check (channel in ('telegram', 'vk', 'facebook')),
    -- The platform's id of the person: a Telegram user id, a VK user id, a
    -- Facebook page-scoped id (PSID).
    external_id text not null,
    contact_id  uuid not null references contact (id),
    created_at  timestamptz not null default now(),
    primary key (account_id, channel, external_id)
);
create index messenger_identity_contact on messenger_identity (contact_id);
