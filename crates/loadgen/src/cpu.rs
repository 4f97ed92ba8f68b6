//! CPU time per message, per process: user plus system time from
//! `/proc/<pid>/stat`, read before and after a timed run and divided by the
//! messages of the run. The five services are named by their pids
//! (`BENCH_PIDS=gateway:123,dialog:456,...`); PostgreSQL and NATS are every
//! process whose name is `postgres` or `nats-server` (the server's own
//! processes and the backends of every connection that lives through the run).
//!
//! CPU time is steadier across noisy runs than latency or throughput, and it
//! says where the work is.

use std::collections::BTreeMap;

/// Clock ticks per second of `/proc/<pid>/stat` (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// The processes whose CPU time is counted, in the order they are printed.
#[derive(Clone)]
pub struct Processes {
    services: Vec<(String, u32)>,
}

/// CPU seconds per process at one moment.
pub struct Sample(BTreeMap<String, f64>);

impl Processes {
    /// The services named in `BENCH_PIDS` (none when it is unset).
    pub fn from_env() -> Self {
        let services = std::env::var("BENCH_PIDS")
            .unwrap_or_default()
            .split(',')
            .filter_map(|pair| {
                let (name, pid) = pair.split_once(':')?;
                Some((name.trim().to_owned(), pid.trim().parse().ok()?))
            })
            .collect();
        Self { services }
    }

    pub fn sample(&self) -> Sample {
        let mut seconds = BTreeMap::new();
        for (name, pid) in &self.services {
            if let Some(s) = cpu_seconds(*pid) {
                seconds.insert(name.clone(), s);
            }
        }
        let mut postgres = 0.0;
        let mut nats = 0.0;
        for (pid, name) in all_processes() {
            match name.as_str() {
                "postgres" => postgres += cpu_seconds(pid).unwrap_or(0.0),
                "nats-server" => nats += cpu_seconds(pid).unwrap_or(0.0),
                _ => {}
            }
        }
        seconds.insert("PostgreSQL".into(), postgres);
        seconds.insert("NATS".into(), nats);
        if let Some(s) = cpu_seconds(std::process::id()) {
            seconds.insert("load generator".into(), s);
        }
        Sample(seconds)
    }

    /// Microseconds of CPU per message, per process, between two samples;
    /// the suite's total (every process but the load generator) last.
    pub fn per_message(
        &self,
        before: &Sample,
        after: &Sample,
        messages: u64,
    ) -> Vec<(String, f64)> {
        let per = |name: &str| {
            let spent = after.0.get(name).copied().unwrap_or(0.0)
                - before.0.get(name).copied().unwrap_or(0.0);
            spent.max(0.0) * 1e6 / messages.max(1) as f64
        };
        let mut rows: Vec<(String, f64)> = self
            .services
            .iter()
            .map(|(name, _)| (name.clone(), per(name)))
            .chain(["PostgreSQL", "NATS"].map(|n| (n.to_owned(), per(n))))
            .collect();
        let total = rows.iter().map(|(_, us)| us).sum();
        rows.push(("load generator (not counted)".into(), per("load generator")));
        rows.push(("**the suite in all**".into(), total));
        rows
    }
}

/// The suite's total of [`Processes::per_message`]'s rows.
pub fn suite_total(rows: &[(String, f64)]) -> f64 {
    rows.last().map_or(0.0, |(_, us)| *us)
}

/// A Markdown table of CPU per message: a row per process, a column per
/// offered rate (`columns[i]` from [`Processes::per_message`] at `rates[i]`).
pub fn table(rates: &[u64], columns: &[Vec<(String, f64)>]) -> String {
    let heads: Vec<String> = rates.iter().map(|r| format!("{r} msg/s")).collect();
    let mut table = format!(
        "| process | {} |\n|---|{}\n",
        heads.join(" | "),
        "---|".repeat(rates.len()),
    );
    let Some(first) = columns.first() else {
        return table;
    };
    for (i, (name, _)) in first.iter().enumerate() {
        let cells: Vec<String> = columns.iter().map(|c| format!("{:.0}", c[i].1)).collect();
        table.push_str(&format!("| {name} | {} |\n", cells.join(" | ")));
    }
    table
}

/// User plus system seconds a process has used, if it is there.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The name is in parentheses and may hold spaces: fields follow the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // After the name: state is field 3 of the line, utime 14 and stime 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SECOND)
}

/// Every process's pid and name.
fn all_processes() -> Vec<(u32, String)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            Some((pid, name.trim().to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_used_some_cpu_and_is_found_by_name() {
        let spin = std::time::Instant::now();
        while spin.elapsed() < std::time::Duration::from_millis(30) {}
        assert!(cpu_seconds(std::process::id()).is_some_and(|s| s > 0.0));
        let me = std::process::id();
        assert!(all_processes().iter().any(|(pid, _)| *pid == me));
    }
}
