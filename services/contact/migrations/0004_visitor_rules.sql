-- One contact per verified e-mail in an account: two devices verifying the
-- same new e-mail at once cannot make two. A visitor's activity is unique per
-- contact (its page view ids are the browser's), and a contact's visitors
-- are found by contact (for its "site" channel).

create unique index contact_verified_email on contact (account_id, lower(email)) where email_verified;

alter table timeline_event drop constraint timeline_event_ref_unique;
alter table timeline_event
    add constraint timeline_event_ref_unique unique (account_id, contact_id, kind, ref_id);

create index visitor_contact on visitor (contact_id);
