//! What `make dev` serves for trying the suite by hand (only with
//! `GATEWAY_DEV_PAGE=true`): the dev page (`/dev`), where one can chat as a
//! visitor until the widget lands, and `/dev/console`, which signs the demo
//! manager in and opens the console, so `make dev` leads straight into it.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::admin::{DEMO_EMAIL, DEMO_PASSWORD};
use crate::auth::{self, Device};
use crate::error::Result;
use crate::state::AppState;

const PAGE: &str = include_str!("../static/dev.html");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dev", get(|| async { Html(PAGE) }))
        .route("/dev/console", get(open_console_as_demo))
}

/// Signs the demo manager in (a cookie session, as the console's own login
/// makes) and opens the console. The demo's password is public anyway.
async fn open_console_as_demo(State(state): State<AppState>) -> Result<Response> {
    let device = Device {
        user_agent: "make dev".into(),
        ip: "127.0.0.1".into(),
    };
    let (token, _) = auth::login(&state, DEMO_EMAIL, DEMO_PASSWORD, &device).await?;
    let cookie = auth::session_cookie_header(&state, &token);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/console/")).into_response())
}
