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
//! A disconnected integration's gauges turn NaN (the exporter cannot remove
//! a series), which no comparison in an alert matches.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chat_platform::Shutdown;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::integrations::{self, HealthOf, Integration};
use chat_platform::secrets::KeyRing;

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
        let mut exported = HashMap::new();
        loop {
            tokio::select! {
                _ = checks.tick() => {
                    for checker in &self.checkers {
                        self.check_all(checker.as_ref()).await;
                    }
                }
                _ = metrics.tick() => self.export(&mut exported).await,
                _ = shutdown.cancelled() => break,
            }
        }
    }

    /// Puts every integration's health into the metrics; `exported` holds
    /// the labels of those put last time, so the ones gone since are cleared.
    async fn export(&self, exported: &mut HashMap<Uuid, Labels>) {
        let all = match integrations::health_of_all(&self.pool).await {
            Ok(all) => all,
            Err(e) => {
                tracing::warn!(error = %e, "the integrations cannot be read for their metrics");
                return;
            }
        };
        let mut now = HashMap::with_capacity(all.len());
        for integration in &all {
            let labels = labels_of(integration);
            set_gauges(&labels, &integration.health);
            now.insert(integration.id, labels);
        }
        for (id, labels) in exported.iter() {
            if !now.contains_key(id) {
                clear_gauges(labels);
            }
        }
        *exported = now;
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

/// An integration's labels in the metrics.
type Labels = [(&'static str, String); 3];

const FLAGS: [&str; 3] = [
    "bridge_integration_healthy",
    "bridge_integration_token_valid",
    "bridge_integration_receiving",
];
const TIMES: [&str; 2] = [
    "bridge_integration_last_update_timestamp_seconds",
    "bridge_integration_last_error_timestamp_seconds",
];

fn labels_of(integration: &HealthOf) -> Labels {
    [
        ("channel", integration.channel.clone()),
        ("integration", integration.id.to_string()),
        ("account", integration.account_id.to_string()),
    ]
}

fn set_gauges(labels: &Labels, health: &integrations::Health) {
    let flags = [
        health.healthy(),
        health.token_valid == Some(true),
        health.receiving,
    ];
    for (name, on) in FLAGS.into_iter().zip(flags) {
        metrics::gauge!(name, labels).set(if on { 1.0 } else { 0.0 });
    }
    let unix = |at: DateTime<Utc>| at.timestamp_millis() as f64 / 1000.0;
    for (name, at) in TIMES
        .into_iter()
        .zip([health.last_update_at, health.last_error_at])
    {
        if let Some(at) = at {
            metrics::gauge!(name, labels).set(unix(at));
        }
    }
}

/// A disconnected integration's gauges: NaN, which no alert matches.
fn clear_gauges(labels: &Labels) {
    for name in FLAGS.into_iter().chain(TIMES) {
        metrics::gauge!(name, labels).set(f64::NAN);
    }
}
