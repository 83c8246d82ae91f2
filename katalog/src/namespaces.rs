//! Which namespaces a CRD entry's CRs may live in: the patterns of `security.namespaceProtection`
//! and of the entry's `operatorBox.runtime`, and how a pattern matches.
//!
//! `ork validate` checks the rules against each other; the reconciler and the runtime's watch
//! apply them. A pattern is an exact name, `*`, or has one leading or trailing `*`.

use crate::decode::Str;
use crate::model::Katalog;
use crate::model::crd::CrdEntry;

/// Whether CRs of `entry` in namespace `ns` are reconciled: a restricted pattern (the CRD's or
/// `security.namespaceProtection`'s) always denies; a non-empty allow-list must match. Cluster-
/// scoped CRs (empty `ns`) are always allowed.
pub fn namespace_allowed(katalog: &Katalog, entry: &CrdEntry, ns: &str) -> bool {
    if ns.is_empty() {
        return true;
    }
    let (allowed, restricted) = namespace_rules(katalog, entry);
    if restricted.iter().any(|p| pattern_matches(p, ns)) {
        return false;
    }
    allowed.is_empty() || allowed.iter().any(|p| pattern_matches(p, ns))
}

/// The namespace patterns that govern `entry`'s CRs: (allowed, restricted), from
/// `security.namespaceProtection` (unless disabled) and the entry's runtime policy.
pub fn namespace_rules<'k>(katalog: &'k Katalog, entry: &'k CrdEntry) -> (Vec<&'k Str>, Vec<&'k Str>) {
    let global = katalog.security.as_ref().and_then(|s| s.namespace_protection.as_ref()).filter(|n| n.enabled != Some(false));
    let local = entry.runtime();
    let allowed = global.iter().flat_map(|g| &g.allowed_namespaces).chain(local.iter().flat_map(|l| &l.allowed_namespaces)).collect();
    let restricted = global.iter().flat_map(|g| &g.restricted_namespaces).chain(local.iter().flat_map(|l| &l.restricted_namespaces)).collect();
    (allowed, restricted)
}

/// True when pattern `p` matches namespace `ns`.
pub fn pattern_matches(p: &str, ns: &str) -> bool {
    if p == "*" {
        return true;
    }
    if let Some(prefix) = p.strip_suffix('*') {
        return ns.starts_with(prefix);
    }
    if let Some(suffix) = p.strip_prefix('*') {
        return ns.ends_with(suffix);
    }
    p == ns
}

/// True when every namespace matched by `allowed` is also matched by `restricted`.
pub fn pattern_covers(restricted: &str, allowed: &str) -> bool {
    if restricted == "*" {
        return true;
    }
    if !allowed.contains('*') {
        return pattern_matches(restricted, allowed);
    }
    if let (Some(r), Some(a)) = (restricted.strip_suffix('*'), allowed.strip_suffix('*')) {
        return a.starts_with(r);
    }
    match (restricted.strip_prefix('*'), allowed.strip_prefix('*')) {
        (Some(r), Some(a)) => a.ends_with(r),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_patterns() {
        assert!(pattern_matches("team-*", "team-a"));
        assert!(!pattern_matches("team-*", "apps"));
        assert!(pattern_matches("*-sandbox", "x-sandbox"));
        assert!(pattern_covers("kube-*", "kube-system"));
        assert!(pattern_covers("kube-*", "kube-sys*"));
        assert!(!pattern_covers("kube-system", "kube-*"));
        assert!(!pattern_covers("team-a", "apps"));
    }
}
