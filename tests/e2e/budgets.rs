//! Who counts as one client, and what one client may spend: behind the
//! configured trusted proxies the client is the address they name, from
//! anyone else the forwarding header changes nothing; rate limits, the
//! visitors' budgets and the session list go by that address.

use serde_json::{Value, json};

use chat_testkit::clients::Socket;

use crate::helpers::{Options, TestSuite, client_id};

const LOGINS_PER_MINUTE: u32 = 3;

fn options(trusted_proxies: &str) -> Options {
    Options {
        gateway: gateway::Config {
            trusted_proxies: trusted_proxies.into(),
            logins_per_minute_per_address: LOGINS_PER_MINUTE,
            ..Default::default()
        },
        ..Options::default()
    }
}

/// A login sent with `X-Forwarded-For: forwarded_for`; its status and answer.
async fn login(port: u16, forwarded_for: &str, email: &str, password: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/v1/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("gateway reachable");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The address the session list shows for the session of `token`.
async fn session_address(port: u16, token: &str) -> String {
    let api = chat_testkit::clients::Api::new(port).with_token(token);
    let (status, sessions) = api.get("/api/v1/sessions").await;
    assert_eq!(status, 200, "{sessions}");
    sessions["sessions"][0]["ip"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_login_budget() {
    // The test's own connections come from 127.0.0.1: the proxy.
    let t = TestSuite::start_with(options("127.0.0.0/8")).await;
    let shop = t.shop("Proxied").await;
    for i in 0..LOGINS_PER_MINUTE {
        let email = format!("nobody{i}@proxied.example");
        let (status, _) = login(t.port, "198.51.100.1", &email, "wrong password").await;
        assert_eq!(status, 401);
    }
    let (status, _) = login(t.port, "198.51.100.1", "nobody@proxied.example", "x").await;
    assert_eq!(status, 429, "that client's budget is spent");
    // Another client behind the same proxy is not locked out; what a client
    // puts in front of its own address is not believed.
    let (status, answer) = login(
        t.port,
        "198.51.100.1, 198.51.100.2",
        &shop.email,
        &shop.password,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let token = answer["token"].as_str().unwrap();
    assert_eq!(session_address(t.port, token).await, "198.51.100.2");
    t.stop().await;
}

#[tokio::test]
async fn a_forwarded_for_from_an_untrusted_peer_changes_nothing() {
    let t = TestSuite::start_with(options("")).await;
    let shop = t.shop("Direct").await;
    let (status, answer) = login(t.port, "203.0.113.5", &shop.email, &shop.password).await;
    assert_eq!(status, 200, "{answer}");
    let token = answer["token"].as_str().unwrap();
    assert_eq!(session_address(t.port, token).await, "127.0.0.1");
    for i in 1..LOGINS_PER_MINUTE {
        let (forged, email) = (format!("203.0.113.{i}"), format!("n{i}@direct.example"));
        assert_eq!(login(t.port, &forged, &email, "wrong").await.0, 401);
    }
    let (status, _) = login(t.port, "203.0.113.99", "n9@direct.example", "wrong").await;
    assert_eq!(status, 429, "one peer, one budget, whatever it says");
    t.stop().await;
}

/// A visitor socket from `address` (behind the trusted proxy), with a new
/// credential or `token`; the socket and its `hello`, or the refusing status.
async fn visitor_from(
    port: u16,
    site_key: &str,
    address: &str,
    token: Option<&str>,
) -> Result<(Socket, Value), u16> {
    let mut query = format!("site_key={site_key}");
    if let Some(token) = token {
        query.push_str(&format!("&visitor_token={token}"));
    }
    let mut socket =
        Socket::try_visitor_with(port, &query, &[("x-forwarded-for", address)]).await?;
    let hello = socket.wait_for_type("hello").await;
    Ok((socket, hello))
}

#[tokio::test]
async fn a_flood_of_visitors_from_one_address_is_cut_and_others_get_in() {
    let t = TestSuite::start_with(Options {
        gateway: gateway::Config {
            trusted_proxies: "127.0.0.0/8".into(),
            new_visitors_per_minute_per_address: 4,
            visitor_sockets_per_address: 6,
            first_messages_per_minute_per_address: 2,
            max_sockets: 7,
            max_manager_sockets: 1,
            ..Default::default()
        },
        ..Options::default()
    })
    .await;
    let shop = t.shop("Flooded").await;
    let api = t.manager_api(&shop).await;
    let (flood, other) = ("198.51.100.66", "198.51.100.7");
    let site = shop.site_key.as_str();

    // New visitors: four a minute from one address.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(
            visitor_from(t.port, site, flood, None)
                .await
                .expect("within the budget"),
        );
    }
    assert_eq!(
        visitor_from(t.port, site, flood, None).await.err(),
        Some(429)
    );
    let (mut neighbour, _) = visitor_from(t.port, site, other, None)
        .await
        .expect("another address");

    // Sockets at once: six from one address, whatever credential they bring.
    let token = held[0].1["visitor_token"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        held.push(
            visitor_from(t.port, site, flood, Some(&token))
                .await
                .expect("within six"),
        );
    }
    assert_eq!(
        visitor_from(t.port, site, flood, Some(&token)).await.err(),
        Some(429)
    );

    // Messages that open a dialog: two a minute from one address; the one
    // refused is said to its sender and stores nothing.
    let mut answers = Vec::new();
    for (socket, _) in held.iter_mut().take(3) {
        let id = client_id();
        socket
            .send_json(json!({"type": "send", "client_message_id": id, "text": "spam"}))
            .await;
        let answer = socket
            .wait_for("the answer", |f| {
                f["type"] == "ack" || f["client_message_id"] == id.as_str()
            })
            .await;
        answers.push(answer["type"].as_str().unwrap().to_owned());
    }
    assert_eq!(answers, ["ack", "ack", "error"]);
    neighbour
        .send_json(json!({"type": "send", "client_message_id": client_id(), "text": "Hello!"}))
        .await;
    neighbour.wait_for_type("ack").await;
    let (_, dialogs) = api.get("/api/v1/dialogs?status=open").await;
    assert_eq!(dialogs["dialogs"].as_array().unwrap().len(), 3, "{dialogs}");

    // The replica's visitor places (seven) are all taken now: visitors get
    // 503, and the manager still gets in on a place of the managers' own.
    assert_eq!(
        visitor_from(t.port, site, "198.51.100.8", None).await.err(),
        Some(503)
    );
    let mut manager = Socket::manager(t.port, api.token.as_deref().unwrap()).await;
    manager.wait_for_type("hello").await;
    let second = Socket::try_manager(t.port, api.token.as_deref(), None).await;
    assert_eq!(second.err(), Some(503), "the managers' own cap");
    drop(held);
    chat_testkit::eventually("places given back", || async {
        visitor_from(t.port, site, "198.51.100.9", None).await.ok()
    })
    .await;
    t.stop().await;
}

/// The shop's contacts and timeline events, counted in the contact service's schema.
async fn contacts_and_events(t: &TestSuite, account_id: &str) -> (i64, i64) {
    let pool = t.env().pool().await;
    let count = |table: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(&format!(
                "select count(*) from contact.{table} where account_id = $1::uuid"
            ))
            .bind(account_id)
            .fetch_one(&pool)
            .await
            .expect("a count")
        }
    };
    let counted = (count("contact").await, count("timeline_event").await);
    pool.close().await;
    counted
}

