//! The timeline the contact service keeps: what a contact did, newest
//! first, paged by a cursor. A contact's messages are not copied here (the
//! gateway reads them from the dialog service), and the consumer that once
//! copied them is retired.

use tokio_util::sync::CancellationToken;
use tonic::Code;
use uuid::Uuid;

use chat_platform::bus::Batches;
use chat_platform::events::MESSAGE_CREATED;
use chat_testkit::env::consumer_info;
use chat_testkit::eventually;

use crate::helpers::TestContact;

#[tokio::test]
async fn the_timeline_pages_newest_first_with_a_cursor() {
    let t = TestContact::start().await;
    let account = Uuid::now_v7();
    let contact = t.resolve(account, "browser-1").await.unwrap();
    for n in 1..=3 {
        t.visit(account, &contact.id, &format!("view-{n}"), &format!("p{n}"))
            .await;
    }
    // The same page view again adds nothing.
    t.visit(account, &contact.id, "view-2", "p2 again").await;
    let page = |cursor: String| {
        let mut client = t.client.clone();
        let request = chat_proto::contact::v1::ListTimelineRequest {
            account_id: account.to_string(),
            contact_id: contact.id.clone(),
            limit: 2,
            cursor,
            ..Default::default()
        };
        async move { client.list_timeline(request).await.map(|r| r.into_inner()) }
    };
    let summaries = |p: &chat_proto::contact::v1::ListTimelineResponse| {
        p.events
            .iter()
            .map(|e| e.summary.clone())
            .collect::<Vec<_>>()
    };
    let first = page(String::new()).await.unwrap();
    assert_eq!(summaries(&first), ["p3", "p2"]);
    assert!(!first.next_cursor.is_empty());
    let second = page(first.next_cursor.clone()).await.unwrap();
    assert_eq!(summaries(&second), ["p1"]);
    assert!(second.next_cursor.is_empty(), "the last page");
    let bad = page("garbage".into()).await.unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    t.stop().await;
}

#[tokio::test]
async fn messages_are_not_a_kind_the_contact_service_keeps() {
    let t = TestContact::start().await;
    let account = Uuid::now_v7();
    let contact = t.resolve(account, "browser-1").await.unwrap();
    let refused = t
        .client
        .clone()
        .list_timeline(chat_proto::contact::v1::ListTimelineRequest {
            account_id: account.to_string(),
            contact_id: contact.id.clone(),
            kind: "message".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(refused.message().contains("kind"), "{refused:?}");
    t.stop().await;
}

#[tokio::test]
async fn the_consumer_that_copied_messages_is_retired_at_start() {
    let mut t = TestContact::start().await;
    t.pause().await;
    // A suite upgraded from before: the old consumer is on the server.
    let bus = t.env.bus().await;
    let old = CancellationToken::new();
    let reading = tokio::spawn({
        let (bus, old) = (bus.clone(), old.clone());
        async move {
            bus.consume_batches(
                contact::events::RETIRED_TIMELINE_CONSUMER,
                &[MESSAGE_CREATED],
                Batches::lingering(16, std::time::Duration::from_millis(1)),
                old,
                |_| async { Ok::<(), chat_platform::bus::HandlerError>(()) },
            )
            .await
        }
    });
    eventually("the old consumer on the server", || {
        consumer_info(&bus, contact::events::RETIRED_TIMELINE_CONSUMER)
    })
    .await;
    old.cancel();
    reading.await.unwrap();

    t.resume().await;
    eventually("the old consumer to be retired", || async {
        consumer_info(&bus, contact::events::RETIRED_TIMELINE_CONSUMER)
            .await
            .is_none()
            .then_some(())
    })
    .await;
    t.stop().await;
}
