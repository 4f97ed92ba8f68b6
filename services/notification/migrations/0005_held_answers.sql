-- Answers by e-mail from an address that is not the dialog's contact's:
-- held (beside the note that tells the managers) until a manager accepts
-- one into the dialog as the contact's message. `client_message_id` names
-- the e-mail (a hash of its Message-ID), so one delivered twice is held
-- once, and an accepted one is posted once however often it is accepted.
create table held_answer (
    id                uuid primary key,
    account_id        uuid not null,
    dialog_id         uuid not null,
    contact_id        uuid not null,
    from_address      text not null,
    text              text not null,
    client_message_id text not null,
    received_at       timestamptz not null default now(),
    accepted_at       timestamptz,
    accepted_by       uuid,
    -- The dialog's message it became, once accepted.
    message_id        uuid,
    unique (account_id, client_message_id)
);
create index held_answer_by_dialog on held_answer (account_id, dialog_id, received_at);
