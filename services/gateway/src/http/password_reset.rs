//! "Forgot password?": `POST /api/v1/auth/password-reset` e-mails a
//! one-time link (valid 30 minutes) to every shop's manager with that
//! address, answering the same whether there is one or not, and at once (the
//! work happens after the answer, so its time tells nothing);
//! `POST /api/v1/auth/password-reset/confirm` sets the new password with the
//! link's token and ends every session of the manager.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde::Deserialize;
use utoipa::ToSchema;

use chat_proto::notification::v1::AccessEmailKind;

use super::Json;
use super::auth::{Client, PasswordLink};
use crate::access_mail::{self, AccessEmail};
use crate::credentials::{EndReason, new_token};
use crate::db;
use crate::error::{Error, ErrorOut, Result};
use crate::state::AppState;

/// The longest address there is (RFC 5321).
const MAX_EMAIL_CHARS: usize = 254;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/password-reset", post(request_reset))
        .route("/api/v1/auth/password-reset/confirm", post(confirm_reset))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetIn {
    /// The address the manager signs in with.
    #[schema(max_length = 254)]
    pub email: String,
}

/// E-mails a link to set a new password, if a manager signs in with this
/// address; the answer is the same either way.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "auth", request_body = ResetIn,
    responses(
        (status = 202, description = "If a manager signs in with this address, a link is on its way"),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 415, description = "`unsupported_media_type`", body = ErrorOut),
        (status = 422, description = "`invalid`: not a JSON object with `email`, or one over 254 characters", body = ErrorOut),
        (status = 429, description = "`rate_limited`: too many attempts from this address or for this e-mail; see `Retry-After`", body = ErrorOut),
    ))]
async fn request_reset(
    State(state): State<AppState>,
    Client(_, address): Client,
    headers: HeaderMap,
    Json(body): Json<ResetIn>,
) -> Result<StatusCode> {
    if body.email.chars().count() > MAX_EMAIL_CHARS {
        return Err(Error::InvalidFields(vec![(
            "email".into(),
            format!("must be at most {MAX_EMAIL_CHARS} characters"),
        )]));
    }
    let email = body.email.trim().to_lowercase();
    state.auth_limits.login(address, &email)?;
    if email.contains('@') && !email.contains('\0') {
        let origin = super::team::console_origin(&state, &headers);
        let worker = state.clone();
        state
            .tasks
            .spawn(async move { send_links(&worker, &email, &origin).await });
    }
    Ok(StatusCode::ACCEPTED)
}

/// A link for each active manager with the address, one per shop.
async fn send_links(state: &AppState, email: &str, origin: &str) {
    let managers = match db::managers_by_email(&state.pool, email).await {
        Ok(managers) => managers,
        Err(e) => {
            tracing::warn!(error = %e, "password reset: managers not read");
            return;
        }
    };
    for found in managers.into_iter().filter(|m| m.manager.active) {
        let manager = found.manager;
        let (token, hash) = new_token();
        if let Err(e) =
            db::insert_password_reset(&state.pool, manager.account_id, manager.id, &hash).await
        {
            tracing::warn!(error = %e, "password reset: link not kept");
            continue;
        }
        let link = format!("{origin}/console/#/reset/{token}");
        let email = AccessEmail {
            kind: AccessEmailKind::PasswordReset,
            account_id: manager.account_id,
            manager_id: manager.id,
            to: &manager.email,
            name: &manager.name,
            shop_name: &found.shop_name,
            inviter_name: "",
            link: &link,
            valid_minutes: db::PASSWORD_RESET_MINUTES as u32,
            // Theirs, when they chose one in the console.
            language: manager.language.as_deref().unwrap_or_default(),
        };
        access_mail::send(state, email).await;
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmResetIn {
    /// From the link.
    pub token: String,
    /// 8 to 200 characters.
    #[schema(min_length = 8, max_length = 200)]
    pub password: String,
}

/// Sets a new password with the link's one-time token; every session of the
/// manager ends (sign in again with it).
#[utoipa::path(post, path = "/api/v1/auth/password-reset/confirm", tag = "auth", request_body = ConfirmResetIn,
    responses(
        (status = 204, description = "The password is set and every session ended"),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 404, description = "`not_found`: no such link, or it was used or expired", body = ErrorOut),
        (status = 415, description = "`unsupported_media_type`", body = ErrorOut),
        (status = 422, description = "`invalid`: the password is too short or too long", body = ErrorOut),
        (status = 429, description = "`rate_limited`: too many attempts from this address; see `Retry-After`", body = ErrorOut),
    ))]
async fn confirm_reset(
    State(state): State<AppState>,
    Client(_, address): Client,
    Json(body): Json<ConfirmResetIn>,
) -> Result<StatusCode> {
    let (token, password_hash) = PasswordLink::Reset
        .check(&state, address, &body.token, &body.password)
        .await?;
    let mut tx = state.pool.begin().await?;
    let Some((account_id, manager_id)) = db::use_password_reset(&mut tx, &token).await? else {
        return Err(Error::NotFound("password reset link"));
    };
    let change = db::ManagerChange {
        password_hash: Some(password_hash),
        ..Default::default()
    };
    db::update_manager(&mut tx, account_id, manager_id, &change).await?;
    let ended = db::revoke_manager_sessions(
        &mut tx,
        account_id,
        manager_id,
        None,
        EndReason::PasswordReset,
    )
    .await?;
    tx.commit().await?;
    crate::sessions::announce_ended(&state, &ended).await;
    Ok(StatusCode::NO_CONTENT)
}
