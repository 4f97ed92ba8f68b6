//! The message path: a visitor and a manager talk live, reconnecting clients
//! get exactly what they missed, repeats are stored once, and two gateway
//! replicas behave as one.

use serde_json::json;

use chat_testkit::clients::{Socket, message_seqs};

use crate::helpers::{Options, TestSuite, client_id, dialog_texts};

#[tokio::test]
async fn a_visitor_and_a_manager_talk_live() {
    let t = TestSuite::start().await;
    let shop = t.shop("Shoes").await;
    let api = t.manager_api(&shop).await;
    let mut manager = Socket::manager(t.port, api.token.as_deref().unwrap()).await;
    let hello = manager.wait_for_type("hello").await;
    assert_eq!(hello["account_id"], shop.account_id);

    let mut visitor = Socket::visitor(t.port, &shop.site_key, "visitor-1", None).await;
    let hello = visitor.wait_for_type("hello").await;
    assert!(
        hello["dialog"].is_null(),
        "no dialog before the first message"
    );
    visitor
        .send_json(
            json!({"type": "send", "client_message_id": "v-1", "text": "Do you have size 42?"}),
        )
        .await;
    let ack = visitor.wait_for_type("ack").await;
    assert_eq!(ack["duplicate"], false);
    assert_eq!(ack["message"]["seq"], 1);
    let dialog_id = ack["message"]["dialog_id"].as_str().unwrap().to_owned();

    // The manager sees the new dialog and the message live.
    let created = manager.wait_for_type("dialog_created").await;
    assert_eq!(created["dialog"]["id"], dialog_id.as_str());
    let live = manager.wait_for_type("message").await;
    assert_eq!(live["message"]["text"], "Do you have size 42?");
    assert_eq!(live["message"]["author_kind"], "visitor");

    // The dialog is open with no manager: it is in "new".
    let (status, dialogs) = api.get("/api/v1/dialogs?status=open").await;
    assert_eq!(status, 200);
    assert_eq!(dialogs["dialogs"].as_array().unwrap().len(), 1);
    assert_eq!(dialogs["dialogs"][0]["status"], "open");
    assert!(dialogs["dialogs"][0]["manager_id"].is_null());
    assert_eq!(
        dialogs["dialogs"][0]["last_message_text"],
        "Do you have size 42?"
    );

    // The manager replies over the socket; the visitor gets it live.
    manager
        .send_json(json!({"type": "send", "dialog_id": dialog_id, "client_message_id": "m-1", "text": "Yes, in black."}))
        .await;
    let ack = manager.wait_for_type("ack").await;
    assert_eq!(ack["message"]["seq"], 2);
    let reply = visitor
        .wait_for("the reply", |f| {
            f["type"] == "message" && f["message"]["seq"] == 2
        })
        .await;
    assert_eq!(reply["message"]["text"], "Yes, in black.");
    assert_eq!(reply["message"]["author_kind"], "manager");

    // Each side got every message exactly once, in order.
    // (The reply was taken above; what is left is the visitor's own message, once.)
    assert_eq!(message_seqs(&visitor.drain().await, &dialog_id), [1]);
    assert_eq!(message_seqs(&manager.drain().await, &dialog_id), [2]);
    assert_eq!(
        dialog_texts(&api, &dialog_id).await,
        ["Do you have size 42?", "Yes, in black."]
    );
    t.stop().await;
}

/// A visitor's socket that wrote "one", and the dialog it opened.
async fn first_message(port: u16, site_key: &str, visitor: &str) -> (Socket, String) {
    let mut socket = Socket::visitor(port, site_key, visitor, None).await;
    socket
        .send_json(json!({"type": "send", "client_message_id": client_id(), "text": "one"}))
        .await;
    let dialog_id = socket.wait_for_type("ack").await["message"]["dialog_id"]
        .as_str()
        .unwrap()
        .to_owned();
    (socket, dialog_id)
}

