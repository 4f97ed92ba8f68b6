//! E-mail and push (`BENCH_ONLY=notifications`). The notification service
//! sends to the load generator's own SMTP server ([`mail_sink`]) and push
//! service ([`push_sink`]); measured:
//! - the SMTP server's ceiling: e-mails per second from lettre alone, with
//!   the suite's pool size;
//! - e-mails per second the suite sends when a manager answers many
//!   visitors who left, in a burst;
//! - the delay from a manager's reply to the visitor's e-mail, and from a
//!   visitor's message to the away manager's e-mail and push (p50, p99);
//! - CPU per message with the manager in the console (nothing to send) and
//!   away (an e-mail and a push for each message), per process.
//!
//! Every message carries its send time (`lat:<ns>`); the e-mails' text and
//! the pushes' decrypted body carry it back.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::{SinkExt as _, StreamExt as _, TryStreamExt as _};
use hdrhistogram::Histogram;
use serde_json::{Value, json};

use crate::mail_sink::{self, Arrival, Arrivals};
use crate::{Settings, client, cpu, env, push_sink};

/// Replies a second while the reply-to-e-mail delay is measured.
const REPLY_RATE: u64 = 50;
const STEADY_REPLIES: usize = 200;
/// Replies sent at once for the suite's e-mails per second.
const BURST_REPLIES: usize = 1_000;
/// Requests in flight in the burst, and visitors set up at once.
const CONCURRENCY: usize = 32;
/// E-mails lettre sends alone for the SMTP server's ceiling.
const CEILING_EMAILS: usize = 2_000;
/// Visitors writing while the manager is away, and their messages a second.
const ALERT_VISITORS: usize = 50;
const ALERT_RATE: u64 = 100;
/// The longest wait for what was sent to arrive.
const ARRIVAL_TIMEOUT: Duration = Duration::from_secs(120);

