//! The dev page (`/dev`, only with `GATEWAY_DEV_PAGE=true`): chat as a visitor
//! and as a manager side by side, over the public sockets, until the widget
//! and the console replace it.

use axum::Router;
use axum::response::Html;
use axum::routing::get;

use crate::state::AppState;

const PAGE: &str = include_str!("../static/dev.html");

pub fn router() -> Router<AppState> {
    Router::new().route("/dev", get(|| async { Html(PAGE) }))
}
