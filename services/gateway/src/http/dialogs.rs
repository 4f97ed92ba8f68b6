//! Dialogs and their messages: list and count, read, reply, assign, close,
//! reopen, mark read.
//!
//! - `GET  /api/v1/dialogs?category=&manager_id=&contact_id=&status=&limit=&cursor=`
//! - `GET  /api/v1/dialogs/counts?status=`
//! - `GET  /api/v1/dialogs/{id}`
//! - `GET  /api/v1/dialogs/{id}/messages?after_seq=|before_seq=&limit=`
//! - `POST /api/v1/dialogs/{id}/messages` `{client_message_id, text}`
//! - `POST /api/v1/dialogs/{id}/assign` `{manager_id}`, `.../close`, `.../reopen`
//! - `POST /api/v1/dialogs/{id}/read` `{seq}`

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use chat_proto::dialog::v1 as pb;

use super::{Json, Query, path_id};
use crate::api::{DialogOut, MessageOut};
use crate::auth::Manager;
use crate::db;
use crate::error::{Error, ErrorOut, Result};
use crate::replies;
use crate::state::AppState;
use crate::system_lines::Line;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/dialogs", get(list_dialogs))
        .route("/api/v1/dialogs/counts", get(count_dialogs))
        .route("/api/v1/dialogs/{id}", get(get_dialog))
        .route(
            "/api/v1/dialogs/{id}/messages",
            get(list_messages).post(post_message),
        )
        .route("/api/v1/dialogs/{id}/assign", post(assign_dialog))
        .route("/api/v1/dialogs/{id}/close", post(close_dialog))
        .route("/api/v1/dialogs/{id}/reopen", post(reopen_dialog))
        .route("/api/v1/dialogs/{id}/read", post(mark_read))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListDialogsIn {
    /// `all` (the default: every dialog), `mine`, `new` (no manager) or
    /// `manager`: one manager's (`manager_id`), or without it every dialog
    /// that has a manager.
    #[param(pattern = "^(all|mine|new|manager)$")]
    pub category: Option<String>,
    /// With `category=manager`: whose dialogs.
    #[param(format = Uuid)]
    pub manager_id: Option<String>,
    /// Only this contact's dialog.
    #[param(format = Uuid)]
    pub contact_id: Option<String>,
    /// `open`, `closed` or `all` (the default).
    #[param(pattern = "^(open|closed|all)$")]
    pub status: Option<String>,
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(
        pattern = "^-?[0-9]{1,16}_[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub cursor: Option<String>,
}

fn status_param(status: Option<&str>) -> Result<pb::DialogStatus> {
    match status {
        None | Some("all") => Ok(pb::DialogStatus::Unspecified),
        Some("open") => Ok(pb::DialogStatus::Open),
        Some("closed") => Ok(pb::DialogStatus::Closed),
        Some(_) => Err(Error::field("status", "must be open, closed or all")),
    }
}

/// An id from the query or a body; one that is no uuid is the caller's mistake.
fn query_id(value: Option<&str>, field: &str) -> Result<Option<Uuid>> {
    value
        .map(|v| {
            // Only the hyphenated form, as `format: uuid` says.
            match v.len() == 36 {
                true => Uuid::parse_str(v).map_err(|_| Error::field(field, "is not a uuid")),
                false => Err(Error::field(field, "is not a uuid")),
            }
        })
        .transpose()
}

#[derive(Serialize, ToSchema)]
pub struct DialogsOut {
    pub dialogs: Vec<DialogOut>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The account's dialogs of a category and status, the most recently active
/// first, each with your unread count.
#[utoipa::path(get, path = "/api/v1/dialogs", tag = "dialogs", params(ListDialogsIn), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = DialogsOut),
        (status = 400, description = "`bad_request`: a parameter of the wrong type", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 422, description = "`invalid`: a bad category, status, id, cursor or limit", body = ErrorOut),
    ))]
