//! End-to-end latency, from a visitor's send to the manager's receipt, at
//! fixed offered loads. Visitors stamp each message with the time it was sent
//! (on the generator's own clock); the manager's socket, in the same process,
//! reads the stamp when the message arrives.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt as _, StreamExt as _};
use hdrhistogram::Histogram;

use crate::{Settings, ceilings, client, cpu};

const VISITORS: usize = 100;

pub async fn measure(settings: &Settings) -> anyhow::Result<String> {
    let floor = ceilings::floor(settings).await?;
    let processes = cpu::Processes::from_env();
    let mut rows = String::new();
    let mut cpu_columns = Vec::new();
    for &rate in &settings.rates {
        let (h, cpu) = at_rate(settings, &processes, rate).await?;
        let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        rows.push_str(&format!(
            "| {rate} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1}x | {:.1}x |\n",
            h.len(),
            ms(0.50),
            ms(0.95),
            ms(0.99),
            h.max() as f64 / 1000.0,
            ms(0.50) / floor.ms(),
            ms(0.99) / floor.ms(),
        ));
        cpu_columns.push(cpu);
    }
    let cpu_table = cpu::table(&settings.rates, &cpu_columns);
    Ok(format!(
        "### Latency, visitor's send to manager's receipt\n\n\
         {VISITORS} visitors in their own dialogs share the offered load evenly, for {secs} s at each load; \
         one manager socket receives. Milliseconds. The floor is one single-row commit from one client \
         ({commit:.2} ms) plus one core NATS request-reply round trip ({trip:.2} ms), medians measured \
         just before: {floor_ms:.2} ms.\n\n\
         | offered msg/s | received | p50 | p95 | p99 | max | p50 / floor | p99 / floor |\n\
         |---|---|---|---|---|---|---|---|\n{rows}\n\
         ### CPU time per message, microseconds\n\n\
         User plus system time of each process over the timed run (from /proc), divided by the \
         messages the manager received, at each offered load. PostgreSQL and NATS are all their \
         processes on the machine.\n\n{cpu_table}",
        secs = settings.run.as_secs(),
        commit = floor.commit_ms,
        trip = floor.round_trip_ms,
        floor_ms = floor.ms(),
    ))
}

async fn at_rate(
    settings: &Settings,
    processes: &cpu::Processes,
    rate: u64,
) -> anyhow::Result<(Histogram<u64>, Vec<(String, f64)>)> {
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
    let cpu_before = processes.sample();
    client::paced(visitors, interval, deadline, epoch, Duration::from_secs(2)).await?;
    listener.abort();
    let cpu_after = processes.sample();
    let histogram = histogram.lock().expect("histogram").clone();
    let cpu = processes.per_message(&cpu_before, &cpu_after, histogram.len());
    Ok((histogram, cpu))
}
