//! Who wrote last in each dialog, kept from `dialog.message_created`. The
//! update only moves forward (`greatest`), so a redelivered or late event
//! changes nothing: the handler is idempotent without an inbox.

use chrono::{DateTime, Utc};
use prost::Message as _;
use sqlx::PgPool;
use uuid::Uuid;

use chat_platform::Shutdown;
use chat_platform::bus::{Bus, HandlerError};
use chat_proto::dialog::v1 as pb;
use chat_proto::events::v1 as ev;

pub const ACTIVITY_CONSUMER: &str = "notification_activity";

pub async fn track(bus: Bus, pool: PgPool, shutdown: Shutdown) {
    bus.consume(
        ACTIVITY_CONSUMER,
        &["dialog.message_created"],
        32,
        shutdown,
        |envelope| {
            let pool = pool.clone();
            async move { record(&pool, envelope).await }
        },
    )
    .await;
}

/// One side's latest message in a dialog.
#[derive(Debug, PartialEq)]
pub struct Spoke {
    pub account_id: Uuid,
    pub dialog_id: Uuid,
    pub contact_id: Uuid,
    pub by_visitor: bool,
    pub seq: i64,
    pub at: DateTime<Utc>,
}

pub fn from_event(envelope: &ev::Envelope) -> Result<Option<Spoke>, HandlerError> {
    let created = ev::MessageCreated::decode(envelope.payload.as_slice())
        .map_err(|e| HandlerError::Permanent(e.into()))?;
    let message = created
        .message
        .ok_or_else(|| HandlerError::Permanent(anyhow::anyhow!("no message")))?;
    let by_visitor = match message.author_kind() {
        pb::AuthorKind::Visitor => true,
        pb::AuthorKind::Manager => false,
        _ => return Ok(None), // system messages answer nobody
    };
    let parse = |s: &str| Uuid::parse_str(s).map_err(|e| HandlerError::Permanent(e.into()));
    Ok(Some(Spoke {
        account_id: parse(&message.account_id)?,
        dialog_id: parse(&message.dialog_id)?,
        contact_id: parse(&created.contact_id)?,
        by_visitor,
        seq: message.seq,
        at: message
            .created_at
            .as_ref()
            .map(chat_proto::time::from_proto)
            .unwrap_or_else(Utc::now),
    }))
}

async fn record(pool: &PgPool, envelope: ev::Envelope) -> Result<(), HandlerError> {
    let Some(spoke) = from_event(&envelope)? else {
        return Ok(());
    };
    let (visitor_seq, visitor_at, manager_seq, manager_at) = if spoke.by_visitor {
        (spoke.seq, Some(spoke.at), 0, None)
    } else {
        (0, None, spoke.seq, Some(spoke.at))
    };
    sqlx::query(
        "insert into dialog_activity (account_id, dialog_id, contact_id, last_visitor_seq, \
             last_visitor_message_at, last_manager_seq, last_manager_message_at) \
         values ($1, $2, $3, $4, $5, $6, $7) \
         on conflict (account_id, dialog_id) do update set \
             last_visitor_seq = greatest(dialog_activity.last_visitor_seq, excluded.last_visitor_seq), \
             last_visitor_message_at = greatest(dialog_activity.last_visitor_message_at, excluded.last_visitor_message_at), \
             last_manager_seq = greatest(dialog_activity.last_manager_seq, excluded.last_manager_seq), \
             last_manager_message_at = greatest(dialog_activity.last_manager_message_at, excluded.last_manager_message_at), \
             updated_at = now()",
    )
    .bind(spoke.account_id)
    .bind(spoke.dialog_id)
    .bind(spoke.contact_id)
    .bind(visitor_seq)
    .bind(visitor_at)
    .bind(manager_seq)
    .bind(manager_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Dialogs of the account whose visitor wrote after the last answer.
pub async fn waiting_for_answer(pool: &PgPool, account_id: Uuid) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "select dialog_id from dialog_activity \
         where account_id = $1 and last_visitor_seq > last_manager_seq \
         order by last_visitor_message_at",
    )
    .bind(account_id)
    .fetch_all(pool)
    .await
}
