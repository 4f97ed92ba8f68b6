//! The one-click unsubscribe of managers' alert e-mails (RFC 8058). Each
//! alert carries `List-Unsubscribe: <…/api/v1/unsubscribe/{token}>` and
//! `List-Unsubscribe-Post: List-Unsubscribe=One-Click`: a mail program's
//! "Unsubscribe" posts there, without a session, and the manager's alert
//! e-mails are off. Opening the link instead (`GET`) only leads to the
//! console's page asking first, so a link scanner that fetches it changes
//! nothing. The token is the manager's own, random, kept by the
//! notification service.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::routing::get;
use serde::Serialize;
use utoipa::ToSchema;

use chat_proto::notification::v1 as pb;

use super::path_id;
use crate::error::{ErrorOut, Result};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/v1/unsubscribe/{token}",
        get(ask_first).post(unsubscribe),
    )
}

#[derive(Serialize, ToSchema)]
pub struct UnsubscribedOut {
    /// Whose alert e-mails are off now.
    pub email_address: String,
}

/// The console's page that asks before unsubscribing.
#[utoipa::path(get, path = "/api/v1/unsubscribe/{token}", tag = "notifications",
    params(("token" = String, Path, description = "From the alert's `List-Unsubscribe`")),
    responses(
        (status = 303, description = "To the console's unsubscribe page"),
    ))]
async fn ask_first(Path(token): Path<String>) -> Redirect {
    // Only a token's own characters go into the address.
    let token: String = token
        .chars()
        .filter(|c| c.is_ascii_hexdigit() || *c == '-')
        .take(36)
        .collect();
    // Relative, so that it holds behind a proxy that serves the suite
    // under a path of its own.
    Redirect::to(&format!("../../../console/#/unsubscribe/{token}"))
}

/// Turns off the alert e-mails of the manager the token names. The body a
/// mail program posts (`List-Unsubscribe=One-Click`) is not needed.
#[utoipa::path(post, path = "/api/v1/unsubscribe/{token}", tag = "notifications",
    params(("token" = String, Path, description = "From the alert's `List-Unsubscribe`")),
    responses(
        (status = 200, body = UnsubscribedOut),
        (status = 404, description = "`not_found`: no such link", body = ErrorOut),
        (status = 503, description = "`unavailable`", body = ErrorOut),
    ))]
async fn unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<axum::Json<UnsubscribedOut>> {
    let token = path_id(&token, "unsubscribe link")?;
    let request = pb::UnsubscribeRequest {
        token: token.to_string(),
    };
    let done = state.notifications.clone().unsubscribe(request).await?;
    Ok(axum::Json(UnsubscribedOut {
        email_address: done.into_inner().email_address,
    }))
}
