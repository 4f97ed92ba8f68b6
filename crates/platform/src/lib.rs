//! Mechanisms every service of the suite shares: configuration, telemetry,
//! the PostgreSQL pool on the service's own schema, the event bus on NATS
//! JetStream with its transactional outbox, graceful shutdown, and the
//! operational endpoints. No service's rules live here.
//!
//! # Layout
//! - [`config`]: settings from defaults, an optional TOML file and the environment.
//! - [`cursor`]: keyset cursors of paged lists.
//! - [`telemetry`]: logs, OpenTelemetry traces, trace context across gRPC and NATS.
//! - [`db`]: one pool per service, pinned to its schema, with migrations.
//! - [`bus`]: the JetStream stream, prefixed names, publishing and durable consumers.
//! - [`events`]: the suite's events read in consumers (a broken one is permanent).
//! - [`outbox`]: events written in the caller's transaction and the relay that publishes them.
//! - [`service_error`]: the errors of a gRPC service and their statuses.
//! - [`shutdown`]: one cancellation signal for SIGTERM and Ctrl-C, the tasks
//!   a service waits for, its grace to stop, and what every `main` does.
//! - [`ops`]: `/healthz`, `/readyz` and `/metrics`.
//! - [`worker`]: the skeleton of a service that only consumes events.
//! - [`names`]: what to call a visitor who has not said their name.
//! - [`files`]: limits of files people send, and the console's links to those
//!   that stay with their messenger.
//! - [`budget`]: memory-hungry blocking work (decoding images) within a budget.
//! - [`secrets`]: the key ring secrets at rest are sealed under.
//! - [`grpc`]: serving a service (limits, health), and channels to other
//!   services carrying the trace context.

pub mod budget;
pub mod bus;
pub mod config;
pub mod cursor;
pub mod db;
pub mod events;
pub mod files;
pub mod grpc;
pub mod names;
pub mod ops;
pub mod outbox;
pub mod secrets;
pub mod service_error;
pub mod shutdown;
pub mod telemetry;
pub mod worker;

pub use shutdown::Shutdown;
