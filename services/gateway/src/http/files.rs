//! Files people sent through a messenger or attached to an answer by
//! e-mail, for the console: `GET /api/v1/files/{channel}/{file_id}`, the
//! links in their messages. The bridge fetches a messenger's from the
//! platform with the shop's own integration (whose token never leaves it),
//! so a shop opens only files sent to its own bot; the notification service
//! keeps an e-mail's, each under its account. Images are served to be shown; anything else only to be saved,
//! sandboxed, so nothing a person sends runs in the console's origin. A
//! file is saved under the name the person gave it, which the link carries.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chat_platform::files::{MAX_NAME_CHARS, UNRESERVED};
use futures::StreamExt as _;
use percent_encoding::utf8_percent_encode;
use serde::Deserialize;
use utoipa::IntoParams;

use chat_proto::bridge::v1 as pb;
use chat_proto::notification::v1 as notification;

use super::Query;
use crate::auth::Manager;
use crate::error::{Error, ErrorOut, Result};
use crate::state::AppState;

/// Longest file id taken (Telegram's are under 100 characters).
const MAX_FILE_ID_CHARS: usize = 256;
/// The types shown in the browser; any other is served only to be saved.
const SHOWN_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileIn {
    /// The name to save the file under, as the message's link gives it (the
    /// name the person gave it); absent: the platform's own name for it.
    #[param(min_length = 1, max_length = 255)]
    pub name: Option<String>,
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/files/{channel}/{file_id}", get(file))
}

/// A file a person sent the shop through a messenger (Telegram: photos,
/// documents, voice and video, up to the 20 MB bots may download), as
/// linked from their message. Images (`image/jpeg`, `png`, `gif`, `webp`)
/// come to be shown; anything else as `application/octet-stream`, to save.
#[utoipa::path(get, path = "/api/v1/files/{channel}/{file_id}", tag = "integrations",
    params(
        ("channel" = String, Path, description = "`telegram`, or `email` (files attached to answers by e-mail)"),
        ("file_id" = String, Path, description = "The platform's file id, as the message's link gives it"),
        FileIn,
    ),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The file's bytes: `image/jpeg`, `image/png`, `image/gif` or `image/webp` inline, anything else `application/octet-stream` as an attachment, named in `Content-Disposition`", content_type = "application/octet-stream"),
        (status = 400, description = "`bad_request`: a query that cannot be read", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 404, description = "`not_found`: no such file sent to this shop's bot, or no such channel", body = ErrorOut),
        (status = 422, description = "`invalid`: bigger than the platform lets bots download, the bot's token was revoked, or an empty or too long name", body = ErrorOut),
        (status = 503, description = "`unavailable`: the bridge or the platform cannot be reached", body = ErrorOut),
    ))]
async fn file(
    State(state): State<AppState>,
    manager: Manager,
    Path((channel, file_id)): Path<(String, String)>,
    Query(query): Query<FileIn>,
) -> Result<Response> {
    let asked_name = match query.name {
        Some(name) if name.trim().is_empty() => return Err(Error::field("name", "is empty")),
        Some(name) if name.chars().count() > MAX_NAME_CHARS => {
            return Err(Error::field("name", "is longer than 255 characters"));
        }
        name => name,
    };
    let well_formed = file_id.len() <= MAX_FILE_ID_CHARS
        && file_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !matches!(channel.as_str(), "telegram" | "email") || file_id.is_empty() || !well_formed {
        return Err(Error::NotFound("file"));
    }
    let (first, rest) = chunks(&state, &manager, &channel, file_id).await?;
    let name = asked_name.unwrap_or_else(|| first.file_name.clone());
    let content_type = first.content_type.clone();
    let body = Body::from_stream(futures::stream::once(async move { Ok(first.data) }).chain(rest));
    Ok(serve_sent_file(body, &content_type, &name))
}

/// A file people sent, as served: an image of [`SHOWN_TYPES`] inline,
/// anything else as `application/octet-stream` to save under `name`;
/// guarded as [`only_what_it_is`] says, and asked anew each time (a
/// signed-out browser shows nothing from its cache).
pub fn serve_sent_file(body: Body, content_type: &str, name: &str) -> Response {
    let shown = SHOWN_TYPES.iter().find(|t| **t == content_type);
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(shown.unwrap_or(&"application/octet-stream")),
    );
    let kind = if shown.is_some() {
        "inline"
    } else {
        "attachment"
    };
    if let Ok(disposition) = HeaderValue::from_str(&disposition(kind, name)) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    only_what_it_is(headers);
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

