//! A fake of the Facebook Messenger Platform (Graph API v21.0), as
//! `../shared/CHANNELS.md` describes it.
//!
//! Graph API (`/v21.0/...`), the page token as `access_token` (query, form
//! or JSON body) or `Authorization: Bearer`, an `appsecret_proof` checked
//! when given: `GET /me` (the token check), `GET /{psid}?fields=` (a
//! profile: `first_name`, `last_name`, `name`, `profile_pic`, `id`), `POST
//! /me/messages` (the Send API: `messaging_type` required, 2000 characters
//! at most, only to people who wrote, within 24 hours of their last message
//! or 7 days with the `HUMAN_AGENT` tag; `sender_action` too). Errors as
//! Graph gives them: `{"error":{"message","type":"OAuthException","code",
//! "error_subcode"?,"is_transient"?,"fbtrace_id"}}`, HTTP 400 (500 for the
//! temporary codes 2 and 1200): 190 for a bad or revoked token, 100 for a
//! bad parameter or an unknown person, 10 outside the window, 551 for a
//! person who is unavailable, 4 and 613 when throttled.
//!
//! Webhooks: subscribing (as an admin does in the app's dashboard) first
//! sends the verification `GET ?hub.mode=subscribe&hub.challenge=&
//! hub.verify_token=`, which must answer 200 with the challenge. From then
//! on events are POSTed as Meta sends them: JSON with non-ASCII (and `/`,
//! `<`, `%`, `@`) escaped, signed over those exact bytes with
//! `X-Hub-Signature-256`, one at a time and in order, each retried with
//! backoff until answered 2xx within 20 s. A successful send is echoed back
//! (`message.is_echo`). Events while no webhook is subscribed are not kept,
//! as on Meta.
//!
//! Control routes, for tests and the play page (`/_fake/facebook/...`): make
//! a page, have a person write (text, image or file), deliver any body with
//! a right, wrong or missing signature, subscribe or unsubscribe, throttle,
//! age the window, make a person unavailable, revoke the token, read what
//! the page sent; `files/<name>` serves the attachments' files.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

pub use crate::telegram::Retries;
use crate::telegram::form_pairs;

/// The Graph API version the fake answers under (`/v21.0/...`).
pub const GRAPH_VERSION: &str = "v21.0";
/// Longest `message.text` of a send, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// The header a webhook delivery carries its signature in.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";
/// The app the fake's page tokens belong to: echoes carry it as `app_id`.
pub const APP_ID: u64 = 1_517_776_481_860_111;
/// How long after a person's last message the page may answer with
/// `RESPONSE` or `UPDATE`.
pub const RESPONSE_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);
/// How long after it the page may answer with the `HUMAN_AGENT` tag.
pub const HUMAN_AGENT_WINDOW: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// How long a webhook (or its verification) may take to answer.
const DELIVERY_TIMEOUT_SECS: u64 = 20;
/// The user agent Meta's webhook requests carry.
const USER_AGENT: &str = "facebookexternalua";
/// Where the fake's files are said to be before any request told it its address.
const FALLBACK_BASE_URL: &str = "http://127.0.0.1";

const MESSAGING_TYPES: [&str; 3] = ["RESPONSE", "UPDATE", "MESSAGE_TAG"];
const TAGS: [&str; 4] = [
    "CONFIRMED_EVENT_UPDATE",
    "POST_PURCHASE_UPDATE",
    "ACCOUNT_UPDATE",
    "HUMAN_AGENT",
];
const SENDER_ACTIONS: [&str; 3] = ["typing_on", "typing_off", "mark_seen"];

/// A 1×1 PNG in Messenger's blue: every image (and profile picture) the fake serves.
const PNG_1X1: [u8; 70] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x60, 0x68, 0xf9, 0xff,
    0x1f, 0x00, 0x04, 0x8e, 0x02, 0x83, 0x49, 0x3d, 0x0f, 0xb1, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];
/// Every other file the fake serves.
const DOCUMENT: &[u8] = b"%PDF-1.4\n% a document the fake Messenger serves\n";

/// The fake: every page made on it, shared by its routes.
#[derive(Clone)]
pub struct FakeFacebook {
    pages: Arc<Mutex<HashMap<String, Page>>>,
    /// Woken when a webhook is subscribed or removed: a delivery waiting to
    /// retry starts over.
    webhook_changed: Arc<Notify>,
    /// `http://host:port` as the last request named it: attachments' and
    /// profile pictures' addresses start with it.
    base_url: Arc<Mutex<Option<String>>>,
    client: reqwest::Client,
    retries: Retries,
    lost_answers: crate::LostAnswers,
}

/// A person on Messenger, known to a page by their page-scoped id.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Person {
    pub psid: String,
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
}

/// How a webhook delivery is signed: with the app secret, with another
/// secret (well formed but wrong), or not at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Signing {
    #[default]
    Right,
    Wrong,
    Missing,
}

struct Page {
    id: String,
    token: String,
    app_secret: String,
    name: String,
    /// The token stopped working: every call gets 190.
    revoked: bool,
    webhook: Option<Webhook>,
    /// Each subscription takes the next number, so the answer to a delivery
    /// made to an earlier one is not counted.
    generations: u64,
    /// POSTs not yet answered 2xx by the webhook, oldest first.
    pending: VecDeque<Post>,
    posts: u64,
    /// The people who wrote to the page, with when they last did.
    people: HashMap<String, Known>,
    unavailable: HashSet<String>,
    /// The next this many sends get the error `throttle_code`.
    throttled: u32,
    throttle_code: u32,
    sent: Vec<Value>,
    send_calls: u64,
    /// A task is delivering the pending POSTs to the webhook.
    delivering: bool,
    /// Webhook deliveries answered 2xx, and attempts answered otherwise.
    delivered: u64,
    delivery_failures: u64,
}

