//! Answers by e-mail from a stranger's address, held for a manager to
//! accept into their dialog.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HeldAnswer {
    pub id: Uuid,
    pub dialog_id: Uuid,
    pub contact_id: Uuid,
    pub from_address: String,
    pub text: String,
    pub client_message_id: String,
    pub received_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub accepted_by: Option<Uuid>,
    pub message_id: Option<Uuid>,
}

/// Holds an answer; the one held before when the same e-mail came again.
pub async fn hold(
    pool: &PgPool,
    account_id: Uuid,
    dialog_id: Uuid,
    contact_id: Uuid,
    from_address: &str,
    text: &str,
    client_message_id: &str,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar!(
        "with new as ( \
             insert into held_answer (id, account_id, dialog_id, contact_id, from_address, text, \
                 client_message_id) values ($1, $2, $3, $4, $5, $6, $7) \
             on conflict (account_id, client_message_id) do nothing returning id) \
         select id as \"id!\" from new union all \
         select id from held_answer where account_id = $2 and client_message_id = $7",
        Uuid::now_v7(),
        account_id,
        dialog_id,
        contact_id,
        from_address,
        text,
        client_message_id
    )
    .fetch_one(pool)
    .await
}

/// The dialog's held answers, oldest first.
pub async fn in_dialog(
    pool: &PgPool,
    account_id: Uuid,
    dialog_id: Uuid,
) -> sqlx::Result<Vec<HeldAnswer>> {
    sqlx::query_as!(
        HeldAnswer,
        "select id, dialog_id, contact_id, from_address, text, client_message_id, received_at, \
             accepted_at, accepted_by, message_id \
         from held_answer where account_id = $1 and dialog_id = $2 order by received_at, id",
        account_id,
        dialog_id
    )
    .fetch_all(pool)
    .await
}

/// The account's held answer `id`, locked until the transaction ends.
pub async fn lock(
    conn: &mut PgConnection,
    account_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<HeldAnswer>> {
    sqlx::query_as!(
        HeldAnswer,
        "select id, dialog_id, contact_id, from_address, text, client_message_id, received_at, \
             accepted_at, accepted_by, message_id \
         from held_answer where account_id = $1 and id = $2 for update",
        account_id,
        id
    )
    .fetch_optional(conn)
    .await
}

/// The answer became the dialog's message `message_id`, by `manager_id`.
pub async fn accepted(
    conn: &mut PgConnection,
    account_id: Uuid,
    id: Uuid,
    manager_id: Uuid,
    message_id: Uuid,
) -> sqlx::Result<HeldAnswer> {
    sqlx::query_as!(
        HeldAnswer,
        "update held_answer set accepted_at = coalesce(accepted_at, now()), \
             accepted_by = coalesce(accepted_by, $3), message_id = coalesce(message_id, $4) \
         where account_id = $1 and id = $2 \
         returning id, dialog_id, contact_id, from_address, text, client_message_id, received_at, \
             accepted_at, accepted_by, message_id",
        account_id,
        id,
        manager_id,
        message_id
    )
    .fetch_one(conn)
    .await
}
