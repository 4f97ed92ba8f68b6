//! Checks every integration now and then, so a broken one shows in the
//! console before anyone writes into it: each platform's [`Checker`] asks
//! it whether the token still works (and, where it can tell, whether
//! updates still reach the bridge) and records what it learnt. Every replica
//! checks (a token check is cheap and harmless).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chat_platform::Shutdown;
use sqlx::PgPool;

use crate::integrations::{self, Integration};
use crate::secrets::KeyRing;

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

pub struct HealthChecks {
    pub pool: PgPool,
    pub keys: KeyRing,
    pub every: Duration,
    pub checkers: Vec<Arc<dyn Checker>>,
}

impl HealthChecks {
    pub async fn run(self, shutdown: Shutdown) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(self.every) => {}
                _ = shutdown.cancelled() => break,
            }
            for checker in &self.checkers {
                self.check_all(checker.as_ref()).await;
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
