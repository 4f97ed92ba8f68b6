-- Dialogs of an account and their messages, each numbered within its dialog.
create table dialog (
    id                uuid primary key,
    account_id        uuid not null,
    contact_id        uuid not null,
    status            text not null check (status in ('open', 'closed')),
    manager_id        uuid,
    last_seq          bigint not null default 0,
    last_message_text text not null default '',
    last_message_at   timestamptz,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now()
);
-- A contact has at most one open dialog: the visitor's next message goes there.
create unique index dialog_one_open_per_contact on dialog (account_id, contact_id) where status = 'open';
-- The dialogs list: newest activity first, keyset by (updated_at, id).
create index dialog_account_activity on dialog (account_id, updated_at desc, id desc);

create table message (
    id                uuid primary key,
    account_id        uuid not null,
    dialog_id         uuid not null references dialog (id),
    seq               bigint not null,
    author_kind       text not null check (author_kind in ('visitor', 'manager', 'system')),
    author_id         uuid,
    client_message_id text not null,
    text              text not null,
    channel           text not null,
    delivery_state    text not null,
    created_at        timestamptz not null default now(),
    constraint message_seq_unique unique (dialog_id, seq),
    -- The same client id from the same side of a dialog is one message.
    constraint message_client_id_unique unique (dialog_id, author_kind, client_message_id)
);
