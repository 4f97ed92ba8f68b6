//! Integration tests of the notification service: it runs on its own database
//! and NATS prefix and is fed `dialog.message_created` events on the real bus.

mod alerts;
mod consumer;
mod helpers;
mod ops;
mod process;
mod push;
mod schema;
mod sweeps;
