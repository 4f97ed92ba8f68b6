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
use chat_testkit::mail::MailCatcher;

pub struct TestApp {
    pub env: TestEnv,
    pub bus: Bus,
    /// The SMTP server the service sends through.
    pub mail: MailCatcher,
    /// A pool on the `notification` schema, as the service's own.
    pub pool: PgPool,
    running: Option<Running>,
}

struct Running {
    ops_port: u16,
    grpc_port: u16,
    service: InProcess,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        let env = TestEnv::create().await;
        let bus = env.bus().await;
        let mail = MailCatcher::start().await;
        let running = Some(start(&env, &mail).await);
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
            mail,
            pool,
            running,
        }
    }

    pub fn grpc_port(&self) -> u16 {
        self.running.as_ref().expect("running").grpc_port
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
        for consumer in [
            notification::directory::DIRECTORY_CONSUMER,
            notification::alerts::watch::ALERTS_CONSUMER,
            notification::contacts::CONTACTS_CONSUMER,
        ] {
            stopped_pulling(&self.bus, consumer).await;
        }
    }

    /// Starts the service again on the same database and prefix.
    pub async fn restart(&mut self) {
        assert!(self.running.is_none(), "stop it first");
        self.running = Some(start(&self.env, &self.mail).await);
    }

    /// Stops the service and removes the test's data.
    pub async fn finish(mut self) {
        if self.running.is_some() {
            self.stop().await;
        }
        self.mail.stop().await;
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

    /// Waits until the service has handled (and acked) every event published so far.
    pub async fn wait_until_handled(&self) {
        caught_up(&self.bus, notification::directory::DIRECTORY_CONSUMER).await;
        caught_up(&self.bus, notification::alerts::watch::ALERTS_CONSUMER).await;
    }

    /// Publishes `gateway.manager_changed` for a signed-up, active manager.
    pub async fn manager(&self, manager: &Manager) {
        let changed = ev::ManagerChanged {
            manager_id: manager.id.to_string(),
            email: manager.email.clone(),
            name: manager.name.clone(),
            role: "manager".into(),
            active: true,
            signed_up: true,
            version: Utc::now().timestamp_micros(),
            shop_name: "Tea & Co".into(),
            language: manager.language.into(),
            shop_language: String::new(),
        };
        self.env
            .publish(
                &self.bus,
                manager.account_id,
                "gateway.manager_changed",
                changed.encode_to_vec(),
            )
            .await;
    }

    /// Publishes `dialog.dialog_created` with the dialog's manager (if any).
    pub async fn dialog_created(
        &self,
        dialog: &Dialog,
        manager: Option<&Manager>,
        contact_name: &str,
    ) {
        let created = ev::DialogCreated {
            dialog: Some(pb::Dialog {
                id: dialog.dialog_id.to_string(),
                account_id: dialog.account_id.to_string(),
                contact_id: dialog.contact_id.to_string(),
                manager_id: manager.map(|m| m.id.to_string()).unwrap_or_default(),
                contact_name: contact_name.into(),
                ..Default::default()
            }),
        };
        self.env
            .publish(
                &self.bus,
                dialog.account_id,
                "dialog.dialog_created",
                created.encode_to_vec(),
            )
            .await;
    }

    /// Publishes `dialog.dialog_read`: the manager read up to `seq`.
    pub async fn read(&self, dialog: &Dialog, manager: &Manager, seq: i64) {
        let read = ev::DialogRead {
            dialog_id: dialog.dialog_id.to_string(),
            manager_id: manager.id.to_string(),
            seq,
            unread_count: 0,
        };
        self.env
            .publish(
                &self.bus,
                dialog.account_id,
                "dialog.dialog_read",
                read.encode_to_vec(),
            )
            .await;
    }

    /// Publishes a visitor's message `seq` with `text`.
    pub async fn visitor_writes(&self, dialog: &Dialog, seq: i64, text: &str) -> Uuid {
        let mut message = dialog.visitor_message(seq);
        message.text = text.into();
        message.created_at = Some(chat_proto::time::to_proto(Utc::now()));
        self.publish(dialog, &message).await
    }

    /// Opens a console for the manager, as the gateway records it in the
    /// presence bucket; returns the entry's key, for [`TestApp::console_closed`].
    pub async fn console_open(&self, manager: &Manager) -> String {
        let key = format!("{}.m.{}.{}", manager.account_id, manager.id, Uuid::now_v7());
        presence_bucket(&self.bus)
            .await
            .put(&key, bytes::Bytes::new())
            .await
            .expect("presence put");
        key
    }

    pub async fn console_closed(&self, key: &str) {
        presence_bucket(&self.bus)
            .await
            .delete(key)
            .await
            .expect("presence delete");
    }

    /// Waits until the dialog's alert was decided (written or not): nothing
    /// of it waits any more.
    pub async fn alert_settled(&self, dialog: &Dialog) {
        eventually("the alert decided", || async {
            let waiting: i64 = sqlx::query_scalar(
                "select (select count(*) from notification.unalerted_message where dialog_id = $1) \
                      + (select count(*) from notification.alert_due where dialog_id = $1)",
            )
            .bind(dialog.dialog_id)
            .fetch_one(&self.pool)
            .await
            .expect("waiting messages");
            let held: i64 = sqlx::query_scalar(
                "select count(*) from notification.dialog_state where dialog_id = $1 and alerted_seq > 0",
            )
            .bind(dialog.dialog_id)
            .fetch_one(&self.pool)
            .await
            .expect("dialog state");
            (waiting == 0 && held == 1).then_some(())
        })
        .await;
    }

    /// The e-mail log's rows: (kind, to, status, attempts), oldest first.
    pub async fn email_log(&self) -> Vec<(String, String, String, i32)> {
        sqlx::query_as(
            "select kind, to_address, status, attempts from notification.email order by created_at",
        )
        .fetch_all(&self.pool)
        .await
        .expect("email log")
    }

    /// The durable consumer of the dialogs' events (the alerts') as
    /// the server sees it.
    pub async fn consumer(&self) -> async_nats::jetstream::consumer::Info {
        consumer_info(&self.bus, notification::alerts::watch::ALERTS_CONSUMER)
            .await
            .expect("consumer info")
    }

    /// The visitor's messages of the dialog held for its alert, and how
    /// far its messages were alerted about or answered.
    pub async fn held(&self, dialog: &Dialog) -> (Vec<i64>, i64) {
        let seqs = sqlx::query_scalar(
            "select seq from notification.unalerted_message \
             where account_id = $1 and dialog_id = $2 order by seq",
        )
        .bind(dialog.account_id)
        .bind(dialog.dialog_id)
        .fetch_all(&self.pool)
        .await
        .expect("held messages");
        let alerted: Option<i64> = sqlx::query_scalar(
            "select alerted_seq from notification.dialog_state \
             where account_id = $1 and dialog_id = $2",
        )
        .bind(dialog.account_id)
        .bind(dialog.dialog_id)
        .fetch_optional(&self.pool)
        .await
        .expect("dialog state");
        (seqs, alerted.unwrap_or(0))
    }
}

