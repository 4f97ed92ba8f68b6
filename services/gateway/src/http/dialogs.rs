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

#[derive(Deserialize)]
pub struct ListDialogsIn {
    pub status: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Serialize)]
pub struct DialogsOut {
    pub dialogs: Vec<DialogOut>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

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

async fn get_dialog(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
) -> Result<axum::Json<DialogOut>> {
    let request = pb::GetDialogRequest {
        account_id: manager.account_id.to_string(),
        dialog_id: path_id(&id, "dialog")?.to_string(),
    };
    let dialog = state
        .dialogs
        .clone()
        .get_dialog(request)
        .await?
        .into_inner();
    Ok(axum::Json(dialog.into()))
}

#[derive(Deserialize)]
pub struct ListMessagesIn {
    pub after_seq: Option<i64>,
    pub before_seq: Option<i64>,
    pub limit: Option<u32>,
}

#[derive(Serialize)]
pub struct MessagesOut {
    pub messages: Vec<MessageOut>,
    pub has_more: bool,
}

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

#[derive(Deserialize)]
pub struct PostMessageIn {
    pub client_message_id: String,
    pub text: String,
}

#[derive(Serialize)]
pub struct PostedOut {
    pub message: MessageOut,
    pub duplicate: bool,
}

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
