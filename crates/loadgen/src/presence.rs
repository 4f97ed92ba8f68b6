//! Presence updates a gateway carries: many visitors change pages, each at
//! the most a visitor may (the gateway takes five activity frames a second
//! from a socket; faster ones are dropped), and a manager's console counts
//! the `visitor_online` frames it gets. Each `page` frame is a presence entry
//! put in the NATS KV bucket, watched back by the gateway, and a page visit on
//! the contact's timeline. The rate is what reached the console per second.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures::{SinkExt as _, StreamExt as _};
use tokio_tungstenite::tungstenite::Message;

use crate::{Settings, client};

/// Visitors changing pages at once.
const VISITORS: usize = 1000;
/// Page changes per second of each: under the gateway's limit of five.
const PAGES_PER_SECOND: u64 = 4;

pub async fn measure(settings: &Settings) -> anyhow::Result<String> {
    let manager = client::manager(settings).await?;
    let seen = Arc::new(AtomicU64::new(0));
    let counter = seen.clone();
    let listener = tokio::spawn(async move {
        let (_, mut source) = manager.split();
        while let Some(Ok(frame)) = source.next().await {
            if matches!(&frame, Message::Text(t) if t.contains("\"type\":\"visitor_online\"")) {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let mut visitors = Vec::with_capacity(VISITORS);
    for i in 0..VISITORS {
        visitors.push(client::widget(settings, i).await?);
    }
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let start = Instant::now();
    let before = seen.load(Ordering::Relaxed);
    let deadline = start + settings.run;
    let sent = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = visitors
        .into_iter()
        .enumerate()
        .map(|(i, ws)| {
            let sent = sent.clone();
            tokio::spawn(async move {
                let (mut sink, mut source) = ws.split();
                let drain = tokio::spawn(async move { while source.next().await.is_some() {} });
                let interval = std::time::Duration::from_millis(1000 / PAGES_PER_SECOND);
                // Spread the visitors over the interval so the load is even.
                tokio::time::sleep(interval.mul_f64(i as f64 / VISITORS as f64)).await;
                let mut tick = tokio::time::interval(interval);
                let mut page = i * 1_000_000;
                while Instant::now() < deadline {
                    tick.tick().await;
                    page += 1;
                    if sink.send(client::page_frame(page)).await.is_err() {
                        break;
                    }
                    sent.fetch_add(1, Ordering::Relaxed);
                }
                drain.abort();
            })
        })
        .collect();
    for worker in workers {
        worker.await?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    // Let the last updates arrive.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let reached = seen.load(Ordering::Relaxed) - before;
    listener.abort();
    let sent = sent.load(Ordering::Relaxed);
    Ok(format!(
        "### Presence updates (page changes) one gateway carries\n\n\
         | visitors changing pages, {PAGES_PER_SECOND} a second each | page frames sent, per s | `visitor_online` frames at the console, per s |\n\
         |---|---|---|\n\
         | {VISITORS} | {:.0} | {:.0} |\n",
        sent as f64 / elapsed,
        reached as f64 / elapsed,
    ))
}
