//! A fake of Telegram's Bot API, as `../shared/CHANNELS.md` describes it.
//!
//! Bot API: `POST /bot<token>/<method>` (method names in any case) with a
//! JSON (or form, or query) body; `{"ok":true,"result":...}` or `{"ok":false,"error_code","description",
//! "parameters"?}` with the HTTP status set to the error code. 401
//! `Unauthorized` for an unknown token, 404 `Not Found` for an unknown
//! method. `getMe` and `getWebhookInfo` with every field; `getUpdates`
//! honouring `offset` (forgetting lower ids), `limit` and `timeout`, a newer
//! poll ending an older one with 409, and 409 while a webhook is set;
//! `setWebhook`/`deleteWebhook`; `sendMessage` returning a full Message, 400
//! over 4096 characters or when empty, 400 for a chat that never wrote, 403
//! when the person blocked the bot, 429 with `retry_after` when throttled.
//! Webhook deliveries carry the secret token, go one at a time in order, and
//! are retried (1 s doubling, capped) until answered 2xx. Photos and
//! documents people send are files: `getFile` gives a file's `file_path`
//! (400 `file is too big` over 20 MB, `invalid file id` for another bot's or
//! an unknown one), and `GET /file/bot<token>/<file_path>` its bytes.
//!
//! Control routes, for tests and the play page (`/_fake/telegram/...`): make
//! a bot, have a person write to it, deliver a raw update (unknown fields,
//! the same `update_id` twice), send a photo or a document, throttle or
//! block, revoke the token, read what the bot sent.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::Notify;

/// Longest text of a message, in characters.
pub const MAX_TEXT_CHARS: usize = 4096;
/// The header a webhook delivery carries its secret token in.
pub const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";
/// Longest a long poll may wait, in seconds (the real server's bound).
const MAX_POLL_SECS: u64 = 50;
/// Largest file a bot may download (getFile's bound).
pub const MAX_DOWNLOAD_BYTES: usize = 20 * 1024 * 1024;
/// The photo people send: a small JPEG.
pub const PHOTO_JPEG: &[u8] = include_bytes!("photo.jpg");

/// How webhook deliveries are retried: `first` after a failure, doubling up
/// to `cap` (Telegram: 1 s and about a minute; tests shorten them).
#[derive(Debug, Clone, Copy)]
pub struct Retries {
    pub first: Duration,
    pub cap: Duration,
}

impl Default for Retries {
    fn default() -> Self {
        Self {
            first: Duration::from_secs(1),
            cap: Duration::from_secs(60),
        }
    }
}

/// The fake: every bot made on it, shared by its routes.
#[derive(Clone)]
pub struct FakeTelegram {
    bots: Arc<Mutex<HashMap<String, Bot>>>,
    /// Woken whenever a bot gets an update or a poll is ended.
    changed: Arc<Notify>,
    client: reqwest::Client,
    retries: Retries,
    lost_answers: crate::LostAnswers,
}

#[derive(Default)]
struct Bot {
    id: i64,
    username: String,
    first_name: String,
    next_update_id: i64,
    /// Updates not yet confirmed by a poll's offset or a webhook's 2xx.
    pending: VecDeque<Value>,
    webhook: Option<Webhook>,
    /// Each getUpdates takes the next number; an older poll that sees a
    /// newer number ends with 409.
    polls: u64,
    /// The people who wrote to the bot: their private chats.
    people: HashMap<i64, Value>,
    /// Files people sent the bot, by `file_id`.
    files: HashMap<String, File>,
    next_file: u64,
    blocked_by: HashSet<i64>,
    /// The next this many sendMessage calls get 429, asked to wait this long.
    throttled: u32,
    retry_after: u32,
    sent: Vec<Value>,
    next_message_id: i64,
    /// A task is delivering the pending updates to the webhook.
    delivering: bool,
    /// Webhook deliveries answered 2xx, and attempts answered otherwise.
    delivered: u64,
    delivery_failures: u64,
}

/// How an update names a file: `file_id` (this bot's) and `file_unique_id`.
struct FileIds {
    id: String,
    unique_id: String,
}

