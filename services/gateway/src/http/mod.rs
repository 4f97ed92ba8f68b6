//! The REST API under `/api/v1`, one module per resource, each with its own
//! `router()`; and the extractors that turn bad input into the API's errors.

pub mod auth;
pub mod dialogs;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts};

use crate::error::Error;
use crate::state::AppState;

/// Largest REST request body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().merge(auth::router()).merge(dialogs::router())
}

/// `axum::Json` whose rejections are the API's errors (400 bad JSON, 422 wrong fields).
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(Error))]
pub struct Json<T>(pub T);

/// `axum::extract::Query` whose rejections are the API's errors.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Error))]
pub struct Query<T>(pub T);

/// A path id; one that is not a uuid names nothing, so it is "not found".
pub fn path_id(value: &str, what: &'static str) -> Result<uuid::Uuid, Error> {
    uuid::Uuid::parse_str(value).map_err(|_| Error::NotFound(what))
}
