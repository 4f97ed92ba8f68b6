-- E-mail to visitors: a manager's reply reaches a contact who has left (or
-- one the manager chose to answer by e-mail) at their address.

-- The contacts as the contact service's events last told.
create table contact (
    account_id uuid not null,
    contact_id uuid not null,
    name       text not null default '',
    email      text not null default '',
    primary key (account_id, contact_id)
);

-- Managers' replies (site chat or e-mail) not yet settled: seen by an open
-- widget, e-mailed, or left waiting for the visitor.
create table unsent_reply (
    account_id uuid not null,
    dialog_id  uuid not null,
    seq        bigint not null,
    message_id uuid not null,
    channel    text not null,
    manager_id uuid,
    text       text not null,
    created_at timestamptz not null,
    primary key (account_id, dialog_id, seq)
);

-- When each dialog's replies are settled: a moment after the first (the
-- visitor may be reloading the page), at once for a reply by e-mail.
create table reply_due (
    account_id uuid not null,
    dialog_id  uuid not null,
    due_at     timestamptz not null,
    primary key (account_id, dialog_id)
);
create index reply_due_by_time on reply_due (due_at);

-- A dialog by its id alone: an answer's reply address names only that.
create index dialog_state_by_dialog on dialog_state (dialog_id);

-- Replies up to here were settled: one delivered again is not held twice.
alter table dialog_state add column replied_seq bigint not null default 0;
-- The Message-ID of the first e-mail to the visitor in the dialog: later
-- ones answer it, so the visitor's mail program shows one conversation.
alter table dialog_state add column thread_message_id text not null default '';

-- A link back to the shop in e-mails to visitors.
alter table account_mail add column shop_url text not null default '';

-- Which messages an e-mail carried (and through which channel each was
-- sent), so that the dialog service is told what became of them; until it
-- is, `states_recorded` is false.
alter table email add column dialog_id uuid;
alter table email add column message_ids uuid[] not null default '{}';
alter table email add column message_channels text[] not null default '{}';
alter table email add column states_recorded boolean not null default true;
create index email_states_untold on email (created_at) where not states_recorded;
