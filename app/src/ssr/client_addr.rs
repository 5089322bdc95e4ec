//! Which address a request comes from. Behind a reverse proxy the socket's peer is the
//! proxy; only when the peer is one of the configured `trusted_proxies` are its
//! `Forwarded` (RFC 7239) or `X-Forwarded-For` headers believed, read from the right: the
//! first address that is not a trusted proxy is the client. Anything unreadable stops the
//! walk at the last address known. Pure, so every rule is a unit test.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// An address block: `192.0.2.0/24`, `2001:db8::/32`, or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Option<Cidr> {
        let (a, p) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr = canonical(a.trim().parse().ok()?);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok()?,
            Some(_) => return None,
            None => max,
        };
        (prefix <= max).then_some(Cidr { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Which forwarding header the trusted proxies set. Only that one is read: a proxy that sets
/// `X-Forwarded-For` passes a client's own `Forwarded` header through untouched (and the
/// other way round), so reading both would let a client pick its address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ForwardHeader {
    /// `X-Forwarded-For` (nginx's `$proxy_add_x_forwarded_for`, most load balancers).
    #[default]
    XForwardedFor,
    /// `Forwarded` (RFC 7239).
    Forwarded,
}

impl ForwardHeader {
    pub fn parse(text: &str) -> Option<ForwardHeader> {
        match text.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Some(ForwardHeader::XForwardedFor),
            "forwarded" => Some(ForwardHeader::Forwarded),
            _ => None,
        }
    }

    /// The header's name (lower case).
    pub fn name(self) -> &'static str {
        match self {
            ForwardHeader::XForwardedFor => "x-forwarded-for",
            ForwardHeader::Forwarded => "forwarded",
        }
    }
}

/// The `trusted_proxies` setting, with the header they set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    nets: Vec<Cidr>,
    pub header: ForwardHeader,
}

impl TrustedProxies {
    /// A comma- or space-separated list of addresses and CIDR blocks; empty trusts no one.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        list.split([',', ' ', '\t', '\n'])
            .filter(|t| !t.is_empty())
            .map(|t| Cidr::parse(t).ok_or_else(|| format!("{t:?} is not an address or CIDR block")))
            .collect::<Result<Vec<_>, _>>()
            .map(|nets| TrustedProxies {
                nets,
                header: ForwardHeader::default(),
            })
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|c| c.contains(canonical(ip)))
    }

    /// The client of a request from `peer` whose forwarding header (see [`Self::header`])
    /// has these lines; several lines are one list.
    pub fn client(&self, peer: IpAddr, lines: &[&str]) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let elements = lines.iter().flat_map(|line| line.split(','));
        let hops: Vec<Option<IpAddr>> = match self.header {
            ForwardHeader::Forwarded => elements.map(forwarded_for).collect(),
            ForwardHeader::XForwardedFor => elements.map(|h| node(h.trim())).collect(),
        };
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            match hop {
                Some(ip) => {
                    client = ip;
                    if !self.trusts(ip) {
                        break;
                    }
                }
                None => break,
            }
        }
        client
    }
}

/// IPv4-mapped IPv6 addresses as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The `for=` node of one `Forwarded` element, if it is an address.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("for") {
            return None;
        }
        node(v.trim().trim_matches('"'))
    })
}

/// `192.0.2.1`, `192.0.2.1:8080`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:8080`.
fn node(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sa) = text.parse::<SocketAddr>() {
        return Some(canonical(sa.ip()));
    }
    text.strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .and_then(|t| t.parse::<Ipv6Addr>().ok())
        .map(|v6| canonical(IpAddr::V6(v6)))
}

