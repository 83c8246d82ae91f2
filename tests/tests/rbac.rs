//! `katalog::authoring::rbac`: the derivation's properties (monotone in the features, base rules
//! only without features, never a wildcard), the "which rule allowed this request" lookup, and
//! agreement with the renderer: every child a demo renders is allowed by the derived rules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use katalog::authoring::rbac::{Access, Component, Derivation, Permission, Scope, Verb, derive};
use katalog::load::{LoadOptions, load_file};
use katalog::render::{Block, Request, render};
use katalog::template::Rng;
use katalog::validate::validate;
use ork_tests::{TempDir, demo_katalogs};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const NS: &str = "ork-test";

/// Loads, validates (must be valid) and derives.
fn derive_json(dir: &TempDir, file: &str, katalog: &Value) -> Derivation {
    let path = dir.write(file, &serde_json::to_string_pretty(katalog).expect("json"));
    let loaded = load_file(&path, &LoadOptions::default());
    let report = validate(&loaded);
    let errors: Vec<String> = report.diagnostics.iter().filter(|d| d.is_error()).map(ToString::to_string).collect();
    assert!(errors.is_empty(), "synthetic Katalog is invalid:\n{}\n{}", errors.join("\n"), serde_json::to_string_pretty(katalog).unwrap_or_default());
    derive(loaded.katalog.as_ref().expect("a Katalog"), NS).expect("derivation")
}

/// Every (component, permission).
fn perms(d: &Derivation) -> BTreeSet<(Component, Permission)> {
    let mut out = BTreeSet::new();
    for c in [Component::Runtime, Component::Gateway] {
        for p in d.rules(c).permissions() {
            out.insert((c, p));
        }
    }
    out
}

const FEATURES: usize = 20;

/// A one-CRD Katalog with the features in `on` (indices into the list below).
fn synthetic(on: &BTreeSet<usize>) -> Value {
    let mut k = json!({
        "apiVersion": "orkestra.orkspace.io/v1",
        "kind": "Katalog",
        "metadata": {"name": "synthetic"},
        "spec": {"crds": {"app": {"apiTypes": {"group": "x.dev", "version": "v1", "kind": "App", "plural": "apps"}}}},
    });
    let r = "/spec/crds/app/operatorBox/reconcile";
    for f in on {
        match f {
            0 => push(&mut k, &format!("{r}/onCreate/deployments"), json!({"name": "a", "image": "nginx"})),
            1 => push(&mut k, &format!("{r}/onReconcile/deployments"), json!({"name": "b", "image": "nginx"})),
            2 => push(
                &mut k,
                &format!("{r}/onCreate/services"),
                json!({"name": "s", "port": "80", "reconcile": true, "when": [{"field": "spec.svc", "equals": "true"}]}),
            ),
            3 => push(&mut k, &format!("{r}/onCreate/secrets"), json!({"name": "pw", "once": true, "data": {"p": "x"}})),
            4 => push(&mut k, &format!("{r}/onReconcile/configMaps"), json!({"name": "c-{{ .item }}", "forEach": {"field": "spec.envs"}, "data": {"a": "b"}})),
            5 => push(&mut k, &format!("{r}/onCreate/jobs"), json!({"name": "init", "image": "busybox"})),
            6 => push(&mut k, &format!("{r}/onCreate/namespaces"), json!({"name": "ns-{{ .metadata.name }}"})),
            7 => push(
                &mut k,
                &format!("{r}/onCreate/clusterRoles"),
                json!({"name": "reader", "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]}),
            ),
            8 => push(
                &mut k,
                &format!("{r}/onCreate/roles"),
                json!({"name": "r", "rules": [{"apiGroups": [""], "resources": ["{{ .spec.res }}"], "verbs": ["get"]}]}),
            ),
            9 => push(
                &mut k,
                &format!("{r}/onCreate/roleBindings"),
                json!({"name": "rb", "roleRef": {"kind": "ClusterRole", "name": "view"}, "subjects": [{"kind": "User", "name": "u"}]}),
            ),
            10 => push(
                &mut k,
                &format!("{r}/onReconcile/custom"),
                json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "cert"}, "spec": {"secretName": "tls"}}),
            ),
            11 => push(
                &mut k,
                &format!("{r}/onCreate/custom"),
                json!({"apiVersion": "acme.dev/v1", "kind": "Widget", "plural": "widgetries", "metadata": {"name": "w"}}),
            ),
            12 => {
                push(&mut k, &format!("{r}/onDelete/jobs"), json!({"name": "cleanup", "image": "busybox"}));
                push(&mut k, &format!("{r}/onDelete/configMaps"), json!({"name": "leftover"}));
            }
            13 => push(&mut k, "/spec/crds/app/admission/validation/rules", json!({"field": "spec.name", "operator": "unique", "message": "taken"})),
            14 => set(&mut k, "/security/webhooks/admission/enabled", json!(true)),
            15 => push(&mut k, "/spec/crds/app/admission/mutation/rules", json!({"field": "spec.tier", "default": "basic"})),
            16 => set(&mut k, "/security/deletionProtection", json!({"enabled": true, "cleanupOnShutdown": true})),
            17 => set(&mut k, "/security/namespaceProtection", json!({"enabled": true, "restrictedNamespaces": ["kube-system"]})),
            18 => {
                set(&mut k, "/security/conversion/enabled", json!(true));
                set(
                    &mut k,
                    "/spec/crds/app/admission/conversion",
                    json!({"updateCRD": true, "paths": [{"from": "v1", "to": "v2"}, {"from": "v2", "to": "v1"}]}),
                );
            }
            // A child of a kind this Katalog defines: its plural comes from the CRD entry.
            19 => push(
                &mut k,
                &format!("{r}/onCreate/custom"),
                json!({"apiVersion": "x.dev/v1", "kind": "App", "metadata": {"name": "child-{{ .metadata.name }}"}}),
            ),
            _ => unreachable!("feature {f}"),
        }
    }
    k
}

