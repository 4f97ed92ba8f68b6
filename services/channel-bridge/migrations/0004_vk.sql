-- Where a poller is in an integration's updates, for platforms that keep
-- the place on our side (VK's Bots Long Poll `ts`): a poller that takes
-- over goes on from it, so nothing is skipped.
alter table integration add column poll_cursor text;
-- Whether the person behind a chat is known already (their name is asked
-- of the platform only for someone new).
create index messenger_chat_by_chat on messenger_chat (account_id, channel, chat_id);
