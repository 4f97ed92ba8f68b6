//! Who a request comes from: the TCP peer, or, when the peer is one of the
//! trusted proxies (`GATEWAY_TRUSTED_PROXIES`, CIDRs), the address that the
//! proxies name in their forwarding header, read from the nearest hop
//! outwards: the first address that is not a trusted proxy is the client.
//! Anything a client writes into that header itself sits further out than
//! its own address, so it changes nothing; and behind no configured proxy
//! the header is not read at all. Rate limits, budgets and the session list
//! all use this address.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::error::Error;
use crate::state::AppState;

/// Which header the trusted proxies set (`GATEWAY_FORWARDED_HEADER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (nginx, HAProxy, most ingresses).
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1`.
    Forwarded,
}

/// The proxies whose forwarding header is believed.
#[derive(Debug, Clone)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    /// From a comma-separated list of CIDRs (or single addresses) and the
    /// header's name; an error names what does not parse.
    pub fn parse(list: &str, header: &str) -> Result<Self, String> {
        let networks = list
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{entry:?} is not a CIDR or an address"))
            })
            .collect::<Result<_, _>>()?;
        let header = match header.trim().to_ascii_lowercase().as_str() {
            "" | "x-forwarded-for" => ForwardedHeader::XForwardedFor,
            "forwarded" => ForwardedHeader::Forwarded,
            other => {
                return Err(format!(
                    "{other:?} is neither x-forwarded-for nor forwarded"
                ));
            }
        };
        Ok(Self { networks, header })
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.networks.iter().any(|net| net.contains(&ip))
    }

    /// The client's address, for a request from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        // Nearest hop last; the walk goes from it outwards.
        let mut nearest = peer;
        for hop in self.chain(headers).iter().rev() {
            match hop {
                Some(ip) if self.trusts(*ip) => nearest = *ip,
                Some(ip) => return *ip,
                // An entry that names no address ("unknown", garbage): the
                // hop that wrote it is as far as can be known.
                None => return nearest,
            }
        }
        nearest
    }

    /// The addresses in the forwarding header(s), in order; `None` for an
    /// entry that is no address.
    fn chain(&self, headers: &HeaderMap) -> Vec<Option<IpAddr>> {
        let (name, parse): (&str, fn(&str) -> Option<IpAddr>) = match self.header {
            ForwardedHeader::XForwardedFor => ("x-forwarded-for", parse_address),
            ForwardedHeader::Forwarded => ("forwarded", forwarded_for),
        };
        headers
            .get_all(name)
            .iter()
            .flat_map(|value| value.to_str().map_or(vec![""], |v| v.split(',').collect()))
            .map(|entry| parse(entry.trim()).map(canonical))
            .collect()
    }
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:5678`.
fn parse_address(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            text.strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|inner| inner.parse().ok())
        })
}

/// The `for=` of one element of a `Forwarded` header.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| key.trim().eq_ignore_ascii_case("for"))
        .and_then(|(_, value)| parse_address(value))
}

/// An IPv4 address mapped into IPv6 (`::ffff:1.2.3.4`) as the IPv4 one.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client's address of a request (see the module's doc); `None` only
/// where the server was not started with peer addresses.
pub struct ClientAddress(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        Ok(ClientAddress(of(state, parts)))
    }
}

/// The client's address of a request's parts.
pub fn of(state: &AppState, parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| state.trusted_proxies.client(peer.ip(), &parts.headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let proxies = TrustedProxies::parse("10.0.0.0/8", "").unwrap();
        let forged = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(
            proxies.client(ip("198.51.100.7"), &forged),
            ip("198.51.100.7")
        );
        let nobody = TrustedProxies::parse("", "").unwrap();
        assert_eq!(nobody.client(ip("10.1.2.3"), &forged), ip("10.1.2.3"));
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 192.0.2.1", "x-forwarded-for").unwrap();
        // The client forged the first entry; the ingress appended its peer.
        let chain = headers(&[("x-forwarded-for", "1.1.1.1, 198.51.100.7, 192.0.2.1")]);
        assert_eq!(proxies.client(ip("10.0.0.5"), &chain), ip("198.51.100.7"));
        // Split over two header lines, the order is kept.
        let split = headers(&[
            ("x-forwarded-for", "1.1.1.1"),
            ("x-forwarded-for", "198.51.100.7:4711"),
        ]);
        assert_eq!(proxies.client(ip("10.0.0.5"), &split), ip("198.51.100.7"));
        // Nothing forwarded: the proxy itself.
        assert_eq!(
            proxies.client(ip("10.0.0.5"), &HeaderMap::new()),
            ip("10.0.0.5")
        );
        // Garbage stops the walk at the hop that wrote it.
        let garbage = headers(&[("x-forwarded-for", "198.51.100.7, nonsense")]);
        assert_eq!(proxies.client(ip("10.0.0.5"), &garbage), ip("10.0.0.5"));
        // An IPv4 peer seen through an IPv6 socket.
        assert_eq!(
            proxies.client(ip("::ffff:10.0.0.5"), &chain),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn the_forwarded_header_is_read_when_configured() {
        let proxies = TrustedProxies::parse("10.0.0.0/8", "Forwarded").unwrap();
        let chain = headers(&[(
            "forwarded",
            r#"for=1.1.1.1, for="[2001:db8::7]:4711";proto=https, for=10.0.0.9"#,
        )]);
        assert_eq!(proxies.client(ip("10.0.0.5"), &chain), ip("2001:db8::7"));
        let xff_only = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(proxies.client(ip("10.0.0.5"), &xff_only), ip("10.0.0.5"));
    }

    #[test]
    fn a_bad_list_is_refused_with_what_is_wrong() {
        let e = TrustedProxies::parse("10.0.0.0/8, ten", "").unwrap_err();
        assert!(e.contains("ten"), "{e}");
        assert!(TrustedProxies::parse("", "x-real-ip").is_err());
    }
}
