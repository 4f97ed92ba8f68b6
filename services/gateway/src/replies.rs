//! A manager's reply into a dialog, shared by REST and the manager socket.

use chat_proto::dialog::v1 as pb;

use crate::api::MessageOut;
use crate::auth::Manager;
use crate::error::{Error, Result};
use crate::state::AppState;

/// Stores the reply; returns it and whether its client id was seen before.
pub async fn post_as_manager(
    state: &AppState,
    manager: &Manager,
    dialog_id: &str,
    client_message_id: &str,
    text: String,
) -> Result<(MessageOut, bool)> {
    if uuid::Uuid::parse_str(dialog_id).is_err() {
        return Err(Error::Invalid("dialog_id is not a uuid".into()));
    }
    let request = pb::PostMessageRequest {
        account_id: manager.account_id.to_string(),
        dialog_id: dialog_id.to_owned(),
        contact_id: String::new(),
        author_kind: pb::AuthorKind::Manager as i32,
        author_id: manager.id.to_string(),
        client_message_id: client_message_id.to_owned(),
        text,
        channel: pb::Channel::Site as i32,
    };
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
