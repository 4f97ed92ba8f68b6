//! Events the dialog service publishes, built from the rows just written.

use prost::Message as _;

use chat_platform::outbox::NewEvent;
use chat_proto::dialog::v1::{AuthorKind, Channel};
use chat_proto::events::v1 as ev;

use crate::db::{DialogRow, MessageRow};
use crate::notes::NoteRow;

pub use chat_platform::events::{
    DIALOG_CREATED, DIALOG_READ, DIALOG_UPDATED, MESSAGE_CREATED, MESSAGE_UPDATED,
    MESSENGER_REPLY_CREATED, NOTE_CREATED,
};

/// What changed, in a [`DIALOG_UPDATED`] event.
pub const ASSIGNED: &str = "assigned";
pub const CLOSED: &str = "closed";
pub const REOPENED: &str = "reopened";

pub fn dialog_created(dialog: &DialogRow) -> NewEvent {
    NewEvent::new(
        dialog.account_id,
        DIALOG_CREATED,
        ev::DialogCreated {
            dialog: Some(dialog.clone().into()),
        }
        .encode_to_vec(),
    )
}

pub fn message_created(message: &MessageRow, contact_id: uuid::Uuid) -> NewEvent {
    message_event(MESSAGE_CREATED, message, contact_id)
}

/// The events of a message just stored: [`MESSAGE_CREATED`], and for a
/// manager's reply through a messenger [`MESSENGER_REPLY_CREATED`] too.
pub fn message_stored(message: &MessageRow, contact_id: uuid::Uuid) -> Vec<NewEvent> {
    let through_messenger = AuthorKind::from_word(&message.author_kind) == AuthorKind::Manager
        && Channel::from_word(&message.channel).is_messenger();
    let mut events = vec![message_created(message, contact_id)];
    if through_messenger {
        events.push(message_event(MESSENGER_REPLY_CREATED, message, contact_id));
    }
    events
}

fn message_event(
    event_type: &'static str,
    message: &MessageRow,
    contact_id: uuid::Uuid,
) -> NewEvent {
    NewEvent::new(
        message.account_id,
        event_type,
        message_created_payload(message, contact_id),
    )
}

/// The payload of [`MESSAGE_CREATED`] (and of [`MESSENGER_REPLY_CREATED`]).
pub fn message_created_payload(message: &MessageRow, contact_id: uuid::Uuid) -> Vec<u8> {
    ev::MessageCreated {
        message: Some(message.clone().into()),
        contact_id: contact_id.to_string(),
    }
    .encode_to_vec()
}

pub fn message_updated(message: &MessageRow) -> NewEvent {
    NewEvent::new(
        message.account_id,
        MESSAGE_UPDATED,
        ev::MessageUpdated {
            message: Some(message.clone().into()),
        }
        .encode_to_vec(),
    )
}

pub fn dialog_updated(dialog: &DialogRow, change: &str) -> NewEvent {
    NewEvent::new(
        dialog.account_id,
        DIALOG_UPDATED,
        ev::DialogUpdated {
            dialog: Some(dialog.clone().into()),
            change: change.to_owned(),
        }
        .encode_to_vec(),
    )
}

pub fn dialog_read(
    account_id: uuid::Uuid,
    dialog_id: uuid::Uuid,
    manager_id: uuid::Uuid,
    seq: i64,
    unread_count: i64,
) -> NewEvent {
    NewEvent::new(
        account_id,
        DIALOG_READ,
        ev::DialogRead {
            dialog_id: dialog_id.to_string(),
            manager_id: manager_id.to_string(),
            seq,
            unread_count,
        }
        .encode_to_vec(),
    )
}

pub fn note_created(note: &NoteRow) -> NewEvent {
    NewEvent::new(
        note.account_id,
        NOTE_CREATED,
        ev::NoteCreated {
            note: Some(note.clone().into()),
        }
        .encode_to_vec(),
    )
}
