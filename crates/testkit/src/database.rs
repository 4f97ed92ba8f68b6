//! A database per test, created from `CHAT_TEST_DATABASE_URL` (default: the
//! dev role on 127.0.0.1) and dropped by [`TestDb::cleanup`]. Databases that
//! crashed tests left behind are swept when they are two hours old.

use sqlx::{Connection as _, PgConnection};

const DEFAULT_ADMIN_URL: &str = "postgres://chat:chat@127.0.0.1:5432/postgres";
/// Test databases older than this are someone's leftovers.
const STALE_AFTER_SECS: u64 = 2 * 3600;

pub struct TestDb {
    pub name: String,
    /// URL of the test's database.
    pub url: String,
    admin_url: String,
}

fn admin_url() -> String {
    std::env::var("CHAT_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

/// `url` with its database name replaced.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(prefix, _)| prefix);
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

impl TestDb {
    /// A database on the shared server (`CHAT_TEST_DATABASE_URL`).
    pub async fn create() -> TestDb {
        Self::create_on(admin_url()).await
    }

    /// A database on the server that `admin_url` reaches (a private one, say).
    pub async fn create_on(admin_url: String) -> TestDb {
        let mut admin = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!("cannot reach PostgreSQL at {admin_url}: {e} (run deploy/dev/ensure-deps.sh)")
        });
        sweep_stale(&mut admin).await;
        let name = crate::unique_name("chat_test");
        sqlx::query(&format!("create database {name}"))
            .execute(&mut admin)
            .await
            .expect("create database");
        let url = with_database(&admin_url, &name);
        TestDb {
            name,
            url,
            admin_url,
        }
    }

    pub async fn cleanup(self) {
        if let Ok(mut admin) = PgConnection::connect(&self.admin_url).await {
            let _ = sqlx::query(&format!(
                "drop database if exists {} with (force)",
                self.name
            ))
            .execute(&mut admin)
            .await;
        }
    }
}

async fn sweep_stale(admin: &mut PgConnection) {
    let names: Vec<String> =
        sqlx::query_scalar("select datname from pg_database where datname like 'chat_test_%'")
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    for name in names {
        let created: Option<u64> = name.split('_').nth(2).and_then(|s| s.parse().ok());
        if created.is_some_and(|t| now.saturating_sub(t) > STALE_AFTER_SECS) {
            let _ = sqlx::query(&format!("drop database if exists {name} with (force)"))
                .execute(&mut *admin)
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced_and_options_kept() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres", "x"),
            "postgres://u:p@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://h/db?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
    }
}
