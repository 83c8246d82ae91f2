//! `secrets[].rotateAfter`: a `once` Secret is regenerated when it is older than the duration.
//!
//! Its age is read from the annotation ork stamps when it renders the Secret
//! ([`ANNOTATION_GENERATED_AT`], RFC 3339), else from `creationTimestamp` (a Secret created before
//! the entry had `rotateAfter`). A Secret that is due gets the freshly rendered `data` and a new
//! annotation in one update (everything else on it is kept), and a Normal Event `SecretRotated`
//! on the CR names it — never its data. The reconcile then asks to be queued again when the next
//! Secret falls due, so rotation does not wait for a resync.

use super::{Ctx, Reconciler};
use crate::cluster::{ApiResource, Cluster};
use katalog::render::{ANNOTATION_GENERATED_AT, Child};
use katalog::time::{format_rfc3339, parse_rfc3339};
use serde_json::Value;
use std::time::Duration;

/// What a rotation pass did.
#[derive(Debug, Default)]
pub(super) struct Rotation {
    /// A Secret was regenerated.
    pub wrote: bool,
    /// Failed rotations, each naming its entry.
    pub errors: Vec<String>,
    /// How long until the next Secret is due (the reconcile's requeue).
    pub next: Option<Duration>,
}

/// When `current` (a stored Secret) was generated, as Unix seconds.
fn generated_at(current: &Value) -> Option<i64> {
    let annotation = current.pointer("/metadata/annotations").and_then(|a| a.get(ANNOTATION_GENERATED_AT)).and_then(Value::as_str);
    let created = current.pointer("/metadata/creationTimestamp").and_then(Value::as_str);
    // An annotation edited into something unreadable must not postpone rotation for ever.
    annotation.and_then(|t| parse_rfc3339(t).ok()).or_else(|| created.and_then(|t| parse_rfc3339(t).ok()))
}

/// Seconds until a Secret generated at `at` with `period` is due (≤ 0: due now).
fn remaining(at: i64, period: Duration, now: i64) -> i64 {
    at.saturating_add(i64::try_from(period.as_secs()).unwrap_or(i64::MAX)).saturating_sub(now)
}

/// `current` with the data (and generation time) of `desired`.
fn regenerated(current: &Value, desired: &Value, now: i64) -> Value {
    let mut next = current.clone();
    if let Some(m) = next.as_object_mut() {
        m.remove("stringData");
        m.insert("data".into(), desired.get("data").cloned().unwrap_or_else(|| Value::Object(Default::default())));
    }
    next["metadata"]["annotations"][ANNOTATION_GENERATED_AT] = Value::String(format_rfc3339(now));
    next
}

/// The requeue a reconcile returns: the sooner of the Katalog's `requeue:` and the next rotation.
pub(super) fn sooner(requeue: super::Outcome, rotation: Option<Duration>) -> super::Outcome {
    match (requeue, rotation) {
        (super::Outcome::RequeueAfter(d), Some(r)) => super::Outcome::RequeueAfter(d.min(r)),
        (super::Outcome::Done, Some(r)) => super::Outcome::RequeueAfter(r),
        (other, _) => other,
    }
}

