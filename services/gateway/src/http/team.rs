//! The account's managers and a manager's own sessions:
//!
//! - `GET /api/v1/managers`, `POST /api/v1/managers`, `PATCH /api/v1/managers/{id}`
//! - `GET /api/v1/sessions`, `DELETE /api/v1/sessions/{id}`, `DELETE /api/v1/sessions`

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{delete, get, patch};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use chat_proto::notification::v1::AccessEmailKind;

use super::auth::ManagerOut;
use super::{Json, path_id};
use crate::access_mail::{self, AccessEmail};
use crate::auth::Manager;
use crate::db;
use crate::error::{Error, ErrorOut, Result};
use crate::state::AppState;
use crate::team;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/managers", get(list_managers).post(add_manager))
        .route("/api/v1/managers/{id}", patch(edit_manager))
        .route(
            "/api/v1/sessions",
            get(list_sessions).delete(end_other_sessions),
        )
        .route("/api/v1/sessions/{id}", delete(end_session))
}

#[derive(Serialize, ToSchema)]
pub struct ManagersOut {
    pub managers: Vec<ManagerOut>,
}

/// The account's managers, by name, with who is online.
#[utoipa::path(get, path = "/api/v1/managers", tag = "managers", security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = ManagersOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
    ))]
async fn list_managers(
    State(state): State<AppState>,
    manager: Manager,
) -> Result<axum::Json<ManagersOut>> {
    let rows = db::list_managers(
        &state.pool,
        manager.account_id,
        state.config.session_idle_secs,
    )
    .await?;
    Ok(axum::Json(ManagersOut {
        managers: rows.into_iter().map(ManagerOut::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddManagerIn {
    #[schema(max_length = 254, pattern = "^[^@\\s]+@[^@\\s.]+(\\.[^@\\s.]+)+$")]
    pub email: String,
    /// 1 to 100 characters, not all blank.
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub name: String,
    /// `owner` (owners only), `admin` or `manager`.
    #[schema(pattern = "^(owner|admin|manager)$")]
    pub role: String,
    /// 8 to 200 characters; leave it out to send an invitation link instead.
    #[schema(min_length = 8, max_length = 200)]
    pub password: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AddedManagerOut {
    pub manager: ManagerOut,
    /// Without a password: the link (valid 7 days, once) with which the new
    /// manager sets theirs. It is e-mailed to them; it is not shown again.
    pub invitation_url: Option<String>,
    /// Whether the invitation was handed to the notification service to
    /// e-mail (false: give them the link yourself).
    pub invitation_emailed: bool,
}

/// Adds a manager to the account (owners and admins).
#[utoipa::path(post, path = "/api/v1/managers", tag = "managers", request_body = AddManagerIn, security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, body = AddedManagerOut),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`forbidden`: not an owner or admin (or an admin adding an owner); `csrf`", body = ErrorOut),
        (status = 409, description = "`conflict`: another manager of this shop has this e-mail (`fields.email`)", body = ErrorOut),
        (status = 415, description = "`unsupported_media_type`", body = ErrorOut),
        (status = 422, description = "`invalid`: bad e-mail, name, role or password (`fields`)", body = ErrorOut),
    ))]
async fn add_manager(
    State(state): State<AppState>,
    manager: Manager,
    headers: HeaderMap,
    Json(body): Json<AddManagerIn>,
) -> Result<(StatusCode, axum::Json<AddedManagerOut>)> {
    let addition = team::Addition {
        email: &body.email,
        name: &body.name,
        role: &body.role,
        password: body.password.as_deref(),
    };
    let (added, invitation) = team::add(&state, &manager, addition).await?;
    let invitation_url = invitation.map(|token| {
        format!(
            "{}/console/#/invite/{token}",
            console_origin(&state, &headers)
        )
    });
    let invitation_emailed = match &invitation_url {
        Some(link) => {
            let shop_name = db::account_name(&state.pool, added.account_id)
                .await?
                .unwrap_or_default();
            // The new manager has chosen nothing yet: the inviter's language.
            let language = db::get_manager(&state.pool, manager.account_id, manager.id)
                .await?
                .and_then(|inviter| inviter.language)
                .unwrap_or_default();
            let email = AccessEmail {
                kind: AccessEmailKind::Invitation,
                account_id: added.account_id,
                manager_id: added.id,
                to: &added.email,
                name: &added.name,
                shop_name: &shop_name,
                inviter_name: &manager.name,
                link,
                valid_minutes: (db::INVITATION_DAYS * 24 * 60) as u32,
                language: &language,
            };
            access_mail::send(&state, email).await
        }
        None => false,
    };
    Ok((
        StatusCode::CREATED,
        axum::Json(AddedManagerOut {
            manager: added.into(),
            invitation_url,
            invitation_emailed,
        }),
    ))
}

/// Where managers open the console: the configured origin, or the host asked.
pub(crate) fn console_origin(state: &AppState, headers: &HeaderMap) -> String {
    if !state.config.public_origin.is_empty() {
        return state.config.public_origin.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditManagerIn {
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub name: Option<String>,
    #[schema(max_length = 254, pattern = "^[^@\\s]+@[^@\\s.]+(\\.[^@\\s.]+)+$")]
    pub email: Option<String>,
    /// `owner` (owners only), `admin` or `manager`.
    #[schema(pattern = "^(owner|admin|manager)$")]
    pub role: Option<String>,
    /// `false` deactivates: every session of theirs ends at once.
    pub active: Option<bool>,
    /// A new password, 8 to 200 characters. Your own also needs
    /// `current_password` and ends your other sessions; one set for another
    /// manager ends all of theirs.
    #[schema(min_length = 8, max_length = 200)]
    pub password: Option<String>,
    /// Your password as it is now, to change your own.
    #[schema(max_length = 200)]
    pub current_password: Option<String>,
}

/// Changes a manager of the account (owners and admins; admins leave owners
/// alone; nobody deactivates or demotes themselves). Every manager changes
/// their own name and password here.
#[utoipa::path(patch, path = "/api/v1/managers/{id}", tag = "managers", request_body = EditManagerIn,
    params(("id" = String, Path, description = "The manager's id")), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = ManagerOut),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`forbidden`; `csrf`", body = ErrorOut),
        (status = 404, description = "`not_found`: not a manager of your account", body = ErrorOut),
        (status = 409, description = "`conflict`: another manager of this shop has this e-mail", body = ErrorOut),
        (status = 415, description = "`unsupported_media_type`", body = ErrorOut),
        (status = 422, description = "`invalid` (`fields`): a bad field, or `current_password` missing or wrong for your own new password", body = ErrorOut),
        (status = 429, description = "`rate_limited`: too many tries at your current password; see `Retry-After`", body = ErrorOut),
    ))]
async fn edit_manager(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
    Json(body): Json<EditManagerIn>,
) -> Result<axum::Json<ManagerOut>> {
    let manager_id = path_id(&id, "manager")?;
    let edit = team::Edit {
        name: body.name.as_deref(),
        email: body.email.as_deref(),
        role: body.role.as_deref(),
        active: body.active,
        password: body.password.as_deref(),
        current_password: body.current_password.as_deref(),
    };
    let edited = team::edit(&state, &manager, manager_id, edit).await?;
    Ok(axum::Json(edited.into()))
}

/// One of my live sessions.
#[derive(Serialize, ToSchema)]
#[schema(as = Session)]
pub struct SessionOut {
    pub id: Uuid,
    /// The browser's name (its User-Agent) at login.
    pub device: String,
    /// The address it logged in from.
    pub ip: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_seen_at: String,
    /// It ends then, active or not.
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// The session of this request.
    pub current: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SessionsOut {
    pub sessions: Vec<SessionOut>,
}

/// My live sessions, the most recently used first.
#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions", security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = SessionsOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
    ))]
