//! The service's copy of the gateway's managers, from
//! `gateway.manager_changed`: whom alerts may go to and at which address.
//! Each event carries the whole manager and a version, so a late or repeated
//! one changes nothing.

use prost::Message as _;
use sqlx::PgPool;

use chat_platform::Shutdown;
use chat_platform::bus::{Batches, Bus, HandlerError};
use chat_platform::events::{MANAGER_CHANGED, id};
use chat_proto::events::v1 as ev;

use crate::db::directory::{self, ManagerChange};

pub const DIRECTORY_CONSUMER: &str = "notification_directory";
/// Most events applied in one transaction.
const MAX_BATCH: usize = 64;

pub async fn follow(bus: Bus, pool: PgPool, shutdown: Shutdown) {
    bus.consume_batches(
        DIRECTORY_CONSUMER,
        &[MANAGER_CHANGED],
        Batches::at_once(MAX_BATCH),
        shutdown,
        |envelopes| {
            let pool = pool.clone();
            async move { apply(&pool, envelopes).await }
        },
    )
    .await;
}

pub fn from_event(envelope: &ev::Envelope) -> Result<ManagerChange, HandlerError> {
    let changed = ev::ManagerChanged::decode(envelope.payload.as_slice())
        .map_err(|e| HandlerError::Permanent(e.into()))?;
    Ok(ManagerChange {
        account_id: id(&envelope.account_id)?,
        manager_id: id(&changed.manager_id)?,
        email: changed.email,
        name: changed.name,
        role: changed.role,
        active: changed.active,
        signed_up: changed.signed_up,
        version: changed.version,
        shop_name: changed.shop_name,
        language: changed.language,
        shop_language: changed.shop_language,
    })
}

async fn apply(pool: &PgPool, envelopes: Vec<ev::Envelope>) -> Result<(), HandlerError> {
    let changes = envelopes
        .iter()
        .map(from_event)
        .collect::<Result<Vec<_>, _>>()?;
    let mut tx = pool.begin().await?;
    for change in &changes {
        directory::apply(&mut tx, change).await?;
    }
    tx.commit().await?;
    Ok(())
}