struct Known {
    person: Person,
    last_wrote_ms: u64,
}

#[derive(Clone)]
struct Webhook {
    url: String,
    generation: u64,
}

/// A webhook POST waiting to be delivered.
#[derive(Clone)]
struct Post {
    serial: u64,
    body: Value,
    signing: Signing,
}

/// A Graph API error, as Graph answers it.
#[derive(Debug)]
struct GraphError {
    status: StatusCode,
    code: u32,
    subcode: Option<u32>,
    message: String,
    transient: bool,
}

impl GraphError {
    fn new(code: u32, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code,
            subcode: None,
            message: message.into(),
            transient: false,
        }
    }

    fn subcode(mut self, subcode: u32) -> Self {
        self.subcode = Some(subcode);
        self
    }

    fn transient(mut self) -> Self {
        self.transient = true;
        self
    }

    fn param(message: impl Into<String>) -> Self {
        Self::new(100, message)
    }

    /// A token Graph cannot make sense of.
    fn invalid_token() -> Self {
        Self::new(
            190,
            "Invalid OAuth access token - Cannot parse access token",
        )
    }

    /// A token that worked and no longer does.
    fn revoked_token() -> Self {
        Self::new(
            190,
            "Error validating access token: The session has been invalidated because the user \
             changed their password or Facebook has changed the session for security reasons.",
        )
        .subcode(460)
    }

    fn no_matching_user() -> Self {
        Self::param("(#100) No matching user found").subcode(2018001)
    }

    fn outside_window() -> Self {
        Self::new(
            10,
            "(#10) This message is sent outside of allowed window. Learn more about the new \
             policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview",
        )
        .subcode(2018278)
    }

    fn unavailable() -> Self {
        Self::new(551, "(#551) This person isn't available right now.").subcode(1545041)
    }

    fn no_such_node(method: &str, node: &str) -> Self {
        Self::param(format!(
            "Unsupported {method} request. Object with ID '{node}' does not exist, cannot be \
             loaded due to missing permissions, or does not support this operation. Please read \
             the Graph API documentation at https://developers.facebook.com/docs/graph-api"
        ))
        .subcode(33)
    }

    /// The error a throttled (or otherwise told to fail) send gets.
    fn of_code(code: u32) -> Self {
        match code {
            2 => Self {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                ..Self::new(
                    2,
                    "An unexpected error has occurred. Please retry your request later.",
                )
                .transient()
            },
            1200 => Self {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                ..Self::new(
                    1200,
                    "(#1200) Temporary send message failure. Please try again later",
                )
                .transient()
            },
            4 => Self::new(4, "(#4) Application request limit reached").transient(),
            613 => Self::new(
                613,
                "(#613) Calls to this api have exceeded the rate limit.",
            ),
            551 => Self::unavailable(),
            10 => Self::outside_window(),
            190 => Self::invalid_token(),
            other => Self::new(
                other,
                format!("(#{other}) An error the fake was told to give"),
            ),
        }
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let mut error = json!({
            "message": self.message,
            "type": "OAuthException",
            "code": self.code,
            "fbtrace_id": fbtrace_id(),
        });
        if let Some(subcode) = self.subcode {
            error["error_subcode"] = json!(subcode);
        }
        if self.transient {
            error["is_transient"] = json!(true);
        }
        (self.status, Json(json!({ "error": error }))).into_response()
    }
}

impl Default for FakeFacebook {
    fn default() -> Self {
        Self::new(Retries::default())
    }
}

impl FakeFacebook {
    pub fn new(retries: Retries) -> Self {
        Self {
            pages: Arc::default(),
            webhook_changed: Arc::new(Notify::new()),
            base_url: Arc::default(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(DELIVERY_TIMEOUT_SECS))
                .build()
                .expect("an HTTP client"),
            retries,
            lost_answers: crate::LostAnswers::default(),
        }
    }

    /// While switched on, the bridge's answers to webhook deliveries are
    /// lost: each delivery is held, then counts as failed.
    pub fn lost_answers(&self) -> &crate::LostAnswers {
        &self.lost_answers
    }

    /// The routes; none clash with the Telegram fake's `/{bot}/{method}` or
    /// the VK fake's `/method/{name}` and `/whp/{id}`, so all can share one
    /// port.
    pub fn router(self) -> Router {
        let page = "/_fake/facebook/pages/{page_id}";
        Router::new()
            .route(&format!("/{GRAPH_VERSION}/{{node}}"), get(graph_node))
            .route(
                &format!("/{GRAPH_VERSION}/{{node}}/messages"),
                post(graph_send),
            )
            .route("/_fake/facebook/pages", post(make_page))
            .route(page, get(page_state))
            .route(&format!("{page}/messages"), post(person_writes))
            .route(&format!("{page}/posts"), post(raw_post))
            .route(
                &format!("{page}/subscribe"),
                post(subscribe).delete(unsubscribe),
            )
            .route(&format!("{page}/throttle"), post(throttle))
            .route(&format!("{page}/window"), post(set_window))
            .route(&format!("{page}/unavailable"), post(make_unavailable))
            .route(&format!("{page}/revoke"), post(revoke))
            .route("/_fake/facebook/files/{name}", get(file))
            .route("/_fake/facebook/play/{page_id}", get(play_page))
            .layer(middleware::from_fn_with_state(self.clone(), learn_base_url))
            .with_state(self)
    }

