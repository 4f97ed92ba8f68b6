//! A fake of VK community messages (API v5.199), as `../shared/CHANNELS.md` describes it.
//!
//! API methods: `POST` or `GET /method/<name>`, parameters form-encoded in
//! the body or in the query (a JSON body is not read, as VK does not), the
//! community's token as `access_token` or `Authorization: Bearer`, `v`
//! required. Answers `{"response":...}`, and every error with HTTP 200 as
//! `{"error":{"error_code","error_msg","request_params"}}` in VK's words:
//! 8 without `v`, 3 for an unknown method, 5 for a missing, unknown or
//! revoked token, 6 when throttled or past 20 calls a second, 100 for a bad
//! parameter. `groups.getById`, `groups.getLongPollServer`,
//! `groups.getCallbackConfirmationCode`, `users.get` (names of the people who
//! wrote) and `messages.send` (`random_id` required and deduplicating per
//! peer, 0 sends every time; 9000 characters at most; 901 for a person who
//! never wrote or forbade messages).
//!
//! Events (`message_new`, our own `message_reply` after each send,
//! `message_deny`, raw ones) are numbered and kept (the last
//! [`KEPT_EVENTS`]) for Bots Long Poll (`GET /whp/<group_id>?act=a_check&key=
//! &ts=&wait=`; `failed` 1/2/3 as VK answers them; an old `ts` reads the
//! events again), and go to the Callback API server once it has answered the
//! `confirmation` event with the community's string: one at a time, in
//! order, each retried with backoff and `X-Retry-Counter` until answered 200
//! `ok`, each with the server's `secret`. As on VK, a server that has not
//! confirmed gets nothing, not even later: events meanwhile are only in the
//! long-poll history.
//!
//! Control routes, for tests and the play page (`/_fake/vk/...`): make a
//! community, have a person write (text, photo or document), deliver a raw
//! event, set or remove the callback server, throttle, deny, revoke, make the
//! next long poll fail, read what the community sent; `files/<name>` serves
//! the attachments' files.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;
use tokio::time::Instant;

pub use crate::telegram::Retries;
use crate::telegram::form_pairs;

/// The API version the fake speaks and stamps on its events.
pub const API_VERSION: &str = "5.199";
/// Longest `message` of `messages.send`, in characters.
pub const MAX_MESSAGE_CHARS: usize = 9000;
/// Calls a community token may make in any one second (VK's limit).
pub const CALLS_PER_SECOND: usize = 20;
/// Events kept for long polls; a `ts` older than these gets `failed: 1`.
pub const KEPT_EVENTS: usize = 1000;
/// The header a retried callback delivery carries its retry number in.
pub const RETRY_COUNTER_HEADER: &str = "X-Retry-Counter";
/// Longest a long poll may wait, and how long it waits without `wait`.
const MAX_WAIT_SECS: u64 = 90;
const DEFAULT_WAIT_SECS: u64 = 25;
/// How long a callback server may take to answer.
const DELIVERY_TIMEOUT_SECS: u64 = 10;
/// Where the fake's files are said to be before any request told it its address.
const FALLBACK_BASE_URL: &str = "http://127.0.0.1";

const AUTH_NO_TOKEN: &str = "User authorization failed: no access_token passed.";
const AUTH_INVALID_TOKEN: &str = "User authorization failed: invalid access_token (4).";
const NO_VERSION: &str = "Invalid request: v is required. Version param should be passed as \"v\". \
                          \"version\" param is invalid and not supported.";
const UNKNOWN_METHOD: &str = "Unknown method passed";
const TOO_MANY_REQUESTS: &str = "Too many requests per second";
const DENIED: &str = "Can't send messages for users without permission";
const TOO_LONG: &str = "Message is too long";

/// The methods the fake knows.
const METHODS: [&str; 5] = [
    "groups.getById",
    "groups.getLongPollServer",
    "groups.getCallbackConfirmationCode",
    "users.get",
    "messages.send",
];

/// A 1×1 PNG: every photo the fake serves.
const PNG_1X1: [u8; 70] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0x60, 0xf8, 0x5f,
    0x0f, 0x00, 0x02, 0x87, 0x01, 0x80, 0xeb, 0x47, 0xba, 0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];
/// Every document the fake serves.
const DOCUMENT: &[u8] = b"%PDF-1.4\n% a document the fake VK serves\n";

/// The fake: every community made on it, shared by its routes.
#[derive(Clone)]
pub struct FakeVk {
    communities: Arc<Mutex<HashMap<i64, Community>>>,
    /// Woken whenever a community gets an event or a long poll must end.
    changed: Arc<Notify>,
    /// Woken when a callback server is set or removed: a delivery waiting to
    /// retry starts over.
    callback_changed: Arc<Notify>,
    /// `http://host:port` as the last request named it: attachments' and the
    /// long-poll server's addresses start with it.
    base_url: Arc<Mutex<Option<String>>>,
    client: reqwest::Client,
    retries: Retries,
    lost_answers: crate::LostAnswers,
}

/// A person on VK.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Person {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
}