/// How long a dialog's alert waits for more messages, in the tests.
pub const WINDOW_SECS: u64 = 1;
pub const CONSOLE_URL: &str = "https://chat.test/console/";

async fn start(env: &TestEnv, mail: &MailCatcher) -> Running {
    let config = notification::Config {
        ops_addr: "127.0.0.1:0".into(),
        grpc_addr: "127.0.0.1:0".into(),
        console_url: CONSOLE_URL.into(),
        alert_window_secs: WINDOW_SECS,
        smtp_url: mail.smtp_url(),
        smtp_timeout_secs: 5,
        mail_from: "chat@chat.test".into(),
        retry_base_ms: 200,
        push_hosts: "127.0.0.1".into(),
        common: env.common(),
        ..Default::default()
    };
    let app = notification::Application::build(config)
        .await
        .expect("notification starts");
    let (ops_port, grpc_port) = (app.ops_port(), app.grpc_port());
    Running {
        ops_port,
        grpc_port,
        service: InProcess::spawn(|shutdown| app.run_until_stopped(shutdown)),
    }
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

/// A manager of an account, with an address.
pub struct Manager {
    pub account_id: Uuid,
    pub id: Uuid,
    pub email: String,
    pub name: String,
    /// The console's language they chose; empty: none.
    pub language: &'static str,
}

impl Manager {
    pub fn new(account_id: Uuid, name: &str) -> Manager {
        let id = Uuid::now_v7();
        Manager {
            account_id,
            id,
            email: format!(
                "{}-{}@shop.test",
                name.to_lowercase(),
                &id.simple().to_string()[..8]
            ),
            name: name.into(),
            language: "",
        }
    }

    /// The same manager, having chosen `language` in the console.
    pub fn speaking(self, language: &'static str) -> Manager {
        Manager { language, ..self }
    }
}

/// The gateway's presence bucket, as it creates it.
async fn presence_bucket(bus: &Bus) -> async_nats::jetstream::kv::Store {
    use async_nats::jetstream::stream;
    let name = bus.name("presence");
    bus.jetstream
        .get_or_create_stream(stream::Config {
            name: format!("KV_{name}"),
            subjects: vec![format!("$KV.{name}.>")],
            max_messages_per_subject: 1,
            max_age: std::time::Duration::from_secs(60),
            storage: stream::StorageType::Memory,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            discard: stream::DiscardPolicy::New,
            ..Default::default()
        })
        .await
        .expect("presence bucket");
    bus.jetstream
        .get_key_value(name)
        .await
        .expect("presence bucket")
}
