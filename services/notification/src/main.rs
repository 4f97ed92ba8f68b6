//! Runs the notification service alone.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = notification::Config::load()?;
    let common = config.common.clone();
    chat_platform::shutdown::run_service("notification", &common, |shutdown| {
        notification::run(config, shutdown)
    })
    .await
}