    /// Makes a page with its token, its app's secret (webhooks are signed
    /// with it) and name. Making an existing page again gives it the new
    /// token, secret and name (a revoked token works again if given anew);
    /// its webhook, people and history stay.
    pub fn make_page(&self, page_id: &str, page_token: &str, app_secret: &str, name: &str) {
        let mut pages = self.pages.lock().unwrap();
        let page = pages
            .entry(page_id.to_owned())
            .or_insert_with(|| Page::new(page_id));
        page.token = page_token.to_owned();
        page.app_secret = app_secret.to_owned();
        page.name = name.to_owned();
        page.revoked = false;
    }

    /// Says where the fake is reached (`http://host:port`), for the addresses
    /// of attachments made before any request told it.
    pub fn set_base_url(&self, url: &str) {
        *self.base_url.lock().unwrap() = Some(url.trim_end_matches('/').to_owned());
    }

    /// As the app's admin does in Meta's dashboard: sends `callback_url` the
    /// verification GET, and only if it answers 200 with exactly the
    /// challenge are the page's events POSTed to it from now on (replacing
    /// any earlier webhook). The error says what went wrong, in the
    /// dashboard's words where it has some.
    pub async fn subscribe(
        &self,
        page_id: &str,
        callback_url: &str,
        verify_token: &str,
    ) -> Result<(), String> {
        if !self.pages.lock().unwrap().contains_key(page_id) {
            return Err(format!("there is no page {page_id}"));
        }
        let challenge = challenge();
        let response = self
            .client
            .get(callback_url)
            .query(&[
                ("hub.mode", "subscribe"),
                ("hub.challenge", challenge.as_str()),
                ("hub.verify_token", verify_token),
            ])
            .header(header::USER_AGENT, USER_AGENT)
            .send()
            .await
            .map_err(|e| {
                format!("The URL couldn't be validated. Callback verification failed: {e}")
            })?;
        let status = response.status();
        if status != StatusCode::OK {
            return Err(format!(
                "The URL couldn't be validated. Callback verification failed with the following \
                 errors: HTTP Status Code = {}; HTTP Message = {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or_default()
            ));
        }
        let answer = response.text().await.unwrap_or_default();
        if answer != challenge {
            let received: String = answer.chars().take(100).collect();
            return Err(format!(
                "The URL couldn't be validated. Response does not match challenge, expected \
                 value=\"{challenge}\", received=\"{received}\""
            ));
        }
        {
            let mut pages = self.pages.lock().unwrap();
            let page = pages
                .get_mut(page_id)
                .ok_or_else(|| format!("there is no page {page_id}"))?;
            page.generations += 1;
            page.webhook = Some(Webhook {
                url: callback_url.to_owned(),
                generation: page.generations,
            });
        }
        self.webhook_changed.notify_waiters();
        self.spawn_delivery(page_id);
        Ok(())
    }

    /// Removes the page's webhook; what it had not yet taken is dropped.
    pub fn unsubscribe(&self, page_id: &str) {
        self.with_page(page_id, |page| {
            page.webhook = None;
            page.pending.clear();
        });
        self.webhook_changed.notify_waiters();
    }

    /// A person writes `text` to the page; returns the messaging item (also
    /// when no webhook is subscribed, though nothing is then delivered).
    pub fn person_writes(&self, page_id: &str, person: &Person, text: &str) -> Option<Value> {
        let mut message = Map::new();
        message.insert("text".into(), json!(text));
        self.person_sends(page_id, person, message)
    }

    /// A person sends a photo: an `image` attachment whose URL the fake serves.
    pub fn person_sends_image(&self, page_id: &str, person: &Person) -> Option<Value> {
        let url = format!(
            "{}/_fake/facebook/files/image_{}.png",
            self.base_url(),
            serial()
        );
        self.person_sends(page_id, person, attachment("image", &url))
    }

    /// A person sends a document named `name`: a `file` attachment whose URL
    /// the fake serves.
    pub fn person_sends_file(&self, page_id: &str, person: &Person, name: &str) -> Option<Value> {
        let url = format!(
            "{}/_fake/facebook/files/{}",
            self.base_url(),
            percent_encode(name)
        );
        self.person_sends(page_id, person, attachment("file", &url))
    }

    fn person_sends(
        &self,
        page_id: &str,
        person: &Person,
        mut message: Map<String, Value>,
    ) -> Option<Value> {
        let mut pages = self.pages.lock().unwrap();
        let page = pages.get_mut(page_id)?;
        let now = now_ms();
        page.people.insert(
            person.psid.clone(),
            Known {
                person: person.clone(),
                last_wrote_ms: now,
            },
        );
        message.insert("mid".into(), json!(new_mid()));
        let item = json!({
            "sender": {"id": person.psid},
            "recipient": {"id": page.id},
            "timestamp": now,
            "message": message,
        });
        let queued = page.queue(page.event(now, item.clone()), Signing::Right);
        drop(pages);
        if queued {
            self.spawn_delivery(page_id);
        }
        Some(item)
    }

