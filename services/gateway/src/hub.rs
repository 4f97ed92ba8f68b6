//! The hub: this replica's sockets, by account, and the fan-out of the
//! suite's dialog events to them. Each replica subscribes to the events on
//! NATS itself, so a visitor on one replica and a manager on another talk live.
//!
//! Events are serialized to a frame once and shared by every socket they go to.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use futures::StreamExt as _;
use prost::Message as _;
use tokio::sync::mpsc;
use uuid::Uuid;

use chat_platform::{Shutdown, bus::Bus};
use chat_proto::events::v1 as ev;

use crate::api::{DialogOut, MessageOut};

/// Frames a socket may have queued before it counts as too slow and is closed
/// (the client reconnects and resumes from its last sequence number).
pub const SOCKET_QUEUE_FRAMES: usize = 256;

/// An event as sockets receive it.
#[derive(Debug)]
pub struct HubEvent {
    pub account_id: Uuid,
    pub contact_id: Uuid,
    pub dialog_id: Uuid,
    /// The message's sequence number; 0 for events that are not messages.
    pub seq: i64,
    /// The JSON frame, ready to send.
    pub frame: String,
}

pub type EventSender = mpsc::Sender<Arc<HubEvent>>;
pub type EventReceiver = mpsc::Receiver<Arc<HubEvent>>;

/// Who a socket is: a manager sees the whole account, a visitor their own contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    Managers(Uuid),
    Visitor { account_id: Uuid, contact_id: Uuid },
}

#[derive(Default)]
pub struct Hub {
    next_id: AtomicU64,
    sockets: RwLock<HashMap<Audience, HashMap<u64, EventSender>>>,
}

/// Removes the socket from the hub when dropped.
pub struct Registration {
    hub: Arc<Hub>,
    audience: Audience,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        metrics::gauge!("gateway_sockets").decrement(1.0);
        let mut sockets = self.hub.sockets.write().expect("hub lock");
        if let Some(group) = sockets.get_mut(&self.audience) {
            group.remove(&self.id);
            if group.is_empty() {
                sockets.remove(&self.audience);
            }
        }
    }
}

impl Hub {
    pub fn register(self: &Arc<Self>, audience: Audience) -> (Registration, EventReceiver) {
        let (tx, rx) = mpsc::channel(SOCKET_QUEUE_FRAMES);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.sockets
            .write()
            .expect("hub lock")
            .entry(audience)
            .or_default()
            .insert(id, tx);
        metrics::gauge!("gateway_sockets").increment(1.0);
        (
            Registration {
                hub: self.clone(),
                audience,
                id,
            },
            rx,
        )
    }

    /// Sends the event to the account's managers and to the visitor it concerns.
    /// A socket whose queue is full is dropped from the hub; its task sees the
    /// closed channel and closes the socket, asking the client to resume.
    pub fn dispatch(&self, event: Arc<HubEvent>) {
        let audiences = [
            Audience::Managers(event.account_id),
            Audience::Visitor {
                account_id: event.account_id,
                contact_id: event.contact_id,
            },
        ];
        let mut lagging = Vec::new();
        {
            let sockets = self.sockets.read().expect("hub lock");
            for audience in audiences {
                for (id, tx) in sockets.get(&audience).into_iter().flatten() {
                    if tx.try_send(event.clone()).is_err() {
                        lagging.push((audience, *id));
                    }
                }
            }
        }
        if !lagging.is_empty() {
            let mut sockets = self.sockets.write().expect("hub lock");
            for (audience, id) in lagging {
                if let Some(group) = sockets.get_mut(&audience) {
                    group.remove(&id);
                }
            }
        }
    }

    pub fn socket_count(&self) -> usize {
        self.sockets
            .read()
            .expect("hub lock")
            .values()
            .map(HashMap::len)
            .sum()
    }
}

/// Turns an event from the bus into a frame for sockets; `None` for events
/// sockets do not see.
pub fn to_hub_event(envelope: ev::Envelope) -> anyhow::Result<Option<HubEvent>> {
    let account_id = Uuid::parse_str(&envelope.account_id)?;
    match envelope.r#type.as_str() {
        "dialog.message_created" => {
            let created = ev::MessageCreated::decode(envelope.payload.as_slice())?;
            let message = created
                .message
                .ok_or_else(|| anyhow::anyhow!("event without message"))?;
            let (dialog_id, seq) = (Uuid::parse_str(&message.dialog_id)?, message.seq);
            let frame =
                serde_json::json!({ "type": "message", "message": MessageOut::from(message) });
            Ok(Some(HubEvent {
                account_id,
                contact_id: Uuid::parse_str(&created.contact_id)?,
                dialog_id,
                seq,
                frame: frame.to_string(),
            }))
        }
        "dialog.dialog_created" => {
            let created = ev::DialogCreated::decode(envelope.payload.as_slice())?;
            let dialog = created
                .dialog
                .ok_or_else(|| anyhow::anyhow!("event without dialog"))?;
            let (dialog_id, contact_id) = (
                Uuid::parse_str(&dialog.id)?,
                Uuid::parse_str(&dialog.contact_id)?,
            );
            let frame =
                serde_json::json!({ "type": "dialog_created", "dialog": DialogOut::from(dialog) });
            Ok(Some(HubEvent {
                account_id,
                contact_id,
                dialog_id,
                seq: 0,
                frame: frame.to_string(),
            }))
        }
        _ => Ok(None),
    }
}

/// Feeds the hub from NATS until shutdown. A plain subscription is enough:
/// these are live hints; a socket that misses one fills the gap from the dialog
/// service by sequence number.
pub async fn run(hub: Arc<Hub>, bus: Bus, shutdown: Shutdown) -> anyhow::Result<()> {
    let mut events = bus
        .client
        .subscribe(bus.subject("dialog.>"))
        .await
        .map_err(|e| anyhow::anyhow!("while subscribing to dialog events: {e}"))?;
    loop {
        let message = tokio::select! {
            m = events.next() => match m { Some(m) => m, None => break },
            _ = shutdown.cancelled() => break,
        };
        let envelope = match ev::Envelope::decode(message.payload) {
            Ok(envelope) => envelope,
            Err(e) => {
                tracing::warn!(error = %e, "undecodable event on the bus");
                continue;
            }
        };
        match to_hub_event(envelope) {
            Ok(Some(event)) => hub.dispatch(Arc::new(event)),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "malformed dialog event"),
        }
    }
    Ok(())
}