/// Opening pages makes no contact and writes nothing: a visitor becomes a
/// contact when they first write or identify themselves, or when a manager
/// writes to them first from the visitors list.
#[tokio::test]
async fn only_a_visitor_who_does_something_becomes_a_contact() {
    let t = TestSuite::start().await;
    let shop = t.shop("Browsing").await;
    let api = t.manager_api(&shop).await;
    let mut browsing = Vec::new();
    for i in 0..6 {
        let mut socket =
            Socket::visitor(t.port, &shop.site_key, &format!("browser-{i}"), None).await;
        let hello = socket.wait_for_type("hello").await;
        for page in ["a", "b"] {
            let frame = json!({"type": "page", "url": format!("https://shop.example/{page}"),
                "title": format!("Page {page}"), "page_view_id": format!("pv-{i}-{page}")});
            socket.send_json(frame).await;
        }
        let contact_id = hello["contact_id"].as_str().unwrap().to_owned();
        browsing.push((socket, contact_id));
    }
    // Every page frame is taken: the visitors list shows all six on page b.
    chat_testkit::eventually("six visitors on page b", || async {
        let (_, listed) = api.get("/api/v1/visitors").await;
        let on_b = listed["visitors"]
            .as_array()?
            .iter()
            .filter(|v| v["page_url"] == "https://shop.example/b")
            .count();
        (on_b == 6).then_some(())
    })
    .await;
    assert_eq!(contacts_and_events(&t, &shop.account_id).await, (0, 0));

    // One writes: a contact, with the page written from on its timeline.
    let (writer, writer_id) = &mut browsing[0];
    writer
        .send_json(json!({"type": "send", "client_message_id": client_id(), "text": "Hi"}))
        .await;
    writer.wait_for_type("ack").await;
    let (_, timeline) = api
        .get(&format!("/api/v1/contacts/{writer_id}/timeline"))
        .await;
    let kinds: Vec<(&str, &str)> = timeline["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap(),
                e["summary"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        kinds
            .iter()
            .any(|(kind, summary)| *kind == "page_visit" && summary.contains("/b")),
        "{timeline}"
    );
    // One says who they are.
    let (identifying, _) = &mut browsing[1];
    identifying
        .send_json(json!({"type": "identify", "name": "Irina"}))
        .await;
    identifying.wait_for_type("identified").await;
    // A manager writes first to one: it arrives live.
    let (greeted, greeted_id) = &mut browsing[2];
    let body = json!({"client_message_id": client_id(), "text": "Can I help?"});
    let (status, written) = api
        .post(&format!("/api/v1/contacts/{greeted_id}/messages"), body)
        .await;
    assert_eq!(status, 201, "{written}");
    let live = greeted.wait_for_type("message").await;
    assert_eq!(live["message"]["text"], "Can I help?");
    let (contacts, _) = contacts_and_events(&t, &shop.account_id).await;
    assert_eq!(contacts, 3, "the three who did something");
    // A made-up id is still not found.
    let made_up = format!("/api/v1/contacts/{}/messages", uuid::Uuid::new_v4());
    let body = json!({"client_message_id": client_id(), "text": "Hello?"});
    assert_eq!(api.post(&made_up, body).await.0, 404);
    t.stop().await;
}

/// Sends a message from a visitor socket; the dialog it went into.
async fn say(socket: &mut Socket, text: &str) -> String {
    let id = client_id();
    socket
        .send_json(json!({"type": "send", "client_message_id": id, "text": text}))
        .await;
    let ack = socket
        .wait_for("the ack", |f| {
            f["type"] == "ack" && f["client_message_id"] == id.as_str()
        })
        .await;
    ack["message"]["dialog_id"].as_str().unwrap().to_owned()
}

/// Waits for the socket's close; its code and reason.
async fn closed(socket: &mut Socket) -> (u16, String) {
    loop {
        if let chat_testkit::clients::Frame::Closed { code, reason } = socket.next().await {
            return (code, reason);
        }
    }
}

/// A manager blocks a spamming visitor: their socket closes at once and they
/// cannot come back, by their credential or from their address with a new
/// one, until the block is lifted; junk dialogs close, or are marked as
/// spam (closed, their visitors blocked), many at once; another shop can do
/// none of it to this shop's.
#[tokio::test]
async fn junk_is_blocked_and_cleared_in_bulk() {
    let t = TestSuite::start_with(Options {
        gateway: gateway::Config {
            trusted_proxies: "127.0.0.0/8".into(),
            ..Default::default()
        },
        ..Options::default()
    })
    .await;
    let shop = t.shop("Junk").await;
    let api = t.manager_api(&shop).await;
    let nosy = t.manager_api(&t.shop("Nosy").await).await;
    let site = shop.site_key.as_str();
    let spam_address = "198.51.100.66";

    let (mut spammer, hello) = visitor_from(t.port, site, spam_address, None)
        .await
        .unwrap();
    let token = hello["visitor_token"].as_str().unwrap().to_owned();
    let contact_id = hello["contact_id"].as_str().unwrap().to_owned();
    spammer
        .send_json(json!({"type": "page", "url": "https://shop.example/", "page_view_id": "pv-1"}))
        .await;
    say(&mut spammer, "BUY CHEAP WATCHES").await;
    chat_testkit::eventually("the spammer on the visitors list", || async {
        let (_, listed) = api.get("/api/v1/visitors").await;
        (listed["visitors"].as_array()?.len() == 1).then_some(())
    })
    .await;

    let block_path = format!("/api/v1/contacts/{contact_id}/block");
    assert_eq!(
        nosy.post(&block_path, json!({})).await.0,
        404,
        "another shop's contact"
    );
    let (status, block) = api.post(&block_path, json!({})).await;
    assert_eq!(status, 201, "{block}");
    assert_eq!(block["addresses"], 1, "the address they were on");
    closed(&mut spammer).await;
    let query = format!("site_key={site}&visitor_token={token}");
    let mut again = Socket::try_visitor_with(t.port, &query, &[("x-forwarded-for", spam_address)])
        .await
        .expect("the upgrade");
    assert_eq!(closed(&mut again).await, (4403, "blocked".to_owned()));
    let mut fresh = Socket::try_visitor_with(
        t.port,
        &format!("site_key={site}"),
        &[("x-forwarded-for", spam_address)],
    )
    .await
    .expect("the upgrade");
    assert_eq!(
        closed(&mut fresh).await.0,
        4403,
        "a new credential from their address"
    );
    let (_, listed) = api.get("/api/v1/blocks").await;
    assert_eq!(listed["blocks"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(nosy.get("/api/v1/blocks").await.1["blocks"], json!([]));

    // Three more junk dialogs and a customer's.
    let mut dialogs = Vec::new();
    for i in 0..4 {
        let (mut socket, _) = visitor_from(t.port, site, &format!("198.51.100.{i}"), None)
            .await
            .unwrap();
        dialogs.push(say(&mut socket, "junk").await);
    }
    let bulk = |ids: &[&str], action: &str| json!({"dialog_ids": ids, "action": action});
    let made_up = uuid::Uuid::now_v7().to_string();
    let (status, _) = api
        .post(
            "/api/v1/dialogs/bulk",
            bulk(&[&dialogs[3], &made_up], "close"),
        )
        .await;
    assert_eq!(status, 404, "an id not of this shop changes nothing");
    let (status, _) = nosy
        .post("/api/v1/dialogs/bulk", bulk(&[&dialogs[0]], "close"))
        .await;
    assert_eq!(status, 404, "another shop's dialogs");
    let (status, closed_now) = api
        .post(
            "/api/v1/dialogs/bulk",
            bulk(&[&dialogs[0], &dialogs[1]], "close"),
        )
        .await;
    assert_eq!(status, 200, "{closed_now}");
    let (status, spam) = api
        .post("/api/v1/dialogs/bulk", bulk(&[&dialogs[2]], "spam"))
        .await;
    assert_eq!(status, 200, "{spam}");
    let (_, open) = api.get("/api/v1/dialogs?status=open").await;
    let open: Vec<&str> = open["dialogs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert!(
        open.contains(&dialogs[3].as_str()),
        "the customer's stays open"
    );
    for junk in &dialogs[..3] {
        assert!(!open.contains(&junk.as_str()), "{junk} closed");
    }
    let (_, listed) = api.get("/api/v1/blocks").await;
    let blocks = listed["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 2, "{listed}");
    assert_eq!(blocks[0]["reason"], "spam");

    // Lifted: the first spammer is back.
    let first = blocks[1]["id"].as_str().unwrap().to_owned();
    assert_eq!(nosy.delete(&format!("/api/v1/blocks/{first}")).await.0, 404);
    assert_eq!(api.delete(&format!("/api/v1/blocks/{first}")).await.0, 204);
    let (_, hello) = visitor_from(t.port, site, spam_address, Some(&token))
        .await
        .expect("let back");
    assert_eq!(hello["contact_id"], contact_id.as_str());
    t.stop().await;
}
