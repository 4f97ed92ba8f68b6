//! Settings → Notifications: each manager's own choice of e-mail and browser
//! push while away (`GET`/`PATCH /api/v1/me/notifications`), and how the
//! account's e-mails are signed, which owners set
//! (`GET`/`PATCH /api/v1/account/mail`). The notification service keeps both.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use chat_proto::notification::v1 as pb;

use super::Json;
use crate::auth::{Manager, Role};
use crate::error::{Error, ErrorOut, Result};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/me/notifications",
            get(get_preferences).patch(set_preferences),
        )
        .route(
            "/api/v1/account/mail",
            get(get_account_mail).patch(set_account_mail),
        )
}

#[derive(Serialize, ToSchema)]
pub struct PreferencesOut {
    /// An e-mail for visitors' messages while away from the console.
    pub email: bool,
    /// A browser push for them.
    pub push: bool,
    /// Where the e-mails go: the profile's address (empty until the
    /// notification service has heard of the manager).
    pub email_address: String,
    /// Why the latest e-mail to this manager failed for good, if it did.
    pub last_failure: String,
}

impl From<pb::Preferences> for PreferencesOut {
    fn from(p: pb::Preferences) -> Self {
        Self {
            email: p.email,
            push: p.push,
            email_address: p.email_address,
            last_failure: p.last_failure,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesIn {
    /// Left out: unchanged.
    pub email: Option<bool>,
    pub push: Option<bool>,
}

/// The signed-in manager's notification choices.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "notifications", security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = PreferencesOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 503, description = "`unavailable`: the notification service is away", body = ErrorOut),
    ))]
async fn get_preferences(
    State(state): State<AppState>,
    manager: Manager,
) -> Result<axum::Json<PreferencesOut>> {
    let request = pb::GetPreferencesRequest {
        account_id: manager.account_id.to_string(),
        manager_id: manager.id.to_string(),
    };
    let preferences = state.notifications.clone().get_preferences(request).await?;
    Ok(axum::Json(preferences.into_inner().into()))
}

/// Turns the signed-in manager's e-mail or push on or off.
#[utoipa::path(patch, path = "/api/v1/me/notifications", tag = "notifications", request_body = PreferencesIn, security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = PreferencesOut),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`", body = ErrorOut),
        (status = 415, description = "`unsupported_media_type`", body = ErrorOut),
        (status = 422, description = "`invalid`: not a boolean", body = ErrorOut),
        (status = 503, description = "`unavailable`", body = ErrorOut),
    ))]
async fn set_preferences(
    State(state): State<AppState>,
    manager: Manager,
    Json(body): Json<PreferencesIn>,
) -> Result<axum::Json<PreferencesOut>> {
    let request = pb::SetPreferencesRequest {
        account_id: manager.account_id.to_string(),
        manager_id: manager.id.to_string(),
        email: body.email,
        push: body.push,
    };
    let preferences = state.notifications.clone().set_preferences(request).await?;
    Ok(axum::Json(preferences.into_inner().into()))
}

#[derive(Serialize, ToSchema)]
pub struct AccountMailOut {
    /// The name e-mails come from; empty: the shop's name.
    pub sender_name: String,
    /// Where answers to the shop's e-mails go; empty: none.
    pub reply_to: String,
    /// The shop's site, linked from e-mails to visitors; empty: none.
    pub shop_url: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountMailIn {
    /// One line, up to 100 characters; empty: the shop's name. Left out: unchanged.
    #[schema(max_length = 100)]
    pub sender_name: Option<String>,
    /// An e-mail address, or empty for none. Left out: unchanged.
    pub reply_to: Option<String>,
    /// An `http` or `https` address of up to 500 bytes, or empty for none.
    /// Left out: unchanged.
    #[schema(max_length = 500)]
    pub shop_url: Option<String>,
}

impl From<pb::AccountMail> for AccountMailOut {
    fn from(mail: pb::AccountMail) -> Self {
        Self {
            sender_name: mail.sender_name,
            reply_to: mail.reply_to,
            shop_url: mail.shop_url,
        }
    }
}

fn must_own(manager: &Manager) -> Result<()> {
    match manager.role {
        Role::Owner => Ok(()),
        _ => Err(Error::Forbidden(
            "only owners set how the shop's e-mails are signed",
        )),
    }
}

/// How the account's e-mails are signed (owners).
#[utoipa::path(get, path = "/api/v1/account/mail", tag = "notifications", security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = AccountMailOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`forbidden`: owners only", body = ErrorOut),
        (status = 503, description = "`unavailable`", body = ErrorOut),
    ))]
async fn get_account_mail(
    State(state): State<AppState>,
    manager: Manager,
) -> Result<axum::Json<AccountMailOut>> {
    must_own(&manager)?;
    let request = pb::GetAccountMailRequest {
        account_id: manager.account_id.to_string(),
    };
    let mail = state
        .notifications
        .clone()
        .get_account_mail(request)
        .await?
        .into_inner();
    Ok(axum::Json(AccountMailOut::from(mail)))
}

/// Sets the sender name, the reply address or the shop's address of the account's e-mails (owners).
#[utoipa::path(patch, path = "/api/v1/account/mail", tag = "notifications", request_body = AccountMailIn, security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = AccountMailOut),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`forbidden`: owners only; `csrf`", body = ErrorOut),
        (status = 415, description = "`unsupported_media_type`", body = ErrorOut),
        (status = 422, description = "`invalid`: `fields.sender_name`, `fields.reply_to`, `fields.shop_url`", body = ErrorOut),
        (status = 503, description = "`unavailable`", body = ErrorOut),
    ))]
async fn set_account_mail(
    State(state): State<AppState>,
    manager: Manager,
    Json(body): Json<AccountMailIn>,
) -> Result<axum::Json<AccountMailOut>> {
    must_own(&manager)?;
    let request = pb::SetAccountMailRequest {
        account_id: manager.account_id.to_string(),
        sender_name: body.sender_name,
        reply_to: body.reply_to,
        shop_url: body.shop_url,
    };
    let mail = state
        .notifications
        .clone()
        .set_account_mail(request)
        .await?
        .into_inner();
    Ok(axum::Json(AccountMailOut::from(mail)))
}
