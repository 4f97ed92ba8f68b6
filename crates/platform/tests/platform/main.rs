//! Integration tests of the platform's event mechanisms against the real
//! PostgreSQL and NATS JetStream: the outbox relay and durable consumers
//! (and how they heal when NATS forgets them),
//! each test on its own database and NATS prefix.

mod consumer;
mod healing;
mod helpers;
mod outbox;
