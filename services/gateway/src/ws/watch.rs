//! Ends a manager's socket when its session ends: at logout on any replica
//! (the hub tells at once), or after the idle limit (checked now and then,
//! without counting the check as activity).

use std::future::Future;
use std::pin::Pin;
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
    /// The hub's notices stopped (it is gone): only the database tells.
    hub_gone: bool,
    check: Interval,
    /// A database check under way: kept across calls, because the socket's
    /// loop drops [`SessionWatch::ended`] whenever something else happens first.
    checking: Option<Pin<Box<dyn Future<Output = bool> + Send>>>,
}

impl SessionWatch {
    pub fn new(state: &AppState, manager: Manager) -> Self {
        // Often enough that a short idle limit (tests) ends sockets in time.
        let idle_secs = u64::try_from(state.config.session_idle_secs).unwrap_or(1);
        let period = Duration::from_secs(SESSION_CHECK_SECS.min(idle_secs / 3).max(1));
        let mut check = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        check.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Self {
            ended: state.hub.ended_sessions(),
            hub_gone: false,
            manager,
            check,
            checking: None,
        }
    }

    /// Resolves once the session has ended. Cancel-safe: a check under way
    /// goes on at the next call.
    pub async fn ended(&mut self, state: &AppState) {
        loop {
            let ended = match self.checking.as_mut() {
                Some(checking) => tokio::select! {
                    ended = checking => {
                        self.checking = None;
                        ended
                    }
                    notice = self.ended.recv(), if !self.hub_gone => self.is_mine(notice, state),
                },
                None => tokio::select! {
                    notice = self.ended.recv(), if !self.hub_gone => self.is_mine(notice, state),
                    _ = self.check.tick() => {
                        self.look_in_database(state);
                        false
                    }
                },
            };
            if ended {
                return;
            }
        }
    }

    /// Whether a logout notice ends this session. A receiver that lagged may
    /// have missed it, so it asks the database.
    fn is_mine(&mut self, notice: Result<uuid::Uuid, RecvError>, state: &AppState) -> bool {
        match notice {
            Ok(session_id) => session_id == self.manager.session_id,
            Err(RecvError::Lagged(_)) => {
                if self.checking.is_none() {
                    self.look_in_database(state);
                }
                false
            }
            Err(RecvError::Closed) => {
                self.hub_gone = true;
                false
            }
        }
    }

    fn look_in_database(&mut self, state: &AppState) {
        let (state, manager) = (state.clone(), self.manager.clone());
        // A database that does not answer ends nobody's session.
        self.checking = Some(Box::pin(async move {
            matches!(
                auth::session_live(&state, &manager).await,
                Err(Error::Unauthorized)
            )
        }));
    }
}

/// [`SessionWatch::ended`] of a socket that may have none (visitors): never.
pub async fn ended(watch: &mut Option<SessionWatch>, state: &AppState) {
    match watch {
        Some(watch) => watch.ended(state).await,
        None => std::future::pending().await,
    }
}
