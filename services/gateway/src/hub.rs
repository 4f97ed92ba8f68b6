//! The hub: this replica's sockets, by account, and the fan-out of the
//! suite's dialog events to them. Each replica reads the events from NATS
//! itself ([`crate::feed`]), so a visitor on one replica and a manager on
//! another talk live.
//!
//! Events are serialized to a frame once and shared by every socket they go to.
//!
//! The hub also carries the end of managers' sessions (a logout on any
//! replica), so every replica closes that session's sockets at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use prost::Message as _;
use tokio::sync::{broadcast, mpsc};
use uuid::Uuid;

use chat_platform::bus::Bus;
use chat_platform::events::{
    CONTACT_UPDATED, DIALOG_CREATED, DIALOG_READ, DIALOG_UPDATED, MESSAGE_CREATED, MESSAGE_UPDATED,
    NOTE_CREATED,
};
use chat_proto::events::v1 as ev;

use anyhow::anyhow;

use crate::api::{ContactOut, DialogOut, MessageOut, NoteOut};
use crate::system_lines;
use crate::ws::frames::{self, ServerFrame};

/// Frames a socket may have queued before it counts as too slow and is closed
/// (the client reconnects and resumes from its last sequence number). Events
/// come in bursts (the relay publishes up to 256 at once, and one manager
/// socket carries the whole account's), so the bound is well above a burst;
/// the queue takes memory only for what it holds, not for its bound.
pub const SOCKET_QUEUE_FRAMES: usize = 4096;

/// An event as sockets receive it.
#[derive(Debug)]
pub struct HubEvent {
    pub account_id: Uuid,
    pub contact_id: Uuid,
    pub dialog_id: Uuid,
    /// The message's sequence number; 0 for events that are not messages.
    pub seq: i64,
    /// What the visitor of `contact_id` gets of it, besides the account's
    /// managers (messages and new dialogs; never notes).
    pub to_visitor: ToVisitor,
    /// The JSON frame, ready to send.
    pub frame: String,
    /// New widget settings: each visitor socket sends them as they apply to
    /// its own page (`frame` is what managers get).
    pub widget: Option<Arc<crate::widget::settings::Settings>>,
}

/// What the visitor of an event's contact gets of it.
#[derive(Debug, Clone, PartialEq)]
pub enum ToVisitor {
    /// Nothing: the team's own (notes, changes to the dialog).
    Nothing,
    /// The frame the managers get.
    Frame,
    /// A frame of its own: a system line worded for the visitor.
    OwnFrame(String),
    /// A message of their dialog that is the team's (who assigned whom, a
    /// close): no frame, but it counts in the dialog's sequence, so the
    /// next message follows on without a gap to fill.
    Unseen,
}

impl HubEvent {
    /// The frame a socket sends of the event; `None` for a message a
    /// visitor does not see (see [`ToVisitor::Unseen`]).
    pub fn frame_for(&self, visitor: bool) -> Option<&str> {
        match (&self.to_visitor, visitor) {
            (_, false) | (ToVisitor::Frame | ToVisitor::Nothing, true) => Some(&self.frame),
            (ToVisitor::OwnFrame(frame), true) => Some(frame),
            (ToVisitor::Unseen, true) => None,
        }
    }

    /// A frame that is not a message (presence, settings): sent as it is,
    /// outside the sequence of any dialog.
    pub fn control(account_id: Uuid, frame: ServerFrame<'_>) -> Self {
        Self {
            account_id,
            contact_id: Uuid::nil(),
            dialog_id: Uuid::nil(),
            seq: 0,
            to_visitor: ToVisitor::Nothing,
            frame: frame.text(),
            widget: None,
        }
    }
}

pub type EventSender = mpsc::Sender<Arc<HubEvent>>;
pub type EventReceiver = mpsc::Receiver<Arc<HubEvent>>;

/// Who a socket is: a manager sees the whole account, a visitor their own contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    Managers(Uuid),
    Visitor { account_id: Uuid, contact_id: Uuid },
}

/// Logouts remembered for sockets that are slow to look; one that misses
/// some checks its session in the database instead.
const ENDED_SESSIONS_BACKLOG: usize = 64;

pub struct Hub {
    next_id: AtomicU64,
    sockets: RwLock<HashMap<Audience, HashMap<u64, EventSender>>>,
    ended_sessions: broadcast::Sender<Uuid>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            next_id: AtomicU64::new(0),
            sockets: RwLock::default(),
            ended_sessions: broadcast::channel(ENDED_SESSIONS_BACKLOG).0,
        }
    }
}

/// The core NATS subject on which replicas tell each other of a logout
/// (live only: a replica that misses it finds out at its next session check).
pub fn session_ended_subject(bus: &Bus) -> String {
    format!("{}.live.session_ended", bus.prefix())
}

/// Removes the socket from the hub when dropped.
pub struct Registration {
    hub: Arc<Hub>,
    audience: Audience,
    id: u64,
}

