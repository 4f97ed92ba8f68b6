//! What the shop's pages load without signing in: `GET /widget.js`, the
//! widget's configuration for a page, and the offline photos. The
//! configuration answers only pages of the account's allowed sites (by
//! their `Origin`), with CORS headers for that origin.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use uuid::Uuid;

use super::db;
use super::script::SCRIPT;
use crate::error::{Error, Result};
use crate::http::Query;
use crate::http::console::serve_bytes;
use crate::state::AppState;

/// The snippet's URL never changes, so browsers check for a new widget
/// every few minutes (and get 304 while it is the same).
const WIDGET_CACHE: &str = "public, max-age=300";
/// A photo's URL changes with the photo, so it may be kept for a year.
const PHOTO_CACHE: &str = "public, max-age=31536000, immutable";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/widget.js", get(get_widget_script))
        .route("/widget/v1/config", get(get_config))
        .route("/widget/v1/photos/{account_id}/{name}", get(get_photo))
}

async fn get_widget_script(headers: HeaderMap) -> Response {
    serve_bytes(
        SCRIPT.body.as_slice().into(),
        &SCRIPT.etag,
        "widget.js",
        &headers,
        WIDGET_CACHE,
    )
}

#[derive(Deserialize)]
pub struct ConfigQuery {
    site_key: String,
    #[serde(default)]
    url: String,
}

/// The configuration for a page. Refusals carry the CORS header too, so the
/// widget on a refused page reads the 403 (and stops) rather than seeing a
/// network error (and retrying).
async fn get_config(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<ConfigQuery>,
) -> Response {
    let origin = request_origin(&headers);
    let mut response = match config_for_page(&state, origin, &query).await {
        Ok(body) => axum::Json(body).into_response(),
        Err(e) => e.into_response(),
    };
    let out = response.headers_mut();
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    out.insert(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(value) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
    response
}

async fn config_for_page(
    state: &AppState,
    origin: Option<&str>,
    query: &ConfigQuery,
) -> Result<serde_json::Value> {
    let settings = db::by_site_key(&state.pool, &query.site_key)
        .await?
        .ok_or(Error::NotFound("site key"))?;
    if !settings.allows_origin(origin) {
        return Err(Error::Forbidden("this site may not embed the widget"));
    }
    let online = state.presence.managers_online(settings.account_id);
    Ok(super::config(&settings, &query.url, online))
}

/// The page's `Origin` header, if it sent one.
pub fn request_origin(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
}

async fn get_photo(
    State(state): State<AppState>,
    Path((account_id, name)): Path<(String, String)>,
) -> Result<Response> {
    let account_id = Uuid::parse_str(&account_id).map_err(|_| Error::NotFound("photo"))?;
    let (content_type, bytes) = db::photo(&state.pool, account_id, &name)
        .await?
        .ok_or(Error::NotFound("photo"))?;
    let mut response = (StatusCode::OK, bytes).into_response();
    let out = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        out.insert(header::CONTENT_TYPE, value);
    }
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(PHOTO_CACHE));
    crate::http::files::only_what_it_is(out);
    out.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The widget's budget (docs/widget.md, BENCHMARKS.md): 30 KB gzipped,
    /// styles, sounds and every language's words included. This fails the build when it grows past.
    #[test]
    fn the_widget_stays_within_its_size_budget() {
        use std::io::Write as _;
        let source = &SCRIPT.body;
        assert!(source.len() > 1000, "the widget is missing");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(source).unwrap();
        let size = gz.finish().unwrap().len();
        assert!(
            size <= 30 * 1024,
            "widget.js is {size} bytes gzipped, over 30 KB"
        );
    }
}
