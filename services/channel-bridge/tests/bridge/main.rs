//! Integration tests of the channel bridge: it runs on its own database and
//! NATS prefix and is fed `dialog.message_created` events on the real bus.

mod helpers;
mod outbound;
mod process;
