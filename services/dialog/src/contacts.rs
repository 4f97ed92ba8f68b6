//! What the dialog service learns of contacts: their names and e-mail
//! addresses, from the contact service's `contact.contact_updated` events,
//! kept on their dialogs so the dialogs list shows who each one is, and a
//! manager may answer by e-mail, without asking another service.

use std::collections::BTreeMap;

use prost::Message as _;
use sqlx::PgPool;
use uuid::Uuid;

use chat_platform::Shutdown;
use chat_platform::bus::{BATCH_LINGER, Batches, Bus, HandlerError};
use chat_proto::events::v1 as ev;

use crate::db;

/// The durable consumer that keeps contact names and e-mails on dialogs.
pub const NAMES_CONSUMER: &str = "dialog_contact_names";
pub use chat_platform::events::CONTACT_UPDATED;
/// Most events written in one statement.
const MAX_BATCH: usize = 256;

pub async fn keep_names(bus: Bus, pool: PgPool, shutdown: Shutdown) {
    bus.consume_batches(
        NAMES_CONSUMER,
        &[CONTACT_UPDATED],
        Batches::lingering(MAX_BATCH, BATCH_LINGER),
        shutdown,
        |envelopes| {
            let pool = pool.clone();
            async move { record_names(&pool, envelopes).await }
        },
    )
    .await;
}

async fn record_names(pool: &PgPool, envelopes: Vec<ev::Envelope>) -> Result<(), HandlerError> {
    // The last word on each contact in the batch wins (events come in order).
    // In key order, as the writer takes them, so the two never deadlock.
    let mut details: BTreeMap<(Uuid, Uuid), (String, String)> = BTreeMap::new();
    for envelope in &envelopes {
        let updated = ev::ContactUpdated::decode(envelope.payload.as_slice())
            .map_err(|e| HandlerError::Permanent(e.into()))?;
        let contact = updated
            .contact
            .ok_or_else(|| HandlerError::Permanent(anyhow::anyhow!("no contact")))?;
        let parse = |s: &str| Uuid::parse_str(s).map_err(|e| HandlerError::Permanent(e.into()));
        details.insert(
            (parse(&contact.account_id)?, parse(&contact.id)?),
            (contact.name, contact.email),
        );
    }
    let (mut accounts, mut contacts) = (Vec::new(), Vec::new());
    let (mut names, mut emails) = (Vec::new(), Vec::new());
    for ((account_id, contact_id), (name, email)) in details {
        accounts.push(account_id);
        contacts.push(contact_id);
        names.push(name);
        emails.push(email);
    }
    db::set_contact_details(pool, &accounts, &contacts, &names, &emails).await?;
    Ok(())
}
