//! The suite's event names, each spelled here only, and reading events in
//! consumers: the payload of an envelope as its event, with an event that
//! can never be read reported as a permanent failure (the bus terminates it
//! rather than retry it for ever).

use prost::Message as _;
use uuid::Uuid;

use chat_proto::dialog::v1 as pb;
use chat_proto::events::v1 as ev;

use crate::bus::HandlerError;

/// A message was stored in a dialog: every consumer of messages takes it.
pub const MESSAGE_CREATED: &str = "dialog.message_created";
/// A manager's reply to go out through a messenger (Telegram, VK, Facebook),
/// published beside its `dialog.message_created` with the same payload: the
/// bridge consumes only these, so site-chat traffic never reaches it.
pub const MESSENGER_REPLY_CREATED: &str = "dialog.messenger_reply_created";
/// A visitor's first message opened a dialog.
pub const DIALOG_CREATED: &str = "dialog.dialog_created";
/// A dialog was assigned, closed or reopened.
pub const DIALOG_UPDATED: &str = "dialog.dialog_updated";
/// A manager's read position in a dialog moved.
pub const DIALOG_READ: &str = "dialog.dialog_read";
/// A message's delivery changed (delivered, e-mailed, failed).
pub const MESSAGE_UPDATED: &str = "dialog.message_updated";
/// A manager wrote a note in a dialog (managers only).
pub const NOTE_CREATED: &str = "dialog.note_created";
/// A contact's details changed (name, e-mail, ...), in the contact service.
pub const CONTACT_UPDATED: &str = "contact.contact_updated";
/// A manager was added or changed in the gateway (the notification service
/// keeps its own copy of whom to write to).
pub const MANAGER_CHANGED: &str = "gateway.manager_changed";

/// A `dialog.message_created` (or `dialog.messenger_reply_created`): the message and the contact whose dialog it is in.
pub struct MessageCreated {
    pub message: pb::Message,
    pub contact_id: Uuid,
}

impl MessageCreated {
    pub fn decode(envelope: &ev::Envelope) -> Result<Self, HandlerError> {
        let created = ev::MessageCreated::decode(envelope.payload.as_slice())
            .map_err(|e| HandlerError::Permanent(e.into()))?;
        let message = created
            .message
            .ok_or_else(|| HandlerError::Permanent(anyhow::anyhow!("no message")))?;
        Ok(Self {
            message,
            contact_id: id(&created.contact_id)?,
        })
    }
}

/// An id field of an event; one that is not a UUID can never be handled.
pub fn id(value: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(value).map_err(|e| HandlerError::Permanent(e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_created_is_read_and_a_broken_one_is_permanent() {
        let contact_id = Uuid::now_v7();
        let good = ev::Envelope {
            payload: ev::MessageCreated {
                message: Some(pb::Message {
                    text: "hi".into(),
                    ..Default::default()
                }),
                contact_id: contact_id.to_string(),
            }
            .encode_to_vec(),
            ..Default::default()
        };
        let read = MessageCreated::decode(&good).unwrap();
        assert_eq!(
            (read.message.text.as_str(), read.contact_id),
            ("hi", contact_id)
        );
        let broken = ev::Envelope {
            payload: vec![0xff, 0xff],
            ..Default::default()
        };
        assert!(matches!(
            MessageCreated::decode(&broken),
            Err(HandlerError::Permanent(_))
        ));
    }
}
