//! The fake Messenger Platform behaves as Meta's does, as the bridge sees it:
//! a webhook is only used once it echoes the verification challenge, POSTs
//! are signed over the exact (escaped) bytes sent and retried until answered
//! 2xx, and the Send API refuses what Graph refuses with Graph's codes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chat_fakes::Running;
use chat_fakes::facebook::{APP_ID, FakeFacebook, Person, Retries, Signing};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

const PAGE: &str = "104857600123456";
const TOKEN: &str = "EAAfakePageToken";
const SECRET: &str = "app-secret-0123";
const VERIFY_TOKEN: &str = "verify-me";
const PSID: &str = "6543210987654321";

async fn start() -> (FakeFacebook, Running) {
    let fake = FakeFacebook::new(Retries {
        first: Duration::from_millis(50),
        cap: Duration::from_millis(200),
    });
    fake.make_page(PAGE, TOKEN, SECRET, "Чайная лавка");
    let running = Running::serve("127.0.0.1:0", fake.clone().router())
        .await
        .expect("the fake serves");
    fake.set_base_url(&running.url());
    (fake, running)
}

fn anna() -> Person {
    Person {
        psid: PSID.into(),
        first_name: "Анна".into(),
        last_name: "Петрова".into(),
    }
}

/// Waits until `done`, for at most ten seconds.
async fn until(done: impl Fn() -> bool, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn hmac_hex(secret: &str, bytes: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(bytes);
    hex::encode(mac.finalize().into_bytes())
}

/// The bridge's side of the webhook: answers the verification for
/// [`VERIFY_TOKEN`] and keeps every POST it accepts, after failing the
/// first `failures`.
#[derive(Clone, Default)]
struct Hook {
    accepted: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    failures_left: Arc<Mutex<u32>>,
    in_flight: Arc<AtomicUsize>,
    most_in_flight: Arc<AtomicUsize>,
}

struct Receiver {
    hook: Hook,
    running: Running,
}

impl Receiver {
    async fn start(failures: u32) -> Self {
        let hook = Hook {
            failures_left: Arc::new(Mutex::new(failures)),
            ..Hook::default()
        };
        let router = axum::Router::new()
            .route("/webhook", get(verify).post(receive))
            .route("/lazy", get(|| async { "ok" }))
            .with_state(hook.clone());
        let running = Running::serve("127.0.0.1:0", router).await.unwrap();
        Self { hook, running }
    }

    fn url(&self) -> String {
        format!("{}/webhook", self.running.url())
    }

    fn accepted(&self) -> Vec<(HeaderMap, Bytes)> {
        self.hook.accepted.lock().unwrap().clone()
    }

    fn count(&self) -> usize {
        self.hook.accepted.lock().unwrap().len()
    }

    fn bodies(&self) -> Vec<Value> {
        self.accepted()
            .iter()
            .map(|(_, body)| serde_json::from_slice(body).expect("a JSON body"))
            .collect()
    }

    /// The texts of the messaging items received, in order.
    fn texts(&self) -> Vec<String> {
        self.bodies()
            .iter()
            .flat_map(|body| body["entry"].as_array().unwrap().clone())
            .flat_map(|entry| entry["messaging"].as_array().unwrap().clone())
            .filter_map(|item| item["message"]["text"].as_str().map(str::to_owned))
            .collect()
    }
}

async fn verify(Query(query): Query<HashMap<String, String>>) -> Response {
    let asked = |key: &str| query.get(key).map(String::as_str);
    if asked("hub.mode") == Some("subscribe") && asked("hub.verify_token") == Some(VERIFY_TOKEN) {
        (StatusCode::OK, query["hub.challenge"].clone()).into_response()
    } else {
        StatusCode::FORBIDDEN.into_response()
    }
}

async fn receive(State(hook): State<Hook>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let now = hook.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    hook.most_in_flight.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(10)).await;
    hook.in_flight.fetch_sub(1, Ordering::SeqCst);
    {
        let mut left = hook.failures_left.lock().unwrap();
        if *left > 0 {
            *left -= 1;
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
    }
    hook.accepted.lock().unwrap().push((headers, body));
    StatusCode::OK
}

/// A fake with a receiver subscribed to it.
async fn subscribed(failures: u32) -> (FakeFacebook, Running, Receiver) {
    let (fake, running) = start().await;
    let receiver = Receiver::start(failures).await;
    fake.subscribe(PAGE, &receiver.url(), VERIFY_TOKEN)
        .await
        .expect("the receiver answers the challenge");
    (fake, running, receiver)
}

/// A Send API call with the token in the query: the status and the body.
async fn send(running: &Running, token: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/v21.0/me/messages", running.url()))
        .query(&[("access_token", token)])
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn reply(text: &str) -> Value {
    json!({"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": text}})
}

fn tagged(text: &str) -> Value {
    json!({"recipient": {"id": PSID}, "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT",
           "message": {"text": text}})
}

async fn get_json(url: &str) -> (u16, Value) {
    let response = reqwest::get(url).await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// Asserts a Graph error: its code, subcode and type, and a trace id.
#[track_caller]
fn assert_graph_error(answer: &(u16, Value), status: u16, code: u64, subcode: Option<u64>) {
    let (got_status, body) = answer;
    assert_eq!(*got_status, status, "{body}");
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    assert_eq!(error["error_subcode"].as_u64(), subcode, "{body}");
    assert_eq!(error["type"], "OAuthException", "{body}");
    assert!(error["fbtrace_id"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn a_webhook_is_used_only_once_it_echoes_the_challenge_for_the_right_verify_token() {
    let (fake, running) = start().await;
    let receiver = Receiver::start(0).await;

    let wrong = fake
        .subscribe(PAGE, &receiver.url(), "not-the-token")
        .await
        .unwrap_err();
    assert!(wrong.contains("HTTP Status Code = 403"), "{wrong}");
    let lazy = fake
        .subscribe(
            PAGE,
            &format!("{}/lazy", receiver.running.url()),
            VERIFY_TOKEN,
        )
        .await
        .unwrap_err();
    assert!(lazy.contains("does not match challenge"), "{lazy}");
    let nowhere = fake
        .subscribe("no-such-page", &receiver.url(), VERIFY_TOKEN)
        .await
        .unwrap_err();
    assert!(nowhere.contains("no-such-page"), "{nowhere}");
    assert_eq!(fake.webhook_url(PAGE), None);

    // As on Meta, what is written while no webhook is subscribed is not kept.
    fake.person_writes(PAGE, &anna(), "before").unwrap();
    fake.subscribe(PAGE, &receiver.url(), VERIFY_TOKEN)
        .await
        .expect("the right token is verified");
    assert_eq!(fake.webhook_url(PAGE), Some(receiver.url()));
    fake.person_writes(PAGE, &anna(), "after").unwrap();
    until(|| fake.deliveries(PAGE) == (1, 0), "the delivery").await;
    assert_eq!(receiver.texts(), ["after"]);

    fake.unsubscribe(PAGE);
    fake.person_writes(PAGE, &anna(), "gone").unwrap();
    // Subscribed again: what comes now arrives, and what was written while
    // unsubscribed never does (it would come first).
    fake.subscribe(PAGE, &receiver.url(), VERIFY_TOKEN)
        .await
        .expect("subscribed again");
    fake.person_writes(PAGE, &anna(), "back").unwrap();
    until(|| receiver.count() == 2, "the delivery after").await;
    assert_eq!(
        receiver.texts(),
        ["after", "back"],
        "nothing after unsubscribing"
    );
    drop(running);
}

#[tokio::test]
async fn posts_are_signed_over_the_exact_bytes_sent_with_non_ascii_escaped() {
    let (fake, _running, receiver) = subscribed(0).await;
    let text = "Привет 👋 see https://shop.example/a?b=1 <b>@anna</b> 100%";
    let item = fake.person_writes(PAGE, &anna(), text).unwrap();
    until(|| receiver.count() == 1, "the delivery").await;

    let (headers, bytes) = receiver.accepted().remove(0);
    let signature = headers["x-hub-signature-256"].to_str().unwrap();
    assert_eq!(signature, format!("sha256={}", hmac_hex(SECRET, &bytes)));
    assert_eq!(headers["content-type"], "application/json");

    assert!(bytes.is_ascii(), "every non-ASCII character is escaped");
    let raw = std::str::from_utf8(&bytes).unwrap();
    assert!(
        raw.contains(r"\u041f\u0440\u0438\u0432\u0435\u0442"),
        "{raw}"
    );
    assert!(raw.contains(r"\ud83d\udc4b"), "a surrogate pair: {raw}");
    assert!(raw.contains(r"https:\/\/shop.example\/a?b=1"), "{raw}");
    // So a receiver that hashes its own serialisation does not match.
    let parsed: Value = serde_json::from_slice(&bytes).unwrap();
    let reserialised = serde_json::to_vec(&parsed).unwrap();
    assert_ne!(
        signature,
        format!("sha256={}", hmac_hex(SECRET, &reserialised))
    );

    assert_eq!(parsed["object"], "page");
    let entry = &parsed["entry"][0];
    assert_eq!(entry["id"], PAGE);
    assert!(entry["time"].is_u64());
    let messaging = &entry["messaging"][0];
    assert_eq!(messaging, &item, "the item person_writes returned");
    assert_eq!(messaging["sender"]["id"], PSID);
    assert_eq!(messaging["recipient"]["id"], PAGE);
    assert!(messaging["timestamp"].is_u64());
    assert_eq!(messaging["message"]["text"], text);
    assert!(
        messaging["message"]["mid"]
            .as_str()
            .is_some_and(|mid| mid.starts_with("m_") && mid.len() > 40)
    );
}

#[tokio::test]
async fn a_wrong_or_missing_signature_is_delivered_when_asked_for() {
    let (fake, _running, receiver) = subscribed(0).await;
    let body = |text: &str| {
        json!({"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": [
            {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1,
             "message": {"mid": format!("m_{text}"), "text": text}}]}]})
    };
    assert!(fake.raw_post(PAGE, body("wrong"), Signing::Wrong));
    assert!(fake.raw_post(PAGE, body("missing"), Signing::Missing));
    assert!(fake.raw_post(PAGE, body("right"), Signing::Right));
    until(|| receiver.count() == 3, "three deliveries").await;

    let accepted = receiver.accepted();
    let (headers, bytes) = &accepted[0];
    let wrong = headers["x-hub-signature-256"].to_str().unwrap();
    let hex = wrong.strip_prefix("sha256=").expect("well formed");
    assert!(
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_ne!(hex, hmac_hex(SECRET, bytes));
    assert!(!accepted[1].0.contains_key("x-hub-signature-256"));
    let (headers, bytes) = &accepted[2];
    assert_eq!(
        headers["x-hub-signature-256"].to_str().unwrap(),
        format!("sha256={}", hmac_hex(SECRET, bytes))
    );
    assert_eq!(receiver.texts(), ["wrong", "missing", "right"]);
}

#[tokio::test]
async fn a_batch_arrives_as_sent_and_its_writers_may_be_answered() {
    let (fake, running, receiver) = subscribed(0).await;
    let other = "7777777777777777";
    // Two entries; a message, our own echo, a delivery and a read; timestamps
    // out of order; the same mid twice.
    let batch = json!({"object": "page", "entry": [
        {"id": PAGE, "time": 1_700_000_002_000_u64, "messaging": [
            {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1_700_000_002_000_u64,
             "message": {"mid": "m_second", "text": "second"}},
            {"sender": {"id": PAGE}, "recipient": {"id": other}, "timestamp": 1_700_000_001_500_u64,
             "message": {"mid": "m_echo", "is_echo": true, "app_id": APP_ID, "text": "echo"}},
            {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1_700_000_002_100_u64,
             "delivery": {"mids": ["m_echo"], "watermark": 1_700_000_001_500_u64}},
            {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1_700_000_002_200_u64,
             "read": {"watermark": 1_700_000_001_500_u64}}]},
        {"id": PAGE, "time": 1_700_000_001_000_u64, "messaging": [
            {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1_700_000_001_000_u64,
             "message": {"mid": "m_first", "text": "first"}},
            {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1_700_000_002_000_u64,
             "message": {"mid": "m_second", "text": "second"}}]}]});
    assert!(fake.raw_post(PAGE, batch.clone(), Signing::Right));
    // And the whole POST again, as Meta redelivers.
    assert!(fake.raw_post(PAGE, batch.clone(), Signing::Right));
    until(|| receiver.count() == 2, "both POSTs").await;
    assert_eq!(receiver.bodies(), [batch.clone(), batch]);

    // The person who wrote in it may be answered; the one only our echo
    // went to never wrote.
    let (status, answer) = send(&running, TOKEN, reply("Здравствуйте")).await;
    assert_eq!(status, 200, "{answer}");
    let mut to_other = reply("hi");
    to_other["recipient"]["id"] = json!(other);
    assert_graph_error(
        &send(&running, TOKEN, to_other).await,
        400,
        100,
        Some(2018001),
    );

    let unsubscribed = FakeFacebook::new(Retries::default());
    unsubscribed.make_page(PAGE, TOKEN, SECRET, "Page");
    assert!(
        !unsubscribed.raw_post(PAGE, json!({}), Signing::Right),
        "nothing to deliver to"
    );
    assert!(!fake.raw_post("no-such-page", json!({}), Signing::Right));
}

#[tokio::test]
async fn posts_go_one_at_a_time_in_order_and_are_retried_until_answered_2xx() {
    let (fake, _running, receiver) = subscribed(2).await;
    for text in ["one", "two", "three"] {
        fake.person_writes(PAGE, &anna(), text).unwrap();
    }
    until(|| receiver.count() == 3, "three deliveries").await;
    until(|| fake.deliveries(PAGE) == (3, 2), "the deliveries counted").await;
    assert_eq!(
        receiver.texts(),
        ["one", "two", "three"],
        "in order, each once"
    );
    assert_eq!(receiver.hook.most_in_flight.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_send_answers_its_message_id_and_is_echoed_to_the_webhook() {
    let (fake, running, receiver) = subscribed(0).await;
    fake.person_writes(PAGE, &anna(), "hello").unwrap();
    until(|| receiver.count() == 1, "the message").await;

    let (status, answer) = send(&running, TOKEN, reply("Здравствуйте, Анна!")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["recipient_id"], PSID);
    let message_id = answer["message_id"].as_str().unwrap().to_owned();
    assert!(message_id.starts_with("m_"));

    until(|| receiver.count() == 2, "the echo").await;
    let echo = receiver.bodies()[1]["entry"][0]["messaging"][0].clone();
    assert_eq!(echo["sender"]["id"], PAGE);
    assert_eq!(echo["recipient"]["id"], PSID);
    assert_eq!(echo["message"]["is_echo"], true);
    assert_eq!(echo["message"]["app_id"], APP_ID);
    assert_eq!(echo["message"]["mid"], message_id.as_str());
    assert_eq!(echo["message"]["text"], "Здравствуйте, Анна!");

    let sent = fake.sent(PAGE);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["recipient_id"], PSID);
    assert_eq!(sent[0]["message_id"], message_id.as_str());
    assert_eq!(sent[0]["text"], "Здравствуйте, Анна!");
    assert_eq!(sent[0]["messaging_type"], "RESPONSE");
    assert_eq!(sent[0]["tag"], Value::Null);
    assert_eq!(fake.send_calls(PAGE), 1);

    // The page id in place of `me`, and the token as a bearer, work too.
    let response = reqwest::Client::new()
        .post(format!("{}/v21.0/{PAGE}/messages", running.url()))
        .bearer_auth(TOKEN)
        .json(&reply("again"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(fake.sent(PAGE).len(), 2);
}

#[tokio::test]
async fn messaging_type_is_required_and_a_text_has_at_most_2000_characters() {
    let (fake, running) = start().await;
    fake.person_writes(PAGE, &anna(), "hello").unwrap();

    let untyped = json!({"recipient": {"id": PSID}, "message": {"text": "hi"}});
    let refused = send(&running, TOKEN, untyped).await;
    assert_graph_error(&refused, 400, 100, None);
    assert!(
        refused.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("messaging_type")
    );
    let mut bogus = reply("hi");
    bogus["messaging_type"] = json!("WHENEVER");
    assert_graph_error(&send(&running, TOKEN, bogus).await, 400, 100, None);

    let too_long = send(&running, TOKEN, reply(&"я".repeat(2001))).await;
    assert_graph_error(&too_long, 400, 100, None);
    assert!(
        too_long.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2000")
    );
    let (status, answer) = send(&running, TOKEN, reply(&"я".repeat(2000))).await;
    assert_eq!(status, 200, "{answer}");

    assert_eq!(fake.sent(PAGE).len(), 1, "nothing refused was sent");
    assert_eq!(fake.send_calls(PAGE), 4);
}

#[tokio::test]
async fn outside_24_hours_only_human_agent_within_7_days_may_answer() {
    let (fake, running) = start().await;
    fake.person_writes(PAGE, &anna(), "hello").unwrap();

    fake.set_last_message_age(PAGE, PSID, Duration::from_secs(23 * 3600));
    assert_eq!(send(&running, TOKEN, reply("within a day")).await.0, 200);

    fake.set_last_message_age(PAGE, PSID, Duration::from_secs(25 * 3600));
    let late = send(&running, TOKEN, reply("too late")).await;
    assert_graph_error(&late, 400, 10, Some(2018278));
    let mut update = reply("an update");
    update["messaging_type"] = json!("UPDATE");
    assert_graph_error(&send(&running, TOKEN, update).await, 400, 10, Some(2018278));
    let mut untagged = tagged("no tag");
    untagged.as_object_mut().unwrap().remove("tag");
    assert_graph_error(&send(&running, TOKEN, untagged).await, 400, 100, None);
    let (status, answer) = send(&running, TOKEN, tagged("a human answers")).await;
    assert_eq!(status, 200, "{answer}");

    fake.set_last_message_age(PAGE, PSID, Duration::from_secs(8 * 24 * 3600));
    assert_graph_error(
        &send(&running, TOKEN, tagged("a week later")).await,
        400,
        10,
        Some(2018278),
    );
    // Writing again opens the window again.
    fake.person_writes(PAGE, &anna(), "still there?").unwrap();
    assert_eq!(send(&running, TOKEN, reply("yes")).await.0, 200);

    let texts: Vec<Value> = fake.sent(PAGE).iter().map(|m| m["text"].clone()).collect();
    assert_eq!(
        texts,
        [
            json!("within a day"),
            json!("a human answers"),
            json!("yes")
        ]
    );
    assert_eq!(fake.sent(PAGE)[1]["tag"], "HUMAN_AGENT");
}

#[tokio::test]
async fn a_bad_or_revoked_token_gets_190_for_every_call() {
    let (fake, running) = start().await;
    fake.person_writes(PAGE, &anna(), "hello").unwrap();
    let me = format!("{}/v21.0/me?access_token={TOKEN}", running.url());
    let (status, page) = get_json(&me).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page, json!({"name": "Чайная лавка", "id": PAGE}));
    let by_header = reqwest::Client::new()
        .get(format!("{}/v21.0/me", running.url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(by_header.status(), 200);

    let stranger = get_json(&format!("{}/v21.0/me?access_token=nonsense", running.url())).await;
    assert_graph_error(&stranger, 400, 190, None);
    assert_eq!(
        stranger.1["error"]["message"],
        "Invalid OAuth access token - Cannot parse access token"
    );
    let anonymous = get_json(&format!("{}/v21.0/me", running.url())).await;
    assert_eq!(anonymous.0, 400, "{}", anonymous.1);

    fake.revoke(PAGE);
    assert_eq!(get_json(&me).await.1["error"]["code"], 190);
    assert_graph_error(
        &send(&running, TOKEN, reply("hi")).await,
        400,
        190,
        Some(460),
    );
    let profile = format!("{}/v21.0/{PSID}?access_token={TOKEN}", running.url());
    assert_eq!(get_json(&profile).await.1["error"]["code"], 190);
    assert_eq!(fake.send_calls(PAGE), 1, "the refused send is counted");
    assert!(fake.sent(PAGE).is_empty());

    // A new token works.
    fake.make_page(PAGE, "EAAnewToken", SECRET, "Чайная лавка");
    assert_eq!(send(&running, "EAAnewToken", reply("back")).await.0, 200);
    assert_eq!(
        get_json(&me).await.1["error"]["code"],
        190,
        "not the old one"
    );
}

#[tokio::test]
async fn throttled_sends_get_the_code_asked_for_then_go_through() {
    let (fake, running) = start().await;
    fake.person_writes(PAGE, &anna(), "hello").unwrap();

    fake.throttle(PAGE, 1, 4);
    let limited = send(&running, TOKEN, reply("hi")).await;
    assert_graph_error(&limited, 400, 4, None);
    assert_eq!(
        limited.1["error"]["message"],
        "(#4) Application request limit reached"
    );
    fake.throttle(PAGE, 1, 613);
    let limited = send(&running, TOKEN, reply("hi")).await;
    assert_graph_error(&limited, 400, 613, None);
    assert!(
        limited.1["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("(#613)")
    );
    fake.throttle(PAGE, 2, 2);
    for _ in 0..2 {
        let temporary = send(&running, TOKEN, reply("hi")).await;
        assert_graph_error(&temporary, 500, 2, None);
        assert_eq!(temporary.1["error"]["is_transient"], true);
    }
    fake.throttle(PAGE, 1, 1200);
    assert_graph_error(&send(&running, TOKEN, reply("hi")).await, 500, 1200, None);

    let (status, answer) = send(&running, TOKEN, reply("hi")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(fake.sent(PAGE).len(), 1);
    assert_eq!(fake.send_calls(PAGE), 6);
}

#[tokio::test]
async fn sends_to_someone_who_never_wrote_get_100_and_to_someone_unavailable_551() {
    let (fake, running) = start().await;
    let never = send(&running, TOKEN, reply("hi")).await;
    assert_graph_error(&never, 400, 100, Some(2018001));
    assert_eq!(never.1["error"]["message"], "(#100) No matching user found");

    fake.person_writes(PAGE, &anna(), "hello").unwrap();
    fake.make_unavailable(PAGE, PSID);
    let gone = send(&running, TOKEN, reply("hi")).await;
    assert_graph_error(&gone, 400, 551, Some(1545041));
    assert_eq!(
        gone.1["error"]["message"],
        "(#551) This person isn't available right now."
    );
    assert!(fake.sent(PAGE).is_empty());
}

#[tokio::test]
async fn a_profile_answers_the_fields_asked_for_and_its_picture_is_served() {
    let (fake, running) = start().await;
    let url = |psid: &str, fields: &str| {
        format!(
            "{}/v21.0/{psid}?fields={fields}&access_token={TOKEN}",
            running.url()
        )
    };
    assert_graph_error(
        &get_json(&url(PSID, "first_name")).await,
        400,
        100,
        Some(33),
    );

    fake.person_writes(PAGE, &anna(), "hello").unwrap();
    let (status, profile) = get_json(&url(PSID, "first_name,last_name,profile_pic")).await;
    assert_eq!(status, 200, "{profile}");
    let keys: Vec<&String> = profile.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4, "{profile}");
    assert_eq!(profile["first_name"], "Анна");
    assert_eq!(profile["last_name"], "Петрова");
    assert_eq!(profile["id"], PSID);
    let picture = reqwest::get(profile["profile_pic"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(picture.headers()["content-type"], "image/png");
    assert!(picture.bytes().await.unwrap().starts_with(b"\x89PNG"));

    let (_, plain) = get_json(&format!(
        "{}/v21.0/{PSID}?access_token={TOKEN}",
        running.url()
    ))
    .await;
    assert_eq!(plain, json!({"name": "Анна Петрова", "id": PSID}));
    assert_graph_error(&get_json(&url(PSID, "shoe_size")).await, 400, 100, None);
}

#[tokio::test]
async fn attachments_point_at_files_the_fake_serves() {
    let (fake, running) = start().await;
    let image = fake.person_sends_image(PAGE, &anna()).unwrap();
    let attachment = &image["message"]["attachments"][0];
    assert_eq!(attachment["type"], "image");
    let url = attachment["payload"]["url"].as_str().unwrap();
    assert!(url.starts_with(&running.url()), "{url}");
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.unwrap().starts_with(b"\x89PNG"));

    let document = fake
        .person_sends_file(PAGE, &anna(), "счёт 2024.pdf")
        .unwrap();
    let attachment = &document["message"]["attachments"][0];
    assert_eq!(attachment["type"], "file");
    let url = attachment["payload"]["url"].as_str().unwrap();
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert!(document["message"].get("text").is_none());
    assert_ne!(image["message"]["mid"], document["message"]["mid"]);
}

#[tokio::test]
async fn the_fake_shares_one_port_with_the_telegram_and_vk_fakes() {
    let retries = Retries::default();
    let telegram = chat_fakes::telegram::FakeTelegram::new(retries);
    telegram.make_bot("123:tg", "shop_bot");
    let facebook = FakeFacebook::new(retries);
    facebook.make_page(PAGE, TOKEN, SECRET, "Чайная лавка");
    let router = telegram
        .router()
        .merge(chat_fakes::vk::FakeVk::new(retries).router())
        .merge(facebook.router());
    let running = Running::serve("127.0.0.1:0", router).await.unwrap();

    let (status, page) =
        get_json(&format!("{}/v21.0/me?access_token={TOKEN}", running.url())).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["id"], PAGE);
    let (status, me) = get_json(&format!("{}/bot123:tg/getMe", running.url())).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["result"]["username"], "shop_bot");
}

#[tokio::test]
async fn the_control_routes_drive_the_fake_as_the_play_page_does() {
    let fake = FakeFacebook::new(Retries {
        first: Duration::from_millis(50),
        cap: Duration::from_millis(200),
    });
    let running = Running::serve("127.0.0.1:0", fake.clone().router())
        .await
        .unwrap();
    let receiver = Receiver::start(0).await;
    let client = reqwest::Client::new();
    let control = format!("{}/_fake/facebook/pages", running.url());
    let post = |path: &str, body: Value| client.post(format!("{control}{path}")).json(&body).send();
    let page = format!("/{PAGE}");

    let made = post(
        "",
        json!({"page_id": PAGE, "page_token": TOKEN, "app_secret": SECRET,
                               "name": "Чайная лавка"}),
    )
    .await
    .unwrap();
    assert_eq!(made.status(), 201);
    let refused = post(
        &format!("{page}/subscribe"),
        json!({"callback_url": receiver.url(), "verify_token": "nope"}),
    )
    .await
    .unwrap();
    assert_eq!(refused.status(), 400);
    let reason: Value = refused.json().await.unwrap();
    assert!(
        reason["error"].as_str().unwrap().contains("403"),
        "{reason}"
    );
    let subscribed = post(
        &format!("{page}/subscribe"),
        json!({"callback_url": receiver.url(), "verify_token": VERIFY_TOKEN}),
    )
    .await
    .unwrap();
    assert_eq!(subscribed.status(), 200);

    let person = json!({"psid": PSID, "first_name": "Анна", "last_name": "Петрова"});
    let written = post(
        &format!("{page}/messages"),
        json!({"person": person, "text": "привет"}),
    )
    .await
    .unwrap();
    assert_eq!(written.status(), 201);
    let photo = post(
        &format!("{page}/messages"),
        json!({"person": person, "attachment": "image"}),
    )
    .await
    .unwrap();
    assert_eq!(photo.status(), 201);
    until(|| receiver.count() == 2, "both deliveries").await;
    assert_eq!(send(&running, TOKEN, reply("ответ")).await.0, 200);

    let (status, state) = get_json(&format!("{control}{page}")).await;
    assert_eq!(status, 200);
    assert_eq!(state["webhook"], receiver.url());
    assert_eq!(state["name"], "Чайная лавка");
    assert_eq!(state["sent"][0]["text"], "ответ");
    assert!(state["pending"].is_u64());
    assert_eq!(state["deliveries"]["failed"], 0);

    post(
        &format!("{page}/throttle"),
        json!({"count": 1, "code": 613}),
    )
    .await
    .unwrap();
    assert_graph_error(&send(&running, TOKEN, reply("hi")).await, 400, 613, None);
    post(
        &format!("{page}/window"),
        json!({"psid": PSID, "age_hours": 30}),
    )
    .await
    .unwrap();
    assert_graph_error(
        &send(&running, TOKEN, reply("hi")).await,
        400,
        10,
        Some(2018278),
    );
    post(&format!("{page}/unavailable"), json!({"psid": PSID}))
        .await
        .unwrap();
    assert_graph_error(
        &send(&running, TOKEN, tagged("hi")).await,
        400,
        551,
        Some(1545041),
    );
    let raw = post(
        &format!("{page}/posts"),
        json!({"body": {"object": "page", "entry": []}, "signing": "missing"}),
    )
    .await
    .unwrap();
    assert_eq!(raw.status(), 201);
    until(|| receiver.count() == 4, "the echo and the raw POST").await;
    assert!(!receiver.accepted()[3].0.contains_key("x-hub-signature-256"));
    post(&format!("{page}/revoke"), json!({})).await.unwrap();
    assert_graph_error(
        &send(&running, TOKEN, reply("hi")).await,
        400,
        190,
        Some(460),
    );

    let play = reqwest::get(format!("{}/_fake/facebook/play/{PAGE}", running.url()))
        .await
        .unwrap();
    assert_eq!(play.status(), 200);
    let html = play.text().await.unwrap();
    assert!(html.contains("textContent") && !html.contains("innerHTML"));
    assert_eq!(
        client
            .get(format!("{control}/no-such-page"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}
