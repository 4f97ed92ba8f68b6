-- A system line of a dialog's history (who took, assigned, closed or
-- reopened it) keeps what it records, not only its English text, so each
-- reader words it in their own language and the visitor is shown only
-- what is theirs to see ("Anna joined the conversation", never who
-- assigned whom). Lines from before have none and stay with managers.
-- A nullable column without a default: no table rewrite.
select set_config('lock_timeout', '5s', true);
alter table message add column system jsonb;
