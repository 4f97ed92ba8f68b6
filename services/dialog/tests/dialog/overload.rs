//! Under overload the writer refuses what waited too long for it, having
//! stored nothing, instead of queueing it for seconds.

use std::time::Duration;

use chat_proto::dialog::v1 as pb;
use tokio::task::JoinHandle;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::TestDialog;
use dialog::writer::{DEFAULT_MAX_QUEUE_WAIT, WRITERS};

/// Backends of the test's database waiting for a lock.
async fn waiting_for_locks(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar(
        "select count(*) from pg_stat_activity \
         where datname = current_database() and wait_event_type = 'Lock'",
    )
    .fetch_one(pool)
    .await
    .expect("pg_stat_activity")
}

/// A visitor's post, on a task of its own.
fn post(
    t: &TestDialog,
    account: Uuid,
    visitor: Uuid,
    client_id: &str,
) -> JoinHandle<Result<pb::PostMessageResponse, tonic::Status>> {
    let mut client = t.client.clone();
    let request = pb::PostMessageRequest {
        account_id: account.to_string(),
        contact_id: visitor.to_string(),
        author_kind: pb::AuthorKind::Visitor as i32,
        client_message_id: client_id.into(),
        text: "while the writers are busy".into(),
        channel: pb::Channel::Site as i32,
        ..Default::default()
    };
    tokio::spawn(async move { client.post_message(request).await.map(|r| r.into_inner()) })
}

#[tokio::test]
async fn a_post_that_waited_too_long_for_a_writer_is_refused_busy_and_nothing_is_stored() {
    let t = TestDialog::start().await;
    let pool = t.env.pool().await;
    let account = Uuid::now_v7();
    let held: Vec<Uuid> = (0..WRITERS).map(|_| Uuid::now_v7()).collect();
    let late = Uuid::now_v7();
    for visitor in held.iter().chain([&late]) {
        t.visitor_says(account, *visitor, "first", "hello")
            .await
            .expect("dialog opened");
    }

    // Every writer is kept busy: each takes one post into a dialog this
    // transaction holds, and waits for its lock. Posted one at a time, so
    // no writer takes two.
    let mut lock = pool.begin().await.expect("begin");
    sqlx::query(
        "select 1 from dialog.dialog where account_id = $1 and contact_id = any($2) for update",
    )
    .bind(account)
    .bind(&held)
    .execute(&mut *lock)
    .await
    .expect("dialogs locked");
    let mut busy = Vec::new();
    for (n, visitor) in held.iter().enumerate() {
        busy.push(post(&t, account, *visitor, "second"));
        while waiting_for_locks(&pool).await < n as i64 + 1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    // This one waits in the queue past the writer's patience.
    let refused = post(&t, account, late, "second");
    tokio::time::sleep(DEFAULT_MAX_QUEUE_WAIT + Duration::from_millis(150)).await;
    lock.rollback().await.expect("rollback");

    let status = refused.await.unwrap().expect_err("refused");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    for held_up in busy {
        let posted = held_up.await.unwrap().expect("stored once the lock went");
        assert!(!posted.duplicate);
    }
    // Nothing of the refused post was stored: sent again, it is new.
    let again = post(&t, account, late, "second")
        .await
        .unwrap()
        .expect("stored");
    assert!(!again.duplicate);
    assert_eq!(again.message.unwrap().seq, 2);
    assert_eq!(t.count("dialog.message").await, 2 * (WRITERS as i64 + 1));
    pool.close().await;
    t.stop().await;
}
