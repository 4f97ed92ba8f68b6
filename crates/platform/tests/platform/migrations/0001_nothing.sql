-- The platform's tests need no tables beyond the outbox that
-- `db::connect` creates in every schema; this migration only gives their
-- migrator something to run.
select 1;
