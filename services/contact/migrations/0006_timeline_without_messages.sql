-- A contact's messages are no longer copied onto the timeline: the gateway
-- reads them from the dialog service, which stores them once. The copies
-- made so far go, so a timeline never shows a message twice.
delete from timeline_event where kind = 'message';