impl Registration {
    /// Who the socket is.
    pub fn audience(&self) -> Audience {
        self.audience
    }
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

    /// Sends the event to the account's managers and, when it is for them too,
    /// to the visitor it concerns.
    /// A socket whose queue is full is dropped from the hub; its task sees the
    /// closed channel and closes the socket, asking the client to resume.
    pub fn dispatch(&self, event: Arc<HubEvent>) {
        let visitor = Audience::Visitor {
            account_id: event.account_id,
            contact_id: event.contact_id,
        };
        let audiences = [
            Some(Audience::Managers(event.account_id)),
            (event.to_visitor != ToVisitor::Nothing).then_some(visitor),
        ];
        let mut lagging = Vec::new();
        {
            let sockets = self.sockets.read().expect("hub lock");
            for audience in audiences.into_iter().flatten() {
                for (id, tx) in sockets.get(&audience).into_iter().flatten() {
                    if tx.try_send(event.clone()).is_err() {
                        lagging.push((audience, *id));
                    }
                }
            }
        }
        self.drop_lagging(lagging);
    }

    /// Sends the event to every visitor socket of the account on this
    /// replica; a socket whose queue is full is dropped, as in [`Hub::dispatch`].
    pub fn dispatch_to_visitors(&self, account_id: Uuid, event: Arc<HubEvent>) {
        let mut lagging = Vec::new();
        {
            let sockets = self.sockets.read().expect("hub lock");
            for (audience, group) in sockets.iter() {
                if matches!(audience, Audience::Visitor { account_id: a, .. } if *a == account_id) {
                    for (id, tx) in group {
                        if tx.try_send(event.clone()).is_err() {
                            lagging.push((*audience, *id));
                        }
                    }
                }
            }
        }
        self.drop_lagging(lagging);
    }

    /// Drops a visitor's sockets from the hub: each task sees its closed
    /// channel and closes its socket (a blocked visitor, who is then
    /// refused when reconnecting).
    pub fn disconnect_visitor(&self, account_id: Uuid, contact_id: Uuid) {
        let audience = Audience::Visitor {
            account_id,
            contact_id,
        };
        self.sockets.write().expect("hub lock").remove(&audience);
    }

    fn drop_lagging(&self, lagging: Vec<(Audience, u64)>) {
        if lagging.is_empty() {
            return;
        }
        let mut sockets = self.sockets.write().expect("hub lock");
        for (audience, id) in lagging {
            if let Some(group) = sockets.get_mut(&audience) {
                group.remove(&id);
            }
        }
    }

    /// Ends a session on this replica's sockets.
    pub fn end_session(&self, session_id: Uuid) {
        let _ = self.ended_sessions.send(session_id); // no receivers: nothing to close
    }

    /// Sessions that end from now on.
    pub fn ended_sessions(&self) -> broadcast::Receiver<Uuid> {
        self.ended_sessions.subscribe()
    }

