-- Per dialog: when the visitor last wrote and when a manager last answered.
-- The e-mail and push notifiers decide from it which dialogs wait for an answer.
create table dialog_activity (
    account_id              uuid not null,
    dialog_id               uuid not null,
    contact_id              uuid not null,
    last_visitor_seq        bigint not null default 0,
    last_visitor_message_at timestamptz,
    last_manager_seq        bigint not null default 0,
    last_manager_message_at timestamptz,
    updated_at              timestamptz not null default now(),
    primary key (account_id, dialog_id)
);
-- Dialogs whose visitor wrote after the last answer, oldest wait first.
create index dialog_activity_waiting on dialog_activity (account_id, last_visitor_message_at)
    where last_visitor_seq > last_manager_seq;
