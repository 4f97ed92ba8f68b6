-- The people behind dialogs, and the timeline of what they did.
create table contact (
    id         uuid primary key,
    account_id uuid not null,
    -- The widget's anonymous id of a site visitor, stable per browser.
    visitor_id text,
    name       text not null default '',
    email      text not null default '',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint contact_visitor_unique unique (account_id, visitor_id)
);

create table timeline_event (
    id          uuid primary key,
    account_id  uuid not null,
    contact_id  uuid not null references contact (id),
    kind        text not null,
    ref_id      text not null,
    summary     text not null default '',
    occurred_at timestamptz not null,
    created_at  timestamptz not null default now(),
    -- One entry per thing it points at: a redelivered event adds nothing.
    constraint timeline_event_ref_unique unique (account_id, kind, ref_id)
);
create index timeline_event_contact on timeline_event (account_id, contact_id, occurred_at desc, id desc);