struct Community {
    group_id: i64,
    name: String,
    /// `None` once revoked.
    token: Option<String>,
    /// What a callback server must answer to the `confirmation` event.
    confirmation: String,
    callback: Option<CallbackServer>,
    /// How many callback servers were set: each gets the next number.
    callback_generations: u64,
    /// Events for the confirmed callback server, oldest first, each until answered `ok`.
    pending: VecDeque<Value>,
    /// Failed attempts at the front of `pending`: the next attempt's `X-Retry-Counter`.
    retry_counter: u32,
    /// A task is delivering to the callback server.
    delivering: bool,
    /// Deliveries answered `ok`, and attempts answered otherwise.
    delivered: u64,
    delivery_failures: u64,
    /// Confirmations answered with the right string, and the others.
    confirmed: u64,
    refused: u64,
    /// Every event and its number, oldest first: what long polls read.
    history: VecDeque<(u64, Value)>,
    /// The number the next event gets (a long poll's `ts`).
    next_ts: u64,
    /// Long-poll keys given out and not expired.
    keys: HashSet<String>,
    keys_given: u64,
    /// The `failed` codes the next (or the waiting) long polls answer, in turn.
    failing_polls: VecDeque<u8>,
    /// Long polls still to be answered by a broken proxy (502, not JSON).
    broken_polls: u32,
    /// Long polls waiting for events now.
    waiting_polls: u64,
    long_polls: u64,
    /// Names of the people who wrote, for `users.get`.
    people: HashMap<i64, Person>,
    /// Everyone who wrote, named or not (raw events): the community may answer them.
    wrote: HashSet<i64>,
    denied_by: HashSet<i64>,
    /// The next this many calls get error 6.
    throttled: u32,
    /// When the calls of the last second came.
    recent_calls: VecDeque<Instant>,
    sent: Vec<Value>,
    send_calls: u64,
    /// The message each (peer, random_id) produced: a repeat gets its id.
    sent_by_random_id: HashMap<(i64, i64), i64>,
    last_message_id: i64,
    last_conversation_message_id: HashMap<i64, i64>,
    last_version: i64,
    /// Feeds unique event ids, keys and media ids.
    serial: u64,
}

#[derive(Clone)]
struct CallbackServer {
    url: String,
    secret: String,
    state: Confirmation,
    /// Which `set_callback` made it: answers about an earlier server are dropped.
    generation: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Confirmation {
    Waiting,
    Refused,
    Confirmed,
}

/// The next thing to send to a callback server.
enum Step {
    Confirm {
        url: String,
        event: Value,
        expected: String,
        generation: u64,
    },
    Deliver {
        url: String,
        event: Value,
        retry_counter: u32,
        generation: u64,
    },
}

/// What a person attaches to a message.
enum Attachment<'a> {
    Photo,
    Document(&'a str),
}

/// An API error: its code and VK's words for it.
#[derive(Debug)]
struct VkError {
    code: u32,
    message: String,
}

impl VkError {
    fn new(code: u32, message: &str) -> Self {
        Self {
            code,
            message: message.to_owned(),
        }
    }

    /// Error 100, with what was wrong.
    fn invalid(what: &str) -> Self {
        Self::new(
            100,
            &format!("One of the parameters specified was missing or invalid: {what}"),
        )
    }
}

/// An API call: the method, its parameters (query then body, in order) and
/// the bearer token if any.
struct Call {
    method: String,
    params: Vec<(String, String)>,
    bearer: Option<String>,
}

impl Call {
    /// A parameter; the body's wins over the query's.
    fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn token(&self) -> Option<&str> {
        self.get("access_token")
            .filter(|t| !t.is_empty())
            .or(self.bearer.as_deref())
    }

    /// VK's error body: the parameters echoed (never the token), then the
    /// method and `oauth`.
    fn error_body(&self, error: &VkError) -> Value {
        let mut request_params: Vec<Value> = self
            .params
            .iter()
            .filter(|(k, _)| k != "access_token")
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect();
        request_params.push(json!({"key": "method", "value": self.method}));
        request_params.push(json!({"key": "oauth", "value": "1"}));
        json!({"error": {"error_code": error.code, "error_msg": error.message,
                         "request_params": request_params}})
    }
}

impl Default for FakeVk {
    fn default() -> Self {
        Self::new(Retries::default())
    }
}

impl FakeVk {
    pub fn new(retries: Retries) -> Self {
        Self {
            communities: Arc::default(),
            changed: Arc::new(Notify::new()),
            callback_changed: Arc::new(Notify::new()),
            base_url: Arc::default(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(DELIVERY_TIMEOUT_SECS))
                .build()
                .expect("an HTTP client"),
            retries,
            lost_answers: crate::LostAnswers::default(),
        }
    }

    /// While switched on, the bridge's answers to Callback API deliveries
    /// are lost: each delivery is held, then counts as failed.
    pub fn lost_answers(&self) -> &crate::LostAnswers {
        &self.lost_answers
    }

    /// The routes; none clash with the Telegram fake's `/{bot}/{method}` or
    /// the Facebook fake's `/v21.0/...`, so all can share one port.
    pub fn router(self) -> Router {
        let community = "/_fake/vk/communities/{group_id}";
        Router::new()
            .route("/method/{name}", post(call_method).get(call_method))
            .route("/whp/{group_id}", get(check_long_poll))
            .route("/_fake/vk/communities", post(make_community))
            .route(community, get(community_state))
            .route(&format!("{community}/messages"), post(person_writes))
            .route(&format!("{community}/events"), post(raw_event))
            .route(
                &format!("{community}/callback"),
                post(set_callback).delete(remove_callback),
            )
            .route(&format!("{community}/throttle"), post(throttle))
            .route(&format!("{community}/deny"), post(deny))
            .route(&format!("{community}/revoke"), post(revoke))
            .route(
                &format!("{community}/long_poll_failure"),
                post(fail_long_poll),
            )
            .route("/_fake/vk/files/{name}", get(file))
            .route("/_fake/vk/play/{group_id}", get(play_page))
            .layer(middleware::from_fn_with_state(self.clone(), learn_base_url))
            .with_state(self)
    }

    /// Makes (or makes anew) a community with its access token and the
    /// string its Callback API server must answer to `confirmation`.
    pub fn make_community(&self, group_id: i64, token: &str, name: &str, confirmation: &str) {
        self.communities.lock().unwrap().insert(
            group_id,
            Community::new(group_id, token, name, confirmation),
        );
    }

    /// Says where the fake is reached (`http://host:port`), for the addresses
    /// of attachments made before any request told it.
    pub fn set_base_url(&self, url: &str) {
        *self.base_url.lock().unwrap() = Some(url.trim_end_matches('/').to_owned());
    }

