//! Starts the notification service for one test (and again after a stop), on
//! its own database and NATS prefix, and publishes the events it consumes.

use std::str::FromStr as _;

use chrono::{DateTime, TimeZone as _, Utc};
use prost::Message as _;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use uuid::Uuid;

use chat_platform::bus::Bus;
use chat_proto::dialog::v1 as pb;
use chat_proto::events::v1 as ev;
use chat_testkit::InProcess;
use chat_testkit::env::TestEnv;
use chat_testkit::env::{caught_up, consumer_info, stopped_pulling};
use chat_testkit::eventually;

pub struct TestApp {
    pub env: TestEnv,
    pub bus: Bus,
    /// A pool on the `notification` schema, as the service's own.
    pub pool: PgPool,
    running: Option<Running>,
}

struct Running {
    ops_port: u16,
    service: InProcess,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        let env = TestEnv::create().await;
        let bus = env.bus().await;
        let running = Some(start(&env).await);
        let options = PgConnectOptions::from_str(&env.db.url)
            .expect("database URL")
            .options([("search_path", "notification")]);
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .expect("test database reachable");
        TestApp {
            env,
            bus,
            pool,
            running,
        }
    }

    pub fn ops_port(&self) -> u16 {
        self.running.as_ref().expect("running").ops_port
    }

    /// Stops the service; it must stop cleanly. Returns once NATS has seen its
    /// consumer stop pulling: until then the server may still hand a new event
    /// to the stopped consumer's last pull request, where it would wait out
    /// the ack timeout (30 s) before being redelivered.
    pub async fn stop(&mut self) {
        let running = self.running.take().expect("running");
        running.service.stop("the notification service").await;
        stopped_pulling(&self.bus, notification::activity::ACTIVITY_CONSUMER).await;
    }

    /// Starts the service again on the same database and prefix.
    pub async fn restart(&mut self) {
        assert!(self.running.is_none(), "stop it first");
        self.running = Some(start(&self.env).await);
    }

    /// Stops the service and removes the test's data.
    pub async fn finish(mut self) {
        self.stop().await;
        self.pool.close().await;
        self.env.cleanup().await;
    }

    /// Publishes `dialog.message_created` for `message`; returns the event id.
    pub async fn publish(&self, dialog: &Dialog, message: &pb::Message) -> Uuid {
        self.env
            .publish(
                &self.bus,
                dialog.account_id,
                "dialog.message_created",
                dialog.event(message),
            )
            .await
    }

    /// Publishes the same event again, as a redelivery would.
    pub async fn publish_again(&self, event_id: Uuid, dialog: &Dialog, message: &pb::Message) {
        self.env
            .publish_with_id(
                &self.bus,
                event_id,
                dialog.account_id,
                "dialog.message_created",
                dialog.event(message),
            )
            .await;
    }

    /// Waits until the service has handled (and acked) every event published so far.
    pub async fn wait_until_handled(&self) {
        caught_up(&self.bus, notification::activity::ACTIVITY_CONSUMER).await;
    }

    /// The service's durable consumer as the server sees it.
    pub async fn consumer(&self) -> async_nats::jetstream::consumer::Info {
        consumer_info(&self.bus, notification::activity::ACTIVITY_CONSUMER)
            .await
            .expect("consumer info")
    }

    /// The dialog's activity row, if it has one.
    pub async fn activity(&self, dialog: &Dialog) -> Option<Activity> {
        sqlx::query_as(
            "select contact_id, last_visitor_seq, last_visitor_message_at, \
                    last_manager_seq, last_manager_message_at \
             from notification.dialog_activity where account_id = $1 and dialog_id = $2",
        )
        .bind(dialog.account_id)
        .bind(dialog.dialog_id)
        .fetch_optional(&self.pool)
        .await
        .expect("activity")
    }

    /// Waits for the dialog's activity row to be `expected`.
    pub async fn activity_becomes(&self, dialog: &Dialog, expected: Activity) {
        eventually(&format!("activity {expected:?}"), || async {
            let activity = self.activity(dialog).await;
            (activity.as_ref() == Some(&expected)).then_some(())
        })
        .await;
    }

    pub async fn waiting_for_answer(&self, account_id: Uuid) -> Vec<Uuid> {
        notification::activity::waiting_for_answer(&self.pool, account_id)
            .await
            .expect("waiting_for_answer")
    }
}

async fn start(env: &TestEnv) -> Running {
    let config = notification::Config {
        ops_addr: "127.0.0.1:0".into(),
        common: env.common(),
    };
    let app = notification::Application::build(config)
        .await
        .expect("notification starts");
    let ops_port = app.ops_port();
    Running {
        ops_port,
        service: InProcess::spawn(|shutdown| app.run_until_stopped(shutdown)),
    }
}

/// A row of `notification.dialog_activity`, without its bookkeeping.
#[derive(Debug, PartialEq, sqlx::FromRow)]
pub struct Activity {
    pub contact_id: Uuid,
    pub last_visitor_seq: i64,
    pub last_visitor_message_at: Option<DateTime<Utc>>,
    pub last_manager_seq: i64,
    pub last_manager_message_at: Option<DateTime<Utc>>,
}

/// A dialog whose messages the tests make up.
pub struct Dialog {
    pub account_id: Uuid,
    pub dialog_id: Uuid,
    pub contact_id: Uuid,
}

impl Dialog {
    pub fn new(account_id: Uuid) -> Dialog {
        Dialog {
            account_id,
            dialog_id: Uuid::now_v7(),
            contact_id: Uuid::now_v7(),
        }
    }

    pub fn visitor_message(&self, seq: i64) -> pb::Message {
        self.message(seq, pb::AuthorKind::Visitor, self.contact_id)
    }

    pub fn manager_message(&self, seq: i64) -> pb::Message {
        self.message(seq, pb::AuthorKind::Manager, Uuid::now_v7())
    }

    fn message(&self, seq: i64, author: pb::AuthorKind, author_id: Uuid) -> pb::Message {
        pb::Message {
            id: Uuid::now_v7().to_string(),
            account_id: self.account_id.to_string(),
            dialog_id: self.dialog_id.to_string(),
            seq,
            author_kind: author as i32,
            author_id: author_id.to_string(),
            client_message_id: format!("m{seq}"),
            text: format!("message {seq}"),
            channel: pb::Channel::Site as i32,
            delivery_state: pb::DeliveryState::Stored as i32,
            created_at: Some(chat_proto::time::to_proto(written_at(seq))),
            ..Default::default()
        }
    }

    fn event(&self, message: &pb::Message) -> Vec<u8> {
        ev::MessageCreated {
            message: Some(message.clone()),
            contact_id: self.contact_id.to_string(),
        }
        .encode_to_vec()
    }
}

/// When the test's message `seq` was written: a second apart, in whole seconds
/// (so they compare equal after a round trip through PostgreSQL).
pub fn written_at(seq: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0)
        .single()
        .expect("a valid time")
        + chrono::Duration::seconds(seq)
}
