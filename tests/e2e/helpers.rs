//! Starts the whole suite for one test, on its own database and NATS prefix,
//! and creates shops (an account with a manager) through the gateway's library.

use chat_platform::Shutdown;
use chat_suite::{Configs, Suite};
use chat_testkit::clients::Api;
use chat_testkit::database::TestDb;
use chat_testkit::env::TestEnv;
use chat_testkit::nats;

pub struct TestSuite {
    pub suite: Option<Suite>,
    pub env: Option<TestEnv>,
    pub port: u16,
}

pub struct Options {
    pub nats_url: String,
    /// A PostgreSQL server of the test's own (its admin URL); else the shared one.
    pub database_admin_url: Option<String>,
    pub extra_gateways: usize,
    /// The gateway's settings beside the test's ports and database.
    pub gateway: gateway::Config,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            nats_url: nats::shared_url(),
            database_admin_url: None,
            extra_gateways: 0,
            gateway: gateway::Config::default(),
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
        configs.gateway = gateway::Config {
            http_addr: configs.gateway.http_addr,
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
        }
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

/// A fresh client message id.
pub fn client_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
