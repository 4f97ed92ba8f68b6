//! The transactional outbox: events written in the transaction of the
//! change they tell of, published to JetStream by a relay right after the
//! commit, and by a sweep for whatever a crash or an outage left behind.
//! A row may name what it tells of instead of carrying it (an event written
//! by the very statement that made its subject); a [`Resolve`] builds those.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use prost::Message as _;
use sqlx::{PgConnection, PgPool, Row as _};
use tokio::sync::Notify;
use uuid::Uuid;

use chat_proto::events::v1::Envelope;

use crate::bus::Bus;
use crate::shutdown::Shutdown;

/// Rows published per round trip by the sweep.
const BATCH_SIZE: i64 = 256;
/// How often the sweep runs when nothing else wakes the relay.
const SWEEP_INTERVAL_MS: u64 = 1_000;
/// How old a row must be for the sweep to take it while the relay publishes
/// at once: younger ones are on their way out of some replica already.
const SWEEP_AGE_MS: u64 = 2_000;
/// Published rows are deleted once this many wait, or after this long.
const DELETE_BATCH: usize = 512;
const DELETE_DELAY_MS: u64 = 50;
/// How long the relay keeps draining after shutdown begins.
const DRAIN_ON_SHUTDOWN_SECS: u64 = 5;

/// An event about to be written, with its payload already encoded.
pub struct NewEvent {
    pub account_id: Uuid,
    /// `<service>.<event>`, e.g. `dialog.message_created`.
    pub event_type: &'static str,
    pub payload: Vec<u8>,
    /// The trace context of the work that caused it, for the NATS headers.
    pub trace: HashMap<String, String>,
}

impl NewEvent {
    /// An event caused by the current span's work (its trace goes along).
    pub fn new(account_id: Uuid, event_type: &'static str, payload: Vec<u8>) -> Self {
        Self {
            account_id,
            event_type,
            payload,
            trace: crate::telemetry::current_context_headers(),
        }
    }
}

/// The handle services write through; cheap to clone.
#[derive(Clone, Default)]
pub struct Outbox {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    wake: Notify,
    /// Committed events handed over by writers, for the relay to publish at once.
    committed: Mutex<Vec<Ready>>,
    /// Builds the events of rows that name their subject.
    resolver: Option<Arc<dyn Resolve>>,
}

/// Per id an outbox row names: its event's account and payload.
pub type BuiltEvents = HashMap<Uuid, (Uuid, Vec<u8>)>;

/// Builds the events of outbox rows written without a payload, each naming
/// what it tells of by an id (`ref_id`): per id found, the event's account
/// and payload. The sweep asks it, in the transaction that takes the rows.
pub trait Resolve: Send + Sync {
    fn resolve<'c>(
        &'c self,
        conn: &'c mut PgConnection,
        ref_ids: &'c [Uuid],
    ) -> BoxFuture<'c, sqlx::Result<BuiltEvents>>;
}

/// An event whose row a writer's own statement put in the outbox, naming
/// its subject: its row's `seq` and `event_id`, and the event as built once
/// the statement returned.
pub struct ReferencedEvent {
    pub seq: i64,
    pub event_id: Uuid,
    pub event: NewEvent,
}

/// An event as it goes to JetStream.
struct Ready {
    seq: i64,
    event_id: Uuid,
    event_type: String,
    payload: bytes::Bytes,
    trace: HashMap<String, String>,
}

/// Events added to a transaction, to hand to [`Outbox::committed`] once it
/// commits (dropped if it does not: the rows went with the transaction).
#[must_use = "hand the events to Outbox::committed once the transaction commits"]
pub struct Staged(Vec<Ready>);

impl Staged {
    /// The events' ids, in the order they were given.
    pub fn ids(&self) -> Vec<Uuid> {
        self.0.iter().map(|r| r.event_id).collect()
    }
}

impl Outbox {
    /// Adds the event to the caller's transaction.
    pub async fn enqueue(&self, tx: &mut PgConnection, event: NewEvent) -> sqlx::Result<Staged> {
        self.enqueue_all(tx, vec![event]).await
    }

