//! Events of the contact service. It consumes `dialog.message_created`: each
//! stored message becomes an entry on its contact's timeline (events are
//! taken in batches, one statement each). It publishes
//! `contact.contact_updated` when a manager changes a contact.

use prost::Message as _;
use sqlx::PgPool;

use chat_platform::Shutdown;
use chat_platform::bus::{BATCH_LINGER, Batches, Bus, HandlerError};
use chat_platform::events::{MESSAGE_CREATED, MessageCreated, id};
use chat_proto::events::v1 as ev;

use crate::db;

pub use chat_platform::events::CONTACT_UPDATED;

pub fn contact_updated(
    account_id: uuid::Uuid,
    contact: &chat_proto::contact::v1::Contact,
) -> chat_platform::outbox::NewEvent {
    chat_platform::outbox::NewEvent::new(
        account_id,
        CONTACT_UPDATED,
        ev::ContactUpdated {
            contact: Some(contact.clone()),
        }
        .encode_to_vec(),
    )
}

/// The durable consumer that keeps timelines.
pub const TIMELINE_CONSUMER: &str = "contact_timeline";
/// Longest summary of a message on the timeline, in characters.
const SUMMARY_CHARS: usize = 200;
/// Most events written in one statement.
const MAX_BATCH: usize = 256;

pub async fn record_timeline(bus: Bus, pool: PgPool, shutdown: Shutdown) {
    bus.consume_batches(
        TIMELINE_CONSUMER,
        &[MESSAGE_CREATED],
        Batches::lingering(MAX_BATCH, BATCH_LINGER),
        shutdown,
        |envelopes| {
            let pool = pool.clone();
            async move { record_messages(&pool, envelopes).await }
        },
    )
    .await;
}

async fn record_messages(pool: &PgPool, envelopes: Vec<ev::Envelope>) -> Result<(), HandlerError> {
    let entries = envelopes
        .iter()
        .map(timeline_entry)
        .collect::<Result<Vec<_>, _>>()?;
    match db::insert_timeline_events(pool, &entries).await {
        Ok(_) => Ok(()),
        // A contact unknown to its account: some event can never apply (the
        // bus retries the batch one by one to find it).
        Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => Err(
            HandlerError::Permanent(anyhow::anyhow!("unknown contact: {e}")),
        ),
        Err(e) => Err(e.into()),
    }
}

fn timeline_entry(envelope: &ev::Envelope) -> Result<db::NewTimelineEvent, HandlerError> {
    let MessageCreated {
        message,
        contact_id,
    } = MessageCreated::decode(envelope)?;
    Ok(db::NewTimelineEvent {
        account_id: id(&message.account_id)?,
        contact_id,
        kind: "message",
        ref_id: message.id,
        summary: message.text.chars().take(SUMMARY_CHARS).collect(),
        occurred_at: message
            .created_at
            .as_ref()
            .map(chat_proto::time::from_proto)
            .unwrap_or_else(chrono::Utc::now),
    })
}
