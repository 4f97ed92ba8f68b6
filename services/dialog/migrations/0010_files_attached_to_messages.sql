-- Files people attach to messages: images (checked and re-encoded, with a
-- thumbnail) and documents. A file belongs to a contact's dialog (a contact
-- has one), so whoever may read the dialog may read its files and nobody
-- else: the managers of its account, and the visitor it is with.
--
-- What a file is lives in `file`; its bytes in `file_blob` by default, or
-- in an S3-compatible object store when one is configured (`stored_in`), so
-- the metadata a message list reads stays small either way.
select set_config('lock_timeout', '5s', true);

create table file (
    id             uuid primary key,
    account_id     uuid not null,
    contact_id     uuid not null,
    uploader_kind  text not null check (uploader_kind in ('visitor', 'manager', 'system')),
    uploader_id    uuid,
    -- The uploader's own key for it (a messenger's file, an upload retried):
    -- sending it again returns the file stored the first time.
    client_file_id text,
    name           text not null,
    content_type   text not null,
    size           bigint not null check (size > 0),
    width          integer,
    height         integer,
    has_thumbnail  boolean not null,
    stored_in      text not null check (stored_in in ('postgres', 's3')),
    created_at     timestamptz not null default now(),
    constraint file_client_id_unique unique (account_id, client_file_id)
);

create table file_blob (
    file_id uuid not null references file (id) on delete cascade,
    part    text not null check (part in ('original', 'thumbnail')),
    data    bytea not null,
    primary key (file_id, part)
);
-- Images and archives are compressed already: kept out of line as they are,
-- without PostgreSQL trying to compress them again.
alter table file_blob alter column data set storage external;

-- What a message carries: its files as they were when it was sent (id,
-- name, type, size, an image's width and height). Null on a message without.
alter table message add column attachments jsonb;
