//! Runs the gateway alone.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = gateway::Config::load()?;
    chat_platform::telemetry::init("gateway", &config.common);
    let shutdown = chat_platform::Shutdown::new();
    chat_platform::shutdown::on_signal(shutdown.clone());
    let result = gateway::run(config, shutdown).await;
    chat_platform::telemetry::flush();
    result
}
