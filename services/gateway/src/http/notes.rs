//! Notes on a dialog, for the account's managers only:
//! `GET` and `POST /api/v1/dialogs/{id}/notes`. They reach managers'
//! sockets as `note` frames and nothing else: no visitor socket, messenger,
//! e-mail or visitor API ever carries them.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use chat_proto::dialog::v1 as pb;

use super::{Json, Query, path_id};
use crate::api::NoteOut;
use crate::auth::Manager;
use crate::error::{Error, ErrorOut, Result};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/dialogs/{id}/notes", get(list_notes).post(add_note))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListNotesIn {
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(
        pattern = "^-?[0-9]{1,16}_[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct NotesOut {
    /// Oldest first.
    pub notes: Vec<NoteOut>,
    pub next_cursor: Option<String>,
}

/// The dialog's notes, oldest first.
#[utoipa::path(get, path = "/api/v1/dialogs/{id}/notes", tag = "notes",
    params(("id" = String, Path, description = "The dialog's id"), ListNotesIn), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = NotesOut),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 404, description = "`not_found`", body = ErrorOut),
        (status = 422, description = "`invalid`: a bad limit or cursor", body = ErrorOut),
    ))]
async fn list_notes(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
    Query(query): Query<ListNotesIn>,
) -> Result<axum::Json<NotesOut>> {
    let request = pb::ListNotesRequest {
        account_id: manager.account_id.to_string(),
        dialog_id: path_id(&id, "dialog")?.to_string(),
        limit: super::page_limit(query.limit)?,
        cursor: super::cursor_param(query.cursor)?,
    };
    let page = state
        .dialogs
        .clone()
        .list_notes(request)
        .await?
        .into_inner();
    Ok(axum::Json(NotesOut {
        notes: page.notes.into_iter().map(NoteOut::from).collect(),
        next_cursor: (!page.next_cursor.is_empty()).then_some(page.next_cursor),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddNoteIn {
    /// 1 to 4096 characters, not all blank.
    #[schema(min_length = 1, max_length = 4096, pattern = "\\S")]
    pub text: String,
    /// 1 to 64 characters: the same id again from you stores nothing new.
    #[schema(min_length = 1, max_length = 64)]
    pub client_note_id: Option<String>,
}

/// Adds a note for the account's managers; with a `client_note_id` seen
/// before from you, answers the note stored then (200).
#[utoipa::path(post, path = "/api/v1/dialogs/{id}/notes", tag = "notes", request_body = AddNoteIn,
    params(("id" = String, Path, description = "The dialog's id")), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Stored", body = NoteOut),
        (status = 200, description = "Stored before under this `client_note_id`", body = NoteOut),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`", body = ErrorOut),
        (status = 404, description = "`not_found`", body = ErrorOut),
        (status = 415, description = "`unsupported_media_type`", body = ErrorOut),
        (status = 422, description = "`invalid`: empty or too long (`fields.text`)", body = ErrorOut),
    ))]
async fn add_note(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
    Json(body): Json<AddNoteIn>,
) -> Result<(StatusCode, axum::Json<NoteOut>)> {
    let request = pb::AddNoteRequest {
        account_id: manager.account_id.to_string(),
        dialog_id: path_id(&id, "dialog")?.to_string(),
        author_id: manager.id.to_string(),
        text: body.text,
        client_note_id: match body.client_note_id {
            Some(id) if id.is_empty() => return Err(Error::field("client_note_id", "is empty")),
            id => id.unwrap_or_default(),
        },
    };
    let added = state.dialogs.clone().add_note(request).await?.into_inner();
    let note = added
        .note
        .ok_or_else(|| Error::Internal("a note answer without its note".into()))?;
    let status = match added.duplicate {
        true => StatusCode::OK,
        false => StatusCode::CREATED,
    };
    Ok((status, axum::Json(note.into())))
}
