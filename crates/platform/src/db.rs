//! PostgreSQL: one pool per service, pinned to the schema it owns (named after
//! the service), with the service's migrations and the platform's own tables
//! (the outbox) applied at start.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::config::Common;

/// Creates the schema if needed, then a pool whose connections all use it as
/// their `search_path`, then runs the platform tables and `migrator`.
pub async fn connect(config: &Common, schema: &str, migrator: &Migrator) -> anyhow::Result<PgPool> {
    assert!(
        schema.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
        "schema names are lowercase identifiers"
    );
    let base = PgConnectOptions::from_str(&config.database_url)
        .with_context(|| format!("while parsing the database URL for {schema}"))?;
    // A short-lived connection creates the schema, so the pool can start in it.
    let mut bootstrap = connect_with_retry(&base).await?;
    sqlx::query(&format!("create schema if not exists {schema}"))
        .execute(&mut bootstrap)
        .await
        .or_else(ignore_concurrent_create)
        .with_context(|| format!("while creating schema {schema}"))?;
    drop(bootstrap);

    let options = base
        .options([("search_path", schema)])
        .application_name(schema);
    let pool = PgPoolOptions::new()
        .max_connections(config.database_max_connections)
        .acquire_timeout(Duration::from_secs(5))
        // A ping before each use finds the connections a database restart
        // broke, so no request fails on one. It is a round trip on every
        // use, so the hot path (the dialog service's writers) keeps
        // connections of its own instead.
        .test_before_acquire(true)
        .connect_with(options)
        .await
        .with_context(|| format!("while connecting the {schema} pool"))?;
    sqlx::raw_sql(PLATFORM_TABLES)
        .execute(&pool)
        .await
        .or_else(ignore_concurrent_create)
        .context("while creating the outbox table")?;
    accept_earlier_texts(&pool, schema, migrator).await?;
    migrator
        .run(&pool)
        .await
        .with_context(|| format!("while migrating schema {schema}"))?;
    Ok(pool)
}

/// Migrations that landed in two texts with the same effect on the schema:
/// `(schema, version, SHA-384 of the other text)`. A migration is never
/// edited once it landed; these were, and databases that ran either text
/// must start.
/// - notification 0003: landed with the index `dialog_state_by_dialog`, then
///   briefly without it (0007 creates it if missing).
const EARLIER_TEXTS: &[(&str, i64, &str)] = &[(
    "notification",
    3,
    "b99101e799589e35a1e171b62f3463731af3790eceb0fa68934452fd9ba9dcfe6a4e1d4ac68caa778f4de06b930510fb",
)];

/// Records the current text's checksum for a migration that a database ran
/// in an earlier text listed in [`EARLIER_TEXTS`], so the migrator accepts it.
async fn accept_earlier_texts(
    pool: &PgPool,
    schema: &str,
    migrator: &Migrator,
) -> anyhow::Result<()> {
    let ran: Option<String> = sqlx::query_scalar("select to_regclass('_sqlx_migrations')::text")
        .fetch_one(pool)
        .await?;
    if ran.is_none() {
        return Ok(());
    }
    for &(_, version, earlier) in EARLIER_TEXTS.iter().filter(|(s, _, _)| *s == schema) {
        let Some(current) = migrator.iter().find(|m| m.version == version) else {
            continue;
        };
        let earlier = hex_bytes(earlier);
        let accepted = sqlx::query(
            "update _sqlx_migrations set checksum = $1 where version = $2 and checksum = $3",
        )
        .bind(current.checksum.as_ref())
        .bind(version)
        .bind(&earlier)
        .execute(pool)
        .await?;
        if accepted.rows_affected() > 0 {
            tracing::info!(
                schema,
                version,
                "a migration run in its earlier text is accepted"
            );
        }
    }
    Ok(())
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex in EARLIER_TEXTS"))
        .collect()
}

/// Whether a database error means "not reachable now" (down, restarting,
/// every connection busy) rather than a fault of the request: callers answer
/// "unavailable, try again" (503, gRPC UNAVAILABLE), not "internal error".
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        // 57P: the server is shutting down or starting; 08: the connection broke.
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|code| code.starts_with("57P") || code.starts_with("08")),
        _ => false,
    }
}

/// A unique key a request may break, and what the caller is told then: the
/// constraint's name, the field it is about and the problem.
pub type UniqueKey = (&'static str, &'static str, &'static str);

/// What a failed statement means to the caller; each service's error type
/// turns it into its own answer (HTTP status, gRPC code).
#[derive(Debug)]
pub enum Failure {
    /// Not reachable now: "unavailable, try again" (logged as a warning).
    Unavailable,
    /// The request broke one of the unique keys given: `(field, problem)`.
    Conflict(&'static str, &'static str),
    /// Anything else: an internal error.
    Fault(sqlx::Error),
}

impl Failure {
    /// Classifies `e`, naming a conflict when it broke one of `unique_keys`.
    pub fn of(e: sqlx::Error, unique_keys: &[UniqueKey]) -> Self {
        if is_unavailable(&e) {
            tracing::warn!(error = %e, "database not reachable");
            return Self::Unavailable;
        }
        if let sqlx::Error::Database(db) = &e
            && let Some(name) = db.constraint()
            && let Some((_, field, problem)) = unique_keys.iter().find(|(c, ..)| *c == name)
        {
            return Self::Conflict(field, problem);
        }
        Self::Fault(e)
    }
}

/// Two services creating the same object at once race on the catalog: the
/// loser's error means the object exists, which is what was wanted.
fn ignore_concurrent_create<T: Default>(e: sqlx::Error) -> Result<T, sqlx::Error> {
    match e.as_database_error().and_then(|d| d.code()) {
        Some(code) if code == "23505" || code == "42P06" || code == "42P07" => Ok(T::default()),
        _ => Err(e),
    }
}

/// PostgreSQL may still be starting when a service does: try for a while.
async fn connect_with_retry(options: &PgConnectOptions) -> anyhow::Result<sqlx::PgConnection> {
    use sqlx::ConnectOptions as _;
    let mut delay = Duration::from_millis(100);
    let mut attempt = 1;
    loop {
        match options.connect().await {
            Ok(conn) => return Ok(conn),
            Err(e) if attempt < 20 => {
                tracing::warn!(error = %e, attempt, "database not reachable yet");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(3));
                attempt += 1;
            }
            Err(e) => return Err(e).context("while connecting to PostgreSQL"),
        }
    }
}

/// Tables the platform's mechanisms keep in every service's schema.
const PLATFORM_TABLES: &str = include_str!("platform_tables.sql");
