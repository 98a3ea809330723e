//! Which hosts a fetch may connect to, and pinning the address that was
//! checked — the service's defence against server-side request forgery.
//!
//! With [`NetworkPolicy::public_only`] (the service's default) a git URL is
//! fetched only when its host resolves to public addresses. Before git runs,
//! the host is resolved once here; if **any** address it resolves to is
//! loopback, private (RFC 1918, IPv6 ULA), link-local, CGNAT, a cloud
//! metadata address (169.254.169.254, fd00:ec2::254, 168.63.129.16),
//! unspecified, multicast, reserved or documentation space — IPv4-mapped,
//! NAT64 and 6to4 forms included — the fetch is refused before any
//! connection is made, with the same words whether a port there is open or
//! not. Otherwise the checked address is pinned, so a second DNS answer
//! cannot send git elsewhere:
//! - http(s): `http.curloptResolve=host:port:address` (curl connects to the
//!   checked address and still verifies TLS for the host name), and
//!   `http.followRedirects=false` (a redirect could name any host);
//! - ssh (`ssh://` and `user@host:path`): the URL names the address, and ssh
//!   checks the host key under the host's name (`HostKeyAlias`);
//! - `git://`: the URL names the address.
//!
//! `file://` URLs and local paths are not network sources: the caller (the
//! service's `--allow-local-sources`) decides about those. Hosts on the
//! operator's allow-list ([`NetworkPolicy::allowed_hosts`]: names or CIDR
//! ranges) are fetched wherever they resolve. The CLI on a person's own
//! machine uses the default policy: anything goes.
//!
//! Deliberately not here: running git (`git.rs`), proxies (an operator's
//! `http.proxy` is the operator's choice).

use crate::error::SourceError;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

/// Where fetches may connect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkPolicy {
    /// Refuse hosts that resolve to non-public addresses (see the module doc).
    pub public_only: bool,
    /// Admitted whatever they resolve to: host names (exact, any case) or
    /// address ranges (`10.1.0.0/16`, `git.internal.example`).
    pub allowed_hosts: Vec<String>,
}

impl NetworkPolicy {
    /// The service's policy: public addresses only, plus `allowed_hosts`.
    pub fn public_only(allowed_hosts: Vec<String>) -> Self {
        NetworkPolicy {
            public_only: true,
            allowed_hosts,
        }
    }

    fn admits_name(&self, host: &str) -> bool {
        self.allowed_hosts
            .iter()
            .any(|h| h.trim().eq_ignore_ascii_case(host))
    }

    fn admits_ip(&self, ip: IpAddr) -> bool {
        self.allowed_hosts.iter().any(|h| {
            let h = h.trim();
            h.parse::<IpNet>()
                .map(|n| n.contains(&ip))
                .or_else(|_| h.parse::<IpAddr>().map(|a| a == ip))
                .unwrap_or(false)
        })
    }
}

/// How git must reach a checked remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pinned {
    /// The URL to give git (the address instead of the name for ssh and git://).
    pub url: String,
    /// `-c key=value` settings for every git command.
    pub config: Vec<(String, String)>,
    /// ssh: check the host key under this name.
    pub ssh_host_key_alias: Option<String>,
}

