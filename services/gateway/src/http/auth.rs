//! Managers' sign-in: `POST /api/v1/auth/login`, `POST /api/v1/auth/logout`,
//! `GET /api/v1/me`.

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Router, extract::State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::Json;
use crate::auth::{self, Manager};
use crate::db;
use crate::error::Result;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/me", get(me))
}

#[derive(Deserialize, ToSchema)]
pub struct LoginIn {
    pub email: String,
    pub password: String,
}

/// A manager of a shop.
#[derive(Serialize, ToSchema)]
#[schema(as = Manager)]
pub struct ManagerOut {
    pub id: Uuid,
    pub account_id: Uuid,
    pub email: String,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginOut {
    /// The bearer token: `Authorization: Bearer <token>`.
    pub token: String,
    pub manager: ManagerOut,
}

/// Signs a manager in; the token is for REST and the manager socket.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginIn,
    responses(
        (status = 200, body = LoginOut),
        (status = 401, description = "`bad_credentials`: wrong e-mail or password", body = super::openapi::ErrorOut),
        (status = 422, description = "`invalid`: a field is missing", body = super::openapi::ErrorOut),
    ))]
async fn login(
    State(state): State<AppState>,
    Json(body): Json<LoginIn>,
) -> Result<axum::Json<LoginOut>> {
    let (token, m) = auth::login(&state, &body.email, &body.password).await?;
    let manager = ManagerOut {
        id: m.id,
        account_id: m.account_id,
        email: m.email,
        name: m.name,
    };
    Ok(axum::Json(LoginOut { token, manager }))
}

/// Ends the session, and closes its sockets on every replica.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 204, description = "The session has ended"),
        (status = 401, description = "`unauthorized`", body = super::openapi::ErrorOut),
    ))]
async fn logout(State(state): State<AppState>, manager: Manager) -> Result<StatusCode> {
    db::revoke_session(&state.pool, manager.account_id, manager.session_id).await?;
    state.hub.end_session(manager.session_id);
    let notice = state.bus.client.publish(
        crate::hub::session_ended_subject(&state.bus),
        manager.session_id.as_bytes().to_vec().into(),
    );
    if let Err(e) = notice.await {
        // Other replicas find the revoked session at their next check.
        tracing::warn!(error = %e, "could not tell other replicas of a logout");
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in manager.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, body = ManagerOut),
        (status = 401, description = "`unauthorized`", body = super::openapi::ErrorOut),
    ))]
async fn me(manager: Manager) -> axum::Json<ManagerOut> {
    axum::Json(ManagerOut {
        id: manager.id,
        account_id: manager.account_id,
        email: manager.email,
        name: manager.name,
    })
}
