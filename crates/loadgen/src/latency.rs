//! End-to-end latency, from a visitor's send to the manager's receipt, at
//! fixed offered loads. Visitors stamp each message with the time it was sent
//! (on the generator's own clock); the manager's socket, in the same process,
//! reads the stamp when the message arrives.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt as _, StreamExt as _};
use hdrhistogram::Histogram;

use crate::{Settings, client};

const VISITORS: usize = 100;

pub async fn measure(settings: &Settings) -> anyhow::Result<String> {
    let mut rows = String::new();
    for &rate in &settings.rates {
        let h = at_rate(settings, rate).await?;
        rows.push_str(&format!(
            "| {rate} | {} | {:.2} | {:.2} | {:.2} | {:.2} |\n",
            h.len(),
            h.value_at_quantile(0.50) as f64 / 1000.0,
            h.value_at_quantile(0.95) as f64 / 1000.0,
            h.value_at_quantile(0.99) as f64 / 1000.0,
            h.max() as f64 / 1000.0,
        ));
    }
    Ok(format!(
        "### Latency, visitor's send to manager's receipt\n\n\
         {VISITORS} visitors in their own dialogs share the offered load evenly, for {secs} s at each load; \
         one manager socket receives. Milliseconds.\n\n\
         | offered msg/s | received | p50 | p95 | p99 | max |\n|---|---|---|---|---|---|\n{rows}",
        secs = settings.run.as_secs(),
    ))
}

async fn at_rate(settings: &Settings, rate: u64) -> anyhow::Result<Histogram<u64>> {
    let epoch = Instant::now();
    let histogram = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(
        1, 60_000_000, 3,
    )?));
    let manager = client::manager(settings).await?;
    let recorder = histogram.clone();
    let listener = tokio::spawn(async move {
        let (_, mut source) = manager.split();
        while let Some(Ok(frame)) = source.next().await {
            let Some(text) = client::visitor_message_text(&frame) else {
                continue;
            };
            if let Some(sent) = text
                .strip_prefix("lat:")
                .and_then(|n| n.parse::<u64>().ok())
            {
                let micros = (epoch.elapsed().as_nanos() as u64).saturating_sub(sent) / 1000;
                let _ = recorder.lock().expect("histogram").record(micros.max(1));
            }
        }
    });

    let mut visitors = Vec::with_capacity(VISITORS);
    for _ in 0..VISITORS {
        let mut ws = client::visitor(settings).await?;
        ws.send(client::send_frame("warm-up")).await?;
        visitors.push(ws);
    }
    let interval = Duration::from_secs_f64(VISITORS as f64 / rate as f64);
    let deadline = Instant::now() + settings.run;
    let workers: Vec<_> = visitors
        .into_iter()
        .enumerate()
        .map(|(i, ws)| {
            tokio::spawn(async move {
                let (mut sink, mut source) = ws.split();
                let drain = tokio::spawn(async move { while source.next().await.is_some() {} });
                // Spread the visitors over the interval so the load is even.
                tokio::time::sleep(interval.mul_f64(i as f64 / VISITORS as f64)).await;
                let mut tick = tokio::time::interval(interval);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                while Instant::now() < deadline {
                    tick.tick().await;
                    let stamp = epoch.elapsed().as_nanos() as u64;
                    sink.send(client::send_frame(&format!("lat:{stamp}")))
                        .await?;
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
                drain.abort();
                anyhow::Ok(())
            })
        })
        .collect();
    for worker in workers {
        worker.await??;
    }
    listener.abort();
    let histogram = histogram.lock().expect("histogram").clone();
    Ok(histogram)
}