    /// Delivers `body` as it is (several entries and items, echoes,
    /// deliveries and reads, a repeated `mid`, timestamps out of order),
    /// signed as `signing` says. The people writing in it (not the page's
    /// echoes) count as having written now, so the page may answer them.
    /// False when there is no such page or no webhook to deliver to.
    pub fn raw_post(&self, page_id: &str, body: Value, signing: Signing) -> bool {
        let mut pages = self.pages.lock().unwrap();
        let Some(page) = pages.get_mut(page_id) else {
            return false;
        };
        page.note_writers(&body);
        let queued = page.queue(body, signing);
        drop(pages);
        if queued {
            self.spawn_delivery(page_id);
        }
        queued
    }

    /// The Send API calls that sent a message, oldest first: `{recipient_id,
    /// message_id, text, messaging_type, tag, timestamp}`, and `attachment`
    /// when one was sent.
    pub fn sent(&self, page_id: &str) -> Vec<Value> {
        self.with_page(page_id, |page| page.sent.clone())
            .unwrap_or_default()
    }

    /// Every Send API call made with the page's token (revoked or not),
    /// refused or not.
    pub fn send_calls(&self, page_id: &str) -> u64 {
        self.with_page(page_id, |page| page.send_calls)
            .unwrap_or_default()
    }

    /// The next `count` Send API calls get the error `code`: 4 or 613 (rate
    /// limits), 2 or 1200 (temporary, HTTP 500), or any other.
    pub fn throttle(&self, page_id: &str, count: u32, code: u32) {
        self.with_page(page_id, |page| {
            page.throttled = count;
            page.throttle_code = code;
        });
    }

    /// As if the person last wrote `age` ago (someone who never wrote counts
    /// as having written then, with a made-up name).
    pub fn set_last_message_age(&self, page_id: &str, psid: &str, age: Duration) {
        let at = now_ms().saturating_sub(u64::try_from(age.as_millis()).unwrap_or(u64::MAX));
        self.with_page(page_id, |page| page.known(psid).last_wrote_ms = at);
    }

    /// Sends to the person get 551 "This person isn't available right now."
    pub fn make_unavailable(&self, page_id: &str, psid: &str) {
        self.with_page(page_id, |page| page.unavailable.insert(psid.to_owned()));
    }

    /// The page token stops working: every call with it gets 190.
    pub fn revoke(&self, page_id: &str) {
        self.with_page(page_id, |page| page.revoked = true);
    }

    /// Webhook POSTs answered 2xx, and attempts that were not.
    pub fn deliveries(&self, page_id: &str) -> (u64, u64) {
        self.with_page(page_id, |page| (page.delivered, page.delivery_failures))
            .unwrap_or_default()
    }

    /// The subscribed webhook's address, if any.
    pub fn webhook_url(&self, page_id: &str) -> Option<String> {
        self.with_page(page_id, |page| page.webhook.as_ref().map(|w| w.url.clone()))
            .flatten()
    }

    fn with_page<T>(&self, page_id: &str, f: impl FnOnce(&mut Page) -> T) -> Option<T> {
        self.pages.lock().unwrap().get_mut(page_id).map(f)
    }

    fn base_url(&self) -> String {
        self.base_url
            .lock()
            .unwrap()
            .clone()
            .unwrap_or_else(|| FALLBACK_BASE_URL.to_owned())
    }

    /// Delivers the page's pending POSTs to its webhook, one at a time and
    /// in order, each until answered 2xx (or the webhook is removed). One
    /// task per page: a second call while one runs does nothing.
    fn spawn_delivery(&self, page_id: &str) {
        {
            let mut pages = self.pages.lock().unwrap();
            let Some(page) = pages.get_mut(page_id) else {
                return;
            };
            if page.delivering || page.webhook.is_none() {
                return;
            }
            page.delivering = true;
        }
        let fake = self.clone();
        let page_id = page_id.to_owned();
        tokio::spawn(async move {
            let mut delay = fake.retries.first;
            while let Some((webhook, post, app_secret)) = fake.next_delivery(&page_id) {
                // Made before sending, so a change meanwhile is not missed.
                let webhook_changed = fake.webhook_changed.notified();
                let ok = fake.deliver(&webhook.url, &post, &app_secret).await
                    && !fake.lost_answers.lose().await;
                fake.delivered(&page_id, webhook.generation, post.serial, ok);
                if ok {
                    delay = fake.retries.first;
                    continue;
                }
                tokio::select! {
                    () = tokio::time::sleep(delay) => {
                        delay = (delay * 2).min(fake.retries.cap);
                    }
                    () = webhook_changed => delay = fake.retries.first,
                }
            }
        });
    }

    /// The webhook, the POST to deliver next and the secret to sign it
    /// with; `None` (and the page's delivery task ends) when there is none.
    fn next_delivery(&self, page_id: &str) -> Option<(Webhook, Post, String)> {
        let mut pages = self.pages.lock().unwrap();
        let page = pages.get_mut(page_id)?;
        let next = page
            .webhook
            .clone()
            .zip(page.pending.front().cloned())
            .map(|(webhook, post)| (webhook, post, page.app_secret.clone()));
        if next.is_none() {
            page.delivering = false;
        }
        next
    }

