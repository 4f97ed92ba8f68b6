-- A message written alone (one statement, see src/alone.rs) puts its events
-- in the outbox as rows that name the message (`ref_id`, added by the
-- platform) with no payload: the sweep builds them from the message.
--
-- Builds from before cannot read such rows (their relay stops), so this
-- migration is also the fence: they refuse to start on a schema that has
-- it (sqlx knows no migration 0008 there). Replicas of such a build still
-- running during a rollout publish their own events at once as before; a
-- row of the new build that their sweep meets stops their relay, and the
-- new replicas' sweep publishes what is left. Going back to such a build
-- needs the outbox empty of these rows and this migration's row removed.
select set_config('lock_timeout', '5s', true);
alter table outbox alter column payload drop not null;