/// A console that reconnects asks with `sync` for each dialog it knows, but
/// live messages of that dialog may reach the new socket first: the sync
/// still fills everything after the client's position, and nothing twice.
#[tokio::test]
async fn a_sync_after_live_messages_fills_what_came_before_them() {
    let t = TestSuite::start().await;
    let shop = t.shop("Gloves").await;
    let api = t.manager_api(&shop).await;
    let (_visitor, dialog_id) = first_message(t.port, &shop.site_key, "blinking").await;
    let post = |text: &'static str| {
        let api = &api;
        let path = format!("/api/v1/dialogs/{dialog_id}/messages");
        async move {
            let body = json!({"client_message_id": client_id(), "text": text});
            assert_eq!(api.post(&path, body).await.0, 201);
        }
    };
    post("two").await;
    // A manager socket replays a dialog opened while it watched from its
    // start; this one must be older than the socket, as a reconnecting
    // console's dialogs are. The rule is by the dialog's age (its UUIDv7),
    // so the age is waited for.
    let born = dialog_id
        .parse::<uuid::Uuid>()
        .unwrap()
        .get_timestamp()
        .unwrap();
    let (secs, nanos) = born.to_unix();
    let old_at = std::time::UNIX_EPOCH + std::time::Duration::new(secs + 6, nanos);
    if let Ok(wait) = old_at.duration_since(std::time::SystemTime::now()) {
        tokio::time::sleep(wait).await;
    }

    // The console held up to seq 1 when its network blinked.
    let mut manager = Socket::manager(t.port, api.token.as_deref().unwrap()).await;
    manager.wait_for_type("hello").await;
    for text in ["three", "four", "five"] {
        post(text).await;
    }
    manager
        .wait_for("seq 5 live", |f| {
            f["type"] == "message" && f["message"]["seq"] == 5
        })
        .await;
    manager
        .send_json(json!({"type": "sync", "dialog_id": dialog_id, "after_seq": 1}))
        .await;
    post("six").await;
    manager
        .wait_for("seq 6 live", |f| {
            f["type"] == "message" && f["message"]["seq"] == 6
        })
        .await;
    // Seqs 5 and 6 were taken above; a second of either would be left.
    let mut seqs = vec![5, 6];
    seqs.extend(message_seqs(&manager.drain().await, &dialog_id));
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        [2, 3, 4, 5, 6],
        "every message after seq 1, none twice"
    );
    t.stop().await;
}

#[tokio::test]
async fn a_reconnecting_client_gets_exactly_what_it_missed() {
    let t = TestSuite::start().await;
    let shop = t.shop("Hats").await;
    let api = t.manager_api(&shop).await;

    let (visitor, dialog_id) = first_message(t.port, &shop.site_key, "returning").await;
    drop(visitor);

    for text in ["two", "three", "four"] {
        let body = json!({"client_message_id": client_id(), "text": text});
        let (status, _) = api
            .post(&format!("/api/v1/dialogs/{dialog_id}/messages"), body)
            .await;
        assert_eq!(status, 201);
    }

    // The visitor comes back having seen seq 1.
    let mut visitor = Socket::visitor(t.port, &shop.site_key, "returning", Some(1)).await;
    let hello = visitor.wait_for_type("hello").await;
    assert_eq!(hello["dialog"]["id"], dialog_id.as_str());
    assert_eq!(message_seqs(&visitor.drain().await, &dialog_id), [2, 3, 4]);

    // Coming back without a position means "only what is new".
    let mut fresh = Socket::visitor(t.port, &shop.site_key, "returning", None).await;
    fresh.wait_for_type("hello").await;
    assert_eq!(
        message_seqs(&fresh.drain().await, &dialog_id),
        Vec::<i64>::new()
    );

    // A manager resyncs a dialog from the last number it saw.
    let mut manager = Socket::manager(t.port, api.token.as_deref().unwrap()).await;
    manager.wait_for_type("hello").await;
    manager
        .send_json(json!({"type": "sync", "dialog_id": dialog_id, "after_seq": 2}))
        .await;
    assert_eq!(message_seqs(&manager.drain().await, &dialog_id), [3, 4]);

    // REST pages forwards from a position and backwards from the newest.
    let (_, after) = api
        .get(&format!(
            "/api/v1/dialogs/{dialog_id}/messages?after_seq=1&limit=2"
        ))
        .await;
    let seqs: Vec<i64> = after["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(
        (seqs, after["has_more"].as_bool()),
        (vec![2, 3], Some(true))
    );
    let (_, before) = api
        .get(&format!(
            "/api/v1/dialogs/{dialog_id}/messages?before_seq=4&limit=2"
        ))
        .await;
    let seqs: Vec<i64> = before["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(
        (seqs, before["has_more"].as_bool()),
        (vec![2, 3], Some(true))
    );
    t.stop().await;
}