    /// The sockets registered here (the budgets count places; tests count these).
    #[cfg(test)]
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
    let payload = envelope.payload.as_slice();
    let for_managers = |frame: ServerFrame<'_>| HubEvent::control(account_id, frame);
    let event = match envelope.r#type.as_str() {
        MESSAGE_CREATED => {
            let created = ev::MessageCreated::decode(payload)?;
            let message = created
                .message
                .ok_or_else(|| anyhow!("event without message"))?;
            let (dialog_id, seq) = (Uuid::parse_str(&message.dialog_id)?, message.seq);
            let message = MessageOut::from(message);
            let to_visitor = match message.author_kind {
                "system" => match system_lines::as_visitor_sees(message.clone()) {
                    Some(shown) => ToVisitor::OwnFrame(frames::message(&shown)),
                    None => ToVisitor::Unseen,
                },
                _ => ToVisitor::Frame,
            };
            let frame = ServerFrame::Message { message: &message };
            HubEvent {
                contact_id: Uuid::parse_str(&created.contact_id)?,
                dialog_id,
                seq,
                to_visitor,
                ..for_managers(frame)
            }
        }
        DIALOG_CREATED => {
            let created = ev::DialogCreated::decode(payload)?;
            let dialog = created
                .dialog
                .ok_or_else(|| anyhow!("event without dialog"))?;
            let (dialog_id, contact_id) = (
                Uuid::parse_str(&dialog.id)?,
                Uuid::parse_str(&dialog.contact_id)?,
            );
            let dialog = DialogOut::from(dialog);
            let shown = system_lines::dialog_as_visitor_sees(dialog.clone());
            let to_visitor = ServerFrame::DialogCreated { dialog: &shown }.text();
            let frame = ServerFrame::DialogCreated { dialog: &dialog };
            HubEvent {
                contact_id,
                dialog_id,
                to_visitor: ToVisitor::OwnFrame(to_visitor),
                ..for_managers(frame)
            }
        }
        DIALOG_UPDATED => {
            let updated = ev::DialogUpdated::decode(payload)?;
            let dialog = updated
                .dialog
                .ok_or_else(|| anyhow!("event without dialog"))?;
            for_managers(ServerFrame::DialogUpdated {
                change: &updated.change,
                dialog: &DialogOut::from(dialog),
            })
        }
        MESSAGE_UPDATED => {
            let updated = ev::MessageUpdated::decode(payload)?;
            let message = updated
                .message
                .ok_or_else(|| anyhow!("event without message"))?;
            for_managers(ServerFrame::MessageUpdated {
                message: &MessageOut::from(message),
            })
        }
        DIALOG_READ => {
            let read = ev::DialogRead::decode(payload)?;
            for_managers(ServerFrame::DialogRead {
                dialog_id: &read.dialog_id,
                manager_id: &read.manager_id,
                seq: read.seq,
                unread_count: read.unread_count,
            })
        }
        NOTE_CREATED => {
            let created = ev::NoteCreated::decode(payload)?;
            let note = created.note.ok_or_else(|| anyhow!("event without note"))?;
            for_managers(ServerFrame::Note {
                note: &NoteOut::from(note),
            })
        }
        CONTACT_UPDATED => {
            let updated = ev::ContactUpdated::decode(payload)?;
            let contact = updated
                .contact
                .ok_or_else(|| anyhow!("event without contact"))?;
            for_managers(ServerFrame::ContactUpdated {
                contact: &ContactOut::from(contact),
            })
        }
        _ => return Ok(None),
    };
    Ok(Some(event))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(account_id: Uuid, seq: i64) -> Arc<HubEvent> {
        Arc::new(HubEvent {
            account_id,
            contact_id: Uuid::nil(),
            dialog_id: Uuid::nil(),
            seq,
            to_visitor: ToVisitor::Frame,
            widget: None,
            frame: String::new(),
        })
    }

    #[test]
    fn a_burst_up_to_the_queue_bound_is_kept_and_one_more_drops_the_socket() {
        let hub = Arc::new(Hub::default());
        let account = Uuid::now_v7();
        let (_registration, mut events) = hub.register(Audience::Managers(account));
        for seq in 1..=SOCKET_QUEUE_FRAMES as i64 {
            hub.dispatch(event(account, seq));
        }
        assert_eq!(
            hub.socket_count(),
            1,
            "a whole burst waits for a slow reader"
        );
        hub.dispatch(event(account, SOCKET_QUEUE_FRAMES as i64 + 1));
        assert_eq!(
            hub.socket_count(),
            0,
            "a reader too slow for that is let go"
        );
        let mut received = 0;
        while events.try_recv().is_ok() {
            received += 1;
        }
        assert_eq!(received, SOCKET_QUEUE_FRAMES, "it resumes from what it got");
    }

    #[test]
    fn events_go_to_the_accounts_managers_and_the_visitor_they_concern_only() {
        let hub = Arc::new(Hub::default());
        let (account, other) = (Uuid::now_v7(), Uuid::now_v7());
        let contact = Uuid::now_v7();
        let (_m, mut manager) = hub.register(Audience::Managers(account));
        let (_o, mut other_manager) = hub.register(Audience::Managers(other));
        let (_v, mut visitor) = hub.register(Audience::Visitor {
            account_id: account,
            contact_id: contact,
        });
        let (_w, mut other_visitor) = hub.register(Audience::Visitor {
            account_id: account,
            contact_id: Uuid::now_v7(),
        });
        hub.dispatch(Arc::new(HubEvent {
            account_id: account,
            contact_id: contact,
            dialog_id: Uuid::nil(),
            seq: 1,
            to_visitor: ToVisitor::Frame,
            widget: None,
            frame: "{}".into(),
        }));
        assert!(manager.try_recv().is_ok());
        assert!(visitor.try_recv().is_ok());
        assert!(other_manager.try_recv().is_err());
        assert!(other_visitor.try_recv().is_err());
    }

    #[test]
    fn a_note_goes_to_the_accounts_managers_and_never_to_the_visitor() {
        let hub = Arc::new(Hub::default());
        let account = Uuid::now_v7();
        let contact = Uuid::now_v7();
        let (_m, mut manager) = hub.register(Audience::Managers(account));
        let (_v, mut visitor) = hub.register(Audience::Visitor {
            account_id: account,
            contact_id: contact,
        });
        let note = chat_proto::dialog::v1::Note {
            id: Uuid::now_v7().to_string(),
            text: "secret".into(),
            ..Default::default()
        };
        let envelope = ev::Envelope {
            account_id: account.to_string(),
            r#type: NOTE_CREATED.into(),
            payload: ev::NoteCreated { note: Some(note) }.encode_to_vec(),
            ..Default::default()
        };
        let event = to_hub_event(envelope).unwrap().unwrap();
        assert_eq!(event.to_visitor, ToVisitor::Nothing);
        hub.dispatch(Arc::new(HubEvent {
            contact_id: contact,
            ..event
        }));
        assert!(manager.try_recv().unwrap().frame.contains("secret"));
        assert!(visitor.try_recv().is_err());
    }
}
