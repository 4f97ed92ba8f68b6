//! Facebook Messenger (the Messenger Platform, Graph API v21.0): a page's
//! messages arrive by its webhook, `/webhooks/facebook/<integration id>`
//! (verified with the page's verify token, each POST signed with the app's
//! secret), which the app's admin sets as the Callback URL in Meta's
//! dashboard; replies go out through the Send API. Facebook has no long
//! poll, so a page needs the suite's public address.
//!
//! Like VK, Facebook has no maintained Rust SDK; the Graph API is JSON over
//! HTTPS, spoken with reqwest ([`api`]).

pub mod api;
pub mod events;
pub mod health;
pub mod webhook;

use chat_proto::dialog::v1 as pb;

use crate::inbound::{Inbound, InboundError, Incoming, Stored};
use crate::integrations::Integration;

/// The channel's name, as integrations and messages store it.
pub const CHANNEL: &str = "facebook";
/// The page's access token, among an integration's secrets.
pub const PAGE_TOKEN: &str = "page_access_token";
/// The app's secret, which signs every webhook POST.
pub const APP_SECRET: &str = "app_secret";
/// The token Meta's verification request must carry.
pub const VERIFY_TOKEN: &str = "verify_token";
/// Longest text the Send API takes, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;

/// The page an integration is for.
pub fn page_id(integration: &Integration) -> &str {
    integration.settings["page_id"].as_str().unwrap_or_default()
}

/// Stores a person's message into their contact's dialog; their name is
/// asked of Facebook only the first time they write. A name Facebook does
/// not give now leaves the contact unnamed, not the message unstored.
pub async fn store(
    inbound: &Inbound,
    api: &api::FacebookApi,
    integration: &Integration,
    message: events::PersonMessage,
) -> Result<Stored, InboundError> {
    let known = inbound
        .knows(integration.account_id, pb::Channel::Facebook, &message.psid)
        .await
        .map_err(|e| InboundError::Retry(e.to_string()))?;
    let name = match known {
        true => String::new(),
        false => api
            .name(integration.secret(PAGE_TOKEN), &message.psid)
            .await
            .inspect_err(|e| tracing::warn!(integration = %integration.id, error = %e, "a Facebook name was not read"))
            .unwrap_or_default(),
    };
    inbound
        .store(Incoming {
            account_id: integration.account_id,
            channel: pb::Channel::Facebook,
            key: message.key(page_id(integration)),
            user_id: message.psid,
            name,
            text: message.text,
        })
        .await
}
