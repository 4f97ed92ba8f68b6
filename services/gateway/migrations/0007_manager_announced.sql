-- Whether the newest state of a manager was told to the other services
-- (`gateway.manager_changed`, which the notification service keeps a copy
-- from). A change clears it in its own statement; the announcer publishes
-- the row through the outbox and sets it in one transaction, so no change
-- goes untold. Every manager here before it starts untold.
alter table manager add column announced boolean not null default false;
create index manager_unannounced on manager (id) where not announced;
