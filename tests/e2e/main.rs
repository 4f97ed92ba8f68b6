//! End-to-end tests: the message path through the public APIs, with all five
//! services running against the real PostgreSQL and NATS.

mod api_fuzz;
mod attachments;
mod bad_input;
mod browser;
mod budgets;
mod console_api;
mod edge;
mod facebook;
mod failover;
mod helpers;
mod message_path;
mod notifications;
mod openapi;
mod outage;
mod sessions;
mod shop_smtp;
mod telegram;
mod tenants;
mod timeline;
mod vk;
mod widget;
