//! The timeline: every stored message becomes one entry on its contact's
//! timeline, from the events, once, also for events that arrived while the
//! service was down.

use uuid::Uuid;

use chat_testkit::env::caught_up;
use chat_testkit::eventually;

use crate::helpers::{TestContact, message_created};

#[tokio::test]
async fn a_stored_message_appears_once_on_its_contacts_timeline() {
    let t = TestContact::start().await;
    let bus = t.env.bus().await;
    let account = Uuid::now_v7();
    let contact = t.resolve(account, "browser-1").await.unwrap();

    let (message_id, payload) = message_created(account, &contact.id, 1, "where is my order?");
    let event_id = t
        .env
        .publish(&bus, account, "dialog.message_created", payload.clone())
        .await;
    // The same event again (a redelivery), and again under another event id.
    t.env
        .publish_with_id(
            &bus,
            event_id,
            account,
            "dialog.message_created",
            payload.clone(),
        )
        .await;
    t.env
        .publish(&bus, account, "dialog.message_created", payload)
        .await;

    eventually("the timeline entry", || async {
        let entries = t.timeline(account, &contact.id).await.ok()?;
        (!entries.is_empty()).then_some(())
    })
    .await;
    caught_up(&bus, contact::events::TIMELINE_CONSUMER).await;
    let entries = t.timeline(account, &contact.id).await.unwrap();
    assert_eq!(entries.len(), 1, "the copies added nothing");
    assert_eq!(entries[0].kind, "message");
    assert_eq!(entries[0].ref_id, message_id);
    assert_eq!(entries[0].summary, "where is my order?");

    let (_, later) = message_created(account, &contact.id, 2, "hello?");
    t.env
        .publish(&bus, account, "dialog.message_created", later)
        .await;
    caught_up(&bus, contact::events::TIMELINE_CONSUMER).await;
    let entries = t.timeline(account, &contact.id).await.unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].summary, "hello?", "newest first");
    t.stop().await;
}

#[tokio::test]
async fn messages_stored_while_the_service_was_down_reach_the_timeline_after_it_starts() {
    let mut t = TestContact::start().await;
    let bus = t.env.bus().await;
    let account = Uuid::now_v7();
    let contact = t.resolve(account, "browser-1").await.unwrap();
    let (_, before) = message_created(account, &contact.id, 1, "before");
    t.env
        .publish(&bus, account, "dialog.message_created", before)
        .await;
    eventually("the first entry", || async {
        (t.timeline(account, &contact.id).await.ok()?.len() == 1).then_some(())
    })
    .await;

    t.pause().await;
    for seq in 2..=4 {
        let (_, payload) = message_created(account, &contact.id, seq, &format!("while down {seq}"));
        t.env
            .publish(&bus, account, "dialog.message_created", payload)
            .await;
    }
    t.resume().await;

    caught_up(&bus, contact::events::TIMELINE_CONSUMER).await;
    let entries = t.timeline(account, &contact.id).await.unwrap();
    let mut summaries: Vec<&str> = entries.iter().map(|e| e.summary.as_str()).collect();
    summaries.sort();
    assert_eq!(
        summaries,
        ["before", "while down 2", "while down 3", "while down 4"]
    );
    t.stop().await;
}

#[tokio::test]
async fn the_timeline_pages_newest_first_with_a_cursor() {
    let t = TestContact::start().await;
    let bus = t.env.bus().await;
    let account = Uuid::now_v7();
    let contact = t.resolve(account, "browser-1").await.unwrap();
    for seq in 1..=3 {
        let (_, payload) = message_created(account, &contact.id, seq, &format!("m{seq}"));
        t.env
            .publish(&bus, account, "dialog.message_created", payload)
            .await;
        // One at a time, so each entry's time is its own.
        caught_up(&bus, contact::events::TIMELINE_CONSUMER).await;
    }
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
    let first = page(String::new()).await.unwrap();
    let summaries = |p: &chat_proto::contact::v1::ListTimelineResponse| {
        p.events
            .iter()
            .map(|e| e.summary.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(summaries(&first), ["m3", "m2"]);
    assert!(!first.next_cursor.is_empty());
    let second = page(first.next_cursor.clone()).await.unwrap();
    assert_eq!(summaries(&second), ["m1"]);
    assert!(second.next_cursor.is_empty(), "the last page");
    let bad = page("garbage".into()).await.unwrap_err();
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    t.stop().await;
}
