//! A test's own world for one service or the whole suite: a fresh database
//! and NATS prefix, the settings that point services at them, the events on
//! its stream, and their removal afterwards.

use async_nats::HeaderMap;
use async_nats::jetstream::consumer;
use futures::StreamExt as _;
use prost::Message as _;
use uuid::Uuid;

use chat_platform::bus::Bus;
use chat_platform::config::Common;
use chat_proto::events::v1::Envelope;

use crate::database::TestDb;
use crate::nats;

pub struct TestEnv {
    pub db: TestDb,
    pub prefix: String,
    pub nats_url: String,
}

/// An event as it sits in the stream.
#[derive(Debug)]
pub struct StoredEvent {
    pub subject: String,
    pub headers: HeaderMap,
    pub envelope: Envelope,
}

impl TestEnv {
    /// A fresh database and prefix on the shared NATS server.
    pub async fn create() -> TestEnv {
        Self::with_nats(nats::shared_url()).await
    }

    /// A fresh database and prefix on the NATS server at `nats_url`.
    pub async fn with_nats(nats_url: String) -> TestEnv {
        Self::on(TestDb::create().await, nats_url)
    }

    /// A fresh prefix on the NATS server at `nats_url`, with `db`.
    pub fn on(db: TestDb, nats_url: String) -> TestEnv {
        chat_platform::telemetry::init_for_tests();
        TestEnv {
            db,
            prefix: nats::unique_prefix(),
            nats_url,
        }
    }

    /// What every service of the test is configured with.
    pub fn common(&self) -> Common {
        Common {
            database_url: self.db.url.clone(),
            database_max_connections: 8,
            nats_url: self.nats_url.clone(),
            nats_prefix: self.prefix.clone(),
            shutdown_grace_secs: 5,
            // Small: JetStream reserves a stream's bound on the disk, and many tests run at once.
            events_max_bytes: 64 << 20,
            ..Common::default()
        }
    }

    /// A connection to the test's database, outside any service's schema
    /// (tables are named `<schema>.<table>`).
    pub async fn pool(&self) -> sqlx::PgPool {
        sqlx::PgPool::connect(&self.db.url)
            .await
            .expect("test database reachable")
    }

    /// A connection to the test's database inside a service's schema, as
    /// that service's own queries expect.
    pub async fn schema_pool(&self, schema: &str) -> sqlx::PgPool {
        use std::str::FromStr as _;
        let options = sqlx::postgres::PgConnectOptions::from_str(&self.db.url)
            .expect("test database URL")
            .options([("search_path", schema)]);
        sqlx::PgPool::connect_with(options)
            .await
            .expect("test database reachable")
    }

    /// The bus under the test's prefix, with the event stream created.
    pub async fn bus(&self) -> Bus {
        let bus = Bus::connect(&self.common(), "test")
            .await
            .expect("NATS reachable");
        bus.ensure_stream().await.expect("event stream");
        bus
    }

    /// Publishes an event as a service's outbox relay would; returns its id.
    pub async fn publish(
        &self,
        bus: &Bus,
        account_id: Uuid,
        event_type: &str,
        payload: Vec<u8>,
    ) -> Uuid {
        let event_id = Uuid::now_v7();
        self.publish_with_id(bus, event_id, account_id, event_type, payload)
            .await;
        event_id
    }

    /// Publishes an event with a given id: the same id twice is a redelivery.
    pub async fn publish_with_id(
        &self,
        bus: &Bus,
        event_id: Uuid,
        account_id: Uuid,
        event_type: &str,
        payload: Vec<u8>,
    ) {
        let envelope = Envelope {
            event_id: event_id.to_string(),
            occurred_at: Some(chat_proto::time::to_proto(chrono::Utc::now())),
            account_id: account_id.to_string(),
            r#type: event_type.to_owned(),
            payload,
        };
        bus.jetstream
            .publish(bus.subject(event_type), envelope.encode_to_vec().into())
            .await
            .expect("publish")
            .await
            .expect("publish ack");
    }

    /// Every event in the test's stream, oldest first.
    pub async fn events(&self, bus: &Bus) -> Vec<StoredEvent> {
        let stream = bus
            .jetstream
            .get_stream(bus.name("events"))
            .await
            .expect("event stream");
        let state = stream.get_info().await.expect("stream info").state;
        let mut events = Vec::new();
        if state.messages == 0 {
            return events;
        }
        for sequence in state.first_sequence..=state.last_sequence {
            let Ok(message) = stream.get_raw_message(sequence).await else {
                continue; // deleted
            };
            events.push(StoredEvent {
                subject: message.subject.to_string(),
                headers: message.headers,
                envelope: Envelope::decode(message.payload).expect("events are envelopes"),
            });
        }
        events
    }

    /// Removes the test's stream and database.
    pub async fn cleanup(self) {
        nats::remove_prefix(&self.nats_url, &self.prefix).await;
        self.db.cleanup().await;
    }
}

/// A durable consumer's state on the server (`consumer` unprefixed, as
/// the service names it), once it exists.
pub async fn consumer_info(bus: &Bus, consumer: &str) -> Option<consumer::Info> {
    let stream = bus.jetstream.get_stream(bus.name("events")).await.ok()?;
    stream.consumer_info(bus.name(consumer)).await.ok()
}

/// Waits until the durable consumer has handled and acked every event in
/// the stream.
pub async fn caught_up(bus: &Bus, consumer: &str) {
    crate::eventually(&format!("consumer {consumer} to catch up"), || async {
        let info = consumer_info(bus, consumer).await?;
        (info.num_pending == 0 && info.num_ack_pending == 0).then_some(())
    })
    .await;
}

/// Waits until every durable consumer on the stream (each service's) has
/// handled and acked every event in it; returns their names.
pub async fn every_consumer_caught_up(bus: &Bus) -> Vec<String> {
    crate::eventually("every consumer to catch up", || async {
        let stream = bus.jetstream.get_stream(bus.name("events")).await.ok()?;
        let mut consumers = stream.consumers();
        let mut names = Vec::new();
        while let Some(info) = consumers.next().await {
            let info = info.ok()?;
            let Some(name) = info.config.durable_name.clone() else {
                continue;
            };
            if info.num_pending > 0 || info.num_ack_pending > 0 {
                return None;
            }
            names.push(name);
        }
        Some(names)
    })
    .await
}

/// Waits until NATS sees the durable consumer of a stopped service no
/// longer pulling. Until then the server may still hand a new event to
/// the consumer's last pull request, where it waits out the ack timeout
/// (30 s) before it is redelivered: a test that restarts a service waits
/// for this, so that it measures the restart and not that timeout.
pub async fn stopped_pulling(bus: &Bus, consumer: &str) {
    crate::eventually("NATS to see the consumer stop pulling", || async {
        let info = consumer_info(bus, consumer).await;
        info.is_none_or(|info| info.num_waiting == 0).then_some(())
    })
    .await;
}
