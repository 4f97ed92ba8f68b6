//! Rate limits of the edge, on `governor` (GCRA): login attempts per client
//! address and per e-mail, invitation attempts per client address, uploads
//! per visitor's address and per manager, and `send` frames per socket.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::{Error, Result};

/// Keys kept before forgotten ones (limits long refilled) are dropped.
const MAX_TRACKED_KEYS: usize = 10_000;

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

/// The key a client address is limited by: an IPv4 address, or the /64 an
/// IPv6 address is in (one subscriber commonly holds a whole /64, so a
/// budget per IPv6 address would be one per attempt).
pub fn address_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            IpAddr::V6(segments.into())
        }
        v4 => v4,
    }
}

/// A quota per key (a client address, an e-mail), forgetting keys whose
/// quota has long refilled once many are tracked.
pub struct KeyedLimit<K: Hash + Eq + Clone>(DefaultKeyedRateLimiter<K>);

impl<K: Hash + Eq + Clone> KeyedLimit<K> {
    pub fn per_minute(n: u32) -> Self {
        Self(RateLimiter::keyed(per_minute(n)))
    }

    /// Counts one use by `key`; `RateLimited` with the seconds to wait when over.
    pub fn check(&self, key: &K) -> Result<()> {
        if self.0.len() > MAX_TRACKED_KEYS {
            self.0.retain_recent();
        }
        self.0.check_key(key).map_err(|not_until| {
            let now = DefaultClock::default().now();
            Error::RateLimited(not_until.wait_time_from(now).as_secs() + 1)
        })
    }
}

/// Attempts at a password: logins per client address and per e-mail, and
/// invitations (setting a first password) per client address.
pub struct AuthLimits {
    logins_by_address: KeyedLimit<IpAddr>,
    logins_by_email: KeyedLimit<String>,
    invitations_by_address: KeyedLimit<IpAddr>,
}

impl AuthLimits {
    pub fn new(config: &crate::config::Config) -> Self {
        Self {
            logins_by_address: KeyedLimit::per_minute(config.logins_per_minute_per_address),
            logins_by_email: KeyedLimit::per_minute(config.logins_per_minute_per_email),
            invitations_by_address: KeyedLimit::per_minute(
                config.invitations_per_minute_per_address,
            ),
        }
    }

    /// Counts a login attempt; `RateLimited` with the seconds to wait when over.
    pub fn login(&self, address: Option<IpAddr>, email: &str) -> Result<()> {
        if let Some(address) = address {
            self.logins_by_address.check(&address_key(address))?;
        }
        self.logins_by_email.check(&email.trim().to_lowercase())
    }

    /// Counts an attempt to accept an invitation.
    pub fn invitation(&self, address: Option<IpAddr>) -> Result<()> {
        address.map_or(Ok(()), |address| {
            self.invitations_by_address.check(&address_key(address))
        })
    }
}

/// Files uploaded for messages, each taking a decode and a database write:
/// per visitor's client address and per manager.
pub struct UploadLimits {
    by_address: KeyedLimit<IpAddr>,
    by_manager: KeyedLimit<uuid::Uuid>,
}

/// Uploads a visitor's address may make a minute.
pub const VISITOR_UPLOADS_PER_MINUTE: u32 = 20;
/// Uploads a manager may make a minute.
pub const MANAGER_UPLOADS_PER_MINUTE: u32 = 120;

impl UploadLimits {
    pub fn new() -> Self {
        Self {
            by_address: KeyedLimit::per_minute(VISITOR_UPLOADS_PER_MINUTE),
            by_manager: KeyedLimit::per_minute(MANAGER_UPLOADS_PER_MINUTE),
        }
    }

    /// Counts a visitor's upload; `RateLimited` with the seconds to wait when over.
    pub fn visitor(&self, address: Option<IpAddr>) -> Result<()> {
        address.map_or(Ok(()), |address| {
            self.by_address.check(&address_key(address))
        })
    }

    /// Counts a manager's upload.
    pub fn manager(&self, manager_id: uuid::Uuid) -> Result<()> {
        self.by_manager.check(&manager_id)
    }
}

impl Default for UploadLimits {
    fn default() -> Self {
        Self::new()
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

    fn limits(per_address: u32, per_email: u32) -> AuthLimits {
        AuthLimits::new(&crate::config::Config {
            logins_per_minute_per_address: per_address,
            logins_per_minute_per_email: per_email,
            invitations_per_minute_per_address: per_address,
            ..Default::default()
        })
    }

    #[test]
    fn an_email_gets_its_quota_then_waits() {
        let limits = limits(100, 3);
        let address = Some(IpAddr::from([127, 0, 0, 1]));
        for _ in 0..3 {
            limits.login(address, "Anna@Shop.Example").unwrap();
        }
        match limits.login(address, "anna@shop.example") {
            Err(Error::RateLimited(secs)) => assert!((1..=60).contains(&secs)),
            other => panic!("expected a rate limit, got {other:?}"),
        }
        limits.login(address, "boris@shop.example").unwrap();
    }

    #[test]
    fn an_address_gets_its_quota_whatever_the_emails() {
        let limits = limits(2, 100);
        let address = Some(IpAddr::from([10, 0, 0, 1]));
        limits.login(address, "a@x.example").unwrap();
        limits.login(address, "b@x.example").unwrap();
        assert!(limits.login(address, "c@x.example").is_err());
        limits
            .login(Some(IpAddr::from([10, 0, 0, 2])), "c@x.example")
            .unwrap();
    }

    #[test]
    fn invitations_have_their_own_quota_per_address() {
        let limits = limits(2, 100);
        let address = Some(IpAddr::from([10, 0, 0, 3]));
        limits.login(address, "a@x.example").unwrap();
        limits.login(address, "b@x.example").unwrap();
        limits.invitation(address).unwrap();
        limits.invitation(address).unwrap();
        assert!(limits.invitation(address).is_err());
        limits
            .invitation(Some(IpAddr::from([10, 0, 0, 4])))
            .unwrap();
    }

    #[test]
    fn an_ipv6_address_is_limited_by_its_64() {
        let limits = limits(1, 100);
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        limits.login(Some(one), "a@x.example").unwrap();
        assert!(limits.login(Some(same_64), "b@x.example").is_err());
        limits.login(Some(other_64), "c@x.example").unwrap();
    }

    #[test]
    fn a_socket_may_burst_to_twice_its_rate() {
        let limit = SendLimit::new(5);
        let allowed = (0..20).filter(|_| limit.allows()).count();
        assert_eq!(allowed, 10);
    }
}