pub async fn measure(settings: &Settings) -> anyhow::Result<String> {
    let epoch = Instant::now();
    let smtp_addr = env("BENCH_SMTP", "127.0.0.1:18025");
    let push_addr = env("BENCH_PUSH", "127.0.0.1:18092");
    let pool_size: u32 = env("NOTIFICATION_SMTP_POOL_SIZE", "8").parse()?;
    let mail = mail_sink::start(&smtp_addr).await?;
    let ceiling = smtp_ceiling(&smtp_addr, pool_size).await?;
    // lettre writes a message's end apart from its body, so each e-mail
    // waits for the server's delayed ACK (Nagle): more connections, more e-mails.
    let wide_ceiling = smtp_ceiling(&smtp_addr, pool_size * 4).await?;

    let browser = push_sink::Browser::new()?;
    let keys = browser.keys();
    let pushes = push_sink::start(&push_addr, browser).await?;
    let api = Api::login(settings).await?;
    api.send(
        reqwest::Method::PATCH,
        "/api/v1/me/notifications",
        json!({"email": true, "push": true}),
    )
    .await?;
    api.send(
        reqwest::Method::POST,
        "/api/v1/me/push-subscriptions",
        json!({"endpoint": format!("http://{push_addr}/push"), "keys": keys}),
    )
    .await?;

    // The manager is in the console while answering visitors who left.
    let manager = client::manager(settings).await?;
    let (_, mut manager_frames) = manager.split();
    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    let listener = tokio::spawn(async move {
        while let Some(Ok(frame)) = manager_frames.next().await {
            if client::visitor_message_text(&frame).is_some_and(|t| t.starts_with("lat:")) {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    eprintln!("  visitors who leave ...");
    let dialogs = visitors_who_left(settings, STEADY_REPLIES + BURST_REPLIES).await?;
    let to_visitor = |a: &Arrival| a.to.iter().any(|to| to.ends_with("@visitors.example"));
    let (steady, burst) = dialogs.split_at(STEADY_REPLIES);

    eprintln!("  replies at {REPLY_RATE}/s ...");
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / REPLY_RATE as f64));
    let mut sent = HashSet::new();
    for dialog in steady {
        tick.tick().await;
        sent.insert(api.reply(dialog, epoch).await?);
    }
    let replies = Arrived::wait(&mail, to_visitor, true, &sent, epoch).await;

    eprintln!("  a burst of {BURST_REPLIES} replies ...");
    let started = Instant::now();
    let sent: HashSet<u64> = futures::stream::iter(burst)
        .map(|dialog| api.reply(dialog, epoch))
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
    let bursted = Arrived::wait(&mail, to_visitor, true, &sent, epoch).await;
    let burst_rate = bursted.count() as f64 / (bursted.last - started).as_secs_f64();

    eprintln!("  visitors write, the manager in the console ...");
    let processes = cpu::Processes::from_env();
    let before = processes.sample();
    let present_sent = visitors_writing(settings, epoch).await?;
    let present_cpu =
        processes.per_message(&before, &processes.sample(), present_sent.len() as u64);
    // The dialogs' alerts are looked at (and dropped: the manager was there) before the manager goes.
    tokio::time::sleep(Duration::from_secs(2)).await;
    listener.abort();
    let received = received.load(Ordering::Relaxed);

    eprintln!("  visitors write, the manager away ...");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let to_manager = |a: &Arrival| a.to.iter().any(|to| to == &settings.email);
    let before = processes.sample();
    let away_sent = visitors_writing(settings, epoch).await?;
    let alerted = Arrived::wait(&mail, to_manager, false, &away_sent, epoch).await;
    // A push shows the newest of the messages it is for: they are counted
    // once the e-mails, recorded with them, are all there.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pushed = Arrived::from(&pushes.snapshot(), &|_| true, false, &away_sent, epoch);
    let push_count = pushes.snapshot().len();
    let away_cpu = processes.per_message(&before, &processes.sample(), away_sent.len() as u64);

    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    let row = |what: &str, arrived: &Arrived, missing: bool| {
        format!(
            "| {what} | {} | {} | {:.1} | {:.1} | {:.1} |\n",
            arrived.count(),
            match missing {
                true => arrived.missing.to_string(),
                false => "–".into(),
            },
            ms(&arrived.delays, 0.5),
            ms(&arrived.delays, 0.99),
            arrived.delays.max() as f64 / 1000.0,
        )
    };
    let mut cpu_table = String::from(
        "| process | manager in the console | manager away (e-mail and push) | difference |\n|---|---|---|---|\n",
    );
    for ((name, present), (_, away)) in present_cpu.iter().zip(&away_cpu) {
        cpu_table.push_str(&format!(
            "| {name} | {present:.0} | {away:.0} | {:+.0} |\n",
            away - present
        ));
    }
    Ok(format!(
        "### E-mail and push\n\n\
         The notification service sends to the load generator's SMTP server and push service \
         (on this machine; the pushes are decrypted as a browser does). The alert window and the \
         visitors' grace are 0 here, so the delays are the machinery's; a deployment adds its own \
         (60 s and 15 s by default).\n\n\
         | what | e-mails per second |\n|---|---|\n\
         | the SMTP server's ceiling: lettre alone, {CEILING_EMAILS} e-mails over {pool_size} connections (the suite's pool) | {ceiling:.0} |\n\
         | the same over {wide} connections | {wide_ceiling:.0} |\n\
         | the suite: a burst of {BURST_REPLIES} replies to visitors who left, each an e-mail | {burst_rate:.0} ({ratio:.2}x the ceiling) |\n\n\
         Delays in milliseconds, from the reply (or the visitor's message) being sent to the e-mail's \
         end of data at the SMTP server, or the push's arrival.\n\n\
         | what | arrived | missing | p50 | p99 | max |\n|---|---|---|---|---|---|\n\
         {steady_row}{burst_row}{alert_row}{push_row}\n\
         The manager's socket received {received} of {present} messages while in the console; \
         {push_count} pushes came while it was away.\n\n\
         #### CPU time per message with the notification service's consumers on, microseconds\n\n\
         {visitors} visitors in their own dialogs write {ALERT_RATE} messages a second for {secs} s, \
         first while the manager is in the console (each message's alert is looked at and dropped), \
         then while the manager is away (each becomes an e-mail and a push, counted until the last \
         arrived).\n\n{cpu_table}",
        ratio = burst_rate / ceiling,
        wide = pool_size * 4,
        steady_row = row(
            &format!("reply → visitor's e-mail, {REPLY_RATE}/s"),
            &replies,
            true
        ),
        burst_row = row(
            &format!("reply → visitor's e-mail, burst of {BURST_REPLIES}"),
            &bursted,
            true
        ),
        alert_row = row(
            &format!("visitor's message → manager's e-mail, {ALERT_RATE}/s"),
            &alerted,
            true
        ),
        push_row = row(
            &format!("visitor's message → manager's push (the newest it shows), {ALERT_RATE}/s"),
            &pushed,
            false
        ),
        present = present_sent.len(),
        visitors = ALERT_VISITORS,
        secs = settings.run.as_secs(),
    ))
}

/// E-mails per second lettre alone delivers to the server at `addr`.
async fn smtp_ceiling(addr: &str, pool_size: u32) -> anyhow::Result<f64> {
    use lettre::transport::smtp::PoolConfig;
    use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| anyhow::anyhow!("BENCH_SMTP: host:port"))?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port.parse()?)
        .pool_config(PoolConfig::new().max_size(pool_size))
        .build();
    let message = Message::builder()
        .from("Bench <bench@bench.example>".parse()?)
        .to("ceiling@bench.example".parse()?)
        .subject("The ceiling")
        .multipart(lettre::message::MultiPart::alternative_plain_html(
            "Some text of a usual length.\n".repeat(40),
            "<p>Some text of a usual length.</p>".repeat(40),
        ))?;
    let started = Instant::now();
    futures::stream::iter(0..CEILING_EMAILS)
        .map(|_| transport.send(message.clone()))
        .buffer_unordered(pool_size as usize * 2)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(CEILING_EMAILS as f64 / started.elapsed().as_secs_f64())
}

