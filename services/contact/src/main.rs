//! Runs the contact service alone.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = contact::Config::load()?;
    let common = config.common.clone();
    chat_platform::shutdown::run_service("contact", &common, |shutdown| {
        contact::run(config, shutdown)
    })
    .await
}
