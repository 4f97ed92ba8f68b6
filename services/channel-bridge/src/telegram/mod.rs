//! Telegram (the Bot API, through teloxide): what a bot's updates become and
//! how they arrive. Webhook mode: Telegram POSTs each update to
//! `/webhooks/telegram/<integration id>` with the secret token the bridge
//! chose when it registered the webhook.

pub mod api;
pub mod files;
pub mod health;
pub mod poller;
pub mod updates;
pub mod webhook;

/// The channel's name, as integrations and messages store it.
pub const CHANNEL: &str = "telegram";
/// The bot's token, among an integration's secrets.
pub const BOT_TOKEN: &str = "bot_token";
/// The secret token Telegram sends with every webhook delivery.
pub const WEBHOOK_SECRET: &str = "webhook_secret";
/// The header that carries it.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// A new secret token for a webhook: 192 random bits, in hex.
pub fn new_webhook_secret() -> String {
    use chacha20poly1305::aead::rand_core::RngCore as _;
    let mut bytes = [0u8; 24];
    chacha20poly1305::aead::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The bot's id: the digits before the colon of its token (`123456:ABC...`).
pub fn bot_id(token: &str) -> Option<&str> {
    let (id, rest) = token.split_once(':')?;
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && !rest.is_empty()).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bots_id_is_the_number_its_token_starts_with() {
        assert_eq!(bot_id("123456:ABC-def_1"), Some("123456"));
        for bad in ["", "123456", ":abc", "12a:abc", "123:"] {
            assert_eq!(bot_id(bad), None, "{bad:?}");
        }
    }
}
