//! The schema's migrations: a database that ran 0003 in the text that
//! briefly landed without its index still starts, and is recorded as having
//! run today's text.

use crate::helpers::TestApp;

/// SHA-384 of that text of 0003 (the one `chat_platform::db` accepts).
const EARLIER_0003: &str = "b99101e799589e35a1e171b62f3463731af3790eceb0fa68934452fd9ba9dcfe6a4e1d4ac68caa778f4de06b930510fb";

#[tokio::test]
async fn a_database_that_ran_the_earlier_text_of_0003_starts() {
    let mut app = TestApp::spawn().await;
    app.stop().await;
    let current: Vec<u8> =
        sqlx::query_scalar("select checksum from _sqlx_migrations where version = 3")
            .fetch_one(&app.pool)
            .await
            .expect("0003 ran");
    let changed = sqlx::query(
        "update _sqlx_migrations set checksum = decode($1, 'hex') \
         where version = 3 and checksum <> decode($1, 'hex')",
    )
    .bind(EARLIER_0003)
    .execute(&app.pool)
    .await
    .expect("as that database has it");
    assert_eq!(changed.rows_affected(), 1, "today's text is another");

    // It starts (a checksum the migrator does not know would stop it).
    app.restart().await;
    let recorded: Vec<u8> =
        sqlx::query_scalar("select checksum from _sqlx_migrations where version = 3")
            .fetch_one(&app.pool)
            .await
            .expect("0003 ran");
    assert_eq!(recorded, current);
    app.finish().await;
}
