-- A contact may be reached from several browsers (a shop customer who signs
-- in on a new device with a verified e-mail is brought to their contact), so
-- which contact a visitor id belongs to moves to its own table.
-- contact.visitor_id stays: the visitor who first made the contact.

create table visitor (
    account_id uuid not null,
    visitor_id text not null,
    contact_id uuid not null references contact (id),
    created_at timestamptz not null default now(),
    primary key (account_id, visitor_id)
);
insert into visitor (account_id, visitor_id, contact_id, created_at)
    select account_id, visitor_id, id, created_at from contact where visitor_id is not null;

alter table contact
    -- The e-mail came from the shop's page with a valid identity hash.
    add column email_verified boolean not null default false;
-- Finding the contact of a verified e-mail.
create index contact_email on contact (account_id, lower(email)) where email <> '';
