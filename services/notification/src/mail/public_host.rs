//! Which hosts the service may connect to on a shop's word: a host name
//! whose every address is on the internet. Loopback, private, link-local,
//! shared and reserved IPv4, and for IPv6 anything outside global unicast
//! (with the IPv4 it may carry checked as IPv4), lead into the deployment's
//! own network and are refused.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// The longest host name (RFC 1035).
const MAX_HOST_BYTES: usize = 253;

/// What an owner is told of a host that is refused or does not resolve:
/// the same either way, so that nobody maps the deployment's own names.
pub const NOT_PUBLIC: &str =
    "must be a host on the internet (its name resolving to public addresses only)";

/// A DNS name (letters, digits, hyphens, dots) or an IP address.
pub fn is_host_name(host: &str) -> bool {
    if host.parse::<IpAddr>().is_ok() {
        return true;
    }
    !host.is_empty()
        && host.len() <= MAX_HOST_BYTES
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The one address `host` is connected at: the first it resolves to, when
/// every one is public (or `any_host`). Refused with [`NOT_PUBLIC`]; why is
/// logged, never told.
pub async fn resolve(
    host: &str,
    port: u16,
    any_host: bool,
    timeout: Duration,
) -> Result<SocketAddr, &'static str> {
    let found = match tokio::time::timeout(timeout, tokio::net::lookup_host((host, port))).await {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => {
            tracing::info!(host, error = %e, "a shop's SMTP host does not resolve");
            return Err(NOT_PUBLIC);
        }
        Err(_) => {
            tracing::info!(host, "a shop's SMTP host does not resolve in time");
            return Err(NOT_PUBLIC);
        }
    };
    let addresses: Vec<SocketAddr> = found.collect();
    let Some(first) = addresses.first() else {
        return Err(NOT_PUBLIC);
    };
    if !any_host && let Some(inside) = addresses.iter().find(|a| !is_public(a.ip())) {
        tracing::warn!(host, address = %inside.ip(), "a shop's SMTP host leads inside: refused");
        return Err(NOT_PUBLIC);
    }
    Ok(*first)
}

/// Whether `ip` is on the internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || a == 0
        // Shared address space (carrier-grade NAT).
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments.
        || (a == 192 && b == 0 && c == 0)
        // Benchmarking.
        || (a == 198 && (18..20).contains(&b))
        // Reserved for future use.
        || a >= 240)
}

/// Global unicast (2000::/3) only, less what tunnels to IPv4 or is for
/// documentation; an IPv4-mapped or -compatible address is its IPv4's.
fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4() {
        // ::a.b.c.d and ::ffff:a.b.c.d; `::` and `::1` are neither public.
        return !ip.is_loopback() && !ip.is_unspecified() && is_public_v4(v4);
    }
    let [first, second, ..] = ip.segments();
    let global_unicast = (first & 0xe000) == 0x2000;
    global_unicast
        // Teredo (2001::/32) and 6to4 (2002::/16) carry IPv4 inside.
        && !(first == 0x2001 && second == 0)
        && first != 0x2002
        // Documentation (2001:db8::/32).
        && !(first == 0x2001 && second == 0x0db8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_addresses_on_the_internet_are_public() {
        for inside in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "fec0::1",
            "100::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::10.0.0.1",
            "::169.254.169.254",
            "64:ff9b::a00:1",
            "2001::a00:1",
            "2002:a00:1::1",
            "2001:db8::1",
        ] {
            assert!(!is_public(inside.parse().unwrap()), "{inside}");
        }
        for outside in [
            "8.8.8.8",
            "77.88.21.11",
            "::ffff:77.88.21.11",
            "2a00:1450:4010:c0e::1b",
        ] {
            assert!(is_public(outside.parse().unwrap()), "{outside}");
        }
    }

    #[test]
    fn a_host_is_a_dns_name_or_an_address() {
        for good in ["smtp.shop.example", "mail-1.example", "203.0.113.9", "::1"] {
            assert!(is_host_name(good), "{good}");
        }
        for bad in [
            "",
            "smtp shop",
            "a..b",
            "-a.example",
            "a/b",
            &"a".repeat(64),
        ] {
            assert!(!is_host_name(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_host_that_resolves_inside_is_refused_alike_unless_any_host() {
        let wait = Duration::from_secs(5);
        for host in ["localhost", "127.0.0.1", "10.0.0.7"] {
            assert_eq!(
                resolve(host, 587, false, wait).await,
                Err(NOT_PUBLIC),
                "{host}"
            );
        }
        assert_eq!(
            resolve("127.0.0.1", 1025, true, wait).await,
            Ok("127.0.0.1:1025".parse().unwrap())
        );
    }
}
