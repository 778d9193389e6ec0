//! The network policy: where the access token may be sent.
//!
//! Two checks apply it. [`crate::config::check_base_url`] refuses a `base_url` whose
//! host is refused ([`forbidden_host`]), and plain `http://` unless the host is loopback
//! ([`is_loopback`]). Then, on every connection, [`GuardedResolver`] drops the addresses
//! DNS returns that are refused ([`forbidden_ip`]), so that a host name pointed at them
//! (or rebound to them later) never receives the token; a host left with no address
//! fails its request with [`refusal`]'s config error, and no request is sent to it.
//! The client also never follows a redirect, which could carry the token to another
//! host ([`crate::http::client`]).
//!
//! Refused: link-local addresses and the cloud metadata services (by address and by
//! name), where a token would be handed to the machine's own infrastructure, and
//! addresses that are no host (`0.0.0.0`, broadcast).

use crate::error::Error;
use crate::redact;

/// Whether a host is this machine's loopback (`localhost` or a loopback address).
pub fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// Why a host is refused, if it is: link-local and cloud metadata addresses, where a
/// token would be handed to the machine's own infrastructure.
pub fn forbidden_host(host: &url::Host<&str>) -> Option<&'static str> {
    const METADATA_NAMES: &[&str] = &[
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    ];
    match host {
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            METADATA_NAMES
                .contains(&d.as_str())
                .then_some("a cloud metadata service")
        }
        url::Host::Ipv4(ip) => forbidden_ip(&std::net::IpAddr::V4(*ip)),
        url::Host::Ipv6(ip) => forbidden_ip(&std::net::IpAddr::V6(*ip)),
    }
}

/// Why an address is refused, if it is (also applied to every address DNS returns).
pub fn forbidden_ip(ip: &std::net::IpAddr) -> Option<&'static str> {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_link_local() {
                Some("a link-local address (cloud metadata services live there)")
            } else if o == [100, 100, 100, 200] || o == [192, 0, 0, 192] {
                Some("a cloud metadata service")
            } else if v4.is_unspecified() || v4.is_broadcast() {
                Some("not a host")
            } else {
                None
            }
        }
        std::net::IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_ip(&std::net::IpAddr::V4(v4));
            }
            let seg = v6.segments();
            if seg[0] & 0xffc0 == 0xfe80 {
                Some("a link-local address (cloud metadata services live there)")
            } else if seg == [0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254] {
                Some("a cloud metadata service")
            } else if v6.is_unspecified() {
                Some("not a host")
            } else {
                None
            }
        }
    }
}

/// Name resolution that refuses link-local and metadata addresses, so that a host name
/// pointed at them (or rebound to them) never receives the token.
pub struct GuardedResolver;

/// A host that resolves only to addresses the connector refuses to send the token to.
#[derive(Debug)]
struct RefusedHost {
    host: String,
    why: String,
}

impl std::fmt::Display for RefusedHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.host, self.why)
    }
}

impl std::error::Error for RefusedHost {}

/// The addresses of `host` the token may go to; none when every one is refused.
fn guard_addresses(
    host: &str,
    all: Vec<std::net::SocketAddr>,
) -> std::result::Result<Vec<std::net::SocketAddr>, RefusedHost> {
    let mut refused = Vec::new();
    let mut allowed = Vec::new();
    for a in all {
        match forbidden_ip(&a.ip()) {
            Some(why) => refused.push(format!("{} ({why})", a.ip())),
            None => allowed.push(a),
        }
    }
    if allowed.is_empty() && !refused.is_empty() {
        refused.truncate(4);
        return Err(RefusedHost {
            host: redact::server_text(host, 100),
            why: format!(
                "resolves only to addresses the connector refuses to send the token to: {}",
                refused.join(", ")
            ),
        });
    }
    Ok(allowed)
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let all: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let addrs: reqwest::dns::Addrs = Box::new(guard_addresses(&host, all)?.into_iter());
            Ok(addrs)
        })
    }
}

/// The config error of a request that failed because [`GuardedResolver`] refused its
/// host, if that is why it failed.
pub fn refusal(e: &reqwest::Error) -> Option<Error> {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(refused) = s.downcast_ref::<RefusedHost>() {
            return Some(Error::Config(format!(
                "the API host {} (from `base_url` or `region`) {}; no request was sent to it",
                refused.host, refused.why
            )));
        }
        source = s.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_resolving_only_to_refused_addresses_is_named_with_why() {
        let addr = |s: &str| s.parse::<std::net::SocketAddr>().unwrap();
        let e = guard_addresses("api.evil.example", vec![addr("169.254.169.254:0")]).unwrap_err();
        let s = e.to_string();
        assert!(
            s.starts_with("api.evil.example resolves only to")
                && s.contains("169.254.169.254 (a link-local address"),
            "{s}"
        );
        let ok = guard_addresses(
            "api.example",
            vec![addr("169.254.169.254:0"), addr("10.0.0.5:0")],
        )
        .unwrap();
        assert_eq!(ok, vec![addr("10.0.0.5:0")]);
        assert!(guard_addresses("none.example", Vec::new())
            .unwrap()
            .is_empty());
    }
}
