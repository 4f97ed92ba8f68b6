//! The service's copy of the contacts (name, e-mail), from the contact
//! service's `contact.contact_updated`: where a manager's reply to a visitor
//! who left is e-mailed. Each event carries the whole contact; the last one
//! of a batch wins, and a repeated one writes the same again.

use std::collections::BTreeMap;

use prost::Message as _;
use sqlx::PgPool;
use uuid::Uuid;

use chat_platform::Shutdown;
use chat_platform::bus::{BATCH_LINGER, Batches, Bus, HandlerError};
use chat_platform::events::{CONTACT_UPDATED, id};
use chat_proto::events::v1 as ev;

use crate::db::contacts;

pub const CONTACTS_CONSUMER: &str = "notification_contacts";
/// Most events written in one transaction.
const MAX_BATCH: usize = 256;

pub async fn follow(bus: Bus, pool: PgPool, shutdown: Shutdown) {
    bus.consume_batches(
        CONTACTS_CONSUMER,
        &[CONTACT_UPDATED],
        Batches::lingering(MAX_BATCH, BATCH_LINGER),
        shutdown,
        |envelopes| {
            let pool = pool.clone();
            async move { record(&pool, envelopes).await }
        },
    )
    .await;
}

async fn record(pool: &PgPool, envelopes: Vec<ev::Envelope>) -> Result<(), HandlerError> {
    // In key order, so that replicas writing the same contacts lock them alike.
    let mut latest: BTreeMap<(Uuid, Uuid), (String, String)> = BTreeMap::new();
    for envelope in &envelopes {
        let contact = ev::ContactUpdated::decode(envelope.payload.as_slice())
            .map_err(|e| HandlerError::Permanent(e.into()))?
            .contact
            .ok_or_else(|| HandlerError::Permanent(anyhow::anyhow!("no contact")))?;
        latest.insert(
            (id(&contact.account_id)?, id(&contact.id)?),
            (contact.name, contact.email),
        );
    }
    let mut tx = pool.begin().await?;
    for ((account_id, contact_id), (name, email)) in latest {
        contacts::set(&mut tx, account_id, contact_id, &name, &email).await?;
    }
    tx.commit().await?;
    Ok(())
}
