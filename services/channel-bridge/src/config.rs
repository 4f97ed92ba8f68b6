//! Settings of the channel bridge: `BRIDGE_*` variables, plus the shared `CHAT_*`.

use chat_platform::config::{Common, load};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `BRIDGE_HTTP_ADDR`: ops endpoints and, later, messenger webhooks.
    pub http_addr: String,
    #[serde(skip)]
    pub common: Common,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            http_addr: "127.0.0.1:8090".into(),
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
