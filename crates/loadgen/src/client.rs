//! Sockets of the load generator: a visitor that sends and counts acks, a
//! manager that receives every message of the shop.

use futures::StreamExt as _;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::Settings;

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A new visitor's socket (the gateway issues its token), after its `hello`.
pub async fn visitor(settings: &Settings) -> anyhow::Result<Ws> {
    let url = format!(
        "ws://{}/ws/visitor?site_key={}",
        settings.gateway, settings.site_key
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(&url).await?;
    expect_hello(&mut ws).await?;
    Ok(ws)
}

/// A visitor's socket as the widget opens it: connected, greeted, and on a
/// page of the shop (the `page` frame the widget sends first).
pub async fn widget(settings: &Settings, page: usize) -> anyhow::Result<Ws> {
    use futures::SinkExt as _;
    let mut ws = visitor(settings).await?;
    ws.send(page_frame(page)).await?;
    Ok(ws)
}

/// The widget's `page` frame for the shop's page number `n` (a new page view).
pub fn page_frame(n: usize) -> Message {
    let frame = json!({
        "type": "page",
        "url": format!("https://shop.example/products/{n}"),
        "title": format!("Product {n}"),
        "referrer": "https://search.example/",
        "page_view_id": uuid::Uuid::new_v4().to_string(),
        "pages_seen": 1,
    });
    Message::Text(frame.to_string().into())
}

/// A manager's session token.
pub async fn login(gateway: &str, email: &str, password: &str) -> anyhow::Result<String> {
    let body = json!({"email": email, "password": password});
    let login: Value = reqwest::Client::new()
        .post(format!("http://{gateway}/api/v1/auth/login"))
        .json(&body)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    login["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no token: {login}"))
}

/// A manager socket of the shop, signed in, after its `hello`.
pub async fn manager(settings: &Settings) -> anyhow::Result<Ws> {
    let token = login(&settings.gateway, &settings.email, &settings.password).await?;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    let mut request = format!("ws://{}/ws/manager", settings.gateway).into_client_request()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
    expect_hello(&mut ws).await?;
    Ok(ws)
}

async fn expect_hello(ws: &mut Ws) -> anyhow::Result<()> {
    match ws.next().await {
        Some(Ok(Message::Text(text))) if text.contains("\"hello\"") => Ok(()),
        other => anyhow::bail!("expected hello, got {other:?}"),
    }
}

pub fn send_frame(text: &str) -> Message {
    Message::Text(json!({"type": "send", "client_message_id": uuid::Uuid::new_v4().to_string(), "text": text}).to_string().into())
}

/// The text of a frame, if it is a `message` by a visitor.
pub fn visitor_message_text(frame: &Message) -> Option<String> {
    let Message::Text(text) = frame else {
        return None;
    };
    let value: Value = serde_json::from_str(text).ok()?;
    (value["type"] == "message" && value["message"]["author_kind"] == "visitor")
        .then(|| value["message"]["text"].as_str().map(str::to_owned))
        .flatten()
}

/// An `error` frame (which answers a `send` the gateway refused).
pub fn is_error(frame: &Message) -> bool {
    matches!(frame, Message::Text(text) if text.contains("\"type\":\"error\""))
}

pub fn is_ack(frame: &Message) -> bool {
    // Quotes inside a JSON string are escaped, so only the frame's own type matches.
    matches!(frame, Message::Text(text) if text.contains("\"type\":\"ack\""))
}

/// Each socket sends a message stamped `lat:<ns since epoch>` every
/// `interval` (the sockets spread evenly over it) until `deadline`, dropping
/// what comes back, then waits `linger` for the last answers; the stamps sent.
pub async fn paced(
    sockets: Vec<Ws>,
    interval: std::time::Duration,
    deadline: std::time::Instant,
    epoch: std::time::Instant,
    linger: std::time::Duration,
) -> anyhow::Result<Vec<u64>> {
    use futures::SinkExt as _;
    let count = sockets.len();
    let writers: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(i, ws)| {
            tokio::spawn(async move {
                let (mut sink, mut source) = ws.split();
                let drain = tokio::spawn(async move { while source.next().await.is_some() {} });
                tokio::time::sleep(interval.mul_f64(i as f64 / count as f64)).await;
                let mut tick = tokio::time::interval(interval);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                let mut stamps = Vec::new();
                while std::time::Instant::now() < deadline {
                    tick.tick().await;
                    let stamp = epoch.elapsed().as_nanos() as u64;
                    sink.send(send_frame(&format!("lat:{stamp}"))).await?;
                    stamps.push(stamp);
                }
                tokio::time::sleep(linger).await;
                drain.abort();
                anyhow::Ok(stamps)
            })
        })
        .collect();
    let mut sent = Vec::new();
    for writer in writers {
        sent.extend(writer.await??);
    }
    Ok(sent)
}
