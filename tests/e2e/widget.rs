//! The widget's back end, through its public surfaces: the visitor's
//! credential, the allowed sites, the consultant's settings, presence, the
//! visitors list and identification.

use serde_json::{Value, json};

use chat_testkit::clients::{Api, Socket};

use crate::helpers::{Shop, TestSuite, client_id};

/// Two small PNGs (2x2 blue, 3x2 red), made for these tests.
const BLUE_PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGOQz38NRAwQCgAmGgXlnPpP5QAAAABJRU5ErkJggg==";
const RED_PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAMAAAACCAIAAAASFvFNAAAAEElEQVR4nGM4YWQEQQxwFgBJ6AcJzlK6WQAAAABJRU5ErkJggg==";

/// Every editable field, at values that pass.
fn good_settings() -> Value {
    json!({
        "enabled": true,
        "manager_sound": "bell",
        "visitor_sound": "pop",
        "position": "bottom_left",
        "color": "#0a7d4f",
        "online_title": "Tea time",
        "online_message": "Ask us about tea",
        "offline_title": "Back soon",
        "offline_message": "Leave your e-mail",
        "hidden_pages": ["/checkout*"],
        "allowed_origins": [],
    })
}

async fn save(api: &Api, changes: Value) -> (u16, Value) {
    let mut body = good_settings();
    for (k, v) in changes.as_object().expect("an object") {
        body[k] = v.clone();
    }
    api.put("/api/v1/widget/settings", body).await
}

/// A visitor's socket, as a page of `origin` opens it.
async fn visitor_from(
    t: &TestSuite,
    shop: &Shop,
    token: Option<&str>,
    origin: &str,
) -> Result<Socket, u16> {
    let mut query = format!("site_key={}", shop.site_key);
    if let Some(token) = token {
        query.push_str(&format!("&visitor_token={token}&after_seq=0"));
    }
    Socket::try_visitor(t.port, &query, Some(origin)).await
}

async fn page(socket: &mut Socket, url: &str) {
    let frame = json!({"type": "page", "url": url, "title": "Green tea", "referrer": "https://search.example/",
                       "page_view_id": client_id(), "pages_seen": 3});
    socket.send_json(frame).await;
}

#[tokio::test]
async fn only_the_credential_the_server_issued_reads_a_conversation() {
    let t = TestSuite::start().await;
    let shop = t.shop("Credentials").await;
    let other = t.shop("Elsewhere").await;
    let origin = "https://shop.example";

    let mut first = visitor_from(&t, &shop, None, origin).await.unwrap();
    let hello = first.wait_for_type("hello").await;
    let token = hello["visitor_token"].as_str().expect("a token").to_owned();
    let contact_id = hello["contact_id"].clone();
    first.send_json(json!({"type": "send", "client_message_id": client_id(), "text": "my address is secret"})).await;
    first.wait_for_type("ack").await;
    drop(first);

    // The token brings the visitor back to their conversation.
    let mut back = visitor_from(&t, &shop, Some(&token), origin).await.unwrap();
    let hello = back.wait_for_type("hello").await;
    assert_eq!(hello["contact_id"], contact_id);
    assert_eq!(hello["visitor_token"], token.as_str());
    assert_eq!(
        back.wait_for_type("message").await["message"]["text"],
        "my address is secret"
    );

    // Made up, guessed from the contact id, altered, or another shop's key:
    // closed with 4401 before any frame (closed() fails on a hello).
    let (id, tag) = token.split_once('.').unwrap();
    let altered = format!(
        "{}{}.{tag}",
        &id[..id.len() - 1],
        if id.ends_with('A') { 'B' } else { 'A' }
    );
    for guess in [
        "visitor-1",
        contact_id.as_str().unwrap(),
        id,
        altered.as_str(),
    ] {
        let mut socket = visitor_from(&t, &shop, Some(guess), origin).await.unwrap();
        assert_eq!(socket.closed().await.0, 4401, "{guess} was accepted");
    }
    let mut old_style = Socket::try_visitor(
        t.port,
        &format!("site_key={}&visitor_id=visitor-1", shop.site_key),
        None,
    )
    .await
    .unwrap();
    assert_eq!(old_style.closed().await.0, 4401);
    let mut cross = visitor_from(&t, &other, Some(&token), origin)
        .await
        .unwrap();
    assert_eq!(
        cross.closed().await,
        (4401, "not a visitor token of this site".to_owned())
    );

    // And the shop's own visitor still reads it: the refusals changed nothing.
    let mut again = visitor_from(&t, &shop, Some(&token), origin).await.unwrap();
    assert_eq!(
        again.wait_for_type("message").await["message"]["text"],
        "my address is secret"
    );
    t.stop().await;
}

