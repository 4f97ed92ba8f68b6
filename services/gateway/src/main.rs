//! Runs the gateway alone.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = gateway::Config::load()?;
    let common = config.common.clone();
    chat_platform::shutdown::run_service("gateway", &common, |shutdown| {
        gateway::run(config, shutdown)
    })
    .await
}
