//! Integration tests of the dialog service over its gRPC API, against the
//! real PostgreSQL and NATS, each on its own database and NATS prefix (and
//! of its writing paths through the library, where two must agree).

mod alone;
mod console;
mod files;
mod helpers;
mod listing;
mod outbox;
mod overload;
mod posting;
mod process;
mod tenants;
