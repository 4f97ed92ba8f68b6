//! Starts the whole suite for one test, on its own database and NATS prefix,
//! and creates shops (an account with a manager) through the gateway's library.

use chat_platform::Shutdown;
use chat_suite::{Configs, Suite};
use chat_testkit::clients::Api;
use chat_testkit::database::TestDb;
use chat_testkit::env::TestEnv;
use chat_testkit::nats;
use serde_json::Value;

pub struct TestSuite {
    pub suite: Option<Suite>,
    pub env: Option<TestEnv>,
    pub port: u16,
    /// The key ring the bridge seals integrations' secrets under.
    pub bridge_keys: chat_platform::secrets::KeyRing,
    /// The fake Telegram the bridge talks to.
    pub telegram: chat_fakes::telegram::FakeTelegram,
    /// The fake VK the bridge talks to.
    pub vk: chat_fakes::vk::FakeVk,
    /// The fake Facebook Messenger the bridge talks to.
    pub facebook: chat_fakes::facebook::FakeFacebook,
    /// The fakes, on one port.
    fakes_server: chat_fakes::Running,
}

/// The domain of the dialogs' reply addresses in the tests.
pub const INBOUND_DOMAIN: &str = "reply.chat.test";
/// The inbound webhook's password in the tests.
pub const INBOUND_WEBHOOK_TOKEN: &str = "the tests' webhook token";
/// The key the dialogs' reply addresses are signed with in the tests.
pub const INBOUND_SECRET: &str = "the tests' inbound secret";

pub struct Options {
    pub nats_url: String,
    /// A PostgreSQL server of the test's own (its admin URL); else the shared one.
    pub database_admin_url: Option<String>,
    pub extra_gateways: usize,
    /// Extra channel-bridge replicas beside the first.
    pub extra_bridges: usize,
    /// The gateway's settings beside the test's ports and database.
    pub gateway: gateway::Config,
    /// The bridge has a public address: Telegram delivers by webhook, VK
    /// by its Callback API (else the bridge polls).
    pub webhooks: bool,
    /// How often the bridge checks each integration's token (1 s unless a
    /// test must see what happens between two checks).
    pub bridge_health_check_secs: u64,
    /// The SMTP server e-mails leave by (a test's catcher); else a closed
    /// port, so no test e-mails a catcher that happens to run here.
    pub smtp_url: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            nats_url: nats::shared_url(),
            database_admin_url: None,
            extra_gateways: 0,
            extra_bridges: 0,
            gateway: gateway::Config::default(),
            webhooks: false,
            bridge_health_check_secs: 1,
            smtp_url: None,
        }
    }
}

/// A shop: its account, public site key and one manager.
pub struct Shop {
    pub account_id: String,
    pub site_key: String,
    pub email: String,
    pub password: String,
}

