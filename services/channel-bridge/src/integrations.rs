//! The messengers each account connected (one per channel): stored with
//! their secrets sealed (the account and channel are the sealed value's
//! associated data, so a value moved to another account's row does not open), read back opened, and their
//! health recorded as updates arrive and calls fail. Every query is scoped
//! by the account, except finding an integration by the id a platform's
//! webhook names, which the webhook's own secret then vouches for.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use chat_platform::secrets::{KeyRing, Sealed};

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
    /// Where its poller is in its updates, for platforms that keep the
    /// place on our side (VK's long poll `ts`); `None`: start from now.
    pub poll_cursor: Option<String>,
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
    /// within [`POLLER_ALIVE_SECS`] (a polled integration connected within
    /// that time counts as polled then: a poller takes it up in seconds).
    pub receiving: bool,
    pub token_valid: Option<bool>,
    pub token_checked_at: Option<DateTime<Utc>>,
    pub last_update_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

impl Health {
    /// Healthy: the token is valid, updates can arrive, and no error since
    /// the last update arrived.
    pub fn healthy(&self) -> bool {
        self.token_valid == Some(true)
            && self.receiving
            && self
                .last_error_at
                .is_none_or(|error| self.last_update_at > Some(error))
    }
}

/// What a sealed value is bound to: its account and channel (an account's
/// one integration of that channel), so two connections racing for one row
/// leave a row that opens, whichever wins.
fn bound_to(account_id: Uuid, channel: &str) -> Vec<u8> {
    format!("{account_id}/{channel}").into_bytes()
}

fn seal(keys: &KeyRing, account_id: Uuid, channel: &str, secrets: &Secrets) -> Sealed {
    let json = serde_json::to_vec(secrets).expect("a map of strings is JSON");
    keys.seal(&json, &bound_to(account_id, channel))
}

/// The name of the key that makes a bot one account's only.
pub const BOT_UNIQUE: &str = "integration_bot_unique";

/// A new integration to store.
pub struct Connection<'a> {
    pub account_id: Uuid,
    pub channel: &'a str,
    pub settings: serde_json::Value,
    pub secrets: Secrets,
    /// Where its poller starts (VK's long poll `ts` when connecting); `None`:
    /// from wherever the platform keeps it.
    pub poll_cursor: Option<String>,
}

/// The id of the account's integration of that channel: the one it has, or
/// a new one for [`connect`] to store.
pub async fn id_for(pool: &PgPool, account_id: Uuid, channel: &str) -> sqlx::Result<Uuid> {
    let existing = sqlx::query_scalar!(
        "select id from integration where account_id = $1 and channel = $2",
        account_id,
        channel
    )
    .fetch_optional(pool)
    .await?;
    Ok(existing.unwrap_or_else(Uuid::now_v7))
}

/// Whether another account has this bot (by its id on the platform).
pub async fn bot_elsewhere(
    pool: &PgPool,
    channel: &str,
    bot_id: u64,
    account_id: Uuid,
) -> sqlx::Result<bool> {
    let found = sqlx::query_scalar!(
        "select exists (select 1 from integration \
             where channel = $1 and settings ->> 'bot_id' = $2 and account_id <> $3) as \"found!\"",
        channel,
        bot_id.to_string(),
        account_id
    )
    .fetch_one(pool)
    .await?;
    Ok(found)
}