    /// As a shop admin does in VK's settings: events go to `url` from now
    /// on, once it answers the `confirmation` event (sent now, once: call
    /// again to confirm again) with the community's string. Events before
    /// that are not sent to it.
    pub fn set_callback(&self, group_id: i64, url: &str, secret: &str) {
        {
            let mut communities = self.communities.lock().unwrap();
            let Some(community) = communities.get_mut(&group_id) else {
                return;
            };
            community.callback_generations += 1;
            community.callback = Some(CallbackServer {
                url: url.to_owned(),
                secret: secret.to_owned(),
                state: Confirmation::Waiting,
                generation: community.callback_generations,
            });
            community.pending.clear();
            community.retry_counter = 0;
        }
        self.callback_changed.notify_waiters();
        self.spawn_delivery(group_id);
    }

    /// Removes the callback server; what it was not yet sent is dropped.
    pub fn remove_callback(&self, group_id: i64) {
        if let Some(community) = self.communities.lock().unwrap().get_mut(&group_id) {
            community.callback = None;
            community.pending.clear();
            community.retry_counter = 0;
        }
        self.callback_changed.notify_waiters();
    }

    /// Whether the callback server answered its confirmation rightly.
    pub fn callback_confirmed(&self, group_id: i64) -> bool {
        self.with_community(group_id, |c| {
            c.callback
                .as_ref()
                .is_some_and(|s| s.state == Confirmation::Confirmed)
        })
        .unwrap_or(false)
    }

    /// Confirmations answered with the right string, and the others.
    pub fn confirmations(&self, group_id: i64) -> (u64, u64) {
        self.with_community(group_id, |c| (c.confirmed, c.refused))
            .unwrap_or_default()
    }

    /// A person writes `text` to the community; returns the event (as long
    /// polls get it: without `secret`).
    pub fn person_writes(&self, group_id: i64, person: &Person, text: &str) -> Option<Value> {
        self.person_sends(group_id, person, text, None)
    }

    /// A person sends a photo with `caption` as the message's text; its
    /// sizes' `url`s are served by the fake.
    pub fn person_sends_photo(
        &self,
        group_id: i64,
        person: &Person,
        caption: &str,
    ) -> Option<Value> {
        self.person_sends(group_id, person, caption, Some(Attachment::Photo))
    }

    /// A person sends a document named `title`; its `url` is served by the fake.
    pub fn person_sends_doc(&self, group_id: i64, person: &Person, title: &str) -> Option<Value> {
        self.person_sends(group_id, person, "", Some(Attachment::Document(title)))
    }

    fn person_sends(
        &self,
        group_id: i64,
        person: &Person,
        text: &str,
        attachment: Option<Attachment>,
    ) -> Option<Value> {
        let base_url = self.base_url();
        let mut communities = self.communities.lock().unwrap();
        let community = communities.get_mut(&group_id)?;
        community.people.insert(person.id, person.clone());
        community.wrote.insert(person.id);
        let attachments = match attachment {
            None => vec![],
            Some(Attachment::Photo) => vec![community.photo(person.id, &base_url)],
            Some(Attachment::Document(title)) => {
                vec![community.document(person.id, title, &base_url)]
            }
        };
        let message = community.new_message(person.id, person.id, text, 0, attachments);
        let event = community.record(
            "message_new",
            json!({"message": message, "client_info": client_info()}),
        );
        drop(communities);
        self.after_event(group_id);
        Some(event)
    }

    /// Delivers `event` as it is (the same `event_id` twice, unknown types,
    /// `message_typing_state`...). The callback server's `secret` is added
    /// when the event has none; long polls get it untouched.
    pub fn raw_event(&self, group_id: i64, event: Value) -> bool {
        let mut communities = self.communities.lock().unwrap();
        let Some(community) = communities.get_mut(&group_id) else {
            return false;
        };
        if event["type"] == "message_new"
            && let Some(from_id) = event["object"]["message"]["from_id"].as_i64()
        {
            community.wrote.insert(from_id);
        }
        community.push_event(event);
        drop(communities);
        self.after_event(group_id);
        true
    }

    /// The `messages.send` calls that produced a message, oldest first:
    /// `{id, peer_id, random_id, message, date, attachment?}`.
    pub fn sent(&self, group_id: i64) -> Vec<Value> {
        self.with_community(group_id, |c| c.sent.clone())
            .unwrap_or_default()
    }

    /// Every `messages.send` call with the community's token, answered or refused.
    pub fn send_calls(&self, group_id: i64) -> u64 {
        self.with_community(group_id, |c| c.send_calls)
            .unwrap_or_default()
    }

    /// The next `count` API calls with the community's token get error 6.
    pub fn throttle(&self, group_id: i64, count: u32) {
        self.with_community(group_id, |c| c.throttled = count);
    }

    /// The person forbids messages from the community (a `message_deny`
    /// event): `messages.send` to them gets error 901 from now on.
    pub fn deny(&self, group_id: i64, person_id: i64) {
        let denied = self
            .with_community(group_id, |c| {
                let newly = c.denied_by.insert(person_id);
                if newly {
                    c.record("message_deny", json!({"user_id": person_id}));
                }
                newly
            })
            .unwrap_or(false);
        if denied {
            self.after_event(group_id);
        }
    }

    /// The token stops working (error 5 for every call) and its long-poll
    /// keys expire.
    pub fn revoke(&self, group_id: i64) {
        self.with_community(group_id, |c| {
            c.token = None;
            c.keys.clear();
        });
        self.changed.notify_waiters();
    }

    /// The next long poll (or the one waiting now) answers `{"failed":1,
    /// "ts":<newest>}` (events till now are lost to it), `{"failed":2}` (its
    /// key expires; the ts stays good) or `{"failed":3}` (its key expires;
    /// get a new key and ts). Called again before then, the poll after it
    /// fails too.
    pub fn fail_long_poll(&self, group_id: i64, failed: u8) {
        if !(1..=3).contains(&failed) {
            return;
        }
        self.with_community(group_id, |c| c.failing_polls.push_back(failed));
        self.changed.notify_waiters();
    }

    /// The next `count` long polls of the community are answered as a broken
    /// proxy in front of the long-poll server would: 502 with an HTML page,
    /// not JSON.
    pub fn break_long_poll(&self, group_id: i64, count: u32) {
        self.with_community(group_id, |c| c.broken_polls += count);
        self.changed.notify_waiters();
    }

