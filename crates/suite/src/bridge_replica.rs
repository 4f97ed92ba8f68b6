//! A channel-bridge replica on a runtime and thread of its own, so that it can
//! be killed as a crash kills a process: its tasks dropped wherever they are,
//! nothing released or answered, its sockets closed. The tests of failover
//! (another replica takes its long polls) and of redelivery (a platform sends
//! again what a killed bridge had stored but not confirmed) use it; restarted,
//! it comes back on the same ports, as a restarted pod behind its service.

use anyhow::Context as _;
use chat_platform::Shutdown;
use tokio::sync::oneshot;

/// One running (or killed) bridge.
pub struct BridgeReplica {
    /// Its settings, with the ports it got fixed, for a restart.
    config: channel_bridge::Config,
    /// The suite's shutdown: a replica that stops on its own stops the others.
    shutdown: Shutdown,
    running: Option<Running>,
    pub http_port: u16,
    pub grpc_port: u16,
    /// Its name in the polling leases (new at each start, as a new process's).
    pub name: String,
}

struct Running {
    kill: oneshot::Sender<()>,
    thread: std::thread::JoinHandle<anyhow::Result<()>>,
}

/// What the replica's thread reports once it has bound its ports.
struct Started {
    http_port: u16,
    grpc_port: u16,
    name: String,
}

impl BridgeReplica {
    /// Builds and runs a replica until `shutdown` or [`BridgeReplica::kill`].
    pub async fn start(config: channel_bridge::Config, shutdown: Shutdown) -> anyhow::Result<Self> {
        let (running, started) = spawn(config.clone(), shutdown.clone()).await?;
        Ok(Self {
            config: channel_bridge::Config {
                http_addr: format!("127.0.0.1:{}", started.http_port),
                grpc_addr: format!("127.0.0.1:{}", started.grpc_port),
                ..config
            },
            shutdown,
            running: Some(running),
            http_port: started.http_port,
            grpc_port: started.grpc_port,
            name: started.name,
        })
    }

    /// Kills it: its tasks are dropped where they stand, no lease is
    /// released, a request in flight is answered only if its answer was
    /// already on its way.
    pub async fn kill(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.kill.send(());
            let _ = tokio::task::spawn_blocking(move || running.thread.join()).await;
        }
    }

    /// Starts it again on the same ports, under a new name. A port another
    /// test's connection took meanwhile is waited for, a few seconds at most.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.kill().await;
        let mut tries = 0;
        let (running, started) = loop {
            match spawn(self.config.clone(), self.shutdown.clone()).await {
                Ok(started) => break started,
                Err(e) if tries < 50 => {
                    tracing::warn!(error = %format!("{e:#}"), "the bridge restarts again soon");
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e),
            }
        };
        self.running = Some(running);
        self.name = started.name;
        Ok(())
    }

    /// Waits for it to stop (after the suite's shutdown); a killed one is done.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let Some(running) = self.running.take() else {
            return Ok(());
        };
        tokio::task::spawn_blocking(move || running.thread.join())
            .await?
            .map_err(|_| anyhow::anyhow!("the bridge's thread panicked"))?
    }
}

async fn spawn(
    config: channel_bridge::Config,
    shutdown: Shutdown,
) -> anyhow::Result<(Running, Started)> {
    let (started_tx, started_rx) = oneshot::channel();
    let (kill, killed) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("channel-bridge".into())
        .spawn(move || {
            // One thread: once killed, the tasks get at most the step they
            // were already woken for before the runtime drops them.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("while building the bridge's runtime")?;
            let result = runtime.block_on(async {
                let application = match channel_bridge::Application::build(config).await {
                    Ok(application) => application,
                    Err(e) => {
                        let _ = started_tx.send(Err(anyhow::anyhow!("{e:#}")));
                        return Ok(());
                    }
                };
                let _ = started_tx.send(Ok(Started {
                    http_port: application.http_port(),
                    grpc_port: application.grpc_port(),
                    name: application.replica().to_owned(),
                }));
                // Killed (or dropped: the sender gone, the thread ends on its own).
                tokio::select! {
                    biased;
                    _ = killed => Ok(()),
                    result = application.run_until_stopped(shutdown.clone()) => {
                        if !shutdown.is_cancelled() {
                            tracing::error!(service = "channel-bridge", "stopped on its own; stopping the others");
                            shutdown.cancel();
                        }
                        result
                    }
                }
            });
            // Whatever was spawned is dropped where it stands.
            runtime.shutdown_background();
            result
        })
        .context("while starting the bridge's thread")?;
    let started = started_rx
        .await
        .context("the bridge's thread ended before it started")?
        .context("while starting channel-bridge")?;
    Ok((Running { kill, thread }, started))
}