#[tokio::test]
async fn a_message_sent_twice_is_stored_once_and_acknowledged_the_same() {
    let t = TestSuite::start().await;
    let shop = t.shop("Bags").await;
    let api = t.manager_api(&shop).await;

    let mut visitor = Socket::visitor(t.port, &shop.site_key, "twice", None).await;
    let frame = json!({"type": "send", "client_message_id": "same-id", "text": "hello?"});
    visitor.send_json(frame.clone()).await;
    let first = visitor.wait_for_type("ack").await;
    visitor.send_json(frame).await;
    let second = visitor.wait_for_type("ack").await;
    assert_eq!(
        first["message"], second["message"],
        "the same message both times"
    );
    assert_eq!(
        (first["duplicate"].as_bool(), second["duplicate"].as_bool()),
        (Some(false), Some(true))
    );
    let dialog_id = first["message"]["dialog_id"].as_str().unwrap().to_owned();

    let reply = json!({"client_message_id": "m-same", "text": "hi"});
    let path = format!("/api/v1/dialogs/{dialog_id}/messages");
    let (s1, r1) = api.post(&path, reply.clone()).await;
    let (s2, r2) = api.post(&path, reply).await;
    assert_eq!((s1, s2), (201, 200));
    assert_eq!(r1["message"], r2["message"]);

    let (_, page) = api.get(&path).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 2);
    let (_, dialogs) = api.get("/api/v1/dialogs").await;
    assert_eq!(
        dialogs["dialogs"].as_array().unwrap().len(),
        1,
        "one dialog, not two"
    );
    t.stop().await;
}

#[tokio::test]
async fn two_gateway_replicas_behave_as_one() {
    let t = TestSuite::start_with(Options {
        extra_gateways: 1,
        ..Options::default()
    })
    .await;
    let (port_a, port_b) = (t.suite().gateway_ports[0], t.suite().gateway_ports[1]);
    let shop = t.shop("Toys").await;
    let api = t.manager_api(&shop).await;

    let mut manager = Socket::manager(port_b, api.token.as_deref().unwrap()).await;
    manager.wait_for_type("hello").await;
    let mut visitor = Socket::visitor(port_a, &shop.site_key, "across", None).await;
    visitor.wait_for_type("hello").await;

    visitor
        .send_json(json!({"type": "send", "client_message_id": client_id(), "text": "via A"}))
        .await;
    let live = manager.wait_for_type("message").await;
    assert_eq!(live["message"]["text"], "via A");
    let dialog_id = live["message"]["dialog_id"].as_str().unwrap().to_owned();

    manager.send_json(json!({"type": "send", "dialog_id": dialog_id, "client_message_id": client_id(), "text": "via B"})).await;
    let reply = visitor
        .wait_for("the reply", |f| {
            f["type"] == "message" && f["message"]["seq"] == 2
        })
        .await;
    assert_eq!(reply["message"]["text"], "via B");
    t.stop().await;
}

#[tokio::test]
async fn every_service_answers_its_health_checks() {
    let t = TestSuite::start().await;
    let ops = t.suite().ops_ports;
    let client = reqwest::Client::new();
    for port in [
        ops.gateway,
        ops.dialog,
        ops.contact,
        ops.notification,
        ops.bridge,
    ] {
        let get = |path: &'static str| {
            let client = client.clone();
            async move {
                client
                    .get(format!("http://127.0.0.1:{port}{path}"))
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        };
        assert_eq!(get("/healthz").await, 200, "alive on port {port}");
        // Ready once its database and NATS answer (NATS connects in the background).
        chat_testkit::eventually("readiness", || async {
            (get("/readyz").await == 200).then_some(())
        })
        .await;
        assert_eq!(get("/metrics").await, 200);
    }

    // The gateway counts its requests by route pattern and status.
    let shop = t.shop("Lambda").await;
    let api = t.manager_api(&shop).await;
    let (status, _) = api.get("/api/v1/dialogs").await;
    assert_eq!(status, 200);
    let (status, _) = api
        .get(&format!("/api/v1/dialogs/{}", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(status, 404);
    // The ops endpoints are not on the public port.
    for path in ["/metrics", "/readyz", "/healthz"] {
        let (status, _) = api.get(path).await;
        assert_eq!(status, 404, "{path} on the public port");
    }
    let metrics = client
        .get(format!("http://127.0.0.1:{}/metrics", ops.gateway))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for series in [
        r#"http_requests_total{method="GET",route="/api/v1/dialogs",status="200"}"#,
        r#"http_requests_total{method="GET",route="/api/v1/dialogs/{id}",status="404"}"#,
    ] {
        assert!(
            metrics.contains(series),
            "{series} missing from:\n{metrics}"
        );
    }
    t.stop().await;
}
