-- Visitors a shop blocked (spam, abuse): by their credentials' visitor ids
-- and the addresses they were online from. A blocked visitor's
-- widget is closed and stays closed; the block can be lifted.
create table visitor_block (
    id           uuid primary key,
    account_id   uuid not null references account (id),
    -- The contact's visitor and those online as it when blocked.
    visitor_ids  text[] not null,
    -- The client addresses the visitor was online from when blocked.
    addresses    text[] not null default '{}',
    -- Who was blocked and by whom, for the list of blocks.
    contact_id   uuid not null,
    contact_name text not null default '',
    blocked_by   uuid not null,
    -- 'spam' when blocked by marking a dialog as spam.
    reason       text not null default '' check (reason in ('', 'spam')),
    created_at   timestamptz not null default now()
);
create index visitor_block_visitors on visitor_block using gin (visitor_ids);
create index visitor_block_addresses on visitor_block using gin (addresses);
