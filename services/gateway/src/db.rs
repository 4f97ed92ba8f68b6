//! SQL of the gateway: accounts, managers, invitations and sessions.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::credentials::{Device, EndReason};

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
    pub role: String,
    pub active: bool,
    /// The console's language they chose (`en`, `ru`); `None`: their browser's.
    pub language: Option<String>,
    /// Active within the idle limit with a live session (only in lists).
    #[sqlx(default)]
    pub online: bool,
}

const MANAGER_COLUMNS: &str = "id, account_id, email, name, password_hash, role, active, language";

/// A live session joined with its manager.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub session_id: Uuid,
    pub manager_id: Uuid,
    pub account_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
    pub last_active_at: DateTime<Utc>,
}

/// One of a manager's live sessions, as they see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceSessionRow {
    pub id: Uuid,
    pub device: String,
    pub ip: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A session is live while not revoked or expired and its manager is active.
const LIVE: &str = "s.revoked_at is null and s.expires_at > now() and m.active";

pub async fn account_by_site_key(
    pool: &PgPool,
    site_key: &str,
) -> sqlx::Result<Option<AccountRow>> {
    if site_key.contains('\0') {
        return Ok(None); // PostgreSQL text cannot hold NUL, so no key does
    }
    sqlx::query_as!(
        AccountRow,
        "select id, name, site_key from account where site_key = $1",
        site_key
    )
    .fetch_optional(pool)
    .await
}

pub async fn insert_account(pool: &PgPool, name: &str, site_key: &str) -> sqlx::Result<AccountRow> {
    // With its widget settings, at their defaults.
    sqlx::query_as!(
        AccountRow,
        r#"with created as (insert into account (id, name, site_key) values ($1, $2, $3)
           returning id, name, site_key),
         settings as (insert into widget_settings (account_id) select id from created)
         select id as "id!", name as "name!", site_key as "site_key!" from created"#,
        Uuid::now_v7(),
        name,
        site_key
    )
    .fetch_one(pool)
    .await
}

/// The most shops one address may sign in to: past it, the oldest.
pub const MAX_ACCOUNTS_PER_EMAIL: i64 = 20;

/// A manager with the name of their shop.
#[derive(sqlx::FromRow)]
pub struct ManagerOfShop {
    #[sqlx(flatten)]
    pub manager: ManagerRow,
    pub shop_name: String,
}

/// The managers an address is, one per shop, with each shop's name, the
/// oldest first.
pub async fn managers_by_email(pool: &PgPool, email: &str) -> sqlx::Result<Vec<ManagerOfShop>> {
    sqlx::query_as(
        "select m.id, m.account_id, m.email, m.name, m.password_hash, m.role, m.active, m.language, \
             a.name as shop_name from manager m join account a on a.id = m.account_id \
         where m.email = $1 order by m.created_at, m.id limit $2",
    )
    .bind(email)
    .bind(MAX_ACCOUNTS_PER_EMAIL)
    .fetch_all(pool)
    .await
}

/// The manager with this e-mail in one account.
pub async fn manager_in_account_by_email(
    pool: &PgPool,
    account_id: Uuid,
    email: &str,
) -> sqlx::Result<Option<ManagerRow>> {
    sqlx::query_as(&format!(
        "select {MANAGER_COLUMNS} from manager where account_id = $1 and email = $2"
    ))
    .bind(account_id)
    .bind(email)
    .fetch_optional(pool)
    .await
}

/// A new manager; `invitation_hash` when they set their password by invitation.
pub struct NewManager<'a> {
    pub account_id: Uuid,
    pub email: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    /// Empty until an invitation is accepted.
    pub password_hash: &'a str,
    pub invitation_hash: Option<&'a [u8]>,
}

/// How long an invitation link works.
pub const INVITATION_DAYS: i32 = 7;

