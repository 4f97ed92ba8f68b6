-- Why a session ended, kept beside when: a session once ended stays ended
-- (an idled-out one is revoked, so signing in elsewhere cannot revive it).
alter table session add column revoked_reason text
    check (revoked_reason in ('logout', 'ended_by_manager', 'idle', 'deactivated',
                              'password_changed', 'password_reset'));
