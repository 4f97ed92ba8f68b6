//! Settings of the notification service: `NOTIFICATION_*` variables, plus the shared `CHAT_*`.

use chat_platform::config::{Common, load};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `NOTIFICATION_OPS_ADDR`: where `/healthz`, `/readyz` and `/metrics` listen.
    pub ops_addr: String,
    #[serde(skip)]
    pub common: Common,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            ops_addr: "127.0.0.1:9103".into(),
            common: Common::default(),
        }
    }
}

impl Config {
    pub fn load() -> anyhow::Result<Self> {
        let mut config: Self = load("NOTIFICATION_", "notification")?;
        config.common = Common::load()?;
        Ok(config)
    }
}
