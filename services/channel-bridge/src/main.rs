//! Runs the channel bridge alone.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = channel_bridge::Config::load()?;
    chat_platform::telemetry::init("channel-bridge", &config.common);
    let shutdown = chat_platform::Shutdown::new();
    chat_platform::shutdown::on_signal(shutdown.clone());
    let result = channel_bridge::run(config, shutdown).await;
    chat_platform::telemetry::flush();
    result
}