/// Stores the account's integration of that channel under `id` (from
/// [`id_for`]), replacing the one it had (a new token, say); returns it as
/// stored, whose id is another when a concurrent connection stored first.
/// A bot another account has breaks [`BOT_UNIQUE`].
pub async fn connect(
    pool: &PgPool,
    keys: &KeyRing,
    id: Uuid,
    connection: Connection<'_>,
) -> anyhow::Result<Integration> {
    let sealed = seal(
        keys,
        connection.account_id,
        connection.channel,
        &connection.secrets,
    );
    // A replaced connection starts with a clean bill of health, but one of
    // the same bot, community or page in the same mode keeps what the
    // platform showed of it: its address has not changed (the row's id
    // stays), so the platform still delivers there, and the last update
    // still is the last (new settings re-saved are no reason to alarm).
    sqlx::query!(
        "insert into integration (id, account_id, channel, settings, secrets_key_id, secrets_sealed, \
             poll_cursor) \
         values ($1, $2, $3, $4, $5, $6, $7) \
         on conflict on constraint integration_channel_unique do update set \
             settings = excluded.settings, secrets_key_id = excluded.secrets_key_id, \
             secrets_sealed = excluded.secrets_sealed, \
             webhook_registered = integration.webhook_registered \
                 and integration.settings ->> 'bot_id' = excluded.settings ->> 'bot_id' \
                 and integration.settings ->> 'mode' = excluded.settings ->> 'mode', \
             last_update_at = case when integration.settings ->> 'bot_id' = excluded.settings ->> 'bot_id' \
                 then integration.last_update_at end, \
             last_poll_at = null, token_valid = null, token_checked_at = null, \
             last_error = null, last_error_at = null, \
             poll_cursor = excluded.poll_cursor, \
             updated_at = now()",
        id,
        connection.account_id,
        connection.channel,
        connection.settings,
        sealed.key_id,
        sealed.bytes,
        connection.poll_cursor
    )
    .execute(pool)
    .await?;
    let stored = id_for(pool, connection.account_id, connection.channel).await?;
    get(pool, keys, connection.account_id, stored)
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
    poll_cursor: Option<String>,
}

impl Row {
    fn health(&self) -> Health {
        let lately =
            |at: DateTime<Utc>| Utc::now() - at < chrono::Duration::seconds(POLLER_ALIVE_SECS);
        // Not "broken" in the seconds before a poller first takes it up.
        let just_connected_to_poll = self.settings["mode"] == "polling" && lately(self.updated_at);
        Health {
            receiving: self.webhook_registered
                || self.last_poll_at.is_some_and(lately)
                || just_connected_to_poll,
            token_valid: self.token_valid,
            token_checked_at: self.token_checked_at,
            last_update_at: self.last_update_at,
            last_error: self.last_error.clone(),
            last_error_at: self.last_error_at,
        }
    }

    fn open(self, keys: &KeyRing) -> anyhow::Result<Integration> {
        let health = self.health();
        let sealed = Sealed {
            key_id: self.secrets_key_id,
            bytes: self.secrets_sealed,
        };
        let json = keys.open(&sealed, &bound_to(self.account_id, &self.channel))?;
        Ok(Integration {
            id: self.id,
            account_id: self.account_id,
            channel: self.channel,
            settings: self.settings,
            secrets: serde_json::from_slice(&json)?,
            connected_at: self.updated_at,
            poll_cursor: self.poll_cursor,
            health,
        })
    }
}

/// Which integrations [`rows`] reads; `None` filters nothing.
#[derive(Default)]
struct Filter<'a> {
    account_id: Option<Uuid>,
    id: Option<Uuid>,
    channel: Option<&'a str>,
    /// Only rows sealed under another key than this one.
    sealed_under_another_than: Option<&'a str>,
}

/// The stored integrations the filter picks, by channel.
async fn rows(pool: &PgPool, filter: Filter<'_>) -> sqlx::Result<Vec<Row>> {
    sqlx::query_as!(
        Row,
        "select id, account_id, channel, settings, secrets_key_id, secrets_sealed, \
             webhook_registered, last_poll_at, token_valid, token_checked_at, last_update_at, \
             last_error, last_error_at, updated_at, poll_cursor \
         from integration \
         where ($1::uuid is null or account_id = $1) and ($2::uuid is null or id = $2) \
           and ($3::text is null or channel = $3) and ($4::text is null or secrets_key_id <> $4) \
         order by channel, id",
        filter.account_id,
        filter.id,
        filter.channel,
        filter.sealed_under_another_than
    )
    .fetch_all(pool)
    .await
}