async fn list_dialogs(
    State(state): State<AppState>,
    manager: Manager,
    Query(query): Query<ListDialogsIn>,
) -> Result<axum::Json<DialogsOut>> {
    let status = status_param(query.status.as_deref())?;
    let manager_id = query_id(query.manager_id.as_deref(), "manager_id")?;
    let contact_id = query_id(query.contact_id.as_deref(), "contact_id")?;
    let category = match query.category.as_deref() {
        None | Some("all") => pb::DialogCategory::Unspecified,
        Some("mine") => pb::DialogCategory::Mine,
        Some("new") => pb::DialogCategory::New,
        Some("manager") => pb::DialogCategory::Manager,
        Some(_) => {
            return Err(Error::field(
                "category",
                "must be all, mine, new or manager",
            ));
        }
    };
    let request = pb::ListDialogsRequest {
        account_id: manager.account_id.to_string(),
        status: status as i32,
        limit: super::page_limit(query.limit)?,
        cursor: super::cursor_param(query.cursor)?,
        viewer_manager_id: manager.id.to_string(),
        category: category as i32,
        manager_id: manager_id.map(|id| id.to_string()).unwrap_or_default(),
        contact_id: contact_id.map(|id| id.to_string()).unwrap_or_default(),
    };
    let page = state
        .dialogs
        .clone()
        .list_dialogs(request)
        .await?
        .into_inner();
    Ok(axum::Json(DialogsOut {
        dialogs: page.dialogs.into_iter().map(DialogOut::viewed).collect(),
        next_cursor: (!page.next_cursor.is_empty()).then_some(page.next_cursor),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CountDialogsIn {
    /// `open`, `closed` or `all` (the default).
    #[param(pattern = "^(open|closed|all)$")]
    pub status: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ManagerCountOut {
    pub manager_id: Uuid,
    pub count: i64,
}

/// How many dialogs each category and each manager has.
#[derive(Serialize, ToSchema)]
pub struct CountsOut {
    pub all: i64,
    pub mine: i64,
    pub new: i64,
    /// Managers with at least one dialog.
    pub managers: Vec<ManagerCountOut>,
}

/// How many dialogs of a status each category and each manager has, for the
/// left panel.
#[utoipa::path(get, path = "/api/v1/dialogs/counts", tag = "dialogs", params(CountDialogsIn), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = CountsOut),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 422, description = "`invalid`: a bad status", body = ErrorOut),
    ))]
async fn count_dialogs(
    State(state): State<AppState>,
    manager: Manager,
    Query(query): Query<CountDialogsIn>,
) -> Result<axum::Json<CountsOut>> {
    let request = pb::CountDialogsRequest {
        account_id: manager.account_id.to_string(),
        status: status_param(query.status.as_deref())? as i32,
        viewer_manager_id: manager.id.to_string(),
    };
    let counts = state
        .dialogs
        .clone()
        .count_dialogs(request)
        .await?
        .into_inner();
    Ok(axum::Json(CountsOut {
        all: counts.all,
        mine: counts.mine,
        new: counts.new,
        managers: counts
            .managers
            .into_iter()
            .filter_map(|m| {
                Some(ManagerCountOut {
                    manager_id: Uuid::parse_str(&m.manager_id).ok()?,
                    count: m.count,
                })
            })
            .collect(),
    }))
}

/// One dialog of the account.
#[utoipa::path(get, path = "/api/v1/dialogs/{id}", tag = "dialogs", params(("id" = String, Path, description = "The dialog's id")), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = DialogOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 404, description = "`not_found`: not a dialog of your account", body = ErrorOut),
    ))]
async fn get_dialog(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
) -> Result<axum::Json<DialogOut>> {
    let dialog = viewed_dialog(&state, &manager, path_id(&id, "dialog")?).await?;
    Ok(axum::Json(DialogOut::viewed(dialog)))
}

/// A dialog of the manager's account as the manager sees it (their unread
/// count); not found for another account's.
pub async fn viewed_dialog(
    state: &AppState,
    manager: &Manager,
    dialog_id: Uuid,
) -> Result<pb::Dialog> {
    let request = pb::GetDialogRequest {
        account_id: manager.account_id.to_string(),
        dialog_id: dialog_id.to_string(),
        viewer_manager_id: manager.id.to_string(),
    };
    Ok(state
        .dialogs
        .clone()
        .get_dialog(request)
        .await?
        .into_inner())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListMessagesIn {
    /// Messages with `seq` greater than this, oldest first (catching up; default 0).
    #[param(minimum = 0)]
    pub after_seq: Option<i64>,
    /// The newest messages with `seq` less than this (scrolling back); with
    /// `after_seq` too, the ones between the two.
    #[param(minimum = 1)]
    pub before_seq: Option<i64>,
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct MessagesOut {
    pub messages: Vec<MessageOut>,
    pub has_more: bool,
}

/// Messages of a dialog, oldest first; `has_more` says another page exists in the direction asked.
#[utoipa::path(get, path = "/api/v1/dialogs/{id}/messages", tag = "dialogs",
    params(("id" = String, Path, description = "The dialog's id"), ListMessagesIn), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = MessagesOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 404, description = "`not_found`", body = ErrorOut),
        (status = 400, description = "`bad_request`: a parameter of the wrong type", body = ErrorOut),
        (status = 422, description = "`invalid`: bad sequence bounds or limit", body = ErrorOut),
    ))]
