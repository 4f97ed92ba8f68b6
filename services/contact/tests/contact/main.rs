//! Integration tests of the contact service over gRPC and the bus, against
//! the real PostgreSQL and NATS, each on its own database and NATS prefix.

mod details;
mod helpers;
mod messengers;
mod process;
mod timeline;
mod visitors;
