//! Outages: of NATS (messages sent while it is down are stored, and are
//! delivered once it is back, none lost and none doubled, live to the
//! manager and to every consumer) and of PostgreSQL (a crash loses nothing
//! acknowledged; a message sent meanwhile is refused as "unavailable", and
//! sent again afterwards it is stored once). A gateway started while NATS
//! is down is not ready, and pushes what was published meanwhile once it is.
//! A NATS that comes back with an empty store (every stream and consumer
//! forgotten) is set up again by the services, and messages flow both ways,
//! to the site and through the messengers.

use serde_json::json;

use chat_testkit::clients::{Socket, message_seqs};
use chat_testkit::env::every_consumer_caught_up;
use chat_testkit::nats::NatsServer;
use chat_testkit::postgres::PgServer;

use crate::helpers::{
    Options, TestSuite, client_id, delivered_or_failed, dialog_texts, reply, until_messages,
};

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

    // The consumers caught up too: each service's has handled every event.
    let bus = t.env().bus().await;
    let consumers = every_consumer_caught_up(&bus).await;
    assert!(
        consumers.iter().any(|c| c.ends_with("notification_alerts")),
        "{consumers:?}"
    );
    t.stop().await;
}

#[tokio::test]
async fn after_nats_restarts_with_an_empty_store_every_consumer_heals_and_messages_flow_both_ways()
{
    let mut nats = NatsServer::start().await;
    let t = TestSuite::start_with(Options {
        nats_url: nats.url(),
        ..Options::default()
    })
    .await;
    let token = "777900:healing-bot";
    t.telegram.make_bot(token, "healing_bot");
    let shop = t.shop("Iota").await;
    let api = t.manager_api(&shop).await;
    let (status, body) = api
        .put("/api/v1/integrations/telegram", json!({"bot_token": token}))
        .await;
    assert_eq!(status, 200, "{body}");
    let anna = chat_fakes::telegram::Person {
        id: 4242,
        first_name: "Анна".into(),
        last_name: None,
        username: None,
    };
    t.telegram.person_writes(token, &anna, "до").unwrap();
    let dialogs = until_messages(&api, 1).await;
    let dialog_id = dialogs[0].0["id"].as_str().unwrap().to_owned();

    nats.restart_empty().await;

    // Through the messenger: her message in, the manager's reply out (the
    // bridge's consumer of replies made again, with the stream).
    t.telegram.person_writes(token, &anna, "после").unwrap();
    until_messages(&api, 2).await;
    let id = reply(&api, &dialog_id, "telegram", "Ответ после сбоя").await;
    let reply = delivered_or_failed(&api, &dialog_id, &id).await;
    assert_eq!(reply["delivery_state"], "delivered", "{reply}");
    assert!(
        t.telegram
            .sent(token)
            .iter()
            .any(|m| m["text"] == "Ответ после сбоя")
    );

    // On the site: a visitor's message reaches the manager's socket live.
    let mut manager = Socket::manager(t.port, api.token.as_deref().unwrap()).await;
    manager.wait_for_type("hello").await;
    let mut visitor = Socket::visitor(t.port, &shop.site_key, "after-the-wipe", None).await;
    visitor.wait_for_type("hello").await;
    visitor
        .send_json(json!({"type": "send", "client_message_id": client_id(), "text": "с сайта"}))
        .await;
    visitor.wait_for_type("ack").await;
    manager
        .wait_for("the visitor's message, live", |f| {
            f["type"] == "message" && f["message"]["text"] == "с сайта"
        })
        .await;
    t.stop().await;
}

