//! The Helm chart `charts/orkestra`, rendered and linted by real Helm (the Go SDK through PyPI
//! helm-python-sdk, tests/support/helm_chart.py): every object of the default and the production
//! render is valid against the Kubernetes schemas and hardened (every Pod Security Standards rule,
//! field by field), the gateway and NetworkPolicies appear exactly when asked for, the schema
//! refuses values that would weaken the pods, and the default render is the workloads of `ork
//! generate install`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::install::{docs, generate};
use katalog::security::{container_security_context, pod_security_context, template_violations};
use ork_tests::{Run, TempDir, kubernetes_validate, root, venv_python};
use serde_json::{Value, json};
use std::process::Command;

fn chart_dir() -> String {
    root().join("charts/orkestra").to_string_lossy().into_owned()
}

/// tests/support/helm_chart.py with `args`.
fn helm(args: &[&str]) -> Run {
    let py = venv_python();
    let script = root().join("tests/support/helm_chart.py");
    let out = Command::new(&py).arg(&script).args(args).output().unwrap_or_else(|e| panic!("cannot run {}: {e}", py.display()));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("No module named 'helm_python'"), "helm-python-sdk is missing from .venv: run ./scripts/test.sh\n{stderr}");
    Run { code: out.status.code().unwrap_or(-1), stdout: String::from_utf8_lossy(&out.stdout).into_owned(), stderr }
}

/// The chart rendered with `extra` arguments (`-f FILE`, `--set K=V`): its text and documents.
fn render(extra: &[&str]) -> (String, Vec<Value>) {
    let chart = chart_dir();
    let mut args = vec!["render", chart.as_str()];
    args.extend_from_slice(extra);
    let r = helm(&args);
    assert_eq!(r.code, 0, "helm render {extra:?}: {}", r.stderr);
    let docs = docs(&r.stdout);
    (r.stdout, docs)
}

fn production() -> String {
    root().join("charts/orkestra/ci/production-values.yaml").to_string_lossy().into_owned()
}

fn names(docs: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = docs.iter().map(|d| format!("{}/{}", d["kind"].as_str().unwrap(), d["metadata"]["name"].as_str().unwrap())).collect();
    v.sort();
    v
}

/// A render's objects without what only Helm adds (its release labels), sorted by kind and name:
/// what `ork generate install` must equal.
pub fn comparable(docs: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = docs
        .into_iter()
        .map(|mut d| {
            for ptr in ["/metadata/labels", "/spec/template/metadata/labels"] {
                if let Some(m) = d.pointer_mut(ptr).and_then(Value::as_object_mut) {
                    for k in ["helm.sh/chart", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by"] {
                        m.remove(k);
                    }
                }
            }
            d
        })
        .collect();
    out.sort_by_key(|d| format!("{}/{}", d["kind"].as_str().unwrap_or(""), d["metadata"]["name"].as_str().unwrap_or("")));
    out
}

