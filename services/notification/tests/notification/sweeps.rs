//! The alert and reply sweeps against the events' consumer: a sweep passes
//! over a dialog whose state the consumer is writing, and takes it once the
//! consumer commits. (A sweep that took it would wait on the consumer to
//! mark it alerted while the consumer waited on the sweep's due row: the
//! deadlock that lost alerts under load, BENCHMARKS.md.)

use std::time::Duration;

use chrono::Utc;
use uuid::Uuid;

use notification::db::alerts::{self, DialogState, Unalerted};
use notification::db::replies::{self, Unsent};

use crate::helpers::{Dialog, TestApp};

#[tokio::test]
async fn a_sweep_passes_over_a_dialog_the_consumer_is_writing_until_it_commits() {
    let mut app = TestApp::spawn().await;
    // Only the test's transactions touch the tables.
    app.stop().await;
    let dialog = Dialog::new(Uuid::now_v7());
    let (account, dialog_id) = (dialog.account_id, dialog.dialog_id);
    {
        let mut conn = app.pool.acquire().await.expect("a connection");
        let message = Unalerted {
            seq: 1,
            text: "Is it in stock?".into(),
            created_at: Utc::now(),
        };
        let held = alerts::ToHold {
            account_id: account,
            dialog_id,
            message,
        };
        alerts::hold_all(&mut conn, &[held], Duration::ZERO)
            .await
            .expect("held");
        let reply = Unsent {
            seq: 2,
            message_id: Uuid::now_v7(),
            channel: "site".into(),
            manager_id: None,
            text: "It is.".into(),
            created_at: Utc::now(),
        };
        replies::hold(&mut conn, account, dialog_id, &reply, Duration::ZERO)
            .await
            .expect("held");
        alerts::set_contacts(&mut conn, &[(account, dialog_id, dialog.contact_id)])
            .await
            .expect("the dialog's contact");
    }

    // The consumer's batch writes the dialog's state, not yet committed.
    let mut consumer = app.pool.begin().await.expect("a transaction");
    let state = DialogState {
        contact_id: Some(dialog.contact_id),
        contact_name: "Olga".into(),
        manager_id: None,
    };
    alerts::set_dialog(&mut consumer, account, dialog_id, &state)
        .await
        .expect("the dialog's state");

    let mut sweep = app.pool.begin().await.expect("a transaction");
    let alerts_due = alerts::take_due(&mut sweep, 10).await.expect("taken");
    let replies_due = replies::take_due(&mut sweep, 10).await.expect("taken");
    assert!(
        alerts_due.is_empty() && replies_due.is_empty(),
        "the sweep waits for the consumer's commit: {alerts_due:?} {replies_due:?}"
    );
    sweep.rollback().await.expect("rolled back");

    consumer.commit().await.expect("committed");
    let mut sweep = app.pool.begin().await.expect("a transaction");
    assert_eq!(
        alerts::take_due(&mut sweep, 10).await.expect("taken"),
        vec![(account, dialog_id)]
    );
    assert_eq!(
        replies::take_due(&mut sweep, 10).await.expect("taken"),
        vec![(account, dialog_id)]
    );
    sweep.commit().await.expect("committed");
    app.finish().await;
}
