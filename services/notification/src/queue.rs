//! The loop the e-mail sender and the pusher share: take a batch of
//! recorded work (claimed in the database), handle it, and when there is
//! none wait to be woken (work was committed here) or for the next look
//! (work due for another try, or another replica's whose claim ran out).

use std::future::Future;
use std::time::Duration;

use futures::StreamExt as _;
use tokio::sync::Notify;

use chat_platform::Shutdown;

/// How often the log is looked at when nothing woke the loop.
const IDLE_POLL: Duration = Duration::from_secs(1);

/// Runs until shutdown; a batch being handled then is finished first.
pub async fn drain<T, C, CF, H, HF>(
    what: &str,
    wake: &Notify,
    in_flight: usize,
    shutdown: Shutdown,
    claim: C,
    handle: H,
) where
    C: Fn() -> CF,
    CF: Future<Output = sqlx::Result<Vec<T>>>,
    H: Fn(T) -> HF,
    HF: Future<Output = ()>,
{
    while !shutdown.is_cancelled() {
        let batch = match claim().await {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!(error = %e, "could not take {what} to send; retrying");
                Vec::new()
            }
        };
        if batch.is_empty() {
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
                _ = shutdown.cancelled() => {}
            }
            continue;
        }
        futures::stream::iter(batch)
            .for_each_concurrent(in_flight.max(1), &handle)
            .await;
    }
}