impl Bot {
    /// Keeps a file a person sends; how updates name it.
    fn keep_file(&mut self, folder: &str, extension: &str, bytes: Bytes) -> FileIds {
        self.next_file += 1;
        let n = self.next_file;
        // Long and opaque, as Telegram's are; a bot's own.
        let id = format!("AgACAgIAAxkBAAI{}{n:06}AAH", self.id);
        let unique_id = format!("AQAD{n:06}");
        let path = format!("{folder}/file_{n}.{extension}");
        let file = File {
            unique_id: unique_id.clone(),
            path,
            bytes,
        };
        self.files.insert(id.clone(), file);
        FileIds { id, unique_id }
    }
}

/// A file a person sent: where `getFile` says it is, and its bytes.
struct File {
    unique_id: String,
    path: String,
    bytes: Bytes,
}

#[derive(Clone)]
struct Webhook {
    url: String,
    secret: Option<String>,
}

/// A Bot API answer: the result, or an error with the status set to its code.
enum Answer {
    Ok(Value),
    Err(u16, String, Option<Value>),
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        match self {
            Answer::Ok(result) => Json(json!({"ok": true, "result": result})).into_response(),
            Answer::Err(code, description, parameters) => {
                let mut body = json!({"ok": false, "error_code": code, "description": description});
                let retry_after = parameters.as_ref().and_then(|p| p["retry_after"].as_u64());
                if let Some(parameters) = parameters {
                    body["parameters"] = parameters;
                }
                let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
                let mut response = (status, Json(body)).into_response();
                if let Some(seconds) = retry_after {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                }
                response
            }
        }
    }
}

fn unauthorized() -> Answer {
    Answer::Err(401, "Unauthorized".into(), None)
}

fn bad_request(what: &str) -> Answer {
    Answer::Err(400, format!("Bad Request: {what}"), None)
}

impl Default for FakeTelegram {
    fn default() -> Self {
        Self::new(Retries::default())
    }
}

impl FakeTelegram {
    pub fn new(retries: Retries) -> Self {
        Self {
            bots: Arc::default(),
            changed: Arc::new(Notify::new()),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("an HTTP client"),
            retries,
            lost_answers: crate::LostAnswers::default(),
        }
    }

    /// Loses the bridge's answers while switched on: webhook statuses, and
    /// the getUpdates calls that would confirm updates (as if they never
    /// arrived; each is held, then answered 502 and applies nothing).
    pub fn lost_answers(&self) -> &crate::LostAnswers {
        &self.lost_answers
    }

    pub fn router(self) -> Router {
        Router::new()
            .route("/{bot}/{method}", post(call).get(call))
            .route("/file/{bot}/{*path}", get(download))
            .route("/_fake/telegram/bots", post(make_bot))
            .route("/_fake/telegram/bots/{token}", get(bot_state))
            .route("/_fake/telegram/bots/{token}/messages", post(person_writes))
            .route("/_fake/telegram/bots/{token}/updates", post(raw_update))
            .route("/_fake/telegram/bots/{token}/throttle", post(throttle))
            .route("/_fake/telegram/bots/{token}/block", post(block))
            .route("/_fake/telegram/bots/{token}/revoke", post(revoke))
            .route("/_fake/telegram/play/{token}", get(play_page))
            .with_state(self)
    }

    /// Makes a bot with this token (`<id>:<secret>`) and username.
    pub fn make_bot(&self, token: &str, username: &str) {
        let id = token
            .split_once(':')
            .and_then(|(id, _)| id.parse().ok())
            .unwrap_or(1);
        self.bots.lock().unwrap().insert(
            token.to_owned(),
            Bot {
                id,
                username: username.to_owned(),
                first_name: username.trim_end_matches("_bot").replace('_', " "),
                next_update_id: crate::first_number(),
                next_message_id: crate::first_number(),
                ..Bot::default()
            },
        );
    }

    /// Revokes the bot's token (as @BotFather's /revoke does): every call
    /// with it gets 401 from now on.
    pub fn revoke(&self, token: &str) {
        self.bots.lock().unwrap().remove(token);
        self.changed.notify_waiters();
    }

    /// A person writes `text` to the bot; returns the update.
    pub fn person_writes(&self, token: &str, person: &Person, text: &str) -> Option<Value> {
        self.person_sends(token, person, |_| json!({"text": text}))
    }

