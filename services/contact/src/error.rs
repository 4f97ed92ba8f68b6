//! Errors of the contact service and the one place they become gRPC statuses.

use tonic::Status;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidArgument(String),
    /// Problems with named fields of the request.
    #[error("{}", .0.iter().map(|(f, p)| format!("{f} {p}")).collect::<Vec<_>>().join("; "))]
    Fields(Vec<(&'static str, String)>),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("database error")]
    Database(sqlx::Error),
    /// The database is not reachable now; the caller may try again.
    #[error("unavailable")]
    Unavailable,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        if chat_platform::db::is_unavailable(&e) {
            tracing::warn!(error = %e, "database not reachable");
            Error::Unavailable
        } else {
            Error::Database(e)
        }
    }
}

impl From<Error> for Status {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidArgument(m) => Status::invalid_argument(m),
            Error::Fields(problems) => {
                chat_platform::grpc::status_with_fields(tonic::Code::InvalidArgument, &problems)
            }
            Error::NotFound(what) => Status::not_found(format!("{what} not found")),
            Error::Unavailable => Status::unavailable("the database is not reachable; try again"),
            Error::Database(e) => {
                tracing::error!(error = %e, "database error");
                Status::internal("internal error")
            }
        }
    }
}

/// Parses an id field of a request; a bad one is the caller's mistake.
pub fn parse_id(field: &str, value: &str) -> Result<uuid::Uuid> {
    uuid::Uuid::parse_str(value)
        .map_err(|_| Error::InvalidArgument(format!("{field} is not a uuid")))
}