    /// Adds the events to the caller's transaction in one statement, in order.
    pub async fn enqueue_all(
        &self,
        tx: &mut PgConnection,
        events: Vec<NewEvent>,
    ) -> sqlx::Result<Staged> {
        let occurred_at = chrono::Utc::now();
        let mut ids = Vec::with_capacity(events.len());
        let mut subjects = Vec::with_capacity(events.len());
        let mut payloads = Vec::with_capacity(events.len());
        let mut traces = Vec::with_capacity(events.len());
        let mut ready = Vec::with_capacity(events.len());
        for event in events {
            let event_id = Uuid::now_v7();
            let payload = envelope(
                event_id,
                occurred_at,
                event.account_id,
                event.event_type,
                event.payload,
            );
            ids.push(event_id);
            subjects.push(event.event_type);
            payloads.push(payload.clone());
            traces.push(serde_json::to_value(&event.trace).unwrap_or_default());
            ready.push(Ready {
                seq: 0,
                event_id,
                event_type: event.event_type.to_owned(),
                payload,
                trace: event.trace,
            });
        }
        let payload_slices: Vec<&[u8]> = payloads.iter().map(|p| p.as_ref()).collect();
        // `with ordinality` keeps the given order in the outbox's sequence.
        let seqs: Vec<i64> = sqlx::query_scalar(
            "insert into outbox (event_id, subject, payload, headers) \
             select e.event_id, e.subject, e.payload, e.headers \
             from unnest($1::uuid[], $2::text[], $3::bytea[], $4::jsonb[]) with ordinality \
                 as e(event_id, subject, payload, headers, n) \
             order by e.n \
             returning seq",
        )
        .bind(&ids)
        .bind(&subjects)
        .bind(&payload_slices)
        .bind(&traces)
        .fetch_all(tx)
        .await?;
        let mut seqs = seqs;
        seqs.sort_unstable();
        for (event, seq) in ready.iter_mut().zip(seqs) {
            event.seq = seq;
        }
        Ok(Staged(ready))
    }

    /// An outbox whose sweep builds the events of rows that name their
    /// subject with `resolver`.
    pub fn with_resolver(resolver: Arc<dyn Resolve>) -> Outbox {
        Outbox {
            inner: Arc::new(Inner {
                resolver: Some(resolver),
                ..Inner::default()
            }),
        }
    }

    /// Hands the relay events whose rows the writer's own statement wrote
    /// and committed, to publish at once.
    pub fn committed_referenced(&self, events: Vec<ReferencedEvent>) {
        let occurred_at = chrono::Utc::now();
        let ready = events
            .into_iter()
            .map(|r| Ready {
                seq: r.seq,
                event_id: r.event_id,
                event_type: r.event.event_type.to_owned(),
                payload: envelope(
                    r.event_id,
                    occurred_at,
                    r.event.account_id,
                    r.event.event_type,
                    r.event.payload,
                ),
                trace: r.event.trace,
            })
            .collect();
        self.committed(Staged(ready));
    }

    /// Hands the relay events whose transaction has committed, to publish at once.
    pub fn committed(&self, staged: Staged) {
        if staged.0.is_empty() {
            return;
        }
        self.inner
            .committed
            .lock()
            .expect("outbox queue")
            .extend(staged.0);
        self.inner.wake.notify_one();
    }

    fn take_committed(&self) -> Vec<Ready> {
        let mut taken = std::mem::take(&mut *self.inner.committed.lock().expect("outbox queue"));
        // Writers hand over in the order their commits returned; the table's
        // order is the order they wrote in.
        taken.sort_by_key(|r| r.seq);
        taken
    }

