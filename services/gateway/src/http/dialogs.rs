//! Dialogs and their messages: list, read, and reply.
//!
//! - `GET  /api/v1/dialogs?status=open|closed&limit=&cursor=`
//! - `GET  /api/v1/dialogs/{id}`
//! - `GET  /api/v1/dialogs/{id}/messages?after_seq=|before_seq=&limit=`
//! - `POST /api/v1/dialogs/{id}/messages` `{client_message_id, text}`

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use chat_proto::dialog::v1 as pb;

use super::{Json, Query, path_id};
use crate::api::{DialogOut, MessageOut};
use crate::auth::Manager;
use crate::error::{Error, Result};
use crate::replies;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/dialogs", get(list_dialogs))
        .route("/api/v1/dialogs/{id}", get(get_dialog))
        .route(
            "/api/v1/dialogs/{id}/messages",
            get(list_messages).post(post_message),
        )
}

#[derive(Deserialize, IntoParams)]
pub struct ListDialogsIn {
    /// `open`, `closed` or `all` (the default).
    pub status: Option<String>,
    /// 1 to 200, default 50.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DialogsOut {
    pub dialogs: Vec<DialogOut>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The account's dialogs, the most recently active first.
#[utoipa::path(get, path = "/api/v1/dialogs", tag = "dialogs", params(ListDialogsIn), security(("bearer" = [])),
    responses(
        (status = 200, body = DialogsOut),
        (status = 401, description = "`unauthorized`", body = super::openapi::ErrorOut),
        (status = 422, description = "`invalid`: a bad status or limit", body = super::openapi::ErrorOut),
    ))]
async fn list_dialogs(
    State(state): State<AppState>,
    manager: Manager,
    Query(query): Query<ListDialogsIn>,
) -> Result<axum::Json<DialogsOut>> {
    let status = match query.status.as_deref() {
        None | Some("") | Some("all") => pb::DialogStatus::Unspecified,
        Some("open") => pb::DialogStatus::Open,
        Some("closed") => pb::DialogStatus::Closed,
        Some(other) => {
            return Err(Error::Invalid(format!(
                "status must be open, closed or all, not {other:?}"
            )));
        }
    };
    let request = pb::ListDialogsRequest {
        account_id: manager.account_id.to_string(),
        status: status as i32,
        limit: super::page_limit(query.limit)?,
        cursor: query.cursor.unwrap_or_default(),
        ..Default::default()
    };
    let page = state
        .dialogs
        .clone()
        .list_dialogs(request)
        .await?
        .into_inner();
    Ok(axum::Json(DialogsOut {
        dialogs: page.dialogs.into_iter().map(DialogOut::from).collect(),
        next_cursor: (!page.next_cursor.is_empty()).then_some(page.next_cursor),
    }))
}

/// One dialog of the account.
#[utoipa::path(get, path = "/api/v1/dialogs/{id}", tag = "dialogs", params(("id" = String, Path, description = "The dialog's id")), security(("bearer" = [])),
    responses(
        (status = 200, body = DialogOut),
        (status = 401, description = "`unauthorized`", body = super::openapi::ErrorOut),
        (status = 404, description = "`not_found`: not a dialog of your account", body = super::openapi::ErrorOut),
    ))]
async fn get_dialog(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
) -> Result<axum::Json<DialogOut>> {
    let request = pb::GetDialogRequest {
        account_id: manager.account_id.to_string(),
        dialog_id: path_id(&id, "dialog")?.to_string(),
        viewer_manager_id: manager.id.to_string(),
    };
    let dialog = state
        .dialogs
        .clone()
        .get_dialog(request)
        .await?
        .into_inner();
    Ok(axum::Json(dialog.into()))
}

#[derive(Deserialize, IntoParams)]
pub struct ListMessagesIn {
    /// Messages with `seq` greater than this, oldest first (catching up; default 0).
    pub after_seq: Option<i64>,
    /// Or: the newest messages with `seq` less than this (scrolling back); not with `after_seq`.
    pub before_seq: Option<i64>,
    /// 1 to 200, default 50.
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct MessagesOut {
    pub messages: Vec<MessageOut>,
    pub has_more: bool,
}

/// Messages of a dialog, oldest first; `has_more` says another page exists in the direction asked.
#[utoipa::path(get, path = "/api/v1/dialogs/{id}/messages", tag = "dialogs",
    params(("id" = String, Path, description = "The dialog's id"), ListMessagesIn), security(("bearer" = [])),
    responses(
        (status = 200, body = MessagesOut),
        (status = 401, description = "`unauthorized`", body = super::openapi::ErrorOut),
        (status = 404, description = "`not_found`", body = super::openapi::ErrorOut),
        (status = 422, description = "`invalid`: bad sequence bounds or limit", body = super::openapi::ErrorOut),
    ))]
async fn list_messages(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
    Query(query): Query<ListMessagesIn>,
) -> Result<axum::Json<MessagesOut>> {
    let (after_seq, before_seq) = match (query.after_seq, query.before_seq) {
        (Some(_), Some(_)) => {
            return Err(Error::Invalid(
                "give after_seq or before_seq, not both".into(),
            ));
        }
        (Some(after), None) if after >= 0 => (after, 0),
        (None, Some(before)) if before >= 1 => (0, before),
        (None, None) => (0, 0),
        (Some(_), None) => return Err(Error::Invalid("after_seq must be 0 or more".into())),
        (None, Some(_)) => return Err(Error::Invalid("before_seq must be 1 or more".into())),
    };
    let request = pb::ListMessagesRequest {
        account_id: manager.account_id.to_string(),
        dialog_id: path_id(&id, "dialog")?.to_string(),
        after_seq,
        before_seq,
        limit: super::page_limit(query.limit)?,
    };
    let page = state
        .dialogs
        .clone()
        .list_messages(request)
        .await?
        .into_inner();
    Ok(axum::Json(MessagesOut {
        messages: page.messages.into_iter().map(MessageOut::from).collect(),
        has_more: page.has_more,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct PostMessageIn {
    /// 1 to 64 bytes; the same id again stores nothing new.
    pub client_message_id: String,
    /// 1 to 4096 characters, not all blank.
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct PostedOut {
    pub message: MessageOut,
    pub duplicate: bool,
}

/// A manager's reply; the visitor receives it live.
#[utoipa::path(post, path = "/api/v1/dialogs/{id}/messages", tag = "dialogs",
    params(("id" = String, Path, description = "The dialog's id")), request_body = PostMessageIn, security(("bearer" = [])),
    responses(
        (status = 201, description = "Stored", body = PostedOut),
        (status = 200, description = "Stored before under this `client_message_id` (`duplicate: true`)", body = PostedOut),
        (status = 401, description = "`unauthorized`", body = super::openapi::ErrorOut),
        (status = 404, description = "`not_found`", body = super::openapi::ErrorOut),
        (status = 422, description = "`invalid`: empty or too long text, a bad id", body = super::openapi::ErrorOut),
        (status = 503, description = "`unavailable`: nothing stored; send it again", body = super::openapi::ErrorOut),
    ))]
async fn post_message(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
    Json(body): Json<PostMessageIn>,
) -> Result<(StatusCode, axum::Json<PostedOut>)> {
    let dialog_id = path_id(&id, "dialog")?.to_string();
    let (message, duplicate) = replies::post_as_manager(
        &state,
        &manager,
        &dialog_id,
        &body.client_message_id,
        body.text,
    )
    .await?;
    let status = if duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, axum::Json(PostedOut { message, duplicate })))
}
