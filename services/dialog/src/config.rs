//! Settings of the dialog service: `DIALOG_*` variables, plus the shared `CHAT_*`.

use chat_platform::config::{Common, load};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `DIALOG_GRPC_ADDR`: where the gRPC API listens.
    pub grpc_addr: String,
    /// `DIALOG_OPS_ADDR`: where `/healthz`, `/readyz` and `/metrics` listen.
    pub ops_addr: String,
    /// `DIALOG_POST_MAX_WAIT_MS`: longest a message waits for a writer
    /// before it is refused as busy (overload: refused fast, not queued).
    pub post_max_wait_ms: u64,
    #[serde(skip)]
    pub common: Common,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            grpc_addr: "127.0.0.1:50051".into(),
            ops_addr: "127.0.0.1:9101".into(),
            post_max_wait_ms: crate::writer::DEFAULT_MAX_QUEUE_WAIT.as_millis() as u64,
            common: Common::default(),
        }
    }
}

impl Config {
    pub fn load() -> anyhow::Result<Self> {
        let mut config: Self = load("DIALOG_", "dialog")?;
        config.common = Common::load()?;
        Ok(config)
    }
}
