//! Blocked visitors, and the dialog list's bulk actions that deal with junk:
//!
//! - `POST   /api/v1/contacts/{id}/block`: block the visitor of a contact
//! - `GET    /api/v1/blocks`: the account's blocks
//! - `DELETE /api/v1/blocks/{id}`: lift one
//! - `POST   /api/v1/dialogs/bulk`: close, or mark as spam (close and block),
//!   many dialogs at once

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use chat_proto::dialog::v1 as dialog_pb;

use super::dialogs::viewed_dialog;
use super::{Json, path_id};
use crate::api::DialogOut;
use crate::auth::Manager;
use crate::blocks::{self, BlockRow, Reason};
use crate::error::{Error, ErrorOut, Result};
use crate::state::AppState;
use crate::system_lines::Line;

/// The most dialogs one bulk action takes.
pub const MAX_BULK_DIALOGS: usize = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/contacts/{id}/block", post(block_contact))
        .route("/api/v1/blocks", get(list_blocks))
        .route("/api/v1/blocks/{id}", delete(lift_block))
        .route("/api/v1/dialogs/bulk", post(bulk_action))
}

/// A blocked visitor.
#[derive(Serialize, ToSchema)]
#[schema(as = Block)]
pub struct BlockOut {
    pub id: Uuid,
    /// The contact that was blocked, and their name then.
    pub contact_id: Uuid,
    pub contact_name: String,
    /// How many client addresses are blocked with them (those they were
    /// online from); the addresses themselves are not shown.
    pub addresses: usize,
    /// The manager who blocked them.
    pub blocked_by: Uuid,
    /// `spam` when blocked by marking a dialog as spam, else empty.
    pub reason: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<BlockRow> for BlockOut {
    fn from(row: BlockRow) -> Self {
        Self {
            id: row.id,
            contact_id: row.contact_id,
            contact_name: row.contact_name,
            addresses: row.addresses.len(),
            blocked_by: row.blocked_by,
            reason: row.reason,
            created_at: crate::api::time(row.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct BlocksOut {
    /// The newest first.
    pub blocks: Vec<BlockOut>,
}

/// Blocks the visitor of a contact: their widget closes at once on every
/// replica and stays closed (by their credential, and the addresses they
/// are online from now); nothing more of theirs is stored.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/block", tag = "blocks",
    params(("id" = String, Path, description = "The contact's id")), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, body = BlockOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`", body = ErrorOut),
        (status = 404, description = "`not_found`: not a contact of your account", body = ErrorOut),
        (status = 422, description = "`invalid`: the contact is no visitor of the site (a messenger's user, say)", body = ErrorOut),
    ))]
async fn block_contact(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
) -> Result<(StatusCode, axum::Json<BlockOut>)> {
    let contact_id = path_id(&id, "contact")?;
    let block = blocks::block(&state, &manager, contact_id, Reason::Blocked).await?;
    Ok((StatusCode::CREATED, axum::Json(block.into())))
}

/// The account's blocked visitors, the newest first.
#[utoipa::path(get, path = "/api/v1/blocks", tag = "blocks", security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = BlocksOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
    ))]
async fn list_blocks(
    State(state): State<AppState>,
    manager: Manager,
) -> Result<axum::Json<BlocksOut>> {
    let rows = blocks::db::list(&state.pool, manager.account_id).await?;
    let blocks = rows.into_iter().map(BlockOut::from).collect();
    Ok(axum::Json(BlocksOut { blocks }))
}

/// Lifts a block: the visitor's widget works again from their next visit.
#[utoipa::path(delete, path = "/api/v1/blocks/{id}", tag = "blocks",
    params(("id" = String, Path, description = "The block's id")), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Lifted"),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`", body = ErrorOut),
        (status = 404, description = "`not_found`: no such block in your account", body = ErrorOut),
    ))]
async fn lift_block(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let block_id = path_id(&id, "block")?;
    match blocks::db::delete(&state.pool, manager.account_id, block_id).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(Error::NotFound("block")),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkIn {
    /// 1 to 100 dialogs of your account.
    #[schema(min_items = 1, max_items = 100)]
    pub dialog_ids: Vec<String>,
    /// `close`, or `spam`: close, and block each dialog's visitor.
    #[schema(pattern = "^(close|spam)$")]
    pub action: String,
}

#[derive(Serialize, ToSchema)]
pub struct BulkOut {
    /// The dialogs as they are now.
    pub dialogs: Vec<DialogOut>,
}

/// Closes many dialogs at once, or marks them as spam: closed, and each
/// one's visitor blocked (dialogs of messengers' users are closed only).
/// Every id is checked first: one that is not a dialog of your account
/// changes nothing at all.
#[utoipa::path(post, path = "/api/v1/dialogs/bulk", tag = "dialogs", request_body = BulkIn,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = BulkOut),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`", body = ErrorOut),
        (status = 404, description = "`not_found`: an id is not a dialog of your account; nothing changed", body = ErrorOut),
        (status = 415, description = "`unsupported_media_type`", body = ErrorOut),
        (status = 422, description = "`invalid`: no ids, more than 100, or an unknown action", body = ErrorOut),
    ))]
async fn bulk_action(
    State(state): State<AppState>,
    manager: Manager,
    Json(body): Json<BulkIn>,
) -> Result<axum::Json<BulkOut>> {
    let spam = match body.action.as_str() {
        "close" => false,
        "spam" => true,
        _ => return Err(Error::field("action", "must be close or spam")),
    };
    if body.dialog_ids.is_empty() || body.dialog_ids.len() > MAX_BULK_DIALOGS {
        let problem = format!("must name 1 to {MAX_BULK_DIALOGS} dialogs");
        return Err(Error::field("dialog_ids", problem));
    }
    let mut found = Vec::with_capacity(body.dialog_ids.len());
    for id in &body.dialog_ids {
        let dialog = viewed_dialog(&state, &manager, path_id(id, "dialog")?).await?;
        if !found.iter().any(|d: &dialog_pb::Dialog| d.id == dialog.id) {
            found.push(dialog);
        }
    }
    let mut done = Vec::with_capacity(found.len());
    for dialog in found {
        if spam && let Ok(contact_id) = Uuid::parse_str(&dialog.contact_id) {
            match blocks::block(&state, &manager, contact_id, Reason::Spam).await {
                // A messenger's user is no site visitor: closed only.
                Ok(_) | Err(Error::Invalid(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let closed = match dialog.status() {
            dialog_pb::DialogStatus::Closed => dialog,
            _ => {
                let actor = &manager.name;
                let line = match spam {
                    true => Line::Spam { actor },
                    false => Line::Closed { actor },
                };
                let request = dialog_pb::ChangeStatusRequest {
                    account_id: manager.account_id.to_string(),
                    dialog_id: dialog.id.clone(),
                    actor_manager_id: manager.id.to_string(),
                    system_text: line.text(),
                    system: Some(line.event()),
                };
                state
                    .dialogs
                    .clone()
                    .close_dialog(request)
                    .await?
                    .into_inner()
            }
        };
        done.push(DialogOut::from(closed));
    }
    Ok(axum::Json(BulkOut { dialogs: done }))
}
