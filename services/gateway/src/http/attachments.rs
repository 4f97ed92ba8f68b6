//! Files in messages, for managers: uploaded for a dialog
//! (`POST /api/v1/dialogs/{id}/attachments`), then sent by naming their ids
//! in a message, and fetched by anyone of the account
//! (`GET /api/v1/attachments/{id}`, an image's small copy at
//! `…/thumbnail`). The dialog service keeps them: it finds an image by its
//! bytes and writes it again, and takes other files only of the kinds
//! people send a shop. What is served is guarded as [`super::files`] guards
//! messenger files: an image shown, anything else only saved, nothing run.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chat_platform::files::MAX_ATTACHMENT_BYTES;
use serde::Deserialize;
use utoipa::IntoParams;

use chat_proto::dialog::v1 as pb;

use super::Query;
use super::files::serve_sent_file;
use crate::api::AttachmentOut;
use crate::auth::Manager;
use crate::error::{Error, ErrorOut, Result};
use crate::state::AppState;

/// The largest upload's body: the largest file.
pub const MAX_UPLOAD_BODY_BYTES: usize = MAX_ATTACHMENT_BYTES;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadIn {
    /// The file's name, as the person's computer calls it.
    #[param(min_length = 1, max_length = 255)]
    pub name: String,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/dialogs/{id}/attachments",
            post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BODY_BYTES)),
        )
        .route("/api/v1/attachments/{id}", get(original))
        .route("/api/v1/attachments/{id}/thumbnail", get(thumbnail))
}

/// Uploads a file for a dialog, to send in a message (`attachments` of
/// `POST /api/v1/dialogs/{id}/messages` or of the socket's `send`). The
/// body is the file's bytes, whatever its `Content-Type`. Images (JPEG,
/// PNG, GIF, WebP) are found by their bytes, checked whole and written
/// again (turned upright, without what the camera put in them), a WebP as
/// a JPEG or PNG; other files are taken when their name's extension is one
/// of: pdf, txt, csv, rtf, doc(x), xls(x), ppt(x), odt, ods, odp, zip, rar,
/// 7z, mp3, ogg, oga, opus, m4a, wav, mp4, mov, webm, heic, heif. Up to
/// 20 MiB; 120 uploads a minute per manager.
#[utoipa::path(post, path = "/api/v1/dialogs/{id}/attachments", tag = "dialogs",
    params(("id" = String, Path, description = "The dialog's id"), UploadIn),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Kept: send it by its id", body = AttachmentOut),
        (status = 400, description = "`bad_request`: a query that cannot be read", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`", body = ErrorOut),
        (status = 404, description = "`not_found`: not a dialog of your account", body = ErrorOut),
        (status = 413, description = "`too_large`: over 20 MiB", body = ErrorOut),
        (status = 422, description = "`invalid`: an empty or too long name, an empty file, not a kind taken, an image that does not decode or is over 16384 pixels on a side", body = ErrorOut),
        (status = 429, description = "`rate_limited`: too many uploads; `Retry-After` says when to try again", body = ErrorOut),
        (status = 503, description = "`unavailable`: nothing kept; try again", body = ErrorOut),
    ))]
async fn upload(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
    Query(query): Query<UploadIn>,
    Upload(body): Upload,
) -> Result<(StatusCode, axum::Json<AttachmentOut>)> {
    let dialog_id = super::path_id(&id, "dialog")?;
    state.upload_limits.manager(manager.id)?;
    let request = pb::PutFileRequest {
        account_id: manager.account_id.to_string(),
        dialog_id: dialog_id.to_string(),
        contact_id: String::new(),
        uploader_kind: pb::AuthorKind::Manager as i32,
        uploader_id: manager.id.to_string(),
        client_file_id: String::new(),
        // Checked by the dialog service, with the file.
        name: query.name,
        data: body.into(),
    };
    let file = state.dialogs.clone().put_file(request).await?.into_inner();
    Ok((StatusCode::CREATED, axum::Json(file.into())))
}

/// A file of a message, as sent (images shown, other files to save).
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "dialogs",
    params(("id" = String, Path, description = "The file's id, as its message gives it")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The file: `image/jpeg`, `image/png` or `image/gif` inline, anything else `application/octet-stream` as an attachment, named in `Content-Disposition`", content_type = "application/octet-stream"),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 404, description = "`not_found`: no such file in your account", body = ErrorOut),
        (status = 503, description = "`unavailable`", body = ErrorOut),
    ))]
async fn original(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
) -> Result<Response> {
    fetch(&state, manager.account_id, None, &id, false).await
}

/// An image's small copy (fits 480 x 480 pixels), for the message list.
#[utoipa::path(get, path = "/api/v1/attachments/{id}/thumbnail", tag = "dialogs",
    params(("id" = String, Path, description = "The image's id, as its message gives it")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "`image/jpeg` or `image/png`", content_type = "image/jpeg"),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 404, description = "`not_found`: no such image in your account", body = ErrorOut),
        (status = 503, description = "`unavailable`", body = ErrorOut),
    ))]
async fn thumbnail(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
) -> Result<Response> {
    fetch(&state, manager.account_id, None, &id, true).await
}

/// An upload's body: the file's bytes, up to [`MAX_UPLOAD_BODY_BYTES`];
/// past that `413 too_large`, as the API's errors are.
pub struct Upload(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Upload {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self> {
        Bytes::from_request(request, state)
            .await
            .map(Upload)
            .map_err(|rejection| match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => Error::TooLarge,
                _ => Error::BadRequest(rejection.body_text()),
            })
    }
}

/// A file (or its thumbnail) of the account, for a manager (`contact_id`
/// `None`) or the visitor whose dialog it is in; anything else not found.
pub async fn fetch(
    state: &AppState,
    account_id: uuid::Uuid,
    contact_id: Option<uuid::Uuid>,
    file_id: &str,
    thumbnail: bool,
) -> Result<Response> {
    let file_id = uuid::Uuid::parse_str(file_id).map_err(|_| Error::NotFound("file"))?;
    let request = pb::GetFileRequest {
        account_id: account_id.to_string(),
        file_id: file_id.to_string(),
        contact_id: contact_id.map(|id| id.to_string()).unwrap_or_default(),
        thumbnail,
    };
    let found = state.dialogs.clone().get_file(request).await?.into_inner();
    let name = found.file.map(|file| file.name).unwrap_or_default();
    Ok(serve_sent_file(
        found.data.into(),
        &found.content_type,
        &name,
    ))
}