/// Why an address is not public, or `None` when it is.
pub fn non_public_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    let in_net = |net: [u8; 4], bits: u32| {
        let mask = if bits == 0 {
            0
        } else {
            u32::MAX << (32 - bits)
        };
        (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
    };
    if ip == Ipv4Addr::new(169, 254, 169, 254) || ip == Ipv4Addr::new(168, 63, 129, 16) {
        return Some("a cloud metadata address");
    }
    Some(match () {
        _ if in_net([127, 0, 0, 0], 8) => "a loopback address",
        _ if in_net([0, 0, 0, 0], 8) => "an unspecified (\"this network\") address",
        _ if in_net([10, 0, 0, 0], 8)
            || in_net([172, 16, 0, 0], 12)
            || in_net([192, 168, 0, 0], 16) =>
        {
            "a private address"
        }
        _ if in_net([169, 254, 0, 0], 16) => "a link-local address",
        _ if in_net([100, 64, 0, 0], 10) => "a carrier-grade NAT (shared) address",
        _ if in_net([192, 0, 0, 0], 24) || in_net([198, 18, 0, 0], 15) => {
            "a special-purpose address"
        }
        _ if in_net([192, 0, 2, 0], 24)
            || in_net([198, 51, 100, 0], 24)
            || in_net([203, 0, 113, 0], 24) =>
        {
            "a documentation address"
        }
        _ if o[0] >= 224 => "a multicast, broadcast or reserved address",
        _ => return None,
    })
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_reason(v4);
    }
    let s = ip.segments();
    if ip == "fd00:ec2::254".parse::<Ipv6Addr>().expect("literal") {
        return Some("a cloud metadata address");
    }
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return v4_reason(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    if s[0] == 0x2002 {
        return v4_reason(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    Some(match () {
        _ if ip.is_loopback() => "a loopback address",
        _ if ip.is_unspecified() => "an unspecified address",
        // ::a.b.c.d (IPv4-compatible, deprecated)
        _ if s[..6] == [0, 0, 0, 0, 0, 0] => "an IPv4-compatible address",
        _ if s[0] & 0xfe00 == 0xfc00 => "a private (unique local) address",
        _ if s[0] & 0xffc0 == 0xfe80 => "a link-local address",
        _ if s[0] & 0xffc0 == 0xfec0 => "a site-local address",
        _ if s[0] & 0xff00 == 0xff00 => "a multicast address",
        _ if s[0] == 0x2001 && s[1] == 0x0db8 => "a documentation address",
        _ if s[0] == 0x0100 && s[1..4] == [0, 0, 0] => "a discard-only address",
        _ if s[0] == 0x2001 && s[1] == 0 => "a Teredo address",
        _ => return None,
    })
}

/// (scheme, user, host, port, path-part) of a network git URL, or `None`
/// for a local source (file://, a path).
struct Remote<'a> {
    scheme: &'static str,
    user: Option<&'a str>,
    host: &'a str,
    port: Option<u16>,
    /// Everything after the authority (`/o/r.git`), or after `:` for scp syntax.
    rest: &'a str,
    scp: bool,
}

fn parse_remote(url: &str) -> Result<Option<Remote<'_>>, String> {
    let scheme = crate::url::scheme(url);
    let (scheme, auth_and_rest, scp) = match scheme.as_deref() {
        Some("http") => ("http", &url[7..], false),
        Some("https") => ("https", &url[8..], false),
        Some("ssh") => ("ssh", &url[6..], false),
        Some("git+ssh") | Some("ssh+git") => ("ssh", &url[10..], false),
        Some("git") => ("git", &url[6..], false),
        Some(_) => return Ok(None),
        None => {
            // scp-like `user@host:path` (classify only calls it git then).
            match url.split_once(':') {
                Some((head, rest)) if head.contains('@') && !head.contains('/') => {
                    ("ssh", url, !rest.is_empty())
                }
                _ => return Ok(None),
            }
        }
    };
    if scp {
        let (head, rest) = auth_and_rest.split_once(':').expect("checked above");
        let (user, host) = head.rsplit_once('@').expect("checked above");
        return Ok(Some(Remote {
            scheme,
            user: Some(user),
            host,
            port: None,
            rest,
            scp: true,
        }));
    }
    let end = auth_and_rest
        .find(['/', '?', '#'])
        .unwrap_or(auth_and_rest.len());
    let (auth, rest) = auth_and_rest.split_at(end);
    let (user, hostport) = match auth.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, auth),
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or("an unclosed `[` in the host")?;
        (h, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let port = match port.filter(|p| !p.is_empty()) {
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| format!("port {p:?} is not a number"))?,
        ),
        None => None,
    };
    if host.is_empty() {
        return Err("it names no host".into());
    }
    Ok(Some(Remote {
        scheme,
        user,
        host,
        port,
        rest,
        scp: false,
    }))
}

