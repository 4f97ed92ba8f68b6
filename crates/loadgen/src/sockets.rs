//! The gateway's memory per idle visitor socket: its resident memory with N
//! visitors connected and idle, less its memory before, divided by N. Each
//! socket speaks the widget's protocol (greeted, then on a page: a presence
//! entry and a page visit). Counts grow cumulatively (1,000, then 10,000,
//! then 19,500 open at once).

use std::time::Duration;

use futures::stream::{self, StreamExt as _};

use crate::{Settings, client};

/// Connections opened at once while filling up.
const CONNECT_CONCURRENCY: usize = 100;
/// A socket not greeted by then counts as refused (the gateway out of descriptors, say).
const CONNECT_TIMEOUT_SECS: u64 = 15;

pub async fn measure(settings: &Settings) -> anyhow::Result<String> {
    let Some(pid) = settings.gateway_pid else {
        return Ok(
            "### Memory per idle visitor socket\n\nnot measured: set BENCH_GATEWAY_PID\n".into(),
        );
    };
    settle().await;
    let baseline = rss_kib(pid)?;
    let mut open = Vec::new();
    let mut rows = String::new();
    let mut notes = String::new();
    for &wanted in &settings.socket_counts {
        let target = match settings.max_sockets {
            Some(max) if wanted > max => {
                notes.push_str(&format!(
                    "\n{wanted} sockets could not be measured here: the open-file limit \
                     allows the gateway {max}; the last row is at that limit.\n"
                ));
                max
            }
            _ => wanted,
        };
        if target <= open.len() {
            continue;
        }
        let start = open.len();
        let fresh: Vec<_> = stream::iter(start..target)
            .map(|i| async move {
                tokio::time::timeout(
                    Duration::from_secs(CONNECT_TIMEOUT_SECS),
                    client::widget(settings, i),
                )
                .await
                .map_err(|_| anyhow::anyhow!("socket {i} not greeted in time"))?
            })
            .buffer_unordered(CONNECT_CONCURRENCY)
            .collect()
            .await;
        for socket in fresh {
            open.push(socket?);
        }
        settle().await;
        let rss = rss_kib(pid)?;
        let per_socket = (rss.saturating_sub(baseline)) as f64 * 1024.0 / open.len() as f64;
        rows.push_str(&format!(
            "| {} | {:.1} | {:.1} | {:.2} |\n",
            open.len(),
            baseline as f64 / 1024.0,
            rss as f64 / 1024.0,
            per_socket / 1024.0
        ));
    }
    drop(open);
    Ok(format!(
        "### Memory per idle visitor socket (gateway process)\n\n\
         | idle sockets | gateway RSS before, MiB | with the sockets, MiB | KiB per socket |\n\
         |---|---|---|---|\n{rows}{notes}"
    ))
}

async fn settle() {
    tokio::time::sleep(Duration::from_secs(3)).await;
}

/// Resident memory of a process, from /proc.
fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS for {pid}"))
}
