//! Authentication, as the API server does it for bearer tokens: a known token is its user, an
//! unknown one is refused (401), no credentials at all is `system:anonymous`; then user
//! impersonation (`Impersonate-User`, `-Group`, `-Uid`, `-Extra-*`), each part authorized with
//! the `impersonate` verb for the acting user.

use super::authz::{self, Request, User};
use crate::cluster::MemCluster;
use axum::http::{HeaderMap, header};
use std::collections::BTreeMap;

/// Why a request is refused before it is authorized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Refusal {
    /// 401: credentials that match no user.
    Unauthorized,
    /// 403: impersonation the acting user may not do (the message says which).
    Forbidden(String),
    /// 500: impersonation headers without `Impersonate-User`, as the API server answers.
    Internal(String),
}

/// The bearer tokens a dev cluster accepts. `Debug` shows users, never tokens.
#[derive(Default, Clone)]
pub(super) struct Tokens(BTreeMap<String, User>);

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.values().map(|u| &u.name)).finish()
    }
}

/// Why a set of tokens is refused. The token itself is never shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// A token that is empty or holds whitespace (it could not travel in a header).
    #[error("the token of {0} is empty or contains whitespace")]
    Malformed(String),
    /// The same token for two users.
    #[error("the same token is given for {first} and {second}; every token must be unique")]
    Duplicate {
        /// The user it was given for first.
        first: String,
        /// The user it was given for again.
        second: String,
    },
}

impl Tokens {
    /// Tokens → users; a token given twice is an error (it could only mean one of two users).
    pub(super) fn new(entries: impl IntoIterator<Item = (String, User)>) -> Result<Tokens, TokenError> {
        let mut map = BTreeMap::new();
        for (token, user) in entries {
            if token.is_empty() || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(TokenError::Malformed(user.name));
            }
            if let Some(first) = map.insert(token, user.clone()) {
                return Err(TokenError::Duplicate { first: first.name, second: user.name });
            }
        }
        Ok(Tokens(map))
    }

    /// The user of a request: by its bearer token, or `system:anonymous` without credentials.
    pub(super) fn authenticate(&self, headers: &HeaderMap) -> Result<User, Refusal> {
        let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(User::anonymous()) };
        let token = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim).ok_or(Refusal::Unauthorized)?;
        self.0.get(token).cloned().ok_or(Refusal::Unauthorized)
    }
}

fn values<'h>(headers: &'h HeaderMap, name: &str) -> Vec<&'h str> {
    headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect()
}

/// The extra attributes asked for with `Impersonate-Extra-<key>` headers (the key is
/// percent-encoded and case-folded, as HTTP header names are).
fn extras(headers: &HeaderMap) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
        if let (Some(key), Ok(v)) = (name.as_str().strip_prefix("impersonate-extra-"), value.to_str()) {
            out.entry(super::query::percent_decode(key).to_ascii_lowercase()).or_default().push(v.to_string());
        }
    }
    out
}

