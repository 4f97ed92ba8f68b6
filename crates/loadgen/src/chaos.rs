//! `make chaos`: the five services as separate release processes, on a
//! PostgreSQL and a NATS of the run's own, under a steady load of visitors
//! sending and a manager receiving and replying, while each service in turn,
//! then NATS, then PostgreSQL is killed (`kill -9`; PostgreSQL an immediate
//! stop, as a crash) and started again. Clients behave as the widget and the
//! console do: they reconnect, resend what was not acknowledged (same client
//! id), and catch up (`after_seq`, `sync`). Then everything is read back and
//! counted; the run fails unless nothing was lost, doubled or disordered.
//!
//! Settings (environment): `CHAOS_SECONDS` (load, default 70), `CHAOS_RATE`
//! (visitor messages per second, default 100), `CHAOS_BIN` (where the
//! release binaries are, default `target/release`).

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;

use chat_testkit::nats::{NatsServer, free_port};
use chat_testkit::postgres::PgServer;

use crate::client::Ws;

const VISITORS: usize = 20;
/// A manager reply for every this many visitor messages.
const REPLY_EVERY: u64 = 5;
/// How long a killed process stays down.
const DOWN_FOR: Duration = Duration::from_secs(2);
/// Resend what was not acknowledged after this long.
const RESEND_AFTER: Duration = Duration::from_secs(2);
/// How long clients may take to get every message acknowledged after the load.
const DRAIN: Duration = Duration::from_secs(90);
/// While the load runs, the manager's socket also drops its connection this
/// often, as a blinking network would, besides when the gateway is killed:
/// live messages then reach the new socket before its `sync`, and every one
/// must still arrive once.
const MANAGER_BLINK_EVERY: Duration = Duration::from_secs(7);
const SERVICES: [&str; 5] = [
    "dialog",
    "contact",
    "notification",
    "channel-bridge",
    "gateway",
];

/// What every client saw, shared with the final count.
#[derive(Default)]
struct Tally {
    /// Texts of messages clients sent, each once however often it was resent.
    sent: HashSet<String>,
    /// Texts the suite acknowledged.
    acknowledged: HashSet<String>,
    /// Message ids each side received, over all its sockets.
    manager_received: HashSet<String>,
    visitors_received: HashSet<String>,
    /// A message sent twice on one socket, or a dialog's message after a later one.
    twice_on_a_socket: u64,
    out_of_order: u64,
    reconnects: u64,
    /// Visitors that have had all their messages acknowledged.
    visitors_acknowledged: usize,
    /// The manager has had its replies acknowledged and heard nothing more for a while.
    manager_done: bool,
}

type Shared = Arc<Mutex<Tally>>;

/// What one socket has sent its client: per dialog the last seq, and the ids.
#[derive(Default)]
struct SocketView {
    last_seq: HashMap<String, i64>,
    ids: HashSet<String>,
}

impl SocketView {
    /// Counts a message frame; returns its id, dialog and seq.
    fn see(&mut self, tally: &Shared, message: &Value) -> Option<(String, String, i64)> {
        let id = message["id"].as_str()?.to_owned();
        let dialog = message["dialog_id"].as_str()?.to_owned();
        let seq = message["seq"].as_i64()?;
        let mut tally = tally.lock().expect("tally");
        if !self.ids.insert(id.clone()) {
            tally.twice_on_a_socket += 1;
        }
        let last = self.last_seq.entry(dialog.clone()).or_insert(0);
        if seq <= *last {
            tally.out_of_order += 1;
        }
        *last = (*last).max(seq);
        Some((id, dialog, seq))
    }
}

