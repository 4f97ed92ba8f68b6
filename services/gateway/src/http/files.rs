//! Files people sent through a messenger, for the console: `GET
//! /api/v1/files/{channel}/{file_id}`, the links in their messages. The
//! bridge fetches each from the platform with the shop's own integration
//! (whose token never leaves it), so a shop opens only files sent to its
//! own bot. Images are served to be shown; anything else only to be saved,
//! sandboxed, so nothing a person sends runs in the console's origin.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::StreamExt as _;

use chat_proto::bridge::v1 as pb;

use super::openapi::ErrorOut;
use crate::auth::Manager;
use crate::error::{Error, Result};
use crate::state::AppState;

/// Longest file id taken (Telegram's are under 100 characters).
const MAX_FILE_ID_CHARS: usize = 256;
/// The types shown in the browser; any other is served only to be saved.
const SHOWN_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/files/{channel}/{file_id}", get(file))
}

/// A file a person sent the shop through a messenger (Telegram: photos,
/// documents, voice and video, up to the 20 MB bots may download), as
/// linked from their message. Images (`image/jpeg`, `png`, `gif`, `webp`)
/// come to be shown; anything else as `application/octet-stream`, to save.
#[utoipa::path(get, path = "/api/v1/files/{channel}/{file_id}", tag = "integrations",
    params(
        ("channel" = String, Path, description = "`telegram`"),
        ("file_id" = String, Path, description = "The platform's file id, as the message's link gives it"),
    ),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The file's bytes: `image/jpeg`, `image/png`, `image/gif` or `image/webp` inline, anything else `application/octet-stream` as an attachment", content_type = "application/octet-stream"),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 404, description = "`not_found`: no such file sent to this shop's bot, or no such channel", body = ErrorOut),
        (status = 422, description = "`invalid`: bigger than the platform lets bots download, or the bot's token was revoked", body = ErrorOut),
        (status = 503, description = "`unavailable`: the bridge or the platform cannot be reached", body = ErrorOut),
    ))]
async fn file(
    State(state): State<AppState>,
    manager: Manager,
    Path((channel, file_id)): Path<(String, String)>,
) -> Result<Response> {
    let well_formed = file_id.len() <= MAX_FILE_ID_CHARS
        && file_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if channel != "telegram" || file_id.is_empty() || !well_formed {
        return Err(Error::NotFound("file"));
    }
    let request = pb::FetchFileRequest {
        account_id: manager.account_id.to_string(),
        channel,
        file_id,
    };
    let mut chunks = state.bridge.clone().fetch_file(request).await?.into_inner();
    // The first chunk says what the file is.
    let first = chunks.message().await?.ok_or(Error::NotFound("file"))?;
    let shown = SHOWN_TYPES.iter().find(|t| **t == first.content_type);
    let content_type = HeaderValue::from_static(shown.unwrap_or(&"application/octet-stream"));
    let name: String = first
        .file_name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    let disposition = format!(
        "{}; filename=\"{}\"",
        if shown.is_some() {
            "inline"
        } else {
            "attachment"
        },
        if name.is_empty() { "file" } else { &name }
    );
    let rest = chunks.map(|chunk| chunk.map(|c| c.data));
    let body = Body::from_stream(futures::stream::once(async move { Ok(first.data) }).chain(rest));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    if let Ok(disposition) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    only_what_it_is(headers);
    // Asked anew each time: a signed-out browser shows nothing from its cache.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}

/// Bytes people sent, served as they are: never sniffed into another type,
/// and opened on their own a sandbox where nothing runs (an image is only an
/// image).
pub fn only_what_it_is(headers: &mut HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; img-src 'self'; sandbox"),
    );
}
