//! Errors of the contact service: those every gRPC service of the suite has
//! (the platform's), and the one place they become gRPC statuses.

pub use chat_platform::service_error::{Error, Result, parse_id};
