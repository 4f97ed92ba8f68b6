-- The contact's e-mail address, as the contact service's events last told
-- (beside their name): while it is known, a manager may answer by e-mail,
-- whatever channel the contact wrote from.
alter table dialog add column contact_email text not null default '';

-- What the contact service last told of each contact, kept even before
-- the contact has a dialog (a visitor says who they are, then writes): a
-- dialog opened later starts with it.
create table contact_details (
    account_id uuid not null,
    contact_id uuid not null,
    name       text not null default '',
    email      text not null default '',
    primary key (account_id, contact_id)
);
