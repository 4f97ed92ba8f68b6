//! Events the contact service consumes: each stored message becomes an entry
//! on its contact's timeline.

use prost::Message as _;
use sqlx::PgPool;

use chat_platform::Shutdown;
use chat_platform::bus::{Bus, HandlerError};
use chat_proto::events::v1 as ev;

use crate::db;

/// The durable consumer that keeps timelines.
pub const TIMELINE_CONSUMER: &str = "contact_timeline";
/// Longest summary of a message on the timeline, in characters.
const SUMMARY_CHARS: usize = 200;

pub async fn record_timeline(bus: Bus, pool: PgPool, shutdown: Shutdown) {
    bus.consume(
        TIMELINE_CONSUMER,
        &["dialog.message_created"],
        32,
        shutdown,
        |envelope| {
            let pool = pool.clone();
            async move { record_message(&pool, envelope).await }
        },
    )
    .await;
}

async fn record_message(pool: &PgPool, envelope: ev::Envelope) -> Result<(), HandlerError> {
    let created = ev::MessageCreated::decode(envelope.payload.as_slice())
        .map_err(|e| HandlerError::Permanent(e.into()))?;
    let message = created
        .message
        .ok_or_else(|| HandlerError::Permanent(anyhow::anyhow!("no message")))?;
    let parse = |s: &str| uuid::Uuid::parse_str(s).map_err(|e| HandlerError::Permanent(e.into()));
    let summary: String = message.text.chars().take(SUMMARY_CHARS).collect();
    let entry = db::NewTimelineEvent {
        account_id: parse(&message.account_id)?,
        contact_id: parse(&created.contact_id)?,
        kind: "message",
        ref_id: &message.id,
        summary: &summary,
        occurred_at: message
            .created_at
            .as_ref()
            .map(chat_proto::time::from_proto)
            .unwrap_or_else(chrono::Utc::now),
    };
    match db::insert_timeline_event(pool, &entry).await {
        Ok(_) => Ok(()),
        // The contact is unknown to this account: the event can never apply.
        Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => Err(
            HandlerError::Permanent(anyhow::anyhow!("unknown contact {}", created.contact_id)),
        ),
        Err(e) => Err(e.into()),
    }
}
