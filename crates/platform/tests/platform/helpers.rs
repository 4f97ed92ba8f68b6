//! What the platform tests share: a pool on a schema of the test's database,
//! the outbox relay and a consumer running in tasks that stop cleanly, and
//! the state of a consumer as the server sees it.

use std::future::Future;
use std::sync::{Arc, Mutex};

use async_nats::jetstream::consumer;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tokio::task::JoinHandle;
use uuid::Uuid;

use chat_platform::Shutdown;
use chat_platform::bus::{BATCH_LINGER, Batches, Bus, HandlerError};
use chat_platform::db;
use chat_platform::outbox::{NewEvent, Outbox};
use chat_proto::events::v1::Envelope;
use chat_testkit::PATIENCE;
use chat_testkit::env::TestEnv;

/// Only the platform's own table (the outbox) is needed.
static MIGRATOR: Migrator = sqlx::migrate!("tests/platform/migrations");
/// The schema the tests write their outbox rows into.
const SCHEMA: &str = "platform_test";
/// The event type every test publishes.
pub const EVENT_TYPE: &str = "platform.thing_happened";

/// A pool on the test schema, with the outbox table created.
pub async fn pool(env: &TestEnv) -> PgPool {
    db::connect(&env.common(), SCHEMA, &MIGRATOR)
        .await
        .expect("test schema")
}

/// An event of [`EVENT_TYPE`] with `payload`.
pub fn event(account_id: Uuid, payload: &[u8]) -> NewEvent {
    NewEvent::new(account_id, EVENT_TYPE, payload.to_vec())
}

/// Commits one event through the outbox, as a service's write would.
pub async fn commit_event(
    pool: &PgPool,
    outbox: &Outbox,
    account_id: Uuid,
    payload: &[u8],
) -> Uuid {
    let mut tx = pool.begin().await.expect("begin");
    let staged = outbox
        .enqueue(&mut tx, event(account_id, payload))
        .await
        .expect("enqueue");
    let event_id = staged.ids()[0];
    tx.commit().await.expect("commit");
    outbox.committed(staged);
    event_id
}

/// Rows waiting in the outbox.
pub async fn outbox_len(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from outbox")
        .fetch_one(pool)
        .await
        .expect("count outbox")
}

/// The outbox relay running in a task.
pub struct Relay {
    pub outbox: Outbox,
    shutdown: Shutdown,
    task: JoinHandle<()>,
}

impl Relay {
    pub fn start(pool: &PgPool, bus: &Bus) -> Relay {
        Relay::start_with(pool, bus, Outbox::default())
    }

    /// The relay of `outbox` (one made with a resolver, say).
    pub fn start_with(pool: &PgPool, bus: &Bus, outbox: Outbox) -> Relay {
        let shutdown = Shutdown::new();
        let task = tokio::spawn(
            outbox
                .clone()
                .relay(pool.clone(), bus.clone(), shutdown.clone()),
        );
        Relay {
            outbox,
            shutdown,
            task,
        }
    }

    /// Stops the relay; it must stop (after its short drain) rather than hang.
    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("the relay stops")
            .expect("the relay task does not panic");
    }
}

/// Every call of a test's handler, in order, by event id.
#[derive(Clone, Default)]
pub struct Deliveries(Arc<Mutex<Vec<String>>>);

impl Deliveries {
    /// Records a delivery; returns how many times this event has been seen.
    pub fn record(&self, envelope: &Envelope) -> usize {
        let mut seen = self.0.lock().expect("lock");
        seen.push(envelope.event_id.clone());
        seen.iter().filter(|id| **id == envelope.event_id).count()
    }

    pub fn count(&self, event_id: Uuid) -> usize {
        let id = event_id.to_string();
        self.0
            .lock()
            .expect("lock")
            .iter()
            .filter(|seen| **seen == id)
            .count()
    }

    pub fn all(&self) -> Vec<String> {
        self.0.lock().expect("lock").clone()
    }
}

/// What a batch handler of these tests returns.
pub type Handled = std::pin::Pin<Box<dyn Future<Output = Result<(), HandlerError>> + Send>>;

/// A batch handler that gives `handler` the batch's events one at a time,
/// stopping at the first failure.
pub fn one_by_one<H, F>(
    handler: H,
) -> impl Fn(Vec<Envelope>) -> Handled + Clone + Send + Sync + 'static
where
    H: Fn(Envelope) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<(), HandlerError>> + Send + 'static,
{
    move |envelopes: Vec<Envelope>| {
        let handler = handler.clone();
        Box::pin(async move {
            for envelope in envelopes {
                handler(envelope).await?;
            }
            Ok(())
        })
    }
}

/// A durable consumer of [`EVENT_TYPE`] running in a task.
pub struct Consumer {
    bus: Bus,
    durable: &'static str,
    shutdown: Shutdown,
    task: JoinHandle<()>,
}

impl Consumer {
    pub fn start<H, F>(bus: &Bus, durable: &'static str, handler: H) -> Consumer
    where
        H: Fn(Envelope) -> F + Clone + Send + Sync + 'static,
        F: Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        // Batches of one: each event handled, and acked, on its own.
        Self::spawn(bus, durable, move |bus, stopped| async move {
            let handler = one_by_one(handler);
            bus.consume_batches(
                durable,
                &[EVENT_TYPE],
                Batches::at_once(1),
                stopped,
                handler,
            )
            .await
        })
    }

    /// A consumer handed the events that are ready together, up to 64.
    pub fn start_batches<H, F>(bus: &Bus, durable: &'static str, handler: H) -> Consumer
    where
        H: Fn(Vec<Envelope>) -> F + Clone + Send + Sync + 'static,
        F: Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        Self::spawn(bus, durable, move |bus, stopped| async move {
            bus.consume_batches(
                durable,
                &[EVENT_TYPE],
                Batches::lingering(64, BATCH_LINGER),
                stopped,
                handler,
            )
            .await
        })
    }

    fn spawn<R, Fut>(bus: &Bus, durable: &'static str, run: R) -> Consumer
    where
        R: FnOnce(Bus, Shutdown) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let shutdown = Shutdown::new();
        let task = tokio::spawn(run(bus.clone(), shutdown.clone()));
        Consumer {
            bus: bus.clone(),
            durable,
            shutdown,
            task,
        }
    }

    /// Stops the consumer: in-flight events finish, then the loop returns.
    /// Returns once NATS has seen it stop pulling (else the server could
    /// still hand a new event to its last pull request).
    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("the consumer stops")
            .expect("the consumer task does not panic");
        chat_testkit::env::stopped_pulling(&self.bus, self.durable).await;
    }
}

/// Waits until the consumer has acked (or terminated) every event up to
/// stream sequence `last` and has none outstanding; returns its state.
pub async fn settled(bus: &Bus, durable: &str, last: u64) -> consumer::Info {
    chat_testkit::eventually(&format!("{durable} to settle up to {last}"), || async {
        chat_testkit::env::consumer_info(bus, durable)
            .await
            .filter(|info| info.ack_floor.stream_sequence >= last && info.num_ack_pending == 0)
    })
    .await
}
