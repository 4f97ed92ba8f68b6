//! The fake VK behaves as VK's community messages do for a bridge: the
//! Callback API confirms first, counts only a 200 `ok` and retries with
//! `X-Retry-Counter`, every event carries the secret; Bots Long Poll keeps
//! events for an old `ts` and fails with 1/2/3 as VK does; methods take form
//! bodies, queries and Bearer tokens, and answer every error with HTTP 200
//! in VK's words.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use chat_fakes::Running;
use chat_fakes::telegram::FakeTelegram;
use chat_fakes::vk::{FakeVk, Person, Retries};
use serde_json::{Value, json};

const GROUP: i64 = 218_000_001;
const TOKEN: &str = "vk1.a.community-token";
const CONFIRMATION: &str = "a1b2c3d4";
const SECRET: &str = "s3cret-Key";

struct Vk {
    fake: FakeVk,
    running: Running,
    http: reqwest::Client,
}

async fn start() -> Vk {
    let fake = FakeVk::new(Retries {
        first: Duration::from_millis(30),
        cap: Duration::from_millis(120),
    });
    fake.make_community(GROUP, TOKEN, "Чайная лавка", CONFIRMATION);
    // On one port with the Telegram fake, as `make dev` serves them: no route clashes.
    let router = FakeTelegram::default()
        .router()
        .merge(fake.clone().router());
    let running = Running::serve("127.0.0.1:0", router)
        .await
        .expect("the fake serves");
    Vk {
        fake,
        running,
        http: reqwest::Client::new(),
    }
}

impl Vk {
    /// Calls `method` with a form body holding the token and `v`, as VK's
    /// SDKs do; every answer must come with HTTP 200.
    async fn call(&self, method: &str, params: &[(&str, &str)]) -> Value {
        let mut pairs = vec![("access_token", TOKEN), ("v", "5.199")];
        pairs.extend_from_slice(params);
        self.post_form(method, &form(&pairs), None).await
    }

    async fn post_form(&self, method: &str, body: &str, bearer: Option<&str>) -> Value {
        let mut request = self
            .http
            .post(format!("{}/method/{method}", self.running.url()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned());
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("the fake answers");
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "VK answers errors with 200"
        );
        response.json().await.expect("a JSON answer")
    }

    async fn send(&self, peer_id: i64, random_id: &str, message: &str) -> Value {
        let peer_id = peer_id.to_string();
        self.call(
            "messages.send",
            &[
                ("peer_id", &peer_id),
                ("random_id", random_id),
                ("message", message),
            ],
        )
        .await
    }

    /// `groups.getLongPollServer`: the server, key and ts.
    async fn long_poll_server(&self) -> (String, String, String) {
        let answer = self
            .call(
                "groups.getLongPollServer",
                &[("group_id", &GROUP.to_string())],
            )
            .await;
        let server = &answer["response"];
        (
            server["server"].as_str().expect("server").to_owned(),
            server["key"].as_str().expect("key").to_owned(),
            server["ts"].as_str().expect("ts is a string").to_owned(),
        )
    }

    async fn a_check(&self, server: &str, key: &str, ts: &str, wait: u64) -> Value {
        self.http
            .get(format!(
                "{server}?act=a_check&key={key}&ts={ts}&wait={wait}"
            ))
            .send()
            .await
            .expect("the long poll answers")
            .json()
            .await
            .expect("a JSON answer")
    }
}

