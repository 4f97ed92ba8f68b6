//! The least CPU a message that must not be lost can cost on this machine:
//! PostgreSQL and NATS alone, doing the durable minimum of one message at
//! the latency part's rate, with no service of the suite in between. Beside
//! the suite's own CPU per message (the latency part), it shows how much of
//! that is the storage and the bus any design with them pays, and how much
//! is the suite's.
//!
//! - **PostgreSQL**: one message row (with a unique key on its dialog and
//!   number, as the suite's) inserted and committed on its own, from a few
//!   connections: the message is durable before it is acknowledged.
//! - **JetStream**: one acked publish, read by one durable consumer that
//!   acks it (the notification service's shape) and one ordered consumer
//!   (the gateway's).
//! - **Core NATS**: one publish to one subscriber (live delivery without
//!   storage).
//!
//! What the processes spend idle meanwhile (the suite's services stay up)
//! is measured just before each run and taken off.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer::pull};
use futures::StreamExt as _;
use sqlx::postgres::PgPoolOptions;
use tokio::time::MissedTickBehavior;

use crate::Settings;
use crate::cpu::Processes;

/// Messages a second, as the latency part's headline rate.
const RATE: u64 = 1_000;
/// Connections the inserts come from (commits overlap, as the suite's do).
const CONNECTIONS: u32 = 8;

/// Microseconds of PostgreSQL's and NATS's CPU per message, per way of
/// making a message durable or delivering it.
pub async fn measure(settings: &Settings) -> anyhow::Result<String> {
    let processes = Processes::from_env();
    let insert = postgres_insert(settings, &processes).await?;
    let stored = jetstream_two_consumers(settings, &processes).await?;
    let live = core_publish(settings, &processes).await?;
    Ok(format!(
        "### The least CPU a message costs here, at {RATE} msg/s\n\n\
         PostgreSQL and NATS alone, no service of the suite in between \
         (µs of CPU per message, the process named):\n\n\
         | what | PostgreSQL | NATS |\n|---|---|---|\n\
         | a message row inserted and committed on its own ({CONNECTIONS} connections) | {:.0} | |\n\
         | a JetStream acked publish, read by one acking durable consumer and one ordered consumer | | {:.0} |\n\
         | a core NATS publish to one subscriber | | {:.0} |\n\
         | **the durable minimum (the first two)** | {:.0} | {:.0} |\n",
        insert, stored, live, insert, stored,
    ))
}

/// PostgreSQL's CPU per message-row insert, each its own commit.
async fn postgres_insert(settings: &Settings, processes: &Processes) -> anyhow::Result<f64> {
    let pool = PgPoolOptions::new()
        .min_connections(CONNECTIONS)
        .max_connections(CONNECTIONS)
        .connect(&settings.database_url)
        .await?;
    let table = format!("bench_cpu_floor_{}", settings.run_id);
    sqlx::query(&format!(
        "create table {table} (id uuid primary key, dialog_id uuid not null, \
         seq bigint not null, text text not null, created_at timestamptz not null default now(), \
         unique (dialog_id, seq))"
    ))
    .execute(&pool)
    .await?;
    // Every connection open (and so counted) before the first sample.
    let held: Vec<_> =
        futures::future::try_join_all((0..CONNECTIONS).map(|_| pool.acquire())).await?;
    drop(held);
    let sql: Arc<str> =
        format!("insert into {table} (id, dialog_id, seq, text) values ($1, $2, $3, $4)").into();
    let dialogs: Arc<Vec<uuid::Uuid>> = Arc::new((0..100).map(|_| uuid::Uuid::new_v4()).collect());
    let done = paced(settings.run, processes, |n| {
        let (pool, sql, dialogs) = (pool.clone(), sql.clone(), dialogs.clone());
        async move {
            sqlx::query(&sql)
                .bind(uuid::Uuid::now_v7())
                .bind(dialogs[n as usize % dialogs.len()])
                .bind(n as i64)
                .bind("a message of ordinary length, about sixty characters")
                .execute(&pool)
                .await
                .is_ok()
        }
    })
    .await;
    sqlx::query(&format!("drop table {table}"))
        .execute(&pool)
        .await?;
    Ok(done.cpu("PostgreSQL"))
}

