//! The transactional outbox: a service writes its state change and its event
//! in one transaction; the relay publishes committed events to JetStream with
//! `Nats-Msg-Id` set to the event id and deletes them once JetStream acked.
//!
//! So no event is lost while NATS is away (it waits in the table), and none is
//! doubled when the relay retries (JetStream drops the repeated id).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use prost::Message as _;
use sqlx::{PgConnection, PgPool, Row as _};
use tokio::sync::Notify;
use uuid::Uuid;

use chat_proto::events::v1::Envelope;

use crate::bus::Bus;
use crate::shutdown::Shutdown;

/// Rows published per round trip.
const BATCH_SIZE: i64 = 256;
/// Safety poll, for events another replica left behind when it stopped.
const POLL_INTERVAL_MS: u64 = 1_000;
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
    wake: Arc<Notify>,
}

impl Outbox {
    /// Adds the event to the caller's transaction; returns its id.
    pub async fn enqueue(&self, tx: &mut PgConnection, event: NewEvent) -> sqlx::Result<Uuid> {
        let ids = self.enqueue_all(tx, vec![event]).await?;
        Ok(ids[0])
    }

    /// Adds the events to the caller's transaction in one statement, in
    /// order; returns their ids.
    pub async fn enqueue_all(
        &self,
        tx: &mut PgConnection,
        events: Vec<NewEvent>,
    ) -> sqlx::Result<Vec<Uuid>> {
        let occurred_at = chat_proto::time::to_proto(chrono::Utc::now());
        let mut ids = Vec::with_capacity(events.len());
        let mut subjects = Vec::with_capacity(events.len());
        let mut payloads = Vec::with_capacity(events.len());
        let mut traces = Vec::with_capacity(events.len());
        for event in events {
            let event_id = Uuid::now_v7();
            let envelope = Envelope {
                event_id: event_id.to_string(),
                occurred_at: Some(occurred_at),
                account_id: event.account_id.to_string(),
                r#type: event.event_type.to_owned(),
                payload: event.payload,
            };
            ids.push(event_id);
            subjects.push(event.event_type);
            payloads.push(envelope.encode_to_vec());
            traces.push(serde_json::to_value(event.trace).unwrap_or_default());
        }
        // `with ordinality` keeps the given order in the outbox's sequence.
        sqlx::query(
            "insert into outbox (event_id, subject, payload, headers) \
             select e.event_id, e.subject, e.payload, e.headers \
             from unnest($1::uuid[], $2::text[], $3::bytea[], $4::jsonb[]) with ordinality \
                 as e(event_id, subject, payload, headers, n) \
             order by e.n",
        )
        .bind(&ids)
        .bind(&subjects)
        .bind(&payloads)
        .bind(&traces)
        .execute(tx)
        .await?;
        Ok(ids)
    }

    /// Tells the relay that a transaction with events has committed.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Publishes committed events until shutdown, then drains what is left
    /// for a few seconds.
    pub async fn relay(self, pool: PgPool, bus: Bus, shutdown: Shutdown) {
        let mut backoff = Duration::from_millis(50);
        loop {
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(POLL_INTERVAL_MS)) => {}
                _ = shutdown.cancelled() => break,
            }
            loop {
                match publish_batch(&pool, &bus).await {
                    // A short batch emptied the table; commits after it woke us again.
                    Ok(n) if n < BATCH_SIZE as usize => break,
                    Ok(_) => backoff = Duration::from_millis(50),
                    Err(e) => {
                        tracing::warn!(error = %e, ?backoff, "outbox relay could not publish; retrying");
                        // The stream may not exist yet (a fresh NATS): make sure it does.
                        if let Err(e) = bus.ensure_stream().await {
                            tracing::debug!(error = %e, "event stream not ready");
                        }
                        tokio::select! {
                            _ = tokio::time::sleep(backoff) => {}
                            _ = shutdown.cancelled() => break,
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(2));
                    }
                }
            }
            if shutdown.is_cancelled() {
                break;
            }
        }
        let drain = async {
            while let Ok(n) = publish_batch(&pool, &bus).await {
                if n < BATCH_SIZE as usize {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(DRAIN_ON_SHUTDOWN_SECS), drain).await;
        tracing::info!("outbox relay stopped");
    }
}

/// Publishes up to one batch, oldest first; returns how many were published.
/// The batch is deleted in the transaction that is committed only once
/// JetStream acked every event of it; its rows are locked meanwhile (`skip
/// locked`), so relays of several replicas share the work.
async fn publish_batch(pool: &PgPool, bus: &Bus) -> anyhow::Result<usize> {
    let mut tx = pool.begin().await?;
    let mut rows = sqlx::query(
        "delete from outbox where seq in \
             (select seq from outbox order by seq limit $1 for update skip locked) \
         returning seq, event_id, subject, payload, headers",
    )
    .bind(BATCH_SIZE)
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    rows.sort_by_key(|row| row.get::<i64, _>("seq"));
    // Send the whole batch, then wait for the acks: one round trip, not one per event.
    let mut acks = Vec::with_capacity(rows.len());
    for row in &rows {
        let event_id: Uuid = row.get("event_id");
        let event_type: String = row.get("subject");
        let payload: Vec<u8> = row.get("payload");
        let trace: HashMap<String, String> =
            serde_json::from_value(row.get("headers")).unwrap_or_default();
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", event_id.to_string().as_str());
        for (k, v) in &trace {
            headers.insert(k.as_str(), v.as_str());
        }
        let ack = bus
            .jetstream
            .publish_with_headers(bus.subject(&event_type), headers, payload.into())
            .await
            .map_err(|e| anyhow::anyhow!("while publishing {event_id}: {e}"))?;
        acks.push(ack);
    }
    for ack in acks {
        ack.await
            .map_err(|e| anyhow::anyhow!("while awaiting a publish ack: {e}"))?;
    }
    tx.commit().await?;
    metrics::counter!("outbox_published_total").increment(rows.len() as u64);
    Ok(rows.len())
}
