//! Deliveries refused for a signature or secret that does not match the
//! saved one, counted per integration. Most often the shop saved a wrong
//! secret and every message of its people is refused, so the console must
//! say so; but anyone may POST to a known address, so the alarm is written
//! at most once a [`WINDOW`] per integration, with how many were refused
//! meanwhile, rather than once per forgery.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

/// At most one alarm an integration this often.
pub const WINDOW: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct Refusals {
    tallies: Mutex<HashMap<Uuid, Tally>>,
}

#[derive(Default)]
struct Tally {
    /// Refused since the alarm was last written.
    count: u64,
    /// When the alarm was last written; `None` before the first.
    written_at: Option<Instant>,
}

impl Refusals {
    /// Counts one refused delivery; the number refused since the last alarm
    /// (this one included) when an alarm is due now, else `None`.
    pub fn refused(&self, integration_id: Uuid) -> Option<u64> {
        self.refused_at(integration_id, Instant::now())
    }

    fn refused_at(&self, integration_id: Uuid, now: Instant) -> Option<u64> {
        let mut tallies = self.tallies.lock().unwrap_or_else(|e| e.into_inner());
        let tally = tallies.entry(integration_id).or_default();
        tally.count += 1;
        if tally
            .written_at
            .is_some_and(|at| now.duration_since(at) < WINDOW)
        {
            return None;
        }
        tally.written_at = Some(now);
        Some(std::mem::take(&mut tally.count))
    }
}

/// What the integration's error says: the problem, and how many deliveries
/// it refused when more than one.
pub fn alarm(problem: &str, count: u64) -> String {
    match count {
        0 | 1 => problem.to_owned(),
        n => format!("{problem} ({n} deliveries refused in the last minute)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_forgeries_makes_one_alarm_a_minute_with_the_count() {
        let refusals = Refusals::default();
        let (flooded, other) = (Uuid::new_v4(), Uuid::new_v4());
        let start = Instant::now();
        assert_eq!(
            refusals.refused_at(flooded, start),
            Some(1),
            "the first at once"
        );
        for second in 1..60 {
            let at = start + Duration::from_secs(second);
            assert_eq!(refusals.refused_at(flooded, at), None);
        }
        assert_eq!(
            refusals.refused_at(other, start),
            Some(1),
            "each integration apart"
        );
        assert_eq!(
            refusals.refused_at(flooded, start + WINDOW),
            Some(60),
            "then one with how many"
        );
        assert_eq!(
            alarm("Refused.", 60),
            "Refused. (60 deliveries refused in the last minute)"
        );
        assert_eq!(alarm("Refused.", 1), "Refused.");
    }
}
