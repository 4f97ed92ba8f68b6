//! Answers by e-mail from an address that is not the contact's: the
//! notification service holds them (a note tells the managers), and a
//! manager may post one into the dialog as the contact's message
//! (`GET /api/v1/dialogs/{id}/held-answers`,
//! `POST /api/v1/held-answers/{id}/accept`).

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use chat_proto::notification::v1 as pb;

use super::dialogs::viewed_dialog;
use super::path_id;
use crate::api::rfc3339;
use crate::auth::Manager;
use crate::error::{ErrorOut, Result};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/dialogs/{id}/held-answers", get(list_held_answers))
        .route("/api/v1/held-answers/{id}/accept", post(accept_held_answer))
}

#[derive(Serialize, ToSchema)]
pub struct HeldAnswerOut {
    pub id: Uuid,
    pub dialog_id: Uuid,
    /// Who wrote: an address that is not the contact's.
    pub from_address: String,
    /// What they wrote, without the quoted history and signature.
    pub text: String,
    /// RFC 3339.
    pub received_at: String,
    /// Who posted it into the dialog, once someone did.
    pub accepted_by: Option<Uuid>,
    pub accepted_at: Option<String>,
    /// The dialog's message it became.
    pub message_id: Option<Uuid>,
}

impl From<pb::HeldAnswer> for HeldAnswerOut {
    fn from(answer: pb::HeldAnswer) -> Self {
        let id = |value: &str| Uuid::try_parse(value).ok();
        Self {
            id: id(&answer.id).unwrap_or_default(),
            dialog_id: id(&answer.dialog_id).unwrap_or_default(),
            from_address: answer.from_address,
            text: answer.text,
            received_at: rfc3339(answer.received_at.as_ref()).unwrap_or_default(),
            accepted_by: id(&answer.accepted_by),
            accepted_at: rfc3339(answer.accepted_at.as_ref()),
            message_id: id(&answer.message_id),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct HeldAnswersOut {
    /// Oldest first, accepted ones included.
    pub answers: Vec<HeldAnswerOut>,
}

/// The dialog's answers by e-mail from an address that is not its contact's.
#[utoipa::path(get, path = "/api/v1/dialogs/{id}/held-answers", tag = "notes",
    params(("id" = String, Path, description = "The dialog's id")), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = HeldAnswersOut),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 404, description = "`not_found`: no such dialog in the account", body = ErrorOut),
        (status = 503, description = "`unavailable`", body = ErrorOut),
    ))]
async fn list_held_answers(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
) -> Result<axum::Json<HeldAnswersOut>> {
    let dialog_id = path_id(&id, "dialog")?;
    viewed_dialog(&state, &manager, dialog_id).await?;
    let request = pb::ListHeldAnswersRequest {
        account_id: manager.account_id.to_string(),
        dialog_id: dialog_id.to_string(),
    };
    let answers = state
        .notifications
        .clone()
        .list_held_answers(request)
        .await?
        .into_inner();
    Ok(axum::Json(HeldAnswersOut {
        answers: answers
            .answers
            .into_iter()
            .map(HeldAnswerOut::from)
            .collect(),
    }))
}

/// Posts a held answer into its dialog as the contact's message (by
/// e-mail). Accepting it again gives the same message.
#[utoipa::path(post, path = "/api/v1/held-answers/{id}/accept", tag = "notes",
    params(("id" = String, Path, description = "The held answer's id")), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = HeldAnswerOut),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`", body = ErrorOut),
        (status = 404, description = "`not_found`: no such held answer in the account", body = ErrorOut),
        (status = 503, description = "`unavailable`", body = ErrorOut),
    ))]
async fn accept_held_answer(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
) -> Result<axum::Json<HeldAnswerOut>> {
    let request = pb::AcceptHeldAnswerRequest {
        account_id: manager.account_id.to_string(),
        id: path_id(&id, "held answer")?.to_string(),
        manager_id: manager.id.to_string(),
    };
    let answer = state
        .notifications
        .clone()
        .accept_held_answer(request)
        .await?
        .into_inner();
    Ok(axum::Json(answer.into()))
}
