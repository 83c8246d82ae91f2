//! The review resources a client creates to ask about itself, answered and never stored:
//! SelfSubjectAccessReview (`kubectl auth can-i VERB RESOURCE`), SelfSubjectRulesReview
//! (`kubectl auth can-i --list`) and SelfSubjectReview (`kubectl auth whoami`). Each answers
//! for the user the request acts as (impersonation included), with the authorizer that guards
//! every request.

use super::authz::{self, User};
use crate::cluster::{ApiResource, MemCluster};
use serde_json::{Value, json};

/// The review kinds, served for `create` only: (group, plural, kind).
pub(super) const REVIEWS: &[(&str, &str, &str)] = &[
    ("authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview"),
    ("authorization.k8s.io", "selfsubjectrulesreviews", "SelfSubjectRulesReview"),
    ("authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview"),
];

/// Registers the review kinds so discovery lists them.
pub(super) fn register(store: &MemCluster) {
    for (group, plural, kind) in REVIEWS {
        store.register(ApiResource { group: (*group).into(), version: "v1".into(), kind: (*kind).into(), plural: (*plural).into(), namespaced: false }, false);
    }
}

/// Whether `(group, plural)` is a review kind.
pub(super) fn is_review(group: &str, plural: &str) -> bool {
    REVIEWS.iter().any(|(g, p, _)| *g == group && *p == plural)
}

/// Why a review is refused (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum ReviewError {
    /// A SelfSubjectAccessReview that asks about nothing.
    #[error("a SelfSubjectAccessReview needs spec.resourceAttributes or spec.nonResourceAttributes")]
    NoAttributes,
}

/// The review a client posted (JSON or kubectl's protobuf), answered with its `status`;
/// `Err` for a malformed one (400).
pub(super) fn answer(store: &MemCluster, rbac: bool, user: &User, plural: &str, body: Option<Value>) -> Result<Value, ReviewError> {
    match plural {
        "selfsubjectaccessreviews" => access(store, rbac, user, body),
        "selfsubjectrulesreviews" => Ok(rules(store, rbac, user, body)),
        _ => Ok(whoami(user)),
    }
}

fn access(store: &MemCluster, rbac: bool, user: &User, review: Option<Value>) -> Result<Value, ReviewError> {
    let review = review.ok_or(ReviewError::NoAttributes)?;
    let s = |a: &Value, k: &str| a.get(k).and_then(Value::as_str).filter(|v| !v.is_empty()).map(str::to_string);
    let request = if let Some(a) = review.pointer("/spec/resourceAttributes") {
        authz::Request {
            verb: s(a, "verb").unwrap_or_default(),
            group: s(a, "group").unwrap_or_default(),
            resource: s(a, "resource").unwrap_or_default(),
            subresource: s(a, "subresource"),
            namespace: s(a, "namespace"),
            name: s(a, "name"),
            path: None,
        }
    } else if let Some(a) = review.pointer("/spec/nonResourceAttributes") {
        authz::Request { verb: s(a, "verb").unwrap_or_default(), path: s(a, "path"), ..authz::Request::default() }
    } else {
        return Err(ReviewError::NoAttributes);
    };
    let allowed = authz::authorize(store, rbac, user, &request);
    let mut out = review;
    out["apiVersion"] = json!("authorization.k8s.io/v1");
    out["kind"] = json!("SelfSubjectAccessReview");
    out["status"] = json!({"allowed": allowed});
    Ok(out)
}

fn rules(store: &MemCluster, rbac: bool, user: &User, review: Option<Value>) -> Value {
    let namespace = review.as_ref().and_then(|r| r.pointer("/spec/namespace")).and_then(Value::as_str).unwrap_or_default().to_string();
    let mut resource_rules = Vec::new();
    let mut non_resource_rules = Vec::new();
    for rule in authz::rules_review(store, rbac, user, &namespace) {
        if rule.non_resource_urls.is_empty() {
            resource_rules.push(json!({"verbs": rule.verbs, "apiGroups": rule.api_groups, "resources": rule.resources, "resourceNames": rule.resource_names}));
        } else {
            non_resource_rules.push(json!({"verbs": rule.verbs, "nonResourceURLs": rule.non_resource_urls}));
        }
    }
    json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "metadata": {"creationTimestamp": null},
           "spec": {"namespace": namespace},
           "status": {"resourceRules": resource_rules, "nonResourceRules": non_resource_rules, "incomplete": false}})
}

fn whoami(user: &User) -> Value {
    json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview", "metadata": {"creationTimestamp": null}, "status": {"userInfo": user.info()}})
}
