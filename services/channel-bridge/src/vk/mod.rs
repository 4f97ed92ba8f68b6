//! VK (community messages, API 5.199): what a community's events become and
//! how they arrive. Callback mode: VK POSTs each event to
//! `/webhooks/vk/<integration id>` (the address the shop's admin gives VK,
//! shown in the console), with the community's secret in the body; Bots
//! Long Poll where the suite has no public address.
//!
//! VK has no maintained Rust SDK; its API is a form POST and a JSON answer,
//! so the bridge speaks it with reqwest ([`api`]).

pub mod api;
pub mod callback;
pub mod events;
pub mod health;
pub mod poller;

use chat_proto::dialog::v1 as pb;
use uuid::Uuid;

use crate::inbound::{Inbound, InboundError, Incoming, Stored};
use crate::integrations::Integration;

/// The channel's name, as integrations and messages store it.
pub const CHANNEL: &str = "vk";
/// The community's access token, among an integration's secrets.
pub const ACCESS_TOKEN: &str = "access_token";
/// The string VK's `confirmation` event must be answered with.
pub const CONFIRMATION: &str = "confirmation";
/// The secret VK puts in every Callback API event.
pub const CALLBACK_SECRET: &str = "secret";

/// The `random_id` of a reply: derived from the message's id, so sending
/// the same reply again is the same send to VK, which keeps only one.
pub fn random_id(message_id: Uuid) -> i32 {
    let bytes = message_id.as_bytes();
    // The id's last bytes are random (UUIDv7); VK takes a signed 32-bit number.
    i32::from_be_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]) & i32::MAX
}

/// The community an integration is for (VK's group id).
pub fn group_id(integration: &Integration) -> i64 {
    integration.settings["bot_id"].as_i64().unwrap_or_default()
}

/// Stores a person's message into their contact's dialog; their name is
/// asked of VK only the first time they write (VK's events carry no names).
/// A name VK does not give now leaves the contact unnamed, not the message
/// unstored.
pub async fn store(
    inbound: &Inbound,
    api: &api::VkApi,
    integration: &Integration,
    message: events::PersonMessage,
) -> Result<Stored, InboundError> {
    let person = message.from_id.to_string();
    let known = inbound
        .knows(integration.account_id, pb::Channel::Vk, &person)
        .await
        .map_err(|e| InboundError::Retry(e.to_string()))?;
    let name = match known {
        true => String::new(),
        false => api
            .user_name(integration.secret(ACCESS_TOKEN), message.from_id)
            .await
            .inspect_err(|e| tracing::warn!(integration = %integration.id, error = %e, "a VK name was not read"))
            .unwrap_or_default(),
    };
    inbound
        .store(Incoming {
            account_id: integration.account_id,
            channel: pb::Channel::Vk,
            user_id: person,
            name,
            key: message.key(group_id(integration)),
            text: message.text,
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replys_random_id_is_the_same_for_its_message_and_positive() {
        let message = Uuid::now_v7();
        assert_eq!(random_id(message), random_id(message));
        assert!(random_id(message) >= 0);
        let other = Uuid::now_v7();
        assert_ne!(random_id(message), random_id(other));
    }
}