    /// POSTs the body as Meta's bytes, signed; true when answered 2xx in time.
    async fn deliver(&self, url: &str, post: &Post, app_secret: &str) -> bool {
        let bytes = meta_json(&post.body);
        let mut request = self
            .client
            .post(url)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::USER_AGENT, USER_AGENT);
        match post.signing {
            Signing::Right => {
                request = request.header(SIGNATURE_HEADER, signature(app_secret, &bytes))
            }
            Signing::Wrong => {
                let wrong = format!("not-{app_secret}");
                request = request.header(SIGNATURE_HEADER, signature(&wrong, &bytes));
            }
            Signing::Missing => {}
        }
        request
            .body(bytes)
            .send()
            .await
            .is_ok_and(|response| response.status().is_success())
    }

    fn delivered(&self, page_id: &str, generation: u64, serial: u64, ok: bool) {
        self.with_page(page_id, |page| {
            if page.webhook.as_ref().map(|w| w.generation) != Some(generation) {
                return;
            }
            if !ok {
                page.delivery_failures += 1;
                return;
            }
            page.delivered += 1;
            if page.pending.front().is_some_and(|p| p.serial == serial) {
                page.pending.pop_front();
            }
        });
    }

    /// The page a token belongs to, and whether it was revoked.
    fn page_of(&self, token: &str) -> Option<(String, bool)> {
        self.pages
            .lock()
            .unwrap()
            .values()
            .find(|page| page.token == token)
            .map(|page| (page.id.clone(), page.revoked))
    }

    /// The page a call is made for, or the error Graph gives for its token.
    /// `missing` is the error for a call without one; a send is counted
    /// once its token names a page.
    fn authenticate(
        &self,
        call: &Call,
        missing: GraphError,
        counts_as_send: bool,
    ) -> Result<String, GraphError> {
        let token = call.token.as_deref().ok_or(missing)?;
        let (page_id, revoked) = self.page_of(token).ok_or_else(GraphError::invalid_token)?;
        if counts_as_send {
            self.with_page(&page_id, |page| page.send_calls += 1);
        }
        if revoked {
            return Err(GraphError::revoked_token());
        }
        if let Some(proof) = call.params.get("appsecret_proof") {
            let secret = self
                .with_page(&page_id, |page| page.app_secret.clone())
                .unwrap_or_default();
            let expected = hex::encode(hmac_sha256(&secret, token.as_bytes()));
            if proof.as_str() != Some(expected.as_str()) {
                return Err(GraphError::param(
                    "Invalid appsecret_proof provided in the API argument",
                ));
            }
        }
        Ok(page_id)
    }
}

