//! One shutdown signal for the whole process: SIGTERM or Ctrl-C cancels it,
//! and every server and consumer loop watches it.

use tokio_util::sync::CancellationToken;

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
