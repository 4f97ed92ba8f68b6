//! Who wrote last in each dialog, from `dialog.message_created`: a visitor's
//! message leaves the dialog waiting for an answer until a manager's; late or
//! repeated events change nothing; events sent while the service was down are
//! handled when it is back; one account never sees another's dialogs.

use uuid::Uuid;

use crate::helpers::{Activity, Dialog, TestApp, written_at};

#[tokio::test]
async fn a_visitor_message_waits_for_an_answer_until_a_manager_replies() {
    let app = TestApp::spawn().await;
    let dialog = Dialog::new(Uuid::now_v7());

    app.publish(&dialog, &dialog.visitor_message(1)).await;
    app.activity_becomes(
        &dialog,
        Activity {
            contact_id: dialog.contact_id,
            last_visitor_seq: 1,
            last_visitor_message_at: Some(written_at(1)),
            last_manager_seq: 0,
            last_manager_message_at: None,
        },
    )
    .await;
    assert_eq!(
        app.waiting_for_answer(dialog.account_id).await,
        vec![dialog.dialog_id]
    );

    app.publish(&dialog, &dialog.manager_message(2)).await;
    app.activity_becomes(
        &dialog,
        Activity {
            contact_id: dialog.contact_id,
            last_visitor_seq: 1,
            last_visitor_message_at: Some(written_at(1)),
            last_manager_seq: 2,
            last_manager_message_at: Some(written_at(2)),
        },
    )
    .await;
    assert_eq!(
        app.waiting_for_answer(dialog.account_id).await,
        Vec::<Uuid>::new()
    );

    app.finish().await;
}

#[tokio::test]
async fn a_redelivered_or_late_event_changes_nothing() {
    let app = TestApp::spawn().await;
    let dialog = Dialog::new(Uuid::now_v7());
    let first_visitor = dialog.visitor_message(1);
    let first_answer = dialog.manager_message(2);
    let second_visitor = dialog.visitor_message(3);
    let first_visitor_event = app.publish(&dialog, &first_visitor).await;
    let first_answer_event = app.publish(&dialog, &first_answer).await;
    app.publish(&dialog, &second_visitor).await;
    let settled = Activity {
        contact_id: dialog.contact_id,
        last_visitor_seq: 3,
        last_visitor_message_at: Some(written_at(3)),
        last_manager_seq: 2,
        last_manager_message_at: Some(written_at(2)),
    };
    app.activity_becomes(&dialog, settled).await;

    // The same events again, and an older message's event arriving late
    // (under a new event id, as a second publish of it would be).
    app.publish_again(first_visitor_event, &dialog, &first_visitor)
        .await;
    app.publish_again(first_answer_event, &dialog, &first_answer)
        .await;
    app.publish(&dialog, &first_visitor).await;
    app.wait_until_handled().await;

    assert_eq!(
        app.activity(&dialog).await,
        Some(Activity {
            contact_id: dialog.contact_id,
            last_visitor_seq: 3,
            last_visitor_message_at: Some(written_at(3)),
            last_manager_seq: 2,
            last_manager_message_at: Some(written_at(2)),
        })
    );
    assert_eq!(
        app.waiting_for_answer(dialog.account_id).await,
        vec![dialog.dialog_id]
    );

    app.finish().await;
}

#[tokio::test]
async fn events_published_while_the_service_is_down_are_handled_after_it_restarts() {
    let mut app = TestApp::spawn().await;
    let account_id = Uuid::now_v7();
    let answered = Dialog::new(account_id);
    let new_one = Dialog::new(account_id);

    app.publish(&answered, &answered.visitor_message(1)).await;
    app.wait_until_handled().await;
    let before = app.consumer().await;
    app.stop().await;

    app.publish(&answered, &answered.manager_message(2)).await;
    app.publish(&new_one, &new_one.visitor_message(1)).await;
    app.restart().await;
    app.wait_until_handled().await;

    assert_eq!(
        app.activity(&answered)
            .await
            .map(|a| (a.last_visitor_seq, a.last_manager_seq)),
        Some((1, 2))
    );
    assert_eq!(
        app.activity(&new_one)
            .await
            .map(|a| (a.last_visitor_seq, a.last_manager_seq)),
        Some((1, 0))
    );
    assert_eq!(
        app.waiting_for_answer(account_id).await,
        vec![new_one.dialog_id]
    );
    // The same durable consumer carried on: each event was delivered once.
    let after = app.consumer().await;
    assert_eq!(after.created, before.created);
    assert_eq!(after.delivered.consumer_sequence, 3);

    app.finish().await;
}

#[tokio::test]
async fn the_old_activity_consumer_is_retired_at_start() {
    let mut app = TestApp::spawn().await;
    app.stop().await;
    // As a release from before the alerts consumer took its events left it.
    let stream = app.bus.ensure_stream().await.expect("the stream");
    let old = app.bus.name(notification::activity::RETIRED_CONSUMER);
    stream
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            durable_name: Some(old.clone()),
            ..Default::default()
        })
        .await
        .expect("the old consumer");
    assert!(
        chat_testkit::env::consumer_info(&app.bus, notification::activity::RETIRED_CONSUMER)
            .await
            .is_some()
    );
    app.restart().await;
    chat_testkit::eventually("the old consumer gone", || async {
        chat_testkit::env::consumer_info(&app.bus, notification::activity::RETIRED_CONSUMER)
            .await
            .is_none()
            .then_some(())
    })
    .await;
    app.finish().await;
}

#[tokio::test]
async fn waiting_for_answer_lists_only_the_accounts_own_dialogs() {
    let app = TestApp::spawn().await;
    let (account_a, account_b) = (Uuid::now_v7(), Uuid::now_v7());
    let dialog_a = Dialog::new(account_a);
    let later_a = Dialog::new(account_a);
    let dialog_b = Dialog::new(account_b);

    app.publish(&later_a, &later_a.visitor_message(2)).await;
    app.publish(&dialog_a, &dialog_a.visitor_message(1)).await;
    app.publish(&dialog_b, &dialog_b.visitor_message(1)).await;
    app.wait_until_handled().await;

    // The longest wait first.
    assert_eq!(
        app.waiting_for_answer(account_a).await,
        vec![dialog_a.dialog_id, later_a.dialog_id]
    );
    assert_eq!(
        app.waiting_for_answer(account_b).await,
        vec![dialog_b.dialog_id]
    );
    assert_eq!(
        app.waiting_for_answer(Uuid::now_v7()).await,
        Vec::<Uuid>::new()
    );

    app.finish().await;
}
