//! Events the dialog service publishes, built from the rows just written.

use prost::Message as _;

use chat_platform::outbox::NewEvent;
use chat_proto::events::v1 as ev;

use crate::db::{DialogRow, MessageRow};

pub const DIALOG_CREATED: &str = "dialog.dialog_created";
pub const MESSAGE_CREATED: &str = "dialog.message_created";

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
    NewEvent::new(
        message.account_id,
        MESSAGE_CREATED,
        ev::MessageCreated {
            message: Some(message.clone().into()),
            contact_id: contact_id.to_string(),
        }
        .encode_to_vec(),
    )
}
