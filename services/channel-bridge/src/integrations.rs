//! The messengers each account connected: stored with their secrets sealed
//! (the row's id and account are the sealed value's associated data, so a
//! value moved to another row does not open), read back opened, and their
//! health recorded as updates arrive and calls fail. Every query is scoped
//! by the account, except finding an integration by the id a platform's
//! webhook names, which the webhook's own secret then vouches for.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::secrets::{KeyRing, Sealed};

/// Tokens and secrets of one integration, by name (`bot_token`,
/// `webhook_secret`, `access_token`, ...).
pub type Secrets = BTreeMap<String, String>;

/// An integration as the bridge works with it: its secrets opened.
#[derive(Clone)]
pub struct Integration {
    pub id: Uuid,
    pub account_id: Uuid,
    pub channel: String,
    pub settings: serde_json::Value,
    pub secrets: Secrets,
    pub health: Health,
    pub connected_at: DateTime<Utc>,
}

impl std::fmt::Debug for Integration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret_names: Vec<&String> = self.secrets.keys().collect();
        f.debug_struct("Integration")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("channel", &self.channel)
            .field("settings", &self.settings)
            .field("secrets", &secret_names)
            .finish()
    }
}

impl Integration {
    /// One of its secrets; empty when it has none of that name.
    pub fn secret(&self, name: &str) -> &str {
        self.secrets
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }
}

/// How long after its last long poll a poller still counts as alive.
pub const POLLER_ALIVE_SECS: i64 = 60;

/// What the bridge last saw of an integration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    /// Updates can arrive: the webhook is registered, or a poller polled
    /// within [`POLLER_ALIVE_SECS`].
    pub receiving: bool,
    pub token_valid: Option<bool>,
    pub token_checked_at: Option<DateTime<Utc>>,
    pub last_update_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

/// What a sealed value is bound to: its row and account.
fn bound_to(id: Uuid, account_id: Uuid) -> Vec<u8> {
    [id.as_bytes().as_slice(), account_id.as_bytes()].concat()
}

fn seal(keys: &KeyRing, id: Uuid, account_id: Uuid, secrets: &Secrets) -> Sealed {
    let json = serde_json::to_vec(secrets).expect("a map of strings is JSON");
    keys.seal(&json, &bound_to(id, account_id))
}

/// A new integration to store.
pub struct Connection<'a> {
    pub account_id: Uuid,
    pub channel: &'a str,
    pub settings: serde_json::Value,
    pub secrets: Secrets,
}

/// Stores the account's integration of that channel, replacing the one it
/// had (a new token, say); returns it as stored.
pub async fn connect(
    pool: &PgPool,
    keys: &KeyRing,
    connection: Connection<'_>,
) -> anyhow::Result<Integration> {
    let existing = sqlx::query_scalar!(
        "select id from integration where account_id = $1 and channel = $2",
        connection.account_id,
        connection.channel
    )
    .fetch_optional(pool)
    .await?;
    let id = existing.unwrap_or_else(Uuid::now_v7);
    let sealed = seal(keys, id, connection.account_id, &connection.secrets);
    // A replaced connection starts with a clean bill of health.
    sqlx::query!(
        "insert into integration (id, account_id, channel, settings, secrets_key_id, secrets_sealed) \
         values ($1, $2, $3, $4, $5, $6) \
         on conflict on constraint integration_channel_unique do update set \
             settings = excluded.settings, secrets_key_id = excluded.secrets_key_id, \
             secrets_sealed = excluded.secrets_sealed, webhook_registered = false, \
             last_poll_at = null, token_valid = null, token_checked_at = null, \
             last_update_at = null, last_error = null, last_error_at = null, updated_at = now()",
        id,
        connection.account_id,
        connection.channel,
        connection.settings,
        sealed.key_id,
        sealed.bytes
    )
    .execute(pool)
    .await?;
    get(pool, keys, connection.account_id, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("an integration just stored is gone"))
}

