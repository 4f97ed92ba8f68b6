//! The end of sessions, told everywhere: this replica's sockets of an ended
//! session close at once through the hub, and other replicas hear of it on
//! core NATS (a replica that misses the notice finds out at its next check
//! of the session, within `SESSION_CHECK_SECS`).

use uuid::Uuid;

use crate::state::AppState;

/// Closes the sockets of these sessions on every replica.
pub async fn announce_ended(state: &AppState, session_ids: &[Uuid]) {
    for session_id in session_ids {
        state.hub.end_session(*session_id);
        let notice = state.bus.client.publish(
            crate::hub::session_ended_subject(&state.bus),
            session_id.as_bytes().to_vec().into(),
        );
        if let Err(e) = notice.await {
            tracing::warn!(error = %e, "could not tell other replicas of an ended session");
        }
    }
}
