//! Ends a manager's socket when its session ends: at logout on any replica
//! (the hub tells at once), or after the idle limit (checked now and then,
//! without counting the check as activity).

use std::time::Duration;

use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::{Interval, MissedTickBehavior};

use crate::auth::{self, Manager};
use crate::error::Error;
use crate::state::AppState;

/// How often an open manager socket checks that its session is still live.
pub const SESSION_CHECK_SECS: u64 = 30;

pub struct SessionWatch {
    manager: Manager,
    ended: broadcast::Receiver<uuid::Uuid>,
    check: Interval,
}

impl SessionWatch {
    pub fn new(state: &AppState, manager: Manager) -> Self {
        let period = Duration::from_secs(SESSION_CHECK_SECS);
        let mut check = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        check.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Self {
            ended: state.hub.ended_sessions(),
            manager,
            check,
        }
    }

    /// Resolves once the session has ended.
    pub async fn ended(&mut self, state: &AppState) {
        loop {
            let look_in_database = tokio::select! {
                notice = self.ended.recv() => match notice {
                    Ok(session_id) if session_id == self.manager.session_id => return,
                    Ok(_) => false,
                    Err(RecvError::Lagged(_)) => true,
                    Err(RecvError::Closed) => std::future::pending().await,
                },
                _ = self.check.tick() => true,
            };
            // A database that does not answer ends nobody's session.
            if look_in_database
                && matches!(
                    auth::session_live(state, &self.manager).await,
                    Err(Error::Unauthorized)
                )
            {
                return;
            }
        }
    }
}

/// [`SessionWatch::ended`] of a socket that may have none (visitors): never.
pub async fn ended(watch: &mut Option<SessionWatch>, state: &AppState) {
    match watch {
        Some(watch) => watch.ended(state).await,
        None => std::future::pending().await,
    }
}