    /// A person sends the bot a photo ([`PHOTO_JPEG`], in two sizes as
    /// Telegram gives them), with a caption or none; returns the update.
    pub fn person_sends_photo(
        &self,
        token: &str,
        person: &Person,
        caption: Option<&str>,
    ) -> Option<Value> {
        self.person_sends(token, person, |bot| {
            let thumb = bot.keep_file("photos", "jpg", Bytes::from_static(PHOTO_JPEG));
            let full = bot.keep_file("photos", "jpg", Bytes::from_static(PHOTO_JPEG));
            let size = |file: FileIds, side: u32| {
                json!({"file_id": file.id, "file_unique_id": file.unique_id, "width": side,
                       "height": side * 3 / 4, "file_size": PHOTO_JPEG.len()})
            };
            let mut message = json!({"photo": [size(thumb, 90), size(full, 160)]});
            if let Some(caption) = caption {
                message["caption"] = json!(caption);
            }
            message
        })
    }

    /// A person sends the bot a document; returns the update.
    pub fn person_sends_document(
        &self,
        token: &str,
        person: &Person,
        file_name: &str,
        mime_type: &str,
        bytes: Vec<u8>,
    ) -> Option<Value> {
        self.person_sends(token, person, |bot| {
            let size = bytes.len();
            let file = bot.keep_file("documents", "bin", Bytes::from(bytes));
            json!({"document": {"file_id": file.id, "file_unique_id": file.unique_id,
                                "file_name": file_name, "mime_type": mime_type,
                                "file_size": size}})
        })
    }

    /// A person's private message to the bot, with the fields `content`
    /// gives; returns the update.
    fn person_sends(
        &self,
        token: &str,
        person: &Person,
        content: impl FnOnce(&mut Bot) -> Value,
    ) -> Option<Value> {
        let mut bots = self.bots.lock().unwrap();
        let bot = bots.get_mut(token)?;
        bot.next_update_id += 1;
        bot.next_message_id += 1;
        let chat = person.chat();
        bot.people.insert(person.id, chat.clone());
        let mut message = json!({
            "message_id": bot.next_message_id,
            "from": person.user(),
            "chat": chat,
            "date": chrono::Utc::now().timestamp(),
        });
        if let (Value::Object(message), Value::Object(content)) = (&mut message, content(bot)) {
            message.extend(content);
        }
        let update = json!({"update_id": bot.next_update_id, "message": message});
        bot.pending.push_back(update.clone());
        let webhook = bot.webhook.clone();
        drop(bots);
        self.after_update(token, webhook);
        Some(update)
    }

    /// Delivers `update` as it is (its `update_id` may repeat an earlier one).
    pub fn raw_update(&self, token: &str, update: Value) -> bool {
        let mut bots = self.bots.lock().unwrap();
        let Some(bot) = bots.get_mut(token) else {
            return false;
        };
        if let Some(chat) = update["message"]["chat"].as_object()
            && let Some(id) = chat.get("id").and_then(Value::as_i64)
        {
            bot.people.insert(id, Value::Object(chat.clone()));
        }
        // Later updates number after it, as Telegram's do.
        if let Some(id) = update["update_id"].as_i64() {
            bot.next_update_id = bot.next_update_id.max(id);
        }
        bot.pending.push_back(update);
        let webhook = bot.webhook.clone();
        drop(bots);
        self.after_update(token, webhook);
        true
    }

    fn after_update(&self, token: &str, webhook: Option<Webhook>) {
        self.changed.notify_waiters();
        if webhook.is_some() {
            self.spawn_delivery(token);
        }
    }

    /// What the bot sent, oldest first.
    pub fn sent(&self, token: &str) -> Vec<Value> {
        self.bots
            .lock()
            .unwrap()
            .get(token)
            .map(|bot| bot.sent.clone())
            .unwrap_or_default()
    }

    /// The next `count` sendMessage calls get 429, asked to retry after `seconds`.
    pub fn throttle(&self, token: &str, count: u32, seconds: u32) {
        if let Some(bot) = self.bots.lock().unwrap().get_mut(token) {
            bot.throttled = count;
            bot.retry_after = seconds;
        }
    }