impl Reconciler<'_> {
    /// Regenerates every rotating `once` Secret of `children` that is due; `observed` are the
    /// CR's children as read before this reconcile wrote anything (a Secret created by it is
    /// new: due a full period from now).
    pub(super) async fn rotate_secrets<C: Cluster>(
        &self,
        cluster: &C,
        cr: &Value,
        children: &[Child],
        observed: &[(ApiResource, Value)],
        ctx: &Ctx,
    ) -> Rotation {
        let mut out = Rotation::default();
        for child in children.iter().filter(|c| c.once) {
            let Some(period) = child.rotate_after else { continue };
            let name = child.manifest.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
            let ns = child.manifest.pointer("/metadata/namespace").and_then(Value::as_str);
            let current = observed.iter().find(|(r, o)| {
                r.kind == "Secret"
                    && r.group.is_empty()
                    && super::meta_str(o, "name") == Some(name)
                    && ns.is_none_or(|n| super::meta_str(o, "namespace") == Some(n))
            });
            let due_in = match current.and_then(|(r, o)| generated_at(o).map(|at| (r, o, at))) {
                Some((r, current, at)) if remaining(at, period, ctx.now) <= 0 => {
                    let next = regenerated(current, &child.manifest, ctx.now);
                    let ns = super::meta_str(current, "namespace").filter(|_| r.namespaced);
                    match cluster.update(r, ns, &next).await {
                        Ok(_) => {
                            out.wrote = true;
                            let at = format_rfc3339(at);
                            let note = format!("Secret {name} regenerated: generated at {at}, older than rotateAfter {}s", period.as_secs());
                            self.event(cluster, cr, "Normal", "SecretRotated", "Rotate", &note, ctx).await;
                            period.as_secs()
                        }
                        Err(e) => {
                            out.errors.push(format!("{}: rotate Secret {name}: {e}", child.source));
                            continue;
                        }
                    }
                }
                Some((_, _, at)) => u64::try_from(remaining(at, period, ctx.now)).unwrap_or(0),
                // Created by this reconcile (or not readable): a full period from now.
                None => period.as_secs(),
            };
            let due_in = Duration::from_secs(due_in.max(1));
            out.next = Some(out.next.map_or(due_in, |n| n.min(due_in)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::Outcome;
    use serde_json::json;

    #[test]
    fn age_comes_from_the_annotation_else_the_creation_time() {
        let t = |s: &str| parse_rfc3339(s).unwrap_or_default();
        let garbled = json!({"metadata": {"annotations": {ANNOTATION_GENERATED_AT: "yesterday"}, "creationTimestamp": "2025-01-01T00:00:00Z"}});
        assert_eq!(generated_at(&garbled), Some(t("2025-01-01T00:00:00Z")));
        let stamped = json!({"metadata": {"annotations": {ANNOTATION_GENERATED_AT: "2026-01-01T00:00:00Z"}, "creationTimestamp": "2025-01-01T00:00:00Z"}});
        assert_eq!(generated_at(&stamped), Some(t("2026-01-01T00:00:00Z")));
        let old = json!({"metadata": {"creationTimestamp": "2025-06-01T00:00:00Z"}});
        assert_eq!(generated_at(&old), Some(t("2025-06-01T00:00:00Z")));
        let day = Duration::from_secs(86_400);
        assert_eq!(remaining(t("2026-01-01T00:00:00Z"), day, t("2026-01-01T12:00:00Z")), 43_200);
        assert!(remaining(t("2026-01-01T00:00:00Z"), day, t("2026-01-02T00:00:00Z")) <= 0);
    }

    #[test]
    fn regeneration_replaces_the_data_and_the_stamp_and_keeps_the_rest() {
        let current = json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "db", "resourceVersion": "7", "labels": {"x": "y"}, "annotations": {ANNOTATION_GENERATED_AT: "2026-01-01T00:00:00Z"}},
            "data": {"password": "b2xk", "stale": "eA=="}, "stringData": {"a": "b"}});
        let desired = json!({"data": {"password": "bmV3"}});
        let next = regenerated(&current, &desired, parse_rfc3339("2026-02-01T00:00:00Z").unwrap_or_default());
        assert_eq!(next["data"], json!({"password": "bmV3"}));
        assert!(next.get("stringData").is_none());
        assert_eq!(next["metadata"]["resourceVersion"], "7");
        assert_eq!(next["metadata"]["labels"], json!({"x": "y"}));
        assert_eq!(next["metadata"]["annotations"][ANNOTATION_GENERATED_AT], "2026-02-01T00:00:00Z");
    }

    #[test]
    fn the_requeue_is_the_sooner_of_requeue_and_rotation() {
        let s = Duration::from_secs;
        assert_eq!(sooner(Outcome::Done, None), Outcome::Done);
        assert_eq!(sooner(Outcome::Done, Some(s(90))), Outcome::RequeueAfter(s(90)));
        assert_eq!(sooner(Outcome::RequeueAfter(s(30)), Some(s(90))), Outcome::RequeueAfter(s(30)));
        assert_eq!(sooner(Outcome::RequeueAfter(s(300)), Some(s(90))), Outcome::RequeueAfter(s(90)));
        assert_eq!(sooner(Outcome::RequeueAfter(s(30)), None), Outcome::RequeueAfter(s(30)));
    }
}
