//! The demo's messengers for `make dev`: a fake Telegram and a fake VK
//! (crates/fakes, on one port) with the demo shop's bot and community,
//! connected to the demo account through the bridge's API as a shop owner
//! would connect them, and a page each where a person can play the customer
//! who writes to them.

use anyhow::Context as _;
use chat_fakes::Running;
use chat_fakes::telegram::FakeTelegram;
use chat_fakes::vk::FakeVk;
use chat_proto::bridge::v1::{
    ConnectIntegrationRequest, bridge_service_client::BridgeServiceClient,
};

/// The demo bot's token on the fake Telegram.
pub const DEMO_BOT_TOKEN: &str = "100200300:demo-tea-shop-bot";
pub const DEMO_BOT_USERNAME: &str = "demo_tea_shop_bot";
/// The demo community on the fake VK: its number, token and name.
pub const DEMO_VK_GROUP: i64 = 200_300_400;
pub const DEMO_VK_TOKEN: &str = "vk1.a.demo-tea-shop-community";
pub const DEMO_VK_NAME: &str = "Demo Tea Shop";

/// Starts the fake messengers on `addr` with the demo bot and community.
pub async fn start_fakes(addr: &str) -> anyhow::Result<Running> {
    let telegram = FakeTelegram::default();
    telegram.make_bot(DEMO_BOT_TOKEN, DEMO_BOT_USERNAME);
    let vk = FakeVk::default();
    vk.make_community(
        DEMO_VK_GROUP,
        DEMO_VK_TOKEN,
        DEMO_VK_NAME,
        "demo-confirmation",
    );
    Running::serve(addr, telegram.router().merge(vk.router()))
        .await
        .with_context(|| format!("while starting the fake messengers on {addr}"))
}

/// Connects the demo account's Telegram and VK to the demo bot and community.
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
    bridge
        .connect_integration(ConnectIntegrationRequest {
            account_id: account.id.to_string(),
            channel: "vk".into(),
            credentials: [
                ("group_id".to_owned(), DEMO_VK_GROUP.to_string()),
                ("access_token".to_owned(), DEMO_VK_TOKEN.to_owned()),
            ]
            .into(),
        })
        .await
        .context("while connecting the demo community")?;
    Ok(())
}
