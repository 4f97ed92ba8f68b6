-- A message is written only by the statement that locks its dialog and
-- appends to it (db::append_message), and dialogs are never deleted, so the
-- foreign key from message to dialog never caught anything; its check was a
-- query of its own on every message, a fifth of the statement's time.
alter table message drop constraint message_dialog_id_fkey;
