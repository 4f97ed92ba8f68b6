//! Runs all five services in one process: the dev runner (`make dev`) and the
//! end-to-end tests use it. In production each runs alone (its own binary).
//!
//! The dialog and contact services bind first, so the gateways are pointed at
//! the ports they actually got (port 0 picks free ones in tests).

pub mod bridge_replica;
pub mod demo;

use anyhow::Context as _;
use chat_platform::{Shutdown, config::Common};
use tokio::task::JoinHandle;

pub use bridge_replica::BridgeReplica;

/// Every service's configuration.
#[derive(Debug, Clone)]
pub struct Configs {
    pub gateway: gateway::Config,
    pub dialog: dialog::Config,
    pub contact: contact::Config,
    pub notification: notification::Config,
    pub bridge: channel_bridge::Config,
    /// Extra gateway replicas, each on a free port (tests of scaling out).
    pub extra_gateways: usize,
    /// Extra channel-bridge replicas, each on free ports (tests of failover).
    pub extra_bridges: usize,
}

impl Configs {
    /// From the environment, as each service alone would read it.
    pub fn load() -> anyhow::Result<Self> {
        Ok(Self {
            gateway: gateway::Config::load()?,
            dialog: dialog::Config::load()?,
            contact: contact::Config::load()?,
            notification: notification::Config::load()?,
            bridge: channel_bridge::Config::load()?,
            extra_gateways: 0,
            extra_bridges: 0,
        })
    }

    /// Every service on a free port of 127.0.0.1, sharing `common`.
    pub fn ephemeral(common: Common) -> Self {
        let any = || "127.0.0.1:0".to_owned();
        Self {
            gateway: gateway::Config {
                http_addr: any(),
                ops_addr: any(),
                common: common.clone(),
                ..Default::default()
            },
            dialog: dialog::Config {
                grpc_addr: any(),
                ops_addr: any(),
                common: common.clone(),
                ..Default::default()
            },
            contact: contact::Config {
                grpc_addr: any(),
                ops_addr: any(),
                common: common.clone(),
            },
            notification: notification::Config {
                ops_addr: any(),
                grpc_addr: any(),
                // A key of this run's own, as the bridge's below.
                secret_keys: chat_platform::secrets::SecretKeys(format!(
                    "ephemeral:{}",
                    chat_platform::secrets::new_key()
                )),
                common: common.clone(),
                ..Default::default()
            },
            bridge: channel_bridge::Config {
                http_addr: any(),
                grpc_addr: any(),
                // A key of this run's own: what it seals dies with it.
                secret_keys: chat_platform::secrets::SecretKeys(format!(
                    "ephemeral:{}",
                    chat_platform::secrets::new_key()
                )),
                common,
                ..Default::default()
            },
            extra_gateways: 0,
            extra_bridges: 0,
        }
    }
}

/// Runs one service in a task; should it stop before the suite is told to
/// (it failed), the others are stopped too, so the process ends rather than
/// run on without it.
fn run(
    name: &'static str,
    service: impl std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
    shutdown: &Shutdown,
) -> (&'static str, JoinHandle<anyhow::Result<()>>) {
    let shutdown = shutdown.clone();
    let task = tokio::spawn(async move {
        let result = service.await;
        if !shutdown.is_cancelled() {
            tracing::error!(service = name, "stopped on its own; stopping the others");
            shutdown.cancel();
        }
        result
    });
    (name, task)
}