    /// The person blocks the bot: sending to them gets 403.
    pub fn block(&self, token: &str, person_id: i64) {
        if let Some(bot) = self.bots.lock().unwrap().get_mut(token) {
            bot.blocked_by.insert(person_id);
        }
    }

    /// The registered webhook's address, if any.
    pub fn webhook_url(&self, token: &str) -> Option<String> {
        self.bots
            .lock()
            .unwrap()
            .get(token)
            .and_then(|bot| bot.webhook.as_ref().map(|w| w.url.clone()))
    }

    /// How many polls the bot has had (getUpdates calls, and setWebhook
    /// calls, which end a poll as a newer one does).
    pub fn polls(&self, token: &str) -> u64 {
        self.with_bot(token, |bot| bot.polls).unwrap_or_default()
    }

    /// Webhook deliveries answered 2xx, and attempts that were not.
    pub fn deliveries(&self, token: &str) -> (u64, u64) {
        self.bots
            .lock()
            .unwrap()
            .get(token)
            .map_or((0, 0), |bot| (bot.delivered, bot.delivery_failures))
    }

    /// Delivers the bot's pending updates to its webhook, one at a time and
    /// in order, each until it is answered 2xx (or the webhook is removed).
    /// One delivery task per bot: a second call while one runs does nothing.
    fn spawn_delivery(&self, token: &str) {
        {
            let mut bots = self.bots.lock().unwrap();
            let Some(bot) = bots.get_mut(token) else {
                return;
            };
            if bot.delivering || bot.webhook.is_none() {
                return;
            }
            bot.delivering = true;
        }
        let fake = self.clone();
        let token = token.to_owned();
        tokio::spawn(async move {
            let mut delay = fake.retries.first;
            while let Some((webhook, update)) = fake.next_delivery(&token) {
                let mut request = fake.client.post(&webhook.url).json(&update);
                if let Some(secret) = &webhook.secret {
                    request = request.header(SECRET_HEADER, secret);
                }
                let answered = request
                    .send()
                    .await
                    .is_ok_and(|response| response.status().is_success());
                let delivered = answered && !fake.lost_answers.lose().await;
                fake.delivered(&token, &update, delivered);
                if delivered {
                    delay = fake.retries.first;
                } else {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(fake.retries.cap);
                }
            }
        });
    }

    /// The webhook and the update to deliver next; `None` (and the bot's
    /// delivery task ends) when there is none.
    fn next_delivery(&self, token: &str) -> Option<(Webhook, Value)> {
        let mut bots = self.bots.lock().unwrap();
        let bot = bots.get_mut(token)?;
        let next = bot.webhook.clone().zip(bot.pending.front().cloned());
        if next.is_none() {
            bot.delivering = false;
        }
        next
    }

    fn delivered(&self, token: &str, update: &Value, delivered: bool) {
        let mut bots = self.bots.lock().unwrap();
        let Some(bot) = bots.get_mut(token) else {
            return;
        };
        if !delivered {
            bot.delivery_failures += 1;
            return;
        }
        bot.delivered += 1;
        if bot.pending.front() == Some(update) {
            bot.pending.pop_front();
        }
    }
}

/// A person on Telegram.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Person {
    pub id: i64,
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
}

impl Person {
    fn user(&self) -> Value {
        let mut user = json!({"id": self.id, "is_bot": false, "first_name": self.first_name,
                              "language_code": "ru"});
        if let Some(last) = &self.last_name {
            user["last_name"] = json!(last);
        }
        if let Some(username) = &self.username {
            user["username"] = json!(username);
        }
        user
    }

    fn chat(&self) -> Value {
        let mut chat = json!({"id": self.id, "type": "private", "first_name": self.first_name});
        if let Some(last) = &self.last_name {
            chat["last_name"] = json!(last);
        }
        chat
    }
}

