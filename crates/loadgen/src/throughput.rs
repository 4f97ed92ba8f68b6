//! Sustained persisted messages per second: many visitors, each in its own
//! dialog, send as fast as their acks come back (a few in flight each); a
//! message counts once the dialog service has stored it (its ack). Managers'
//! sockets receive everything meanwhile, and what they got is reported too.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures::{SinkExt as _, StreamExt as _};

use crate::{Settings, client};

const VISITORS: usize = 200;
const IN_FLIGHT_PER_VISITOR: usize = 8;
/// How long after the run the last sends may take to be answered.
const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(30);

/// `insert_ceiling`: the 32-client single-row insert rate of the same run,
/// when measured, to print the ratio to.
pub async fn measure(settings: &Settings, insert_ceiling: Option<f64>) -> anyhow::Result<String> {
    let received = Arc::new(AtomicU64::new(0));
    let manager = client::manager(settings).await?;
    let counter = received.clone();
    let listener = tokio::spawn(async move {
        let (_, mut source) = manager.split();
        while let Some(Ok(frame)) = source.next().await {
            if client::visitor_message_text(&frame).is_some() {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
    });

    let mut sockets = Vec::with_capacity(VISITORS);
    for _ in 0..VISITORS {
        sockets.push(client::visitor(settings).await?);
    }
    // Warm up: every visitor opens its dialog first.
    for ws in &mut sockets {
        ws.send(client::send_frame("warm-up")).await?;
        while let Some(frame) = ws.next().await {
            if client::is_ack(&frame?) {
                break;
            }
        }
    }

    let stored = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let unanswered = Arc::new(AtomicU64::new(0));
    let received_before = received.load(Ordering::Relaxed);
    let deadline = Instant::now() + settings.run;
    let started = Instant::now();
    let workers: Vec<_> = sockets
        .into_iter()
        .map(|ws| {
            let (stored, refused, unanswered) =
                (stored.clone(), refused.clone(), unanswered.clone());
            tokio::spawn(async move {
                let (mut sink, mut source) = ws.split();
                let mut in_flight = 0;
                loop {
                    while in_flight < IN_FLIGHT_PER_VISITOR && Instant::now() < deadline {
                        sink.send(client::send_frame("throughput")).await?;
                        in_flight += 1;
                    }
                    if in_flight == 0 {
                        return anyhow::Ok(());
                    }
                    // After the run, an answer gets a while to come; then the
                    // sends still waiting are counted (a hang is a finding).
                    let wait = (deadline + ANSWER_WITHIN).saturating_duration_since(Instant::now());
                    let Ok(next) = tokio::time::timeout(wait, source.next()).await else {
                        eprintln!("{in_flight} sends of a visitor never answered");
                        unanswered.fetch_add(in_flight as u64, Ordering::Relaxed);
                        return Ok(());
                    };
                    let Some(frame) = next else {
                        anyhow::bail!("visitor socket closed")
                    };
                    let frame = frame?;
                    if client::is_ack(&frame) {
                        in_flight -= 1;
                        if Instant::now() <= deadline {
                            stored.fetch_add(1, Ordering::Relaxed);
                        }
                    } else if client::is_error(&frame) {
                        // Answered, though not stored: counted apart.
                        in_flight -= 1;
                        refused.fetch_add(1, Ordering::Relaxed);
                        eprintln!("a send was refused: {frame}");
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await??;
    }
    let elapsed = started
        .elapsed()
        .as_secs_f64()
        .min(settings.run.as_secs_f64());
    let stored = stored.load(Ordering::Relaxed);
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let delivered = received.load(Ordering::Relaxed) - received_before;
    listener.abort();
    let rate = stored as f64 / elapsed;
    let ratio = insert_ceiling
        .map(|c| {
            format!(
                "| against 32-client single-row inserts of this run | {:.2}x |\n",
                rate / c
            )
        })
        .unwrap_or_default();
    Ok(format!(
        "### Sustained throughput\n\n\
         {VISITORS} visitors, each in its own dialog, {IN_FLIGHT_PER_VISITOR} messages in flight each, \
         for {secs} s; one manager socket receiving.\n\n\
         | what | value |\n|---|---|\n\
         | persisted messages per second (acked) | {rate:.0} |\n\
         | messages stored | {stored} |\n\
         | messages the manager's socket received live | {delivered} |\n\
         | sends refused (error frames) | {refused} |\n\
         | sends never answered (within {answer_within} s of the end) | {unanswered} |\n{ratio}",
        refused = refused.load(Ordering::Relaxed),
        unanswered = unanswered.load(Ordering::Relaxed),
        answer_within = ANSWER_WITHIN.as_secs(),
        secs = settings.run.as_secs(),
    ))
}
