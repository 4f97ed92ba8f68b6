-- The widget: each account's consultant settings and offline photo, and the
-- account's two keys: one signs the credentials issued to its visitors, the
-- other is the shop's identity-verification secret. gen_random_uuid() draws
-- from the server's strong random source; two make 244 random bits.

alter table account
    add column visitor_key bytea not null
        default decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'),
    add column identity_secret text not null
        default replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');

create table widget_settings (
    account_id      uuid primary key references account (id),
    enabled         boolean not null default true,
    manager_sound   text not null default 'chime',
    visitor_sound   text not null default 'chime',
    position        text not null default 'bottom_right',
    color           text not null default '#1f6feb',
    online_title    text not null default 'We are online',
    online_message  text not null default 'Ask us anything: we usually answer within a few minutes.',
    offline_title   text not null default 'Leave us a message',
    offline_message text not null default 'We are away right now. Leave your e-mail and we will write back.',
    hidden_pages    text[] not null default '{}',
    allowed_origins text[] not null default '{}',
    -- The offline photo's file name in widget_photo, or null.
    photo_name      text,
    updated_at      timestamptz not null default now()
);

-- The offline photos. A new photo gets a new name (from its SHA-256), so its
-- URL can be cached for ever; the old one is deleted when replaced.
create table widget_photo (
    account_id   uuid not null references account (id),
    name         text not null,
    content_type text not null,
    bytes        bytea not null,
    created_at   timestamptz not null default now(),
    primary key (account_id, name)
);

-- Every account has its settings row from the start (the defaults above).
insert into widget_settings (account_id) select id from account;