#[tokio::test]
async fn the_widget_answers_only_the_shops_allowed_sites() {
    let t = TestSuite::start().await;
    let shop = t.shop("Origins").await;
    let api = t.manager_api(&shop).await;
    let (status, saved) = save(&api, json!({"allowed_origins": ["https://Shop.example/"]})).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["allowed_origins"], json!(["https://shop.example"]));

    let http = reqwest::Client::new();
    let config = |origin: &'static str, key: String| {
        let http = http.clone();
        let url = format!(
            "http://127.0.0.1:{}/widget/v1/config?site_key={key}&url=https://shop.example/",
            t.port
        );
        async move { http.get(url).header("origin", origin).send().await.unwrap() }
    };
    let allowed = config("https://shop.example", shop.site_key.clone()).await;
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let body: Value = allowed.json().await.unwrap();
    assert_eq!(
        (body["enabled"].clone(), body["color"].clone()),
        (json!(true), json!("#0a7d4f"))
    );
    let refused = config("https://evil.example", shop.site_key.clone()).await;
    assert_eq!(refused.status(), 403);
    // The refused page may read the refusal (and stop asking), nothing more.
    assert_eq!(
        refused.headers()["access-control-allow-origin"],
        "https://evil.example"
    );
    let refusal: Value = refused.json().await.unwrap();
    assert_eq!(refusal["error"]["code"], "forbidden");
    assert_eq!(
        config("https://shop.example", "no-such-key".into())
            .await
            .status(),
        404
    );

    assert_eq!(
        visitor_from(&t, &shop, None, "https://evil.example")
            .await
            .err(),
        Some(403)
    );
    let mut welcome = visitor_from(&t, &shop, None, "https://shop.example")
        .await
        .unwrap();
    assert_eq!(welcome.wait_for_type("hello").await["type"], "hello");

    // The shop moves to another address: the open widget of the old one is
    // closed (4403), the new one's keeps going and gets the settings.
    let mut moved = visitor_from(&t, &shop, None, "https://new.shop.example")
        .await
        .err();
    assert_eq!(moved.take(), Some(403));
    assert_eq!(
        save(
            &api,
            json!({"allowed_origins": ["https://shop.example", "https://new.shop.example"]})
        )
        .await
        .0,
        200
    );
    let mut new_site = visitor_from(&t, &shop, None, "https://new.shop.example")
        .await
        .unwrap();
    new_site.wait_for_type("hello").await;
    welcome.wait_for_type("settings").await;
    assert_eq!(
        save(
            &api,
            json!({"allowed_origins": ["https://new.shop.example"]})
        )
        .await
        .0,
        200
    );
    new_site.wait_for_type("settings").await;
    let code = loop {
        if let chat_testkit::clients::Frame::Closed { code, .. } = welcome.next().await {
            break code;
        }
    };
    assert_eq!(code, 4403);
    t.stop().await;
}

