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

    /// Makes one deadlock in the test's database on purpose, and returns
    /// once PostgreSQL has broken it (after its `deadlock_timeout`) and the
    /// two connections involved have closed: a later event a test can wait
    /// for before it reads the database's deadlock count.
    pub async fn make_a_deadlock(&self) {
        let table = crate::unique_name("deadlock");
        let mut a = PgConnection::connect(&self.url).await.expect("connect");
        let mut b = PgConnection::connect(&self.url).await.expect("connect");
        sqlx::raw_sql(&format!(
            "create table {table} (id int primary key); insert into {table} values (1), (2)"
        ))
        .execute(&mut a)
        .await
        .expect("deadlock table");
        for (conn, first) in [(&mut a, 1), (&mut b, 2)] {
            sqlx::raw_sql(&format!(
                "begin; update {table} set id = id where id = {first}"
            ))
            .execute(conn)
            .await
            .expect("first lock");
        }
        let (to_2, to_1) = (
            format!("update {table} set id = id where id = 2"),
            format!("update {table} set id = id where id = 1"),
        );
        let (left, right) = futures::join!(
            sqlx::raw_sql(&to_2).execute(&mut a),
            sqlx::raw_sql(&to_1).execute(&mut b),
        );
        let (left, right) = (left.map(|_| ()), right.map(|_| ()));
        let broken = [&left, &right]
            .iter()
            .filter(|r| {
                r.as_ref()
                    .err()
                    .and_then(|e| e.as_database_error())
                    .and_then(|d| d.code())
                    == Some("40P01".into())
            })
            .count();
        assert_eq!(
            broken, 1,
            "one side of the deadlock is broken: {left:?} {right:?}"
        );
        for conn in [&mut a, &mut b] {
            sqlx::raw_sql("rollback")
                .execute(conn)
                .await
                .expect("rollback");
        }
        sqlx::raw_sql(&format!("drop table {table}"))
            .execute(&mut a)
            .await
            .expect("drop");
        a.close().await.expect("close");
        b.close().await.expect("close");
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
