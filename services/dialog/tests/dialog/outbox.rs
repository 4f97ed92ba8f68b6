//! What the dialog service publishes: each stored message and each new dialog
//! is one event on JetStream, with `Nats-Msg-Id` set to the event id; a
//! repeated client message id publishes nothing more. A visitor's message
//! written alone (one statement, its outbox row naming it) is published the
//! same, also when NATS was away as it was written.

use prost::Message as _;
use uuid::Uuid;

use chat_proto::events::v1 as ev;
use chat_testkit::env::TestEnv;
use chat_testkit::eventually;
use chat_testkit::nats::NatsServer;

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

#[tokio::test]
async fn a_visitors_message_written_alone_is_published_once_also_after_nats_was_away() {
    let mut nats = NatsServer::start().await;
    let t = TestDialog::start_in(TestEnv::with_nats(nats.url()).await).await;
    let bus = t.env.bus().await;
    let (account, contact) = (Uuid::now_v7(), Uuid::now_v7());
    t.visitor_says(account, contact, "c1", "hello")
        .await
        .unwrap();
    t.visitor_says(account, contact, "c2", "written alone")
        .await
        .unwrap();
    eventually("three events on the stream", || async {
        (t.env.events(&bus).await.len() == 3).then_some(())
    })
    .await;
    // Their rows leave the outbox once JetStream acknowledged them, a moment
    // after the events are on the stream.
    eventually("the outbox to empty", || async {
        (t.count("dialog.outbox").await == 0).then_some(())
    })
    .await;

    nats.stop().await;
    for (id, text) in [("c3", "while away 3"), ("c4", "while away 4")] {
        let posted = t.visitor_says(account, contact, id, text).await.unwrap();
        assert!(!posted.duplicate);
    }
    // Written alone: their outbox rows name the messages, carrying nothing.
    let named = t
        .count("dialog.outbox where payload is null and ref_id is not null")
        .await;
    assert_eq!(named, 2);
    nats.resume().await;

    eventually("five events on the stream", || async {
        (t.env.events(&bus).await.len() >= 5).then_some(())
    })
    .await;
    eventually("the outbox to empty", || async {
        (t.count("dialog.outbox").await == 0).then_some(())
    })
    .await;
    let events = t.env.events(&bus).await;
    assert_eq!(events.len(), 5, "each published once");
    let mut told = Vec::new();
    for event in events
        .iter()
        .filter(|e| e.envelope.r#type == "dialog.message_created")
    {
        assert_eq!(event.envelope.account_id, account.to_string());
        let msg_id = event.headers.get("Nats-Msg-Id").map(|v| v.to_string());
        assert_eq!(msg_id.as_deref(), Some(event.envelope.event_id.as_str()));
        let created = ev::MessageCreated::decode(event.envelope.payload.as_slice()).unwrap();
        assert_eq!(created.contact_id, contact.to_string());
        let message = created.message.unwrap();
        assert_eq!(message.author_id, contact.to_string());
        assert_eq!(
            message.channel,
            chat_proto::dialog::v1::Channel::Site as i32
        );
        told.push((message.seq, message.text));
    }
    told.sort();
    assert_eq!(
        told,
        [
            (1, "hello".to_owned()),
            (2, "written alone".to_owned()),
            (3, "while away 3".to_owned()),
            (4, "while away 4".to_owned()),
        ]
    );
    t.stop().await;
}

#[tokio::test]
async fn a_managers_reply_written_alone_marks_it_read_and_tells_the_messenger_once() {
    use chat_proto::dialog::v1 as pb;
    let mut nats = NatsServer::start().await;
    let t = TestDialog::start_in(TestEnv::with_nats(nats.url()).await).await;
    let bus = t.env.bus().await;
    let (account, contact, manager) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let first = t
        .contact_writes_from(pb::Channel::Telegram, account, contact, "u1", "hi")
        .await
        .unwrap();
    let dialog_id = first.message.unwrap().dialog_id;
    // The first reply takes the dialog: the long way.
    t.reply_as(account, &dialog_id, manager, "r1", "taken")
        .await
        .unwrap();
    eventually("five events on the stream", || async {
        (t.env.events(&bus).await.len() == 5).then_some(())
    })
    .await;

    nats.stop().await;
    let alone = t
        .reply_as(account, &dialog_id, manager, "r2", "written alone")
        .await
        .unwrap()
        .message
        .unwrap();
    assert_eq!(
        (alone.seq, alone.channel),
        (3, pb::Channel::Telegram as i32)
    );
    // The contact never wrote from the site: refused, nothing written.
    let site = super::helpers::Reply {
        manager_id: manager,
        channel: pb::Channel::Site,
    };
    let refused = t
        .reply(account, &dialog_id, site, "r3", "nowhere")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{refused:?}");
    // Written alone: two rows name the reply, one for each of its events.
    let named = t
        .count("dialog.outbox where payload is null and ref_id is not null")
        .await;
    assert_eq!(named, 2);
    let read: i64 = t
        .count(&format!(
            "dialog.dialog_read where manager_id = '{manager}' and read_seq = 3 and inbound_read = 1"
        ))
        .await;
    assert_eq!(
        read, 1,
        "the reply counts as having read the dialog up to it"
    );
    nats.resume().await;

    eventually("seven events on the stream", || async {
        (t.env.events(&bus).await.len() >= 7).then_some(())
    })
    .await;
    eventually("the outbox to empty", || async {
        (t.count("dialog.outbox").await == 0).then_some(())
    })
    .await;
    let events = t.env.events(&bus).await;
    assert_eq!(events.len(), 7, "each published once");
    let of_alone: Vec<_> = events
        .iter()
        .filter(|e| {
            let created = ev::MessageCreated::decode(e.envelope.payload.as_slice());
            created.is_ok_and(|c| c.message.is_some_and(|m| m.id == alone.id))
        })
        .collect();
    let types: Vec<&str> = of_alone
        .iter()
        .map(|e| e.envelope.r#type.as_str())
        .collect();
    assert_eq!(
        types,
        ["dialog.message_created", "dialog.messenger_reply_created"]
    );
    assert_eq!(of_alone[0].envelope.payload, of_alone[1].envelope.payload);
    assert_ne!(of_alone[0].envelope.event_id, of_alone[1].envelope.event_id);
    let created = ev::MessageCreated::decode(of_alone[0].envelope.payload.as_slice()).unwrap();
    assert_eq!(created.contact_id, contact.to_string());
    assert_eq!(created.message.unwrap(), alone);
    t.stop().await;
}