/// The parameters of a call: the JSON body, else a multipart body (teloxide
/// sends `setWebhook` so), else a form body, else the query.
fn parameters(headers: &HeaderMap, query: &HashMap<String, String>, body: &Bytes) -> Value {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("application/json")
        && let Ok(value) = serde_json::from_slice::<Value>(body)
    {
        return value;
    }
    let pairs: Vec<(String, String)> = if body.is_empty() {
        query.clone().into_iter().collect()
    } else if let Some(boundary) = content_type
        .strip_prefix("multipart/form-data")
        .and_then(|rest| rest.split("boundary=").nth(1))
    {
        multipart_fields(body, boundary.trim_matches('"'))
    } else {
        form_pairs(body)
    };
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| {
                // Form values are strings; numbers and lists come as JSON text.
                let value = serde_json::from_str(&v).unwrap_or(Value::String(v));
                (k, value)
            })
            .collect(),
    )
}

/// The text fields of a multipart body (files are not taken).
fn multipart_fields(body: &Bytes, boundary: &str) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    text.split(&format!("--{boundary}"))
        .filter_map(|part| {
            let (head, value) = part.split_once("\r\n\r\n")?;
            let name = head.split("name=\"").nth(1)?.split('"').next()?;
            Some((name.to_owned(), value.trim_end_matches("\r\n").to_owned()))
        })
        .collect()
}

pub(crate) fn form_pairs(body: &Bytes) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

