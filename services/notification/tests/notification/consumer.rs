//! The durable consumer of the dialogs' events: what was published while the
//! service was down is handled once it is back, by the same consumer, each
//! event delivered once; and a consumer of an older release is retired.

use uuid::Uuid;

use crate::helpers::{Dialog, TestApp};

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
        app.held(&answered).await,
        (vec![], 2),
        "the answer settled what came before it"
    );
    let (held, alerted) = app.held(&new_one).await;
    assert!(
        held == [1] || alerted == 1,
        "the new dialog's message is held, or its alert went out already: {held:?}, {alerted}"
    );
    // The same durable consumer carried on from where it stood: nothing
    // before the restart was handed over again from the stream's start, and
    // everything after is acknowledged. (A handler's transient failure, as
    // a busy machine's database may cause, is retried: the deliveries may
    // then number more than the events, which the handlers' idempotence
    // and the checks above make harmless; CI met one such retry.)
    let after = app.consumer().await;
    assert_eq!(after.created, before.created);
    assert_eq!(before.ack_floor.stream_sequence, 1);
    assert_eq!(after.ack_floor.stream_sequence, 3);
    assert_eq!(after.delivered.stream_sequence, 3);
    assert_eq!(after.num_pending + after.num_ack_pending as u64, 0);

    app.finish().await;
}

#[tokio::test]
async fn the_old_activity_consumer_is_retired_at_start() {
    use notification::alerts::watch::RETIRED_ACTIVITY_CONSUMER;
    let mut app = TestApp::spawn().await;
    app.stop().await;
    // As a release from before the alerts consumer took its events left it.
    let stream = app.bus.ensure_stream().await.expect("the stream");
    stream
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            durable_name: Some(app.bus.name(RETIRED_ACTIVITY_CONSUMER)),
            ..Default::default()
        })
        .await
        .expect("the old consumer");
    assert!(
        chat_testkit::env::consumer_info(&app.bus, RETIRED_ACTIVITY_CONSUMER)
            .await
            .is_some()
    );
    app.restart().await;
    chat_testkit::eventually("the old consumer gone", || async {
        chat_testkit::env::consumer_info(&app.bus, RETIRED_ACTIVITY_CONSUMER)
            .await
            .is_none()
            .then_some(())
    })
    .await;
    app.finish().await;
}