/// The account's integration by id.
pub async fn get(
    pool: &PgPool,
    keys: &KeyRing,
    account_id: Uuid,
    id: Uuid,
) -> anyhow::Result<Option<Integration>> {
    let filter = Filter {
        account_id: Some(account_id),
        id: Some(id),
        ..Filter::default()
    };
    let row = rows(pool, filter).await?.into_iter().next();
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
    let filter = Filter {
        id: Some(id),
        channel: Some(channel),
        ..Filter::default()
    };
    let row = rows(pool, filter).await?.into_iter().next();
    row.map(|row| row.open(keys)).transpose()
}

/// Seals again, under the current key, every secret an older key sealed;
/// returns how many. Run at start, after the key ring changed.
pub async fn reseal_stale(pool: &PgPool, keys: &KeyRing) -> anyhow::Result<u64> {
    let filter = Filter {
        sealed_under_another_than: Some(keys.current_id()),
        ..Filter::default()
    };
    let stale = rows(pool, filter).await?;
    let mut resealed = 0;
    for row in stale {
        let old_key = row.secrets_key_id.clone();
        let integration = match row.open(keys) {
            Ok(integration) => integration,
            Err(e) => {
                // One row that does not open holds up none of the others.
                tracing::error!(error = %e, "an integration's secrets do not open: not sealed again");
                continue;
            }
        };
        let sealed = seal(
            keys,
            integration.account_id,
            &integration.channel,
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

/// An update arrived through the integration: it works. Stamped at most
/// once a second (to the second is all the console shows), unless an error
/// came since: a busy bot's messages then cost no write each.
pub async fn record_update(pool: &PgPool, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "update integration set last_update_at = now() \
         where id = $1 and (last_update_at is null \
             or last_update_at < now() - interval '1 second' \
             or last_error_at >= last_update_at)",
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

/// Every integration of a channel, of every account (the health checks').
/// One whose secrets do not open is left out, and logged.
pub async fn of_channel(
    pool: &PgPool,
    keys: &KeyRing,
    channel: &str,
) -> sqlx::Result<Vec<Integration>> {
    let filter = Filter {
        channel: Some(channel),
        ..Filter::default()
    };
    let rows = rows(pool, filter).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let id = row.id;
            row.open(keys)
                .inspect_err(|e| tracing::error!(integration = %id, error = %e, "an integration does not open"))
                .ok()
        })
        .collect())
}

/// An integration's health, without its secrets (nothing is opened).
pub struct HealthOf {
    pub id: Uuid,
    pub account_id: Uuid,
    pub channel: String,
    pub health: Health,
}

/// The health of every integration of every account (the metrics').
pub async fn health_of_all(pool: &PgPool) -> sqlx::Result<Vec<HealthOf>> {
    let rows = rows(pool, Filter::default()).await?;
    Ok(rows
        .into_iter()
        .map(|row| HealthOf {
            health: row.health(),
            id: row.id,
            account_id: row.account_id,
            channel: row.channel,
        })
        .collect())
}

/// The account's integrations, by channel.
pub async fn list(
    pool: &PgPool,
    keys: &KeyRing,
    account_id: Uuid,
) -> anyhow::Result<Vec<Integration>> {
    let filter = Filter {
        account_id: Some(account_id),
        ..Filter::default()
    };
    let rows = rows(pool, filter).await?;
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

/// The platform refused the token just now, saying `why`: shown at once
/// (the token refused, and why) wherever the refusal was met, not only at
/// the next periodic check.
pub async fn record_token_refused(pool: &PgPool, id: Uuid, why: &str) -> sqlx::Result<()> {
    record_token_check(pool, id, false).await?;
    record_error(pool, id, why).await
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

/// The poller's place in the integration's updates: everything before it
/// is stored. Saved only while the integration is still the connection
/// the poller started with (`connected_at`): a poller stopped by a new
/// connection never overwrites the new one's place.
pub async fn save_cursor(
    pool: &PgPool,
    integration: &Integration,
    cursor: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update integration set poll_cursor = $2 where id = $1 and updated_at = $3",
        integration.id,
        cursor,
        integration.connected_at
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
