//! `kind: E2E` documents through the public API: what decodes, what `ork validate` reports
//! (with positions and fixes), and what is rejected as unsupported rather than ignored.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test fixtures: a failed setup should abort the test loudly
use super::common::Dir;
use katalog::diag::Diagnostic;
use katalog::load::{DocKind, LoadOptions, load_file};
use katalog::model::e2e::{After, PatchType};
use katalog::validate::validate;
use std::path::Path;

/// A scratch directory holding a one-CRD Katalog and its CR.
fn e2e_dir(tag: &str) -> Dir {
    let d = Dir::new(&format!("e2e-{tag}"));
    d.write("katalog.yaml", "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: t}\nspec:\n  crds:\n    app:\n      apiTypes: {group: t.ork.dev, version: v1, kind: App, plural: apps}\n");
    d.write("cr.yaml", "apiVersion: t.ork.dev/v1\nkind: App\nmetadata: {name: a}\n");
    d
}

const HEAD: &str = "apiVersion: orkestra.orkspace.io/v1\nkind: E2E\nmetadata: {name: t-e2e}\n";

fn errors(path: &Path) -> Vec<Diagnostic> {
    let loaded = load_file(path, &LoadOptions::default());
    validate(&loaded).diagnostics.iter().filter(|d| d.is_error()).cloned().collect()
}

fn find<'a>(ds: &'a [Diagnostic], code: &str, needle: &str) -> &'a Diagnostic {
    ds.iter().find(|d| d.code == code && d.to_string().contains(needle)).unwrap_or_else(|| panic!("no {code} containing {needle:?} in {ds:#?}"))
}

#[test]
fn a_full_document_decodes_with_every_supported_part() {
    let d = e2e_dir("full");
    d.write("setup.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n");
    d.write("more.yaml", "- name: from the include\n  after: cr-deleted\n  resources: [{kind: App, name: a, count: 0}]\n");
    let f = d.write(
        "e2e.yaml",
        &format!(
            "{HEAD}spec:
  katalog: ./katalog.yaml
  cr: ./cr.yaml
  setup:
    apply:
      - ./setup.yaml
      - {{path: ./setup.yaml, wait: [{{kind: Namespace, name: team, timeout: 20s}}]}}
    wait: [{{kind: Namespace}}]
  expect:
    - name: ready
      after: cr-applied
      timeout: 90s
      wait: 1s
      resources: [{{kind: Deployment, name: a, ready: true}}, {{kind: ConfigMap, count: 2}}]
      commands: [{{run: 'kubectl get app a -o name', exitCode: 0, outputContains: app, regex: '^app'}}]
      kubectl:
        get: [{{kind: App, name: a, field: .status.phase, oneOf: [Ready, Available]}}]
        apply: [{{inline: {{apiVersion: v1, kind: ConfigMap, metadata: {{name: x}}}}, exitCode: 0}}]
        patch: [{{kind: App, name: a, type: json, patch: [{{op: add, path: /spec/x, value: 1}}]}}]
        delete: [{{kind: ConfigMap, name: x}}]
        auth: [{{verb: create, resource: deployments.apps, equals: 'yes'}}]
      onFailure: {{commands: ['kubectl get events -A']}}
    - include: ./more.yaml
  onFailure:
    kubectl: {{get: [{{kind: App, name: a}}]}}
imports:
  - ./other-e2e.yaml
  - {{path: ./other-e2e.yaml, freshCluster: true, wait: 5s}}
"
        ),
    );
    d.write("other-e2e.yaml", &format!("{HEAD}spec:\n  katalog: ./katalog.yaml\n  cr: ./cr.yaml\n  expect: [{{name: x, resources: [{{kind: App}}]}}]\n"));
    let loaded = load_file(&f, &LoadOptions::default());
    assert_eq!(loaded.kind, Some(DocKind::E2e));
    let report = validate(&loaded);
    assert!(report.is_valid(), "{:#?}", report.diagnostics);
    assert_eq!(report.name.as_deref(), Some("t-e2e"));
    assert_eq!(report.expectations, 2, "the include expands to its one expectation");
    let doc = loaded.e2e.unwrap();
    let spec = doc.spec.as_ref().unwrap();
    let setup = spec.setup.as_ref().unwrap();
    assert_eq!(setup.apply.len(), 2);
    assert_eq!(setup.apply[1].wait[0].name.as_ref().unwrap().as_str(), "team");
    let e = &spec.expect[0];
    assert_eq!(e.after(), After::CrApplied);
    assert_eq!(e.checks(), 8, "2 resources, 1 command, 5 kubectl steps");
    let k = e.kubectl.as_ref().unwrap();
    assert_eq!(k.patch[0].patch_type.as_ref().unwrap().value, PatchType::Json);
    assert_eq!(k.get[0].assert.one_of.len(), 2);
    assert_eq!(doc.imports[1].fresh_cluster, Some(true));
    assert!(!doc.is_suite());
}

#[test]
fn an_unknown_field_is_an_error_with_its_position_and_a_suggestion() {
    let d = e2e_dir("typo");
    let f =
        d.write("e2e.yaml", &format!("{HEAD}spec:\n  katalog: ./katalog.yaml\n  cr: ./cr.yaml\n  expect:\n    - name: x\n      resorces: [{{kind: App}}]\n"));
    let errs = errors(&f);
    let e = find(&errs, "unknown-field", "unknown field `resorces`");
    let text = e.to_string();
    assert!(text.contains("e2e.yaml:9:7:"), "{text}");
    assert!(text.contains("did you mean `resources`?"), "{text}");
    // Without its check the expectation is also reported as empty.
    find(&errs, "no-checks", "at least one check");
}