#[test]
fn default_and_production_renders_lint_clean_validate_strictly_and_are_hardened_rule_by_rule() {
    let chart = chart_dir();
    let lint = helm(&["lint", &chart]);
    assert_eq!(lint.code, 0, "{}", lint.stderr);
    let findings: Value = serde_json::from_str(&lint.stdout).unwrap();
    assert_eq!((&findings["errors"], &findings["messages"]), (&json!([]), &json!([])), "{findings}");
    let prod = production();
    let lint = helm(&["lint", &chart, "-f", &prod]);
    let findings: Value = serde_json::from_str(&lint.stdout).unwrap();
    assert_eq!((&findings["errors"], &findings["messages"]), (&json!([]), &json!([])), "{findings}");

    let dir = TempDir::new("chart-valid");
    for (tag, extra) in [("default", vec![]), ("production", vec!["-f", prod.as_str()]), ("gateway", vec!["--set", "gateway.enabled=true"])] {
        let (text, docs) = render(&extra);
        kubernetes_validate(&[dir.write(&format!("{tag}.yaml"), &text)], docs.len());
        let deployments: Vec<&Value> = docs.iter().filter(|d| d["kind"] == "Deployment").collect();
        assert!(!deployments.is_empty(), "{tag}");
        for d in deployments {
            let pod = &d["spec"]["template"]["spec"];
            let at = format!("{tag}: {}", d["metadata"]["name"]);
            assert_eq!(template_violations(&d["spec"]["template"]), vec![], "{at}");
            let psc = &pod["securityContext"];
            assert_eq!(psc["runAsNonRoot"], true, "{at}");
            for id in ["runAsUser", "runAsGroup", "fsGroup"] {
                assert!(psc[id].as_i64().unwrap() > 0, "{at}: {id}");
            }
            assert_eq!(psc["seccompProfile"]["type"], "RuntimeDefault", "{at}");
            assert_eq!(pod["automountServiceAccountToken"], true, "{at}");
            for key in ["hostNetwork", "hostPID", "hostIPC"] {
                assert!(pod.get(key).is_none(), "{at}: {key}");
            }
            assert!(pod["volumes"].as_array().unwrap().iter().any(|v| v["name"] == "tmp" && v["emptyDir"].is_object()), "{at}");
            for c in pod["containers"].as_array().unwrap() {
                let sc = &c["securityContext"];
                assert_eq!(sc["runAsNonRoot"], true, "{at}");
                assert_eq!(sc["readOnlyRootFilesystem"], true, "{at}");
                assert_eq!(sc["allowPrivilegeEscalation"], false, "{at}");
                assert_eq!(sc["capabilities"], json!({"drop": ["ALL"]}), "{at}");
                assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{at}");
                assert!(sc.get("privileged").is_none(), "{at}");
                assert_eq!((&sc["runAsUser"], &sc["runAsGroup"]), (&psc["runAsUser"], &psc["runAsGroup"]), "{at}");
                assert!(c["volumeMounts"].as_array().unwrap().iter().any(|m| m["mountPath"] == "/tmp"), "{at}");
                assert!(c["volumeMounts"].as_array().unwrap().iter().any(|m| m["name"] == "katalog" && m["readOnly"] == true), "{at}");
                assert!(c["resources"]["limits"]["memory"].is_string(), "{at}");
            }
            if tag == "default" || tag == "gateway" {
                assert_eq!(psc["runAsUser"], 65532);
            }
        }
    }
}

#[test]
fn values_yaml_holds_ork_s_own_security_contexts() {
    // One source: the chart's defaults are what katalog::security says ork's pods run with.
    let (_, rendered) = render(&[]);
    let pod = &rendered.iter().find(|d| d["kind"] == "Deployment").unwrap()["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"], pod_security_context());
    assert_eq!(pod["containers"][0]["securityContext"], container_security_context());
    // values.yaml itself, not only what the templates make of it.
    let values = docs(&std::fs::read_to_string(root().join("charts/orkestra/values.yaml")).unwrap());
    assert_eq!(values[0]["podSecurityContext"], pod_security_context());
    assert_eq!(values[0]["containerSecurityContext"], container_security_context());
    // And the chart's appVersion is this ork's, so its default images are this version's.
    let chart = std::fs::read_to_string(root().join("charts/orkestra/Chart.yaml")).unwrap();
    assert!(chart.contains(&format!("appVersion: \"{}\"", env!("CARGO_PKG_VERSION"))), "{chart}");
}

