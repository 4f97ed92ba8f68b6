//! Errors of the gateway and the one place they become HTTP responses:
//! `{"error": {"code", "message", "fields"?}}`, with 5xx logged and opaque.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chat_platform::db::{Failure, UniqueKey};
use serde_json::json;

/// Problems with named fields of a request: `(field, problem)`.
pub type Fields = Vec<(String, String)>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Invalid(String),
    /// Problems with named fields (422), shown under a form's inputs.
    #[error("{}", join(.0))]
    InvalidFields(Fields),
    /// The request collides with what is stored, e.g. an e-mail in use (409).
    #[error("{}", join(.0))]
    Conflict(Fields),
    #[error("authentication required")]
    Unauthorized,
    #[error("e-mail or password is wrong")]
    BadCredentials,
    /// The e-mail and password are right for managers of several shops:
    /// sign in again naming one (`account_id`); these are they.
    #[error("this e-mail manages several shops: choose one")]
    AccountChoice(Vec<(uuid::Uuid, String)>),
    /// Signed in, but the role does not allow it.
    #[error("{0}")]
    Forbidden(&'static str),
    /// A cookie-authenticated change without the session's CSRF token, or
    /// from another origin.
    #[error("{0}")]
    Csrf(&'static str),
    /// Too many attempts; try again after this many seconds.
    #[error("too many attempts; try again in {0} s")]
    RateLimited(u64),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("no such method for this path")]
    MethodNotAllowed,
    #[error("the request body is too large (64 KiB at most; 2 MiB for the widget settings)")]
    TooLarge,
    #[error("the request body must be JSON, with content-type: application/json")]
    UnsupportedMediaType,
    #[error("a service the gateway needs is unavailable")]
    Unavailable,
    #[error("database error")]
    Database(sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The one shape of every error answer, as the OpenAPI document shows it.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorOut {
    pub error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `bad_request`, `unauthorized`, `bad_credentials`,
    /// `account_choice`, `forbidden`, `csrf`, `not_found`,
    /// `method_not_allowed`, `conflict`, `too_large`,
    /// `unsupported_media_type`, `invalid`, `rate_limited`, `unavailable`,
    /// `internal`.
    pub code: String,
    /// For people.
    pub message: String,
    /// With `invalid` and `conflict`: the problem with each field, by name.
    pub fields: Option<std::collections::BTreeMap<String, String>>,
    /// With `account_choice`: the shops the e-mail and password open.
    pub accounts: Option<Vec<AccountChoiceOut>>,
}

/// A shop to sign in to.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AccountChoiceOut {
    pub id: uuid::Uuid,
    pub name: String,
}

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Invalid(_) | Self::InvalidFields(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict(_) | Self::AccountChoice(_) => StatusCode::CONFLICT,
            Self::Unauthorized | Self::BadCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::Csrf(_) => StatusCode::FORBIDDEN,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable machine-readable code, shared by REST bodies and socket error frames.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Invalid(_) | Self::InvalidFields(_) => "invalid",
            Self::Conflict(_) => "conflict",
            Self::Unauthorized => "unauthorized",
            Self::BadCredentials => "bad_credentials",
            Self::AccountChoice(_) => "account_choice",
            Self::Forbidden(_) => "forbidden",
            Self::Csrf(_) => "csrf",
            Self::RateLimited(_) => "rate_limited",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::TooLarge => "too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Unavailable => "unavailable",
            Self::Database(_) | Self::Internal(_) => "internal",
        }
    }

    /// What the client is told: 5xx details stay in the log.
    pub fn public_message(&self) -> String {
        match self {
            Self::Database(e) => {
                tracing::error!(error = %e, "database error");
                "internal error".into()
            }
            Self::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                "internal error".into()
            }
            other => other.to_string(),
        }
    }

    /// One problem with one field (422).
    pub fn field(field: &str, problem: impl Into<String>) -> Self {
        Self::InvalidFields(vec![(field.to_owned(), problem.into())])
    }

    /// A unique key the request broke becomes 409 with its field; any
    /// other error as `From<sqlx::Error>` has it.
    pub fn on_constraint(e: sqlx::Error, unique_keys: &[UniqueKey]) -> Self {
        Failure::of(e, unique_keys).into()
    }

    fn fields(&self) -> Option<serde_json::Value> {
        match self {
            Self::InvalidFields(fields) | Self::Conflict(fields) => Some(
                fields
                    .iter()
                    .map(|(field, problem)| (field.clone(), json!(problem)))
                    .collect::<serde_json::Map<_, _>>()
                    .into(),
            ),
            _ => None,
        }
    }
}

fn join(fields: &Fields) -> String {
    fields
        .iter()
        .map(|(field, problem)| format!("{field}: {problem}"))
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<Failure> for Error {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Unavailable => Self::Unavailable,
            Failure::Conflict(field, problem) => {
                Self::Conflict(vec![(field.to_owned(), problem.to_owned())])
            }
            Failure::Fault(e) => Self::Database(e),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Failure::of(e, &[]).into()
    }
}

