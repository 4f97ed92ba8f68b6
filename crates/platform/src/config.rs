//! Configuration: every setting has a default that works against the local
//! PostgreSQL and NATS; a TOML file named by `CHAT_CONFIG_FILE` and then the
//! environment override it.

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// Settings every service shares, read from `CHAT_*` variables.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Common {
    /// `CHAT_DATABASE_URL`: the PostgreSQL database; each service uses its own schema in it.
    pub database_url: String,
    /// `CHAT_DATABASE_MAX_CONNECTIONS`: pool size of each service.
    pub database_max_connections: u32,
    /// `CHAT_NATS_URL`: the NATS server with JetStream.
    pub nats_url: String,
    /// `CHAT_NATS_PREFIX`: prefix of every subject, stream, consumer and bucket.
    pub nats_prefix: String,
    /// `CHAT_LOG_FORMAT`: `pretty` or `json`.
    pub log_format: String,
    /// `CHAT_OTLP_ENDPOINT`: OTLP/gRPC collector for traces; empty disables export.
    pub otlp_endpoint: String,
    /// `CHAT_SHUTDOWN_GRACE_SECS`: how long in-flight work may take after SIGTERM.
    pub shutdown_grace_secs: u64,
    /// `CHAT_EVENTS_MAX_BYTES`: the event stream's size bound; beyond it the
    /// oldest events go first (besides their age bound of seven days).
    pub events_max_bytes: i64,
}

impl Default for Common {
    fn default() -> Self {
        Self {
            database_url: "postgres://chat:chat@127.0.0.1:5432/chat".into(),
            database_max_connections: 16,
            nats_url: "nats://127.0.0.1:4222".into(),
            nats_prefix: "chat".into(),
            log_format: "pretty".into(),
            otlp_endpoint: String::new(),
            shutdown_grace_secs: 20,
            events_max_bytes: 1 << 30,
        }
    }
}

impl Common {
    pub fn load() -> anyhow::Result<Self> {
        load("CHAT_", "common")
    }
}

/// Loads `T` from its defaults, then the `[section]` of the file named by
/// `CHAT_CONFIG_FILE` (if set), then variables starting with `env_prefix`.
pub fn load<T: Serialize + DeserializeOwned + Default>(
    env_prefix: &str,
    section: &str,
) -> anyhow::Result<T> {
    let mut figment = Figment::from(Serialized::defaults(T::default()));
    if let Ok(path) = std::env::var("CHAT_CONFIG_FILE") {
        figment = figment.merge(Figment::from(Toml::file_exact(path)).focus(section));
    }
    let config = figment
        .merge(Env::prefixed(env_prefix))
        .extract()
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    Ok(config)
}

#[cfg(test)]
// figment's Jail returns its large error type; that is its API, not ours.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[derive(Debug, Default, Serialize, Deserialize)]
    #[serde(default)]
    struct Sample {
        port: u16,
        name: String,
    }

    #[test]
    fn environment_overrides_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SAMPLETEST_PORT", "8081");
            let sample: Sample = load("SAMPLETEST_", "sample").unwrap();
            assert_eq!(sample.port, 8081);
            assert_eq!(sample.name, "");
            Ok(())
        });
    }

    #[test]
    fn a_bad_value_is_a_clear_error() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SAMPLEBAD_PORT", "not-a-port");
            let err = load::<Sample>("SAMPLEBAD_", "sample").unwrap_err();
            assert!(err.to_string().contains("port"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn file_section_is_read_and_environment_wins() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("chat.toml", "[sample]\nport = 7000\nname = \"from-file\"\n")?;
            jail.set_env("CHAT_CONFIG_FILE", "chat.toml");
            jail.set_env("SAMPLEFILE_PORT", "7001");
            let sample: Sample = load("SAMPLEFILE_", "sample").unwrap();
            assert_eq!((sample.port, sample.name.as_str()), (7001, "from-file"));
            Ok(())
        });
    }
}
