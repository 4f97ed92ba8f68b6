//! The loop the alert digest and the reply settler share: rounds that take
//! what became due, one transaction each; the next at once while rounds come
//! back full, else after a tick; a failed round is tried again a little later.

use std::future::Future;
use std::time::Duration;

use chat_platform::Shutdown;

/// The wait after a round that failed (the database away, say).
const AFTER_FAILURE: Duration = Duration::from_secs(2);

/// Runs `round` (which returns how much it took) until shutdown.
pub async fn every<R, RF>(
    what: &str,
    tick: Duration,
    per_round: usize,
    shutdown: Shutdown,
    round: R,
) where
    R: Fn() -> RF,
    RF: Future<Output = anyhow::Result<usize>>,
{
    while !shutdown.is_cancelled() {
        let wait = match round().await {
            Ok(taken) if taken >= per_round => Duration::ZERO,
            Ok(_) => tick,
            Err(e) => {
                tracing::warn!(error = %e, "{what} not done; retrying");
                AFTER_FAILURE
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.cancelled() => {}
        }
    }
}