/// The running suite.
pub struct Suite {
    /// Ports of the gateway replicas; the first is the main one.
    pub gateway_ports: Vec<u16>,
    pub dialog_grpc_port: u16,
    pub contact_grpc_port: u16,
    pub bridge_grpc_port: u16,
    /// The notification service's SMTP listener and inbound webhook for
    /// answers by e-mail (0: not set).
    pub inbound_smtp_port: u16,
    pub inbound_webhook_port: u16,
    pub ops_ports: OpsPorts,
    /// The gateway's database, for creating accounts in tests.
    pub gateway_pool: sqlx::PgPool,
    /// The channel-bridge replicas; the gateway talks to the first.
    pub bridges: Vec<BridgeReplica>,
    /// Each gateway replica's password hasher, whose Argon2 runs tests count.
    pub gateway_passwords: Vec<gateway::auth::Passwords>,
    /// Each gateway replica's budgets, whose open sockets tests count.
    pub gateway_budgets: Vec<std::sync::Arc<gateway::budgets::Budgets>>,
    shutdown: Shutdown,
    tasks: Vec<(&'static str, JoinHandle<anyhow::Result<()>>)>,
}

#[derive(Debug, Clone, Copy)]
pub struct OpsPorts {
    /// The first gateway replica's.
    pub gateway: u16,
    pub dialog: u16,
    pub contact: u16,
    pub notification: u16,
    pub bridge: u16,
}

impl Suite {
    /// Binds and starts all five services; they stop when `shutdown` is cancelled.
    pub async fn start(mut configs: Configs, shutdown: Shutdown) -> anyhow::Result<Self> {
        let dialog = dialog::Application::build(configs.dialog)
            .await
            .context("while starting dialog")?;
        let contact = contact::Application::build(configs.contact)
            .await
            .context("while starting contact")?;
        configs.notification.dialog_url = format!("http://127.0.0.1:{}", dialog.grpc_port());
        let console_url_given =
            configs.notification.console_url != notification::Config::default().console_url;
        let mut notification = notification::Application::build(configs.notification)
            .await
            .context("while starting notification")?;
        configs.gateway.notification_url = format!("http://127.0.0.1:{}", notification.grpc_port());
        let dialog_url = format!("http://127.0.0.1:{}", dialog.grpc_port());
        let contact_url = format!("http://127.0.0.1:{}", contact.grpc_port());
        configs.bridge.dialog_url = dialog_url.clone();
        configs.bridge.contact_url = contact_url.clone();
        configs.gateway.dialog_url = dialog_url;
        configs.gateway.contact_url = contact_url;
        let mut bridges =
            vec![BridgeReplica::start(configs.bridge.clone(), shutdown.clone()).await?];
        for _ in 0..configs.extra_bridges {
            let replica = channel_bridge::Config {
                http_addr: "127.0.0.1:0".into(),
                grpc_addr: "127.0.0.1:0".into(),
                ..configs.bridge.clone()
            };
            bridges.push(BridgeReplica::start(replica, shutdown.clone()).await?);
        }
        configs.gateway.bridge_url = format!("http://127.0.0.1:{}", bridges[0].grpc_port);

        let mut gateways =
            vec![gateway::Application::build(configs.gateway.clone(), shutdown.clone()).await?];
        for _ in 0..configs.extra_gateways {
            let replica = gateway::Config {
                http_addr: "127.0.0.1:0".into(),
                ops_addr: "127.0.0.1:0".into(),
                seed_demo: false,
                ..configs.gateway.clone()
            };
            gateways.push(gateway::Application::build(replica, shutdown.clone()).await?);
        }

        // Unless told otherwise, e-mails link to the first replica's console,
        // wherever it bound.
        if !console_url_given {
            notification
                .set_console_url(format!("http://127.0.0.1:{}/console/", gateways[0].port()));
        }
        let ops_ports = OpsPorts {
            gateway: gateways[0].ops_port(),
            dialog: dialog.ops_port(),
            contact: contact.ops_port(),
            notification: notification.ops_port(),
            bridge: bridges[0].http_port,
        };
        let (dialog_grpc_port, contact_grpc_port) = (dialog.grpc_port(), contact.grpc_port());
        let (inbound_smtp_port, inbound_webhook_port) =
            (notification.smtp_in_port(), notification.webhook_in_port());
        let bridge_grpc_port = bridges[0].grpc_port;
        let gateway_ports = gateways.iter().map(gateway::Application::port).collect();
        let gateway_pool = gateways[0].pool().clone();
        let gateway_passwords = gateways
            .iter()
            .map(gateway::Application::passwords)
            .collect();
        let gateway_budgets = gateways.iter().map(gateway::Application::budgets).collect();
        let mut tasks = vec![
            run(
                "dialog",
                dialog.run_until_stopped(shutdown.clone()),
                &shutdown,
            ),
            run(
                "contact",
                contact.run_until_stopped(shutdown.clone()),
                &shutdown,
            ),
            run(
                "notification",
                notification.run_until_stopped(shutdown.clone()),
                &shutdown,
            ),
        ];
        for gateway in gateways {
            tasks.push(run("gateway", gateway.run_until_stopped(), &shutdown));
        }
        Ok(Self {
            gateway_ports,
            dialog_grpc_port,
            bridge_grpc_port,
            contact_grpc_port,
            inbound_smtp_port,
            inbound_webhook_port,
            ops_ports,
            gateway_pool,
            bridges,
            gateway_passwords,
            gateway_budgets,
            shutdown,
            tasks,
        })
    }

    /// Waits for every service to stop (after shutdown), reporting the first failure.
    pub async fn wait(self) -> anyhow::Result<()> {
        let mut first_error = None;
        for (name, task) in self.tasks {
            let result = task.await.map_err(anyhow::Error::from).and_then(|r| r);
            if let Err(e) = result {
                tracing::error!(service = name, error = %e, "service failed");
                first_error.get_or_insert(e.context(format!("{name} failed")));
            }
        }
        for bridge in self.bridges {
            if let Err(e) = bridge.wait().await {
                tracing::error!(service = "channel-bridge", error = %e, "service failed");
                first_error.get_or_insert(e.context("channel-bridge failed"));
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Stops every service and waits for them.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.wait().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_service_that_fails_stops_the_others() {
        let shutdown = Shutdown::new();
        let watching = shutdown.clone();
        let other = run(
            "patient",
            async move {
                watching.cancelled().await;
                Ok(())
            },
            &shutdown,
        );
        let failing = run("failing", async { anyhow::bail!("broken") }, &shutdown);
        assert!(failing.1.await.unwrap().is_err());
        assert!(
            other.1.await.unwrap().is_ok(),
            "stopped because the other failed"
        );
        assert!(shutdown.is_cancelled());
    }
}