fn default_port(scheme: &str) -> u16 {
    match scheme {
        "http" => 80,
        "https" => 443,
        "ssh" => 22,
        _ => 9418,
    }
}

/// Whether `url` names a remote reached over the network.
pub(crate) fn is_network_url(url: &str) -> bool {
    let (base, _) = crate::classify::split_ref(url);
    matches!(parse_remote(base), Ok(Some(_))) && !std::path::Path::new(base).exists()
}

/// Check `url` against `policy` and say how to reach it: `Ok(None)` when
/// there is nothing to pin (no policy, a local source, an allowed host).
/// `shown` is the URL as it may be printed (credentials redacted).
pub(crate) fn pin(
    url: &str,
    shown: &str,
    policy: &NetworkPolicy,
) -> Result<Option<Pinned>, SourceError> {
    pin_checked(url, shown, policy, true)
}

/// [`pin`]; with `unresolved_is_refused` false, a host that does not
/// resolve passes (an early check: the fetch itself refuses it).
pub(crate) fn pin_checked(
    url: &str,
    shown: &str,
    policy: &NetworkPolicy,
    unresolved_is_refused: bool,
) -> Result<Option<Pinned>, SourceError> {
    if !policy.public_only {
        return Ok(None);
    }
    let forbidden = |reason: String| SourceError::Forbidden {
        input: shown.to_string(),
        reason,
    };
    let remote = match parse_remote(url) {
        Ok(Some(r)) => r,
        // file:// and paths are not network sources: whether they may be
        // read at all is the caller's decision (`--allow-local-sources`).
        Ok(None) => return Ok(None),
        Err(e) => return Err(forbidden(e)),
    };
    let host = remote.host.to_ascii_lowercase();
    if policy.admits_name(&host) {
        return Ok(None);
    }
    let port = remote.port.unwrap_or_else(|| default_port(remote.scheme));
    let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => match (host.as_str(), port).to_socket_addrs() {
            Ok(a) => a.map(|a: SocketAddr| a.ip()).collect(),
            Err(_) if !unresolved_is_refused => return Ok(None),
            Err(e) => {
                return Err(forbidden(format!(
                    "its host `{host}` could not be resolved ({e}); check the host name"
                )))
            }
        },
    };
    if addrs.is_empty() {
        if !unresolved_is_refused {
            return Ok(None);
        }
        return Err(forbidden(format!(
            "its host `{host}` resolves to no address"
        )));
    }
    let allowed = |ip: &IpAddr| policy.admits_ip(*ip);
    if addrs.iter().all(allowed) {
        return Ok(None);
    }
    if let Some((ip, why)) = addrs
        .iter()
        .filter(|ip| !allowed(ip))
        .find_map(|ip| non_public_reason(*ip).map(|w| (ip, w)))
    {
        let named = if host.parse::<IpAddr>().is_ok() {
            format!("its host {host} is {why}")
        } else {
            format!("its host `{host}` resolves to {ip}, {why}")
        };
        return Err(forbidden(format!(
            "{named}; this server only fetches from public addresses (its operator can admit \
             the host with `autodeploy serve --allow-host {host}`)"
        )));
    }
    let ip = addrs[0];
    if remote.scheme == "ssh"
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
    {
        return Err(forbidden(format!(
            "its host {host:?} is not a plain host name"
        )));
    }
    let literal = match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    };
    let user = remote.user.map(|u| format!("{u}@")).unwrap_or_default();
    Ok(Some(match remote.scheme {
        "http" | "https" => Pinned {
            url: url.to_string(),
            config: vec![
                // curl's `host:port:address` (an IPv6 address in brackets).
                (
                    "http.curloptResolve".into(),
                    format!("{host}:{port}:{literal}"),
                ),
                ("http.followRedirects".into(), "false".into()),
            ],
            ssh_host_key_alias: None,
        },
        "ssh" if remote.scp => Pinned {
            url: format!("{user}{literal}:{}", remote.rest),
            config: vec![],
            ssh_host_key_alias: Some(host),
        },
        scheme => {
            let port_part = remote.port.map(|p| format!(":{p}")).unwrap_or_default();
            Pinned {
                url: format!("{scheme}://{user}{literal}{port_part}{}", remote.rest),
                config: vec![],
                ssh_host_key_alias: (scheme == "ssh").then_some(host),
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(s: &str) -> Option<&'static str> {
        non_public_reason(s.parse().unwrap())
    }

    #[test]
    fn non_public_addresses_in_every_form() {
        for a in [
            "127.0.0.1",
            "127.8.9.1",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.1.1",
            "100.64.0.1",
            "100.100.100.200",
            "168.63.129.16",
            "192.0.2.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00:ec2::254",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "::127.0.0.1",
            "ff02::1",
        ] {
            assert!(reason(a).is_some(), "{a} must not be public");
        }
        for a in [
            "8.8.8.8",
            "140.82.112.3",
            "2606:4700::1111",
            "172.32.0.1",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(reason(a), None, "{a} is public");
        }
        assert_eq!(reason("169.254.169.254"), Some("a cloud metadata address"));
        assert_eq!(
            reason("::ffff:169.254.169.254"),
            Some("a cloud metadata address")
        );
    }

    fn policy() -> NetworkPolicy {
        NetworkPolicy::public_only(vec![])
    }

    #[test]
    fn loopback_urls_are_refused_the_same_way_whatever_the_port() {
        let msg = |u: &str| match pin(u, u, &policy()) {
            Err(SourceError::Forbidden { reason, .. }) => reason,
            other => panic!("{u}: {other:?}"),
        };
        let closed = msg("http://127.0.0.1:1/x.git");
        let open = msg("https://127.0.0.1:443/x.git");
        assert_eq!(
            closed, open,
            "no difference between an open and a closed port"
        );
        assert!(closed.contains("loopback"), "{closed}");
        for u in [
            "http://localhost/x.git",
            "https://[::1]/x.git",
            "https://[::ffff:169.254.169.254]/latest/meta-data",
            "http://169.254.169.254/latest/meta-data/",
            "git://10.0.0.1/r.git",
            "ssh://git@192.168.0.1/r.git",
            "git@127.0.0.1:o/r.git",
            "https://user:pw@[fd00:ec2::254]:8443/r.git",
        ] {
            assert!(
                matches!(pin(u, u, &policy()), Err(SourceError::Forbidden { .. })),
                "{u}"
            );
        }
    }

    #[test]
    fn the_allow_list_admits_names_and_ranges() {
        let p = NetworkPolicy::public_only(vec!["git.internal".into(), "10.1.0.0/16".into()]);
        assert_eq!(pin("https://GIT.internal/r.git", "", &p).unwrap(), None);
        assert_eq!(pin("http://10.1.2.3/r.git", "", &p).unwrap(), None);
        assert!(pin("http://10.2.0.1/r.git", "", &p).is_err());
        // Local sources are not the network policy's business.
        assert_eq!(pin("file:///srv/r.git", "", &p).unwrap(), None);
        // Without the policy everything goes (the CLI).
        assert_eq!(
            pin("http://127.0.0.1:1/x.git", "", &NetworkPolicy::default()).unwrap(),
            None
        );
    }

    #[test]
    fn public_addresses_are_pinned() {
        let p = pin("https://tok@140.82.112.3/o/r.git", "", &policy())
            .unwrap()
            .unwrap();
        assert_eq!(p.url, "https://tok@140.82.112.3/o/r.git");
        assert!(p.config.contains(&(
            "http.curloptResolve".into(),
            "140.82.112.3:443:140.82.112.3".into()
        )));
        assert!(p
            .config
            .contains(&("http.followRedirects".into(), "false".into())));
        let p = pin("git://140.82.112.3:9419/r.git", "", &policy())
            .unwrap()
            .unwrap();
        assert_eq!(p.url, "git://140.82.112.3:9419/r.git");
        let p = pin("git@[2606:4700::1111]:o/r.git", "", &policy());
        // scp syntax with a bracketed address is not split at its first colon.
        assert!(p.is_err() || p.unwrap().is_some());
    }
}