/// Percent-decodes a form field (`+` is a space).
fn decode(s: &str) -> String {
    let bytes = s.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&String::from_utf8_lossy(&bytes[i + 1..i + 3]), 16)
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn call(
    State(fake): State<FakeTelegram>,
    Path((bot, method)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let Some(token) = bot.strip_prefix("bot") else {
        return Answer::Err(404, "Not Found".into(), None);
    };
    if !fake.bots.lock().unwrap().contains_key(token) {
        return unauthorized();
    }
    let params = parameters(&headers, &query, &body);
    // Method names are case-insensitive (teloxide sends `GetMe`).
    match method.to_ascii_lowercase().as_str() {
        "getme" => fake.get_me(token),
        "getwebhookinfo" => fake.get_webhook_info(token),
        "setwebhook" => fake.set_webhook(token, &params),
        "deletewebhook" => fake.delete_webhook(token, &params),
        "getupdates" => fake.get_updates(token, &params).await,
        "sendmessage" => fake.send_message(token, &params),
        "getfile" => fake.get_file(token, &params),
        _ => Answer::Err(404, "Not Found".into(), None),
    }
}

/// `GET /file/bot<token>/<file_path>`: the file's bytes.
async fn download(
    State(fake): State<FakeTelegram>,
    Path((bot, path)): Path<(String, String)>,
) -> Response {
    let bytes = bot.strip_prefix("bot").and_then(|token| {
        fake.with_bot(token, |bot| {
            bot.files
                .values()
                .find(|file| file.path == path)
                .map(|file| file.bytes.clone())
        })
        .flatten()
    });
    match bytes {
        Some(bytes) => bytes.into_response(),
        None => Answer::Err(404, "Not Found".into(), None).into_response(),
    }
}

impl FakeTelegram {
    fn with_bot<T>(&self, token: &str, f: impl FnOnce(&mut Bot) -> T) -> Option<T> {
        self.bots.lock().unwrap().get_mut(token).map(f)
    }

    fn get_file(&self, token: &str, params: &Value) -> Answer {
        let file_id = params["file_id"].as_str().unwrap_or_default();
        self.with_bot(token, |bot| match bot.files.get(file_id) {
            None => bad_request("invalid file id"),
            Some(file) if file.bytes.len() > MAX_DOWNLOAD_BYTES => bad_request("file is too big"),
            Some(file) => Answer::Ok(json!({
                "file_id": file_id, "file_unique_id": file.unique_id,
                "file_size": file.bytes.len(), "file_path": file.path,
            })),
        })
        .unwrap_or_else(unauthorized)
    }

    fn get_me(&self, token: &str) -> Answer {
        self.with_bot(token, |bot| {
            Answer::Ok(json!({
                "id": bot.id, "is_bot": true, "first_name": bot.first_name,
                "username": bot.username, "can_join_groups": true,
                "can_read_all_group_messages": false, "supports_inline_queries": false,
                "can_connect_to_business": false, "has_main_web_app": false,
            }))
        })
        .unwrap_or_else(unauthorized)
    }

    fn get_webhook_info(&self, token: &str) -> Answer {
        self.with_bot(token, |bot| {
            Answer::Ok(json!({
                "url": bot.webhook.as_ref().map_or("", |w| w.url.as_str()),
                "has_custom_certificate": false,
                "pending_update_count": bot.pending.len(),
            }))
        })
        .unwrap_or_else(unauthorized)
    }

    fn set_webhook(&self, token: &str, params: &Value) -> Answer {
        let url = params["url"].as_str().unwrap_or_default().to_owned();
        let secret = params["secret_token"].as_str().map(str::to_owned);
        if let Some(secret) = &secret
            && (secret.is_empty()
                || secret.len() > 256
                || !secret
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
        {
            return bad_request("secret token contains unallowed characters");
        }
        let drop_pending = params["drop_pending_updates"].as_bool().unwrap_or(false);
        let answer = self.with_bot(token, |bot| {
            if drop_pending {
                bot.pending.clear();
            }
            if url.is_empty() {
                bot.webhook = None;
                return Answer::Ok(json!(true));
            }
            if !url.starts_with("http://") && !url.starts_with("https://") {
                return bad_request("bad webhook: An HTTPS URL must be provided for webhook");
            }
            bot.webhook = Some(Webhook { url, secret });
            // A poll waiting now ends: getUpdates and webhooks exclude each other.
            bot.polls += 1;
            Answer::Ok(json!(true))
        });
        self.changed.notify_waiters();
        self.spawn_delivery(token);
        answer.unwrap_or_else(unauthorized)
    }

    fn delete_webhook(&self, token: &str, params: &Value) -> Answer {
        let drop_pending = params["drop_pending_updates"].as_bool().unwrap_or(false);
        self.with_bot(token, |bot| {
            bot.webhook = None;
            if drop_pending {
                bot.pending.clear();
            }
            Answer::Ok(json!(true))
        })
        .unwrap_or_else(unauthorized)
    }

    async fn get_updates(&self, token: &str, params: &Value) -> Answer {
        let offset = params["offset"].as_i64().unwrap_or(0);
        let limit = params["limit"].as_u64().unwrap_or(100).clamp(1, 100) as usize;
        let timeout = params["timeout"].as_u64().unwrap_or(0).min(MAX_POLL_SECS);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
        let confirms = self.bots.lock().unwrap().get(token).is_some_and(|bot| {
            offset != 0
                && bot
                    .pending
                    .front()
                    .is_some_and(|u| u["update_id"].as_i64().unwrap_or(0) < offset)
        });
        if confirms && self.lost_answers.lose().await {
            return Answer::Err(502, "Bad Gateway".into(), None);
        }
        let this_poll = {
            let mut bots = self.bots.lock().unwrap();
            let Some(bot) = bots.get_mut(token) else {
                return unauthorized();
            };
            if bot.webhook.is_some() {
                return Answer::Err(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; \
                     use deleteWebhook to delete the webhook first"
                        .into(),
                    None,
                );
            }
            bot.polls += 1;
            // Updates below the offset are confirmed: forgotten for good.
            if offset != 0 {
                bot.pending
                    .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
            }
            bot.polls
        };
        // A newer poll ends this one.
        self.changed.notify_waiters();
        loop {
            let woken = self.changed.notified();
            {
                let bots = self.bots.lock().unwrap();
                let Some(bot) = bots.get(token) else {
                    return unauthorized();
                };
                if bot.polls != this_poll {
                    return Answer::Err(
                        409,
                        "Conflict: terminated by other getUpdates request; \
                         make sure that only one bot instance is running"
                            .into(),
                        None,
                    );
                }
                if !bot.pending.is_empty() || tokio::time::Instant::now() >= deadline {
                    let updates: Vec<Value> = bot.pending.iter().take(limit).cloned().collect();
                    return Answer::Ok(Value::Array(updates));
                }
            }
            if tokio::time::timeout_at(deadline, woken).await.is_err() {
                // Timed out: answer with whatever there is (nothing).
                continue;
            }
        }
    }

    fn send_message(&self, token: &str, params: &Value) -> Answer {
        let chat_id = match &params["chat_id"] {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        };
        let Some(chat_id) = chat_id else {
            return bad_request("chat_id is empty");
        };
        let text = params["text"].as_str().unwrap_or_default();
        self.with_bot(token, |bot| {
            if bot.throttled > 0 {
                bot.throttled -= 1;
                let seconds = bot.retry_after;
                return Answer::Err(
                    429,
                    format!("Too Many Requests: retry after {seconds}"),
                    Some(json!({"retry_after": seconds})),
                );
            }
            if text.trim().is_empty() {
                return bad_request("message text is empty");
            }
            if text.chars().count() > MAX_TEXT_CHARS {
                return bad_request("message is too long");
            }
            let Some(chat) = bot.people.get(&chat_id).cloned() else {
                return bad_request("chat not found");
            };
            if bot.blocked_by.contains(&chat_id) {
                return Answer::Err(403, "Forbidden: bot was blocked by the user".into(), None);
            }
            bot.next_message_id += 1;
            let message = json!({
                "message_id": bot.next_message_id,
                "from": {"id": bot.id, "is_bot": true, "first_name": bot.first_name,
                         "username": bot.username},
                "chat": chat,
                "date": chrono::Utc::now().timestamp(),
                "text": text,
            });
            bot.sent.push(message.clone());
            Answer::Ok(message)
        })
        .unwrap_or_else(unauthorized)
    }
}

#[derive(serde::Deserialize)]
struct NewBot {
    token: String,
    username: String,
}

async fn make_bot(State(fake): State<FakeTelegram>, Json(new): Json<NewBot>) -> StatusCode {
    fake.make_bot(&new.token, &new.username);
    StatusCode::CREATED
}

async fn bot_state(State(fake): State<FakeTelegram>, Path(token): Path<String>) -> Response {
    let bots = fake.bots.lock().unwrap();
    let Some(bot) = bots.get(&token) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    Json(json!({
        "username": bot.username,
        "webhook": bot.webhook.as_ref().map(|w| w.url.clone()),
        "pending": bot.pending.len(),
        "sent": bot.sent,
        "delivered": bot.delivered,
        "delivery_failures": bot.delivery_failures,
    }))
    .into_response()
}

#[derive(serde::Deserialize)]
struct Written {
    person: Person,
    text: String,
    /// `photo` (the text its caption) or `document` (the text its name).
    #[serde(default)]
    attachment: Option<String>,
}

async fn person_writes(
    State(fake): State<FakeTelegram>,
    Path(token): Path<String>,
    Json(written): Json<Written>,
) -> Response {
    let (person, text) = (&written.person, written.text.as_str());
    let sent = match written.attachment.as_deref() {
        Some("photo") => {
            fake.person_sends_photo(&token, person, Some(text).filter(|t| !t.is_empty()))
        }
        Some("document") => {
            let contents = format!("{text}\n").into_bytes();
            fake.person_sends_document(&token, person, text, "text/plain", contents)
        }
        _ => fake.person_writes(&token, person, text),
    };
    match sent {
        Some(update) => (StatusCode::CREATED, Json(update)).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn raw_update(
    State(fake): State<FakeTelegram>,
    Path(token): Path<String>,
    Json(update): Json<Value>,
) -> StatusCode {
    match fake.raw_update(&token, update) {
        true => StatusCode::CREATED,
        false => StatusCode::NOT_FOUND,
    }
}

#[derive(serde::Deserialize)]
struct Throttle {
    count: u32,
    retry_after: u32,
}

async fn throttle(
    State(fake): State<FakeTelegram>,
    Path(token): Path<String>,
    Json(t): Json<Throttle>,
) -> StatusCode {
    fake.throttle(&token, t.count, t.retry_after);
    StatusCode::NO_CONTENT
}

#[derive(serde::Deserialize)]
struct Block {
    person_id: i64,
}

async fn block(
    State(fake): State<FakeTelegram>,
    Path(token): Path<String>,
    Json(b): Json<Block>,
) -> StatusCode {
    fake.block(&token, b.person_id);
    StatusCode::NO_CONTENT
}

async fn revoke(State(fake): State<FakeTelegram>, Path(token): Path<String>) -> StatusCode {
    fake.revoke(&token);
    StatusCode::NO_CONTENT
}

/// A page where a person plays a Telegram user writing to the bot.
async fn play_page(Path(_token): Path<String>) -> Html<&'static str> {
    Html(include_str!("telegram_play.html"))
}