pub async fn run() -> anyhow::Result<String> {
    let seconds: u64 = std::env::var("CHAOS_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(70);
    let rate: u64 = std::env::var("CHAOS_RATE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let bin = PathBuf::from(std::env::var("CHAOS_BIN").unwrap_or_else(|_| "target/release".into()));

    eprintln!("starting a PostgreSQL and a NATS of the run's own ...");
    let mut pg = PgServer::start().await;
    let admin = sqlx::PgPool::connect(&pg.url("postgres")).await?;
    sqlx::query("create database chat").execute(&admin).await?;
    admin.close().await;
    let mut nats = NatsServer::start().await;
    let (gateway_port, gateway_ops_port) = (free_port(), free_port());
    let env = environment(&pg.url("chat"), &nats.url(), gateway_port, gateway_ops_port);
    let logs = std::env::temp_dir().join(format!("chaos-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&logs)?;
    eprintln!("service logs in {}", logs.display());
    let mut services = Services {
        bin,
        env,
        logs,
        children: HashMap::new(),
    };
    for name in SERVICES {
        services.start(name)?;
    }
    let gateway = format!("127.0.0.1:{gateway_port}");
    wait_until_ready(&format!("127.0.0.1:{gateway_ops_port}")).await?;

    let tally: Shared = Default::default();
    let load_until = Instant::now() + Duration::from_secs(seconds);
    // Sessions outlive a gateway restart: one sign-in for the whole run.
    let token = crate::client::login(&gateway, "demo@example.com", "demo-password").await?;
    let manager = tokio::spawn(manager(
        gateway.clone(),
        token.clone(),
        tally.clone(),
        load_until,
    ));
    let interval = Duration::from_secs_f64(VISITORS as f64 / rate.max(1) as f64);
    let visitors: Vec<_> = (0..VISITORS)
        .map(|v| {
            tokio::spawn(visitor(
                gateway.clone(),
                v,
                interval,
                tally.clone(),
                load_until,
            ))
        })
        .collect();

    // The faults, spread over the load.
    let faults = SERVICES.len() + 2;
    let spacing = Duration::from_secs(seconds) / (faults as u32 + 1);
    let mut schedule = Vec::new();
    for name in SERVICES {
        tokio::time::sleep(spacing).await;
        eprintln!("kill -9 {name}");
        services.kill(name).await;
        tokio::time::sleep(DOWN_FOR).await;
        services.start(name)?;
        schedule.push(format!("{name} killed (-9) and restarted"));
    }
    tokio::time::sleep(spacing).await;
    eprintln!("kill -9 NATS");
    nats.stop().await;
    tokio::time::sleep(DOWN_FOR).await;
    nats.resume().await;
    schedule.push("NATS killed (-9) and restarted".into());
    tokio::time::sleep(spacing).await;
    eprintln!("crash PostgreSQL");
    pg.stop().await;
    tokio::time::sleep(DOWN_FOR).await;
    pg.resume().await;
    schedule.push("PostgreSQL crashed (immediate stop) and restarted".into());

    manager.await??;
    for visitor in visitors {
        visitor.await??;
    }
    eprintln!("reading everything back ...");
    let report = count(&pg.url("chat"), &tally).await?;
    services.stop_all().await;
    Ok(format!(
        "### Chaos: {seconds} s of load at {rate} visitor messages/s, {VISITORS} visitors, one manager replying to every {REPLY_EVERY}th\n\n\
         Faults, in turn: {}.\n\n{report}",
        schedule.join("; ")
    ))
}

/// A budget no load of the run reaches.
const UNLIMITED: &str = "1000000";

fn environment(
    database_url: &str,
    nats_url: &str,
    gateway_port: u16,
    gateway_ops_port: u16,
) -> Vec<(String, String)> {
    let ports: Vec<u16> = (0..7).map(|_| free_port()).collect();
    [
        ("CHAT_DATABASE_URL", database_url.to_owned()),
        ("CHAT_NATS_URL", nats_url.to_owned()),
        ("CHAT_NATS_PREFIX", "chaos".into()),
        ("CHAT_LOG_FORMAT", "json".into()),
        ("RUST_LOG", "warn".into()),
        ("GATEWAY_HTTP_ADDR", format!("127.0.0.1:{gateway_port}")),
        ("GATEWAY_OPS_ADDR", format!("127.0.0.1:{gateway_ops_port}")),
        ("GATEWAY_SEED_DEMO", "true".into()),
        // Every simulated visitor comes from 127.0.0.1: no per-address budgets.
        ("GATEWAY_VISITOR_SOCKETS_PER_ADDRESS", UNLIMITED.into()),
        (
            "GATEWAY_VISITOR_CONNECTS_PER_MINUTE_PER_ADDRESS",
            UNLIMITED.into(),
        ),
        (
            "GATEWAY_NEW_VISITORS_PER_MINUTE_PER_ADDRESS",
            UNLIMITED.into(),
        ),
        ("GATEWAY_NEW_VISITORS_PER_MINUTE_PER_SITE", UNLIMITED.into()),
        (
            "GATEWAY_FIRST_MESSAGES_PER_MINUTE_PER_ADDRESS",
            UNLIMITED.into(),
        ),
        (
            "GATEWAY_FIRST_MESSAGES_PER_MINUTE_PER_SITE",
            UNLIMITED.into(),
        ),
        ("DIALOG_GRPC_ADDR", format!("127.0.0.1:{}", ports[0])),
        ("DIALOG_OPS_ADDR", format!("127.0.0.1:{}", ports[1])),
        ("CONTACT_GRPC_ADDR", format!("127.0.0.1:{}", ports[2])),
        ("CONTACT_OPS_ADDR", format!("127.0.0.1:{}", ports[3])),
        ("NOTIFICATION_OPS_ADDR", format!("127.0.0.1:{}", ports[4])),
        ("BRIDGE_HTTP_ADDR", format!("127.0.0.1:{}", ports[5])),
        ("BRIDGE_GRPC_ADDR", format!("127.0.0.1:{}", ports[6])),
        (
            "BRIDGE_DIALOG_URL",
            format!("http://127.0.0.1:{}", ports[0]),
        ),
        (
            "BRIDGE_CONTACT_URL",
            format!("http://127.0.0.1:{}", ports[2]),
        ),
        (
            "GATEWAY_BRIDGE_URL",
            format!("http://127.0.0.1:{}", ports[6]),
        ),
        (
            "GATEWAY_DIALOG_URL",
            format!("http://127.0.0.1:{}", ports[0]),
        ),
        (
            "GATEWAY_CONTACT_URL",
            format!("http://127.0.0.1:{}", ports[2]),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The five service processes.
struct Services {
    bin: PathBuf,
    env: Vec<(String, String)>,
    logs: PathBuf,
    children: HashMap<&'static str, Child>,
}

impl Services {
    fn start(&mut self, name: &'static str) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.logs.join(format!("{name}.log")))?;
        let child = Command::new(self.bin.join(name))
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start {name} from {}: {e}", self.bin.display()))?;
        self.children.insert(name, child);
        Ok(())
    }

    /// SIGKILL, as a crash.
    async fn kill(&mut self, name: &str) {
        if let Some(mut child) = self.children.remove(name) {
            let _ = child.kill().await;
        }
    }

    async fn stop_all(&mut self) {
        for (_, mut child) in self.children.drain() {
            let _ = child.kill().await;
        }
    }
}

/// Waits for the gateway's `/readyz` on its ops address.
async fn wait_until_ready(gateway_ops: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = reqwest::get(format!("http://{gateway_ops}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the gateway did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn text_frame(value: Value) -> Message {
    Message::Text(value.to_string().into())
}

fn parse(frame: &Message) -> Option<Value> {
    match frame {
        Message::Text(text) => serde_json::from_str(text).ok(),
        _ => None,
    }
}

/// A message waiting for its ack.
struct Pending {
    client_id: String,
    text: String,
    dialog_id: Option<String>,
    sent_at: Instant,
}

/// One visitor: sends at its pace until the load ends, resends what was not
/// acknowledged (on reconnect, and when it waited too long), and counts the
/// manager's replies it receives.
async fn visitor(
    gateway: String,
    number: usize,
    interval: Duration,
    tally: Shared,
    load_until: Instant,
) -> anyhow::Result<()> {
    let mut token = String::new();
    // Every seq of the dialog this visitor holds; a reconnect asks for what
    // came after the last one before a gap (as the widget does).
    let mut held: std::collections::BTreeSet<i64> = Default::default();
    let mut pending: VecDeque<Pending> = VecDeque::new();
    let mut next = 0u64;
    let started = Instant::now();
    // Spread the visitors over the interval.
    tokio::time::sleep(interval.mul_f64(number as f64 / VISITORS as f64)).await;
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let give_up = load_until + DRAIN;
    let mut counted_done = false;
    // Done once the load is over, all is acknowledged, and the manager (whose
    // replies it waits for) is done too.
    let mut done = |pending: &VecDeque<Pending>| {
        if Instant::now() < load_until || !pending.is_empty() {
            return false;
        }
        let mut tally = tally.lock().expect("tally");
        if !counted_done {
            counted_done = true;
            tally.visitors_acknowledged += 1;
        }
        tally.manager_done
    };
    'connect: loop {
        if Instant::now() >= give_up {
            anyhow::bail!(
                "visitor {number}: {} messages never acknowledged",
                pending.len()
            );
        }
        if done(&pending) {
            return Ok(());
        }
        let through = held
            .iter()
            .zip(1..)
            .take_while(|(seq, n)| **seq == *n)
            .count();
        let url = format!(
            "ws://{gateway}/ws/visitor?site_key=demo-site-key&after_seq={through}{}",
            if token.is_empty() {
                String::new()
            } else {
                format!("&visitor_token={token}")
            }
        );
        let Ok((mut ws, _)) = tokio_tungstenite::connect_async(&url).await else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        if started.elapsed() > Duration::from_secs(1) {
            tally.lock().expect("tally").reconnects += 1;
        }
        let mut view = SocketView::default();
        // What was not acknowledged goes again, with the same client ids.
        for p in pending.iter_mut() {
            p.sent_at = Instant::now();
            if ws.send(send_frame(p)).await.is_err() {
                continue 'connect;
            }
        }
        loop {
            if done(&pending) {
                let _ = ws.close(None).await;
                return Ok(());
            }
            if Instant::now() >= give_up {
                continue 'connect;
            }
            let sending = Instant::now() < load_until;
            tokio::select! {
                _ = tick.tick(), if sending => {
                    next += 1;
                    let text = format!("chaos v{number} #{next}");
                    tally.lock().expect("tally").sent.insert(text.clone());
                    let p = Pending { client_id: uuid::Uuid::new_v4().to_string(), text, dialog_id: None, sent_at: Instant::now() };
                    let frame = send_frame(&p);
                    pending.push_back(p);
                    if ws.send(frame).await.is_err() { continue 'connect; }
                }
                _ = tokio::time::sleep(RESEND_AFTER) => {
                    if resend_overdue(&mut ws, &mut pending).await.is_err() { continue 'connect; }
                }
                frame = ws.next() => {
                    let Some(Ok(frame)) = frame else { continue 'connect };
                    let Some(value) = parse(&frame) else { continue };
                    match value["type"].as_str() {
                        Some("hello") => {
                            if let Some(t) = value["visitor_token"].as_str() { token = t.to_owned(); }
                        }
                        Some("ack") => {
                            acknowledge(&value, &mut pending, &tally);
                            if let Some(seq) = value["message"]["seq"].as_i64() { held.insert(seq); }
                        }
                        Some("message") => {
                            if let Some((id, _, seq)) = view.see(&tally, &value["message"]) {
                                held.insert(seq);
                                if value["message"]["author_kind"] == "manager" {
                                    tally.lock().expect("tally").visitors_received.insert(id);
                                }
                            }
                        }
                        _ => {} // errors (unavailable): resent after a while
                    }
                }
            }
        }
    }
}

/// Sends again what waited too long for its ack (same client ids).
async fn resend_overdue(ws: &mut Ws, pending: &mut VecDeque<Pending>) -> anyhow::Result<()> {
    for p in pending
        .iter_mut()
        .filter(|p| p.sent_at.elapsed() >= RESEND_AFTER)
    {
        p.sent_at = Instant::now();
        ws.send(send_frame(p)).await?;
    }
    Ok(())
}

/// An ack: the message it answers is no longer pending, and counts as acknowledged.
fn acknowledge(ack: &Value, pending: &mut VecDeque<Pending>, tally: &Shared) {
    let client_id = ack["client_message_id"].as_str().unwrap_or_default();
    if let Some(i) = pending.iter().position(|p| p.client_id == client_id) {
        let p = pending.remove(i).expect("present");
        tally.lock().expect("tally").acknowledged.insert(p.text);
    }
}

fn send_frame(p: &Pending) -> Message {
    let mut frame = json!({"type": "send", "client_message_id": p.client_id, "text": p.text});
    if let Some(dialog_id) = &p.dialog_id {
        frame["dialog_id"] = dialog_id.clone().into();
    }
    text_frame(frame)
}

/// The manager: receives every visitor message, replies to every
/// [`REPLY_EVERY`]th, and after each reconnect catches up on every dialog.
async fn manager(
    gateway: String,
    token: String,
    tally: Shared,
    load_until: Instant,
) -> anyhow::Result<()> {
    // What the manager holds of each dialog, as a console keeps it: every
    // seq up to the first gap, and those after it; a sync asks after the gap.
    let mut seen: HashMap<String, Held> = HashMap::new();
    let mut pending: VecDeque<Pending> = VecDeque::new();
    let mut replied: HashSet<String> = HashSet::new();
    let give_up = load_until + DRAIN;
    // The manager stays until every visitor is done, its own replies are
    // acknowledged, and nothing has come for a while.
    let mut quiet_since = Instant::now();
    'connect: loop {
        anyhow::ensure!(
            Instant::now() < give_up,
            "manager: {} replies never acknowledged",
            pending.len()
        );
        let Ok(mut ws) = manager_socket(&gateway, &token).await else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        if !seen.is_empty() {
            tally.lock().expect("tally").reconnects += 1;
        }
        let mut view = SocketView::default();
        let blink_at = tokio::time::Instant::now() + MANAGER_BLINK_EVERY;
        // Catch up on every dialog, including those opened while away.
        let dialogs = match list_dialogs(&gateway, &token).await {
            Ok(dialogs) => dialogs,
            Err(_) => continue,
        };
        for dialog in dialogs {
            let after = seen.get(&dialog).map_or(0, |held| held.through);
            let sync = json!({"type": "sync", "dialog_id": dialog, "after_seq": after});
            if ws.send(text_frame(sync)).await.is_err() {
                continue 'connect;
            }
        }
        for p in pending.iter_mut() {
            p.sent_at = Instant::now();
            if ws.send(send_frame(p)).await.is_err() {
                continue 'connect;
            }
        }
        loop {
            let visitors_done = tally.lock().expect("tally").visitors_acknowledged == VISITORS;
            if visitors_done && pending.is_empty() && quiet_since.elapsed() > Duration::from_secs(5)
            {
                tally.lock().expect("tally").manager_done = true;
                return Ok(());
            }
            if Instant::now() >= give_up {
                continue 'connect;
            }
            tokio::select! {
                _ = tokio::time::sleep_until(blink_at), if Instant::now() < load_until => {
                    // Dropped without a close, as a lost network drops it.
                    continue 'connect;
                }
                _ = tokio::time::sleep(Duration::from_secs(1)) => {
                    if resend_overdue(&mut ws, &mut pending).await.is_err() { continue 'connect; }
                }
                frame = ws.next() => {
                    let Some(Ok(frame)) = frame else { continue 'connect };
                    let Some(value) = parse(&frame) else { continue };
                    match value["type"].as_str() {
                        Some("message") => {
                            quiet_since = Instant::now();
                            let message = &value["message"];
                            let Some((id, dialog, seq)) = view.see(&tally, message) else { continue };
                            seen.entry(dialog.clone()).or_default().add(seq);
                            if message["author_kind"] != "visitor" { continue; }
                            tally.lock().expect("tally").manager_received.insert(id.clone());
                            let text = message["text"].as_str().unwrap_or_default();
                            let number: u64 = text.rsplit('#').next().and_then(|n| n.parse().ok()).unwrap_or(0);
                            if number.is_multiple_of(REPLY_EVERY) && replied.insert(id.clone()) {
                                let text = format!("chaos reply to {id}");
                                tally.lock().expect("tally").sent.insert(text.clone());
                                let p = Pending { client_id: format!("reply-{id}"), text, dialog_id: Some(dialog), sent_at: Instant::now() };
                                let frame = send_frame(&p);
                                pending.push_back(p);
                                if ws.send(frame).await.is_err() { continue 'connect; }
                            }
                        }
                        Some("ack") => acknowledge(&value, &mut pending, &tally),
                        _ => {}
                    }
                }
            }
        }
    }
}

/// The messages of one dialog a client holds: all up to `through`, and
/// some after a gap.
#[derive(Default)]
struct Held {
    through: i64,
    after_gap: std::collections::BTreeSet<i64>,
}

impl Held {
    fn add(&mut self, seq: i64) {
        if seq > self.through {
            self.after_gap.insert(seq);
        }
        while self.after_gap.remove(&(self.through + 1)) {
            self.through += 1;
        }
    }
}

async fn manager_socket(gateway: &str, token: &str) -> anyhow::Result<Ws> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    let mut request = format!("ws://{gateway}/ws/manager").into_client_request()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    let (ws, _) = tokio_tungstenite::connect_async(request).await?;
    Ok(ws)
}

async fn list_dialogs(gateway: &str, token: &str) -> anyhow::Result<Vec<String>> {
    let page: Value = reqwest::Client::new()
        .get(format!("http://{gateway}/api/v1/dialogs?limit=200"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(page["dialogs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["id"].as_str().map(str::to_owned))
        .collect())
}

/// Reads back what was stored and counts; fails the run when anything was
/// lost, doubled or disordered.
async fn count(database_url: &str, tally: &Shared) -> anyhow::Result<String> {
    let pool = sqlx::PgPool::connect(database_url).await?;
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "select id::text, author_kind, text from dialog.message where author_kind <> 'system'",
    )
    .fetch_all(&pool)
    .await?;
    pool.close().await;

    let tally = tally.lock().expect("tally");
    let mut texts: HashMap<&str, u64> = HashMap::new();
    for (_, _, text) in &rows {
        *texts.entry(text.as_str()).or_default() += 1;
    }
    let stored = texts.len() as u64;
    let stored_twice = texts.values().filter(|n| **n > 1).count() as u64;
    let lost = tally
        .acknowledged
        .iter()
        .filter(|t| !texts.contains_key(t.as_str()))
        .count() as u64;
    let missing = |side: &str, received: &HashSet<String>| {
        let missing: Vec<&str> = rows
            .iter()
            .filter(|(id, author, _)| author == side && !received.contains(id))
            .map(|(_, _, text)| text.as_str())
            .collect();
        if !missing.is_empty() {
            eprintln!(
                "{side} messages never received: {:?}",
                &missing[..missing.len().min(10)]
            );
        }
        missing.len() as u64
    };
    let must_be_zero = [
        ("lost (acknowledged, not stored)", lost),
        ("stored twice", stored_twice),
        ("delivered twice on a socket", tally.twice_on_a_socket),
        (
            "visitors' messages missing on the manager's socket",
            missing("visitor", &tally.manager_received),
        ),
        (
            "replies missing on their visitor's socket",
            missing("manager", &tally.visitors_received),
        ),
        ("out of order on a socket", tally.out_of_order),
    ];
    let mut table = format!(
        "| what | count |\n|---|---|\n\
         | sent | {} |\n| acknowledged | {} |\n| stored | {stored} |\n| reconnects of the clients' sockets | {} |\n",
        tally.sent.len(),
        tally.acknowledged.len(),
        tally.reconnects,
    );
    for (what, n) in must_be_zero {
        table.push_str(&format!("| {what} | {n} |\n"));
    }
    let failures: Vec<String> = must_be_zero
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(what, n)| format!("{what}: {n}"))
        .collect();
    anyhow::ensure!(
        failures.is_empty(),
        "the chaos run found faults: {}\n\n{table}",
        failures.join(", ")
    );
    Ok(table)
}
