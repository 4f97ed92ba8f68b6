//! People writing from the messengers: the shop's Telegram bot, VK community
//! and Facebook page live on the fakes (crates/fakes), which the generator
//! serves itself and the bridge is pointed at; each platform delivers to the
//! bridge's webhook, one update at a time and in order as the platforms do
//! for one bot, community or page, and the manager's socket receives. For
//! each platform: messages per second through a burst from many people, and
//! the delay from the update to the manager's socket at a steady rate.

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use chat_fakes::telegram::{FakeTelegram, Retries};
use chat_fakes::{Running, facebook::FakeFacebook, vk::FakeVk};

use crate::{Settings, ceilings, client};

/// People writing at once in the burst, each their own dialog.
const PEOPLE: usize = 20;
/// Messages of the burst, shared by the people.
const BURST: usize = 400;
/// Updates per second in the latency run.
const RATE: f64 = 20.0;
/// The longest a burst or the tail of a run may take to arrive.
const PATIENCE: Duration = Duration::from_secs(120);

const BOT: &str = "555000111:bench-bot-token";
const GROUP: i64 = 555_000_222;
const VK_TOKEN: &str = "vk1.a.bench-community-token";
const VK_CONFIRMATION: &str = "bench-confirm";
const VK_SECRET: &str = "BenchCallbackSecret";
const PAGE: &str = "555000333";
const PAGE_TOKEN: &str = "EAAB-bench-page-token";
const APP_SECRET: &str = "bench-app-secret";
const VERIFY: &str = "bench-verify-token";

/// A platform's person `n` writing `text` to the shop.
type Write = Box<dyn Fn(usize, &str) + Send + Sync>;

/// Texts the manager's socket received from people, with when (ns since `epoch`).
struct Received {
    epoch: Instant,
    texts: mpsc::UnboundedReceiver<(String, u64)>,
}

impl Received {
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// Waits for `count` texts starting with `prefix` (others are passed over);
    /// each such text with when it arrived.
    async fn take(&mut self, prefix: &str, count: usize) -> anyhow::Result<Vec<(String, u64)>> {
        let mut got = Vec::with_capacity(count);
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while got.len() < count {
            match tokio::time::timeout_at(deadline, self.texts.recv()).await {
                Ok(Some((text, at))) if text.starts_with(prefix) => got.push((text, at)),
                Ok(Some(_)) => {}
                Ok(None) => anyhow::bail!("the manager's socket closed"),
                Err(_) => anyhow::bail!(
                    "{} of {count} '{prefix}' messages arrived in {PATIENCE:?}",
                    got.len()
                ),
            }
        }
        Ok(got)
    }
}

pub async fn measure(settings: &Settings) -> anyhow::Result<String> {
    let retries = Retries {
        first: Duration::from_millis(100),
        cap: Duration::from_secs(2),
    };
    let telegram = FakeTelegram::new(retries);
    let vk = FakeVk::new(retries);
    let facebook = FakeFacebook::new(retries);
    telegram.make_bot(BOT, "bench_shop_bot");
    vk.make_community(GROUP, VK_TOKEN, "Bench Shop", VK_CONFIRMATION);
    facebook.make_page(PAGE, PAGE_TOKEN, APP_SECRET, "Bench Shop");
    let router = telegram
        .clone()
        .router()
        .merge(vk.clone().router())
        .merge(facebook.clone().router());
    let fakes = Running::serve(&settings.fakes, router).await?;
    vk.set_base_url(&fakes.url());
    facebook.set_base_url(&fakes.url());
    connect(settings, &vk, &facebook).await?;

    let floor = ceilings::floor(settings).await?;
    let mut received = listen(settings).await?;
    let platforms: Vec<(&str, Write)> = vec![
        ("Telegram", {
            let telegram = telegram.clone();
            Box::new(move |n, text| {
                let person = chat_fakes::telegram::Person {
                    id: 7_000_000 + n as i64,
                    first_name: format!("Person {n}"),
                    last_name: None,
                    username: None,
                };
                telegram.person_writes(BOT, &person, text);
            })
        }),
        ("VK", {
            let vk = vk.clone();
            Box::new(move |n, text| {
                let person = chat_fakes::vk::Person {
                    id: 8_000_000 + n as i64,
                    first_name: "Person".into(),
                    last_name: n.to_string(),
                };
                vk.person_writes(GROUP, &person, text);
            })
        }),
        ("Facebook", {
            let facebook = facebook.clone();
            Box::new(move |n, text| {
                let person = chat_fakes::facebook::Person {
                    psid: (9_000_000 + n).to_string(),
                    first_name: "Person".into(),
                    last_name: n.to_string(),
                };
                facebook.person_writes(PAGE, &person, text);
            })
        }),
    ];
    let mut rows = String::new();
    for (name, write) in &platforms {
        eprintln!("  {name} ...");
        // Every person's first message opens their dialog: not measured.
        for n in 0..PEOPLE {
            write(n, &format!("{name}:warm-up"));
        }
        received.take(&format!("{name}:warm-up"), PEOPLE).await?;

        let started = Instant::now();
        for i in 0..BURST {
            write(i % PEOPLE, &format!("{name}:burst:{i}"));
        }
        received.take(&format!("{name}:burst:"), BURST).await?;
        let per_second = BURST as f64 / started.elapsed().as_secs_f64();

        let latency = steady(settings, name, write, &mut received).await?;
        let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
        rows.push_str(&format!(
            "| {name} | {per_second:.0} | {} | {:.2} | {:.2} | {:.2} | {:.1}x | {:.1}x |\n",
            latency.len(),
            ms(0.50),
            ms(0.99),
            latency.max() as f64 / 1000.0,
            ms(0.50) / floor.ms(),
            ms(0.99) / floor.ms(),
        ));
    }
    drop(fakes);
    Ok(format!(
        "### Messengers: a person's update to the manager's socket\n\n\
         Each platform's fake (crates/fakes, in the load generator) delivers to the bridge's \
         webhook as the platform does: one update at a time per bot, community or page, the \
         next once the bridge answered (Facebook: signed; VK: Callback API). Messages per \
         second: {BURST} messages written at once by {PEOPLE} people whose dialogs exist, until \
         the manager's socket has them all. Latency: {RATE} updates a second for {secs} s, from \
         the fake's update to the manager's socket, in milliseconds, against the floor of the latency table, \
         measured again just before ({floor_ms:.2} ms).\n\n\
         | platform | messages/s | latency samples | p50 | p99 | max | p50 / floor | p99 / floor |\n\
         |---|---|---|---|---|---|---|---|\n{rows}",
        secs = settings.run.as_secs(),
        floor_ms = floor.ms(),
    ))
}