impl Page {
    fn new(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            token: String::new(),
            app_secret: String::new(),
            name: String::new(),
            revoked: false,
            webhook: None,
            generations: 0,
            pending: VecDeque::new(),
            posts: 0,
            people: HashMap::new(),
            unavailable: HashSet::new(),
            throttled: 0,
            throttle_code: 4,
            sent: Vec::new(),
            send_calls: 0,
            delivering: false,
            delivered: 0,
            delivery_failures: 0,
        }
    }

    /// A webhook body with one entry holding one messaging item.
    fn event(&self, now: u64, item: Value) -> Value {
        json!({"object": "page", "entry": [{"id": self.id, "time": now, "messaging": [item]}]})
    }

    /// Queues a POST for the webhook; false (and nothing is kept) when none
    /// is subscribed.
    fn queue(&mut self, body: Value, signing: Signing) -> bool {
        if self.webhook.is_none() {
            return false;
        }
        self.posts += 1;
        self.pending.push_back(Post {
            serial: self.posts,
            body,
            signing,
        });
        true
    }

    /// The person with this PSID, made up if they never wrote.
    fn known(&mut self, psid: &str) -> &mut Known {
        self.people.entry(psid.to_owned()).or_insert_with(|| Known {
            person: Person {
                psid: psid.to_owned(),
                first_name: "Messenger".into(),
                last_name: "User".into(),
            },
            last_wrote_ms: 0,
        })
    }

    /// Everyone who writes (a message or a postback, not an echo) in a raw
    /// body counts as having written now.
    fn note_writers(&mut self, body: &Value) {
        let now = now_ms();
        let items = body["entry"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|entry| entry["messaging"].as_array())
            .flatten();
        let writers: Vec<String> = items
            .filter(|item| {
                let echo = item["message"]["is_echo"].as_bool().unwrap_or(false);
                (item.get("message").is_some() && !echo) || item.get("postback").is_some()
            })
            .filter_map(|item| id_string(&item["sender"]["id"]))
            .filter(|psid| *psid != self.id)
            .collect();
        for psid in writers {
            self.known(&psid).last_wrote_ms = now;
        }
    }

    /// The Send API: a message (or a sender action) to a person who wrote.
    /// Returns the answer and whether an echo was queued for the webhook.
    fn send(&mut self, params: &Map<String, Value>) -> Result<(Value, bool), GraphError> {
        if self.throttled > 0 {
            self.throttled -= 1;
            return Err(GraphError::of_code(self.throttle_code));
        }
        let recipient = params
            .get("recipient")
            .ok_or_else(|| GraphError::param("(#100) The parameter recipient is required"))?;
        let psid = id_string(&recipient["id"]).ok_or_else(|| {
            GraphError::param(
                "(#100) Param recipient[id] must be a valid ID string (e.g., \"123\")",
            )
        })?;
        if let Some(action) = params.get("sender_action") {
            if !action.as_str().is_some_and(|a| SENDER_ACTIONS.contains(&a)) {
                return Err(GraphError::param(
                    "(#100) Param sender_action must be one of {typing_on, typing_off, mark_seen}",
                ));
            }
            self.check_recipient(&psid, RESPONSE_WINDOW)?;
            return Ok((json!({"recipient_id": psid}), false));
        }
        let messaging_type = params
            .get("messaging_type")
            .and_then(Value::as_str)
            .filter(|t| MESSAGING_TYPES.contains(t))
            .ok_or_else(|| {
                GraphError::param(
                    "(#100) param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}",
                )
            })?;
        let tag = params.get("tag").and_then(Value::as_str);
        let window = match (messaging_type, tag) {
            ("MESSAGE_TAG", None) => {
                return Err(GraphError::param(
                    "(#100) Param tag is required when messaging_type is MESSAGE_TAG",
                ));
            }
            ("MESSAGE_TAG", Some(tag)) if !TAGS.contains(&tag) => {
                return Err(GraphError::param(format!(
                    "(#100) Param tag must be one of {{{}}}",
                    TAGS.join(", ")
                )));
            }
            ("MESSAGE_TAG", Some("HUMAN_AGENT")) => HUMAN_AGENT_WINDOW,
            // The other tags are for non-promotional updates at any time.
            ("MESSAGE_TAG", Some(_)) => Duration::MAX,
            _ => RESPONSE_WINDOW,
        };
        let message = params
            .get("message")
            .and_then(Value::as_object)
            .ok_or_else(|| GraphError::param("(#100) Must send either message or state"))?;
        let text = message.get("text").and_then(Value::as_str);
        let attachment = message.get("attachment").filter(|a| a.is_object());
        if text.is_none_or(str::is_empty) && attachment.is_none() {
            return Err(GraphError::param(
                "(#100) Message cannot be empty, must provide valid attachment or text",
            ));
        }
        if text.is_some_and(|t| t.chars().count() > MAX_TEXT_CHARS) {
            return Err(GraphError::param(format!(
                "(#100) Length of param message[text] must be less than or equal to {MAX_TEXT_CHARS}"
            )));
        }
        self.check_recipient(&psid, window)?;

        let now = now_ms();
        let message_id = new_mid();
        let mut record = json!({
            "recipient_id": psid, "message_id": message_id, "text": text,
            "messaging_type": messaging_type, "tag": tag, "timestamp": now,
        });
        let mut echo = json!({"mid": message_id, "is_echo": true, "app_id": APP_ID});
        if let Some(text) = text {
            echo["text"] = json!(text);
        }
        if let Some(attachment) = attachment {
            record["attachment"] = attachment.clone();
            echo["attachments"] = json!([attachment]);
        }
        self.sent.push(record);
        let item = json!({
            "sender": {"id": self.id}, "recipient": {"id": psid},
            "timestamp": now, "message": echo,
        });
        let echoed = self.queue(self.event(now, item), Signing::Right);
        Ok((
            json!({"recipient_id": psid, "message_id": message_id}),
            echoed,
        ))
    }

    /// Refuses a send to someone who never wrote, is unavailable, or last
    /// wrote longer than `window` ago.
    fn check_recipient(&self, psid: &str, window: Duration) -> Result<(), GraphError> {
        let known = self
            .people
            .get(psid)
            .ok_or_else(GraphError::no_matching_user)?;
        if self.unavailable.contains(psid) {
            return Err(GraphError::unavailable());
        }
        let age = Duration::from_millis(now_ms().saturating_sub(known.last_wrote_ms));
        if age > window {
            return Err(GraphError::outside_window());
        }
        Ok(())
    }

    /// A person's profile with the fields asked for (`name` and `id`
    /// without `fields`, as Graph answers).
    fn profile(&self, psid: &str, fields: &[&str], base_url: &str) -> Result<Value, GraphError> {
        let known = self
            .people
            .get(psid)
            .ok_or_else(|| GraphError::no_such_node("get", psid))?;
        let person = &known.person;
        let mut profile = Map::new();
        for field in fields {
            let value = match *field {
                "id" => json!(person.psid),
                "name" => json!(format!("{} {}", person.first_name, person.last_name).trim()),
                "first_name" => json!(person.first_name),
                "last_name" => json!(person.last_name),
                "profile_pic" => json!(format!(
                    "{base_url}/_fake/facebook/files/profile_{}.png",
                    percent_encode(psid)
                )),
                other => {
                    return Err(GraphError::param(format!(
                        "(#100) Tried accessing nonexisting field ({other}) on node type (User)"
                    )));
                }
            };
            profile.insert((*field).to_owned(), value);
        }
        // Graph always answers the id.
        profile.insert("id".into(), json!(person.psid));
        Ok(Value::Object(profile))
    }
}

/// A Graph API call: its parameters (query, then body) and token.
struct Call {
    params: Map<String, Value>,
    token: Option<String>,
}

