//! Settings → Notifications → Sending server: the shop's own SMTP server,
//! which its e-mails to contacts leave by (`GET`/`PUT`/`DELETE
//! /api/v1/account/smtp`), set by owners. The notification service checks
//! a server by connecting and signing in before it keeps it, seals the
//! password, and never gives it back.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use chat_proto::notification::v1 as pb;

use super::Json;
use super::notifications::must_own;
use crate::api::rfc3339;
use crate::auth::Manager;
use crate::error::{ErrorOut, Result};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/v1/account/smtp",
        get(get_server).put(set_server).delete(remove_server),
    )
}

#[derive(Serialize, ToSchema)]
pub struct SmtpServerOut {
    /// `false`: e-mails leave by the deployment's server, and the other
    /// fields are empty.
    pub configured: bool,
    pub host: String,
    pub port: u32,
    /// `starttls`, `tls` or `none`.
    pub security: String,
    /// Empty: no sign-in.
    pub username: String,
    /// Whether a password is kept (it is never shown).
    pub password_set: bool,
    /// The From of the shop's e-mails to contacts.
    pub from_address: String,
    /// Why the latest e-mail through it failed; empty after a success.
    pub last_error: String,
    /// When, RFC 3339; absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error_at: Option<String>,
    /// When it was saved, RFC 3339; absent when none is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

impl From<pb::AccountSmtp> for SmtpServerOut {
    fn from(server: pb::AccountSmtp) -> Self {
        Self {
            configured: server.configured,
            host: server.host,
            port: server.port,
            security: server.security,
            username: server.username,
            password_set: server.password_set,
            from_address: server.from_address,
            last_error: server.last_error,
            last_error_at: rfc3339(server.last_error_at.as_ref()),
            updated_at: rfc3339(server.updated_at.as_ref()),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpServerIn {
    /// A host name or IP address on the internet.
    #[schema(min_length = 1, max_length = 253)]
    pub host: String,
    /// 25, 465, 587 or 2525.
    #[schema(minimum = 1, maximum = 65535)]
    pub port: u32,
    /// `starttls` (587, 25) or `tls` (465); `none` only where the
    /// deployment allows local servers.
    #[schema(pattern = "^(starttls|tls|none)$")]
    pub security: String,
    /// Empty, or left out: no sign-in.
    #[serde(default)]
    #[schema(max_length = 254)]
    pub username: String,
    /// Left out: the one kept, if the host and user are the same.
    #[schema(max_length = 1024)]
    pub password: Option<String>,
    /// The shop's own address e-mails come from; its server must accept it.
    #[schema(max_length = 254)]
    pub from_address: String,
}

/// The shop's own SMTP server (owners).
#[utoipa::path(get, path = "/api/v1/account/smtp", tag = "notifications", security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = SmtpServerOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`forbidden`: owners only", body = ErrorOut),
        (status = 503, description = "`unavailable`", body = ErrorOut),
    ))]
async fn get_server(
    State(state): State<AppState>,
    manager: Manager,
) -> Result<axum::Json<SmtpServerOut>> {
    must_own(&manager)?;
    let request = pb::GetAccountSmtpRequest {
        account_id: manager.account_id.to_string(),
    };
    let server = state
        .notifications
        .clone()
        .get_account_smtp(request)
        .await?;
    Ok(axum::Json(server.into_inner().into()))
}

/// Checks the server (connects, and signs in when a user is given) and
/// keeps it: the shop's e-mails to contacts then leave by it (owners).
#[utoipa::path(put, path = "/api/v1/account/smtp", tag = "notifications", request_body = SmtpServerIn, security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = SmtpServerOut),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`forbidden`: owners only; `csrf`", body = ErrorOut),
        (status = 415, description = "`unsupported_media_type`", body = ErrorOut),
        (status = 422, description = "`invalid`: `fields.host` (not allowed, or the server does not answer), `fields.port`, `fields.security`, `fields.username` (the sign-in was refused), `fields.password`, `fields.from_address`", body = ErrorOut),
        (status = 503, description = "`unavailable`", body = ErrorOut),
    ))]
async fn set_server(
    State(state): State<AppState>,
    manager: Manager,
    Json(body): Json<SmtpServerIn>,
) -> Result<axum::Json<SmtpServerOut>> {
    must_own(&manager)?;
    let request = pb::SetAccountSmtpRequest {
        account_id: manager.account_id.to_string(),
        host: body.host,
        port: body.port,
        security: body.security,
        username: body.username,
        password: body.password,
        from_address: body.from_address,
    };
    let server = state
        .notifications
        .clone()
        .set_account_smtp(request)
        .await?;
    Ok(axum::Json(server.into_inner().into()))
}

/// Back to the deployment's server (owners).
#[utoipa::path(delete, path = "/api/v1/account/smtp", tag = "notifications", security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "the deployment's server sends again"),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`forbidden`: owners only; `csrf`", body = ErrorOut),
        (status = 503, description = "`unavailable`", body = ErrorOut),
    ))]
async fn remove_server(State(state): State<AppState>, manager: Manager) -> Result<StatusCode> {
    must_own(&manager)?;
    let request = pb::GetAccountSmtpRequest {
        account_id: manager.account_id.to_string(),
    };
    state
        .notifications
        .clone()
        .remove_account_smtp(request)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