/// `count` visitors, each of whom gave an e-mail address, wrote and closed
/// the shop's tab; their dialogs.
async fn visitors_who_left(settings: &Settings, count: usize) -> anyhow::Result<Vec<String>> {
    let dialogs = futures::stream::iter(0..count)
        .map(|i| async move {
            let mut ws = client::widget(settings, i).await?;
            let email = format!("v{i}-{}@visitors.example", settings.run_id);
            let identify =
                json!({"type": "identify", "name": format!("Buyer {i}"), "email": email});
            ws.send(tokio_tungstenite::tungstenite::Message::Text(
                identify.to_string().into(),
            ))
            .await?;
            frame_of_type(&mut ws, "identified").await?;
            ws.send(client::send_frame("Is it in stock?")).await?;
            let ack = frame_of_type(&mut ws, "ack").await?;
            ws.close(None).await?;
            ack["message"]["dialog_id"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| anyhow::anyhow!("an ack without a dialog: {ack}"))
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
    // Their widgets' presence ends with the sockets.
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok(dialogs)
}

/// The next frame of type `wanted` on `ws`; an `error` frame fails.
async fn frame_of_type(ws: &mut client::Ws, wanted: &str) -> anyhow::Result<Value> {
    while let Some(frame) = ws.next().await {
        let tokio_tungstenite::tungstenite::Message::Text(text) = frame? else {
            continue;
        };
        let value: Value = serde_json::from_str(&text)?;
        match value["type"].as_str() {
            Some(t) if t == wanted => return Ok(value),
            Some("error") => anyhow::bail!("waiting for {wanted}: {value}"),
            _ => {}
        }
    }
    anyhow::bail!("the socket closed before {wanted}")
}

/// [`ALERT_VISITORS`] new visitors write [`ALERT_RATE`] messages a second
/// between them for the run's length; the stamps sent.
async fn visitors_writing(settings: &Settings, epoch: Instant) -> anyhow::Result<HashSet<u64>> {
    let mut sockets = Vec::with_capacity(ALERT_VISITORS);
    for _ in 0..ALERT_VISITORS {
        sockets.push(client::visitor(settings).await?);
    }
    let interval = Duration::from_secs_f64(ALERT_VISITORS as f64 / ALERT_RATE as f64);
    let deadline = Instant::now() + settings.run;
    // The last acks come back before the sockets close.
    let sent = client::paced(sockets, interval, deadline, epoch, Duration::from_secs(1)).await?;
    Ok(sent.into_iter().collect())
}

/// What arrived of the stamps sent: each one's delay, once.
struct Arrived {
    delays: Histogram<u64>,
    missing: usize,
    /// When the last of them arrived.
    last: Instant,
}

impl Arrived {
    /// Waits until every stamp in `sent` arrived in something `wanted`
    /// (only its first stamp when `first_only`), or for [`ARRIVAL_TIMEOUT`].
    async fn wait(
        arrivals: &Arrivals,
        wanted: impl Fn(&Arrival) -> bool,
        first_only: bool,
        sent: &HashSet<u64>,
        epoch: Instant,
    ) -> Arrived {
        let give_up = Instant::now() + ARRIVAL_TIMEOUT;
        loop {
            let arrived = Self::from(&arrivals.snapshot(), &wanted, first_only, sent, epoch);
            if arrived.missing == 0 || Instant::now() > give_up {
                return arrived;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What of `sent` is in `arrivals` now.
    fn from(
        arrivals: &[Arrival],
        wanted: &impl Fn(&Arrival) -> bool,
        first_only: bool,
        sent: &HashSet<u64>,
        epoch: Instant,
    ) -> Arrived {
        let mut delays = Histogram::new_with_bounds(1, 600_000_000, 3).expect("histogram bounds");
        let mut seen = HashSet::new();
        let mut last = epoch;
        for arrival in arrivals.iter().filter(|a| wanted(a)) {
            let stamps = match first_only {
                true => &arrival.stamps[..arrival.stamps.len().min(1)],
                false => &arrival.stamps[..],
            };
            for &stamp in stamps {
                if sent.contains(&stamp) && seen.insert(stamp) {
                    let at = (arrival.at - epoch).as_nanos() as u64;
                    let _ = delays.record((at.saturating_sub(stamp) / 1000).max(1));
                    last = last.max(arrival.at);
                }
            }
        }
        Arrived {
            delays,
            missing: sent.len() - seen.len(),
            last,
        }
    }

    fn count(&self) -> u64 {
        self.delays.len()
    }
}

/// The manager's REST API, signed in.
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn login(settings: &Settings) -> anyhow::Result<Api> {
        Ok(Api {
            http: reqwest::Client::new(),
            base: format!("http://{}", settings.gateway),
            token: client::login(&settings.gateway, &settings.email, &settings.password).await?,
        })
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> anyhow::Result<()> {
        let response = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        anyhow::ensure!(
            status.is_success(),
            "{path}: {status} {}",
            response.text().await.unwrap_or_default()
        );
        Ok(())
    }

    /// Answers the dialog through the site chat; the reply's stamp.
    async fn reply(&self, dialog_id: &str, epoch: Instant) -> anyhow::Result<u64> {
        let stamp = epoch.elapsed().as_nanos() as u64;
        let body = json!({
            "client_message_id": uuid::Uuid::new_v4().to_string(),
            "text": format!("lat:{stamp}"),
            "channel": "site",
        });
        self.send(
            reqwest::Method::POST,
            &format!("/api/v1/dialogs/{dialog_id}/messages"),
            body,
        )
        .await?;
        Ok(stamp)
    }
}
