-- A note's client id, so an author's retry stores it once.
alter table note add column client_note_id text;
create unique index note_client_id_unique on note (dialog_id, author_id, client_note_id)
    where client_note_id is not null;