impl Call {
    /// Reads the parameters from the query and the body (JSON, or a form
    /// whose values may be JSON, as Graph takes them), and the token from
    /// `Authorization` or `access_token`.
    fn new(
        query: HashMap<String, String>,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Result<Self, GraphError> {
        let mut params: Map<String, Value> =
            query.into_iter().map(|(k, v)| (k, form_value(v))).collect();
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if content_type.starts_with("application/json") {
            let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
                return Err(GraphError::param(
                    "(#100) The request body could not be parsed as a JSON object",
                ));
            };
            params.extend(fields);
        } else if !body.is_empty() {
            params.extend(
                form_pairs(body)
                    .into_iter()
                    .map(|(k, v)| (k, form_value(v))),
            );
        }
        let from_header = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("OAuth "))
            })
            .map(|t| t.trim().to_owned());
        let token = from_header.or_else(|| {
            params
                .get("access_token")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        Ok(Self { params, token })
    }

    /// The fields asked for, or `default` without any.
    fn fields<'a>(&'a self, default: &[&'a str]) -> Vec<&'a str> {
        match self.params.get("fields").and_then(Value::as_str) {
            Some(fields) if !fields.trim().is_empty() => fields
                .split(',')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .collect(),
            _ => default.to_vec(),
        }
    }
}

/// A query or form value: objects and lists are JSON text, the rest strings.
fn form_value(v: String) -> Value {
    if v.starts_with('{') || v.starts_with('[') {
        serde_json::from_str(&v).unwrap_or(Value::String(v))
    } else {
        Value::String(v)
    }
}

/// An id as a string, whether sent as one or as a number.
fn id_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn attachment(kind: &str, url: &str) -> Map<String, Value> {
    let mut message = Map::new();
    message.insert(
        "attachments".into(),
        json!([{"type": kind, "payload": {"url": url}}]),
    );
    message
}

/// Serialises `body` as Meta does before signing it: every non-ASCII
/// character as a `\u` escape with lowercase hex (astral ones as surrogate
/// pairs), and `/`, `<`, `%` and `@` escaped too. A receiver that hashes
/// anything but the bytes it got will not match.
pub fn meta_json(body: &Value) -> Vec<u8> {
    let plain = serde_json::to_string(body).expect("a JSON value serialises");
    let mut escaped = String::with_capacity(plain.len() + plain.len() / 2);
    // These characters only ever appear inside strings in serde_json's output.
    for c in plain.chars() {
        match c {
            '/' => escaped.push_str("\\/"),
            '<' | '%' | '@' => {
                let _ = write!(escaped, "\\u{:04x}", u32::from(c));
            }
            c if c.is_ascii() => escaped.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(escaped, "\\u{unit:04x}");
                }
            }
        }
    }
    escaped.into_bytes()
}

/// `sha256=<lowercase hex HMAC-SHA256(secret, bytes)>`, as the signature
/// header carries it.
pub fn signature(secret: &str, bytes: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac_sha256(secret, bytes)))
}

fn hmac_sha256(secret: &str, bytes: &[u8]) -> Vec<u8> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(bytes);
    mac.finalize().into_bytes().to_vec()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A number no other call of this process gets.
fn serial() -> u64 {
    static SERIAL: AtomicU64 = AtomicU64::new(1);
    SERIAL.fetch_add(1, Ordering::Relaxed)
}

/// 32 bytes no other call gives (ids, challenges, trace ids).
fn unique_bytes(what: &str) -> [u8; 32] {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    Sha256::digest(format!(
        "{what}:{}:{nanos}:{}",
        serial(),
        std::process::id()
    ))
    .into()
}

/// URL-safe base64 without padding, the alphabet of Meta's ids.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 2);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// A message id as long as Meta's (`m_` and 86 characters).
fn new_mid() -> String {
    format!(
        "m_{}{}",
        base64url(&unique_bytes("mid")),
        base64url(&unique_bytes("mid"))
    )
}

fn fbtrace_id() -> String {
    base64url(&unique_bytes("fbtrace"))[..11].to_owned()
}

/// The number the verification request asks to be echoed back.
fn challenge() -> String {
    let bytes = unique_bytes("challenge");
    (u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) | 1).to_string()
}