impl From<tonic::Status> for Error {
    fn from(status: tonic::Status) -> Self {
        use tonic::Code;
        let fields = chat_platform::grpc::status_fields(&status);
        match status.code() {
            Code::InvalidArgument if !fields.is_empty() => Self::InvalidFields(fields),
            Code::InvalidArgument => Self::Invalid(status.message().to_owned()),
            // The request cannot be done as things are (a messenger's
            // platform refused it, say): the backend's words explain why.
            Code::FailedPrecondition => Self::Invalid(status.message().to_owned()),
            Code::AlreadyExists => Self::Conflict(fields),
            Code::NotFound => Self::NotFound(not_found_what(status.message())),
            // The backend shed the request under load, having done nothing
            // (counted there): try again, and nothing to log for each.
            Code::ResourceExhausted => Self::Unavailable,
            // Unknown and Cancelled: the call broke off (a backend died
            // mid-request), so nobody knows whether it was done; resending
            // with the same client id is safe, so say "try again".
            Code::Unavailable | Code::DeadlineExceeded | Code::Unknown | Code::Cancelled => {
                tracing::warn!(status = %status, "backend unavailable");
                Self::Unavailable
            }
            _ => Self::Internal(status.to_string()),
        }
    }
}

/// Backends say "<what> not found"; keep the noun for the client's message.
fn not_found_what(message: &str) -> &'static str {
    match message.split_whitespace().next() {
        Some("dialog") => "dialog",
        Some("contact") => "contact",
        Some("message") => "message",
        Some("template") => "template",
        Some("integration") => "integration",
        Some("file") => "file",
        Some("manager") => "manager",
        Some("session") => "session",
        Some("route") => "route",
        _ => "resource",
    }
}

impl From<axum::extract::rejection::JsonRejection> for Error {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection as R;
        match rejection {
            // "missing field `text` at line 1 column 2", without axum's preamble.
            R::JsonDataError(e) => Self::Invalid(without_preamble(&e.body_text())),
            R::MissingJsonContentType(_) => Self::UnsupportedMediaType,
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Self::TooLarge,
            R::JsonSyntaxError(e) => Self::BadRequest(format!(
                "the body is not valid JSON: {}",
                without_preamble(&e.body_text())
            )),
            other => Self::BadRequest(other.body_text()),
        }
    }
}

impl From<axum::extract::rejection::QueryRejection> for Error {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        Self::BadRequest(without_preamble(&rejection.body_text()))
    }
}

/// axum's rejection texts start with a generic sentence, then `: ` and the cause.
fn without_preamble(text: &str) -> String {
    text.split_once(": ")
        .map_or(text, |(_, cause)| cause)
        .to_owned()
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code(), "message": self.public_message() });
        if let Some(fields) = self.fields() {
            error["fields"] = fields;
        }
        if let Self::AccountChoice(accounts) = &self {
            let accounts: Vec<_> = accounts
                .iter()
                .map(|(id, name)| json!({"id": id, "name": name}))
                .collect();
            error["accounts"] = accounts.into();
        }
        let mut response = (self.status(), Json(json!({ "error": error }))).into_response();
        if let Self::RateLimited(secs) = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_statuses_map_to_http() {
        let e: Error = tonic::Status::invalid_argument("text is empty").into();
        assert_eq!(
            (e.status(), e.to_string().as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "text is empty")
        );
        let e: Error = tonic::Status::not_found("dialog not found").into();
        assert_eq!(
            (e.status(), e.to_string().as_str()),
            (StatusCode::NOT_FOUND, "dialog not found")
        );
        let e: Error = tonic::Status::unavailable("down").into();
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn a_backend_that_broke_off_mid_call_means_try_again() {
        // What tonic reports when the dialog service dies mid-request.
        for status in [
            tonic::Status::unknown("transport error"),
            tonic::Status::cancelled("h2 protocol error"),
            tonic::Status::deadline_exceeded("timeout expired"),
        ] {
            let e: Error = status.into();
            assert_eq!(
                (e.status(), e.code()),
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            );
        }
    }

    #[test]
    fn field_problems_and_conflicts_keep_their_fields() {
        let status = chat_platform::grpc::status_with_fields(
            tonic::Code::AlreadyExists,
            &[("name", "a template with this name exists".into())],
        );
        let e: Error = status.into();
        assert_eq!((e.status(), e.code()), (StatusCode::CONFLICT, "conflict"));
        assert_eq!(
            e.fields().unwrap()["name"],
            "a template with this name exists"
        );
        let e = Error::RateLimited(7).into_response();
        assert_eq!(e.headers()[header::RETRY_AFTER], "7");
    }

    #[test]
    fn rejection_texts_keep_only_their_cause() {
        assert_eq!(
            without_preamble(
                "Failed to deserialize the JSON body into the target type: missing field `text`"
            ),
            "missing field `text`"
        );
        assert_eq!(without_preamble("plain"), "plain");
    }

    #[test]
    fn internal_details_are_not_shown() {
        let e: Error = tonic::Status::internal("relation \"x\" does not exist").into();
        assert_eq!(e.public_message(), "internal error");
    }
}