async fn list_sessions(
    State(state): State<AppState>,
    manager: Manager,
) -> Result<axum::Json<SessionsOut>> {
    let rows = db::list_sessions(&state.pool, manager.account_id, manager.id).await?;
    let sessions = rows
        .into_iter()
        .map(|s| SessionOut {
            current: s.id == manager.session_id,
            id: s.id,
            device: s.device,
            ip: s.ip,
            created_at: crate::api::time(s.created_at),
            last_seen_at: crate::api::time(s.last_seen_at),
            expires_at: crate::api::time(s.expires_at),
        })
        .collect();
    Ok(axum::Json(SessionsOut { sessions }))
}

/// Ends one of my sessions (its sockets close at once).
#[utoipa::path(delete, path = "/api/v1/sessions/{id}", tag = "sessions",
    params(("id" = String, Path, description = "The session's id")), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "It has ended"),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`", body = ErrorOut),
        (status = 404, description = "`not_found`: not a live session of yours", body = ErrorOut),
    ))]
async fn end_session(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let session_id = path_id(&id, "session")?;
    if !db::revoke_own_session(&state.pool, manager.account_id, manager.id, session_id).await? {
        return Err(Error::NotFound("session"));
    }
    crate::sessions::announce_ended(&state, &[session_id]).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends all my sessions but this one.
#[utoipa::path(delete, path = "/api/v1/sessions", tag = "sessions", security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Every other session has ended"),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`", body = ErrorOut),
    ))]
async fn end_other_sessions(State(state): State<AppState>, manager: Manager) -> Result<StatusCode> {
    let ended = db::revoke_other_sessions(
        &state.pool,
        manager.account_id,
        manager.id,
        manager.session_id,
    )
    .await?;
    crate::sessions::announce_ended(&state, &ended).await;
    Ok(StatusCode::NO_CONTENT)
}