/// A form body, percent-encoded by hand (reqwest's `form` feature is off).
fn form(pairs: &[(&str, &str)]) -> String {
    let encode = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    char::from(b).to_string()
                }
                b' ' => "+".to_owned(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn error_code(answer: &Value) -> i64 {
    answer["error"]["error_code"]
        .as_i64()
        .unwrap_or_else(|| panic!("an error: {answer}"))
}

fn error_msg(answer: &Value) -> &str {
    answer["error"]["error_msg"].as_str().unwrap_or_default()
}

fn anna() -> Person {
    Person {
        id: 4242,
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

/// Requests a callback server received: each one's `X-Retry-Counter` and event.
type Received = Vec<(Option<String>, Value)>;

/// A Callback API server: answers `confirmation` with `confirm_with`, the
/// events with `answers` in turn and then 200 `ok`, and records every
/// request with its `X-Retry-Counter`.
#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Received>>,
    confirm_with: Arc<Mutex<String>>,
    /// How long the confirmation's answer takes.
    confirm_after: Arc<Mutex<Duration>>,
    answers: Arc<Mutex<VecDeque<(StatusCode, &'static str)>>>,
}

impl Receiver {
    fn received(&self) -> Received {
        self.received.lock().unwrap().clone()
    }

    /// The events received, confirmations left out.
    fn events(&self) -> Received {
        self.received()
            .into_iter()
            .filter(|(_, event)| event["type"] != "confirmation")
            .collect()
    }

    async fn serve(&self) -> (Running, String) {
        let router = Router::new()
            .route("/vk", post(receive))
            .with_state(self.clone());
        let running = Running::serve("127.0.0.1:0", router).await.unwrap();
        let url = format!("{}/vk", running.url());
        (running, url)
    }
}

async fn receive(
    State(receiver): State<Receiver>,
    headers: HeaderMap,
    Json(event): Json<Value>,
) -> (StatusCode, String) {
    let retry = headers
        .get("x-retry-counter")
        .map(|v| v.to_str().unwrap().to_owned());
    receiver
        .received
        .lock()
        .unwrap()
        .push((retry, event.clone()));
    if event["type"] == "confirmation" {
        let delay = *receiver.confirm_after.lock().unwrap();
        tokio::time::sleep(delay).await;
        return (
            StatusCode::OK,
            receiver.confirm_with.lock().unwrap().clone(),
        );
    }
    let (status, body) = receiver
        .answers
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or((StatusCode::OK, "ok"));
    (status, body.to_owned())
}

#[tokio::test]
async fn a_callback_server_gets_events_only_after_answering_the_confirmation_string() {
    let vk = start().await;
    let receiver = Receiver::default();
    *receiver.confirm_with.lock().unwrap() = "ok".into();
    let (_server, url) = receiver.serve().await;

    vk.fake.set_callback(GROUP, &url, SECRET);
    until(
        || vk.fake.confirmations(GROUP) == (0, 1),
        "the confirmation refused",
    )
    .await;
    assert!(!vk.fake.callback_confirmed(GROUP));
    vk.fake
        .person_writes(GROUP, &anna(), "до подтверждения")
        .unwrap();
    // Nothing goes to a server that did not confirm: below, the first event
    // after confirmation is the only one it ever gets.
    let received = receiver.received();
    assert_eq!(
        received[0].1,
        json!({"type": "confirmation", "group_id": GROUP, "secret": SECRET})
    );

    // The admin presses "Confirm" again once the server knows the string;
    // what comes while the server is still answering is not sent to it either.
    *receiver.confirm_with.lock().unwrap() = CONFIRMATION.into();
    *receiver.confirm_after.lock().unwrap() = Duration::from_millis(300);
    vk.fake.set_callback(GROUP, &url, SECRET);
    until(
        || receiver.received().len() == 2,
        "the second confirmation sent",
    )
    .await;
    vk.fake.person_writes(GROUP, &anna(), "пока ждём").unwrap();
    until(
        || vk.fake.callback_confirmed(GROUP),
        "the confirmation accepted",
    )
    .await;
    assert_eq!(vk.fake.confirmations(GROUP), (1, 1));
    vk.fake.person_writes(GROUP, &anna(), "после").unwrap();
    until(|| vk.fake.deliveries(GROUP) == (1, 0), "the delivery").await;
    let events = receiver.events();
    let texts: Vec<&str> = events
        .iter()
        .map(|(_, e)| e["object"]["message"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        ["после"],
        "the event before confirmation never comes"
    );
    assert!(
        receiver
            .received()
            .iter()
            .all(|(_, e)| e["secret"] == SECRET)
    );
}

#[tokio::test]
async fn only_200_ok_counts_and_retries_carry_x_retry_counter_in_order() {
    let vk = start().await;
    let receiver = Receiver::default();
    *receiver.confirm_with.lock().unwrap() = CONFIRMATION.into();
    *receiver.answers.lock().unwrap() = VecDeque::from([
        (StatusCode::OK, "OK!"),
        (StatusCode::INTERNAL_SERVER_ERROR, "ok"),
        (StatusCode::CREATED, "ok"),
        (StatusCode::OK, "OK"),
    ]);
    let (_server, url) = receiver.serve().await;
    vk.fake.set_callback(GROUP, &url, SECRET);
    until(|| vk.fake.callback_confirmed(GROUP), "the confirmation").await;

    let first = vk.fake.person_writes(GROUP, &anna(), "раз").unwrap();
    vk.fake.person_writes(GROUP, &anna(), "два").unwrap();
    until(
        || vk.fake.deliveries(GROUP) == (2, 4),
        "both delivered after four failures",
    )
    .await;

    let events = receiver.events();
    let seen: Vec<(Option<&str>, &str)> = events
        .iter()
        .map(|(retry, e)| {
            (
                retry.as_deref(),
                e["object"]["message"]["text"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (None, "раз"),
            (Some("1"), "раз"),
            (Some("2"), "раз"),
            (Some("3"), "раз"),
            (Some("4"), "раз"),
            (None, "два")
        ]
    );
    // A retry is the same event, with the same event_id.
    assert!(
        events[..5]
            .iter()
            .all(|(_, e)| e["event_id"] == first["event_id"])
    );
    for (_, event) in &events {
        assert_eq!(event["secret"], SECRET);
        assert_eq!(event["type"], "message_new");
        assert_eq!(event["group_id"], GROUP);
        assert_eq!(event["v"], "5.199");
        let event_id = event["event_id"].as_str().unwrap();
        assert_eq!(event_id.len(), 40);
        assert!(event_id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(event["object"]["message"]["from_id"], 4242);
        assert_eq!(event["object"]["client_info"]["keyboard"], true);
    }
}

#[tokio::test]
async fn raw_events_are_delivered_as_they_are_and_the_same_event_id_twice() {
    let vk = start().await;
    let receiver = Receiver::default();
    *receiver.confirm_with.lock().unwrap() = CONFIRMATION.into();
    let (_server, url) = receiver.serve().await;
    vk.fake.set_callback(GROUP, &url, SECRET);
    until(|| vk.fake.callback_confirmed(GROUP), "the confirmation").await;

    let typing = json!({"type": "message_typing_state", "group_id": GROUP,
        "event_id": "0123456789abcdef0123456789abcdef01234567", "v": "5.199",
        "object": {"state": "typing", "from_id": 4242, "to_id": -GROUP}});
    assert!(vk.fake.raw_event(GROUP, typing.clone()));
    assert!(vk.fake.raw_event(GROUP, typing.clone()));
    let forged = json!({"type": "message_new", "group_id": GROUP, "secret": "wrong",
        "event_id": "ffff", "v": "5.199", "object": {}});
    assert!(vk.fake.raw_event(GROUP, forged.clone()));
    assert!(!vk.fake.raw_event(1, typing.clone()), "no such community");
    until(|| vk.fake.deliveries(GROUP) == (3, 0), "three deliveries").await;

    let events: Vec<Value> = receiver.events().into_iter().map(|(_, e)| e).collect();
    let mut with_secret = typing.clone();
    with_secret["secret"] = json!(SECRET);
    assert_eq!(events, [with_secret.clone(), with_secret, forged]);
}

#[tokio::test]
async fn long_poll_reads_events_from_ts_again_and_waits_for_the_next() {
    let vk = start().await;
    let (server, key, ts) = vk.long_poll_server().await;
    assert_eq!(server, format!("{}/whp/{GROUP}", vk.running.url()));
    assert_eq!(key.len(), 40);

    vk.fake.person_writes(GROUP, &anna(), "первое").unwrap();
    vk.fake.person_writes(GROUP, &anna(), "второе").unwrap();
    let got = vk.a_check(&server, &key, &ts, 1).await;
    let start_ts: u64 = ts.parse().unwrap();
    assert_eq!(
        got["ts"],
        (start_ts + 2).to_string(),
        "the next event's number"
    );
    let updates = got["updates"].as_array().unwrap();
    let texts: Vec<&str> = updates
        .iter()
        .map(|u| u["object"]["message"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["первое", "второе"]);
    for update in updates {
        assert_eq!(update["type"], "message_new");
        assert_eq!(update["group_id"], GROUP);
        assert_eq!(update["v"], "5.199");
        assert_eq!(update["event_id"].as_str().unwrap().len(), 40);
        assert!(update.get("secret").is_none(), "no secret in long poll");
    }
    // Kept, not forgotten on read: a poller restarting with the old ts gets them again.
    assert_eq!(vk.a_check(&server, &key, &ts, 1).await, got);
    let from_second = vk
        .a_check(&server, &key, &(start_ts + 1).to_string(), 1)
        .await;
    assert_eq!(from_second["updates"].as_array().unwrap().len(), 1);

    // Nothing new: the poll waits `wait` seconds and answers the same ts.
    let next = got["ts"].as_str().unwrap().to_owned();
    let began = tokio::time::Instant::now();
    let empty = vk.a_check(&server, &key, &next, 1).await;
    assert!(began.elapsed() >= Duration::from_millis(900));
    assert_eq!(empty, json!({"ts": next, "updates": []}));

    // A waiting poll answers as soon as an event comes.
    let waiting = tokio::spawn({
        let (http, server, key, next) =
            (vk.http.clone(), server.clone(), key.clone(), next.clone());
        async move {
            http.get(format!("{server}?act=a_check&key={key}&ts={next}&wait=25"))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    });
    until(
        || vk.fake.long_polls_waiting(GROUP) == 1,
        "the poll waiting",
    )
    .await;
    let began = tokio::time::Instant::now();
    vk.fake.person_writes(GROUP, &anna(), "третье").unwrap();
    let woken = waiting.await.unwrap();
    assert!(began.elapsed() < Duration::from_secs(5));
    assert_eq!(woken["updates"][0]["object"]["message"]["text"], "третье");
    assert_eq!(vk.fake.long_polls(GROUP), 5);
}

#[tokio::test]
async fn long_poll_fails_with_1_2_and_3_as_vk_does() {
    let vk = start().await;
    let (server, key, ts) = vk.long_poll_server().await;
    vk.fake.person_writes(GROUP, &anna(), "привет").unwrap();
    let next_ts: u64 = ts.parse::<u64>().unwrap() + 1;

    assert_eq!(
        vk.a_check(&server, "not-a-key", &ts, 0).await,
        json!({"failed": 2})
    );
    // A ts ahead of the newest event: go on from the next one (a number here).
    let ahead = vk
        .a_check(&server, &key, &(next_ts + 50).to_string(), 0)
        .await;
    assert_eq!(ahead, json!({"failed": 1, "ts": next_ts}));

    vk.fake.fail_long_poll(GROUP, 1);
    assert_eq!(
        vk.a_check(&server, &key, &ts, 0).await,
        json!({"failed": 1, "ts": next_ts})
    );
    assert_eq!(
        vk.a_check(&server, &key, &ts, 0).await["updates"][0]["object"]["message"]["text"],
        "привет"
    );

    // 2: the key expired; a new key with the same ts reads on.
    vk.fake.fail_long_poll(GROUP, 2);
    assert_eq!(
        vk.a_check(&server, &key, &ts, 0).await,
        json!({"failed": 2})
    );
    assert_eq!(
        vk.a_check(&server, &key, &ts, 0).await,
        json!({"failed": 2}),
        "expired for good"
    );
    let (_, new_key, _) = vk.long_poll_server().await;
    let again = vk.a_check(&server, &new_key, &ts, 0).await;
    assert_eq!(again["updates"].as_array().unwrap().len(), 1);

    // 3, even to a poll already waiting: a new key and ts are needed.
    let waiting = tokio::spawn({
        let (http, server, key) = (vk.http.clone(), server.clone(), new_key.clone());
        async move {
            http.get(format!(
                "{server}?act=a_check&key={key}&ts={next_ts}&wait=25"
            ))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
        }
    });
    until(
        || vk.fake.long_polls_waiting(GROUP) == 1,
        "the poll waiting",
    )
    .await;
    vk.fake.fail_long_poll(GROUP, 3);
    let failed = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the waiting poll ends")
        .unwrap();
    assert_eq!(failed, json!({"failed": 3}));
    assert_eq!(
        vk.a_check(&server, &new_key, &next_ts.to_string(), 0).await,
        json!({"failed": 2})
    );

    // History beyond what is kept: failed 1 with the oldest kept ts, which reads on.
    let (_, key, _) = vk.long_poll_server().await;
    for n in 0..1005 {
        vk.fake
            .raw_event(GROUP, json!({"type": "message_typing_state", "n": n}));
    }
    let lost = vk.a_check(&server, &key, &ts, 0).await;
    assert_eq!(lost["failed"], 1);
    let oldest = lost["ts"].as_u64().expect("a number");
    assert_eq!(oldest, next_ts + 1005 - 1000);
    let kept = vk.a_check(&server, &key, &oldest.to_string(), 0).await;
    assert_eq!(kept["updates"].as_array().unwrap().len(), 1000);
    assert_eq!(kept["ts"], (next_ts + 1005).to_string());
}

#[tokio::test]
async fn a_send_is_told_back_as_a_message_reply_event() {
    let vk = start().await;
    let (server, key, _) = vk.long_poll_server().await;
    let written = vk.fake.person_writes(GROUP, &anna(), "есть улун?").unwrap();
    let after_written = vk.long_poll_server().await.2;

    let answer = vk.send(4242, "1001", "Есть, 250 г").await;
    let id = answer["response"].as_i64().expect("a message id");
    assert!(id > written["object"]["message"]["id"].as_i64().unwrap());

    let got = vk.a_check(&server, &key, &after_written, 1).await;
    let reply = &got["updates"][0];
    assert_eq!(reply["type"], "message_reply");
    let message = &reply["object"];
    assert_eq!(message["id"], id);
    assert_eq!(message["out"], 1);
    assert_eq!(message["from_id"], -GROUP);
    assert_eq!(message["peer_id"], 4242);
    assert_eq!(message["random_id"], 1001);
    assert_eq!(message["text"], "Есть, 250 г");
    // The next in this dialog after the person's message.
    let theirs = written["object"]["message"]["conversation_message_id"]
        .as_i64()
        .unwrap();
    assert_eq!(message["conversation_message_id"], theirs + 1);
}

#[tokio::test]
async fn messages_send_requires_random_id_and_deduplicates_by_it() {
    let vk = start().await;
    vk.fake
        .person_writes(GROUP, &anna(), "здравствуйте")
        .unwrap();

    let missing = vk
        .call("messages.send", &[("peer_id", "4242"), ("message", "hi")])
        .await;
    assert_eq!(error_code(&missing), 100);
    assert_eq!(
        error_msg(&missing),
        "One of the parameters specified was missing or invalid: random_id is a required parameter"
    );
    let echoed = missing["error"]["request_params"].as_array().unwrap();
    assert!(echoed.contains(&json!({"key": "method", "value": "messages.send"})));
    assert!(echoed.contains(&json!({"key": "peer_id", "value": "4242"})));
    assert!(
        !echoed.iter().any(|p| p["key"] == "access_token"),
        "never the token"
    );

    let first = vk.send(4242, "77", "Добрый день").await;
    let again = vk.send(4242, "77", "Добрый день").await;
    assert!(first["response"].is_i64(), "{first}");
    assert_eq!(first, again, "the same message id");
    assert_eq!(vk.fake.sent(GROUP).len(), 1, "sent once");
    let sent = &vk.fake.sent(GROUP)[0];
    assert_eq!(sent["id"], first["response"]);
    assert_eq!(sent["peer_id"], 4242);
    assert_eq!(sent["random_id"], 77);
    assert_eq!(sent["message"], "Добрый день");
    assert!(sent["date"].is_i64());

    // random_id 0 is not deduplicated.
    let zero = vk.send(4242, "0", "раз").await["response"].clone();
    let zero_again = vk.send(4242, "0", "раз").await["response"].clone();
    assert_ne!(zero, zero_again);
    assert_eq!(vk.fake.sent(GROUP).len(), 3);
    assert_eq!(vk.fake.send_calls(GROUP), 5, "every call counted");
}

#[tokio::test]
async fn messages_send_refuses_empty_too_long_and_not_permitted_messages() {
    let vk = start().await;
    let stranger = vk.send(4242, "1", "hello").await;
    assert_eq!(error_code(&stranger), 901, "nobody wrote yet");
    assert_eq!(
        error_msg(&stranger),
        "Can't send messages for users without permission"
    );

    vk.fake.person_writes(GROUP, &anna(), "привет").unwrap();
    let empty = vk.send(4242, "2", " ").await;
    assert_eq!(error_code(&empty), 100);
    assert_eq!(
        error_msg(&empty),
        "One of the parameters specified was missing or invalid: message is empty or invalid"
    );
    let long = vk.send(4242, "3", &"я".repeat(9001)).await;
    assert_eq!(error_code(&long), 914);
    assert_eq!(error_msg(&long), "Message is too long");
    let longest = vk.send(4242, "4", &"я".repeat(9000)).await;
    assert!(longest["response"].is_i64(), "9000 characters go");
    let no_peer = vk
        .call("messages.send", &[("random_id", "5"), ("message", "hi")])
        .await;
    assert_eq!(error_code(&no_peer), 100);

    let (server, key, ts) = vk.long_poll_server().await;
    vk.fake.deny(GROUP, 4242);
    let denied = vk.send(4242, "6", "ещё вопрос?").await;
    assert_eq!(error_code(&denied), 901);
    let got = vk.a_check(&server, &key, &ts, 1).await;
    assert_eq!(got["updates"][0]["type"], "message_deny");
    assert_eq!(got["updates"][0]["object"]["user_id"], 4242);

    assert_eq!(vk.fake.sent(GROUP).len(), 1, "nothing refused was sent");
    assert_eq!(vk.fake.send_calls(GROUP), 6);
}

#[tokio::test]
async fn throttling_gives_error_6_then_calls_succeed_and_so_does_calling_too_fast() {
    let vk = start().await;
    vk.fake.throttle(GROUP, 2);
    for _ in 0..2 {
        let refused = vk.call("groups.getById", &[]).await;
        assert_eq!(error_code(&refused), 6);
        assert_eq!(error_msg(&refused), "Too many requests per second");
    }
    let fine = vk.call("groups.getById", &[]).await;
    assert_eq!(fine["response"]["groups"][0]["id"], GROUP);

    // VK's 20 calls a second for a community token.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let vk = Arc::new(vk);
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..25 {
        let vk = vk.clone();
        calls.spawn(async move { vk.call("groups.getById", &[]).await });
    }
    let answers = calls.join_all().await;
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|a| a.get("error").is_some())
        .collect();
    assert_eq!(refused.len(), 5, "20 of 25 at once go");
    assert!(refused.iter().all(|a| error_code(a) == 6));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(vk.call("groups.getById", &[]).await["response"].is_object());
}

#[tokio::test]
async fn a_bad_missing_or_revoked_token_gets_error_5() {
    let vk = start().await;
    let bad = vk
        .post_form(
            "groups.getById",
            &form(&[("access_token", "nope"), ("v", "5.199")]),
            None,
        )
        .await;
    assert_eq!(error_code(&bad), 5);
    assert_eq!(
        error_msg(&bad),
        "User authorization failed: invalid access_token (4)."
    );
    let none = vk
        .post_form("groups.getById", &form(&[("v", "5.199")]), None)
        .await;
    assert_eq!(error_code(&none), 5);
    assert_eq!(
        error_msg(&none),
        "User authorization failed: no access_token passed."
    );

    let (server, key, ts) = vk.long_poll_server().await;
    vk.fake.revoke(GROUP);
    assert_eq!(error_code(&vk.call("groups.getById", &[]).await), 5);
    assert_eq!(error_code(&vk.send(4242, "1", "hi").await), 5);
    assert_eq!(
        vk.a_check(&server, &key, &ts, 0).await,
        json!({"failed": 2})
    );
    assert_eq!(vk.fake.send_calls(GROUP), 0, "not this community's call");
}

#[tokio::test]
async fn form_bodies_queries_and_bearer_tokens_all_work_and_v_is_required() {
    let vk = start().await;
    let by_form = vk.call("groups.getById", &[]).await;
    let group = &by_form["response"]["groups"][0];
    assert_eq!(group["id"], GROUP);
    assert_eq!(group["name"], "Чайная лавка");
    assert_eq!(group["screen_name"], format!("club{GROUP}"));
    assert_eq!(group["type"], "group");
    assert_eq!(group["is_closed"], 0);
    assert_eq!(by_form["response"]["profiles"], json!([]));

    let by_bearer = vk
        .post_form("groups.getById", &form(&[("v", "5.199")]), Some(TOKEN))
        .await;
    assert_eq!(by_bearer, by_form);
    let by_query: Value = vk
        .http
        .get(format!(
            "{}/method/groups.getById?{}",
            vk.running.url(),
            form(&[("access_token", TOKEN), ("v", "5.199")])
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_query, by_form);

    // VK does not read JSON bodies: no `v`, no token.
    let json_body: Value = vk
        .http
        .post(format!("{}/method/groups.getById", vk.running.url()))
        .json(&json!({"access_token": TOKEN, "v": "5.199"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(error_code(&json_body), 8);
    let no_version = vk
        .post_form("groups.getById", &form(&[("access_token", TOKEN)]), None)
        .await;
    assert_eq!(error_code(&no_version), 8);
    assert_eq!(error_code(&vk.call("messages.fly", &[]).await), 3);

    let other_group = vk
        .call("groups.getLongPollServer", &[("group_id", "1")])
        .await;
    assert_eq!(error_code(&other_group), 100);
    let code = vk
        .call(
            "groups.getCallbackConfirmationCode",
            &[("group_id", &GROUP.to_string())],
        )
        .await;
    assert_eq!(code["response"]["code"], CONFIRMATION);
}

#[tokio::test]
async fn cyrillic_and_emoji_go_through_both_ways_unharmed() {
    let vk = start().await;
    let (server, key, ts) = vk.long_poll_server().await;
    let text = "Здравствуйте! Ёжик & «чай» 🍵 = 100%";
    vk.fake.person_writes(GROUP, &anna(), text).unwrap();
    let got = vk.a_check(&server, &key, &ts, 1).await;
    assert_eq!(got["updates"][0]["object"]["message"]["text"], text);

    let users = vk
        .call(
            "users.get",
            &[("user_ids", "4242,999"), ("fields", "screen_name")],
        )
        .await;
    assert_eq!(users["response"][0]["first_name"], "Анна");
    assert_eq!(users["response"][0]["last_name"], "Петрова");
    assert_eq!(users["response"][0]["screen_name"], "id4242");
    assert_eq!(users["response"][0]["can_access_closed"], true);
    assert_eq!(
        users["response"][1]["deactivated"], "deleted",
        "nobody the fake knows"
    );

    let reply = "Добрый день, Анна! Улун «Те Гуань Инь» + 🍵 & 50%";
    assert!(vk.send(4242, "9", reply).await["response"].is_i64());
    assert_eq!(vk.fake.sent(GROUP)[0]["message"], reply);
}

#[tokio::test]
async fn photos_and_documents_point_at_files_the_fake_serves() {
    let vk = start().await;
    // Any request tells the fake its address.
    vk.call("groups.getById", &[]).await;
    let event = vk
        .fake
        .person_sends_photo(GROUP, &anna(), "вот такой")
        .unwrap();
    let message = &event["object"]["message"];
    assert_eq!(message["text"], "вот такой");
    let photo = &message["attachments"][0];
    assert_eq!(photo["type"], "photo");
    let sizes = photo["photo"]["sizes"].as_array().unwrap();
    assert!(sizes.len() >= 2);
    let url = sizes.last().unwrap()["url"].as_str().unwrap();
    assert!(url.starts_with(&vk.running.url()), "{url}");
    let response = vk.http.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert!(response.bytes().await.unwrap().starts_with(b"\x89PNG"));

    let event = vk
        .fake
        .person_sends_doc(GROUP, &anna(), "счёт №5.pdf")
        .unwrap();
    let doc = &event["object"]["message"]["attachments"][0];
    assert_eq!(doc["type"], "doc");
    assert_eq!(doc["doc"]["title"], "счёт №5.pdf");
    assert_eq!(doc["doc"]["ext"], "pdf");
    let response = vk
        .http
        .get(doc["doc"]["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.bytes().await.unwrap().len() as u64,
        doc["doc"]["size"].as_u64().unwrap()
    );
    let missing = vk
        .http
        .get(format!("{}/_fake/vk/files/nothing", vk.running.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn control_routes_drive_the_fake_over_http() {
    let vk = start().await;
    let base = format!("{}/_fake/vk/communities", vk.running.url());
    let made = vk
        .http
        .post(&base)
        .json(&json!({"group_id": 7, "token": "t7", "name": "Кофейня", "confirmation": "c7"}))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    let written = vk
        .http
        .post(format!("{base}/7/messages"))
        .json(
            &json!({"person": {"id": 5, "first_name": "Иван", "last_name": "Орлов"},
                      "text": "фото", "attachment": "photo"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(written.status(), StatusCode::CREATED);
    let event: Value = written.json().await.unwrap();
    assert_eq!(
        event["object"]["message"]["attachments"][0]["type"],
        "photo"
    );
    let throttled = vk
        .http
        .post(format!("{base}/7/throttle"))
        .json(&json!({"count": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(throttled.status(), StatusCode::NO_CONTENT);
    let send = form(&[
        ("access_token", "t7"),
        ("v", "5.199"),
        ("peer_id", "5"),
        ("random_id", "1"),
        ("message", "Здравствуйте"),
    ]);
    assert_eq!(
        error_code(&vk.post_form("messages.send", &send, None).await),
        6
    );
    assert!(vk.post_form("messages.send", &send, None).await["response"].is_i64());

    let state: Value = vk
        .http
        .get(format!("{base}/7"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["name"], "Кофейня");
    assert_eq!(state["send_calls"], 2);
    assert_eq!(state["sent"][0]["message"], "Здравствуйте");
    assert_eq!(state["callback"], Value::Null);
    let page = vk
        .http
        .get(format!("{}/_fake/vk/play/7", vk.running.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("textContent") && !page.contains("innerHTML"));
}

#[tokio::test]
async fn a_fake_started_again_numbers_past_what_it_gave_before() {
    // As `make dev` restarted on a database that keeps the bridge's
    // messages, whose keys hold VK's conversation message ids, and its
    // long poll's ts: a new run of the fake must number past the last one.
    let start_one = || {
        let fake = FakeVk::default();
        fake.make_community(GROUP, TOKEN, "Чайная лавка", CONFIRMATION);
        fake
    };
    let before = start_one();
    let mut last = Value::Null;
    for text in ["one", "two", "three"] {
        last = before.person_writes(GROUP, &anna(), text).unwrap();
    }
    let ts_before = before.long_poll_ts(GROUP);
    // A restart takes at least a second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let after = start_one();
    let first = after.person_writes(GROUP, &anna(), "four").unwrap();
    let number = |event: &Value, field: &str| event["object"]["message"][field].as_i64().unwrap();
    assert!(number(&first, "conversation_message_id") > number(&last, "conversation_message_id"));
    assert!(number(&first, "id") > number(&last, "id"));
    assert!(after.long_poll_ts(GROUP) > ts_before);
}