async fn list_messages(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
    Query(query): Query<ListMessagesIn>,
) -> Result<axum::Json<MessagesOut>> {
    let after_seq = query.after_seq.unwrap_or(0);
    let before_seq = query.before_seq.unwrap_or(0);
    if after_seq < 0 {
        return Err(Error::field("after_seq", "must be 0 or more"));
    }
    if query.before_seq.is_some() && before_seq < 1 {
        return Err(Error::field("before_seq", "must be 1 or more"));
    }
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
#[serde(deny_unknown_fields)]
pub struct PostMessageIn {
    /// 1 to 64 characters; the same id again stores nothing new.
    #[schema(min_length = 1, max_length = 64)]
    pub client_message_id: String,
    /// Up to 4096 characters, not all blank unless it carries files.
    #[serde(default)]
    #[schema(max_length = 4096)]
    pub text: String,
    /// Files uploaded for the dialog (`POST
    /// /api/v1/dialogs/{id}/attachments`), up to 10, by id.
    #[serde(default)]
    #[schema(max_items = 10)]
    pub attachments: Vec<String>,
    /// Where it goes out: `site`, `telegram`, `vk` or `facebook`, one of the
    /// dialog's `channels`. Left out: the dialog's `reply_channel` (where
    /// the contact last wrote from).
    #[schema(example = "telegram")]
    pub channel: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PostedOut {
    pub message: MessageOut,
    pub duplicate: bool,
}

/// A manager's reply; the visitor receives it live.
#[utoipa::path(post, path = "/api/v1/dialogs/{id}/messages", tag = "dialogs",
    params(("id" = String, Path, description = "The dialog's id")), request_body = PostMessageIn, security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Stored", body = PostedOut),
        (status = 200, description = "Stored before under this `client_message_id` (`duplicate: true`)", body = PostedOut),
        (status = 400, description = "`bad_request`: the body is not JSON", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`", body = ErrorOut),
        (status = 415, description = "`unsupported_media_type`", body = ErrorOut),
        (status = 404, description = "`not_found`: no such dialog, or a file named that was not uploaded for it", body = ErrorOut),
        (status = 422, description = "`invalid`: empty or too long text, a bad id, more than 10 files or one twice, a channel the contact has not written from", body = ErrorOut),
        (status = 503, description = "`unavailable`: nothing stored; send it again", body = ErrorOut),
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
        replies::To::Dialog(&dialog_id),
        &body.client_message_id,
        body.text,
        body.attachments,
        replies::chosen_channel(body.channel.as_deref())?,
    )
    .await?;
    let status = if duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, axum::Json(PostedOut { message, duplicate })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignIn {
    /// An active manager of the account; null hands the dialog back to "new".
    #[schema(format = Uuid, pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    pub manager_id: Option<String>,
}

/// Hands the dialog to a manager of the account (or to nobody); the history
/// records who assigned whom.
#[utoipa::path(post, path = "/api/v1/dialogs/{id}/assign", tag = "dialogs", request_body = AssignIn,
    params(("id" = String, Path, description = "The dialog's id")), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The dialog as it is now", body = DialogOut),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`", body = ErrorOut),
        (status = 404, description = "`not_found`: no such dialog, or no such active manager, in your account", body = ErrorOut),
        (status = 415, description = "`unsupported_media_type`", body = ErrorOut),
        (status = 422, description = "`invalid`: a manager_id that is no uuid", body = ErrorOut),
    ))]
