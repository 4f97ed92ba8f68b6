-- Who wrote last in each dialog was written for every message and read by
-- nothing since alerts moved to unalerted_message, alert_due and
-- dialog_state: a dialog's wait for an answer is those tables' to tell.
drop table if exists dialog_activity;