/// Updates at [`RATE`] for the run's length; the delay of each to the socket.
async fn steady(
    settings: &Settings,
    name: &str,
    write: &Write,
    received: &mut Received,
) -> anyhow::Result<Histogram<u64>> {
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / RATE));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let deadline = Instant::now() + settings.run;
    let prefix = format!("{name}:lat:");
    let mut written = 0;
    let mut arrivals = Vec::new();
    while Instant::now() < deadline {
        tick.tick().await;
        write(written % PEOPLE, &format!("{prefix}{}", received.now()));
        written += 1;
        // Arrival times are taken by the socket's own task: reading them
        // here, between writes, delays none.
        while let Ok((text, at)) = received.texts.try_recv() {
            if text.starts_with(&prefix) {
                arrivals.push((text, at));
            }
        }
    }
    let rest = written - arrivals.len();
    arrivals.extend(received.take(&prefix, rest).await?);
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for (text, at) in arrivals {
        let stamp: u64 = text[prefix.len()..].parse()?;
        histogram.record((at.saturating_sub(stamp) / 1000).max(1))?;
    }
    Ok(histogram)
}

/// The manager's socket, every person's text it receives passed on with
/// when it arrived.
async fn listen(settings: &Settings) -> anyhow::Result<Received> {
    let epoch = Instant::now();
    let (tx, texts) = mpsc::unbounded_channel();
    let manager = client::manager(settings).await?;
    tokio::spawn(async move {
        let (_, mut source) = manager.split();
        while let Some(Ok(frame)) = source.next().await {
            if let Some(text) = client::visitor_message_text(&frame) {
                let at = epoch.elapsed().as_nanos() as u64;
                if tx.send((text, at)).is_err() {
                    break;
                }
            }
        }
    });
    Ok(Received { epoch, texts })
}

/// Connects the demo shop's three messengers to the fakes through the
/// gateway, as its owner does in the console, and points the fakes at the
/// webhooks, as the platforms' admins do.
async fn connect(settings: &Settings, vk: &FakeVk, facebook: &FakeFacebook) -> anyhow::Result<()> {
    let token = client::login(&settings.gateway, &settings.email, &settings.password).await?;
    let http = reqwest::Client::new();
    let put = async |channel: &str, body: Value| -> anyhow::Result<Value> {
        let response = http
            .put(format!(
                "http://{}/api/v1/integrations/{channel}",
                settings.gateway
            ))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        anyhow::ensure!(status.is_success(), "connecting {channel}: {status} {body}");
        anyhow::ensure!(
            body["mode"] == "webhook",
            "{channel} is not on a webhook (is BRIDGE_PUBLIC_URL set?): {body}"
        );
        Ok(body)
    };
    put("telegram", json!({"bot_token": BOT})).await?;
    let community = put(
        "vk",
        json!({"group_id": GROUP.to_string(), "access_token": VK_TOKEN,
               "confirmation": VK_CONFIRMATION, "secret": VK_SECRET}),
    )
    .await?;
    vk.set_callback(GROUP, address(&community)?, VK_SECRET);
    let page = put(
        "facebook",
        json!({"page_id": PAGE, "page_access_token": PAGE_TOKEN,
               "app_secret": APP_SECRET, "verify_token": VERIFY}),
    )
    .await?;
    facebook
        .subscribe(PAGE, address(&page)?, VERIFY)
        .await
        .map_err(|e| anyhow::anyhow!("the page's webhook was not verified: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !vk.callback_confirmed(GROUP) {
        anyhow::ensure!(Instant::now() < deadline, "VK did not confirm the callback");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn address(integration: &Value) -> anyhow::Result<&str> {
    integration["address"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no callback address: {integration}"))
}
