//! IP addresses and CIDR ranges (`cidrContains`, `ipValid`, `ipIsPrivate`), IPv4 and IPv6, and
//! the format checks a validation rule gates on (`isDNS1123Subdomain`, `isValidLabelKey`,
//! `isValidImage`, `isValidPort`, ...).

use super::{bool_value, text};
use crate::names;
use crate::template::eval::Val;
use crate::template::value::{Num, to_number};
use crate::template::{Env, FuncError};
use serde_json::Value;
use std::net::IpAddr;

const WANT_CIDR: &str = "a CIDR range like 10.0.0.0/8 or fd00::/8";
const WANT_IP: &str = "an IP address like 10.1.2.3 or fd00::1";

/// Parses an address; an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) counts as its IPv4 form.
fn ip(s: &str) -> Option<IpAddr> {
    let addr: IpAddr = s.trim().parse().ok()?;
    Some(match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    })
}

/// Whether `addr` is inside `cidr` (`None` when the range does not parse).
pub(crate) fn cidr_contains(cidr: &str, addr: IpAddr) -> Option<bool> {
    let (net, bits) = cidr.trim().split_once('/')?;
    let net = ip(net)?;
    let bits: u32 = bits.parse().ok()?;
    Some(match (net, addr) {
        (IpAddr::V4(n), IpAddr::V4(a)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(n) & mask == u128::from(a) & mask
        }
        (IpAddr::V4(_), _) if bits > 32 => return None,
        (_, _) if bits > 128 => return None,
        // An IPv4 address is never inside an IPv6 range and the other way round.
        _ => false,
    })
}

pub(super) fn f_cidr_contains(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let (cidr, addr) = (text(&a[0]), text(&a[1]));
    let parsed = ip(&addr).ok_or(FuncError::Invalid { text: addr, want: WANT_IP })?;
    cidr_contains(&cidr, parsed).map(Value::Bool).ok_or(FuncError::Invalid { text: cidr, want: WANT_CIDR })
}

pub(super) fn f_ip_valid(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(ip(&text(&a[0])).is_some())
}

/// Go's `net.IP.IsPrivate`: RFC 1918 IPv4 ranges and RFC 4193 unique local IPv6 addresses.
pub(crate) fn is_private(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => v4.is_private(),
        IpAddr::V6(v6) => v6.segments()[0] & 0xfe00 == 0xfc00,
    }
}

pub(super) fn f_ip_is_private(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    // Text that is not an address is not a private address: the function answers, never fails,
    // so it can sit in a validation rule next to `ipValid`.
    bool_value(ip(&text(&a[0])).is_some_and(is_private))
}

// ---------------------------------------------------------------------------------------------
// Validation helpers: the API server's own format rules, so a rule can refuse a value at
// admission with the Katalog's message instead of the API server's.

pub(super) fn f_is_dns1123_subdomain(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(names::dns1123_subdomain(&text(&a[0])).is_empty())
}

pub(super) fn f_is_dns1123_label(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(names::dns1123_label(&text(&a[0])).is_empty())
}

pub(super) fn f_is_valid_label_value(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(names::label_value(&text(&a[0])).is_empty())
}

pub(super) fn f_is_valid_qualified_name(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(names::qualified_name(&text(&a[0])).is_empty())
}

/// `local@domain`: one `@`, a non-empty local part without spaces, a domain with a dot whose
/// labels are letters, digits and `-`. Deliberately simple: the check catches typos, not every
/// address RFC 5322 allows.
pub(crate) fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    let label_ok = |l: &str| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-') && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    !local.is_empty()
        && local.len() <= 64
        && !local.bytes().any(|b| b.is_ascii_whitespace() || b == b'@' || b.is_ascii_control())
        && domain.contains('.')
        && domain.split('.').all(label_ok)
}

pub(super) fn f_is_valid_email(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(is_email(text(&a[0]).trim()))
}

/// A Git remote: `https://`/`http://`/`ssh://`/`git://` URL with a host and a path, or the scp
/// form `user@host:path`.
pub(crate) fn is_git_url(s: &str) -> bool {
    let s = s.trim();
    if s.contains(char::is_whitespace) {
        return false;
    }
    for scheme in ["https://", "http://", "ssh://", "git://", "git+ssh://"] {
        if let Some(rest) = s.strip_prefix(scheme) {
            return rest.split_once('/').is_some_and(|(host, path)| !host.is_empty() && !path.is_empty());
        }
    }
    match s.split_once(':') {
        Some((userhost, path)) => userhost.split_once('@').is_some_and(|(u, h)| !u.is_empty() && !h.is_empty()) && !path.is_empty() && !path.starts_with('/'),
        None => false,
    }
}

pub(super) fn f_is_valid_git_url(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(is_git_url(&text(&a[0])))
}

/// A container image reference: `[registry[:port]/]path[:tag][@digest]`, lowercase path
/// components of `[a-z0-9._-]`, a tag of at most 128 `[A-Za-z0-9_.-]` characters, a digest of
/// `algorithm:hex`.
pub(crate) fn is_image(s: &str) -> bool {
    let (name, digest) = match s.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest {
        let Some((alg, hex)) = d.split_once(':') else { return false };
        if alg.is_empty() || hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return false;
        }
    }
    // A tag is after the last `:` that follows the last `/` (a registry port comes before it).
    let slash = name.rfind('/').map_or(0, |i| i + 1);
    let (path, tag) = match name[slash..].rfind(':') {
        Some(i) => (&name[..slash + i], Some(&name[slash + i + 1..])),
        None => (name, None),
    };
    if let Some(t) = tag
        && (t.is_empty() || t.len() > 128 || t.starts_with(['.', '-']) || !t.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')))
    {
        return false;
    }
    let mut comps: Vec<&str> = path.split('/').collect();
    // A first component with a dot, a colon or `localhost` is a registry host.
    if comps.len() > 1 && (comps[0].contains(['.', ':']) || comps[0] == "localhost") {
        let host = comps.remove(0);
        let (h, port) = host.split_once(':').map_or((host, None), |(h, p)| (h, Some(p)));
        if h.is_empty() || !h.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')) || port.is_some_and(|p| p.parse::<u16>().is_err()) {
            return false;
        }
    }
    let comp_ok = |c: &&str| {
        !c.is_empty()
            && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
            && c.as_bytes()[0].is_ascii_alphanumeric()
            && c.as_bytes()[c.len() - 1].is_ascii_alphanumeric()
    };
    !comps.is_empty() && comps.iter().all(comp_ok)
}

pub(super) fn f_is_valid_image(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(is_image(text(&a[0]).trim()))
}

pub(super) fn f_is_valid_port(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let ok = !a[0].is_boolean()
        && match to_number(&a[0]) {
            Ok(Num::Int(n)) => (1..=65535).contains(&n),
            Ok(Num::Float(f)) => f.fract() == 0.0 && (1.0..=65535.0).contains(&f),
            Err(_) => false,
        };
    bool_value(ok)
}