    /// Publishes committed events until shutdown, then drains what is left
    /// for a few seconds.
    pub async fn relay(self, pool: PgPool, bus: Bus, shutdown: Shutdown) {
        let mut relay = Relay {
            pool,
            bus,
            outbox: self,
            published: Vec::new(),
            oldest_published: None,
            catching_up: true,
        };
        let mut backoff = Duration::from_millis(50);
        let mut next_sweep = Instant::now();
        loop {
            let delete_due = relay
                .oldest_published
                .map(|at| at + Duration::from_millis(DELETE_DELAY_MS));
            let wake_at = delete_due.map_or(next_sweep, |due| due.min(next_sweep));
            tokio::select! {
                _ = relay.outbox.inner.wake.notified() => {}
                _ = tokio::time::sleep_until(wake_at.into()) => {}
                _ = shutdown.cancelled() => break,
            }
            let result = async {
                if !relay.catching_up {
                    relay.publish_committed().await?;
                }
                relay.delete_published(false).await?;
                if relay.catching_up || Instant::now() >= next_sweep {
                    relay.sweep().await?;
                    next_sweep = Instant::now() + Duration::from_millis(SWEEP_INTERVAL_MS);
                }
                anyhow::Ok(())
            }
            .await;
            match result {
                Ok(()) => backoff = Duration::from_millis(50),
                Err(e) => {
                    tracing::warn!(error = %e, ?backoff, "outbox relay could not publish; retrying");
                    metrics::counter!("outbox_publish_failures_total").increment(1);
                    relay.catching_up = true;
                    // The stream may not exist yet (a fresh NATS): make sure it does.
                    if let Err(e) = relay.bus.ensure_stream().await {
                        tracing::debug!(error = %e, "event stream not ready");
                    }
                    next_sweep = Instant::now() + backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
        let drain = async {
            relay.publish_committed().await?;
            relay.delete_published(true).await?;
            relay.catching_up = true;
            relay.sweep().await
        };
        if let Ok(Err(e)) =
            tokio::time::timeout(Duration::from_secs(DRAIN_ON_SHUTDOWN_SECS), drain).await
        {
            tracing::warn!(error = %e, "outbox relay stopped with events left in the table");
        }
        tracing::info!("outbox relay stopped");
    }
}

/// The relay's state between wake-ups.
struct Relay {
    pool: PgPool,
    bus: Bus,
    outbox: Outbox,
    /// Rows published at once, to delete.
    published: Vec<i64>,
    /// When the oldest of them was published.
    oldest_published: Option<Instant>,
    /// Sweeping the table until it is empty (at start, and after a failure):
    /// events handed over meanwhile are left to the sweep, so they go out
    /// after the older ones.
    catching_up: bool,
}

impl Relay {
    /// Publishes the events writers handed over, and notes their rows for deletion.
    async fn publish_committed(&mut self) -> anyhow::Result<()> {
        let ready = self.outbox.take_committed();
        if ready.is_empty() {
            return Ok(());
        }
        publish(&self.bus, &ready).await?;
        self.published.extend(ready.iter().map(|r| r.seq));
        self.oldest_published.get_or_insert_with(Instant::now);
        Ok(())
    }

    /// Deletes the rows of published events, when enough wait or the oldest
    /// waited long enough (or `now`).
    async fn delete_published(&mut self, now: bool) -> anyhow::Result<()> {
        let due = self
            .oldest_published
            .is_some_and(|at| at.elapsed() >= Duration::from_millis(DELETE_DELAY_MS));
        if self.published.is_empty() || !(now || due || self.published.len() >= DELETE_BATCH) {
            return Ok(());
        }
        sqlx::query("delete from outbox where seq = any($1)")
            .bind(&self.published)
            .execute(&self.pool)
            .await?;
        metrics::counter!("outbox_published_total").increment(self.published.len() as u64);
        self.published.clear();
        self.oldest_published = None;
        Ok(())
    }

    /// Publishes what is left in the table, oldest first: every row while
    /// catching up (until the table is empty), else only rows old enough to
    /// have been left behind.
    async fn sweep(&mut self) -> anyhow::Result<()> {
        if self.catching_up {
            // Already in the table, which the sweep empties; handed over
            // later, they go out at once (JetStream drops a second copy).
            drop(self.outbox.take_committed());
        }
        loop {
            let min_age = match self.catching_up {
                true => Duration::ZERO,
                false => Duration::from_millis(SWEEP_AGE_MS),
            };
            let resolver = self.outbox.inner.resolver.as_deref();
            let (taken, published) =
                publish_batch(&self.pool, &self.bus, resolver, min_age).await?;
            // A full batch of rows that all stay would come back forever.
            if taken < BATCH_SIZE as usize || published == 0 {
                break;
            }
        }
        self.catching_up = false;
        Ok(())
    }
}

/// Sends the events, then waits for every ack: one round trip, not one per event.
async fn publish(bus: &Bus, events: &[Ready]) -> anyhow::Result<()> {
    let mut acks = Vec::with_capacity(events.len());
    for event in events {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", event.event_id.to_string().as_str());
        for (k, v) in &event.trace {
            headers.insert(k.as_str(), v.as_str());
        }
        let ack = bus
            .jetstream
            .publish_with_headers(
                bus.subject(&event.event_type),
                headers,
                event.payload.clone(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("while publishing {}: {e}", event.event_id))?;
        acks.push(ack);
    }
    for ack in acks {
        ack.await
            .map_err(|e| anyhow::anyhow!("while awaiting a publish ack: {e}"))?;
    }
    Ok(())
}

/// Publishes up to one batch of rows at least `min_age` old, oldest first;
/// returns how many rows it took and how many of them it published. The batch's rows are locked (`skip
/// locked`, so relays of several replicas share the work) and deleted in
/// the transaction that is committed only once JetStream acked every event
/// of it. A row that names a subject nothing can build stays, and says so.
async fn publish_batch(
    pool: &PgPool,
    bus: &Bus,
    resolver: Option<&dyn Resolve>,
    min_age: Duration,
) -> anyhow::Result<(usize, usize)> {
    let mut tx = pool.begin().await?;
    let rows = sqlx::query(
        "select seq, event_id, subject, payload, headers, ref_id, created_at from outbox \
         where created_at <= now() - $2::interval \
         order by seq limit $1 for update skip locked",
    )
    .bind(BATCH_SIZE)
    .bind(min_age)
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        return Ok((0, 0));
    }
    let ref_ids: Vec<Uuid> = rows
        .iter()
        .filter(|row| row.get::<Option<Vec<u8>>, _>("payload").is_none())
        .filter_map(|row| row.get::<Option<Uuid>, _>("ref_id"))
        .collect();
    let resolved = match (ref_ids.is_empty(), resolver) {
        (false, Some(resolver)) => resolver.resolve(&mut tx, &ref_ids).await?,
        _ => HashMap::new(),
    };
    let mut events = Vec::with_capacity(rows.len());
    for row in &rows {
        let event_id: Uuid = row.get("event_id");
        let event_type: String = row.get("subject");
        let payload = match row.get::<Option<Vec<u8>>, _>("payload") {
            Some(payload) => payload.into(),
            None => {
                let ref_id: Option<Uuid> = row.get("ref_id");
                let Some((account_id, payload)) = ref_id.and_then(|id| resolved.get(&id)) else {
                    tracing::error!(%event_id, ?ref_id, "an outbox row names nothing this service can build; it stays");
                    metrics::counter!("outbox_unbuildable_rows_total").increment(1);
                    continue;
                };
                envelope(
                    event_id,
                    row.get("created_at"),
                    *account_id,
                    &event_type,
                    payload.clone(),
                )
            }
        };
        events.push(Ready {
            seq: row.get("seq"),
            event_id,
            event_type,
            payload,
            trace: serde_json::from_value(row.get("headers")).unwrap_or_default(),
        });
    }
    events.sort_by_key(|e| e.seq);
    publish(bus, &events).await?;
    let published: Vec<i64> = events.iter().map(|e| e.seq).collect();
    sqlx::query("delete from outbox where seq = any($1)")
        .bind(&published)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    metrics::counter!("outbox_published_total").increment(events.len() as u64);
    Ok((rows.len(), events.len()))
}

/// An event as it travels: its envelope, encoded.
fn envelope(
    event_id: Uuid,
    occurred_at: chrono::DateTime<chrono::Utc>,
    account_id: Uuid,
    event_type: &str,
    payload: Vec<u8>,
) -> bytes::Bytes {
    Envelope {
        event_id: event_id.to_string(),
        occurred_at: Some(chat_proto::time::to_proto(occurred_at)),
        account_id: account_id.to_string(),
        r#type: event_type.to_owned(),
        payload,
    }
    .encode_to_vec()
    .into()
}
