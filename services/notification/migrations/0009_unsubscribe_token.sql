-- Each manager's own unguessable token for the one-click unsubscribe link of
-- their alert e-mails (RFC 8058): whoever holds the e-mail can turn its
-- alerts off, and nothing else.
alter table manager add column unsubscribe_token uuid not null default gen_random_uuid();
create unique index manager_by_unsubscribe_token on manager (unsubscribe_token);