#[tokio::test]
async fn settings_are_checked_whole_and_saved_whole() {
    let t = TestSuite::start().await;
    let shop = t.shop("Settings").await;
    let api = t.manager_api(&shop).await;
    let (status, defaults) = api.get("/api/v1/widget/settings").await;
    assert_eq!(status, 200);
    assert_eq!(defaults["site_key"], shop.site_key.as_str());
    assert_eq!(defaults["offline_photo_url"], Value::Null);

    let big = "A".repeat(1_500_000); // base64 of over 1 MiB
    let text_as_png = "VGhpcyBpcyBub3QgYW4gaW1hZ2UsIHdoYXRldmVyIGl0cyBuYW1lIHNheXM="; // plain text
    let bad = [
        ("color", json!("blue")),
        ("color", json!("#12345")),
        ("position", json!("top_right")),
        ("manager_sound", json!("trumpet")),
        ("online_title", json!("x".repeat(61))),
        ("offline_title", json!("")),
        ("online_message", json!("y".repeat(301))),
        ("offline_photo", json!(text_as_png)),
        ("offline_photo", json!(big)),
        ("offline_photo", json!("not base64!")),
    ];
    for (field, value) in bad {
        let (status, body) = save(&api, json!({ field: value.clone() })).await;
        assert_eq!(status, 422, "{field}: {body}");
        assert!(
            body["error"]["fields"][field].is_string(),
            "{field}: {body}"
        );
    }
    let (status, body) = save(&api, json!({"hidden_pages": ["/fine", "/a["]})).await;
    assert_eq!(
        (
            status,
            body["error"]["fields"]["hidden_pages[1]"].is_string()
        ),
        (422, true),
        "{body}"
    );
    let (status, body) = save(&api, json!({"allowed_origins": ["shop.example"]})).await;
    assert_eq!(
        (
            status,
            body["error"]["fields"]["allowed_origins[0]"].is_string()
        ),
        (422, true),
        "{body}"
    );
    // One bad field among good ones: none of them is saved.
    let (status, _) = save(
        &api,
        json!({"online_title": "Changed", "offline_photo": BLUE_PNG, "color": "nope"}),
    )
    .await;
    assert_eq!(status, 422);
    let (_, unchanged) = api.get("/api/v1/widget/settings").await;
    assert_eq!(unchanged, defaults);

    // A good save takes every field and the photo; the photo is served for ever.
    let (status, saved) = save(&api, json!({"offline_photo": BLUE_PNG})).await;
    assert_eq!(status, 200, "{saved}");
    for (field, value) in good_settings().as_object().unwrap() {
        assert_eq!(&saved[field], value, "{field}");
    }
    let photo_url = saved["offline_photo_url"]
        .as_str()
        .expect("a photo")
        .to_owned();
    let photo = reqwest::get(format!("http://127.0.0.1:{}{photo_url}", t.port))
        .await
        .unwrap();
    assert_eq!(photo.status(), 200);
    assert_eq!(photo.headers()["content-type"], "image/png");
    assert!(
        photo.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    // Left out, the photo stays; replaced, its URL changes and the old one is gone.
    let (_, kept) = save(&api, json!({})).await;
    assert_eq!(kept["offline_photo_url"], photo_url.as_str());
    let (_, replaced) = save(&api, json!({"offline_photo": RED_PNG})).await;
    assert_ne!(replaced["offline_photo_url"], photo_url.as_str());
    let old = reqwest::get(format!("http://127.0.0.1:{}{photo_url}", t.port))
        .await
        .unwrap();
    assert_eq!(old.status(), 404);
    let (_, removed) = save(&api, json!({"offline_photo": null})).await;
    assert_eq!(removed["offline_photo_url"], Value::Null);

    // A manager reads the settings but neither changes them nor sees the secret.
    assert!(
        saved["identity_secret"]
            .as_str()
            .is_some_and(|s| s.len() >= 32)
    );
    let colleague = t.colleague(&shop, "Boris", "manager").await;
    let boris = Api::login(t.port, &colleague, &shop.password).await;
    let (_, seen) = boris.get("/api/v1/widget/settings").await;
    assert_eq!(
        (seen["color"].clone(), seen.get("identity_secret")),
        (json!("#0a7d4f"), None)
    );
    let (status, body) = save(&boris, json!({"color": "#000000"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    assert_eq!(
        boris
            .post("/api/v1/widget/identity-secret", json!({}))
            .await
            .0,
        403
    );
    let (_, rotated) = api.post("/api/v1/widget/identity-secret", json!({})).await;
    assert_ne!(rotated["identity_secret"], saved["identity_secret"]);

    // Another shop's manager sees and changes only their own.
    let other = t.shop("Other").await;
    let other_api = t.manager_api(&other).await;
    let (_, theirs) = other_api.get("/api/v1/widget/settings").await;
    assert_eq!(
        (theirs["site_key"].as_str(), theirs["color"].as_str()),
        (Some(other.site_key.as_str()), Some("#1f6feb"))
    );
    assert_eq!(save(&other_api, json!({"color": "#ffffff"})).await.0, 200);
    let (_, mine) = api.get("/api/v1/widget/settings").await;
    assert_eq!(mine["color"], "#0a7d4f");
    t.stop().await;
}

#[tokio::test]
async fn the_preview_tells_which_pages_would_show_the_widget() {
    let t = TestSuite::start().await;
    let shop = t.shop("Preview").await;
    let api = t.manager_api(&shop).await;
    let body = json!({
        "hidden_pages": ["/checkout*", "admin.shop.example/*"],
        "urls": ["https://shop.example/", "https://shop.example/Checkout/pay", "http://admin.shop.example/x"],
    });
    let (status, preview) = api.post("/api/v1/widget/settings/preview", body).await;
    assert_eq!(status, 200, "{preview}");
    let shown: Vec<(bool, Value)> = preview["urls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["shown"].as_bool().unwrap(), u["pattern"].clone()))
        .collect();
    assert_eq!(
        shown,
        [
            (true, Value::Null),
            (false, json!("/checkout*")),
            (false, json!("admin.shop.example/*"))
        ]
    );
    let (status, body) = api
        .post(
            "/api/v1/widget/settings/preview",
            json!({"hidden_pages": ["{x"], "urls": []}),
        )
        .await;
    assert_eq!(
        (
            status,
            body["error"]["fields"]["hidden_pages[0]"].is_string()
        ),
        (422, true)
    );
    t.stop().await;
}

#[tokio::test]
async fn the_widget_follows_the_settings_and_the_managers_presence_live() {
    let t = TestSuite::start().await;
    let shop = t.shop("Live").await;
    let api = t.manager_api(&shop).await;
    let origin = "https://shop.example";
    let mut widget = visitor_from(&t, &shop, None, origin).await.unwrap();
    assert_eq!(
        widget.wait_for_type("hello").await["managers_online"],
        false
    );
    page(&mut widget, "https://shop.example/checkout/pay").await;

    // A manager opens the console: the widget goes online; they leave: offline.
    let mut console = Socket::manager(t.port, api.token.as_deref().unwrap()).await;
    console.wait_for_type("hello").await;
    assert_eq!(
        widget.wait_for_type("presence").await["managers_online"],
        true
    );
    let config_url = format!(
        "/widget/v1/config?site_key={}&url=https://shop.example/",
        shop.site_key
    );
    assert_eq!(
        Api::new(t.port).get(&config_url).await.1["managers_online"],
        true
    );
    drop(console);
    assert_eq!(
        widget.wait_for_type("presence").await["managers_online"],
        false
    );
    assert_eq!(
        Api::new(t.port).get(&config_url).await.1["managers_online"],
        false
    );

    // Saved settings reach the open widget, as they apply to its page, and the consoles.
    let mut console = Socket::manager(t.port, api.token.as_deref().unwrap()).await;
    console.wait_for_type("hello").await;
    assert_eq!(
        save(
            &api,
            json!({"hidden_pages": ["/checkout*"], "color": "#aa0000"})
        )
        .await
        .0,
        200
    );
    let settings = widget.wait_for_type("settings").await["settings"].clone();
    assert_eq!(
        (settings["hidden"].clone(), settings["color"].clone()),
        (json!(true), json!("#aa0000"))
    );
    assert_eq!(
        console.wait_for_type("widget_settings").await["settings"]["manager_sound"],
        "bell"
    );
    let (_, shown) = Api::new(t.port).get(&config_url).await;
    assert_eq!(shown["hidden"], false);

    // Chat off: nothing for the page, and no socket.
    assert_eq!(save(&api, json!({"enabled": false})).await.0, 200);
    assert_eq!(
        widget.wait_for_type("settings").await["settings"],
        json!({"enabled": false})
    );
    // Then the socket closes (after whatever else was on its way).
    let code = loop {
        if let chat_testkit::clients::Frame::Closed { code, .. } = widget.next().await {
            break code;
        }
    };
    assert_eq!(code, 4404);
    assert_eq!(
        Api::new(t.port).get(&config_url).await.1,
        json!({"enabled": false})
    );
    let mut refused = visitor_from(&t, &shop, None, origin).await.unwrap();
    assert_eq!(refused.closed().await, (4404, "the chat is off".to_owned()));
    t.stop().await;
}

#[tokio::test]
async fn visitors_on_the_site_are_listed_live_and_can_be_written_to() {
    let t = TestSuite::start().await;
    let shop = t.shop("Analytics").await;
    let other = t.shop("Nosy").await;
    let api = t.manager_api(&shop).await;
    let nosy = t.manager_api(&other).await;
    let mut console = Socket::manager(t.port, api.token.as_deref().unwrap()).await;
    console.wait_for_type("hello").await;
    let mut nosy_console = Socket::manager(t.port, nosy.token.as_deref().unwrap()).await;
    nosy_console.wait_for_type("hello").await;

    let mut widget = visitor_from(&t, &shop, None, "https://shop.example")
        .await
        .unwrap();
    let contact_id = widget.wait_for_type("hello").await["contact_id"]
        .as_str()
        .unwrap()
        .to_owned();
    page(&mut widget, "https://shop.example/tea/green").await;
    let online = console.wait_for_type("visitor_online").await["visitor"].clone();
    assert_eq!(online["contact_id"], contact_id.as_str());
    assert_eq!(online["page_url"], "https://shop.example/tea/green");
    assert_eq!(
        (online["pages_seen"].clone(), online["tabs"].clone()),
        (json!(3), json!(1))
    );
    assert!(online["label"].as_str().unwrap().starts_with("Visitor "));
    let (_, listed) = api.get("/api/v1/visitors").await;
    assert_eq!(listed["visitors"][0]["contact_id"], contact_id.as_str());
    assert_eq!(nosy.get("/api/v1/visitors").await.1["visitors"], json!([]));

    // Browsing writes nothing: the visitor has no contact yet.
    let timeline_path = format!("/api/v1/contacts/{contact_id}/timeline");
    assert_eq!(api.get(&timeline_path).await.0, 404);

    // Start dialog: the manager writes, the widget shows it at once.
    let write = json!({"client_message_id": client_id(), "text": "Can I help you choose?"});
    let (status, _) = api
        .post(&format!("/api/v1/contacts/{contact_id}/messages"), write)
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        widget.wait_for_type("message").await["message"]["text"],
        "Can I help you choose?"
    );

    // Now a contact: the page they are on goes on the timeline with their
    // next frame, and opening the chat twice on one page view is one
    // "widget shown".
    let view = client_id();
    for _ in 0..2 {
        widget
            .send_json(json!({"type": "shown", "page_view_id": view}))
            .await;
    }
    widget.drain().await;
    let (_, timeline) = api.get(&timeline_path).await;
    let kinds: Vec<&str> = timeline["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .filter(|kind| *kind != "message")
        .collect();
    assert_eq!(kinds, ["widget_shown", "page_visit"], "{timeline}");
    let page_visit = timeline["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "page_visit")
        .unwrap();
    assert!(
        page_visit["summary"]
            .as_str()
            .unwrap()
            .contains("Green tea")
    );

    drop(widget);
    assert_eq!(
        console.wait_for_type("visitor_offline").await["contact_id"],
        contact_id.as_str()
    );
    assert_eq!(api.get("/api/v1/visitors").await.1["visitors"], json!([]));
    // The other shop's console heard nothing of it (asked after the visitor left).
    let frames = nosy_console.drain().await;
    assert!(
        frames
            .iter()
            .all(|f| f["type"] != "visitor_online" && f["type"] != "visitor_offline"),
        "{frames:?}"
    );
    t.stop().await;
}

#[tokio::test]
async fn an_email_moves_a_visitor_to_its_contact_only_with_the_shops_hash() {
    let t = TestSuite::start().await;
    let shop = t.shop("Identity").await;
    let api = t.manager_api(&shop).await;
    let (_, settings) = api.get("/api/v1/widget/settings").await;
    let secret = settings["identity_secret"].as_str().unwrap().to_owned();
    let hash = |email: &str| hmac_hex(&secret, email);
    let origin = "https://shop.example";

    // Anna, signed in to the shop on her laptop: verified; she writes.
    let mut laptop = visitor_from(&t, &shop, None, origin).await.unwrap();
    let anna = laptop.wait_for_type("hello").await["contact_id"].clone();
    laptop.send_json(json!({"type": "identify", "name": "Anna", "email": "Anna@Example.com", "user_hash": hash("anna@example.com")})).await;
    let identified = laptop.wait_for_type("identified").await;
    assert_eq!(
        (
            identified["contact_id"].clone(),
            identified["verified"].clone()
        ),
        (anna.clone(), json!(true))
    );
    laptop.send_json(json!({"type": "send", "client_message_id": client_id(), "text": "my order number is 42"})).await;
    laptop.wait_for_type("ack").await;

    // Someone else types her e-mail, without the hash or with a wrong one:
    // stored on their own contact as unverified, and they see nothing of hers.
    let mut stranger = visitor_from(&t, &shop, None, origin).await.unwrap();
    let strangers = stranger.wait_for_type("hello").await["contact_id"].clone();
    for user_hash in [Value::Null, json!(hash("boris@example.com")), json!("00ff")] {
        stranger
            .send_json(
                json!({"type": "identify", "email": "anna@example.com", "user_hash": user_hash}),
            )
            .await;
        let identified = stranger.wait_for_type("identified").await;
        assert_eq!(
            (
                identified["contact_id"].clone(),
                identified["verified"].clone()
            ),
            (strangers.clone(), json!(false))
        );
    }
    let frames = stranger.drain().await;
    assert!(frames.iter().all(|f| f["type"] != "message"), "{frames:?}");
    let (_, contact) = api
        .get(&format!("/api/v1/contacts/{}", strangers.as_str().unwrap()))
        .await;
    assert_eq!(
        (contact["email"].clone(), contact["email_verified"].clone()),
        (json!("anna@example.com"), json!(false))
    );
    // A bad e-mail is a field error.
    stranger
        .send_json(json!({"type": "identify", "email": "not an email"}))
        .await;
    let error = stranger.wait_for_type("error").await;
    assert!(error["fields"]["email"].is_string(), "{error}");

    // Anna on her phone, verified: moved to her contact (4409), and after the
    // reconnect her conversation is there.
    let mut phone = visitor_from(&t, &shop, None, origin).await.unwrap();
    let hello = phone.wait_for_type("hello").await;
    let token = hello["visitor_token"].as_str().unwrap().to_owned();
    assert_ne!(hello["contact_id"], anna);
    phone.send_json(json!({"type": "identify", "email": "anna@example.com", "user_hash": hash("anna@example.com")})).await;
    assert_eq!(phone.wait_for_type("identified").await["contact_id"], anna);
    assert_eq!(phone.closed().await.0, 4409);
    let mut phone = visitor_from(&t, &shop, Some(&token), origin).await.unwrap();
    assert_eq!(phone.wait_for_type("hello").await["contact_id"], anna);
    assert_eq!(
        phone.wait_for_type("message").await["message"]["text"],
        "my order number is 42"
    );

    // A new identity secret: the old hash stops verifying at once, on an
    // open socket too.
    let (status, _) = api.post("/api/v1/widget/identity-secret", json!({})).await;
    assert_eq!(status, 200);
    phone.send_json(json!({"type": "identify", "email": "anna@example.com", "user_hash": hash("anna@example.com")})).await;
    let identified = phone.wait_for_type("identified").await;
    assert_eq!(
        (
            identified["contact_id"].clone(),
            identified["verified"].clone()
        ),
        (anna.clone(), json!(false))
    );
    t.stop().await;
}

#[tokio::test]
async fn a_flood_of_page_frames_is_refused_beyond_the_limit() {
    let t = TestSuite::start().await;
    let shop = t.shop("Flood").await;
    let mut widget = visitor_from(&t, &shop, None, "https://shop.example")
        .await
        .unwrap();
    widget.wait_for_type("hello").await;
    for n in 0..30 {
        page(&mut widget, &format!("https://shop.example/page/{n}")).await;
    }
    let frames = widget.drain().await;
    let limited = frames
        .iter()
        .filter(|f| f["code"] == "rate_limited")
        .count();
    // A burst of 10 passes (a few more may refill meanwhile); the rest are refused.
    assert!(
        (10..=20).contains(&limited),
        "{limited} refused: {frames:?}"
    );
    t.stop().await;
}

/// HMAC-SHA256 in hex, as the shop's back end computes `user_hash`.
fn hmac_hex(secret: &str, text: &str) -> String {
    // RFC 2104 over SHA-256, written out so the test does not share the
    // gateway's code for it.
    use sha2::{Digest, Sha256};
    let mut key = secret.as_bytes().to_vec();
    if key.len() > 64 {
        key = Sha256::digest(&key).to_vec();
    }
    key.resize(64, 0);
    let pad = |byte: u8| key.iter().map(|k| k ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::digest([pad(0x36), text.as_bytes().to_vec()].concat());
    let outer = Sha256::digest([pad(0x5c), inner.to_vec()].concat());
    outer.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn the_sockets_of_a_replica_that_died_go_offline_on_their_own() {
    let t = TestSuite::start_with(crate::helpers::Options {
        gateway: gateway::Config {
            presence_ttl_secs: 3,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let shop = t.shop("Crashed").await;
    let api = t.manager_api(&shop).await;
    // No console open here: the only manager online will be the ghost.
    let mut widget = visitor_from(&t, &shop, None, "https://shop.example")
        .await
        .unwrap();
    assert_eq!(
        widget.wait_for_type("hello").await["managers_online"],
        false
    );

    // What a replica puts for a manager's console and a visitor's page, and
    // then never deletes nor puts again: it was killed.
    let bus = t.env().bus().await;
    let store = bus
        .jetstream
        .get_key_value(bus.name("presence"))
        .await
        .expect("the gateway made the bucket");
    let ghost_visitor = uuid::Uuid::now_v7();
    let page = json!({
        "contact_id": ghost_visitor, "name": "", "email": "", "page_url": "https://shop.example/",
        "page_title": "Home", "visit_started_at": "2026-01-01T00:00:00Z", "pages_seen": 1,
        "at": "2026-01-01T00:00:00Z",
    });
    let visitor_key = format!(
        "{}.v.{ghost_visitor}.{}",
        shop.account_id,
        uuid::Uuid::new_v4()
    );
    let manager_key = format!(
        "{}.m.{}.{}",
        shop.account_id,
        uuid::Uuid::now_v7(),
        uuid::Uuid::new_v4()
    );
    store
        .put(&visitor_key, page.to_string().into())
        .await
        .unwrap();
    store.put(&manager_key, "".into()).await.unwrap();
    assert_eq!(
        widget.wait_for_type("presence").await["managers_online"],
        true
    );
    let (_, listed) = api.get("/api/v1/visitors").await;
    assert_eq!(listed["visitors"][0]["contact_id"], json!(ghost_visitor));

    // Nobody deletes them; within the TTL (and a sweep) they are gone, and
    // the live socket hears of it.
    assert_eq!(
        widget.wait_for_type("presence").await["managers_online"],
        false
    );
    assert_eq!(api.get("/api/v1/visitors").await.1["visitors"], json!([]));
    t.stop().await;
}