async fn assign_dialog(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
    Json(body): Json<AssignIn>,
) -> Result<axum::Json<DialogOut>> {
    let dialog_id = path_id(&id, "dialog")?;
    let target = match query_id(body.manager_id.as_deref(), "manager_id")? {
        None => None,
        Some(target_id) => {
            let target = db::get_manager(&state.pool, manager.account_id, target_id)
                .await?
                .filter(|m| m.active)
                .ok_or(Error::NotFound("manager"))?;
            Some(target)
        }
    };
    let actor = &manager.name;
    let line = match &target {
        Some(target) if target.id == manager.id => Line::Took { actor },
        Some(target) => Line::Assigned {
            actor,
            manager: &target.name,
        },
        None => Line::Returned { actor },
    };
    let request = pb::AssignDialogRequest {
        account_id: manager.account_id.to_string(),
        dialog_id: dialog_id.to_string(),
        manager_id: target
            .as_ref()
            .map(|t| t.id.to_string())
            .unwrap_or_default(),
        actor_manager_id: manager.id.to_string(),
        system_text: line.text(),
        system: Some(line.event()),
    };
    let dialog = state
        .dialogs
        .clone()
        .assign_dialog(request)
        .await?
        .into_inner();
    Ok(axum::Json(dialog.into()))
}

/// Closes the dialog: the history stays, the dialog moves to "closed". When
/// the contact writes again it reopens.
#[utoipa::path(post, path = "/api/v1/dialogs/{id}/close", tag = "dialogs",
    params(("id" = String, Path, description = "The dialog's id")), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The dialog as it is now", body = DialogOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`", body = ErrorOut),
        (status = 404, description = "`not_found`", body = ErrorOut),
    ))]
async fn close_dialog(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
) -> Result<axum::Json<DialogOut>> {
    change_status(&state, &manager, &id, Status::Closed).await
}

/// Reopens a closed dialog.
#[utoipa::path(post, path = "/api/v1/dialogs/{id}/reopen", tag = "dialogs",
    params(("id" = String, Path, description = "The dialog's id")), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The dialog as it is now", body = DialogOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`", body = ErrorOut),
        (status = 404, description = "`not_found`", body = ErrorOut),
    ))]
async fn reopen_dialog(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
) -> Result<axum::Json<DialogOut>> {
    change_status(&state, &manager, &id, Status::Open).await
}

/// The status a manager sets.
enum Status {
    Open,
    Closed,
}

/// Closes or reopens, recording who did it in the history.
async fn change_status(
    state: &AppState,
    manager: &Manager,
    id: &str,
    status: Status,
) -> Result<axum::Json<DialogOut>> {
    let actor = &manager.name;
    let line = match status {
        Status::Open => Line::Reopened { actor },
        Status::Closed => Line::Closed { actor },
    };
    let request = pb::ChangeStatusRequest {
        account_id: manager.account_id.to_string(),
        dialog_id: path_id(id, "dialog")?.to_string(),
        actor_manager_id: manager.id.to_string(),
        system_text: line.text(),
        system: Some(line.event()),
    };
    let mut dialogs = state.dialogs.clone();
    let dialog = match status {
        Status::Open => dialogs.reopen_dialog(request).await?,
        Status::Closed => dialogs.close_dialog(request).await?,
    };
    Ok(axum::Json(dialog.into_inner().into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadIn {
    /// Read up to this message (0 or more; past the last message counts as the last).
    #[schema(minimum = 0)]
    #[serde(deserialize_with = "super::integral")]
    pub seq: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ReadOut {
    /// Your read position now (it never moves back).
    pub read_seq: i64,
    pub unread_count: i64,
}

/// Moves your read position in the dialog; your unread counts drop on every
/// device you are signed in on (`dialog_read` on the manager socket).
#[utoipa::path(post, path = "/api/v1/dialogs/{id}/read", tag = "dialogs", request_body = ReadIn,
    params(("id" = String, Path, description = "The dialog's id")), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = ReadOut),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`", body = ErrorOut),
        (status = 404, description = "`not_found`", body = ErrorOut),
        (status = 415, description = "`unsupported_media_type`", body = ErrorOut),
        (status = 422, description = "`invalid`: a negative seq", body = ErrorOut),
    ))]
async fn mark_read(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
    Json(body): Json<ReadIn>,
) -> Result<axum::Json<ReadOut>> {
    let request = pb::MarkReadRequest {
        account_id: manager.account_id.to_string(),
        dialog_id: path_id(&id, "dialog")?.to_string(),
        manager_id: manager.id.to_string(),
        seq: body.seq,
    };
    let read = state.dialogs.clone().mark_read(request).await?.into_inner();
    Ok(axum::Json(ReadOut {
        read_seq: read.read_seq,
        unread_count: read.unread_count,
    }))
}