impl TestSuite {
    pub async fn start() -> TestSuite {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> TestSuite {
        let db = match options.database_admin_url {
            Some(admin_url) => TestDb::create_on(admin_url).await,
            None => TestDb::create().await,
        };
        let env = TestEnv::on(db, options.nats_url);
        let mut configs = Configs::ephemeral(env.common());
        configs.extra_gateways = options.extra_gateways;
        configs.extra_bridges = options.extra_bridges;
        let bridge_keys = chat_platform::secrets::KeyRing::parse(&configs.bridge.secret_keys.0)
            .expect("the bridge's test keys");
        let retries = chat_fakes::telegram::Retries {
            first: std::time::Duration::from_millis(100),
            cap: std::time::Duration::from_secs(1),
        };
        let telegram = chat_fakes::telegram::FakeTelegram::new(retries);
        let vk = chat_fakes::vk::FakeVk::new(retries);
        let facebook = chat_fakes::facebook::FakeFacebook::new(retries);
        let fakes = telegram
            .clone()
            .router()
            .merge(vk.clone().router())
            .merge(facebook.clone().router());
        let fakes_server = chat_fakes::Running::serve("127.0.0.1:0", fakes)
            .await
            .expect("the fake messengers serve");
        vk.set_base_url(&fakes_server.url());
        facebook.set_base_url(&fakes_server.url());
        configs.bridge.telegram_api_url = fakes_server.url();
        configs.bridge.vk_api_url = fakes_server.url();
        configs.bridge.facebook_api_url = fakes_server.url();
        configs.bridge.health_check_secs = options.bridge_health_check_secs;
        if options.webhooks {
            // The bridge's own address is its public one: a port chosen now
            // (where no socket bound to port 0 takes it before the bridge does).
            let port = nats::free_port();
            configs.bridge.http_addr = format!("127.0.0.1:{port}");
            configs.bridge.public_url = format!("http://127.0.0.1:{port}");
        }
        configs.notification.smtp_url = options
            .smtp_url
            .unwrap_or_else(|| "smtp://127.0.0.1:9".into());
        configs.notification.alert_window_secs = 1;
        configs.notification.visitor_grace_secs = 1;
        configs.notification.inbound_domain = INBOUND_DOMAIN.into();
        configs.notification.inbound_secret = INBOUND_SECRET.into();
        configs.notification.smtp_listen_addr = "127.0.0.1:0".into();
        configs.notification.inbound_http_addr = "127.0.0.1:0".into();
        configs.notification.inbound_webhook_token = INBOUND_WEBHOOK_TOKEN.into();
        configs.notification.retry_base_ms = 200;
        // Shops' own SMTP servers are the tests' catchers, on 127.0.0.1.
        configs.notification.shop_smtp_any_host = true;
        configs.gateway = gateway::Config {
            http_addr: configs.gateway.http_addr,
            ops_addr: configs.gateway.ops_addr,
            common: configs.gateway.common,
            ..options.gateway
        };
        let suite = Suite::start(configs, Shutdown::new())
            .await
            .expect("suite starts");
        let port = suite.gateway_ports[0];
        TestSuite {
            suite: Some(suite),
            env: Some(env),
            port,
            bridge_keys,
            telegram,
            vk,
            facebook,
            fakes_server,
        }
    }

    /// The fake messengers' address (Telegram's, VK's and Facebook's).
    pub fn telegram_url(&self) -> String {
        self.fakes_server.url()
    }

    pub fn env(&self) -> &TestEnv {
        self.env.as_ref().expect("running")
    }

    pub fn suite(&self) -> &Suite {
        self.suite.as_ref().expect("running")
    }

    pub async fn shop(&self, name: &str) -> Shop {
        let pool = &self.suite().gateway_pool;
        let account = gateway::admin::create_account(pool, name)
            .await
            .expect("account");
        let email = format!(
            "{}@{}.example",
            uuid::Uuid::new_v4().simple(),
            name.to_lowercase().replace(' ', "-")
        );
        let password = "correct horse battery".to_owned();
        gateway::admin::create_manager(pool, &account, &email, "Manager", &password)
            .await
            .expect("manager");
        Shop {
            account_id: account.id.to_string(),
            site_key: account.site_key,
            email,
            password,
        }
    }

    /// Another manager of the shop, with a role; returns their e-mail (the
    /// password is the shop's).
    pub async fn colleague(&self, shop: &Shop, name: &str, role: &str) -> String {
        let pool = &self.suite().gateway_pool;
        let account = gateway::db::account_by_site_key(pool, &shop.site_key)
            .await
            .expect("database")
            .expect("the shop");
        let email = format!("{}@colleague.example", uuid::Uuid::new_v4().simple());
        gateway::admin::create_manager_with_role(
            pool,
            &account,
            &email,
            name,
            &shop.password,
            role,
        )
        .await
        .expect("colleague");
        email
    }

    /// A visitor of the shop says hello; returns the dialog that opened.
    pub async fn first_dialog(&self, site_key: &str, visitor: &str) -> String {
        let mut socket =
            chat_testkit::clients::Socket::visitor(self.port, site_key, visitor, None).await;
        socket
            .send_json(serde_json::json!({"type": "send", "client_message_id": client_id(), "text": "hello"}))
            .await;
        socket.wait_for_type("ack").await["message"]["dialog_id"]
            .as_str()
            .expect("a dialog id")
            .to_owned()
    }

    /// The id of the shop's one dialog.
    pub async fn only_dialog(&self, api: &Api) -> String {
        let (status, page) = api.get("/api/v1/dialogs").await;
        assert_eq!(status, 200, "{page}");
        let dialogs = page["dialogs"].as_array().expect("dialogs");
        assert_eq!(dialogs.len(), 1, "{page}");
        dialogs[0]["id"].as_str().expect("id").to_owned()
    }

    /// Connects a Telegram bot to the shop in webhook mode, as the bridge
    /// stores it; returns how Telegram would reach it.
    pub async fn connect_telegram(&self, shop: &Shop) -> TelegramWebhook {
        let pool = self.env().schema_pool("channel_bridge").await;
        let secret = uuid::Uuid::new_v4().simple().to_string();
        // A bot of its own: a bot belongs to one account.
        let bot_id = 100_000 + u64::from(uuid::Uuid::new_v4().as_fields().1);
        let connection = channel_bridge::integrations::Connection {
            account_id: shop.account_id.parse().expect("account id"),
            channel: "telegram",
            settings: serde_json::json!({"bot_id": bot_id, "username": "tea_shop_bot"}),
            secrets: [
                ("bot_token".to_owned(), format!("{bot_id}:test-token")),
                ("webhook_secret".to_owned(), secret.clone()),
            ]
            .into(),
            poll_cursor: None,
        };
        let account_id = connection.account_id;
        let id = channel_bridge::integrations::id_for(&pool, account_id, "telegram")
            .await
            .expect("an id");
        let integration =
            channel_bridge::integrations::connect(&pool, &self.bridge_keys, id, connection)
                .await
                .expect("the integration is stored");
        pool.close().await;
        TelegramWebhook {
            url: format!(
                "http://127.0.0.1:{}/webhooks/telegram/{}",
                self.suite().ops_ports.bridge,
                integration.id
            ),
            secret,
        }
    }

    /// The channel-bridge replicas; the first serves the webhooks and the gateway.
    pub fn bridges(&mut self) -> &mut [chat_suite::BridgeReplica] {
        &mut self.suite.as_mut().expect("running").bridges
    }

    /// Which replica holds the one polling lease, once one does.
    pub async fn poll_holder(&mut self) -> usize {
        let pool = self.env().pool().await;
        let holder: String = chat_testkit::eventually("a replica polls", || async {
            sqlx::query_scalar(
                "select holder from channel_bridge.poll_lease where expires_at > now()",
            )
            .fetch_optional(&pool)
            .await
            .expect("the leases")
        })
        .await;
        pool.close().await;
        self.bridges()
            .iter()
            .position(|bridge| bridge.name == holder)
            .expect("the holder is one of the replicas")
    }

    /// A gauge of one integration in the bridge's metrics, if it is there.
    pub async fn integration_gauge(&self, name: &str, integration_id: &str) -> Option<f64> {
        let port = self.suite().ops_ports.bridge;
        let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
            .await
            .expect("the bridge's metrics")
            .text()
            .await
            .expect("the metrics' text");
        let labelled = format!("integration=\"{integration_id}\"");
        text.lines()
            .filter(|line| line.starts_with(&format!("{name}{{")) && line.contains(&labelled))
            .find_map(|line| line.rsplit(' ').next()?.parse().ok())
    }

    pub async fn manager_api(&self, shop: &Shop) -> Api {
        Api::login(self.port, &shop.email, &shop.password).await
    }

    /// Stops every service (each must stop cleanly) and removes the test's data.
    pub async fn stop(mut self) {
        let result = self.suite.take().expect("running").stop().await;
        self.env.take().expect("env").cleanup().await;
        result.expect("every service stops cleanly");
    }
}

/// A Telegram integration's webhook, as Telegram delivers to it.
pub struct TelegramWebhook {
    pub url: String,
    pub secret: String,
}

impl TelegramWebhook {
    /// Delivers `body` with the right secret token; returns the status.
    pub async fn deliver(&self, body: &serde_json::Value) -> u16 {
        self.deliver_raw(body.to_string(), Some(&self.secret)).await
    }

