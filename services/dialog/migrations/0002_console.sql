-- What the managers' console needs: one dialog per contact (closing it and
-- writing again reopens it), the contact's name for lists, read positions
-- and unread counts, notes, and reply templates.

-- A contact has one dialog; before this only open ones were unique, and no
-- dialog was ever closed, so no existing data breaks it.
drop index dialog_one_open_per_contact;
alter table dialog add constraint dialog_contact_unique unique (account_id, contact_id);

alter table dialog
    add column contact_name  text not null default '',
    -- Visitor messages so far: unread counts are this minus what a manager read.
    add column inbound_count bigint not null default 0;
update dialog d set inbound_count =
    (select count(*) from message m where m.dialog_id = d.id and m.author_kind = 'visitor');

-- The lists: a category and a status, newest activity first (keyset by (updated_at, id)).
create index dialog_status_activity on dialog (account_id, status, updated_at desc, id desc);
create index dialog_manager_activity on dialog (account_id, manager_id, status, updated_at desc, id desc);
create index dialog_new_activity on dialog (account_id, status, updated_at desc, id desc)
    where manager_id is null;

-- How far each manager has read each dialog.
create table dialog_read (
    account_id    uuid not null,
    dialog_id     uuid not null references dialog (id),
    manager_id    uuid not null,
    read_seq      bigint not null,
    -- The dialog's inbound_count up to read_seq.
    inbound_read  bigint not null,
    updated_at    timestamptz not null default now(),
    primary key (dialog_id, manager_id)
);

create table note (
    id         uuid primary key,
    account_id uuid not null,
    dialog_id  uuid not null references dialog (id),
    author_id  uuid not null,
    text       text not null,
    created_at timestamptz not null default now()
);
create index note_dialog on note (account_id, dialog_id, created_at, id);

create table reply_template (
    id         uuid primary key,
    account_id uuid not null,
    name       text not null,
    text       text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create unique index reply_template_name_unique on reply_template (account_id, lower(name));
