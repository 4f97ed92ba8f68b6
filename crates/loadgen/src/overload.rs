//! Overload: visitors offer several times what the suite sustains, each on a
//! fixed schedule whatever comes back, and every send's fate is recorded:
//! stored (its ack, how late), refused (an `error` frame, how fast), or never
//! answered; and what the manager's socket received, how late. Times run
//! from when a send was due, not from when the socket took it, so a send
//! held back by a full socket counts its wait.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt as _, StreamExt as _};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::{Settings, client, cpu};

/// Visitors sending (`BENCH_OVERLOAD_VISITORS` to change).
fn visitors() -> usize {
    std::env::var("BENCH_OVERLOAD_VISITORS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(400)
}
/// How long after the run the last sends may take to be answered.
const ANSWER_WITHIN: Duration = Duration::from_secs(30);

/// What the sends of one offered rate came to.
struct Fates {
    stored: Histogram<u64>,
    refused: Histogram<u64>,
    delivered: Histogram<u64>,
    /// Refusals by error code.
    codes: BTreeMap<String, u64>,
    /// Acks in each second of the run (later ones are in `stored` only).
    stored_per_second: Vec<u64>,
    unanswered: u64,
    offered: u64,
}

impl Fates {
    fn new(seconds: usize) -> anyhow::Result<Self> {
        let histogram = || Histogram::<u64>::new_with_bounds(1, 120_000_000, 3);
        Ok(Fates {
            stored: histogram()?,
            refused: histogram()?,
            delivered: histogram()?,
            codes: BTreeMap::new(),
            stored_per_second: vec![0; seconds],
            unanswered: 0,
            offered: 0,
        })
    }
}

pub async fn measure(settings: &Settings) -> anyhow::Result<String> {
    let processes = cpu::Processes::from_env();
    let mut rows = String::new();
    let mut refusals = String::new();
    let mut cpu_columns = Vec::new();
    for &rate in &settings.overload_rates {
        let (fates, cpu) = at_rate(settings, &processes, rate).await?;
        let ms = |h: &Histogram<u64>, q: f64| {
            if h.is_empty() {
                "-".to_owned()
            } else {
                format!("{:.0}", h.value_at_quantile(q) as f64 / 1000.0)
            }
        };
        let secs = settings.run.as_secs_f64();
        let stored_in_run: u64 = fates.stored_per_second.iter().sum();
        // The middle of the run: the first and last seconds hold its edges.
        let mut middle = fates.stored_per_second.clone();
        if middle.len() > 4 {
            middle = middle[2..middle.len() - 2].to_vec();
        }
        middle.sort_unstable();
        let lowest = middle.first().copied().unwrap_or(0);
        let median = middle.get(middle.len() / 2).copied().unwrap_or(0);
        let cpu_total = cpu::suite_total(&cpu);
        cpu_columns.push(cpu);
        rows.push_str(&format!(
            "| {rate} | {:.0} | {:.0} ({median} / {lowest}) | {:.0} | {} / {} | {} / {} | {} / {} | {} | {:.0} |\n",
            fates.offered as f64 / secs,
            stored_in_run as f64 / secs,
            fates.refused.len() as f64 / secs,
            ms(&fates.stored, 0.5),
            ms(&fates.stored, 0.99),
            ms(&fates.refused, 0.5),
            ms(&fates.refused, 0.99),
            ms(&fates.delivered, 0.5),
            ms(&fates.delivered, 0.99),
            fates.unanswered,
            cpu_total,
        ));
        let codes: Vec<String> = fates
            .codes
            .iter()
            .map(|(code, n)| format!("{code} {n}"))
            .collect();
        if !codes.is_empty() {
            refusals.push_str(&format!("- at {rate} msg/s: {}\n", codes.join(", ")));
        }
    }
    let cpu_table = cpu::table(&settings.overload_rates, &cpu_columns);
    Ok(format!(
        "### Overload\n\n\
         {visitors} visitors in their own dialogs each send on a fixed schedule, whatever comes back, \
         for {secs} s at each offered load; one manager socket receives. Per second: what was offered, \
         stored (acked; in brackets the median and the lowest second of the run's middle), refused. \
         Milliseconds, p50 / p99, from when each send was due: to its ack, to its refusal, to the \
         manager's receipt. CPU in µs per stored message, the suite's processes in all.\n\n\
         | offered msg/s | sent/s | stored/s | refused/s | ack | refusal | manager's receipt | never answered | CPU |\n\
         |---|---|---|---|---|---|---|---|---|\n{rows}\n{refusals}\n\
         CPU per stored message by process, µs:\n\n{cpu_table}",
        secs = settings.run.as_secs(),
        visitors = visitors(),
    ))
}

async fn at_rate(
    settings: &Settings,
    processes: &cpu::Processes,
    rate: u64,
) -> anyhow::Result<(Fates, Vec<(String, f64)>)> {
    let epoch = Instant::now();
    let fates = Arc::new(Mutex::new(Fates::new(settings.run.as_secs() as usize)?));

    let manager = client::manager(settings).await?;
    let recorder = fates.clone();
    let listener = tokio::spawn(async move {
        let (_, mut source) = manager.split();
        while let Some(Ok(frame)) = source.next().await {
            let Some(due) = client::visitor_message_text(&frame)
                .and_then(|text| text.strip_prefix("ol:")?.parse::<u64>().ok())
            else {
                continue;
            };
            let micros = since(epoch, due);
            let _ = recorder.lock().expect("fates").delivered.record(micros);
        }
    });

    let visitors = visitors();
    let mut sockets = Vec::with_capacity(visitors);
    for _ in 0..visitors {
        let mut ws = client::visitor(settings).await?;
        ws.send(client::send_frame("warm-up")).await?;
        while let Some(frame) = ws.next().await {
            if client::is_ack(&frame?) {
                break;
            }
        }
        sockets.push(ws);
    }

    let interval = Duration::from_secs_f64(visitors as f64 / rate as f64);
    let started = Instant::now();
    let deadline = started + settings.run;
    let cpu_before = processes.sample();
    let visitors: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(i, ws)| {
            let fates = fates.clone();
            let offset = interval.mul_f64(i as f64 / visitors as f64);
            let schedule = Schedule {
                epoch,
                started,
                first: started + offset,
                interval,
                deadline,
            };
            tokio::spawn(visitor(i, ws, schedule, fates))
        })
        .collect();
    for visitor in visitors {
        visitor.await??;
    }
    let cpu_after = processes.sample();
    tokio::time::sleep(Duration::from_secs(2)).await;
    listener.abort();
    let _ = listener.await; // gone, and with it its handle on the fates
    let fates = Arc::try_unwrap(fates)
        .map_err(|_| anyhow::anyhow!("fates still shared"))?
        .into_inner()
        .expect("fates");
    let cpu = processes.per_message(&cpu_before, &cpu_after, fates.stored.len());
    Ok((fates, cpu))
}

