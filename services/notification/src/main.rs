//! Runs the notification service alone.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = notification::Config::load()?;
    chat_platform::telemetry::init("notification", &config.common);
    let shutdown = chat_platform::Shutdown::new();
    chat_platform::shutdown::on_signal(shutdown.clone());
    let result = notification::run(config, shutdown).await;
    chat_platform::telemetry::flush();
    result
}
