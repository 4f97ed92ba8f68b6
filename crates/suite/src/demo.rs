//! The demo's messengers for `make dev`: fakes of Telegram, VK and Facebook
//! Messenger (crates/fakes, on one port) with the demo shop's bot, community
//! and page,
//! connected to the demo account through the bridge's API as a shop owner
//! would connect them, and a page each where a person can play the customer
//! who writes to them.

use anyhow::Context as _;
use chat_fakes::Running;
use chat_fakes::facebook::FakeFacebook;
use chat_fakes::telegram::FakeTelegram;
use chat_fakes::vk::FakeVk;
use chat_proto::bridge::v1::{
    ConnectIntegrationRequest, Integration, bridge_service_client::BridgeServiceClient,
};

/// The demo bot's token on the fake Telegram.
pub const DEMO_BOT_TOKEN: &str = "100200300:demo-tea-shop-bot";
pub const DEMO_BOT_USERNAME: &str = "demo_tea_shop_bot";
/// The demo community on the fake VK: its number, token and name.
pub const DEMO_VK_GROUP: i64 = 200_300_400;
pub const DEMO_VK_TOKEN: &str = "vk1.a.demo-tea-shop-community";
pub const DEMO_VK_NAME: &str = "Demo Tea Shop";
const DEMO_VK_CONFIRMATION: &str = "demo-confirmation";
const DEMO_VK_SECRET: &str = "DemoCallbackSecret";
/// The demo page on the fake Messenger Platform.
pub const DEMO_FACEBOOK_PAGE: &str = "300400500600";
const DEMO_FACEBOOK_TOKEN: &str = "EAAB-demo-tea-shop-page";
const DEMO_FACEBOOK_APP_SECRET: &str = "demo-app-secret";
const DEMO_FACEBOOK_VERIFY: &str = "demo-verify-token";

/// The fake messengers, serving on one port.
pub struct DemoFakes {
    pub running: Running,
    vk: FakeVk,
    facebook: FakeFacebook,
}

impl DemoFakes {
    pub fn url(&self) -> String {
        self.running.url()
    }
}

/// Starts the fake messengers on `addr` with the demo bot, community and page.
pub async fn start_fakes(addr: &str) -> anyhow::Result<DemoFakes> {
    let telegram = FakeTelegram::default();
    telegram.make_bot(DEMO_BOT_TOKEN, DEMO_BOT_USERNAME);
    let vk = FakeVk::default();
    vk.make_community(
        DEMO_VK_GROUP,
        DEMO_VK_TOKEN,
        DEMO_VK_NAME,
        DEMO_VK_CONFIRMATION,
    );
    let facebook = FakeFacebook::default();
    facebook.make_page(
        DEMO_FACEBOOK_PAGE,
        DEMO_FACEBOOK_TOKEN,
        DEMO_FACEBOOK_APP_SECRET,
        "Demo Tea Shop",
    );
    let router = telegram
        .clone()
        .router()
        .merge(vk.clone().router())
        .merge(facebook.clone().router());
    let running = Running::serve(addr, router)
        .await
        .with_context(|| format!("while starting the fake messengers on {addr}"))?;
    vk.set_base_url(&running.url());
    facebook.set_base_url(&running.url());
    Ok(DemoFakes {
        running,
        vk,
        facebook,
    })
}

/// Connects the demo account's Telegram, VK and Facebook to the demo bot,
/// community and page, as an owner does in the console; where the bridge
/// has a public address, the fakes are then pointed at its webhooks, as the
/// platforms' admins do on VK's and Meta's pages. Without one, Facebook
/// (which has no long poll) is left unconnected.
pub async fn connect_messengers(
    fakes: &DemoFakes,
    gateway_pool: &sqlx::PgPool,
    bridge_grpc_port: u16,
) -> anyhow::Result<()> {
    let account = gateway::db::account_by_site_key(gateway_pool, gateway::admin::DEMO_SITE_KEY)
        .await?
        .context("the demo account is not there")?;
    let mut bridge = BridgeServiceClient::connect(format!("http://127.0.0.1:{bridge_grpc_port}"))
        .await
        .context("while reaching the bridge")?;
    let mut connect =
        async |channel: &str, credentials: &[(&str, &str)]| -> anyhow::Result<Integration> {
            let request = ConnectIntegrationRequest {
                account_id: account.id.to_string(),
                channel: channel.into(),
                credentials: credentials
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            };
            Ok(bridge
                .connect_integration(request)
                .await
                .with_context(|| format!("while connecting the demo's {channel}"))?
                .into_inner())
        };
    connect("telegram", &[("bot_token", DEMO_BOT_TOKEN)]).await?;
    let group = DEMO_VK_GROUP.to_string();
    let vk = connect(
        "vk",
        &[
            ("group_id", &group),
            ("access_token", DEMO_VK_TOKEN),
            ("confirmation", DEMO_VK_CONFIRMATION),
            ("secret", DEMO_VK_SECRET),
        ],
    )
    .await?;
    if vk.address.is_empty() {
        return Ok(());
    }
    fakes
        .vk
        .set_callback(DEMO_VK_GROUP, &vk.address, DEMO_VK_SECRET);
    let page = connect(
        "facebook",
        &[
            ("page_id", DEMO_FACEBOOK_PAGE),
            ("page_access_token", DEMO_FACEBOOK_TOKEN),
            ("app_secret", DEMO_FACEBOOK_APP_SECRET),
            ("verify_token", DEMO_FACEBOOK_VERIFY),
        ],
    )
    .await?;
    fakes
        .facebook
        .subscribe(DEMO_FACEBOOK_PAGE, &page.address, DEMO_FACEBOOK_VERIFY)
        .await
        .map_err(|e| anyhow::anyhow!("the demo page's webhook was not verified: {e}"))?;
    Ok(())
}
