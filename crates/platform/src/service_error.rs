//! Errors of a gRPC service (dialog, contact) and the one place they become
//! statuses: what the caller got wrong (with the fields a form shows it
//! under), what is not there, what collides with what is stored, and a
//! database that is away ("unavailable, try again") or failing ("internal").

use tonic::Status;

use crate::db::{Failure, UniqueKey};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidArgument(String),
    /// Problems with named fields of the request.
    #[error("{}", .0.iter().map(|(f, p)| format!("{f} {p}")).collect::<Vec<_>>().join("; "))]
    Fields(Vec<(&'static str, String)>),
    /// The request collides with what is stored (a unique key), on a field.
    #[error("{0} {1}")]
    Conflict(&'static str, &'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("database error")]
    Database(sqlx::Error),
    /// The service is stopping, or its database is not reachable now; the
    /// caller may try again.
    #[error("unavailable")]
    Unavailable,
    /// The service has more work waiting than it can do in time, and
    /// refused this request without doing any of it; the caller may try
    /// again a moment later.
    #[error("busy")]
    Busy,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// One problem with one field.
    pub fn field(field: &'static str, problem: impl Into<String>) -> Self {
        Self::Fields(vec![(field, problem.into())])
    }

    /// A unique key that the request broke becomes a conflict on its
    /// field; any other error as `From<sqlx::Error>` has it.
    pub fn on_constraint(e: sqlx::Error, unique_keys: &[UniqueKey]) -> Self {
        Failure::of(e, unique_keys).into()
    }
}

impl From<Failure> for Error {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Unavailable => Error::Unavailable,
            Failure::Conflict(field, problem) => Error::Conflict(field, problem),
            Failure::Fault(e) => Error::Database(e),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Failure::of(e, &[]).into()
    }
}

impl From<Error> for Status {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidArgument(m) => Status::invalid_argument(m),
            Error::Fields(problems) => {
                crate::grpc::status_with_fields(tonic::Code::InvalidArgument, &problems)
            }
            Error::Conflict(field, problem) => crate::grpc::status_with_fields(
                tonic::Code::AlreadyExists,
                &[(field, problem.to_owned())],
            ),
            Error::NotFound(what) => Status::not_found(format!("{what} not found")),
            Error::Unavailable => {
                Status::unavailable("the service cannot reach its database now; try again")
            }
            Error::Busy => Status::resource_exhausted(
                "the service is busy: nothing was done; try again in a moment",
            ),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_becomes_its_status() {
        let status = Status::from(parse_id("dialog_id", "nope").unwrap_err());
        assert_eq!(
            (status.code(), status.message()),
            (tonic::Code::InvalidArgument, "dialog_id is not a uuid")
        );
        let status = Status::from(Error::NotFound("dialog"));
        assert_eq!(status.code(), tonic::Code::NotFound);
        let status = Status::from(Error::Conflict("name", "is taken"));
        assert_eq!(status.code(), tonic::Code::AlreadyExists);
        assert_eq!(
            crate::grpc::status_fields(&status),
            [("name".to_owned(), "is taken".to_owned())]
        );
        assert_eq!(
            Status::from(Error::from(sqlx::Error::PoolTimedOut)).code(),
            tonic::Code::Unavailable
        );
        assert_eq!(
            Status::from(Error::from(sqlx::Error::RowNotFound)).code(),
            tonic::Code::Internal
        );
    }
}