    /// The long-poll keys given out so far, which must never be shown or logged.
    pub fn long_poll_keys(&self, group_id: i64) -> Vec<String> {
        self.with_community(group_id, |c| c.keys.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Long polls of the community waiting for events now.
    pub fn long_polls_waiting(&self, group_id: i64) -> u64 {
        self.with_community(group_id, |c| c.waiting_polls)
            .unwrap_or_default()
    }

    /// Long-poll keys given out so far (groups.getLongPollServer calls).
    pub fn long_poll_keys_given(&self, group_id: i64) -> u64 {
        self.with_community(group_id, |c| c.keys_given)
            .unwrap_or_default()
    }

    /// The ts the next event will have (what a new long poll starts from).
    pub fn long_poll_ts(&self, group_id: i64) -> u64 {
        self.with_community(group_id, |c| c.next_ts)
            .unwrap_or_default()
    }

    /// Long polls (`a_check`) answered so far.
    pub fn long_polls(&self, group_id: i64) -> u64 {
        self.with_community(group_id, |c| c.long_polls)
            .unwrap_or_default()
    }

    /// Callback deliveries answered 200 `ok`, and attempts that were not
    /// (confirmations not counted: see [`FakeVk::confirmations`]).
    pub fn deliveries(&self, group_id: i64) -> (u64, u64) {
        self.with_community(group_id, |c| (c.delivered, c.delivery_failures))
            .unwrap_or_default()
    }

    fn with_community<T>(&self, group_id: i64, f: impl FnOnce(&mut Community) -> T) -> Option<T> {
        self.communities.lock().unwrap().get_mut(&group_id).map(f)
    }

    fn base_url(&self) -> String {
        self.base_url
            .lock()
            .unwrap()
            .clone()
            .unwrap_or_else(|| FALLBACK_BASE_URL.to_owned())
    }

    fn after_event(&self, group_id: i64) {
        self.changed.notify_waiters();
        self.spawn_delivery(group_id);
    }

    /// Sends the community's callback server its confirmation, then its
    /// pending events one at a time and in order, each until answered 200
    /// `ok` (or the server is removed or replaced). One task per community:
    /// a second call while one runs does nothing.
    fn spawn_delivery(&self, group_id: i64) {
        {
            let mut communities = self.communities.lock().unwrap();
            let Some(community) = communities.get_mut(&group_id) else {
                return;
            };
            if community.delivering || community.callback.is_none() {
                return;
            }
            community.delivering = true;
        }
        let fake = self.clone();
        tokio::spawn(async move {
            let mut delay = fake.retries.first;
            while let Some(step) = fake.next_step(group_id) {
                // Made before sending, so a change meanwhile is not missed.
                let callback_changed = fake.callback_changed.notified();
                let succeeded = match step {
                    Step::Confirm {
                        url,
                        event,
                        expected,
                        generation,
                    } => {
                        let answer = fake.post(&url, &event, 0).await;
                        let confirmed = answer.is_some_and(|(status, body)| {
                            status == StatusCode::OK && body == expected
                        });
                        fake.confirmed(group_id, generation, confirmed);
                        // A refused server gets nothing more: no backoff to wait.
                        true
                    }
                    Step::Deliver {
                        url,
                        event,
                        retry_counter,
                        generation,
                    } => {
                        let answer = fake.post(&url, &event, retry_counter).await;
                        let ok = answer
                            .is_some_and(|(status, body)| status == StatusCode::OK && body == "ok")
                            && !fake.lost_answers.lose().await;
                        fake.delivered(group_id, generation, &event, ok);
                        ok
                    }
                };
                if succeeded {
                    delay = fake.retries.first;
                    continue;
                }
                tokio::select! {
                    () = tokio::time::sleep(delay) => {
                        delay = (delay * 2).min(fake.retries.cap);
                    }
                    () = callback_changed => delay = fake.retries.first,
                }
            }
        });
    }

    /// What to send the callback server next; `None` (and the community's
    /// delivery task ends) when there is nothing.
    fn next_step(&self, group_id: i64) -> Option<Step> {
        let mut communities = self.communities.lock().unwrap();
        let community = communities.get_mut(&group_id)?;
        let step = community
            .callback
            .as_ref()
            .and_then(|server| match server.state {
                Confirmation::Waiting => Some(Step::Confirm {
                    url: server.url.clone(),
                    event: with_secret(
                        json!({"type": "confirmation", "group_id": group_id}),
                        &server.secret,
                    ),
                    expected: community.confirmation.clone(),
                    generation: server.generation,
                }),
                Confirmation::Refused => None,
                Confirmation::Confirmed => community.pending.front().map(|event| Step::Deliver {
                    url: server.url.clone(),
                    event: event.clone(),
                    retry_counter: community.retry_counter,
                    generation: server.generation,
                }),
            });
        if step.is_none() {
            community.delivering = false;
        }
        step
    }

    /// POSTs `event` as JSON; the status and body of the answer, if any came.
    async fn post(
        &self,
        url: &str,
        event: &Value,
        retry_counter: u32,
    ) -> Option<(StatusCode, String)> {
        let mut request = self.client.post(url).json(event);
        if retry_counter > 0 {
            request = request.header(RETRY_COUNTER_HEADER, retry_counter.to_string());
        }
        let response = request.send().await.ok()?;
        let status = response.status();
        Some((status, response.text().await.unwrap_or_default()))
    }

    fn confirmed(&self, group_id: i64, generation: u64, confirmed: bool) {
        self.with_community(group_id, |c| {
            let Some(server) = c.callback.as_mut().filter(|s| s.generation == generation) else {
                return;
            };
            if confirmed {
                server.state = Confirmation::Confirmed;
                c.confirmed += 1;
            } else {
                server.state = Confirmation::Refused;
                c.refused += 1;
            }
        });
    }

    fn delivered(&self, group_id: i64, generation: u64, event: &Value, ok: bool) {
        self.with_community(group_id, |c| {
            if c.callback.as_ref().map(|s| s.generation) != Some(generation) {
                return;
            }
            if !ok {
                c.delivery_failures += 1;
                c.retry_counter += 1;
                return;
            }
            c.delivered += 1;
            c.retry_counter = 0;
            if c.pending.front() == Some(event) {
                c.pending.pop_front();
            }
        });
    }

    /// Answers an API call, or VK's error for it.
    fn call(&self, call: &Call) -> Result<Value, VkError> {
        if call.get("v").is_none_or(str::is_empty) {
            return Err(VkError::new(8, NO_VERSION));
        }
        let method = call.method.as_str();
        if !METHODS.contains(&method) {
            return Err(VkError::new(3, UNKNOWN_METHOD));
        }
        let token = call.token().ok_or_else(|| VkError::new(5, AUTH_NO_TOKEN))?;
        let base_url = self.base_url();
        let mut communities = self.communities.lock().unwrap();
        let group_id = communities
            .values()
            .find(|c| c.token.as_deref() == Some(token))
            .map(|c| c.group_id)
            .ok_or_else(|| VkError::new(5, AUTH_INVALID_TOKEN))?;
        let community = communities.get_mut(&group_id).expect("found above");
        if method == "messages.send" {
            community.send_calls += 1;
        }
        community.admit_call()?;
        let answer = match method {
            "groups.getById" => groups_by_id(&communities, group_id, call, &base_url),
            "groups.getLongPollServer" => community.long_poll_server(call, &base_url),
            "groups.getCallbackConfirmationCode" => community
                .check_group_id(call)
                .map(|()| json!({"code": community.confirmation})),
            "users.get" => Ok(community.users(call, &base_url)),
            _ => community.send(call),
        };
        drop(communities);
        if method == "messages.send" && answer.is_ok() {
            self.after_event(group_id);
        }
        answer
    }

    /// One look at a long poll: its answer, or `None` to keep waiting.
    fn check_long_poll(
        &self,
        group_id: i64,
        key: &str,
        ts: &str,
        timed_out: bool,
    ) -> Option<Value> {
        let mut communities = self.communities.lock().unwrap();
        let Some(community) = communities.get_mut(&group_id) else {
            return Some(json!({"failed": 2}));
        };
        let answer = community.check_long_poll(key, ts, timed_out);
        if answer.is_some() {
            community.long_polls += 1;
        }
        answer
    }
}

impl Community {
    fn new(group_id: i64, token: &str, name: &str, confirmation: &str) -> Self {
        Self {
            group_id,
            name: name.to_owned(),
            token: Some(token.to_owned()),
            confirmation: confirmation.to_owned(),
            callback: None,
            callback_generations: 0,
            pending: VecDeque::new(),
            retry_counter: 0,
            delivering: false,
            delivered: 0,
            delivery_failures: 0,
            confirmed: 0,
            refused: 0,
            history: VecDeque::new(),
            next_ts: u64::try_from(crate::first_number()).unwrap_or(1),
            keys: HashSet::new(),
            keys_given: 0,
            failing_polls: VecDeque::new(),
            broken_polls: 0,
            waiting_polls: 0,
            long_polls: 0,
            people: HashMap::new(),
            wrote: HashSet::new(),
            denied_by: HashSet::new(),
            throttled: 0,
            recent_calls: VecDeque::new(),
            sent: Vec::new(),
            send_calls: 0,
            sent_by_random_id: HashMap::new(),
            last_message_id: crate::first_number(),
            last_conversation_message_id: HashMap::new(),
            last_version: 10_000_000,
            serial: 0,
        }
    }

    /// 40 hex characters no other call gives (event ids, long-poll keys).
    fn unique_hex(&mut self, what: &str) -> String {
        self.serial += 1;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let digest = Sha256::digest(format!("{what}:{}:{}:{nanos}", self.group_id, self.serial));
        hex::encode(digest)[..40].to_owned()
    }

    /// Makes an event of `kind` about `object`, numbers and queues it;
    /// returns it as long polls get it.
    fn record(&mut self, kind: &str, object: Value) -> Value {
        let event = json!({
            "type": kind,
            "object": object,
            "group_id": self.group_id,
            "event_id": self.unique_hex("event"),
            "v": API_VERSION,
        });
        self.push_event(event.clone());
        event
    }

    /// Numbers `event` for long polls (forgetting the oldest past
    /// [`KEPT_EVENTS`]) and queues it for a confirmed callback server.
    fn push_event(&mut self, event: Value) {
        if let Some(server) = &self.callback
            && server.state == Confirmation::Confirmed
        {
            self.pending
                .push_back(with_secret(event.clone(), &server.secret));
        }
        self.history.push_back((self.next_ts, event));
        self.next_ts += 1;
        while self.history.len() > KEPT_EVENTS {
            self.history.pop_front();
        }
    }

    /// A message in the dialog with `peer_id`, from the person (`from_id`
    /// = `peer_id`) or from the community (`from_id` = -group id, `out` 1).
    fn new_message(
        &mut self,
        peer_id: i64,
        from_id: i64,
        text: &str,
        random_id: i64,
        attachments: Vec<Value>,
    ) -> Value {
        self.last_message_id += 1;
        self.last_version += 1;
        let conversation_message_id = self
            .last_conversation_message_id
            .entry(peer_id)
            .or_insert_with(crate::first_number);
        *conversation_message_id += 1;
        json!({
            "date": chrono::Utc::now().timestamp(),
            "from_id": from_id,
            "id": self.last_message_id,
            "out": i32::from(from_id < 0),
            "version": self.last_version,
            "attachments": attachments,
            "conversation_message_id": *conversation_message_id,
            "fwd_messages": [],
            "important": false,
            "is_hidden": false,
            "peer_id": peer_id,
            "random_id": random_id,
            "text": text,
        })
    }

    fn next_media_id(&mut self) -> i64 {
        self.serial += 1;
        457_239_000 + self.serial as i64
    }

    fn photo(&mut self, owner_id: i64, base_url: &str) -> Value {
        let id = self.next_media_id();
        let sizes: Vec<Value> = [("s", 75), ("m", 130), ("x", 604)]
            .into_iter()
            .map(|(kind, side)| {
                json!({"type": kind, "width": side, "height": side,
                       "url": format!("{base_url}/_fake/vk/files/photo{owner_id}_{id}_{kind}.png")})
            })
            .collect();
        json!({"type": "photo", "photo": {
            "id": id, "owner_id": owner_id, "album_id": -3,
            "date": chrono::Utc::now().timestamp(),
            "access_key": self.unique_hex("photo")[..18].to_owned(),
            "sizes": sizes, "text": "", "has_tags": false,
        }})
    }

    fn document(&mut self, owner_id: i64, title: &str, base_url: &str) -> Value {
        let id = self.next_media_id();
        let ext = title
            .rsplit_once('.')
            .map(|(_, ext)| ext.to_ascii_lowercase())
            .unwrap_or_default();
        // VK's document types: 1 text, 2 archive, 3 gif, 4 image, 5 audio,
        // 6 video, 8 unknown.
        let kind = match ext.as_str() {
            "txt" | "pdf" | "doc" | "docx" | "odt" | "rtf" => 1,
            "zip" | "rar" | "7z" => 2,
            "gif" => 3,
            "png" | "jpg" | "jpeg" | "webp" => 4,
            "mp3" | "ogg" | "wav" => 5,
            "mp4" | "avi" | "mov" => 6,
            _ => 8,
        };
        let file = format!("doc{owner_id}_{id}_{}", encode_path_segment(title));
        json!({"type": "doc", "doc": {
            "id": id, "owner_id": owner_id, "title": title, "size": DOCUMENT.len(),
            "ext": ext, "date": chrono::Utc::now().timestamp(), "type": kind,
            "url": format!("{base_url}/_fake/vk/files/{file}"),
            "access_key": self.unique_hex("doc")[..18].to_owned(),
        }})
    }

    /// Throttling, then VK's limit of calls a second.
    fn admit_call(&mut self) -> Result<(), VkError> {
        if self.throttled > 0 {
            self.throttled -= 1;
            return Err(VkError::new(6, TOO_MANY_REQUESTS));
        }
        let now = Instant::now();
        while self
            .recent_calls
            .front()
            .is_some_and(|at| now.duration_since(*at) >= Duration::from_secs(1))
        {
            self.recent_calls.pop_front();
        }
        if self.recent_calls.len() >= CALLS_PER_SECOND {
            return Err(VkError::new(6, TOO_MANY_REQUESTS));
        }
        self.recent_calls.push_back(now);
        Ok(())
    }

    /// `group_id` must be given and be this community's.
    fn check_group_id(&self, call: &Call) -> Result<(), VkError> {
        match call.get("group_id").map(str::trim) {
            None | Some("") => Err(VkError::invalid("group_id is undefined")),
            Some(id) if id.trim_start_matches('-').parse::<i64>() == Ok(self.group_id) => Ok(()),
            Some(_) => Err(VkError::invalid("group_id is invalid")),
        }
    }

    /// A new key (earlier ones stay good) and the current ts.
    fn long_poll_server(&mut self, call: &Call, base_url: &str) -> Result<Value, VkError> {
        self.check_group_id(call)?;
        let key = self.unique_hex("key");
        self.keys.insert(key.clone());
        self.keys_given += 1;
        Ok(json!({
            "key": key,
            "server": format!("{base_url}/whp/{}", self.group_id),
            "ts": self.next_ts.to_string(),
        }))
    }

    fn users(&self, call: &Call, base_url: &str) -> Value {
        let fields: Vec<&str> = call
            .get("fields")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .collect();
        let users: Vec<Value> = call
            .get("user_ids")
            .or_else(|| call.get("user_id"))
            .unwrap_or_default()
            .split(',')
            .filter_map(|id| id.trim().trim_start_matches("id").parse::<i64>().ok())
            .map(|id| {
                let Some(person) = self.people.get(&id) else {
                    // Someone the fake knows nothing of: as VK shows a deleted page.
                    return json!({"id": id, "first_name": "DELETED", "last_name": "",
                                  "deactivated": "deleted"});
                };
                let mut user = json!({
                    "id": id, "first_name": person.first_name, "last_name": person.last_name,
                    "can_access_closed": true, "is_closed": false,
                });
                for field in &fields {
                    match *field {
                        "screen_name" | "domain" => user[*field] = json!(format!("id{id}")),
                        "photo_50" | "photo_100" | "photo_200" => {
                            user[*field] =
                                json!(format!("{base_url}/_fake/vk/files/user{id}_{field}.png"));
                        }
                        _ => {}
                    }
                }
                user
            })
            .collect();
        Value::Array(users)
    }

    fn send(&mut self, call: &Call) -> Result<Value, VkError> {
        let peer_id = call
            .get("peer_id")
            .or_else(|| call.get("user_id"))
            .and_then(|p| p.trim().parse::<i64>().ok())
            .ok_or_else(|| {
                VkError::invalid(
                    "you should specify peer_id, user_id, domain, chat_id or user_ids param",
                )
            })?;
        let random_id = call
            .get("random_id")
            .and_then(|r| r.trim().parse::<i64>().ok())
            .ok_or_else(|| VkError::invalid("random_id is a required parameter"))?;
        // VK's deduplication: the message this random_id already made (0 makes a new one each time).
        if random_id != 0
            && let Some(id) = self.sent_by_random_id.get(&(peer_id, random_id))
        {
            return Ok(json!(id));
        }
        let text = call.get("message").unwrap_or_default();
        let attachment = call.get("attachment").unwrap_or_default().trim();
        if text.trim().is_empty() && attachment.is_empty() {
            return Err(VkError::invalid("message is empty or invalid"));
        }
        if text.chars().count() > MAX_MESSAGE_CHARS {
            return Err(VkError::new(914, TOO_LONG));
        }
        if !self.wrote.contains(&peer_id) || self.denied_by.contains(&peer_id) {
            return Err(VkError::new(901, DENIED));
        }
        let message = self.new_message(peer_id, -self.group_id, text, random_id, vec![]);
        let id = message["id"].as_i64().unwrap_or_default();
        if random_id != 0 {
            self.sent_by_random_id.insert((peer_id, random_id), id);
        }
        let mut sent = json!({"id": id, "peer_id": peer_id, "random_id": random_id,
                              "message": text, "date": message["date"]});
        if !attachment.is_empty() {
            sent["attachment"] = json!(attachment);
        }
        self.sent.push(sent);
        // VK tells the community's servers of its own message too.
        self.record("message_reply", message);
        Ok(json!(id))
    }

    /// A long poll's answer, or `None` while it should wait.
    fn check_long_poll(&mut self, key: &str, ts: &str, timed_out: bool) -> Option<Value> {
        if !self.keys.contains(key) {
            return Some(json!({"failed": 2}));
        }
        if let Some(failed) = self.failing_polls.pop_front() {
            if failed == 1 {
                // A number here, a string in ordinary answers, as VK does.
                return Some(json!({"failed": 1, "ts": self.next_ts}));
            }
            self.keys.remove(key);
            return Some(json!({"failed": failed}));
        }
        let oldest = self.history.front().map_or(self.next_ts, |(n, _)| *n);
        let ts = match ts.trim().parse::<u64>() {
            Ok(ts) if ts <= self.next_ts => ts,
            // Garbage or ahead of the newest event.
            _ => return Some(json!({"failed": 1, "ts": self.next_ts})),
        };
        if ts < oldest {
            // History lost: go on from what is kept.
            return Some(json!({"failed": 1, "ts": oldest}));
        }
        let updates: Vec<Value> = self
            .history
            .iter()
            .filter(|(n, _)| *n >= ts)
            .map(|(_, event)| event.clone())
            .collect();
        if updates.is_empty() && !timed_out {
            return None;
        }
        Some(json!({"ts": self.next_ts.to_string(), "updates": updates}))
    }
}

/// `groups.getById`: the token's community, or the ones asked for that exist.
fn groups_by_id(
    communities: &HashMap<i64, Community>,
    own: i64,
    call: &Call,
    base_url: &str,
) -> Result<Value, VkError> {
    let asked = call
        .get("group_ids")
        .or_else(|| call.get("group_id"))
        .unwrap_or_default();
    let ids: Vec<i64> = if asked.trim().is_empty() {
        vec![own]
    } else {
        asked
            .split(',')
            .filter_map(|id| {
                let id = id.trim();
                let id = id
                    .strip_prefix("club")
                    .or_else(|| id.strip_prefix("public"))
                    .unwrap_or(id);
                id.trim_start_matches('-').parse::<i64>().ok()
            })
            .filter(|id| communities.contains_key(id))
            .collect()
    };
    if ids.is_empty() {
        return Err(VkError::invalid("group_ids is undefined"));
    }
    let groups: Vec<Value> = ids
        .iter()
        .filter_map(|id| communities.get(id))
        .map(|c| {
            let id = c.group_id;
            let photo = |side: u32| format!("{base_url}/_fake/vk/files/club{id}_{side}.png");
            json!({"id": id, "name": c.name, "screen_name": format!("club{id}"),
                   "is_closed": 0, "type": "group",
                   "photo_50": photo(50), "photo_100": photo(100), "photo_200": photo(200)})
        })
        .collect();
    Ok(json!({"groups": groups, "profiles": []}))
}

/// What VK says of the person's app in every `message_new`.
fn client_info() -> Value {
    json!({
        "button_actions": ["text", "vkpay", "open_app", "location", "open_link", "callback",
                           "intent_subscribe", "intent_unsubscribe"],
        "keyboard": true,
        "inline_keyboard": true,
        "carousel": true,
        "lang_id": 0,
    })
}

/// `event` with the callback server's `secret`, unless it has one (or there is none).
fn with_secret(mut event: Value, secret: &str) -> Value {
    if !secret.is_empty()
        && let Some(fields) = event.as_object_mut()
    {
        fields
            .entry("secret")
            .or_insert_with(|| Value::String(secret.to_owned()));
    }
    event
}

fn encode_path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Remembers the address requests reach the fake at.
async fn learn_base_url(State(fake): State<FakeVk>, request: Request, next: Next) -> Response {
    if let Some(host) = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
    {
        *fake.base_url.lock().unwrap() = Some(format!("http://{host}"));
    }
    next.run(request).await
}

async fn call_method(
    State(fake): State<FakeVk>,
    Path(method): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Json<Value> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut params = query;
    if !body.is_empty()
        && (content_type.is_empty()
            || content_type.starts_with("application/x-www-form-urlencoded"))
    {
        params.extend(form_pairs(&body));
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let call = Call {
        method,
        params,
        bearer,
    };
    Json(match fake.call(&call) {
        Ok(response) => json!({"response": response}),
        Err(error) => call.error_body(&error),
    })
}

/// A long poll counted as waiting while it lives.
struct WaitingPoll {
    fake: FakeVk,
    group_id: i64,
}

impl WaitingPoll {
    fn new(fake: &FakeVk, group_id: i64) -> Self {
        fake.with_community(group_id, |c| c.waiting_polls += 1);
        Self {
            fake: fake.clone(),
            group_id,
        }
    }
}

impl Drop for WaitingPoll {
    fn drop(&mut self) {
        self.fake
            .with_community(self.group_id, |c| c.waiting_polls -= 1);
    }
}

/// Bots Long Poll: `?act=a_check&key=&ts=&wait=`.
async fn check_long_poll(
    State(fake): State<FakeVk>,
    Path(group_id): Path<i64>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if query.get("act").map(String::as_str) != Some("a_check") {
        return (StatusCode::BAD_REQUEST, "act must be a_check").into_response();
    }
    let key = query.get("key").cloned().unwrap_or_default();
    let ts = query.get("ts").cloned().unwrap_or_default();
    let wait = query
        .get("wait")
        .and_then(|w| w.parse().ok())
        .unwrap_or(DEFAULT_WAIT_SECS)
        .min(MAX_WAIT_SECS);
    let deadline = Instant::now() + Duration::from_secs(wait);
    let _waiting = WaitingPoll::new(&fake, group_id);
    loop {
        let woken = fake.changed.notified();
        // A poll already waiting breaks too, as its proxy's connection would.
        let broken = fake.with_community(group_id, |c| {
            let broken = c.broken_polls > 0;
            if broken {
                c.broken_polls -= 1;
                c.long_polls += 1;
            }
            broken
        });
        if broken == Some(true) {
            let page = "<html><body><h1>502 Bad Gateway</h1></body></html>";
            return (StatusCode::BAD_GATEWAY, Html(page)).into_response();
        }
        let timed_out = Instant::now() >= deadline;
        if let Some(answer) = fake.check_long_poll(group_id, &key, &ts, timed_out) {
            return Json(answer).into_response();
        }
        // Woken or timed out: look again.
        let _ = tokio::time::timeout_at(deadline, woken).await;
    }
}

#[derive(serde::Deserialize)]
struct NewCommunity {
    group_id: i64,
    token: String,
    name: String,
    confirmation: String,
}

async fn make_community(State(fake): State<FakeVk>, Json(new): Json<NewCommunity>) -> StatusCode {
    fake.make_community(new.group_id, &new.token, &new.name, &new.confirmation);
    StatusCode::CREATED
}

async fn community_state(State(fake): State<FakeVk>, Path(group_id): Path<i64>) -> Response {
    let communities = fake.communities.lock().unwrap();
    let Some(c) = communities.get(&group_id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let callback = c.callback.as_ref().map(|server| {
        let state = match server.state {
            Confirmation::Waiting => "waiting",
            Confirmation::Refused => "refused",
            Confirmation::Confirmed => "confirmed",
        };
        json!({"url": server.url, "confirmation": state})
    });
    Json(json!({
        "group_id": c.group_id,
        "name": c.name,
        "screen_name": format!("club{}", c.group_id),
        "revoked": c.token.is_none(),
        "callback": callback,
        "pending": c.pending.len(),
        "delivered": c.delivered,
        "delivery_failures": c.delivery_failures,
        "confirmations": {"confirmed": c.confirmed, "refused": c.refused},
        "events": c.history.len(),
        "ts": c.next_ts,
        "long_polls": c.long_polls,
        "sent": c.sent,
        "send_calls": c.send_calls,
    }))
    .into_response()
}

#[derive(serde::Deserialize)]
struct Written {
    person: Person,
    #[serde(default)]
    text: String,
    /// `photo` (the text is its caption) or `doc` (the text is its title).
    #[serde(default)]
    attachment: Option<String>,
}

async fn person_writes(
    State(fake): State<FakeVk>,
    Path(group_id): Path<i64>,
    Json(written): Json<Written>,
) -> Response {
    let person = &written.person;
    let event = match written.attachment.as_deref() {
        None | Some("") => fake.person_writes(group_id, person, &written.text),
        Some("photo") => fake.person_sends_photo(group_id, person, &written.text),
        Some("doc") => {
            let title = match written.text.trim() {
                "" => "document.pdf",
                title => title,
            };
            fake.person_sends_doc(group_id, person, title)
        }
        Some(_) => return (StatusCode::BAD_REQUEST, "attachment: photo or doc").into_response(),
    };
    match event {
        Some(event) => (StatusCode::CREATED, Json(event)).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn raw_event(
    State(fake): State<FakeVk>,
    Path(group_id): Path<i64>,
    Json(event): Json<Value>,
) -> StatusCode {
    match fake.raw_event(group_id, event) {
        true => StatusCode::CREATED,
        false => StatusCode::NOT_FOUND,
    }
}

#[derive(serde::Deserialize)]
struct CallbackIn {
    url: String,
    #[serde(default)]
    secret: String,
}

async fn set_callback(
    State(fake): State<FakeVk>,
    Path(group_id): Path<i64>,
    Json(callback): Json<CallbackIn>,
) -> StatusCode {
    fake.set_callback(group_id, &callback.url, &callback.secret);
    StatusCode::NO_CONTENT
}

async fn remove_callback(State(fake): State<FakeVk>, Path(group_id): Path<i64>) -> StatusCode {
    fake.remove_callback(group_id);
    StatusCode::NO_CONTENT
}

#[derive(serde::Deserialize)]
struct Throttle {
    count: u32,
}

async fn throttle(
    State(fake): State<FakeVk>,
    Path(group_id): Path<i64>,
    Json(t): Json<Throttle>,
) -> StatusCode {
    fake.throttle(group_id, t.count);
    StatusCode::NO_CONTENT
}

#[derive(serde::Deserialize)]
struct Deny {
    person_id: i64,
}

async fn deny(
    State(fake): State<FakeVk>,
    Path(group_id): Path<i64>,
    Json(d): Json<Deny>,
) -> StatusCode {
    fake.deny(group_id, d.person_id);
    StatusCode::NO_CONTENT
}

async fn revoke(State(fake): State<FakeVk>, Path(group_id): Path<i64>) -> StatusCode {
    fake.revoke(group_id);
    StatusCode::NO_CONTENT
}

#[derive(serde::Deserialize)]
struct LongPollFailure {
    failed: u8,
}

async fn fail_long_poll(
    State(fake): State<FakeVk>,
    Path(group_id): Path<i64>,
    Json(f): Json<LongPollFailure>,
) -> StatusCode {
    if !(1..=3).contains(&f.failed) {
        return StatusCode::BAD_REQUEST;
    }
    fake.fail_long_poll(group_id, f.failed);
    StatusCode::NO_CONTENT
}

/// The files attachments point at: a tiny PNG for photos (and avatars), a
/// few bytes for documents.
async fn file(Path(name): Path<String>) -> Response {
    if name.ends_with(".png") {
        return ([(header::CONTENT_TYPE, "image/png")], &PNG_1X1[..]).into_response();
    }
    if !name.starts_with("doc") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let content_type = match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("pdf") => "application/pdf",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
    ([(header::CONTENT_TYPE, content_type)], DOCUMENT).into_response()
}

/// A page where a person plays a VK user writing to the community.
async fn play_page(Path(_group_id): Path<i64>) -> Html<&'static str> {
    Html(include_str!("vk_play.html"))
}