#[test]
fn the_gateway_hpa_and_network_policies_appear_exactly_when_asked_for() {
    let (_, off) = render(&[]);
    assert_eq!(names(&off), ["Deployment/orkestra", "NetworkPolicy/orkestra", "NetworkPolicy/orkestra-default-deny", "PodDisruptionBudget/orkestra"]);
    assert!(off.iter().all(|d| d["metadata"]["labels"]["app.kubernetes.io/component"] != "gateway"));

    let (_, on) = render(&["--set", "gateway.enabled=true"]);
    assert_eq!(
        names(&on),
        [
            "Deployment/orkestra",
            "Deployment/orkestra-gateway",
            "NetworkPolicy/orkestra",
            "NetworkPolicy/orkestra-default-deny",
            "NetworkPolicy/orkestra-gateway",
            "PodDisruptionBudget/orkestra",
            "PodDisruptionBudget/orkestra-gateway",
            "Service/orkestra-gateway"
        ]
    );
    let gw = on.iter().find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "orkestra-gateway").unwrap();
    assert_eq!(gw["spec"]["replicas"], 2);

    let (_, hpa) = render(&["--set", "gateway.enabled=true", "--set", "gateway.autoscaling.enabled=true"]);
    let h = hpa.iter().find(|d| d["kind"] == "HorizontalPodAutoscaler").expect("an HPA");
    assert_eq!(h["spec"]["scaleTargetRef"]["name"], "orkestra-gateway");
    // The autoscaler owns the replica count.
    let gw = hpa.iter().find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "orkestra-gateway").unwrap();
    assert!(gw["spec"].get("replicas").is_none(), "{gw}");

    // Each component's policy lets in exactly the ports its container serves; the default deny
    // covers every ork pod.
    for d in on.iter().filter(|d| d["kind"] == "Deployment") {
        let name = d["metadata"]["name"].as_str().unwrap();
        let mut served: Vec<i64> =
            d["spec"]["template"]["spec"]["containers"][0]["ports"].as_array().unwrap().iter().map(|p| p["containerPort"].as_i64().unwrap()).collect();
        let np = on.iter().find(|n| n["kind"] == "NetworkPolicy" && n["metadata"]["name"] == name).unwrap();
        assert_eq!(np["spec"]["podSelector"]["matchLabels"], d["spec"]["selector"]["matchLabels"]);
        let mut allowed: Vec<i64> = np["spec"]["ingress"][0]["ports"].as_array().unwrap().iter().map(|p| p["port"].as_i64().unwrap()).collect();
        served.sort();
        allowed.sort();
        assert_eq!(served, allowed, "{name}");
    }
    assert_eq!(names(&on).iter().filter(|n| n.starts_with("NetworkPolicy/")).count(), 3);
    for (name, ports) in [
        ("orkestra", json!([{"port": 8080, "protocol": "TCP"}])),
        ("orkestra-gateway", json!([{"port": 8443, "protocol": "TCP"}, {"port": 8080, "protocol": "TCP"}])),
    ] {
        let np = on.iter().find(|n| n["kind"] == "NetworkPolicy" && n["metadata"]["name"] == name).unwrap();
        assert_eq!((&np["spec"]["policyTypes"], &np["spec"]["ingress"]), (&json!(["Ingress"]), &json!([{"ports": ports}])), "{name}");
    }
    let deny = on.iter().find(|d| d["metadata"]["name"] == "orkestra-default-deny").unwrap();
    assert_eq!(deny["spec"], json!({"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "orkestra"}}, "policyTypes": ["Ingress"]}));

    let (_, none) = render(&["--set", "gateway.enabled=true", "--set", "networkPolicy.enabled=false"]);
    assert!(none.iter().all(|d| d["kind"] != "NetworkPolicy"), "{:?}", names(&none));
}

#[test]
fn the_schema_refuses_values_that_weaken_the_pods_with_the_field_named() {
    let chart = chart_dir();
    let cases = [
        ("podSecurityContext.runAsUser=0", "/podSecurityContext/runAsUser", "minimum"),
        ("containerSecurityContext.runAsUser=0", "/containerSecurityContext/runAsUser", "minimum"),
        ("containerSecurityContext.readOnlyRootFilesystem=false", "/containerSecurityContext/readOnlyRootFilesystem", "value must be true"),
        ("containerSecurityContext.allowPrivilegeEscalation=true", "/containerSecurityContext/allowPrivilegeEscalation", "value must be false"),
        ("containerSecurityContext.runAsNonRoot=false", "/containerSecurityContext/runAsNonRoot", "value must be true"),
        ("containerSecurityContext.privileged=true", "/containerSecurityContext", "'privileged' not allowed"),
        ("containerSecurityContext.capabilities.add={NET_ADMIN}", "/containerSecurityContext/capabilities", "'add' not allowed"),
        ("containerSecurityContext.capabilities.drop={NET_RAW}", "/containerSecurityContext/capabilities/drop", "ALL"),
        ("podSecurityContext.seccompProfile.type=Unconfined", "/podSecurityContext/seccompProfile/type", "RuntimeDefault"),
        ("runtime.replica=3", "/runtime", "'replica' not allowed"),
        ("gateway.enabeld=true", "/gateway", "'enabeld' not allowed"),
        ("runtime.image.digest=latest", "/runtime/image/digest", "sha256"),
        // Hardening cannot be dropped by deleting a key either (`null` removes it from the values).
        ("containerSecurityContext.capabilities=null", "/containerSecurityContext", "missing property 'capabilities'"),
        ("podSecurityContext.seccompProfile=null", "/podSecurityContext", "missing property 'seccompProfile'"),
        ("runtime.hostNetwork=true", "/runtime", "'hostNetwork' not allowed"),
        // Annotations may not unconfine AppArmor or seccomp (PSS baseline).
        (
            r"runtime.podAnnotations.container\.apparmor\.security\.beta\.kubernetes\.io/runtime=unconfined",
            "/runtime/podAnnotations/container.apparmor.security.beta.kubernetes.io~1runtime",
            "'unconfined' does not match",
        ),
        (
            r"gateway.podAnnotations.seccomp\.security\.alpha\.kubernetes\.io/pod=unconfined",
            "/gateway/podAnnotations/seccomp.security.alpha.kubernetes.io~1pod",
            "'unconfined' does not match",
        ),
        // Scheduling is typed field by field too: a misspelt key is an error, not ignored.
        ("runtime.tolerations[0].efect=NoSchedule", "/runtime/tolerations/0", "'efect' not allowed"),
        ("gateway.affinity.podAntiAfinity.x=y", "/gateway/affinity", "'podAntiAfinity' not allowed"),
    ];
    for (set, path, why) in cases {
        let r = helm(&["schema", &chart, "--set", set]);
        assert_eq!(r.code, 1, "{set} was accepted");
        assert!(r.stderr.contains(&format!("at '{path}'")) && r.stderr.contains(why), "{set}: {}", r.stderr);
        // `helm install` renders nothing for refused values.
        let r = helm(&["render", &chart, "--set", set]);
        assert_eq!((r.code, r.stdout.as_str()), (1, ""), "{set}");
    }
    // A values file too (the production example passes).
    let r = helm(&["schema", &chart, "-f", &production()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn the_katalog_comes_from_the_bundle_s_config_map_or_from_the_chart() {
    let mount =
        |docs: &[Value]| docs.iter().find(|d| d["kind"] == "Deployment").unwrap()["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"].clone();
    let (_, plain) = render(&[]);
    assert!(plain.iter().all(|d| d["kind"] != "ConfigMap"));
    assert_eq!(mount(&plain), "orkestra-katalog");
    let (_, other) = render(&["--set", "katalog.existingConfigMap=team-katalog"]);
    assert_eq!(mount(&other), "team-katalog");

    let dir = TempDir::new("chart-katalog");
    let text = "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: k}\nspec: {crds: {}}\n";
    let values = dir.write("values.yaml", &format!("katalog:\n  content: |\n{}", text.lines().map(|l| format!("    {l}\n")).collect::<String>()));
    let (_, own) = render(&["-f", &values.to_string_lossy()]);
    let cm = own.iter().find(|d| d["kind"] == "ConfigMap").expect("the chart's ConfigMap");
    assert_eq!(cm["metadata"]["name"], "orkestra-katalog-chart");
    assert_eq!(cm["data"]["katalog.yaml"], text);
    assert_eq!(mount(&own), "orkestra-katalog-chart");
}

#[test]
fn the_default_render_is_the_workloads_of_ork_generate_install() {
    for (rel, extra) in [("beginner/hello-website", vec![]), ("security/admission-rules", vec!["--set", "gateway.enabled=true"])] {
        let katalog = root().join("demos").join(rel).join("katalog.yaml");
        let install = docs(&generate(&katalog, &[]));
        let bundle = ["CustomResourceDefinition", "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ConfigMap"];
        let workloads: Vec<Value> = install.into_iter().filter(|d| !bundle.contains(&d["kind"].as_str().unwrap())).collect();
        let (_, chart) = render(&extra);
        let (a, b) = (comparable(workloads), comparable(chart));
        assert_eq!(names(&a), names(&b), "{rel}");
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x, y, "{rel}: {} differs", x["metadata"]["name"]);
        }
    }
}
