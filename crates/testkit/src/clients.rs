//! Clients of the public API for tests: REST with JSON bodies, and a
//! WebSocket client that reads JSON frames and close codes.

use std::collections::VecDeque;

use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::PATIENCE;

/// REST client of one gateway, optionally signed in.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub token: Option<String>,
    http: reqwest::Client,
}

impl Api {
    pub fn new(gateway_port: u16) -> Api {
        Api {
            base: format!("http://127.0.0.1:{gateway_port}"),
            token: None,
            // An API's answer as it is: a redirect is a status to check, not
            // a page to fetch.
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client"),
        }
    }

    pub fn with_token(&self, token: &str) -> Api {
        Api {
            token: Some(token.to_owned()),
            ..self.clone()
        }
    }

    /// Signs in; panics unless it works.
    pub async fn login(gateway_port: u16, email: &str, password: &str) -> Api {
        let api = Api::new(gateway_port);
        let (status, body) = api
            .post(
                "/api/v1/auth/login",
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(status, 200, "login failed: {body}");
        api.with_token(body["token"].as_str().expect("token"))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.http.post(format!("{}{path}", self.base)).json(&body))
            .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.http.patch(format!("{}{path}", self.base)).json(&body))
            .await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.http.put(format!("{}{path}", self.base)).json(&body))
            .await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(self.http.delete(format!("{}{path}", self.base)))
            .await
    }

    /// Posts a raw body, for malformed-input tests.
    pub async fn post_raw(&self, path: &str, body: &str) -> (u16, Value) {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json");
        self.send(request.body(body.to_owned())).await
    }

    /// Posts raw bytes (a file upload) with the headers given.
    pub async fn post_bytes(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        bytes: Vec<u8>,
    ) -> (u16, Value) {
        let mut request = self.http.post(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request.body(bytes)).await
    }

    /// A GET whose answer is not JSON (a file): its status, headers and bytes.
    pub async fn get_bytes(&self, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("gateway reachable");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map(|b| b.to_vec())
            .unwrap_or_default();
        (status, headers, bytes)
    }

    async fn send(&self, mut request: reqwest::RequestBuilder) -> (u16, Value) {
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("gateway reachable");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

/// The token the gateway issued to a visitor of [`Socket::visitor`], once
/// their first socket has said hello.
pub fn visitor_token(gateway_port: u16, site_key: &str, visitor: &str) -> Option<String> {
    let name = (gateway_port, site_key.to_owned(), visitor.to_owned());
    VISITOR_TOKENS.lock().expect("tokens").get(&name).cloned()
}

/// What a socket read returned.
#[derive(Debug)]
pub enum Frame {
    Json(Value),
    Closed { code: u16, reason: String },
}

/// A WebSocket client reading JSON frames; frames passed over by
/// [`Socket::wait_for`] are kept for later reads.
pub struct Socket {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pending: VecDeque<Value>,
    /// A close read early (by [`Socket::visitor`]), for the next read.
    pending_close: Option<Frame>,
}

/// The visitor tokens the gateway issued, by its port, the site key and the
/// name a test gave its visitor, so a test's "same visitor" comes back with
/// its token (and two tests' suites never share one).
static VISITOR_TOKENS: std::sync::LazyLock<std::sync::Mutex<VisitorTokens>> =
    std::sync::LazyLock::new(Default::default);

/// Tokens by (gateway port, site key, visitor name).
type VisitorTokens = std::collections::HashMap<(u16, String, String), String>;

impl Socket {
    pub async fn connect(url: &str) -> Socket {
        let (stream, _) = tokio_tungstenite::connect_async(url)
            .await
            .unwrap_or_else(|e| panic!("connect {url}: {e}"));
        Socket {
            stream,
            pending: VecDeque::new(),
            pending_close: None,
        }
    }

    /// A visitor socket as the widget opens it. `visitor` names the test's
    /// visitor: the first socket of that name connects without a token and
    /// keeps the one the gateway issues in `hello`; later ones bring it, so
    /// they are the same visitor. The `hello` stays for the test to read.
    pub async fn visitor(
        gateway_port: u16,
        site_key: &str,
        visitor: &str,
        after_seq: Option<i64>,
    ) -> Socket {
        let name = (gateway_port, site_key.to_owned(), visitor.to_owned());
        let known = VISITOR_TOKENS.lock().expect("tokens").get(&name).cloned();
        let mut url = format!("ws://127.0.0.1:{gateway_port}/ws/visitor?site_key={site_key}");
        if let Some(token) = &known {
            url.push_str(&format!("&visitor_token={token}"));
        }
        if let Some(after) = after_seq {
            url.push_str(&format!("&after_seq={after}"));
        }
        let mut socket = Socket::connect(&url).await;
        if known.is_none() {
            match socket.next().await {
                Frame::Json(hello) => {
                    if let Some(token) = hello["visitor_token"].as_str() {
                        VISITOR_TOKENS
                            .lock()
                            .expect("tokens")
                            .insert(name, token.to_owned());
                    }
                    socket.pending.push_front(hello);
                }
                closed => socket.pending_close = Some(closed),
            }
        }
        socket
    }

    /// A visitor socket opened with exactly these query parameters and
    /// `Origin`, or the HTTP status that refused the upgrade.
    pub async fn try_visitor(
        gateway_port: u16,
        query: &str,
        origin: Option<&str>,
    ) -> Result<Socket, u16> {
        let headers: Vec<(&str, &str)> = origin.map(|o| ("origin", o)).into_iter().collect();
        Socket::try_visitor_with(gateway_port, query, &headers).await
    }

    /// A visitor socket opened with these query parameters and headers
    /// (`x-forwarded-for`, say), or the HTTP status that refused the upgrade.
    pub async fn try_visitor_with(
        gateway_port: u16,
        query: &str,
        headers: &[(&str, &str)],
    ) -> Result<Socket, u16> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
        use tokio_tungstenite::tungstenite::http::HeaderName;
        let url = format!("ws://127.0.0.1:{gateway_port}/ws/visitor?{query}");
        let mut request = url.into_client_request().expect("a request");
        for (name, value) in headers {
            let name: HeaderName = name.parse().expect("a header name");
            request
                .headers_mut()
                .insert(name, value.parse().expect("header"));
        }
        Socket::upgrade(request).await
    }

    async fn upgrade(
        request: tokio_tungstenite::tungstenite::handshake::client::Request,
    ) -> Result<Socket, u16> {
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, _)) => Ok(Socket {
                stream,
                pending: VecDeque::new(),
                pending_close: None,
            }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(response.status().as_u16())
            }
            Err(e) => panic!("socket: {e}"),
        }
    }

    /// A manager socket, signed in with a bearer token (no secret in the URL).
    pub async fn manager(gateway_port: u16, token: &str) -> Socket {
        let response = Socket::try_manager(gateway_port, Some(token), None).await;
        response.unwrap_or_else(|status| panic!("manager socket refused with {status}"))
    }

    /// A manager socket with the given bearer token and `Origin`, or the HTTP
    /// status that refused the upgrade.
    pub async fn try_manager(
        gateway_port: u16,
        token: Option<&str>,
        origin: Option<&str>,
    ) -> Result<Socket, u16> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
        let url = format!("ws://127.0.0.1:{gateway_port}/ws/manager");
        let mut request = url.into_client_request().expect("a request");
        if let Some(token) = token {
            let value = format!("Bearer {token}").parse().expect("header");
            request.headers_mut().insert("authorization", value);
        }
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", origin.parse().expect("header"));
        }
        Socket::upgrade(request).await
    }

    pub async fn send_json(&mut self, frame: Value) {
        self.send_text(&frame.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream
            .send(Message::Text(text.into()))
            .await
            .expect("socket send");
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.stream
            .send(Message::Binary(bytes.into()))
            .await
            .expect("socket send");
    }

    /// The next frame, or the close; panics after [`PATIENCE`].
    pub async fn next(&mut self) -> Frame {
        if let Some(value) = self.pending.pop_front() {
            return Frame::Json(value);
        }
        if let Some(closed) = self.pending_close.take() {
            return closed;
        }
        loop {
            let read = tokio::time::timeout(PATIENCE, self.stream.next())
                .await
                .expect("no frame in time");
            match read {
                Some(Ok(Message::Text(text))) => {
                    return Frame::Json(serde_json::from_str(&text).expect("frames are JSON"));
                }
                Some(Ok(Message::Close(frame))) => {
                    return frame.map_or(
                        Frame::Closed {
                            code: 1005,
                            reason: String::new(),
                        },
                        |f| Frame::Closed {
                            code: f.code.into(),
                            reason: f.reason.to_string(),
                        },
                    );
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => {
                    return Frame::Closed {
                        code: 1006,
                        reason: String::new(),
                    };
                }
            }
        }
    }

    /// The next JSON frame; panics if the socket closes instead.
    pub async fn next_json(&mut self) -> Value {
        match self.next().await {
            Frame::Json(value) => value,
            Frame::Closed { code, reason } => {
                panic!("socket closed ({code} {reason}) while a frame was expected")
            }
        }
    }

    /// The first frame (pending or new) matching `wanted`; others are kept.
    pub async fn wait_for(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.pending.iter().position(&wanted) {
            return self.pending.remove(i).expect("index");
        }
        let mut skipped = Vec::new();
        loop {
            let frame = match self.next().await {
                Frame::Json(value) => value,
                Frame::Closed { code, reason } => {
                    panic!("socket closed ({code} {reason}) waiting for {what}")
                }
            };
            if wanted(&frame) {
                self.pending.extend(skipped);
                return frame;
            }
            skipped.push(frame);
        }
    }

    pub async fn wait_for_type(&mut self, frame_type: &str) -> Value {
        self.wait_for(frame_type, |f| f["type"] == frame_type).await
    }

    /// What the socket has been sent so far, up to the answer to a ping,
    /// leaving out who came online or went (that may change at any moment).
    pub async fn drain_but_presence(&mut self) -> Vec<Value> {
        let mut frames = self.drain().await;
        frames.retain(|frame| !is_presence(frame));
        frames
    }

    /// Every frame up to the answer to a ping: what the socket has been sent so far.
    pub async fn drain(&mut self) -> Vec<Value> {
        self.send_json(json!({"type": "ping"})).await;
        let mut frames: Vec<Value> = self.pending.drain(..).collect();
        loop {
            let frame = self.next_json().await;
            if frame["type"] == "pong" {
                return frames;
            }
            frames.push(frame);
        }
    }

    /// Waits for the close; panics if a frame that is not an error comes
    /// first (who is online may change at any moment: those frames pass).
    pub async fn closed(&mut self) -> (u16, String) {
        loop {
            match self.next().await {
                Frame::Closed { code, reason } => return (code, reason),
                Frame::Json(value) if is_presence(&value) => {}
                Frame::Json(value) => {
                    assert_eq!(value["type"], "error", "expected the close, got {value}")
                }
            }
        }
    }
}

/// The `seq` of every message frame among `frames`, for a dialog.
pub fn message_seqs(frames: &[Value], dialog_id: &str) -> Vec<i64> {
    frames
        .iter()
        .filter(|f| f["type"] == "message" && f["message"]["dialog_id"] == dialog_id)
        .filter_map(|f| f["message"]["seq"].as_i64())
        .collect()
}

/// A frame saying who came online or went, which may come at any moment.
pub fn is_presence(frame: &Value) -> bool {
    const PRESENCE: [&str; 4] = [
        "manager_presence",
        "visitor_online",
        "visitor_offline",
        "presence",
    ];
    PRESENCE.iter().any(|kind| frame["type"] == *kind)
}
