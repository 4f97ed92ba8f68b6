//! The inbox: which events a consumer has already handled, so that a handler
//! seeing an event twice does its work once. The check is a unique key,
//! written in the same transaction as the handler's effect.

use sqlx::PgConnection;
use uuid::Uuid;

/// Records that `consumer` handled `event_id`; false when it already had, in
/// which case the caller skips its effect (and its transaction commits nothing new).
pub async fn first_delivery(
    conn: &mut PgConnection,
    consumer: &str,
    event_id: Uuid,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "insert into inbox (consumer, event_id) values ($1, $2) on conflict do nothing",
    )
    .bind(consumer)
    .bind(event_id)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}