    /// Delivers raw bytes with the secret token given (none: no header).
    pub async fn deliver_raw(&self, body: String, secret: Option<&str>) -> u16 {
        let mut request = reqwest::Client::new()
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        request
            .send()
            .await
            .expect("the bridge answers")
            .status()
            .as_u16()
    }
}

/// An update of a person writing to the bot in a private chat.
pub fn telegram_text(
    update_id: u64,
    user_id: u64,
    first_name: &str,
    text: &str,
) -> serde_json::Value {
    serde_json::json!({
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": {"id": user_id, "is_bot": false, "first_name": first_name, "last_name": "Петрова",
                     "language_code": "ru"},
            "chat": {"id": user_id, "type": "private", "first_name": first_name},
            "date": 1_764_700_000,
            "text": text,
        },
    })
}

/// A fresh client message id.
pub fn client_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

// ---------------------------------------------------------------- messengers

/// The shop's dialogs and, for each, its messages' texts and channels.
pub async fn console(api: &Api) -> Vec<(Value, Vec<(String, String)>)> {
    let (status, page) = api.get("/api/v1/dialogs").await;
    assert_eq!(status, 200, "{page}");
    let mut dialogs = Vec::new();
    for dialog in page["dialogs"].as_array().expect("dialogs") {
        let id = dialog["id"].as_str().expect("id");
        let (status, history) = api.get(&format!("/api/v1/dialogs/{id}/messages")).await;
        assert_eq!(status, 200, "{history}");
        let messages = history["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| {
                assert_eq!(m["author_kind"], "visitor", "{m}");
                (
                    m["text"].as_str().unwrap().to_owned(),
                    m["channel"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        dialogs.push((dialog.clone(), messages));
    }
    dialogs
}

/// The texts of a dialog's messages as the console's API lists them, oldest first.
pub async fn dialog_texts(api: &Api, dialog_id: &str) -> Vec<String> {
    let (status, page) = api
        .get(&format!("/api/v1/dialogs/{dialog_id}/messages?limit=200"))
        .await;
    assert_eq!(status, 200, "{page}");
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits until the shop's console holds `count` messages in all.
pub async fn until_messages(api: &Api, count: usize) -> Vec<(Value, Vec<(String, String)>)> {
    chat_testkit::eventually("the messages in the console", || async {
        let dialogs = console(api).await;
        let total: usize = dialogs.iter().map(|(_, m)| m.len()).sum();
        (total >= count).then_some(dialogs)
    })
    .await
}

/// The shop's integrations, as the console lists them.
pub async fn integrations(api: &Api) -> Vec<Value> {
    let (status, list) = api.get("/api/v1/integrations").await;
    assert_eq!(status, 200, "{list}");
    list["integrations"]
        .as_array()
        .expect("integrations")
        .clone()
}

/// Waits until the message's delivery state is final; returns the message.
pub async fn delivered_or_failed(api: &Api, dialog_id: &str, message_id: &str) -> Value {
    chat_testkit::eventually("the reply's delivery state", || async {
        let (_, history) = api
            .get(&format!("/api/v1/dialogs/{dialog_id}/messages"))
            .await;
        history["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == message_id && m["delivery_state"] != "stored")
            .cloned()
    })
    .await
}

/// A manager's reply in the dialog, which goes out through `channel` (where
/// the person wrote from); returns the stored message's id.
pub async fn reply(api: &Api, dialog_id: &str, channel: &str, text: &str) -> String {
    let (status, posted) = api
        .post(
            &format!("/api/v1/dialogs/{dialog_id}/messages"),
            serde_json::json!({"client_message_id": client_id(), "text": text}),
        )
        .await;
    assert_eq!(status, 201, "{posted}");
    assert_eq!(posted["message"]["channel"], channel, "{posted}");
    posted["message"]["id"].as_str().unwrap().to_owned()
}

/// The shop's widget settings as a `PUT /api/v1/widget/settings` takes
/// them: what `GET` answers, less its read-only fields.
pub async fn widget_settings(api: &Api) -> serde_json::Value {
    let (status, mut settings) = api.get("/api/v1/widget/settings").await;
    assert_eq!(status, 200, "{settings}");
    for read_only in [
        "offline_photo_url",
        "site_key",
        "identity_secret",
        "updated_at",
    ] {
        settings
            .as_object_mut()
            .expect("an object")
            .remove(read_only);
    }
    settings
}
