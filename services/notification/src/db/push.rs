//! Browser push: the VAPID key, the managers' subscriptions, and the push
//! log, which is also the pusher's queue.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// The deployment's VAPID private key: the one kept, else `candidate`
/// kept now (the first replica to start makes it).
pub async fn vapid_key(pool: &PgPool, candidate: &str) -> sqlx::Result<String> {
    sqlx::query!(
        "insert into vapid_key (private_key) values ($1) on conflict do nothing",
        candidate
    )
    .execute(pool)
    .await?;
    sqlx::query_scalar!("select private_key from vapid_key")
        .fetch_one(pool)
        .await
}

/// A browser's subscription.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Subscription {
    pub id: Uuid,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// Keeps a subscription for the manager (one per endpoint: a browser that
/// subscribes again, or for another manager, replaces its old one).
pub async fn subscribe(
    pool: &PgPool,
    account_id: Uuid,
    manager_id: Uuid,
    subscription: &Subscription,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into push_subscription (id, account_id, manager_id, endpoint, p256dh, auth) \
         values ($1, $2, $3, $4, $5, $6) \
         on conflict (endpoint) do update set account_id = excluded.account_id, \
             manager_id = excluded.manager_id, p256dh = excluded.p256dh, auth = excluded.auth",
        subscription.id,
        account_id,
        manager_id,
        subscription.endpoint,
        subscription.p256dh,
        subscription.auth
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Forgets the manager's subscription at `endpoint`; whether there was one.
pub async fn unsubscribe(
    pool: &PgPool,
    account_id: Uuid,
    manager_id: Uuid,
    endpoint: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "delete from push_subscription where account_id = $1 and manager_id = $2 and endpoint = $3",
        account_id,
        manager_id,
        endpoint
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn subscriptions(
    conn: &mut PgConnection,
    account_id: Uuid,
    manager_id: Uuid,
) -> sqlx::Result<Vec<Subscription>> {
    sqlx::query_as!(
        Subscription,
        "select id, endpoint, p256dh, auth from push_subscription \
         where account_id = $1 and manager_id = $2 order by created_at",
        account_id,
        manager_id
    )
    .fetch_all(conn)
    .await
}

/// Records a push; `false` when one with the same key was recorded before.
pub async fn record(
    conn: &mut PgConnection,
    account_id: Uuid,
    dedupe_key: &str,
    subscription_id: Uuid,
    payload: &serde_json::Value,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "insert into push (id, account_id, dedupe_key, subscription_id, payload) \
         values ($1, $2, $3, $4, $5) on conflict (dedupe_key) do nothing",
        Uuid::now_v7(),
        account_id,
        dedupe_key,
        subscription_id,
        payload
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A push taken for sending, with where it goes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Outgoing {
    pub id: Uuid,
    pub subscription_id: Uuid,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub payload: serde_json::Value,
    pub attempts: i32,
}

pub async fn claim(pool: &PgPool, limit: i64, claim_secs: f64) -> sqlx::Result<Vec<Outgoing>> {
    sqlx::query_as!(
        Outgoing,
        "with taken as ( \
             update push set status = 'sending', attempts = attempts + 1, \
                 claimed_until = now() + make_interval(secs => $2) \
             where id in (select id from push \
                 where (status = 'pending' and next_attempt_at <= now()) \
                    or (status = 'sending' and claimed_until < now()) \
                 order by next_attempt_at limit $1 for update skip locked) \
             returning id, subscription_id, payload, attempts) \
         select t.id as \"id!\", t.subscription_id as \"subscription_id!\", s.endpoint, s.p256dh, \
             s.auth, t.payload as \"payload!\", t.attempts as \"attempts!\" \
         from taken t join push_subscription s on s.id = t.subscription_id",
        limit,
        claim_secs
    )
    .fetch_all(pool)
    .await
}

pub async fn sent(pool: &PgPool, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "update push set status = 'sent', sent_at = now(), claimed_until = null, last_error = '' \
         where id = $1",
        id
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn retry_at(
    pool: &PgPool,
    id: Uuid,
    next_attempt_at: DateTime<Utc>,
    error: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update push set status = 'pending', next_attempt_at = $2, claimed_until = null, \
             last_error = $3 where id = $1",
        id,
        next_attempt_at,
        error
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn failed(pool: &PgPool, id: Uuid, error: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "update push set status = 'failed', claimed_until = null, last_error = $2 where id = $1",
        id,
        error
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The push service says the subscription is gone (404, 410): forget it,
/// and its pushes with it.
pub async fn gone(pool: &PgPool, subscription_id: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from push_subscription where id = $1",
        subscription_id
    )
    .execute(pool)
    .await?;
    Ok(())
}
