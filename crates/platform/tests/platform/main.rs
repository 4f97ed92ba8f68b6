//! Integration tests of the platform's event mechanisms against the real
//! PostgreSQL and NATS JetStream: the outbox relay and durable consumers,
//! each test on its own database and NATS prefix.

mod consumer;
mod helpers;
mod outbox;