/// Microseconds from `due` (nanoseconds after `epoch`) to now, at least 1.
fn since(epoch: Instant, due: u64) -> u64 {
    ((epoch.elapsed().as_nanos() as u64).saturating_sub(due) / 1000).max(1)
}

/// When one visitor sends.
#[derive(Clone, Copy)]
struct Schedule {
    /// What stamps count from.
    epoch: Instant,
    /// When the run started, for the seconds acks are counted in.
    started: Instant,
    first: Instant,
    interval: Duration,
    deadline: Instant,
}

/// One visitor: sends on its schedule, each send stamped with when it was
/// due, while its answers are read.
async fn visitor(
    i: usize,
    ws: client::Ws,
    schedule: Schedule,
    fates: Arc<Mutex<Fates>>,
) -> anyhow::Result<()> {
    let Schedule {
        epoch,
        started,
        first,
        interval,
        deadline,
    } = schedule;
    let (mut sink, mut source) = ws.split();
    let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sending = sent.clone();
    let sender = tokio::spawn(async move {
        let mut due = first;
        while due < deadline {
            tokio::time::sleep_until(due.into()).await;
            let stamp = (due - epoch).as_nanos() as u64;
            let frame = json!({
                "type": "send",
                "client_message_id": format!("ol{i}-{stamp}"),
                "text": format!("ol:{stamp}"),
            });
            sink.send(Message::Text(frame.to_string().into())).await?;
            sending.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            due += interval;
        }
        anyhow::Ok(sink)
    });

    let mut answered = 0u64;
    let give_up = deadline + ANSWER_WITHIN;
    loop {
        let everything_sent = sender.is_finished();
        let total = sent.load(std::sync::atomic::Ordering::Relaxed);
        if everything_sent && answered >= total {
            break;
        }
        let wait = give_up.saturating_duration_since(Instant::now());
        let Ok(next) =
            tokio::time::timeout(wait.min(Duration::from_millis(200)), source.next()).await
        else {
            if Instant::now() >= give_up {
                break;
            }
            continue;
        };
        let Some(frame) = next else {
            anyhow::bail!("visitor socket closed")
        };
        let Message::Text(text) = frame? else {
            continue;
        };
        let value: Value = serde_json::from_str(&text)?;
        let Some(due) = value["client_message_id"]
            .as_str()
            .or_else(|| value["message"]["client_message_id"].as_str())
            .and_then(|id| id.strip_prefix(&format!("ol{i}-"))?.parse::<u64>().ok())
        else {
            continue;
        };
        let micros = since(epoch, due);
        let mut fates = fates.lock().expect("fates");
        match value["type"].as_str() {
            Some("ack") => {
                answered += 1;
                let _ = fates.stored.record(micros);
                let second = (Instant::now().saturating_duration_since(started)).as_secs() as usize;
                if let Some(count) = fates.stored_per_second.get_mut(second) {
                    *count += 1;
                }
            }
            Some("error") => {
                answered += 1;
                let _ = fates.refused.record(micros);
                let code = value["code"].as_str().unwrap_or("?").to_owned();
                *fates.codes.entry(code).or_default() += 1;
            }
            _ => {}
        }
    }
    let sink = sender.await??;
    drop(sink);
    let total = sent.load(std::sync::atomic::Ordering::Relaxed);
    let mut fates = fates.lock().expect("fates");
    fates.offered += total;
    fates.unanswered += total.saturating_sub(answered);
    Ok(())
}
