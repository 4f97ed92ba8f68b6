//! Saved settings reach open widgets and consoles on every replica: the
//! replica that saved publishes a core NATS notice, and each replica (itself
//! included) reads the settings once and sends them to its sockets of that
//! account. Live only: a widget that misses it gets the settings at its next
//! page or reconnect.

use std::sync::Arc;

use futures::StreamExt as _;
use uuid::Uuid;

use super::db;
use super::settings::SettingsOut;
use crate::hub::HubEvent;
use crate::state::AppState;
use crate::ws::frames::ServerFrame;

fn subject(state: &AppState) -> String {
    format!("{}.live.widget_settings", state.bus.prefix())
}

/// Tells every replica that the account saved its settings.
pub async fn announce(state: &AppState, account_id: Uuid) {
    let notice = state
        .bus
        .client
        .publish(subject(state), account_id.as_bytes().to_vec().into());
    if let Err(e) = notice.await {
        tracing::warn!(error = %e, "could not tell the replicas of new widget settings");
    }
}

/// Sends settings saved anywhere to this replica's sockets, until shutdown;
/// subscribes again while NATS refuses.
pub async fn run(state: AppState) -> anyhow::Result<()> {
    let mut notices = loop {
        match state.bus.client.subscribe(subject(&state)).await {
            Ok(notices) => break notices,
            Err(e) => {
                tracing::warn!(error = %e, "cannot hear of new widget settings yet; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                    _ = state.shutdown.cancelled() => return Ok(()),
                }
            }
        }
    };
    loop {
        let notice = tokio::select! {
            notice = notices.next() => notice,
            _ = state.shutdown.cancelled() => return Ok(()),
        };
        let Some(notice) = notice else {
            return Ok(());
        };
        let Ok(account_id) = Uuid::from_slice(&notice.payload) else {
            continue;
        };
        match db::by_account(&state.pool, account_id).await {
            Ok(saved) => {
                let settings = SettingsOut::new(&saved, false);
                let frame = ServerFrame::WidgetSettings {
                    settings: &settings,
                };
                let event = Arc::new(HubEvent {
                    widget: Some(Arc::new(saved)),
                    ..HubEvent::control(account_id, frame)
                });
                state.hub.dispatch(event.clone());
                state.hub.dispatch_to_visitors(account_id, event);
            }
            Err(e) => tracing::warn!(error = %e, "could not read new widget settings"),
        }
    }
}
