//! Settings of the gateway: `GATEWAY_*` variables, plus the shared `CHAT_*`.

use chat_platform::config::{Common, load};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `GATEWAY_HTTP_ADDR`: REST, both WebSockets, the dev page and the ops endpoints.
    pub http_addr: String,
    /// `GATEWAY_DIALOG_URL`: the dialog service's gRPC endpoint.
    pub dialog_url: String,
    /// `GATEWAY_CONTACT_URL`: the contact service's gRPC endpoint.
    pub contact_url: String,
    /// `GATEWAY_SESSION_IDLE_MINS`: a manager's sessions end after this long without activity.
    pub session_idle_mins: i64,
    /// `GATEWAY_DEV_PAGE`: serve the chat page for trying the suite at `/dev`.
    pub dev_page: bool,
    /// `GATEWAY_SEED_DEMO`: create the demo account and manager at start if missing.
    pub seed_demo: bool,
    #[serde(skip)]
    pub common: Common,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            http_addr: "127.0.0.1:8080".into(),
            dialog_url: "http://127.0.0.1:50051".into(),
            contact_url: "http://127.0.0.1:50052".into(),
            session_idle_mins: 30,
            dev_page: false,
            seed_demo: false,
            common: Common::default(),
        }
    }
}

impl Config {
    pub fn load() -> anyhow::Result<Self> {
        let mut config: Self = load("GATEWAY_", "gateway")?;
        config.common = Common::load()?;
        Ok(config)
    }
}
