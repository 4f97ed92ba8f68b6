//! Tells the other services about managers: every manager whose row changed
//! (`announced` cleared by the change) is published as
//! `gateway.manager_changed` through the outbox, in the transaction that
//! marks it told. The notification service keeps its copy (whom to e-mail)
//! from these. Every replica runs it; rows are taken with `skip locked`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use prost::Message as _;
use sqlx::PgPool;
use uuid::Uuid;

use chat_platform::Shutdown;
use chat_platform::events::MANAGER_CHANGED;
use chat_platform::outbox::{NewEvent, Outbox};
use chat_proto::events::v1 as ev;

/// Managers told in one transaction.
const BATCH: i64 = 200;
/// How often changed managers are looked for.
const INTERVAL: Duration = Duration::from_millis(500);

#[derive(sqlx::FromRow)]
struct Untold {
    id: Uuid,
    account_id: Uuid,
    email: String,
    name: String,
    role: String,
    active: bool,
    password_hash: String,
    updated_at: DateTime<Utc>,
    shop_name: String,
    language: Option<String>,
    shop_language: String,
}

pub async fn announce(pool: PgPool, outbox: Outbox, shutdown: Shutdown) {
    while !shutdown.is_cancelled() {
        let wait = match round(&pool, &outbox).await {
            Ok(told) if told as i64 == BATCH => Duration::ZERO,
            Ok(_) => INTERVAL,
            Err(e) => {
                tracing::warn!(error = %e, "managers not announced; retrying");
                INTERVAL * 4
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.cancelled() => {}
        }
    }
}

async fn round(pool: &PgPool, outbox: &Outbox) -> sqlx::Result<usize> {
    let mut tx = pool.begin().await?;
    let untold: Vec<Untold> = sqlx::query_as(
        "select m.id, m.account_id, m.email, m.name, m.role, m.active, m.password_hash, \
             m.updated_at, a.name as shop_name, m.language, s.language as shop_language \
         from manager m join account a on a.id = m.account_id \
             join widget_settings s on s.account_id = m.account_id \
         where not m.announced order by m.id limit $1 for update of m skip locked",
    )
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    if untold.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = untold.iter().map(|m| m.id).collect();
    let events = untold.into_iter().map(event).collect();
    let staged = outbox.enqueue_all(&mut tx, events).await?;
    sqlx::query("update manager set announced = true where id = any($1)")
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    outbox.committed(staged);
    Ok(ids.len())
}

fn event(manager: Untold) -> NewEvent {
    let changed = ev::ManagerChanged {
        manager_id: manager.id.to_string(),
        email: manager.email,
        name: manager.name,
        role: manager.role,
        active: manager.active,
        signed_up: !manager.password_hash.is_empty(),
        version: manager.updated_at.timestamp_micros(),
        shop_name: manager.shop_name,
        language: manager.language.unwrap_or_default(),
        shop_language: manager.shop_language,
    };
    NewEvent::new(manager.account_id, MANAGER_CHANGED, changed.encode_to_vec())
}
