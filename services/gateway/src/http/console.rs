//! The managers' console at `/console/`: static files (plain JavaScript
//! modules, one stylesheet) embedded in the binary in release builds and
//! read from `static/console/` in debug builds (`rust-embed`), so the
//! console can be edited without rebuilding. `/` leads to it.
//!
//! Each answer has an ETag (the file's SHA-256) and must be revalidated, so
//! a new release reaches every browser at its next load; the page sets a
//! content security policy that allows scripts, styles and connections to
//! this origin only.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use rust_embed::Embed;

use crate::error::Error;
use crate::state::AppState;

#[derive(Embed)]
#[folder = "static/console/"]
pub(super) struct ConsoleFiles;

/// Scripts, styles, sockets and images of this origin only; no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::temporary("/console/") }))
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route(
            "/console/",
            get(|headers: HeaderMap| async move { file("index.html", &headers) }),
        )
        .route(
            "/console/{*path}",
            get(
                |Path(path): Path<String>, headers: HeaderMap| async move { file(&path, &headers) },
            ),
        )
}

pub fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

fn file(path: &str, headers: &HeaderMap) -> Response {
    serve_embedded(ConsoleFiles::get(path), path, headers, "no-cache")
}

/// An embedded file with its content type, an ETag (its SHA-256) honoured in
/// `If-None-Match`, and `cache_control`; pages get the console's CSP.
pub fn serve_embedded(
    file: Option<rust_embed::EmbeddedFile>,
    path: &str,
    headers: &HeaderMap,
    cache_control: &'static str,
) -> Response {
    let Some(file) = file else {
        return Error::NotFound("file").into_response();
    };
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    serve_bytes(file.data, &etag, path, headers, cache_control)
}

/// A file's bytes as [`serve_embedded`] serves them, with the given ETag.
pub fn serve_bytes(
    data: std::borrow::Cow<'static, [u8]>,
    etag: &str,
    path: &str,
    headers: &HeaderMap,
    cache_control: &'static str,
) -> Response {
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, content_type(path))], data).into_response()
    };
    let out = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(etag) {
        out.insert(header::ETAG, etag);
    }
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if path.ends_with(".html") {
        out.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        out.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_page_is_there_and_unknown_files_are_not() {
        let page = file("index.html", &HeaderMap::new());
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.headers().contains_key(header::CONTENT_SECURITY_POLICY));
        let etag = page.headers()[header::ETAG].clone();
        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, etag);
        assert_eq!(
            file("index.html", &again).status(),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(
            file("../Cargo.toml", &HeaderMap::new()).status(),
            StatusCode::NOT_FOUND
        );
    }
}
