-- A dialog by its id alone: an answer's reply address names only that.
-- (`if not exists`: an unreleased build had put this index in 0003.)
create index if not exists dialog_state_by_dialog on dialog_state (dialog_id);
