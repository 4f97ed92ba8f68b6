//! Settings of the channel bridge: `BRIDGE_*` variables, plus the shared `CHAT_*`.

use chat_platform::config::{Common, load};
pub use chat_platform::secrets::SecretKeys;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `BRIDGE_HTTP_ADDR`: ops endpoints and the messengers' webhooks.
    pub http_addr: String,
    /// `BRIDGE_GRPC_ADDR`: its gRPC API (connecting messengers), for the gateway.
    pub grpc_addr: String,
    /// `BRIDGE_PUBLIC_URL`: the suite's public address, where the platforms
    /// reach the webhooks (`https://chat.example.com`); empty: Telegram and
    /// VK by long polling.
    pub public_url: String,
    /// `BRIDGE_TELEGRAM_API_URL`: the Bot API (a fake's address in tests).
    pub telegram_api_url: String,
    /// `BRIDGE_VK_API_URL`: VK's API (a fake's address in tests).
    pub vk_api_url: String,
    /// `BRIDGE_FACEBOOK_API_URL`: the Graph API (a fake's address in tests).
    pub facebook_api_url: String,
    /// `BRIDGE_HEALTH_CHECK_SECS`: how often each bot's token and webhook
    /// are checked with its platform.
    pub health_check_secs: u64,
    /// `BRIDGE_DIALOG_URL`: the dialog service's gRPC address.
    pub dialog_url: String,
    /// `BRIDGE_CONTACT_URL`: the contact service's gRPC address.
    pub contact_url: String,
    /// `BRIDGE_BACKEND_TIMEOUT_SECS`: the longest a call to them may take.
    pub backend_timeout_secs: u64,
    /// `BRIDGE_SECRET_KEYS`: the keys integrations' tokens are sealed under,
    /// `id:base64,...` (32 random bytes each, newest first; see
    /// `secrets.rs`). Without them no messenger can be connected or read.
    pub secret_keys: SecretKeys,
    #[serde(skip)]
    pub common: Common,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            http_addr: "127.0.0.1:8090".into(),
            grpc_addr: "127.0.0.1:50053".into(),
            public_url: String::new(),
            telegram_api_url: "https://api.telegram.org".into(),
            vk_api_url: "https://api.vk.com".into(),
            facebook_api_url: "https://graph.facebook.com".into(),
            health_check_secs: 600,
            dialog_url: "http://127.0.0.1:50051".into(),
            contact_url: "http://127.0.0.1:50052".into(),
            backend_timeout_secs: 10,
            secret_keys: SecretKeys::default(),
            common: Common::default(),
        }
    }
}

impl Config {
    pub fn load() -> anyhow::Result<Self> {
        let mut config: Self = load("BRIDGE_", "bridge")?;
        config.common = Common::load()?;
        Ok(config)
    }
}
