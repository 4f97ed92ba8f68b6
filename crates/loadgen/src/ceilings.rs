//! The machine's own ceilings, measured in the same run as the suite: single-row
//! PostgreSQL inserts per second (each its own transaction) with 1 and 32
//! clients, and JetStream publishes per second (acked, pipelined).

use std::time::{Duration, Instant};

use sqlx::postgres::PgPoolOptions;

use crate::Settings;

/// The table of ceilings, and the 32-client insert rate the suite's
/// throughput is compared with.
pub async fn measure(settings: &Settings) -> anyhow::Result<(String, f64)> {
    let one = postgres_inserts(settings, 1).await?;
    let many = postgres_inserts(settings, 32).await?;
    let js = jetstream_publishes(settings).await?;
    let table = format!(
        "### The machine's ceilings\n\n\
         | what | per second |\n|---|---|\n\
         | PostgreSQL single-row inserts, 1 client | {one:.0} |\n\
         | PostgreSQL single-row inserts, 32 clients | {many:.0} |\n\
         | JetStream acked publishes (file storage, pipelined) | {js:.0} |\n"
    );
    Ok((table, many))
}

async fn postgres_inserts(settings: &Settings, clients: u32) -> anyhow::Result<f64> {
    let pool = PgPoolOptions::new()
        .max_connections(clients)
        .connect(&settings.database_url)
        .await?;
    let table = format!("bench_ceiling_{}", settings.run_id);
    sqlx::query(&format!(
        "create table {table} (id bigserial primary key, body text not null)"
    ))
    .execute(&pool)
    .await?;
    let deadline = Instant::now() + settings.run;
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (pool, table) = (pool.clone(), table.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                let sql = format!("insert into {table} (body) values ($1)");
                while Instant::now() < deadline {
                    sqlx::query(&sql)
                        .bind("a message of ordinary length, about sixty characters")
                        .execute(&pool)
                        .await?;
                    n += 1;
                }
                anyhow::Ok(n)
            })
        })
        .collect();
    let mut total = 0;
    for worker in workers {
        total += worker.await??;
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    sqlx::query(&format!("drop table {table}"))
        .execute(&pool)
        .await?;
    Ok(rate)
}

async fn jetstream_publishes(settings: &Settings) -> anyhow::Result<f64> {
    let client = async_nats::connect(&settings.nats_url).await?;
    let js = async_nats::jetstream::new(client);
    let name = format!("bench_ceiling_{}", settings.run_id);
    js.get_or_create_stream(async_nats::jetstream::stream::Config {
        name: name.clone(),
        subjects: vec![format!("{name}.>")],
        storage: async_nats::jetstream::stream::StorageType::File,
        ..Default::default()
    })
    .await?;
    const WINDOW: usize = 256;
    let payload = bytes_of(200);
    let deadline = Instant::now() + settings.run;
    let started = Instant::now();
    let mut total = 0u64;
    while Instant::now() < deadline {
        let mut acks = Vec::with_capacity(WINDOW);
        for _ in 0..WINDOW {
            acks.push(
                js.publish(format!("{name}.x"), payload.clone().into())
                    .await?,
            );
        }
        for ack in acks {
            ack.await?;
            total += 1;
        }
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    js.delete_stream(&name).await?;
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(rate)
}

/// The least a message's trip could take here: one single-row commit from
/// one client plus one core NATS request-reply round trip (medians of many).
pub struct Floor {
    pub commit_ms: f64,
    pub round_trip_ms: f64,
}

impl Floor {
    pub fn ms(&self) -> f64 {
        self.commit_ms + self.round_trip_ms
    }
}

pub async fn floor(settings: &Settings) -> anyhow::Result<Floor> {
    const SAMPLES: usize = 500;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&settings.database_url)
        .await?;
    let table = format!("bench_floor_{}", settings.run_id);
    sqlx::query(&format!(
        "create table {table} (id bigserial primary key, body text not null)"
    ))
    .execute(&pool)
    .await?;
    let mut commits = Vec::with_capacity(SAMPLES);
    let sql = format!("insert into {table} (body) values ($1)");
    for _ in 0..SAMPLES {
        let started = Instant::now();
        sqlx::query(&sql)
            .bind("a message of ordinary length, about sixty characters")
            .execute(&pool)
            .await?;
        commits.push(started.elapsed());
    }
    sqlx::query(&format!("drop table {table}"))
        .execute(&pool)
        .await?;

    let client = async_nats::connect(&settings.nats_url).await?;
    let subject = format!("bench_floor_{}", settings.run_id);
    let mut requests = client.subscribe(subject.clone()).await?;
    let responder = client.clone();
    let echo = tokio::spawn(async move {
        use futures::StreamExt as _;
        while let Some(request) = requests.next().await {
            if let Some(reply) = request.reply {
                let _ = responder.publish(reply, request.payload).await;
            }
        }
    });
    let mut trips = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        client
            .request(subject.clone(), bytes_of(200).into())
            .await?;
        trips.push(started.elapsed());
    }
    echo.abort();
    Ok(Floor {
        commit_ms: median_ms(commits),
        round_trip_ms: median_ms(trips),
    })
}

fn median_ms(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1000.0
}

fn bytes_of(n: usize) -> Vec<u8> {
    vec![b'x'; n]
}
