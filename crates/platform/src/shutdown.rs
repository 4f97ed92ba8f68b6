//! One shutdown signal for the whole process: SIGTERM or Ctrl-C cancels it,
//! and every server and consumer loop watches it; the tasks a service starts
//! beside its loops (writers, sockets) are tracked so it can wait for them;
//! and a service gets `CHAT_SHUTDOWN_GRACE_SECS` to stop once it is told to.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// The tasks a service starts and waits for before it stops: `spawn` or
/// `track_future` them, then `close()` and `wait()`.
pub type Tasks = tokio_util::task::TaskTracker;

/// A cloneable handle: `cancelled().await` resolves once shutdown begins.
pub type Shutdown = CancellationToken;

/// Cancels `shutdown` on the first SIGTERM or Ctrl-C.
pub fn on_signal(shutdown: Shutdown) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutdown signal received");
        shutdown.cancel();
    });
}

/// What every service's `main` does: sets up telemetry, runs the service
/// (`run` gets the shutdown signal, which SIGTERM and Ctrl-C give) with
/// `CHAT_SHUTDOWN_GRACE_SECS` to stop once told to, then flushes traces.
pub async fn run_service<F>(
    name: &str,
    common: &crate::config::Common,
    run: impl FnOnce(Shutdown) -> F,
) -> anyhow::Result<()>
where
    F: Future<Output = anyhow::Result<()>>,
{
    crate::telemetry::init(name, common);
    let shutdown = Shutdown::new();
    on_signal(shutdown.clone());
    let grace = Duration::from_secs(common.shutdown_grace_secs);
    let result = with_grace(&shutdown, grace, run(shutdown.clone())).await;
    if let Err(e) = &result {
        tracing::error!(service = name, error = %e, "stopped with an error");
    }
    crate::telemetry::flush();
    result
}

/// Runs `service` to its end; once `shutdown` begins, gives it `grace` to
/// finish, and reports a failure if it does not (the process then exits
/// rather than hang; what it had not finished is redone after restart, as
/// after a crash).
pub async fn with_grace<F>(shutdown: &Shutdown, grace: Duration, service: F) -> anyhow::Result<()>
where
    F: Future<Output = anyhow::Result<()>>,
{
    tokio::pin!(service);
    tokio::select! {
        result = &mut service => result,
        _ = shutdown.cancelled() => match tokio::time::timeout(grace, service).await {
            Ok(result) => result,
            Err(_) => Err(anyhow::anyhow!(
                "did not stop within {} s of being told to (CHAT_SHUTDOWN_GRACE_SECS)",
                grace.as_secs()
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_service_that_does_not_stop_within_its_grace_is_given_up_on() {
        let shutdown = Shutdown::new();
        let stubborn = async {
            std::future::pending::<()>().await;
            Ok(())
        };
        let stopping = shutdown.clone();
        tokio::spawn(async move { stopping.cancel() });
        let result = with_grace(&shutdown, Duration::from_secs(3), stubborn).await;
        assert!(result.unwrap_err().to_string().contains("within 3 s"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_service_that_stops_in_time_reports_its_own_result() {
        let shutdown = Shutdown::new();
        let polite = {
            let shutdown = shutdown.clone();
            async move {
                shutdown.cancelled().await;
                tokio::time::sleep(Duration::from_secs(1)).await;
                Ok(())
            }
        };
        shutdown.cancel();
        assert!(
            with_grace(&shutdown, Duration::from_secs(3), polite)
                .await
                .is_ok()
        );
    }
}
