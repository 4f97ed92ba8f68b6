//! Checks every integration now and then, so a broken one shows in the
//! console before anyone writes into it: each platform's [`Checker`] asks
//! it whether the token still works (and, where it can tell, whether
//! updates still reach the bridge) and records what it learnt. Every replica
//! checks (a token check is cheap and harmless).
//!
//! Each integration's health is also in the metrics, labelled by channel,
//! integration and account, refreshed every [`METRICS_EVERY`] (or every
//! check, if more often), so an alert can fire before anyone looks:
//! `bridge_integration_healthy`, `_token_valid` and `_receiving` (1 or 0),
//! `bridge_integration_last_update_timestamp_seconds` and
//! `_last_error_timestamp_seconds` (Unix time; absent until there is one).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chat_platform::Shutdown;
use sqlx::PgPool;

use crate::integrations::{self, Integration};
use crate::secrets::KeyRing;
use chrono::{DateTime, Utc};

/// One platform's health check.
pub trait Checker: Send + Sync + 'static {
    /// The channel whose integrations it checks.
    fn channel(&self) -> &'static str;
    /// Checks one integration and records what it learnt.
    fn check<'a>(
        &'a self,
        integration: &'a Integration,
    ) -> Pin<Box<dyn Future<Output = sqlx::Result<()>> + Send + 'a>>;
}

/// How often the integrations' health goes into the metrics.
pub const METRICS_EVERY: Duration = Duration::from_secs(15);

pub struct HealthChecks {
    pub pool: PgPool,
    pub keys: KeyRing,
    pub every: Duration,
    pub checkers: Vec<Arc<dyn Checker>>,
}

impl HealthChecks {
    pub async fn run(self, shutdown: Shutdown) {
        let start = tokio::time::Instant::now();
        let mut checks = tokio::time::interval_at(start + self.every, self.every);
        let mut metrics = tokio::time::interval(self.every.min(METRICS_EVERY));
        for ticks in [&mut checks, &mut metrics] {
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        }
        loop {
            tokio::select! {
                _ = checks.tick() => {
                    for checker in &self.checkers {
                        self.check_all(checker.as_ref()).await;
                    }
                }
                _ = metrics.tick() => self.export().await,
                _ = shutdown.cancelled() => break,
            }
        }
    }

    /// Puts every integration's health into the metrics.
    async fn export(&self) {
        for checker in &self.checkers {
            let channel = checker.channel();
            match integrations::of_channel(&self.pool, &self.keys, channel).await {
                Ok(found) => found.iter().for_each(export),
                Err(e) => {
                    tracing::warn!(channel, error = %e, "the integrations cannot be listed for their metrics")
                }
            }
        }
    }

    async fn check_all(&self, checker: &dyn Checker) {
        let channel = checker.channel();
        match integrations::of_channel(&self.pool, &self.keys, channel).await {
            Ok(found) => {
                for integration in found {
                    if let Err(e) = checker.check(&integration).await {
                        tracing::warn!(integration = %integration.id, error = %e, "a health check was not recorded");
                    }
                }
            }
            Err(e) => {
                tracing::warn!(channel, error = %e, "the integrations cannot be listed for their health checks")
            }
        }
    }
}

fn export(integration: &Integration) {
    let labels = [
        ("channel", integration.channel.clone()),
        ("integration", integration.id.to_string()),
        ("account", integration.account_id.to_string()),
    ];
    let health = &integration.health;
    let flag = |on: bool| if on { 1.0 } else { 0.0 };
    metrics::gauge!("bridge_integration_healthy", &labels).set(flag(health.healthy()));
    metrics::gauge!("bridge_integration_token_valid", &labels)
        .set(flag(health.token_valid == Some(true)));
    metrics::gauge!("bridge_integration_receiving", &labels).set(flag(health.receiving));
    let unix = |at: DateTime<Utc>| at.timestamp_millis() as f64 / 1000.0;
    if let Some(at) = health.last_update_at {
        metrics::gauge!("bridge_integration_last_update_timestamp_seconds", &labels).set(unix(at));
    }
    if let Some(at) = health.last_error_at {
        metrics::gauge!("bridge_integration_last_error_timestamp_seconds", &labels).set(unix(at));
    }
}