#[test]
fn what_ork_cannot_do_is_rejected_not_ignored() {
    let d = e2e_dir("unsupported");
    let f = d.write(
        "e2e.yaml",
        &format!(
            "{HEAD}spec:
  katalog: ./katalog.yaml
  cr: ./cr.yaml
  cluster: {{provider: kind, name: x}}
  valuesFiles: [./values.yaml]
  setup: {{helm: [{{chart: redis}}]}}
  expect:
    - name: x
      when: [{{field: a, equals: b}}]
      kubectl:
        logs: [{{name: p}}]
        exec: [{{name: p, command: [ls]}}]
        port-forward: [{{service: s, port: 80}}]
        get: [{{kind: App, name: a, jq: .x}}]
"
        ),
    );
    let errs = errors(&f);
    for path in [
        "spec.cluster",
        "spec.valuesFiles",
        "spec.setup.helm",
        "spec.expect[0].when",
        "spec.expect[0].kubectl.logs",
        "spec.expect[0].kubectl.exec",
        "spec.expect[0].kubectl.port-forward",
        "spec.expect[0].kubectl.get[0].jq",
    ] {
        let e = find(&errs, "unsupported", &format!("`{path}` is not supported by ork"));
        assert!(e.help.as_ref().is_some_and(|h| !h.is_empty()), "{e:?}");
    }
    let cluster = find(&errs, "unsupported", "`spec.cluster`");
    assert!(cluster.to_string().contains("e2e.yaml:7:12:"), "{cluster}");
    assert!(cluster.help.as_deref().unwrap_or_default().contains("dev cluster"));
}

#[test]
fn validation_checks_names_checks_durations_paths_and_assertions() {
    let d = e2e_dir("checks");
    let f = d.write(
        "e2e.yaml",
        &format!(
            "{HEAD}spec:
  katalog: ./nope.yaml
  crd: ./crd-missing.yaml
  expect:
    - after: cr-aplied
      timeout: 1 minute
      resources: [{{kind: App, name: a, count: 2}}]
    - name: empty
    - name: bad assertions
      commands: [{{run: 'true', regex: '(', greaterThan: many, between: '5,1'}}]
      kubectl:
        apply: [{{file: ./missing.yaml}}]
        delete: [{{kind: App}}]
        patch: [{{kind: App, name: a, patch: [{{op: remove, path: /x}}]}}]
    - include: ./no-such-file.yaml
"
        ),
    );
    let errs = errors(&f);
    find(&errs, "file-not-found", "katalog");
    find(&errs, "file-not-found", "CRD file");
    find(&errs, "missing-field", "`cr` or `crFiles`");
    find(&errs, "invalid-value", "invalid value `cr-aplied`");
    assert!(find(&errs, "invalid-value", "cr-aplied").help.as_deref().unwrap_or_default().contains("did you mean `cr-applied`?"));
    find(&errs, "missing-field", "an expectation needs a `name`");
    find(&errs, "invalid-duration", "`timeout: 1 minute` is not a duration");
    find(&errs, "invalid-value", "count` may be 0 or 1");
    find(&errs, "no-checks", "at least one check");
    find(&errs, "invalid-regex", "invalid regular expression");
    find(&errs, "invalid-value", "`many` is not a number");
    find(&errs, "invalid-value", "`5,1` is not a range");
    find(&errs, "file-not-found", "manifest");
    find(&errs, "missing-field", "`kubectl.delete` step");
    find(&errs, "invalid-value", "a list is a JSON patch");
    find(&errs, "file-not-found", "included expectations file");
}

#[test]
fn a_suite_imports_e2e_documents_only() {
    let d = e2e_dir("suite");
    d.write("sim.yaml", "apiVersion: orkestra.orkspace.io/v1\nkind: Simulate\nmetadata: {name: s}\nspec: {katalog: ./katalog.yaml, cr: ./cr.yaml}\n");
    let f = d.write("suite-e2e.yaml", &format!("{HEAD}imports: [./sim.yaml, {{path: ./gone.yaml, wait: soon}}]\n"));
    let errs = errors(&f);
    find(&errs, "wrong-kind", "kind `Simulate` cannot be used here");
    find(&errs, "file-not-found", "imported E2E file");
    find(&errs, "invalid-duration", "`wait: soon`");
    let ok = d.write("ok-e2e.yaml", &format!("{HEAD}imports: [./leaf-e2e.yaml]\n"));
    d.write("leaf-e2e.yaml", &format!("{HEAD}spec:\n  katalog: ./katalog.yaml\n  cr: ./cr.yaml\n  expect: [{{name: x, resources: [{{kind: App}}]}}]\n"));
    assert!(errors(&ok).is_empty());
    assert!(load_file(&ok, &LoadOptions::default()).e2e.unwrap().is_suite());
    let empty = d.write("empty-e2e.yaml", HEAD);
    find(&errors(&empty), "missing-field", "needs `spec` (one run) or `imports` (a suite)");
}

#[test]
fn every_demo_e2e_document_is_valid() {
    let demos = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demos");
    let mut n = 0;
    for pack in std::fs::read_dir(&demos).unwrap().filter_map(Result::ok).filter(|e| e.path().is_dir()) {
        for ex in std::fs::read_dir(pack.path()).unwrap().filter_map(Result::ok) {
            let f = ex.path().join("e2e.yaml");
            if f.is_file() {
                let loaded = load_file(&f, &LoadOptions::default());
                let r = validate(&loaded);
                assert!(r.is_valid() && r.diagnostics.warning_count() == 0, "{}: {:#?}", f.display(), r.diagnostics);
                assert!(r.expectations >= 2, "{}", f.display());
                n += 1;
            }
        }
    }
    assert_eq!(n, 11, "every demo has an e2e.yaml");
}
