//! What the dialog service publishes: each stored message and each new dialog
//! is one event on JetStream, with `Nats-Msg-Id` set to the event id; a
//! repeated client message id publishes nothing more.

use prost::Message as _;
use uuid::Uuid;

use chat_proto::events::v1 as ev;
use chat_testkit::eventually;

use crate::helpers::TestDialog;

#[tokio::test]
async fn every_stored_message_is_published_once_with_its_event_id() {
    let t = TestDialog::start().await;
    let bus = t.env.bus().await;
    let (account, contact) = (Uuid::now_v7(), Uuid::now_v7());

    let first = t
        .visitor_says(account, contact, "c1", "hello")
        .await
        .unwrap();
    t.visitor_says(account, contact, "c1", "hello")
        .await
        .unwrap(); // a retry
    let dialog_id = first.message.unwrap().dialog_id;
    t.manager_says(account, &dialog_id, "m1", "hi there")
        .await
        .unwrap();

    let events = eventually("four events on the stream", || async {
        let events = t.env.events(&bus).await;
        (events.len() >= 4).then_some(events)
    })
    .await;
    let types: Vec<&str> = events.iter().map(|e| e.envelope.r#type.as_str()).collect();
    assert_eq!(
        types,
        [
            "dialog.dialog_created",
            "dialog.message_created",
            "dialog.message_created",
            // The manager's first reply took the dialog.
            "dialog.dialog_updated"
        ]
    );
    for event in &events {
        assert_eq!(
            event.subject,
            format!("{}.events.{}", t.env.prefix, event.envelope.r#type)
        );
        let msg_id = event.headers.get("Nats-Msg-Id").map(|v| v.to_string());
        assert_eq!(msg_id.as_deref(), Some(event.envelope.event_id.as_str()));
        assert_eq!(event.envelope.account_id, account.to_string());
    }
    let created = ev::MessageCreated::decode(events[1].envelope.payload.as_slice()).unwrap();
    assert_eq!(created.contact_id, contact.to_string());
    let message = created.message.unwrap();
    assert_eq!((message.seq, message.text.as_str()), (1, "hello"));

    // Published rows leave the outbox.
    eventually("the outbox to empty", || async {
        (t.count("dialog.outbox").await == 0).then_some(())
    })
    .await;
    // Nothing more arrives later: the retry published nothing.
    assert_eq!(t.env.events(&bus).await.len(), 4);
    t.stop().await;
}
