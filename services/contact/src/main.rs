//! Runs the contact service alone.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = contact::Config::load()?;
    chat_platform::telemetry::init("contact", &config.common);
    let shutdown = chat_platform::Shutdown::new();
    chat_platform::shutdown::on_signal(shutdown.clone());
    let result = contact::run(config, shutdown).await;
    chat_platform::telemetry::flush();
    result
}
