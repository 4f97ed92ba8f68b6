//! The edge holds under clients that misbehave: one that never answers
//! pings, one that stops reading, one that floods; sends in flight together
//! keep their order; a socket never sends one message twice, whatever the
//! client asks; and a replica takes no more sockets than it is allowed.

use serde_json::json;

use chat_testkit::clients::{Frame, Socket, message_seqs};

use crate::helpers::{Options, TestSuite, client_id, dialog_texts};

fn edge(gateway: gateway::Config) -> Options {
    Options {
        gateway,
        ..Options::default()
    }
}

async fn say(socket: &mut Socket, text: &str) -> serde_json::Value {
    let id = client_id();
    socket
        .send_json(json!({"type": "send", "client_message_id": id, "text": text}))
        .await;
    socket
        .wait_for("the ack", |f| {
            f["type"] == "ack" && f["client_message_id"] == id
        })
        .await
}

/// Waits until the gateway holds no visitor socket: it let the test's go.
async fn until_no_visitor_sockets(t: &TestSuite) {
    let budgets = &t.suite().gateway_budgets[0];
    chat_testkit::eventually("the gateway to let the socket go", || async {
        (budgets.sockets().0 == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_client_that_never_answers_pings_is_closed_with_4408() {
    let t = TestSuite::start_with(edge(gateway::Config {
        ws_ping_secs: 1,
        ws_idle_secs: 2,
        ..Default::default()
    }))
    .await;
    let shop = t.shop("Silent").await;
    let mut visitor = Socket::visitor(t.port, &shop.site_key, "silent-1", None).await;
    // Not reading, so not answering the pings either, until the gateway has
    // let the socket go.
    until_no_visitor_sockets(&t).await;
    visitor.wait_for_type("hello").await;
    assert_eq!(
        visitor.closed().await,
        (4408, "no answer to pings".to_owned())
    );

    // A client that answers stays.
    let mut lively = Socket::visitor(t.port, &shop.site_key, "lively-1", None).await;
    for _ in 0..4 {
        assert!(lively.drain().await.iter().all(|f| f["type"] != "error"));
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    }
    say(&mut lively, "still here").await;
    t.stop().await;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_let_go() {
    let t = TestSuite::start_with(edge(gateway::Config {
        ws_send_timeout_secs: 1,
        ..Default::default()
    }))
    .await;
    let shop = t.shop("Stalled").await;
    let api = t.manager_api(&shop).await;
    let mut visitor = Socket::visitor(t.port, &shop.site_key, "stalled-1", None).await;
    let dialog = say(&mut visitor, "hello").await["message"]["dialog_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Far more than the socket's buffers hold, while the visitor reads nothing.
    let big = "x".repeat(4000);
    let posted = 3000;
    let path = format!("/api/v1/dialogs/{dialog}/messages");
    let writers = (0..8).map(|w| {
        let (api, path, big) = (api.clone(), path.clone(), big.clone());
        tokio::spawn(async move {
            for i in (w..posted).step_by(8) {
                let body = json!({"client_message_id": format!("m{i}"), "text": big});
                assert_eq!(api.post(&path, body).await.0, 201);
            }
        })
    });
    for writer in writers {
        writer.await.unwrap();
    }
    until_no_visitor_sockets(&t).await;
    // Reading now: what was in the buffers, then the end, never all of it.
    let mut received = 0;
    loop {
        match visitor.next().await {
            Frame::Json(f) if f["type"] == "message" => received += 1,
            Frame::Json(_) => {}
            Frame::Closed { .. } => break,
        }
    }
    assert!(
        received < posted,
        "a stalled socket was let go after {received} of {posted} messages"
    );
    // It resumes from what it got.
    let mut again = Socket::visitor(t.port, &shop.site_key, "stalled-1", Some(1)).await;
    again.wait_for_type("hello").await;
    let frames = again.drain().await;
    assert_eq!(message_seqs(&frames, &dialog).len(), posted as usize);
    t.stop().await;
}

#[tokio::test]
async fn a_flood_of_sends_is_rate_limited_and_nothing_refused_is_stored() {
    let t = TestSuite::start_with(edge(gateway::Config {
        socket_sends_per_sec: 5,
        // What is tested is the rate limit; on a busy test machine the ten
        // sends it lets through must not be refused for waiting instead.
        send_max_wait_ms: 60_000,
        ..Default::default()
    }))
    .await;
    let shop = t.shop("Flood").await;
    let api = t.manager_api(&shop).await;
    let mut visitor = Socket::visitor(t.port, &shop.site_key, "flood-1", None).await;
    visitor.wait_for_type("hello").await;
    for i in 0..40 {
        visitor
            .send_json(json!({"type": "send", "client_message_id": format!("f{i}"), "text": format!("flood {i}")}))
            .await;
    }
    let (mut acked, mut limited) = (Vec::new(), Vec::new());
    while acked.len() + limited.len() < 40 {
        let frame = visitor.next_json().await;
        let id = frame["client_message_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        match frame["type"].as_str() {
            Some("ack") => acked.push(id),
            Some("error") => {
                assert_eq!(frame["code"], "rate_limited", "{frame}");
                limited.push(id);
            }
            _ => {}
        }
    }
    assert!(
        !limited.is_empty() && acked.len() >= 10,
        "{} acked",
        acked.len()
    );
    let dialog = t.only_dialog(&api).await;
    let (_, page) = api
        .get(&format!("/api/v1/dialogs/{dialog}/messages?limit=200"))
        .await;
    let stored: Vec<&str> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["client_message_id"].as_str().unwrap())
        .collect();
    assert_eq!(stored, acked, "exactly the acknowledged ones, in order");
    t.stop().await;
}

#[tokio::test]
async fn a_send_held_up_behind_its_dialog_is_refused_fast_and_nothing_refused_is_stored() {
    let t = TestSuite::start_with(edge(gateway::Config {
        socket_sends_per_sec: 1000,
        ..Default::default()
    }))
    .await;
    let shop = t.shop("Held up").await;
    let api = t.manager_api(&shop).await;
    let mut visitor = Socket::visitor(t.port, &shop.site_key, "held-1", None).await;
    let dialog = say(&mut visitor, "hi").await["message"]["dialog_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The dialog is locked, so its next message cannot be stored; the ones
    // after it wait behind it in the socket's lane.
    let pool = t.env().pool().await;
    let mut lock = pool.begin().await.unwrap();
    sqlx::query("select 1 from dialog.dialog where id = $1::uuid for update")
        .bind(&dialog)
        .execute(&mut *lock)
        .await
        .unwrap();
    for id in ["stuck", "behind", "after"] {
        visitor
            .send_json(json!({"type": "send", "client_message_id": id, "text": id}))
            .await;
    }
    // Refused while the first is still stuck, and in the order sent.
    for id in ["behind", "after"] {
        let refused = visitor
            .wait_for("a refusal", |f| f["type"] == "error")
            .await;
        assert_eq!(refused["client_message_id"], id);
        assert_eq!(refused["code"], "unavailable");
    }

    // The one they waited behind is stored once the lock goes; the refused
    // ones, sent again, after it.
    lock.rollback().await.unwrap();
    let stuck = visitor
        .wait_for("the first ack", |f| f["type"] == "ack")
        .await;
    assert_eq!(stuck["client_message_id"], "stuck");
    for id in ["behind", "after"] {
        visitor
            .send_json(json!({"type": "send", "client_message_id": id, "text": id}))
            .await;
        let again = visitor
            .wait_for("the ack of a resend", |f| f["type"] == "ack")
            .await;
        assert_eq!(again["client_message_id"], id);
        assert_eq!(again["duplicate"], false, "nothing was stored when refused");
    }
    assert_eq!(
        dialog_texts(&api, &dialog).await,
        ["hi", "stuck", "behind", "after"]
    );
    pool.close().await;
    t.stop().await;
}

#[tokio::test]
async fn sends_in_flight_together_keep_their_order_in_each_dialog() {
    let t = TestSuite::start_with(edge(gateway::Config {
        socket_sends_per_sec: 1000,
        // Order is what is tested, not refusal under overload: a busy test
        // machine must not make the twentieth send of a lane wait too long.
        send_max_wait_ms: 60_000,
        ..Default::default()
    }))
    .await;
    let shop = t.shop("Pipeline").await;
    let api = t.manager_api(&shop).await;
    let mut dialogs = Vec::new();
    for n in 0..3 {
        let mut visitor = Socket::visitor(t.port, &shop.site_key, &format!("p{n}"), None).await;
        let ack = say(&mut visitor, "hi").await;
        dialogs.push(ack["message"]["dialog_id"].as_str().unwrap().to_owned());
    }
    let mut manager = Socket::manager(t.port, api.token.as_deref().unwrap()).await;
    manager.wait_for_type("hello").await;
    for i in 0..60 {
        let dialog = &dialogs[i % 3];
        manager
            .send_json(json!({"type": "send", "dialog_id": dialog, "client_message_id": format!("r{i}"), "text": format!("reply {i}")}))
            .await;
    }
    let mut acks = Vec::new();
    while acks.len() < 60 {
        let frame = manager.next_json().await;
        assert_ne!(frame["type"], "error", "every send is stored: {frame}");
        if frame["type"] == "ack" {
            acks.push(frame);
        }
    }
    for dialog in &dialogs {
        let texts: Vec<i64> = acks
            .iter()
            .filter(|a| a["message"]["dialog_id"] == dialog.as_str())
            .map(|a| a["message"]["seq"].as_i64().unwrap())
            .collect();
        assert_eq!(
            texts,
            (2..=21).collect::<Vec<_>>(),
            "stored and acked in order"
        );
        let (_, page) = api
            .get(&format!(
                "/api/v1/dialogs/{dialog}/messages?after_seq=1&limit=200"
            ))
            .await;
        let order: Vec<&str> = page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["client_message_id"].as_str().unwrap())
            .collect();
        let mut sent: Vec<String> = (0..60)
            .filter(|i| dialogs[i % 3] == *dialog)
            .map(|i| format!("r{i}"))
            .collect();
        sent.truncate(20);
        assert_eq!(order, sent);
    }
    t.stop().await;
}

#[tokio::test]
async fn a_sync_after_what_was_sent_sends_nothing_again() {
    let t = TestSuite::start().await;
    let shop = t.shop("Resync").await;
    let api = t.manager_api(&shop).await;
    let mut manager = Socket::manager(t.port, api.token.as_deref().unwrap()).await;
    manager.wait_for_type("hello").await;
    let mut visitor = Socket::visitor(t.port, &shop.site_key, "resync-1", None).await;
    let mut dialog = String::new();
    for n in 1..=5 {
        dialog = say(&mut visitor, &format!("m{n}")).await["message"]["dialog_id"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    let seen = manager
        .wait_for("message 5", |f| {
            f["type"] == "message" && f["message"]["seq"] == 5
        })
        .await;
    assert_eq!(seen["message"]["text"], "m5");
    let before: Vec<i64> = message_seqs(&manager.drain().await, &dialog);
    assert!(before.iter().all(|&s| s < 5), "{before:?}");
    // The console asks again from the start, as after a reconnect.
    manager
        .send_json(json!({"type": "sync", "dialog_id": dialog, "after_seq": 0}))
        .await;
    say(&mut visitor, "m6").await;
    manager
        .wait_for("message 6", |f| {
            f["type"] == "message" && f["message"]["seq"] == 6
        })
        .await;
    let after = message_seqs(&manager.drain().await, &dialog);
    assert!(after.is_empty(), "nothing was sent twice: {after:?}");
    t.stop().await;
}

#[tokio::test]
async fn a_visitor_resuming_with_nothing_new_gets_only_what_comes_next() {
    let t = TestSuite::start().await;
    let shop = t.shop("Resume").await;
    let mut visitor = Socket::visitor(t.port, &shop.site_key, "resume-1", None).await;
    let mut dialog = String::new();
    for n in 1..=3 {
        dialog = say(&mut visitor, &format!("m{n}")).await["message"]["dialog_id"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    drop(visitor);
    let mut back = Socket::visitor(t.port, &shop.site_key, "resume-1", Some(3)).await;
    back.wait_for_type("hello").await;
    say(&mut back, "m4").await;
    let frames = back.drain().await;
    assert_eq!(message_seqs(&frames, &dialog), [4], "not the history again");
    t.stop().await;
}

#[tokio::test]
async fn a_replica_takes_no_more_sockets_than_allowed() {
    let t = TestSuite::start_with(edge(gateway::Config {
        max_sockets: 1,
        max_manager_sockets: 1,
        ..Default::default()
    }))
    .await;
    let shop = t.shop("Crowded").await;
    let api = t.manager_api(&shop).await;
    let mut first = Socket::visitor(t.port, &shop.site_key, "c1", None).await;
    let mut second = Socket::manager(t.port, api.token.as_deref().unwrap()).await;
    first.wait_for_type("hello").await;
    second.wait_for_type("hello").await;
    let third = Socket::try_manager(t.port, api.token.as_deref(), None).await;
    assert_eq!(third.err(), Some(503));
    let query = format!("site_key={}", shop.site_key);
    let fourth = Socket::try_visitor(t.port, &query, None).await;
    assert_eq!(fourth.err(), Some(503));
    drop(second);
    let room = chat_testkit::eventually("room for a socket", || async {
        Socket::try_manager(t.port, api.token.as_deref(), None)
            .await
            .ok()
    })
    .await;
    drop(room);
    t.stop().await;
}

/// A TCP proxy to the dialog service that, once armed, cuts the connection
/// the moment the gateway sends anything: the service "dies" mid-request.
async fn breaking_proxy(target_port: u16) -> (u16, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let armed = Arc::new(AtomicBool::new(false));
    let trigger = armed.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", target_port)).await
            else {
                continue;
            };
            let armed = trigger.clone();
            tokio::spawn(async move {
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let upstream = async {
                    let mut buffer = vec![0u8; 16 * 1024];
                    loop {
                        let n = client_read.read(&mut buffer).await.unwrap_or(0);
                        if n == 0 || armed.load(Ordering::SeqCst) {
                            return; // cut: nothing more reaches the service
                        }
                        if server_write.write_all(&buffer[..n]).await.is_err() {
                            return;
                        }
                    }
                };
                let downstream = async {
                    let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                };
                // Whichever side ends first ends both: the connection drops.
                tokio::select! {
                    _ = upstream => {}
                    _ = downstream => {}
                }
            });
        }
    });
    (port, armed)
}

#[tokio::test]
async fn a_dialog_service_dying_mid_request_means_try_again_not_internal() {
    let t = TestSuite::start().await;
    let shop = t.shop("Dying").await;
    let (proxy_port, armed) = breaking_proxy(t.suite().dialog_grpc_port).await;
    let config = gateway::Config {
        http_addr: "127.0.0.1:0".into(),
        dialog_url: format!("http://127.0.0.1:{proxy_port}"),
        contact_url: format!("http://127.0.0.1:{}", t.suite().contact_grpc_port),
        common: t.env().common(),
        ..Default::default()
    };
    let shutdown = chat_platform::Shutdown::new();
    let replica = gateway::Application::build(config, shutdown.clone())
        .await
        .unwrap();
    let port = replica.port();
    let running = tokio::spawn(replica.run_until_stopped());

    let mut visitor = Socket::visitor(port, &shop.site_key, "dying-1", None).await;
    visitor.wait_for_type("hello").await;
    armed.store(true, std::sync::atomic::Ordering::SeqCst);
    visitor
        .send_json(json!({"type": "send", "client_message_id": "d1", "text": "hello?"}))
        .await;
    let error = visitor.wait_for_type("error").await;
    assert_eq!(
        (error["code"].as_str(), error["client_message_id"].as_str()),
        (Some("unavailable"), Some("d1")),
        "the client is told to send it again"
    );
    drop(visitor);
    shutdown.cancel();
    tokio::time::timeout(chat_testkit::PATIENCE, running)
        .await
        .expect("the replica stops in time")
        .unwrap()
        .unwrap();
    t.stop().await;
}
