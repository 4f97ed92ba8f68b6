//! SQL of the gateway: accounts, managers and sessions.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub id: Uuid,
    pub name: String,
    pub site_key: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ManagerRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub email: String,
    pub name: String,
    pub password_hash: String,
}

/// A live session joined with its manager.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub session_id: Uuid,
    pub manager_id: Uuid,
    pub account_id: Uuid,
    pub email: String,
    pub name: String,
    pub last_active_at: DateTime<Utc>,
}

pub async fn account_by_site_key(
    pool: &PgPool,
    site_key: &str,
) -> sqlx::Result<Option<AccountRow>> {
    if site_key.contains('\0') {
        return Ok(None); // PostgreSQL text cannot hold NUL, so no key does
    }
    sqlx::query_as("select id, name, site_key from account where site_key = $1")
        .bind(site_key)
        .fetch_optional(pool)
        .await
}

pub async fn insert_account(pool: &PgPool, name: &str, site_key: &str) -> sqlx::Result<AccountRow> {
    sqlx::query_as(
        "insert into account (id, name, site_key) values ($1, $2, $3) returning id, name, site_key",
    )
    .bind(Uuid::now_v7())
    .bind(name)
    .bind(site_key)
    .fetch_one(pool)
    .await
}

pub async fn manager_by_email(pool: &PgPool, email: &str) -> sqlx::Result<Option<ManagerRow>> {
    sqlx::query_as(
        "select id, account_id, email, name, password_hash from manager where email = $1",
    )
    .bind(email)
    .fetch_optional(pool)
    .await
}

pub async fn insert_manager(
    pool: &PgPool,
    account_id: Uuid,
    email: &str,
    name: &str,
    password_hash: &str,
) -> sqlx::Result<ManagerRow> {
    sqlx::query_as(
        "insert into manager (id, account_id, email, name, password_hash) values ($1, $2, $3, $4, $5) \
         returning id, account_id, email, name, password_hash",
    )
    .bind(Uuid::now_v7())
    .bind(account_id)
    .bind(email)
    .bind(name)
    .bind(password_hash)
    .fetch_one(pool)
    .await
}

pub async fn insert_session(
    pool: &PgPool,
    manager: &ManagerRow,
    token_hash: &[u8],
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "insert into session (id, account_id, manager_id, token_hash) values ($1, $2, $3, $4)",
    )
    .bind(Uuid::now_v7())
    .bind(manager.account_id)
    .bind(manager.id)
    .bind(token_hash)
    .execute(&mut *tx)
    .await?;
    // Logging in is activity: it revives the manager's other sessions too.
    sqlx::query("update manager set last_active_at = now() where id = $1")
        .bind(manager.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

pub async fn session_by_token_hash(
    pool: &PgPool,
    token_hash: &[u8],
) -> sqlx::Result<Option<SessionRow>> {
    sqlx::query_as(
        "select s.id as session_id, m.id as manager_id, m.account_id, m.email, m.name, m.last_active_at \
         from session s join manager m on m.id = s.manager_id \
         where s.token_hash = $1 and s.revoked_at is null",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await
}

/// When the manager of a live (not revoked) session was last active; `None`
/// once the session is revoked.
pub async fn session_last_active(
    pool: &PgPool,
    account_id: Uuid,
    session_id: Uuid,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar(
        "select m.last_active_at from session s join manager m on m.id = s.manager_id \
         where s.account_id = $1 and s.id = $2 and s.revoked_at is null",
    )
    .bind(account_id)
    .bind(session_id)
    .fetch_optional(pool)
    .await
}

pub async fn revoke_session(pool: &PgPool, account_id: Uuid, session_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update session set revoked_at = now() where account_id = $1 and id = $2 and revoked_at is null")
        .bind(account_id)
        .bind(session_id)
        .execute(pool)
        .await
        .map(drop)
}

/// Records activity, at most once per `throttle_secs`, so busy managers do not
/// write on every request.
pub async fn touch_manager(
    pool: &PgPool,
    manager_id: Uuid,
    throttle_secs: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "update manager set last_active_at = now() \
         where id = $1 and last_active_at < now() - make_interval(secs => $2)",
    )
    .bind(manager_id)
    .bind(throttle_secs as f64)
    .execute(pool)
    .await
    .map(drop)
}
