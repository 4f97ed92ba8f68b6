//! A manager's message into a dialog, shared by REST and the manager socket:
//! a reply into a dialog, or the first words to a contact found by search
//! (into their dialog, opened or reopened for it).

use chat_proto::dialog::v1 as pb;
use uuid::Uuid;

use crate::api::MessageOut;
use crate::auth::Manager;
use crate::error::{Error, Result};
use crate::state::AppState;

/// Where a manager writes.
#[derive(Debug, Clone, Copy)]
pub enum To<'a> {
    /// A dialog by id (as the client gave it).
    Dialog(&'a str),
    /// A contact's dialog.
    Contact(Uuid),
}

/// The request that stores a manager's message.
pub fn request(
    manager: &Manager,
    to: To<'_>,
    client_message_id: &str,
    text: String,
) -> Result<pb::PostMessageRequest> {
    let (dialog_id, contact_id) = match to {
        To::Dialog(id) => match Uuid::parse_str(id) {
            Ok(id) => (id.to_string(), String::new()),
            Err(_) => return Err(Error::Invalid("dialog_id is not a uuid".into())),
        },
        To::Contact(id) => (String::new(), id.to_string()),
    };
    Ok(pb::PostMessageRequest {
        account_id: manager.account_id.to_string(),
        dialog_id,
        contact_id,
        author_kind: pb::AuthorKind::Manager as i32,
        author_id: manager.id.to_string(),
        client_message_id: client_message_id.to_owned(),
        text,
        // Where the contact last wrote from: the site chat, or a messenger.
        channel: pb::Channel::Unspecified as i32,
        contact_name: String::new(),
    })
}

/// Stores the message; returns it and whether its client id was seen before.
pub async fn post_as_manager(
    state: &AppState,
    manager: &Manager,
    to: To<'_>,
    client_message_id: &str,
    text: String,
) -> Result<(MessageOut, bool)> {
    let request = request(manager, to, client_message_id, text)?;
    let posted = state
        .dialogs
        .clone()
        .post_message(request)
        .await?
        .into_inner();
    let message = posted
        .message
        .ok_or_else(|| Error::Internal("post without message".into()))?;
    Ok((MessageOut::from(message), posted.duplicate))
}
