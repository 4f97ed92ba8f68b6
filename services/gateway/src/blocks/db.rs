//! The SQL of visitor blocks.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BlockRow {
    pub id: Uuid,
    pub visitor_ids: Vec<String>,
    pub addresses: Vec<String>,
    pub contact_id: Uuid,
    pub contact_name: String,
    pub blocked_by: Uuid,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// A new block.
pub struct NewBlock<'a> {
    pub account_id: Uuid,
    pub visitor_ids: &'a [String],
    pub addresses: &'a [String],
    pub contact_id: Uuid,
    pub contact_name: &'a str,
    pub blocked_by: Uuid,
    pub reason: &'a str,
}

pub async fn insert(pool: &PgPool, block: &NewBlock<'_>) -> sqlx::Result<BlockRow> {
    sqlx::query_as!(
        BlockRow,
        "insert into visitor_block (id, account_id, visitor_ids, addresses, contact_id, \
             contact_name, blocked_by, reason) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) \
         returning id, visitor_ids, addresses, contact_id, contact_name, blocked_by, reason, \
             created_at",
        Uuid::now_v7(),
        block.account_id,
        block.visitor_ids,
        block.addresses,
        block.contact_id,
        block.contact_name,
        block.blocked_by,
        block.reason
    )
    .fetch_one(pool)
    .await
}

/// The account's blocks, the newest first.
pub async fn list(pool: &PgPool, account_id: Uuid) -> sqlx::Result<Vec<BlockRow>> {
    sqlx::query_as!(
        BlockRow,
        "select id, visitor_ids, addresses, contact_id, contact_name, blocked_by, reason, \
             created_at \
         from visitor_block where account_id = $1 order by created_at desc, id desc limit 500",
        account_id
    )
    .fetch_all(pool)
    .await
}

/// Lifts a block; `false` when the account has no such block.
pub async fn delete(pool: &PgPool, account_id: Uuid, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "delete from visitor_block where account_id = $1 and id = $2",
        account_id,
        id
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether the visitor, or the address they come from, is blocked.
pub async fn blocked(
    pool: &PgPool,
    account_id: Uuid,
    visitor_id: &str,
    address: Option<&str>,
) -> sqlx::Result<bool> {
    let found = sqlx::query_scalar!(
        "select exists (select 1 from visitor_block where account_id = $1 \
             and (visitor_ids @> array[$2::text] or addresses @> array[$3::text]))",
        account_id,
        visitor_id,
        address
    )
    .fetch_one(pool)
    .await?;
    Ok(found.unwrap_or(false))
}