/// The unit a client address is throttled by: an IPv4 address, or an IPv6 /64 (one
/// customer's network, where every device has many addresses). Anything else as it is.
pub fn throttle_scope(ip: &str) -> String {
    match ip.parse::<IpAddr>().map(canonical) {
        Ok(IpAddr::V6(v6)) => {
            let net = u128::from(v6) & (u128::MAX << 64);
            format!("{}/64", Ipv6Addr::from(net))
        }
        Ok(v4) => v4.to_string(),
        Err(_) => ip.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_and_addresses() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains(ip("10.200.1.2")));
        assert!(!c.contains(ip("11.0.0.1")));
        assert!(c.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped");
        assert!(Cidr::parse("192.0.2.7").unwrap().contains(ip("192.0.2.7")));
        assert!(!Cidr::parse("192.0.2.7").unwrap().contains(ip("192.0.2.8")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "nonsense",
            "10.0.0.0/",
            "10.0.0.0/-1",
            "1.2.3.4/8x",
        ] {
            assert_eq!(Cidr::parse(bad), None, "{bad}");
        }
        assert!(TrustedProxies::parse("10.0.0.1, 192.168.0.0/16 ::1").is_ok());
        assert!(TrustedProxies::parse("10.0.0.1,bogus")
            .unwrap_err()
            .contains("bogus"));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
    }

    #[test]
    fn headers_are_believed_only_from_a_trusted_proxy() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("10.0.0.1"), &["203.0.113.9"]),
            ip("10.0.0.1")
        );
        let t = TrustedProxies::parse("10.0.0.0/8").unwrap();
        // An outsider cannot pick their address by sending the header themselves.
        assert_eq!(
            t.client(ip("198.51.100.1"), &["203.0.113.9"]),
            ip("198.51.100.1")
        );
        assert_eq!(
            t.client(ip("10.0.0.1"), &["203.0.113.9"]),
            ip("203.0.113.9")
        );
        // A client-supplied first hop is skipped: the rightmost untrusted address counts.
        assert_eq!(
            t.client(ip("10.0.0.1"), &["1.1.1.1, 203.0.113.9, 10.0.0.2"]),
            ip("203.0.113.9")
        );
        assert_eq!(
            t.client(ip("10.0.0.1"), &["1.1.1.1", "203.0.113.9"]),
            ip("203.0.113.9"),
            "several header lines are one list"
        );
        // Garbage the client put in front never hides the address the proxy added.
        assert_eq!(
            t.client(ip("10.0.0.1"), &["\u{fffd}junk, 203.0.113.9"]),
            ip("203.0.113.9")
        );
        // All trusted: the leftmost.
        assert_eq!(
            t.client(ip("10.0.0.1"), &["10.0.0.3, 10.0.0.2"]),
            ip("10.0.0.3")
        );
        // Garbage the proxies wrote stops the walk at the last known address.
        assert_eq!(
            t.client(ip("10.0.0.1"), &["203.0.113.9, junk"]),
            ip("10.0.0.1")
        );
        assert_eq!(t.client(ip("10.0.0.1"), &[]), ip("10.0.0.1"));
        assert_eq!(
            t.client(ip("10.0.0.1"), &["203.0.113.9:4711"]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn forwarded_header() {
        let mut t = TrustedProxies::parse("10.0.0.0/8").unwrap();
        t.header = ForwardHeader::parse("Forwarded").unwrap();
        assert_eq!(
            t.client(ip("10.0.0.1"), &["for=192.0.2.60;proto=https;by=10.0.0.1"]),
            ip("192.0.2.60")
        );
        assert_eq!(
            t.client(
                ip("10.0.0.1"),
                &["For=\"[2001:db8:cafe::17]:4711\", for=10.0.0.9"]
            ),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(t.client(ip("10.0.0.1"), &["for=unknown"]), ip("10.0.0.1"));
        assert_eq!(
            t.client(ip("10.0.0.1"), &["for=_hidden, for=10.0.0.5"]),
            ip("10.0.0.5")
        );
        assert_eq!(ForwardHeader::parse("x-real-ip"), None);
    }

    #[test]
    fn ipv6_is_throttled_per_64() {
        assert_eq!(throttle_scope("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            throttle_scope("2001:db8:1:2:bbbb:cccc:dddd:eeee"),
            throttle_scope("2001:db8:1:2::9")
        );
        assert_ne!(
            throttle_scope("2001:db8:1:3::1"),
            throttle_scope("2001:db8:1:2::1")
        );
        assert_eq!(throttle_scope("192.0.2.1"), "192.0.2.1");
        assert_eq!(throttle_scope("::ffff:192.0.2.1"), "192.0.2.1");
    }
}
