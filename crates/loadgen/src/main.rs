//! The load generator of `make bench`: drives a running suite through its
//! public sockets and prints the figures for BENCHMARKS.md as Markdown.
//!
//! Settings (environment):
//! - `BENCH_GATEWAY`: gateway address, default `127.0.0.1:8080`
//! - `BENCH_GATEWAY_PID`: the gateway process, for its memory per socket
//! - `BENCH_PIDS`: `name:pid,...` of the services, for CPU time per message
//! - `BENCH_SITE_KEY`, `BENCH_EMAIL`, `BENCH_PASSWORD`: the shop (default: the demo shop)
//! - `BENCH_DATABASE_URL`, `BENCH_NATS_URL`: for the machine's own ceilings
//! - `BENCH_SECONDS`: length of each timed run, default 10
//! - `BENCH_SOCKETS`: idle socket counts, default `1000,10000,19500`
//! - `BENCH_MAX_SOCKETS`: most sockets the gateway may hold (its open-file limit)
//! - `BENCH_RATES`: offered loads for latency, default `100,1000,5000`
//! - `BENCH_OVERLOAD_RATES`: offered loads past what the suite sustains,
//!   default `2500,7500`
//! - `BENCH_FAKES`: where the generator serves the fake messengers the
//!   bridge is pointed at, default `127.0.0.1:18091`
//! - `BENCH_SMTP`, `BENCH_PUSH`: where the generator serves the SMTP server
//!   and the push service the notification service is pointed at, default
//!   `127.0.0.1:18025` and `127.0.0.1:18092`
//!
//! # Layout
//! - [`client`]: visitor and manager sockets.
//! - [`ceilings`]: what PostgreSQL and JetStream alone do on this machine.
//! - [`cpu_floor`]: the least CPU a durable message costs them here.
//! - [`throughput`]: sustained persisted messages per second.
//! - [`latency`]: visitor-to-manager latency at fixed offered loads, against
//!   the machine's floor, with [`cpu`] time per message per process.
//! - [`overload`]: sends offered past what the suite can take: what is
//!   stored, what refused, how fast each.
//! - [`sockets`]: the gateway's memory per idle visitor socket.
//! - [`console`]: the console's lists, history and search in a big shop.
//! - [`presence`]: visitors' page changes a gateway carries to the console.
//! - [`messengers`]: people writing from Telegram, VK and Facebook, through
//!   the fakes and the bridge to the manager's socket.
//! - [`notifications`]: e-mails and pushes, through [`mail_sink`] and
//!   [`push_sink`], the generator's own SMTP server and push service.
//! - [`widget`]: the widget's size as browsers download it.
//! - [`chaos`]: `make chaos`, the message path under load while every part
//!   of the suite is killed in turn (not part of `all`).

mod ceilings;
mod chaos;
mod client;
mod console;
mod cpu;
mod cpu_floor;
mod latency;
mod mail_sink;
mod messengers;
mod notifications;
mod overload;
mod presence;
mod push_sink;
mod sockets;
mod throughput;
mod widget;

use std::time::Duration;

pub struct Settings {
    pub gateway: String,
    pub gateway_pid: Option<u32>,
    pub site_key: String,
    pub email: String,
    pub password: String,
    pub database_url: String,
    pub nats_url: String,
    pub run: Duration,
    pub socket_counts: Vec<usize>,
    /// Most sockets the gateway can hold here (its open-file limit), if known.
    pub max_sockets: Option<usize>,
    pub rates: Vec<u64>,
    pub overload_rates: Vec<u64>,
    /// Where the fake messengers are served (the bridge's API addresses).
    pub fakes: String,
    /// Unique per run, so visitor ids never collide with an earlier run's.
    pub run_id: String,
}

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn list<T: std::str::FromStr>(name: &str, default: &str) -> Vec<T> {
    env(name, default)
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings {
        gateway: env("BENCH_GATEWAY", "127.0.0.1:8080"),
        gateway_pid: std::env::var("BENCH_GATEWAY_PID")
            .ok()
            .and_then(|p| p.parse().ok()),
        site_key: env("BENCH_SITE_KEY", "demo-site-key"),
        email: env("BENCH_EMAIL", "demo@example.com"),
        password: env("BENCH_PASSWORD", "demo-password"),
        database_url: env(
            "BENCH_DATABASE_URL",
            "postgres://chat:chat@127.0.0.1:5432/chat",
        ),
        nats_url: env("BENCH_NATS_URL", "nats://127.0.0.1:4222"),
        run: Duration::from_secs(env("BENCH_SECONDS", "10").parse()?),
        socket_counts: list("BENCH_SOCKETS", "1000,10000,19500"),
        max_sockets: std::env::var("BENCH_MAX_SOCKETS")
            .ok()
            .and_then(|n| n.parse().ok()),
        rates: list("BENCH_RATES", "100,1000,5000"),
        overload_rates: list("BENCH_OVERLOAD_RATES", "2500,7500"),
        fakes: env("BENCH_FAKES", "127.0.0.1:18091"),
        run_id: uuid::Uuid::new_v4().simple().to_string()[..8].to_owned(),
    };
    let only = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    let wants = |part: &str| only == "all" || only.split(',').any(|p| p == part);

    let mut insert_ceiling = None;
    if wants("ceilings") {
        eprintln!("measuring the machine's ceilings ...");
        let (table, inserts) = ceilings::measure(&settings).await?;
        println!("{table}");
        insert_ceiling = Some(inserts);
        println!("{}", cpu_floor::measure(&settings).await?);
    }
    if wants("throughput") {
        eprintln!("measuring sustained throughput ...");
        println!("{}", throughput::measure(&settings, insert_ceiling).await?);
    }
    if wants("latency") {
        eprintln!("measuring latency at offered loads ...");
        println!("{}", latency::measure(&settings).await?);
    }
    if wants("overload") {
        eprintln!("measuring overload ...");
        println!("{}", overload::measure(&settings).await?);
    }
    if only == "chaos" {
        // Not part of `all`: it runs its own servers and takes minutes.
        println!("{}", chaos::run().await?);
        return Ok(());
    }
    if only == "cleanup" {
        // Removes the event stream of a finished benchmark run's prefix.
        let prefix = std::env::args()
            .nth(2)
            .ok_or_else(|| anyhow::anyhow!("cleanup <prefix>"))?;
        let js = async_nats::jetstream::new(async_nats::connect(&settings.nats_url).await?);
        let _ = js.delete_stream(format!("{prefix}_events")).await;
        return Ok(());
    }
    if wants("widget") {
        println!("{}", widget::measure()?);
    }
    if wants("presence") {
        eprintln!("measuring presence updates ...");
        println!("{}", presence::measure(&settings).await?);
    }
    if wants("messengers") {
        eprintln!("measuring the messengers' inbound path ...");
        println!("{}", messengers::measure(&settings).await?);
    }
    if wants("notifications") {
        eprintln!("measuring e-mail and push ...");
        println!("{}", notifications::measure(&settings).await?);
    }
    if wants("sockets") {
        eprintln!("measuring memory per idle socket ...");
        println!("{}", sockets::measure(&settings).await?);
    }
    if wants("console") {
        eprintln!("seeding a big shop and measuring the console's queries ...");
        println!("{}", console::measure(&settings).await?);
    }
    Ok(())
}
