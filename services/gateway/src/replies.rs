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

/// The channel a manager chose by its word (`site`, `email`, `telegram`,
/// `vk`, `facebook`); none chosen: where the contact last wrote from.
pub fn chosen_channel(word: Option<&str>) -> Result<pb::Channel> {
    match word {
        None => Ok(pb::Channel::Unspecified),
        Some("site") => Ok(pb::Channel::Site),
        Some("email") => Ok(pb::Channel::Email),
        Some("telegram") => Ok(pb::Channel::Telegram),
        Some("vk") => Ok(pb::Channel::Vk),
        Some("facebook") => Ok(pb::Channel::Facebook),
        Some(_) => Err(Error::InvalidFields(vec![(
            "channel".into(),
            "must be site, email, telegram, vk or facebook".into(),
        )])),
    }
}

/// The request that stores a manager's message with the files uploaded for
/// it, going out through `channel` (unspecified: where the contact last
/// wrote from).
pub fn request(
    manager: &Manager,
    to: To<'_>,
    client_message_id: &str,
    text: String,
    attachments: Vec<String>,
    channel: pb::Channel,
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
        channel: channel as i32,
        contact_name: String::new(),
        attachment_ids: attachments,
    })
}

/// Stores the message; returns it and whether its client id was seen before.
pub async fn post_as_manager(
    state: &AppState,
    manager: &Manager,
    to: To<'_>,
    client_message_id: &str,
    text: String,
    attachments: Vec<String>,
    channel: pb::Channel,
) -> Result<(MessageOut, bool)> {
    let request = request(manager, to, client_message_id, text, attachments, channel)?;
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