fn percent_encode(s: &str) -> String {
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
async fn learn_base_url(
    State(fake): State<FakeFacebook>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(host) = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
    {
        *fake.base_url.lock().unwrap() = Some(format!("http://{host}"));
    }
    next.run(request).await
}

/// `GET /v21.0/{node}`: the page (`me` or its id) or a person's profile.
async fn graph_node(
    State(fake): State<FakeFacebook>,
    Path(node): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Json<Value>, GraphError> {
    let call = Call::new(query, &headers, &Bytes::new())?;
    let missing = if node == "me" {
        GraphError::new(
            2500,
            "An active access token must be used to query information about the current user.",
        )
    } else {
        GraphError::new(104, "An access token is required to request this resource.")
    };
    let page_id = fake.authenticate(&call, missing, false)?;
    let base_url = fake.base_url();
    let pages = fake.pages.lock().unwrap();
    let page = pages.get(&page_id).ok_or_else(GraphError::invalid_token)?;
    if node == "me" || node == page.id {
        let mut answer = Map::new();
        for field in call.fields(&["name", "id"]) {
            match field {
                "name" => answer.insert("name".into(), json!(page.name)),
                "id" => answer.insert("id".into(), json!(page.id)),
                // A page has many fields the fake does not know: left out.
                _ => None,
            };
        }
        answer.insert("id".into(), json!(page.id));
        return Ok(Json(Value::Object(answer)));
    }
    page.profile(&node, &call.fields(&["name", "id"]), &base_url)
        .map(Json)
}

/// `POST /v21.0/{me or page id}/messages`: the Send API.
async fn graph_send(
    State(fake): State<FakeFacebook>,
    Path(node): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, GraphError> {
    let call = Call::new(query, &headers, &body)?;
    let missing = GraphError::new(
        2500,
        "An active access token must be used to query information about the current user.",
    );
    let page_id = fake.authenticate(&call, missing, true)?;
    let (answer, echoed) = {
        let mut pages = fake.pages.lock().unwrap();
        let page = pages
            .get_mut(&page_id)
            .ok_or_else(GraphError::invalid_token)?;
        if node != "me" && node != page.id {
            return Err(GraphError::no_such_node("post", &node));
        }
        page.send(&call.params)?
    };
    if echoed {
        fake.spawn_delivery(&page_id);
    }
    Ok(Json(answer))
}

#[derive(serde::Deserialize)]
struct NewPage {
    page_id: String,
    page_token: String,
    app_secret: String,
    name: String,
}

async fn make_page(State(fake): State<FakeFacebook>, Json(new): Json<NewPage>) -> StatusCode {
    fake.make_page(&new.page_id, &new.page_token, &new.app_secret, &new.name);
    StatusCode::CREATED
}

async fn page_state(State(fake): State<FakeFacebook>, Path(page_id): Path<String>) -> Response {
    let pages = fake.pages.lock().unwrap();
    let Some(page) = pages.get(&page_id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    Json(json!({
        "page_id": page.id,
        "name": page.name,
        "revoked": page.revoked,
        "webhook": page.webhook.as_ref().map(|w| w.url.clone()),
        "pending": page.pending.len(),
        "sent": page.sent,
        "send_calls": page.send_calls,
        "deliveries": {"delivered": page.delivered, "failed": page.delivery_failures},
    }))
    .into_response()
}

/// What a person sends: text, or an attachment (`image`, or `file` named `name`).
#[derive(serde::Deserialize)]
struct Written {
    person: Person,
    #[serde(default)]
    text: String,
    attachment: Option<String>,
    name: Option<String>,
}

async fn person_writes(
    State(fake): State<FakeFacebook>,
    Path(page_id): Path<String>,
    Json(written): Json<Written>,
) -> Response {
    let item = match written.attachment.as_deref() {
        None => fake.person_writes(&page_id, &written.person, &written.text),
        Some("image") => fake.person_sends_image(&page_id, &written.person),
        Some("file") => {
            let name = written.name.as_deref().unwrap_or("document.pdf");
            fake.person_sends_file(&page_id, &written.person, name)
        }
        Some(_) => return StatusCode::UNPROCESSABLE_ENTITY.into_response(),
    };
    match item {
        Some(item) => (StatusCode::CREATED, Json(item)).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[derive(serde::Deserialize)]
struct RawPost {
    body: Value,
    #[serde(default)]
    signing: Signing,
}

/// 201 when queued for the webhook, 409 when none is subscribed.
async fn raw_post(
    State(fake): State<FakeFacebook>,
    Path(page_id): Path<String>,
    Json(raw): Json<RawPost>,
) -> StatusCode {
    if !fake.pages.lock().unwrap().contains_key(&page_id) {
        return StatusCode::NOT_FOUND;
    }
    match fake.raw_post(&page_id, raw.body, raw.signing) {
        true => StatusCode::CREATED,
        false => StatusCode::CONFLICT,
    }
}

#[derive(serde::Deserialize)]
struct Subscription {
    callback_url: String,
    verify_token: String,
}

async fn subscribe(
    State(fake): State<FakeFacebook>,
    Path(page_id): Path<String>,
    Json(s): Json<Subscription>,
) -> Response {
    match fake
        .subscribe(&page_id, &s.callback_url, &s.verify_token)
        .await
    {
        Ok(()) => Json(json!({"success": true})).into_response(),
        Err(reason) => (StatusCode::BAD_REQUEST, Json(json!({"error": reason}))).into_response(),
    }
}

async fn unsubscribe(State(fake): State<FakeFacebook>, Path(page_id): Path<String>) -> StatusCode {
    fake.unsubscribe(&page_id);
    StatusCode::NO_CONTENT
}

#[derive(serde::Deserialize)]
struct Throttle {
    count: u32,
    code: u32,
}

async fn throttle(
    State(fake): State<FakeFacebook>,
    Path(page_id): Path<String>,
    Json(t): Json<Throttle>,
) -> StatusCode {
    fake.throttle(&page_id, t.count, t.code);
    StatusCode::NO_CONTENT
}

#[derive(serde::Deserialize)]
struct Window {
    psid: String,
    age_hours: f64,
}

async fn set_window(
    State(fake): State<FakeFacebook>,
    Path(page_id): Path<String>,
    Json(w): Json<Window>,
) -> StatusCode {
    let Ok(age) = Duration::try_from_secs_f64(w.age_hours * 3600.0) else {
        return StatusCode::UNPROCESSABLE_ENTITY;
    };
    fake.set_last_message_age(&page_id, &w.psid, age);
    StatusCode::NO_CONTENT
}

#[derive(serde::Deserialize)]
struct Unavailable {
    psid: String,
}

async fn make_unavailable(
    State(fake): State<FakeFacebook>,
    Path(page_id): Path<String>,
    Json(u): Json<Unavailable>,
) -> StatusCode {
    fake.make_unavailable(&page_id, &u.psid);
    StatusCode::NO_CONTENT
}

async fn revoke(State(fake): State<FakeFacebook>, Path(page_id): Path<String>) -> StatusCode {
    fake.revoke(&page_id);
    StatusCode::NO_CONTENT
}

/// The files attachments and profiles point at: a tiny PNG for images, a
/// few bytes for anything else.
async fn file(Path(name): Path<String>) -> Response {
    let extension = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    let content_type = match extension.as_deref() {
        Some("png" | "jpg" | "jpeg" | "gif" | "webp") => {
            return ([(header::CONTENT_TYPE, "image/png")], &PNG_1X1[..]).into_response();
        }
        Some("pdf") => "application/pdf",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
    ([(header::CONTENT_TYPE, content_type)], DOCUMENT).into_response()
}

/// A page where a person plays a Messenger user writing to the page.
async fn play_page(Path(_page_id): Path<String>) -> Html<&'static str> {
    Html(include_str!("facebook_play.html"))
}
