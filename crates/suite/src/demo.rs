//! The demo's messengers for `make dev`: a fake Telegram (crates/fakes) with
//! the demo shop's bot, connected to the demo account through the bridge's
//! API as a shop owner would connect it, and a page where a person can play
//! the Telegram user who writes to it.

use anyhow::Context as _;
use chat_fakes::Running;
use chat_fakes::telegram::FakeTelegram;
use chat_proto::bridge::v1::{
    ConnectIntegrationRequest, bridge_service_client::BridgeServiceClient,
};

/// The demo bot's token on the fake Telegram.
pub const DEMO_BOT_TOKEN: &str = "100200300:demo-tea-shop-bot";
pub const DEMO_BOT_USERNAME: &str = "demo_tea_shop_bot";

/// Starts the fake Telegram on `addr` with the demo bot.
pub async fn start_fakes(addr: &str) -> anyhow::Result<Running> {
    let telegram = FakeTelegram::default();
    telegram.make_bot(DEMO_BOT_TOKEN, DEMO_BOT_USERNAME);
    Running::serve(addr, telegram.router())
        .await
        .with_context(|| format!("while starting the fake messengers on {addr}"))
}

/// Connects the demo account's Telegram to the demo bot.
pub async fn connect_messengers(
    gateway_pool: &sqlx::PgPool,
    bridge_grpc_port: u16,
) -> anyhow::Result<()> {
    let account = gateway::db::account_by_site_key(gateway_pool, gateway::admin::DEMO_SITE_KEY)
        .await?
        .context("the demo account is not there")?;
    let mut bridge = BridgeServiceClient::connect(format!("http://127.0.0.1:{bridge_grpc_port}"))
        .await
        .context("while reaching the bridge")?;
    bridge
        .connect_integration(ConnectIntegrationRequest {
            account_id: account.id.to_string(),
            channel: "telegram".into(),
            credentials: [("bot_token".to_owned(), DEMO_BOT_TOKEN.to_owned())].into(),
        })
        .await
        .context("while connecting the demo bot")?;
    Ok(())
}
