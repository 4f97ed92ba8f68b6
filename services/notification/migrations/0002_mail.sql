-- E-mail to managers who are away. The service keeps its own copy of whom it
-- writes to (the gateway's managers, from `gateway.manager_changed`), of each
-- dialog's manager and read positions (from the dialog service's events), and
-- records every e-mail before it is sent.

-- The gateway's managers as its events told, with each one's own choices.
create table manager (
    account_id  uuid not null,
    manager_id  uuid not null,
    email       text not null default '',
    name        text not null default '',
    role        text not null default 'manager',
    active      boolean not null default false,
    -- Accepted their invitation (has a password): only then is there a
    -- console for an e-mail to lead to.
    signed_up   boolean not null default false,
    -- Of the newest change applied (microseconds); an older one is ignored.
    version     bigint not null default 0,
    email_on    boolean not null default true,
    push_on     boolean not null default true,
    updated_at  timestamptz not null default now(),
    primary key (account_id, manager_id)
);

-- How the account's e-mails are signed.
create table account_mail (
    account_id  uuid primary key,
    shop_name   text not null default '',
    sender_name text not null default '',
    reply_to    text not null default '',
    updated_at  timestamptz not null default now()
);

-- Each dialog's contact, name and manager, from dialog_created/updated.
create table dialog_state (
    account_id   uuid not null,
    dialog_id    uuid not null,
    contact_id   uuid,
    contact_name text not null default '',
    manager_id   uuid,
    -- Messages up to here were alerted about or answered: one delivered
    -- again is not held a second time.
    alerted_seq  bigint not null default 0,
    primary key (account_id, dialog_id)
);

-- How far each manager has read each dialog (only grows).
create table dialog_read (
    account_id uuid not null,
    dialog_id  uuid not null,
    manager_id uuid not null,
    seq        bigint not null,
    primary key (account_id, dialog_id, manager_id)
);

-- Visitors' messages nobody has been told of yet, until their dialog's
-- alert is due.
create table unalerted_message (
    account_id uuid not null,
    dialog_id  uuid not null,
    seq        bigint not null,
    text       text not null,
    created_at timestamptz not null,
    primary key (account_id, dialog_id, seq)
);

-- When each dialog's waiting messages become an alert: the first one's time
-- plus the window, so that messages close together make one e-mail.
create table alert_due (
    account_id uuid not null,
    dialog_id  uuid not null,
    due_at     timestamptz not null,
    primary key (account_id, dialog_id)
);
create index alert_due_by_time on alert_due (due_at);

-- Every e-mail, written before it is sent; `dedupe_key` names the event and
-- the recipient, so an event handled twice records (and sends) one e-mail.
create table email (
    id              uuid primary key,
    account_id      uuid not null,
    dedupe_key      text not null unique,
    kind            text not null,
    manager_id      uuid,
    to_address      text not null,
    from_name       text not null,
    reply_to        text not null default '',
    subject         text not null,
    text_body       text not null,
    html_body       text not null,
    message_id      text not null,
    -- Extra headers, e.g. List-Unsubscribe: {"name": "value"}.
    headers         jsonb not null default '{}',
    -- pending -> sending -> sent, or failed (for good); sending past its
    -- claim is taken again (the sender died mid-send).
    status          text not null default 'pending',
    attempts        integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    claimed_until   timestamptz,
    last_error      text not null default '',
    created_at      timestamptz not null default now(),
    sent_at         timestamptz
);
create index email_waiting on email (next_attempt_at) where status in ('pending', 'sending');
create index email_by_manager on email (account_id, manager_id, created_at);
