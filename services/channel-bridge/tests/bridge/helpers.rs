//! Starts the channel bridge for one test (and again after a stop), on its
//! own database and NATS prefix, and publishes the events it consumes.

use prost::Message as _;
use sqlx::PgPool;
use uuid::Uuid;

use chat_platform::bus::Bus;
use chat_proto::dialog::v1 as pb;
use chat_proto::events::v1 as ev;

use chat_testkit::InProcess;
use chat_testkit::env::TestEnv;
use chat_testkit::env::{caught_up, consumer_info, stopped_pulling};

pub struct TestBridge {
    pub env: TestEnv,
    pub bus: Bus,
    /// A pool on the test's database (tables are `channel_bridge.<table>`).
    pub pool: PgPool,
    running: Option<InProcess>,
}

impl TestBridge {
    pub async fn spawn() -> TestBridge {
        let env = TestEnv::create().await;
        let bus = env.bus().await;
        let running = Some(start(&env).await);
        let pool = env.pool().await;
        TestBridge {
            env,
            bus,
            pool,
            running,
        }
    }

    /// Stops the bridge; it must stop cleanly. Returns once NATS has seen its
    /// consumer stop pulling: until then the server may still hand a new event
    /// to the stopped consumer's last pull request, where it would wait out
    /// the ack timeout (30 s) before being redelivered.
    pub async fn stop(&mut self) {
        let running = self.running.take().expect("running");
        running.stop("the bridge").await;
        stopped_pulling(&self.bus, channel_bridge::outbound::OUTBOUND_CONSUMER).await;
    }

    /// Starts the bridge again on the same database and prefix.
    pub async fn restart(&mut self) {
        assert!(self.running.is_none(), "stop it first");
        self.running = Some(start(&self.env).await);
    }

    /// Stops the bridge and removes the test's data.
    pub async fn finish(mut self) {
        self.stop().await;
        self.pool.close().await;
        self.env.cleanup().await;
    }

    /// Publishes `dialog.messenger_reply_created` for `message` under a new event id
    /// (so JetStream keeps each copy); returns the event id.
    pub async fn publish(&self, message: &pb::Message) -> Uuid {
        let account_id = Uuid::parse_str(&message.account_id).expect("account id");
        self.env
            .publish(
                &self.bus,
                account_id,
                chat_platform::events::MESSENGER_REPLY_CREATED,
                event(message),
            )
            .await
    }

    /// Publishes the same event again, as a redelivery would.
    pub async fn publish_again(&self, event_id: Uuid, message: &pb::Message) {
        let account_id = Uuid::parse_str(&message.account_id).expect("account id");
        self.env
            .publish_with_id(
                &self.bus,
                event_id,
                account_id,
                chat_platform::events::MESSENGER_REPLY_CREATED,
                event(message),
            )
            .await;
    }

    /// Waits until the bridge has handled (and acked) every event published so far;
    /// returns how many events the stream holds.
    pub async fn wait_until_handled(&self) -> u64 {
        caught_up(&self.bus, channel_bridge::outbound::OUTBOUND_CONSUMER).await;
        let stream = self
            .bus
            .jetstream
            .get_stream(self.bus.name("events"))
            .await
            .expect("event stream");
        stream.get_info().await.expect("stream info").state.messages
    }

    /// The service's durable consumer as the server sees it.
    pub async fn consumer(&self) -> async_nats::jetstream::consumer::Info {
        consumer_info(&self.bus, channel_bridge::outbound::OUTBOUND_CONSUMER)
            .await
            .expect("consumer info")
    }

    /// Every queued delivery, in [`in_message_order`].
    pub async fn deliveries(&self) -> Vec<Delivery> {
        sqlx::query_as(
            "select account_id, message_id, dialog_id, channel, state, attempts \
             from channel_bridge.delivery order by message_id",
        )
        .fetch_all(&self.pool)
        .await
        .expect("deliveries")
    }
}

async fn start(env: &TestEnv) -> InProcess {
    let config = channel_bridge::Config {
        http_addr: "127.0.0.1:0".into(),
        grpc_addr: "127.0.0.1:0".into(),
        common: env.common(),
        ..Default::default()
    };
    let app = channel_bridge::Application::build(config)
        .await
        .expect("the bridge starts");
    InProcess::spawn(|shutdown| app.run_until_stopped(shutdown))
}

fn event(message: &pb::Message) -> Vec<u8> {
    ev::MessageCreated {
        message: Some(message.clone()),
        contact_id: Uuid::now_v7().to_string(),
    }
    .encode_to_vec()
}

/// A row of `channel_bridge.delivery`, without its ids and times.
#[derive(Debug, PartialEq, sqlx::FromRow)]
pub struct Delivery {
    pub account_id: Uuid,
    pub message_id: Uuid,
    pub dialog_id: Uuid,
    pub channel: String,
    pub state: String,
    pub attempts: i32,
}

impl Delivery {
    /// What a freshly queued reply looks like.
    pub fn pending(message: &pb::Message, channel: &str) -> Delivery {
        let id = |s: &str| Uuid::parse_str(s).expect("uuid");
        Delivery {
            account_id: id(&message.account_id),
            message_id: id(&message.id),
            dialog_id: id(&message.dialog_id),
            channel: channel.to_owned(),
            state: "pending".to_owned(),
            attempts: 0,
        }
    }
}

/// Sorted as [`TestBridge::deliveries`] returns them (PostgreSQL and `Uuid`
/// both compare uuids bytewise).
pub fn in_message_order(mut deliveries: Vec<Delivery>) -> Vec<Delivery> {
    deliveries.sort_by_key(|d| d.message_id);
    deliveries
}

/// A message of a fresh dialog of `account_id`, ids time-ordered.
pub fn message(account_id: Uuid, author: pb::AuthorKind, channel: pb::Channel) -> pb::Message {
    pb::Message {
        id: Uuid::now_v7().to_string(),
        account_id: account_id.to_string(),
        dialog_id: Uuid::now_v7().to_string(),
        seq: 2,
        author_kind: author as i32,
        author_id: Uuid::now_v7().to_string(),
        client_message_id: Uuid::now_v7().to_string(),
        text: "hello".into(),
        channel: channel as i32,
        delivery_state: pb::DeliveryState::Stored as i32,
        created_at: Some(chat_proto::time::to_proto(chrono::Utc::now())),
        ..Default::default()
    }
}

/// A manager's reply through `channel`.
pub fn reply(account_id: Uuid, channel: pb::Channel) -> pb::Message {
    message(account_id, pb::AuthorKind::Manager, channel)
}
