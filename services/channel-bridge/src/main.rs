//! Runs the channel bridge alone.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = channel_bridge::Config::load()?;
    let common = config.common.clone();
    chat_platform::shutdown::run_service("channel-bridge", &common, |shutdown| {
        channel_bridge::run(config, shutdown)
    })
    .await
}