/// The stored columns of an integration.
struct Row {
    id: Uuid,
    account_id: Uuid,
    channel: String,
    settings: serde_json::Value,
    secrets_key_id: String,
    secrets_sealed: Vec<u8>,
    webhook_registered: bool,
    last_poll_at: Option<DateTime<Utc>>,
    token_valid: Option<bool>,
    token_checked_at: Option<DateTime<Utc>>,
    last_update_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    last_error_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

impl Row {
    fn open(self, keys: &KeyRing) -> anyhow::Result<Integration> {
        let sealed = Sealed {
            key_id: self.secrets_key_id,
            bytes: self.secrets_sealed,
        };
        let json = keys.open(&sealed, &bound_to(self.id, self.account_id))?;
        Ok(Integration {
            id: self.id,
            account_id: self.account_id,
            channel: self.channel,
            settings: self.settings,
            secrets: serde_json::from_slice(&json)?,
            connected_at: self.updated_at,
            health: Health {
                receiving: self.webhook_registered
                    || self.last_poll_at.is_some_and(|at| {
                        Utc::now() - at < chrono::Duration::seconds(POLLER_ALIVE_SECS)
                    }),
                token_valid: self.token_valid,
                token_checked_at: self.token_checked_at,
                last_update_at: self.last_update_at,
                last_error: self.last_error,
                last_error_at: self.last_error_at,
            },
        })
    }
}

/// The account's integration by id.
pub async fn get(
    pool: &PgPool,
    keys: &KeyRing,
    account_id: Uuid,
    id: Uuid,
) -> anyhow::Result<Option<Integration>> {
    let row = sqlx::query_as!(
        Row,
        "select id, account_id, channel, settings, secrets_key_id, secrets_sealed, \
             webhook_registered, last_poll_at, token_valid, token_checked_at, last_update_at, \
             last_error, last_error_at, updated_at \
         from integration where account_id = $1 and id = $2",
        account_id,
        id
    )
    .fetch_optional(pool)
    .await?;
    row.map(|row| row.open(keys)).transpose()
}

/// The integration a webhook's address names, of the channel the address
/// is for; the caller checks the webhook's secret before trusting it.
pub async fn for_webhook(
    pool: &PgPool,
    keys: &KeyRing,
    channel: &str,
    id: Uuid,
) -> anyhow::Result<Option<Integration>> {
    let row = sqlx::query_as!(
        Row,
        "select id, account_id, channel, settings, secrets_key_id, secrets_sealed, \
             webhook_registered, last_poll_at, token_valid, token_checked_at, last_update_at, \
             last_error, last_error_at, updated_at \
         from integration where id = $1 and channel = $2",
        id,
        channel
    )
    .fetch_optional(pool)
    .await?;
    row.map(|row| row.open(keys)).transpose()
}

/// Seals again, under the current key, every secret an older key sealed;
/// returns how many. Run at start, after the key ring changed.
pub async fn reseal_stale(pool: &PgPool, keys: &KeyRing) -> anyhow::Result<u64> {
    let stale = sqlx::query_as!(
        Row,
        "select id, account_id, channel, settings, secrets_key_id, secrets_sealed, \
             webhook_registered, last_poll_at, token_valid, token_checked_at, last_update_at, \
             last_error, last_error_at, updated_at \
         from integration where secrets_key_id <> $1",
        keys.current_id()
    )
    .fetch_all(pool)
    .await?;
    let mut resealed = 0;
    for row in stale {
        let old_key = row.secrets_key_id.clone();
        let integration = row.open(keys)?;
        let sealed = seal(
            keys,
            integration.id,
            integration.account_id,
            &integration.secrets,
        );
        // Only if nobody stored a new connection meanwhile.
        let done = sqlx::query!(
            "update integration set secrets_key_id = $2, secrets_sealed = $3 \
             where id = $1 and secrets_key_id = $4",
            integration.id,
            sealed.key_id,
            sealed.bytes,
            old_key
        )
        .execute(pool)
        .await?;
        resealed += done.rows_affected();
    }
    Ok(resealed)
}

/// An update arrived through the integration: it works.
pub async fn record_update(pool: &PgPool, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "update integration set last_update_at = now() where id = $1",
        id
    )
    .execute(pool)
    .await
    .map(drop)
}

/// Something failed on the integration: what, for the console.
pub async fn record_error(pool: &PgPool, id: Uuid, error: &str) -> sqlx::Result<()> {
    let error: String = error.chars().take(500).collect();
    sqlx::query!(
        "update integration set last_error = $2, last_error_at = now() where id = $1",
        id,
        error
    )
    .execute(pool)
    .await
    .map(drop)
}

/// The account's integrations, by channel.
pub async fn list(
    pool: &PgPool,
    keys: &KeyRing,
    account_id: Uuid,
) -> anyhow::Result<Vec<Integration>> {
    let rows = sqlx::query_as!(
        Row,
        "select id, account_id, channel, settings, secrets_key_id, secrets_sealed, \
             webhook_registered, last_poll_at, token_valid, token_checked_at, last_update_at, \
             last_error, last_error_at, updated_at \
         from integration where account_id = $1 order by channel",
        account_id
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(|row| row.open(keys)).collect()
}

/// Every integration of a channel that polls for its updates, of every
/// account: what the pollers share out between replicas.
pub async fn polling(pool: &PgPool, channel: &str) -> sqlx::Result<Vec<(Uuid, Uuid)>> {
    let rows = sqlx::query!(
        "select id, account_id from integration \
         where channel = $1 and settings ->> 'mode' = 'polling' order by id",
        channel
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.account_id, r.id)).collect())
}

/// Removes the account's integration; `false` when it has no such one.
pub async fn delete(pool: &PgPool, account_id: Uuid, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "delete from integration where account_id = $1 and id = $2",
        account_id,
        id
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The platform accepted (or refused) the token just now.
pub async fn record_token_check(pool: &PgPool, id: Uuid, valid: bool) -> sqlx::Result<()> {
    sqlx::query!(
        "update integration set token_valid = $2, token_checked_at = now() where id = $1",
        id,
        valid
    )
    .execute(pool)
    .await
    .map(drop)
}

/// The webhook is registered with the platform (or not).
pub async fn record_receiving(pool: &PgPool, id: Uuid, registered: bool) -> sqlx::Result<()> {
    sqlx::query!(
        "update integration set webhook_registered = $2, \
             last_error = case when $2 then null else last_error end where id = $1",
        id,
        registered
    )
    .execute(pool)
    .await
    .map(drop)
}

/// A long poll answered: the poller is alive, and what failed before has passed.
pub async fn record_poll(pool: &PgPool, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "update integration set last_poll_at = now(), last_error = null, \
             last_error_at = null where id = $1",
        id
    )
    .execute(pool)
    .await
    .map(drop)
}
