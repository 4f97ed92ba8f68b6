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
}

impl Default for Options {
    fn default() -> Self {
        Self {
            nats_url: nats::shared_url(),
            database_admin_url: None,
            extra_gateways: 0,
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