/// The gateway's `/readyz`: its status and what it says of the event feed.
async fn gateway_readiness(port: u16) -> (u16, serde_json::Value) {
    let response = reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
        .await
        .expect("gateway answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("readiness is JSON"))
}

#[tokio::test]
async fn a_gateway_started_while_nats_is_down_pushes_what_was_published_meanwhile_and_is_ready_once_it_is_back()
 {
    let mut nats = NatsServer::start().await;
    nats.stop().await;
    let t = TestSuite::start_with(Options {
        nats_url: nats.url(),
        ..Options::default()
    })
    .await;
    let (status, body) = gateway_readiness(t.suite().ops_ports.gateway).await;
    assert_eq!(status, 503, "not ready without its feed: {body}");
    assert_eq!(body["feed"], false);

    let shop = t.shop("Iota").await;
    let api = t.manager_api(&shop).await;
    let mut manager = Socket::manager(t.port, api.token.as_deref().unwrap()).await;
    manager.wait_for_type("hello").await;
    let mut visitor = Socket::visitor(t.port, &shop.site_key, "before-nats", None).await;
    visitor.wait_for_type("hello").await;
    for i in 1..=3 {
        visitor.send_json(json!({"type": "send", "client_message_id": client_id(), "text": format!("early {i}")})).await;
        assert_eq!(visitor.wait_for_type("ack").await["message"]["seq"], i);
    }
    nats.resume().await;

    // Published once NATS is back, after the gateway started: pushed live.
    let last = manager
        .wait_for("the last message", |f| {
            f["type"] == "message" && f["message"]["seq"] == 3
        })
        .await;
    let dialog_id = last["message"]["dialog_id"].as_str().unwrap().to_owned();
    let mut seen = message_seqs(&manager.drain().await, &dialog_id);
    seen.push(3);
    seen.sort();
    assert_eq!(seen, [1, 2, 3], "each message once, none lost");
    chat_testkit::eventually("the gateway to be ready", || async {
        let (status, body) = gateway_readiness(t.suite().ops_ports.gateway).await;
        (status == 200 && body["feed"] == true).then_some(())
    })
    .await;
    t.stop().await;
}

#[tokio::test]
async fn a_database_crash_loses_nothing_acknowledged_and_a_resend_is_stored_once() {
    let mut pg = PgServer::start().await;
    let t = TestSuite::start_with(Options {
        database_admin_url: Some(pg.url("postgres")),
        ..Options::default()
    })
    .await;
    let shop = t.shop("Mu").await;
    let api = t.manager_api(&shop).await;
    let mut manager = Socket::manager(t.port, api.token.as_deref().unwrap()).await;
    manager.wait_for_type("hello").await;
    let mut visitor = Socket::visitor(t.port, &shop.site_key, "through-crash", None).await;
    visitor.wait_for_type("hello").await;
    visitor
        .send_json(json!({"type": "send", "client_message_id": client_id(), "text": "before"}))
        .await;
    let ack = visitor.wait_for_type("ack").await;
    let dialog_id = ack["message"]["dialog_id"].as_str().unwrap().to_owned();

    pg.stop().await;
    let during = client_id();
    let send_during = json!({"type": "send", "client_message_id": during, "text": "during"});
    visitor.send_json(send_during.clone()).await;
    let refused = visitor.wait_for_type("error").await;
    assert_eq!(
        (
            refused["code"].as_str(),
            refused["client_message_id"].as_str()
        ),
        (Some("unavailable"), Some(during.as_str())),
        "{refused}"
    );
    pg.resume().await;

    // The client sends it again, as a client does after "unavailable", until
    // it is stored; a second resend (as after a lost ack) is the same message.
    let mut attempts = 0;
    let stored = loop {
        visitor.send_json(send_during.clone()).await;
        let answer = visitor
            .wait_for("the answer to the resend", |f| {
                f["client_message_id"] == during.as_str()
                    && (f["type"] == "ack" || f["type"] == "error")
            })
            .await;
        if answer["type"] == "ack" {
            break answer;
        }
        assert_eq!(answer["code"], "unavailable", "{answer}");
        attempts += 1;
        assert!(attempts < 50, "the database did not come back: {answer}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(
        (
            stored["message"]["seq"].as_i64(),
            stored["duplicate"].as_bool()
        ),
        (Some(2), Some(false))
    );
    visitor.send_json(send_during).await;
    let again = visitor.wait_for_type("ack").await;
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["message"]["id"], stored["message"]["id"]);

    manager
        .wait_for("the resent message, live", |f| {
            f["type"] == "message" && f["message"]["seq"] == 2
        })
        .await;
    assert_eq!(
        dialog_texts(&api, &dialog_id).await,
        ["before", "during"],
        "the crash lost nothing acknowledged"
    );

    // The consumers caught up after the database came back.
    let bus = t.env().bus().await;
    every_consumer_caught_up(&bus).await;
    t.stop().await;
}
