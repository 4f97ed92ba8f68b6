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
}

/// The handle services write through; cheap to clone.
#[derive(Clone, Default)]
pub struct Outbox {
    wake: Arc<Notify>,
}

impl Outbox {
    /// Adds the event to the caller's transaction; returns its id.
    pub async fn enqueue(&self, tx: &mut PgConnection, event: NewEvent) -> sqlx::Result<Uuid> {
        let event_id = Uuid::now_v7();
        let envelope = Envelope {
            event_id: event_id.to_string(),
            occurred_at: Some(chat_proto::time::to_proto(chrono::Utc::now())),
            account_id: event.account_id.to_string(),
            r#type: event.event_type.to_owned(),
            payload: event.payload,
        };
        let headers =
            serde_json::to_value(crate::telemetry::current_context_headers()).unwrap_or_default();
        sqlx::query(
            "insert into outbox (event_id, subject, payload, headers) values ($1, $2, $3, $4)",
        )
        .bind(event_id)
        .bind(event.event_type)
        .bind(envelope.encode_to_vec())
        .bind(headers)
        .execute(tx)
        .await?;
        Ok(event_id)
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
                    Ok(0) => break,
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
                if n == 0 {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(DRAIN_ON_SHUTDOWN_SECS), drain).await;
        tracing::info!("outbox relay stopped");
    }
}

/// Publishes up to one batch, oldest first; returns how many were published.
/// Rows are locked (`skip locked`), so relays of several replicas share the work.
async fn publish_batch(pool: &PgPool, bus: &Bus) -> anyhow::Result<usize> {
    let mut tx = pool.begin().await?;
    let rows = sqlx::query(
        "select seq, event_id, subject, payload, headers from outbox \
         order by seq limit $1 for update skip locked",
    )
    .bind(BATCH_SIZE)
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    // Send the whole batch, then wait for the acks: one round trip, not one per event.
    let mut acks = Vec::with_capacity(rows.len());
    let mut published = Vec::with_capacity(rows.len());
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
        published.push(row.get::<i64, _>("seq"));
    }
    for ack in acks {
        ack.await
            .map_err(|e| anyhow::anyhow!("while awaiting a publish ack: {e}"))?;
    }
    sqlx::query("delete from outbox where seq = any($1)")
        .bind(&published)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    metrics::counter!("outbox_published_total").increment(published.len() as u64);
    Ok(published.len())
}