pub async fn insert_manager(pool: &PgPool, new: &NewManager<'_>) -> sqlx::Result<ManagerRow> {
    sqlx::query_as(&format!(
        "insert into manager (id, account_id, email, name, role, password_hash, invitation_hash, \
             invitation_expires_at) \
         values ($1, $2, $3, $4, $5, $6, $7, case when $7 is null then null \
             else now() + make_interval(days => {INVITATION_DAYS}) end) \
         returning {MANAGER_COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(new.account_id)
    .bind(new.email)
    .bind(new.name)
    .bind(new.role)
    .bind(new.password_hash)
    .bind(new.invitation_hash)
    .fetch_one(pool)
    .await
}

/// The account's managers, by name, each with whether they are online: a
/// live session and activity within `idle_secs`.
pub async fn list_managers(
    pool: &PgPool,
    account_id: Uuid,
    idle_secs: i64,
) -> sqlx::Result<Vec<ManagerRow>> {
    sqlx::query_as(&format!(
        "select {MANAGER_COLUMNS}, active and last_active_at > now() - make_interval(secs => $2) \
             and exists (select 1 from session s where s.manager_id = manager.id \
                 and s.revoked_at is null and s.expires_at > now()) as online \
         from manager where account_id = $1 order by lower(name), id"
    ))
    .bind(account_id)
    .bind(idle_secs as f64)
    .fetch_all(pool)
    .await
}

pub async fn get_manager(
    pool: &PgPool,
    account_id: Uuid,
    manager_id: Uuid,
) -> sqlx::Result<Option<ManagerRow>> {
    sqlx::query_as(&format!(
        "select {MANAGER_COLUMNS} from manager where account_id = $1 and id = $2"
    ))
    .bind(account_id)
    .bind(manager_id)
    .fetch_optional(pool)
    .await
}

/// Keeps the console's language a manager chose (`None`: their browser's).
pub async fn set_manager_language(
    pool: &PgPool,
    account_id: Uuid,
    manager_id: Uuid,
    language: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update manager set language = $3, announced = false, updated_at = now() \
         where account_id = $1 and id = $2",
        account_id,
        manager_id,
        language
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// What an owner or admin changes on a manager; `None` keeps a field.
#[derive(Debug, Default)]
pub struct ManagerChange {
    pub name: Option<String>,
    pub email: Option<String>,
    pub role: Option<&'static str>,
    pub active: Option<bool>,
    pub password_hash: Option<String>,
}

pub async fn update_manager(
    conn: &mut PgConnection,
    account_id: Uuid,
    manager_id: Uuid,
    change: &ManagerChange,
) -> sqlx::Result<Option<ManagerRow>> {
    sqlx::query_as(&format!(
        "update manager set name = coalesce($3, name), email = coalesce($4, email), \
             role = coalesce($5, role), active = coalesce($6, active), \
             password_hash = coalesce($7, password_hash), updated_at = now(), announced = false \
         where account_id = $1 and id = $2 returning {MANAGER_COLUMNS}"
    ))
    .bind(account_id)
    .bind(manager_id)
    .bind(change.name.as_deref())
    .bind(change.email.as_deref())
    .bind(change.role)
    .bind(change.active)
    .bind(change.password_hash.as_deref())
    .fetch_optional(conn)
    .await
}

/// Sets the password of the manager an unexpired invitation names, and
/// spends the invitation; `false` when there is none.
/// Whether an invitation with this token is waiting to be accepted.
pub async fn invitation_pending(pool: &PgPool, invitation_hash: &[u8]) -> sqlx::Result<bool> {
    let found = sqlx::query_scalar!(
        "select exists (select 1 from manager \
         where invitation_hash = $1 and invitation_expires_at > now() and active)",
        invitation_hash
    )
    .fetch_one(pool)
    .await?;
    Ok(found.unwrap_or(false))
}

pub async fn accept_invitation(
    pool: &PgPool,
    invitation_hash: &[u8],
    password_hash: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update manager set password_hash = $2, invitation_hash = null, \
             invitation_expires_at = null, updated_at = now(), announced = false \
         where invitation_hash = $1 and invitation_expires_at > now() and active",
        invitation_hash,
        password_hash
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends every live session of a manager, but `keep` if given; returns their ids.
pub async fn revoke_manager_sessions(
    conn: &mut PgConnection,
    account_id: Uuid,
    manager_id: Uuid,
    keep: Option<Uuid>,
    reason: EndReason,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        "update session set revoked_at = now(), revoked_reason = $4 \
         where account_id = $1 and manager_id = $2 and revoked_at is null \
             and id is distinct from $3 \
         returning id",
        account_id,
        manager_id,
        keep,
        reason.as_str()
    )
    .fetch_all(conn)
    .await
}

/// Ends every live session of a manager who has been idle longer than
/// `idle_secs` (on all devices), so that signing in again anywhere cannot
/// revive them; returns their ids. Nothing when the manager was active since.
pub async fn revoke_idle_sessions(
    conn: &mut PgConnection,
    manager_id: Uuid,
    idle_secs: i64,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        "update session s set revoked_at = now(), revoked_reason = 'idle' \
         from manager m \
         where m.id = s.manager_id and s.manager_id = $1 and s.revoked_at is null \
             and m.last_active_at < now() - make_interval(secs => $2) \
         returning s.id",
        manager_id,
        idle_secs as f64
    )
    .fetch_all(conn)
    .await
}

/// A manager's live sessions, the most recently used first.
pub async fn list_sessions(
    pool: &PgPool,
    account_id: Uuid,
    manager_id: Uuid,
) -> sqlx::Result<Vec<DeviceSessionRow>> {
    sqlx::query_as!(
        DeviceSessionRow,
        "select id, device, ip, created_at, last_seen_at, expires_at from session \
         where account_id = $1 and manager_id = $2 and revoked_at is null and expires_at > now() \
         order by last_seen_at desc, id desc",
        account_id,
        manager_id
    )
    .fetch_all(pool)
    .await
}

/// Ends a manager's own session by id; `false` when it is not theirs or not live.
pub async fn revoke_own_session(
    pool: &PgPool,
    account_id: Uuid,
    manager_id: Uuid,
    session_id: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update session set revoked_at = now(), revoked_reason = 'ended_by_manager' \
         where account_id = $1 and manager_id = $2 and id = $3 and revoked_at is null",
        account_id,
        manager_id,
        session_id
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends all of a manager's sessions but one; returns the ids ended.
pub async fn revoke_other_sessions(
    pool: &PgPool,
    account_id: Uuid,
    manager_id: Uuid,
    keep: Uuid,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        "update session set revoked_at = now(), revoked_reason = 'ended_by_manager' \
         where account_id = $1 and manager_id = $2 and id <> $3 and revoked_at is null \
         returning id",
        account_id,
        manager_id,
        keep
    )
    .fetch_all(pool)
    .await
}

/// Opens a session. Signing in is activity, which keeps the manager's other
/// sessions alive; but those that had already idled out are ended first
/// (their ids returned), so a login never revives an ended session.
pub async fn insert_session(
    pool: &PgPool,
    manager: &ManagerRow,
    token_hash: &[u8],
    device: &Device,
    lifetime: chrono::Duration,
    idle_secs: i64,
) -> sqlx::Result<Vec<Uuid>> {
    let mut tx = pool.begin().await?;
    let idled_out = revoke_idle_sessions(&mut tx, manager.id, idle_secs).await?;
    sqlx::query!(
        "insert into session (id, account_id, manager_id, token_hash, device, ip, expires_at) \
         values ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))",
        Uuid::now_v7(),
        manager.account_id,
        manager.id,
        token_hash,
        device.user_agent.chars().take(300).collect::<String>(),
        &device.ip,
        lifetime.num_seconds() as f64
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "update manager set last_active_at = now() where id = $1",
        manager.id
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(idled_out)
}

pub async fn session_by_token_hash(
    pool: &PgPool,
    token_hash: &[u8],
) -> sqlx::Result<Option<SessionRow>> {
    sqlx::query_as(&format!(
        "select s.id as session_id, m.id as manager_id, m.account_id, m.email, m.name, m.role, \
             m.last_active_at \
         from session s join manager m on m.id = s.manager_id \
         where s.token_hash = $1 and {LIVE}"
    ))
    .bind(token_hash)
    .fetch_optional(pool)
    .await
}

/// When the manager of a live session was last active; `None` once the
/// session is revoked or expired or the manager deactivated.
pub async fn session_last_active(
    pool: &PgPool,
    account_id: Uuid,
    session_id: Uuid,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar(&format!(
        "select m.last_active_at from session s join manager m on m.id = s.manager_id \
         where s.account_id = $1 and s.id = $2 and {LIVE}"
    ))
    .bind(account_id)
    .bind(session_id)
    .fetch_optional(pool)
    .await
}

/// Ends a session at its own request (logging out).
pub async fn revoke_session(pool: &PgPool, account_id: Uuid, session_id: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "update session set revoked_at = now(), revoked_reason = 'logout' \
         where account_id = $1 and id = $2 and revoked_at is null",
        account_id,
        session_id
    )
    .execute(pool)
    .await
    .map(drop)
}

/// Records activity of the manager (all devices) and of the session (this
/// device), each at most once per `throttle_secs`, so busy managers do not
/// write on every request.
pub async fn touch_session(
    pool: &PgPool,
    manager_id: Uuid,
    session_id: Uuid,
    throttle_secs: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "with m as ( \
             update manager set last_active_at = now() \
             where id = $1 and last_active_at < now() - make_interval(secs => $3) \
         ) \
         update session set last_seen_at = now() \
         where id = $2 and last_seen_at < now() - make_interval(secs => $3)",
        manager_id,
        session_id,
        throttle_secs as f64
    )
    .execute(pool)
    .await
    .map(drop)
}

/// The account's identity-verification secret, as it is now.
pub async fn identity_secret(pool: &PgPool, account_id: Uuid) -> sqlx::Result<String> {
    sqlx::query_scalar!(
        "select identity_secret from account where id = $1",
        account_id
    )
    .fetch_one(pool)
    .await
}

/// How long a "Forgot password?" link works.
pub const PASSWORD_RESET_MINUTES: i32 = 30;

/// Keeps a new password-reset link (by its token's hash).
pub async fn insert_password_reset(
    pool: &PgPool,
    account_id: Uuid,
    manager_id: Uuid,
    token_hash: &[u8],
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into password_reset (token_hash, account_id, manager_id, expires_at) \
         values ($1, $2, $3, now() + make_interval(mins => $4))",
        token_hash,
        account_id,
        manager_id,
        PASSWORD_RESET_MINUTES
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Spends a live password-reset link of an active manager: their account
/// and id, or `None` when there is no such link (made up, used, expired).
pub async fn use_password_reset(
    conn: &mut PgConnection,
    token_hash: &[u8],
) -> sqlx::Result<Option<(Uuid, Uuid)>> {
    let used = sqlx::query!(
        "update password_reset r set used_at = now() from manager m \
         where r.token_hash = $1 and r.used_at is null and r.expires_at > now() \
             and m.id = r.manager_id and m.active \
         returning r.account_id, r.manager_id",
        token_hash
    )
    .fetch_optional(conn)
    .await?;
    Ok(used.map(|r| (r.account_id, r.manager_id)))
}

/// Whether a password-reset link could be spent now (a made-up one costs a
/// lookup, not a password hash).
pub async fn password_reset_live(pool: &PgPool, token_hash: &[u8]) -> sqlx::Result<bool> {
    let live = sqlx::query_scalar!(
        "select exists (select 1 from password_reset \
         where token_hash = $1 and used_at is null and expires_at > now())",
        token_hash
    )
    .fetch_one(pool)
    .await?;
    Ok(live.unwrap_or(false))
}

/// The shop's name.
pub async fn account_name(pool: &PgPool, account_id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("select name from account where id = $1", account_id)
        .fetch_optional(pool)
        .await
}
