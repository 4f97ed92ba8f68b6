-- Files attached to answers by e-mail, kept for the console: the answer's
-- message links each (`/api/v1/files/email/<id>`), as a messenger's message
-- links its files. `client_message_id` and `position` name the e-mail's
-- n-th attachment, so an e-mail delivered twice keeps its files once.
create table email_file (
    id                uuid primary key,
    account_id        uuid not null,
    dialog_id         uuid not null,
    client_message_id text not null,
    position          integer not null,
    name              text not null,
    content_type      text not null,
    bytes             bytea not null,
    created_at        timestamptz not null default now(),
    unique (account_id, client_message_id, position)
);