/// NATS's CPU per acked JetStream publish read by two consumers.
async fn jetstream_two_consumers(
    settings: &Settings,
    processes: &Processes,
) -> anyhow::Result<f64> {
    let client = async_nats::connect(&settings.nats_url).await?;
    let js = jetstream::new(client);
    let name = format!("bench_cpu_floor_{}", settings.run_id);
    let stream = js
        .get_or_create_stream(jetstream::stream::Config {
            name: name.clone(),
            subjects: vec![format!("{name}.>")],
            storage: jetstream::stream::StorageType::File,
            ..Default::default()
        })
        .await?;
    let durable = stream
        .create_consumer(pull::Config {
            durable_name: Some(format!("{name}_durable")),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ..Default::default()
        })
        .await?;
    let ordered = stream
        .create_consumer(pull::OrderedConfig::default())
        .await?;
    let mut acking = durable.messages().await?;
    let reading_durable = tokio::spawn(async move {
        while let Some(Ok(message)) = acking.next().await {
            let _ = message.ack().await;
        }
    });
    let mut following = ordered.messages().await?;
    let reading_ordered =
        tokio::spawn(async move { while let Some(Ok(_)) = following.next().await {} });
    let subject = format!("{name}.x");
    let done = paced(settings.run, processes, |_| {
        let (js, subject) = (js.clone(), subject.clone());
        async move {
            match js.publish(subject, vec![b'x'; 200].into()).await {
                Ok(ack) => ack.await.is_ok(),
                Err(_) => false,
            }
        }
    })
    .await;
    reading_durable.abort();
    reading_ordered.abort();
    js.delete_stream(&name).await?;
    Ok(done.cpu("NATS"))
}

/// NATS's CPU per core publish to one subscriber.
async fn core_publish(settings: &Settings, processes: &Processes) -> anyhow::Result<f64> {
    let client = async_nats::connect(&settings.nats_url).await?;
    let subject = format!("bench_cpu_floor_{}", settings.run_id);
    let mut live = client.subscribe(subject.clone()).await?;
    let reading = tokio::spawn(async move { while live.next().await.is_some() {} });
    let done = paced(settings.run, processes, |_| {
        let (client, subject) = (client.clone(), subject.clone());
        async move {
            client
                .publish(subject, vec![b'x'; 200].into())
                .await
                .is_ok()
        }
    })
    .await;
    client.flush().await?;
    reading.abort();
    Ok(done.cpu("NATS"))
}

/// What a paced run cost, net of what the processes spend idle.
struct Done {
    /// µs of CPU per message during the run, per process.
    run: Vec<(String, f64)>,
    /// µs of CPU the same processes spent idle over the run's length, per message.
    idle: Vec<(String, f64)>,
}

impl Done {
    /// Microseconds of `process`'s CPU per message, beyond its idle use.
    fn cpu(&self, process: &str) -> f64 {
        let of = |rows: &[(String, f64)]| {
            rows.iter()
                .find(|(name, _)| name == process)
                .map_or(0.0, |(_, us)| *us)
        };
        (of(&self.run) - of(&self.idle)).max(0.0)
    }
}

/// How long the idle use of the processes is measured before each run
/// (the suite's services stay up, their sweeps and checks running).
const IDLE: Duration = Duration::from_secs(3);

/// Starts `one(n)` [`RATE`] times a second for `run`, each on its own task,
/// and measures CPU per message that succeeded.
async fn paced<F, Fut>(run: Duration, processes: &Processes, one: F) -> Done
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    let idle_start = (processes.sample(), Instant::now());
    tokio::time::sleep(IDLE).await;
    let idle_end = (processes.sample(), Instant::now());
    let mut ticks = tokio::time::interval(Duration::from_micros(1_000_000 / RATE));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let (before, started) = (processes.sample(), Instant::now());
    let deadline = started + run;
    let mut tasks = Vec::new();
    let mut n = 0;
    while Instant::now() < deadline {
        ticks.tick().await;
        tasks.push(tokio::spawn(one(n)));
        n += 1;
    }
    let mut succeeded = 0;
    for task in tasks {
        if task.await.unwrap_or(false) {
            succeeded += 1;
        }
    }
    // What the servers do for the last messages is done by now.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (after, ended) = (processes.sample(), Instant::now());
    // The idle use over as long as the run took, spread over its messages.
    let scale = (ended - started).as_secs_f64() / (idle_end.1 - idle_start.1).as_secs_f64();
    let messages = (succeeded as f64 / scale).round() as u64;
    Done {
        run: processes.per_message(&before, &after, succeeded),
        idle: processes.per_message(&idle_start.0, &idle_end.0, messages),
    }
}
