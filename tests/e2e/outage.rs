//! An outage of NATS: messages sent while it is down are stored, and are
//! delivered once it is back, none lost and none doubled, live to the
//! manager and to every consumer.

use serde_json::json;
use sqlx::Row as _;

use chat_testkit::clients::{Socket, message_seqs};
use chat_testkit::nats::NatsServer;

use crate::helpers::{Options, TestSuite, client_id};

#[tokio::test]
async fn messages_sent_while_nats_is_down_arrive_once_it_is_back() {
    let mut nats = NatsServer::start().await;
    let t = TestSuite::start_with(Options {
        nats_url: nats.url(),
        ..Options::default()
    })
    .await;
    let shop = t.shop("Theta").await;
    let api = t.manager_api(&shop).await;
    let mut manager = Socket::manager(t.port, api.token.as_deref().unwrap()).await;
    manager.wait_for_type("hello").await;
    let mut visitor = Socket::visitor(t.port, &shop.site_key, "through-outage", None).await;
    visitor.wait_for_type("hello").await;

    visitor
        .send_json(json!({"type": "send", "client_message_id": client_id(), "text": "before"}))
        .await;
    assert_eq!(visitor.wait_for_type("ack").await["message"]["seq"], 1);
    let dialog_id = manager.wait_for_type("message").await["message"]["dialog_id"]
        .as_str()
        .unwrap()
        .to_owned();

    nats.stop().await;
    for i in 2..=6 {
        visitor.send_json(json!({"type": "send", "client_message_id": client_id(), "text": format!("during {i}")})).await;
        let ack = visitor.wait_for_type("ack").await;
        assert_eq!(ack["message"]["seq"], i, "stored while NATS is down");
    }
    nats.resume().await;

    manager
        .wait_for("the last message", |f| {
            f["type"] == "message" && f["message"]["seq"] == 6
        })
        .await;
    let mut seen = vec![1];
    seen.extend(message_seqs(&manager.drain().await, &dialog_id));
    seen.push(6);
    seen.sort();
    assert_eq!(seen, [1, 2, 3, 4, 5, 6], "each message once, none lost");

    // The consumers caught up too: every message is on the contact's timeline, once.
    let db = t.env().pool().await;
    let timeline = chat_testkit::eventually("the timeline to catch up", || async {
        let row = sqlx::query("select count(*) as n, count(distinct ref_id) as distinct_refs from contact.timeline_event")
            .fetch_one(&db)
            .await
            .ok()?;
        let (n, distinct): (i64, i64) = (row.get("n"), row.get("distinct_refs"));
        (n == 6).then_some((n, distinct))
    })
    .await;
    assert_eq!(timeline, (6, 6));
    db.close().await;
    t.stop().await;
}
