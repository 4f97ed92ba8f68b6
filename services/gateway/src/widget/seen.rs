//! When the widget was first seen on the shop's site: the first page a
//! visitor's widget reports for an account is kept once (the getting-started
//! checklist ticks "install the snippet" by it). Each replica remembers the
//! accounts it has written, so a page view costs a write only the first
//! time, not at every visit.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

use sqlx::PgPool;
use uuid::Uuid;

/// Accounts whose first sighting this process has written (or found).
static KNOWN: LazyLock<Mutex<HashSet<Uuid>>> = LazyLock::new(Default::default);

/// Keeps `url` as where the account's widget was first seen, unless one is
/// kept already; in the background, never holding up the socket.
pub fn page(pool: &PgPool, account_id: Uuid, url: &str) {
    if !KNOWN.lock().expect("seen lock").insert(account_id) {
        return;
    }
    let (pool, url) = (pool.clone(), url.to_owned());
    tokio::spawn(async move {
        let kept = sqlx::query!(
            "update widget_settings set seen_at = now(), seen_url = $2 \
             where account_id = $1 and seen_at is null",
            account_id,
            url
        )
        .execute(&pool)
        .await;
        if let Err(e) = kept {
            tracing::warn!(error = %e, "could not keep where the widget was first seen");
            KNOWN.lock().expect("seen lock").remove(&account_id);
        }
    });
}

/// Where and when the account's widget was first seen, if it was.
pub async fn first(
    pool: &PgPool,
    account_id: Uuid,
) -> sqlx::Result<Option<(chrono::DateTime<chrono::Utc>, String)>> {
    let row = sqlx::query!(
        "select seen_at, seen_url from widget_settings where account_id = $1",
        account_id
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|row| row.seen_at.map(|at| (at, row.seen_url))))
}
