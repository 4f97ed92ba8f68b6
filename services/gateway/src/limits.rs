//! Rate limits of the edge, on `governor` (GCRA): login attempts per client
//! address and per e-mail, and `send` frames per socket.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::{Error, Result};

/// Keys kept before forgotten ones (limits long refilled) are dropped.
const MAX_TRACKED_KEYS: usize = 10_000;

/// Login attempts, limited per client address and per e-mail.
pub struct LoginLimits {
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    by_email: DefaultKeyedRateLimiter<String>,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

impl LoginLimits {
    pub fn new(per_address_per_minute: u32, per_email_per_minute: u32) -> Self {
        Self {
            by_address: RateLimiter::keyed(per_minute(per_address_per_minute)),
            by_email: RateLimiter::keyed(per_minute(per_email_per_minute)),
        }
    }

    /// Counts an attempt; `RateLimited` with the seconds to wait when over.
    pub fn attempt(&self, address: Option<IpAddr>, email: &str) -> Result<()> {
        for limiter_len in [self.by_address.len(), self.by_email.len()] {
            if limiter_len > MAX_TRACKED_KEYS {
                self.by_address.retain_recent();
                self.by_email.retain_recent();
            }
        }
        let now = DefaultClock::default().now();
        if let Some(address) = address
            && let Err(not_until) = self.by_address.check_key(&address)
        {
            return Err(Error::RateLimited(
                not_until.wait_time_from(now).as_secs() + 1,
            ));
        }
        let email = email.trim().to_lowercase();
        if let Err(not_until) = self.by_email.check_key(&email) {
            return Err(Error::RateLimited(
                not_until.wait_time_from(now).as_secs() + 1,
            ));
        }
        Ok(())
    }
}

/// `send` frames of one socket: a steady rate with bursts of twice that.
pub struct SendLimit(DefaultDirectRateLimiter);

impl SendLimit {
    pub fn new(per_second: u32) -> Self {
        let rate = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = rate.saturating_mul(NonZeroU32::new(2).unwrap_or(NonZeroU32::MIN));
        Self(RateLimiter::direct(
            Quota::per_second(rate).allow_burst(burst),
        ))
    }

    /// Whether one more `send` may go through now.
    pub fn allows(&self) -> bool {
        self.0.check().is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_gets_its_quota_then_waits() {
        let limits = LoginLimits::new(100, 3);
        let address = Some(IpAddr::from([127, 0, 0, 1]));
        for _ in 0..3 {
            limits.attempt(address, "Anna@Shop.Example").unwrap();
        }
        match limits.attempt(address, "anna@shop.example") {
            Err(Error::RateLimited(secs)) => assert!((1..=60).contains(&secs)),
            other => panic!("expected a rate limit, got {other:?}"),
        }
        limits.attempt(address, "boris@shop.example").unwrap();
    }

    #[test]
    fn an_address_gets_its_quota_whatever_the_emails() {
        let limits = LoginLimits::new(2, 100);
        let address = Some(IpAddr::from([10, 0, 0, 1]));
        limits.attempt(address, "a@x.example").unwrap();
        limits.attempt(address, "b@x.example").unwrap();
        assert!(limits.attempt(address, "c@x.example").is_err());
        limits
            .attempt(Some(IpAddr::from([10, 0, 0, 2])), "c@x.example")
            .unwrap();
    }

    #[test]
    fn a_socket_may_burst_to_twice_its_rate() {
        let limit = SendLimit::new(5);
        let allowed = (0..20).filter(|_| limit.allows()).count();
        assert_eq!(allowed, 10);
    }
}
