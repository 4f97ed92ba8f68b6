//! Shops' own SMTP servers: where an account's e-mails to its contacts
//! leave by, with the password sealed, and the latest failure to send
//! through it for the owner to see.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use chat_platform::secrets::Sealed;

/// A shop's server as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    pub account_id: Uuid,
    pub host: String,
    pub port: u16,
    /// `starttls`, `tls` or `none`.
    pub security: String,
    pub username: String,
    pub password: Option<Sealed>,
    pub from_address: String,
    pub last_error: String,
    pub last_error_at: Option<DateTime<Utc>>,
    /// Changes with every save: the sender's cached connections follow it.
    pub updated_at: DateTime<Utc>,
}

struct Row {
    account_id: Uuid,
    host: String,
    port: i32,
    security: String,
    username: String,
    password_key_id: Option<String>,
    password_sealed: Option<Vec<u8>>,
    from_address: String,
    last_error: String,
    last_error_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

impl From<Row> for Server {
    fn from(row: Row) -> Self {
        let password = row
            .password_key_id
            .zip(row.password_sealed)
            .map(|(key_id, bytes)| Sealed { key_id, bytes });
        Self {
            account_id: row.account_id,
            host: row.host,
            port: u16::try_from(row.port).unwrap_or_default(),
            security: row.security,
            username: row.username,
            password,
            from_address: row.from_address,
            last_error: row.last_error,
            last_error_at: row.last_error_at,
            updated_at: row.updated_at,
        }
    }
}

pub async fn get(conn: &mut PgConnection, account_id: Uuid) -> sqlx::Result<Option<Server>> {
    let row = sqlx::query_as!(
        Row,
        "select account_id, host, port, security, username, password_key_id, password_sealed, \
             from_address, last_error, last_error_at, updated_at \
         from account_smtp where account_id = $1",
        account_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Server::from))
}

/// What an owner saves, the password already sealed.
pub struct NewServer<'a> {
    pub host: &'a str,
    pub port: u16,
    pub security: &'a str,
    pub username: &'a str,
    pub password: Option<&'a Sealed>,
    pub from_address: &'a str,
}

/// Keeps the account's server (replacing the one before, and its failure).
pub async fn put(pool: &PgPool, account_id: Uuid, server: &NewServer<'_>) -> sqlx::Result<Server> {
    let row = sqlx::query_as!(
        Row,
        "insert into account_smtp (account_id, host, port, security, username, \
             password_key_id, password_sealed, from_address) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) \
         on conflict (account_id) do update set host = excluded.host, port = excluded.port, \
             security = excluded.security, username = excluded.username, \
             password_key_id = excluded.password_key_id, \
             password_sealed = excluded.password_sealed, \
             from_address = excluded.from_address, last_error = '', last_error_at = null, \
             updated_at = clock_timestamp() \
         returning account_id, host, port, security, username, password_key_id, \
             password_sealed, from_address, last_error, last_error_at, updated_at",
        account_id,
        server.host,
        i32::from(server.port),
        server.security,
        server.username,
        server.password.map(|p| p.key_id.as_str()),
        server.password.map(|p| p.bytes.as_slice()),
        server.from_address
    )
    .fetch_one(pool)
    .await?;
    Ok(row.into())
}

/// Back to the deployment's server; whether there was one of the shop's.
pub async fn remove(pool: &PgPool, account_id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query!("delete from account_smtp where account_id = $1", account_id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Sending through the account's server, as saved at `version`, failed
/// with `error` (a newer save has nothing to do with it).
pub async fn failed(
    pool: &PgPool,
    account_id: Uuid,
    version: DateTime<Utc>,
    error: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update account_smtp set last_error = $3, last_error_at = now() \
         where account_id = $1 and updated_at = $2",
        account_id,
        version,
        error
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// An e-mail went through the account's server as saved at `version`: a
/// failure shown is over (nothing is written when none is).
pub async fn worked(pool: &PgPool, account_id: Uuid, version: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        "update account_smtp set last_error = '', last_error_at = null \
         where account_id = $1 and updated_at = $2 and last_error <> ''",
        account_id,
        version
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Servers whose password an older key than `current_key` sealed.
pub async fn sealed_under_another(pool: &PgPool, current_key: &str) -> sqlx::Result<Vec<Server>> {
    let rows = sqlx::query_as!(
        Row,
        "select account_id, host, port, security, username, password_key_id, password_sealed, \
             from_address, last_error, last_error_at, updated_at \
         from account_smtp where password_key_id <> $1",
        current_key
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Server::from).collect())
}

/// Replaces the sealed password `old`, unless it was replaced since (a
/// save, or another replica's reseal).
pub async fn reseal(
    pool: &PgPool,
    account_id: Uuid,
    old: &Sealed,
    sealed: &Sealed,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update account_smtp set password_key_id = $4, password_sealed = $5 \
         where account_id = $1 and password_key_id = $2 and password_sealed = $3",
        account_id,
        old.key_id,
        old.bytes,
        sealed.key_id,
        sealed.bytes
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}