/// Appends to the list at `path`, creating it.
fn push(k: &mut Value, path: &str, item: Value) {
    if k.pointer(path).is_none() {
        set(k, path, json!([]));
    }
    k.pointer_mut(path).and_then(Value::as_array_mut).expect("a list").push(item);
}

/// Sets `path` (JSON pointer), creating objects on the way.
fn set(k: &mut Value, path: &str, v: Value) {
    let mut cur = k;
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    for (i, p) in parts.iter().enumerate() {
        if !cur.is_object() {
            *cur = json!({});
        }
        let obj = cur.as_object_mut().expect("object");
        if i + 1 == parts.len() {
            obj.insert((*p).to_string(), v);
            return;
        }
        cur = obj.entry((*p).to_string()).or_insert_with(|| json!({}));
    }
}

/// A small deterministic generator (xorshift) so failures reproduce.
struct Xs(u64);
impl Xs {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn no_wildcard(d: &Derivation) {
    for c in [Component::Runtime, Component::Gateway] {
        for r in &d.rules(c).rules {
            assert!(!r.key.api_group.contains('*') && !r.key.resource.contains('*'), "wildcard in {r:?}");
            assert!(r.key.resource_name.as_deref().is_none_or(|n| !n.contains('*')), "wildcard in {r:?}");
            for (v, reasons) in &r.verbs {
                assert!(!reasons.is_empty(), "{v} on {:?} has no reason", r.key);
            }
        }
    }
}

#[test]
fn without_features_only_the_base_rules_remain() {
    let dir = TempDir::new("rbac-base");
    let d = derive_json(&dir, "k.json", &synthetic(&BTreeSet::new()));
    let got: BTreeSet<String> = perms(&d)
        .into_iter()
        .map(|(c, (s, g, r, n, v))| format!("{} {s:?} {g}/{r}{} {v}", c.as_str(), n.map(|n| format!("[{n}]")).unwrap_or_default()))
        .collect();
    let want: BTreeSet<String> = [
        "runtime Namespace coordination.k8s.io/leases create",
        "runtime Namespace coordination.k8s.io/leases[orkestra-konductor] get",
        "runtime Namespace coordination.k8s.io/leases[orkestra-konductor] update",
        "runtime Cluster events.k8s.io/events create",
        "runtime Cluster events.k8s.io/events patch",
        "runtime Cluster x.dev/apps get",
        "runtime Cluster x.dev/apps list",
        "runtime Cluster x.dev/apps watch",
        "runtime Cluster x.dev/apps patch",
        "runtime Cluster x.dev/apps/status patch",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    assert_eq!(got, want);
    assert!(d.gateway.is_empty() && d.gateway_features.is_empty());
}

#[test]
fn adding_a_feature_never_removes_a_permission() {
    let dir = TempDir::new("rbac-prop");
    let mut rng = Xs(0x9e37_79b9_7f4a_7c15);
    let mut checked = 0;
    for round in 0..60 {
        let subset: BTreeSet<usize> = (0..FEATURES).filter(|_| rng.next().is_multiple_of(3)).collect();
        let base = derive_json(&dir, &format!("s{round}.json"), &synthetic(&subset));
        no_wildcard(&base);
        let before = perms(&base);
        let missing: Vec<usize> = (0..FEATURES).filter(|f| !subset.contains(f)).collect();
        for &f in missing.iter().filter(|_| rng.next().is_multiple_of(2)).take(4) {
            let mut more = subset.clone();
            more.insert(f);
            let d = derive_json(&dir, &format!("s{round}-{f}.json"), &synthetic(&more));
            no_wildcard(&d);
            let after = perms(&d);
            let lost: Vec<_> = before.difference(&after).collect();
            assert!(lost.is_empty(), "adding feature {f} to {subset:?} removed {lost:?}");
            checked += 1;
        }
    }
    assert!(checked >= 60, "only {checked} feature additions were checked");
    // Every feature on its own needs something beyond the base rules (rules 13 and 15 only with
    // admission webhooks, 14, which alone has nothing to serve).
    let base = perms(&derive_json(&dir, "empty.json", &synthetic(&BTreeSet::new())));
    for f in (0..FEATURES).filter(|f| ![13, 14, 15].contains(f)) {
        let alone = perms(&derive_json(&dir, &format!("alone{f}.json"), &synthetic(&[f].into_iter().collect())));
        assert!(alone.len() > base.len(), "feature {f} alone grants nothing");
    }
}

#[test]
fn the_gateway_has_rules_only_for_declared_gateway_features() {
    let dir = TempDir::new("rbac-gw");
    // Rules without webhooks, or webhooks without rules: the gateway has nothing to serve.
    for set in [vec![13], vec![14], vec![15], vec![0, 5, 10]] {
        let d = derive_json(&dir, "g.json", &synthetic(&set.iter().copied().collect()));
        assert!(d.gateway.is_empty(), "{set:?} gave gateway rules: {:?}", d.gateway);
    }
    let d = derive_json(&dir, "g2.json", &synthetic(&[13, 14].into_iter().collect()));
    assert_eq!(d.gateway_features, ["validation webhook (app)"]);
    let lines: Vec<String> = d.gateway.permissions().into_iter().map(|(s, g, r, n, v)| format!("{s:?} {g}/{r} {} {v}", n.unwrap_or_default())).collect();
    assert_eq!(
        lines,
        [
            // Every ork configuration name may be read and deleted (declarative removal).
            "Cluster admissionregistration.k8s.io/mutatingwebhookconfigurations orkestra-admission-mutation-ork-test get",
            "Cluster admissionregistration.k8s.io/mutatingwebhookconfigurations orkestra-admission-mutation-ork-test delete",
            "Cluster admissionregistration.k8s.io/validatingwebhookconfigurations  create",
            "Cluster admissionregistration.k8s.io/validatingwebhookconfigurations orkestra-admission-validation-ork-test get",
            "Cluster admissionregistration.k8s.io/validatingwebhookconfigurations orkestra-admission-validation-ork-test update",
            "Cluster admissionregistration.k8s.io/validatingwebhookconfigurations orkestra-admission-validation-ork-test delete",
            "Cluster admissionregistration.k8s.io/validatingwebhookconfigurations orkestra-deletion-protection-ork-test get",
            "Cluster admissionregistration.k8s.io/validatingwebhookconfigurations orkestra-deletion-protection-ork-test delete",
            "Cluster admissionregistration.k8s.io/validatingwebhookconfigurations orkestra-namespace-protection-ork-test get",
            "Cluster admissionregistration.k8s.io/validatingwebhookconfigurations orkestra-namespace-protection-ork-test delete",
            "Cluster x.dev/apps  list",
            "Namespace /secrets  create",
            "Namespace /secrets orkestra-internal-tls get",
            "Namespace /secrets orkestra-internal-tls update",
            // The housekeeper's leader election.
            "Namespace coordination.k8s.io/leases  create",
            "Namespace coordination.k8s.io/leases orkestra-gateway-housekeeper get",
            "Namespace coordination.k8s.io/leases orkestra-gateway-housekeeper update",
        ]
    );
}

#[test]
fn the_rule_that_allowed_a_request_can_be_looked_up_with_its_reasons() {
    let dir = TempDir::new("rbac-lookup");
    let d = derive_json(&dir, "l.json", &synthetic(&[0, 3, 6, 7, 9, 16].into_iter().collect()));
    let rt = &d.runtime;
    let get = |verb, group, resource, namespace, name| Access { verb, api_group: group, resource, namespace, name };

    let a = rt.allows(NS, &get("create", "apps", "deployments", Some("team-a"), None)).expect("create deployments");
    assert_eq!(a.rule.key.resource, "deployments");
    assert!(a.reasons.iter().any(|r| r.crd.as_deref() == Some("app") && r.what.contains("onCreate.deployments[0]")), "{:?}", a.reasons);
    // onCreate without reconcile: never updated, never deleted.
    assert!(rt.allows(NS, &get("update", "apps", "deployments", Some("team-a"), Some("a"))).is_none());
    assert!(rt.allows(NS, &get("delete", "apps", "deployments", Some("team-a"), Some("a"))).is_none());
    // A once-secret is created and read, never updated.
    assert!(rt.allows(NS, &get("create", "", "secrets", Some("team-a"), None)).is_some());
    assert!(rt.allows(NS, &get("update", "", "secrets", Some("team-a"), Some("pw"))).is_none());
    // The CRs: read and patched (finalizer), never created or deleted by the runtime.
    assert!(rt.allows(NS, &get("patch", "x.dev", "apps", Some("team-a"), Some("x"))).is_some());
    assert!(rt.allows(NS, &get("delete", "x.dev", "apps", Some("team-a"), Some("x"))).is_none());
    assert!(rt.allows(NS, &get("create", "x.dev", "apps", Some("team-a"), None)).is_none());
    // Cluster-scoped children are deleted with the CR.
    let ns_delete = rt.allows(NS, &get("delete", "", "namespaces", None, Some("ns-x"))).expect("delete namespaces");
    assert!(ns_delete.reasons.iter().any(|r| r.what.contains("cluster-scoped")), "{:?}", ns_delete.reasons);
    // The literal ClusterRole's rules are held instead of `escalate`.
    assert!(rt.allows(NS, &get("list", "", "pods", Some("any"), None)).is_some());
    assert!(rt.allows(NS, &get("escalate", "rbac.authorization.k8s.io", "clusterroles", None, Some("reader"))).is_none());
    // bind: only the role named in roleRef.
    assert!(rt.allows(NS, &get("bind", "rbac.authorization.k8s.io", "clusterroles", None, Some("view"))).is_some());
    assert!(rt.allows(NS, &get("bind", "rbac.authorization.k8s.io", "clusterroles", None, Some("cluster-admin"))).is_none());
    // The Lease: only in the install namespace, only by its name (create cannot be named).
    assert!(rt.allows(NS, &get("update", "coordination.k8s.io", "leases", Some(NS), Some("orkestra-konductor"))).is_some());
    assert!(rt.allows(NS, &get("update", "coordination.k8s.io", "leases", Some("kube-system"), Some("orkestra-konductor"))).is_none());
    assert!(rt.allows(NS, &get("update", "coordination.k8s.io", "leases", Some(NS), Some("other"))).is_none());
    assert!(rt.allows(NS, &get("create", "coordination.k8s.io", "leases", Some(NS), None)).is_some());
    // Nothing the Katalog does not need.
    assert!(rt.allows(NS, &get("create", "x.dev", "apps", Some("team-a"), None)).is_none(), "feature 19 is off");
    assert!(rt.allows(NS, &get("get", "", "configmaps", Some("team-a"), Some("c"))).is_none());
    assert!(rt.allows(NS, &get("*", "apps", "deployments", Some("team-a"), None)).is_none());

    let gw = &d.gateway;
    let tls = gw.allows(NS, &get("update", "", "secrets", Some(NS), Some("orkestra-internal-tls"))).expect("TLS secret");
    assert_eq!(tls.rule.key.scope, Scope::Namespace);
    assert!(gw.allows(NS, &get("get", "", "secrets", Some(NS), Some("other"))).is_none());
    assert!(gw.allows(NS, &get("get", "", "secrets", Some("default"), Some("orkestra-internal-tls"))).is_none());
    // Deletion protection exempts the install namespace by its name label: no namespace access.
    assert!(gw.allows(NS, &get("patch", "", "namespaces", None, Some(NS))).is_none());
    // The housekeeper's Lease, by name, in the install namespace only.
    assert!(gw.allows(NS, &get("update", "coordination.k8s.io", "leases", Some(NS), Some("orkestra-gateway-housekeeper"))).is_some());
    assert!(gw.allows(NS, &get("update", "coordination.k8s.io", "leases", Some(NS), Some("orkestra-konductor"))).is_none());
    let cfg = "orkestra-deletion-protection-ork-test";
    assert!(gw.allows(NS, &get("delete", "admissionregistration.k8s.io", "validatingwebhookconfigurations", None, Some(cfg))).is_some());
    // The runtime holds none of the gateway's permissions, and the other way round.
    assert!(rt.allows(NS, &get("get", "admissionregistration.k8s.io", "validatingwebhookconfigurations", None, Some(cfg))).is_none());
    assert!(gw.allows(NS, &get("create", "apps", "deployments", Some("team-a"), None)).is_none());
}

#[test]
fn a_custom_child_of_an_own_kind_takes_the_plural_of_its_crd_entry() {
    let dir = TempDir::new("rbac-own");
    let d = derive_json(&dir, "own.json", &synthetic(&[19].into_iter().collect()));
    let a = d.runtime.allows(NS, &Access { verb: "create", api_group: "x.dev", resource: "apps", namespace: Some("t"), name: None }).expect("create apps");
    assert!(a.reasons.iter().any(|r| r.what.starts_with("onCreate.custom[0]")), "{:?}", a.reasons);
}

#[test]
fn a_templated_role_name_is_bound_only_to_what_validation_allows() {
    let dir = TempDir::new("rbac-pin");
    let mut k = synthetic(&BTreeSet::new());
    set(
        &mut k,
        "/spec/crds/app/operatorBox/reconcile/onCreate/roleBindings",
        json!([{"name": "rb", "roleRef": {"kind": "ClusterRole", "name": "{{ .spec.role }}"}, "subjects": [{"kind": "User", "name": "u"}]}]),
    );
    let open = derive_json(&dir, "open.json", &k);
    assert!(open.warnings.iter().any(|w| w.contains("`roleRef.name` is a template")), "{:?}", open.warnings);
    let bind = |d: &Derivation| -> Vec<Option<String>> {
        d.runtime.rules.iter().filter(|r| r.verbs.contains_key(&Verb::Bind)).map(|r| r.key.resource_name.clone()).collect()
    };
    assert_eq!(bind(&open), [None]);
    set(&mut k, "/spec/crds/app/admission/validation/rules", json!([{"field": "spec.role", "in": ["view", "edit"], "message": "no"}]));
    let pinned = derive_json(&dir, "pinned.json", &k);
    assert!(pinned.warnings.is_empty(), "{:?}", pinned.warnings);
    assert_eq!(bind(&pinned), [Some("edit".to_string()), Some("view".to_string())]);
    // A warn-only rule does not pin anything.
    set(&mut k, "/spec/crds/app/admission/validation/rules", json!([{"field": "spec.role", "in": ["view"], "message": "no", "action": "warn"}]));
    assert_eq!(bind(&derive_json(&dir, "warn.json", &k)), [None]);
}

#[test]
fn every_child_a_demo_renders_is_allowed_by_its_derived_rules() {
    let mut children = 0;
    for path in demo_katalogs() {
        let cr_path = path.with_file_name("cr.yaml");
        if !cr_path.exists() {
            continue;
        }
        let loaded = load_file(&path, &LoadOptions::default());
        let report = validate(&loaded);
        let k = loaded.katalog.as_ref().expect("demo Katalog");
        let templates = report.templates.as_ref().expect("templates");
        let d = derive(k, NS).expect("derivation");
        let text = std::fs::read_to_string(&cr_path).expect("cr.yaml");
        let docs = katalog::yaml::parse(&text, katalog::diag::FileId::intern(&cr_path), katalog::yaml::Limits::default()).expect("cr.yaml parses");
        for cr in docs.into_iter().map(|d| d.root.to_json()).filter(|v| v.is_object()) {
            let kind = cr["kind"].as_str().unwrap_or_default();
            let Some((crd, _)) = k.crds().iter().find(|(_, e)| katalog::kinds::api_identity(e).is_some_and(|i| i.kind == kind)) else {
                continue;
            };
            let req =
                Request { crd: crd.as_str(), cr: &cr, observed: &[], others: &[], now: 1_790_000_000, rng: Rng::Seeded(7), cross: &serde_json::Value::Null };
            let rendered = render(k, templates, req).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            for child in &rendered.children {
                let m = &child.manifest;
                let (group, _) = katalog::kinds::split_api_version(m["apiVersion"].as_str().unwrap_or_default());
                let kind = m["kind"].as_str().unwrap_or_default();
                let plural = katalog::kinds::known(group, kind).map(|r| r.plural).expect("known kind");
                let ns = m.pointer("/metadata/namespace").and_then(Value::as_str);
                let name = m.pointer("/metadata/name").and_then(Value::as_str);
                let mut verbs = match child.block {
                    Block::OnDelete if kind == "Job" => vec!["create", "get"],
                    Block::OnDelete => vec!["delete", "get"],
                    _ => vec!["get", "list", "watch", "create"],
                };
                if child.drift_correct && !matches!(kind, "Job" | "ServiceAccount" | "Namespace") && !child.once {
                    verbs.push("patch");
                }
                for verb in verbs {
                    let name = if verb == "create" || verb == "list" || verb == "watch" { None } else { name };
                    let a = Access { verb, api_group: group, resource: &plural, namespace: ns, name };
                    assert!(d.runtime.allows(NS, &a).is_some(), "{}: {} {kind} {name:?} is not allowed ({})", path.display(), verb, child.source);
                }
                children += 1;
            }
            let id = katalog::kinds::api_identity(&k.crds().get(crd.as_str()).expect("entry").clone()).expect("identity");
            let status = format!("{}/status", id.plural);
            let a = Access {
                verb: "patch",
                api_group: &id.group,
                resource: &status,
                namespace: cr.pointer("/metadata/namespace").and_then(Value::as_str),
                name: cr.pointer("/metadata/name").and_then(Value::as_str),
            };
            assert!(d.runtime.allows(NS, &a).is_some(), "{}: status patch not allowed", path.display());
        }
    }
    assert!(children > 20, "too few rendered children checked: {children}");
}
