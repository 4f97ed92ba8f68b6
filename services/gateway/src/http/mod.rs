//! The REST API under `/api/v1`, one module per resource, each with its own
//! `router()`; its OpenAPI document; and the extractors that turn bad input
//! into the API's errors.

pub mod account_smtp;
pub mod attachments;
pub mod auth;
pub mod blocks;
pub mod console;
#[cfg(test)]
mod console_words;
pub mod contacts;
pub mod dialogs;
pub mod files;
pub mod held_answers;
pub mod integrations;
pub mod notes;
pub mod notifications;
pub mod onboarding;
pub mod openapi;
pub mod password_reset;
pub mod team;
pub mod templates;
pub mod unsubscribe;
pub mod widget;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts};

use crate::error::Error;
use crate::state::AppState;

/// Largest REST request body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Most items a list returns in one page; `limit` may ask for 1 to this.
pub const MAX_PAGE: u32 = 200;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(password_reset::router())
        .merge(blocks::router())
        .merge(dialogs::router())
        .merge(notes::router())
        .merge(held_answers::router())
        .merge(templates::router())
        .merge(notifications::router())
        .merge(account_smtp::router())
        .merge(unsubscribe::router())
        .merge(integrations::router())
        .merge(files::router())
        .merge(attachments::router())
        .merge(contacts::router())
        .merge(team::router())
        .merge(onboarding::router())
        .merge(openapi::router())
        .merge(console::router())
        .merge(widget::router())
        .merge(crate::widget::public::router())
        .merge(crate::widget::attachments::router())
        .fallback(|| async { Error::NotFound("route") })
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
}

/// A page size from the query: absent means the default (0 to the backends).
pub fn page_limit(limit: Option<u32>) -> Result<u32, Error> {
    match limit {
        None => Ok(0),
        Some(n @ 1..=MAX_PAGE) => Ok(n),
        Some(_) => Err(Error::field("limit", format!("must be 1 to {MAX_PAGE}"))),
    }
}

/// A JSON object body; its rejections are the API's errors (400 bad JSON,
/// 415 without the JSON content type, 422 wrong fields, or a body that is
/// no object: serde alone would take `[…]` for a struct).
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = Error;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Error> {
        let axum::Json(value) =
            axum::Json::<serde_json::Value>::from_request(request, state).await?;
        if !value.is_object() {
            return Err(Error::Invalid("the body must be a JSON object".into()));
        }
        serde_json::from_value(value)
            .map(Json)
            .map_err(|e| shape_error(&e.to_string()))
    }
}

/// A body of the wrong shape: a missing or unknown field is named in
/// `fields`, as a form shows it; anything else is said in the message.
fn shape_error(message: &str) -> Error {
    let named = |prefix: &str| {
        let rest = message.strip_prefix(prefix)?;
        let (field, _) = rest.split_once('`')?;
        Some(field.to_owned())
    };
    if let Some(field) = named("missing field `") {
        return Error::InvalidFields(vec![(field, "is missing".into())]);
    }
    if let Some(field) = named("unknown field `") {
        return Error::InvalidFields(vec![(field, "is not a field of this request".into())]);
    }
    Error::Invalid(message.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_unknown_fields_are_named() {
        let fields = |e: Error| match e {
            Error::InvalidFields(fields) => fields,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            fields(shape_error("missing field `color`")),
            [("color".to_owned(), "is missing".to_owned())]
        );
        let unknown = shape_error("unknown field `colour`, expected one of `color`, `enabled`");
        assert_eq!(fields(unknown)[0].0, "colour");
        assert!(matches!(
            shape_error("invalid type: integer"),
            Error::Invalid(_)
        ));
    }
}

/// `axum::extract::Query` whose rejections are the API's errors.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Error))]
pub struct Query<T>(pub T);

/// A path id; one that is not a uuid names nothing, so it is "not found".
pub fn path_id(value: &str, what: &'static str) -> Result<uuid::Uuid, Error> {
    uuid::Uuid::parse_str(value).map_err(|_| Error::NotFound(what))
}

/// Answers 503 `unavailable` when a request takes longer than `timeout` (a
/// socket's upgrade answers at once; the socket itself lives on).
pub async fn with_timeout(
    timeout: std::time::Duration,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(?timeout, "request timed out");
            Error::Unavailable.into_response()
        }
    }
}

/// A `cursor` from the query: absent starts at the top; present, it must be
/// one a page handed out (an empty one is no cursor).
pub fn cursor_param(cursor: Option<String>) -> Result<String, Error> {
    match cursor {
        Some(c) if c.is_empty() => Err(Error::field("cursor", "is empty")),
        c => Ok(c.unwrap_or_default()),
    }
}

/// An integer from a JSON body that may be written `12.0`: JSON Schema
/// counts a number with no fraction as an integer, so the API does too.
pub fn integral<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    use serde::Deserialize as _;
    let number = serde_json::Number::deserialize(deserializer)?;
    if let Some(n) = number.as_i64() {
        return Ok(n);
    }
    match number.as_f64() {
        Some(f) if f.fract() == 0.0 && f >= i64::MIN as f64 && f <= i64::MAX as f64 => Ok(f as i64),
        _ => Err(serde::de::Error::custom(format!(
            "{number} is not a 64-bit integer"
        ))),
    }
}
