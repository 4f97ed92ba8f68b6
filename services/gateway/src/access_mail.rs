//! E-mails about a manager's access, sent by the notification service: the
//! invitation link when a manager is added without a password, and the
//! one-time link of "Forgot password?". Asked once per link (the service
//! records and sends it once); a notification service that is away is
//! reported, never fatal: the invitation link is also shown to whoever
//! added the manager.

use chat_proto::notification::v1 as pb;
use uuid::Uuid;

use crate::state::AppState;

/// One access e-mail to ask for.
pub struct AccessEmail<'a> {
    pub kind: pb::AccessEmailKind,
    pub account_id: Uuid,
    pub manager_id: Uuid,
    pub to: &'a str,
    pub name: &'a str,
    pub shop_name: &'a str,
    pub inviter_name: &'a str,
    pub link: &'a str,
    pub valid_minutes: u32,
    /// The e-mail's language (`en`, `ru`); empty: English.
    pub language: &'a str,
}

/// Asks for the e-mail; whether the notification service took it.
pub async fn send(state: &AppState, email: AccessEmail<'_>) -> bool {
    let request = pb::AccessEmailRequest {
        account_id: email.account_id.to_string(),
        manager_id: email.manager_id.to_string(),
        kind: email.kind as i32,
        to: email.to.to_owned(),
        name: email.name.to_owned(),
        shop_name: email.shop_name.to_owned(),
        inviter_name: email.inviter_name.to_owned(),
        link: email.link.to_owned(),
        valid_minutes: email.valid_minutes,
        language: email.language.to_owned(),
    };
    match state.notifications.clone().send_access_email(request).await {
        Ok(_) => true,
        Err(status) => {
            tracing::warn!(error = %status, kind = ?email.kind, "an access e-mail could not be asked for");
            false
        }
    }
}