/// The user a request acts as: `acting`, or the one it impersonates when every part of the
/// impersonation is allowed (`impersonate` on users or serviceaccounts, groups, uids and
/// userextras). Each check is recorded through `audit`.
pub(super) fn impersonate(
    store: &MemCluster,
    rbac: bool,
    acting: User,
    headers: &HeaderMap,
    audit: &mut dyn FnMut(&User, &Request, bool),
) -> Result<User, Refusal> {
    let user = values(headers, "impersonate-user").first().map(|s| s.to_string());
    let groups: Vec<String> = values(headers, "impersonate-group").iter().map(|s| s.to_string()).collect();
    let uid = values(headers, "impersonate-uid").first().map(|s| s.to_string());
    let extra = extras(headers);
    let Some(name) = user else {
        if groups.is_empty() && uid.is_none() && extra.is_empty() {
            return Ok(acting);
        }
        return Err(Refusal::Internal(format!("requested impersonation of groups {groups:?} without impersonating a user")));
    };
    let mut checks = Vec::new();
    let core = |resource: &str, namespace: Option<String>, name: &str| Request {
        verb: "impersonate".into(),
        resource: resource.into(),
        namespace,
        name: Some(name.to_string()),
        ..Request::default()
    };
    let service_account = name.strip_prefix("system:serviceaccount:").and_then(|rest| rest.split_once(':'));
    match service_account {
        Some((ns, sa)) => checks.push(core("serviceaccounts", Some(ns.to_string()), sa)),
        None => checks.push(core("users", None, &name)),
    }
    checks.extend(groups.iter().map(|g| core("groups", None, g)));
    let auth_group =
        |resource: &str, sub: Option<String>, name: &str| Request { group: "authentication.k8s.io".into(), subresource: sub, ..core(resource, None, name) };
    if let Some(u) = &uid {
        checks.push(auth_group("uids", None, u));
    }
    for (key, vals) in &extra {
        checks.extend(vals.iter().map(|v| auth_group("userextras", Some(key.clone()), v)));
    }
    for r in &checks {
        let ok = authz::authorize(store, rbac, &acting, r);
        audit(&acting, r, ok);
        if !ok {
            return Err(Refusal::Forbidden(authz::forbidden_message(&acting, r)));
        }
    }
    let mut groups = groups;
    if groups.is_empty()
        && let Some((ns, _)) = service_account
    {
        groups = vec!["system:serviceaccounts".into(), format!("system:serviceaccounts:{ns}")];
    }
    let implied = if name == "system:anonymous" { "system:unauthenticated" } else { "system:authenticated" };
    if !groups.iter().any(|g| g == implied) {
        groups.push(implied.into());
    }
    Ok(User { name, groups, uid, extra })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn tokens_are_unique_and_never_shown() {
        let t = Tokens::new([("s3cr3t-token".to_string(), User::named("alice"))]).unwrap();
        assert_eq!(format!("{t:?}"), "[\"alice\"]");
        assert!(Tokens::new([("a".to_string(), User::named("x")), ("a".to_string(), User::named("y"))]).is_err());
        assert!(Tokens::new([("has space".to_string(), User::named("x"))]).is_err());
        let mut h = HeaderMap::new();
        assert_eq!(t.authenticate(&h), Ok(User::anonymous()));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer s3cr3t-token"));
        assert_eq!(t.authenticate(&h).map(|u| u.name), Ok("alice".to_string()));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer wrong"));
        assert_eq!(t.authenticate(&h), Err(Refusal::Unauthorized));
    }

    #[test]
    fn impersonation_needs_the_impersonate_verb_for_every_part() {
        let store = MemCluster::new();
        let mut seen = Vec::new();
        let mut audit = |u: &User, r: &Request, ok: bool| seen.push((u.name.clone(), r.resource.clone(), ok));
        let mut h = HeaderMap::new();
        h.insert("impersonate-user", HeaderValue::from_static("alice"));
        h.append("impersonate-group", HeaderValue::from_static("devs"));
        let as_alice = impersonate(&store, true, User::admin(), &h, &mut audit).unwrap();
        assert_eq!(as_alice.name, "alice");
        assert_eq!(as_alice.groups, ["devs", "system:authenticated"]);
        let refused = impersonate(&store, true, User::named("bob"), &h, &mut audit).unwrap_err();
        assert_eq!(
            refused,
            Refusal::Forbidden(
                "users \"alice\" is forbidden: User \"bob\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope".into()
            )
        );
        let mut sa = HeaderMap::new();
        sa.insert("impersonate-user", HeaderValue::from_static("system:serviceaccount:team:robot"));
        let robot = impersonate(&store, true, User::admin(), &sa, &mut audit).unwrap();
        assert_eq!(robot.groups, ["system:serviceaccounts", "system:serviceaccounts:team", "system:authenticated"]);
        let mut groups_only = HeaderMap::new();
        groups_only.insert("impersonate-group", HeaderValue::from_static("devs"));
        assert!(matches!(impersonate(&store, true, User::admin(), &groups_only, &mut audit), Err(Refusal::Internal(_))));
        assert!(seen.contains(&("bob".to_string(), "users".to_string(), false)));
    }
}
