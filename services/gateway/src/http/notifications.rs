//! Settings → Notifications: each manager's own choice of e-mail and browser
//! push while away (`GET`/`PATCH /api/v1/me/notifications`), their
//! browsers' push subscriptions (`GET /api/v1/push/key`,
//! `POST`/`DELETE /api/v1/me/push-subscriptions`), and how the account's
//! e-mails are signed, which owners set (`GET`/`PATCH /api/v1/account/mail`).
//! The notification service keeps them all.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use chat_proto::notification::v1 as pb;

use super::{Json, Query};
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
        .route("/api/v1/push/key", get(push_key))
        .route(
            "/api/v1/me/push-subscriptions",
            post(subscribe).delete(unsubscribe),
        )
}

#[derive(Serialize, ToSchema)]
pub struct PushKeyOut {
    /// The VAPID public key (base64url): `applicationServerKey` of
    /// `pushManager.subscribe`.
    pub public_key: String,
}

/// The deployment's VAPID public key, for a browser to subscribe to push.
#[utoipa::path(get, path = "/api/v1/push/key", tag = "notifications", security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = PushKeyOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 503, description = "`unavailable`", body = ErrorOut),
    ))]
async fn push_key(
    State(state): State<AppState>,
    _manager: Manager,
) -> Result<axum::Json<PushKeyOut>> {
    let key = state
        .notifications
        .clone()
        .get_push_key(pb::GetPushKeyRequest {})
        .await?
        .into_inner();
    Ok(axum::Json(PushKeyOut {
        public_key: key.public_key,
    }))
}

/// A browser's push subscription, as `PushSubscription.toJSON()` gives it.
#[derive(Deserialize, ToSchema)]
pub struct SubscriptionIn {
    /// The push service's address for this browser.
    #[schema(max_length = 2048)]
    pub endpoint: String,
    pub keys: SubscriptionKeys,
}

#[derive(Deserialize, ToSchema)]
pub struct SubscriptionKeys {
    /// The browser's P-256 public key, base64url.
    pub p256dh: String,
    /// Its 16-byte secret, base64url.
    pub auth: String,
}

/// Keeps this browser's push subscription for the signed-in manager.
#[utoipa::path(post, path = "/api/v1/me/push-subscriptions", tag = "notifications", request_body = SubscriptionIn, security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Kept"),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`", body = ErrorOut),
        (status = 415, description = "`unsupported_media_type`", body = ErrorOut),
        (status = 422, description = "`invalid`: `fields.endpoint` is not at a browser's push service, or a key is malformed", body = ErrorOut),
        (status = 503, description = "`unavailable`", body = ErrorOut),
    ))]
async fn subscribe(
    State(state): State<AppState>,
    manager: Manager,
    Json(body): Json<SubscriptionIn>,
) -> Result<StatusCode> {
    let request = pb::PushSubscription {
        account_id: manager.account_id.to_string(),
        manager_id: manager.id.to_string(),
        endpoint: body.endpoint,
        p256dh: body.keys.p256dh,
        auth: body.keys.auth,
    };
    state
        .notifications
        .clone()
        .add_push_subscription(request)
        .await?;
    Ok(StatusCode::CREATED)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EndpointQuery {
    /// The subscription's endpoint.
    pub endpoint: String,
}

/// Forgets this browser's push subscription (turning push off here).
#[utoipa::path(delete, path = "/api/v1/me/push-subscriptions", tag = "notifications", params(EndpointQuery), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Forgotten (or there was none)"),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`", body = ErrorOut),
        (status = 503, description = "`unavailable`", body = ErrorOut),
    ))]
async fn unsubscribe(
    State(state): State<AppState>,
    manager: Manager,
    Query(query): Query<EndpointQuery>,
) -> Result<StatusCode> {
    let request = pb::RemovePushSubscriptionRequest {
        account_id: manager.account_id.to_string(),
        manager_id: manager.id.to_string(),
        endpoint: query.endpoint,
    };
    state
        .notifications
        .clone()
        .remove_push_subscription(request)
        .await?;
    Ok(StatusCode::NO_CONTENT)
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
    #[schema(max_length = 100, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub sender_name: Option<String>,
    /// An e-mail address, or empty for none. Left out: unchanged.
    #[schema(
        max_length = 254,
        pattern = "^$|^[A-Za-z0-9._%+-]+@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
    )]
    pub reply_to: Option<String>,
    /// An `http` or `https` address of up to 500 bytes, or empty for none.
    /// Left out: unchanged.
    #[schema(
        max_length = 500,
        pattern = "^$|^https?://([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)*[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(:[0-9]{1,4})?(/[!-~]*)?$"
    )]
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

/// Only owners set how the shop's e-mails are signed and sent.
pub(super) fn must_own(manager: &Manager) -> Result<()> {
    match manager.role {
        Role::Owner => Ok(()),
        _ => Err(Error::Forbidden(
            "only owners set how the shop's e-mails are signed and sent",
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
