//! Leases in the database: which replica does a job that must run once at a
//! time (long polling a bot). The holder renews its lease well before it
//! expires; once its holder stops renewing (it died), any replica takes it.

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

/// How long a lease lasts without renewal: how soon a dead holder's job moves.
pub const LEASE: Duration = Duration::from_secs(10);
/// How often holders renew, and others try to take expired leases.
pub const RENEW_EVERY: Duration = Duration::from_secs(3);

/// Takes or renews the lease on `integration_id` for `holder`; whether it
/// holds it now.
pub async fn hold(pool: &PgPool, integration_id: Uuid, holder: &str) -> sqlx::Result<bool> {
    let held = sqlx::query_scalar!(
        "insert into poll_lease (integration_id, holder, expires_at) \
         values ($1, $2, now() + make_interval(secs => $3)) \
         on conflict (integration_id) do update \
             set holder = excluded.holder, expires_at = excluded.expires_at \
             where poll_lease.holder = excluded.holder or poll_lease.expires_at < now() \
         returning holder",
        integration_id,
        holder,
        LEASE.as_secs_f64()
    )
    .fetch_optional(pool)
    .await?;
    Ok(held.is_some())
}

/// Gives the lease up (a replica stopping), so another takes it at once.
pub async fn release(pool: &PgPool, integration_id: Uuid, holder: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from poll_lease where integration_id = $1 and holder = $2",
        integration_id,
        holder
    )
    .execute(pool)
    .await
    .map(drop)
}
