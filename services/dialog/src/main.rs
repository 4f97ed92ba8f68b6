//! Runs the dialog service alone.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = dialog::Config::load()?;
    chat_platform::telemetry::init("dialog", &config.common);
    let shutdown = chat_platform::Shutdown::new();
    chat_platform::shutdown::on_signal(shutdown.clone());
    let result = dialog::run(config, shutdown).await;
    chat_platform::telemetry::flush();
    result
}
