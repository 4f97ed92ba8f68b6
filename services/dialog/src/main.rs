//! Runs the dialog service alone.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = dialog::Config::load()?;
    let common = config.common.clone();
    chat_platform::shutdown::run_service("dialog", &common, |shutdown| {
        dialog::run(config, shutdown)
    })
    .await
}