/// The first chunk of a file (what it is), and the rest of its bytes: a
/// messenger's from the bridge, an e-mail's from the notification service.
struct Chunk {
    content_type: String,
    file_name: String,
    data: Vec<u8>,
}

type Rest = futures::stream::BoxStream<'static, std::result::Result<Vec<u8>, tonic::Status>>;

async fn chunks(
    state: &AppState,
    manager: &Manager,
    channel: &str,
    file_id: String,
) -> Result<(Chunk, Rest)> {
    let account_id = manager.account_id.to_string();
    if channel == "email" {
        let request = notification::FetchFileRequest {
            account_id,
            file_id,
        };
        let mut chunks = state
            .notifications
            .clone()
            .fetch_file(request)
            .await?
            .into_inner();
        let first = chunks.message().await?.ok_or(Error::NotFound("file"))?;
        let first = Chunk {
            content_type: first.content_type,
            file_name: first.file_name,
            data: first.data,
        };
        return Ok((first, chunks.map(|chunk| chunk.map(|c| c.data)).boxed()));
    }
    let request = pb::FetchFileRequest {
        account_id,
        channel: channel.to_owned(),
        file_id,
    };
    let mut chunks = state.bridge.clone().fetch_file(request).await?.into_inner();
    let first = chunks.message().await?.ok_or(Error::NotFound("file"))?;
    let first = Chunk {
        content_type: first.content_type,
        file_name: first.file_name,
        data: first.data,
    };
    Ok((first, chunks.map(|chunk| chunk.map(|c| c.data)).boxed()))
}

/// `Content-Disposition` of `kind` (`inline` or `attachment`) naming the
/// file as RFC 6266 says: `filename` an ASCII stand-in for old clients,
/// `filename*` the name itself in UTF-8. Nothing in a name can make it a
/// path or end the header: separators and control characters become `_`.
fn disposition(kind: &str, name: &str) -> String {
    let name: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let name = name.trim_start_matches('.');
    let kept: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    let ascii = if kept.trim_matches('.').is_empty() {
        "file".to_owned()
    } else if kept.starts_with('.') {
        // Only the extension was ASCII.
        format!("file{kept}")
    } else {
        kept
    };
    if name.is_empty() || name == ascii {
        return format!("{kind}; filename=\"{ascii}\"");
    }
    format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{}",
        utf8_percent_encode(name, UNRESERVED)
    )
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

#[cfg(test)]
mod tests {
    use super::disposition;

    #[test]
    fn a_name_is_given_as_it_is_and_as_an_ascii_stand_in() {
        assert_eq!(
            disposition("attachment", "order.pdf"),
            "attachment; filename=\"order.pdf\""
        );
        assert_eq!(
            disposition("attachment", "прайс & цены.pdf"),
            "attachment; filename=\"file.pdf\"; \
             filename*=UTF-8''%D0%BF%D1%80%D0%B0%D0%B9%D1%81%20%26%20%D1%86%D0%B5%D0%BD%D1%8B.pdf"
        );
        assert_eq!(
            disposition("inline", "my photo.jpg"),
            "inline; filename=\"myphoto.jpg\"; filename*=UTF-8''my%20photo.jpg"
        );
    }

    #[test]
    fn nothing_in_a_name_makes_a_path_or_ends_the_header() {
        assert_eq!(
            disposition("attachment", "../../etc/passwd"),
            "attachment; filename=\"_.._etc_passwd\""
        );
        let header = disposition("attachment", "a\"\r\nSet-Cookie: x=1");
        assert!(!header.contains(['\r', '\n']), "{header}");
        assert_eq!(header.matches('"').count(), 2, "{header}");
        assert_eq!(
            disposition("attachment", "..."),
            "attachment; filename=\"file\""
        );
        assert_eq!(
            disposition("attachment", ""),
            "attachment; filename=\"file\""
        );
    }
}
