//! Loader behaviour through the public API: include merge rules, Komposer overrides, motif
//! expansion details and determinism.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test fixtures: a failed setup should abort the test loudly
use super::common::Dir;
use katalog::load::{LoadOptions, load_file};

const HEAD: &str = "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: t}\n";
const CRD: &str = "spec:\n  crds:\n    app:\n      apiTypes: {group: t.ork.dev, version: v1, kind: App, plural: apps}\n";

#[test]
fn inline_items_replace_included_items_of_the_same_name() {
    let d = Dir::new("loader-notes");
    d.write("notes.yaml", "functions:\n  - {name: a, expression: from-file}\n  - {name: b, expression: only-in-file}\n");
    let k = d.write("katalog.yaml", &format!("{HEAD}notes:\n  include: ./notes.yaml\n  functions:\n    - {{name: a, expression: inline}}\n{CRD}"));
    let loaded = load_file(&k, &LoadOptions::default());
    assert!(!loaded.diagnostics.has_errors(), "{:?}", loaded.diagnostics);
    let notes = loaded.katalog.unwrap().notes.unwrap();
    let got: Vec<(String, String)> =
        notes.functions.iter().map(|f| (f.name.as_ref().unwrap().value.clone(), f.expression.as_ref().unwrap().value.clone())).collect();
    // Included items first, an inline item replacing the included one of the same name.
    assert_eq!(got, [("b".into(), "only-in-file".into()), ("a".into(), "inline".into())]);
}

#[test]
fn errors_inside_an_included_file_point_into_that_file() {
    let d = Dir::new("loader-incerr");
    d.write("rules.yaml", "rules:\n  - field: spec.a\n    equalz: x\n    message: m\n");
    let k = d.write("katalog.yaml", &format!("{HEAD}{CRD}      admission:\n        validation: {{include: ./rules.yaml}}\n"));
    let loaded = load_file(&k, &LoadOptions::default());
    let e = loaded.diagnostics.iter().find(|d| d.code == "unknown-field").expect("an unknown-field error");
    let span = e.span.unwrap();
    assert!(span.file.path().ends_with("rules.yaml"), "{}", span.file.path().display());
    assert_eq!((span.line, span.col), (3, 5));
    assert_eq!(e.help.as_deref(), Some("did you mean `equals`?"));
}

#[test]
fn komposer_inline_fields_win_over_imported_ones() {
    let d = Dir::new("loader-komposer");
    d.write("a.yaml", &format!("{HEAD}{CRD}      operatorBox:\n        reconcile: {{workers: 2, resync: 10s}}\n"));
    let k = d.write(
        "komposer.yaml",
        "apiVersion: orkestra.orkspace.io/v1\nkind: Komposer\nmetadata: {name: k}\nimports: {files: [./a.yaml]}\nspec:\n  crds:\n    app: {operatorBox: {reconcile: {workers: 5}}}\n",
    );
    let loaded = load_file(&k, &LoadOptions::default());
    assert!(!loaded.diagnostics.has_errors(), "{:?}", loaded.diagnostics);
    let kat = loaded.katalog.unwrap();
    let r = kat.crds().get("app").unwrap().reconcile().unwrap();
    assert_eq!(r.workers, Some(5));
    assert_eq!(r.resync.as_ref().unwrap().as_str(), "10s");
}

#[test]
fn typed_motif_inputs_become_plain_scalars_and_gates_are_decided() {
    let d = Dir::new("loader-motif");
    d.write(
        "m.yaml",
        "apiVersion: orkestra.orkspace.io/v1\nkind: Motif\nmetadata: {name: m}\ninputs:\n  - {name: on, type: bool, default: \"false\"}\n  - {name: n, type: int, default: \"3\"}\nresources:\n  deployments:\n    - {name: x, image: i, replicas: \"{{ .inputs.n }}\"}\n    - {name: y, image: i, when: [{field: \"{{ inputs.on }}\", equals: \"true\"}]}\n",
    );
    let k = d.write("katalog.yaml", &format!("{HEAD}{CRD}      operatorBox:\n        reconcile:\n          imports: [{{motif: ./m.yaml}}]\n"));
    let loaded = load_file(&k, &LoadOptions::default());
    assert!(!loaded.diagnostics.has_errors(), "{:?}", loaded.diagnostics);
    let kat = loaded.katalog.unwrap();
    let on_rec = kat.crds().get("app").unwrap().reconcile().unwrap().on_reconcile.clone().unwrap();
    assert_eq!(on_rec.deployments.len(), 1, "the gated deployment is dropped at load time");
    assert_eq!(on_rec.deployments[0].replicas.as_ref().unwrap().as_str(), "3");
}

#[test]
fn findings_are_sorted_and_repeatable() {
    let d = Dir::new("loader-det");
    let k = d.write("katalog.yaml", &format!("{HEAD}zz: 1\naa: 2\n{CRD}      bogus: 1\n"));
    let a: Vec<String> = load_file(&k, &LoadOptions::default()).diagnostics.iter().map(|d| d.to_string()).collect();
    let b: Vec<String> = load_file(&k, &LoadOptions::default()).diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(a, b);
    assert_eq!(a.len(), 3);
    let lines: Vec<u32> = load_file(&k, &LoadOptions::default()).diagnostics.iter().map(|d| d.span.unwrap().line).collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted);
}

#[test]
fn file_references_resolve_inside_the_root_only() {
    let d = Dir::new("loader-root");
    d.write("outside/crd.yaml", "kind: CustomResourceDefinition\n");
    d.write("pat/crds/app.yaml", "kind: CustomResourceDefinition\n");
    d.write("pat/cr.yaml", "kind: App\n");
    let entry = "      crdFile: ./crds/app.yaml\n      crFiles: [./cr.yaml, ../outside/crd.yaml]\n    other:\n      crdFile: ../outside/crd.yaml\n";
    let k = d.write("pat/katalog.yaml", &format!("{HEAD}{CRD}{entry}"));
    let loaded = load_file(&k, &LoadOptions::default());
    let refused: Vec<(u32, &str)> =
        loaded.diagnostics.iter().filter(|x| x.code == "outside-root").map(|x| (x.span.unwrap().line, x.crd.as_deref().unwrap_or(""))).collect();
    assert_eq!(refused, [(9, "app"), (11, "other")], "{:?}", loaded.diagnostics);
    let kat = loaded.katalog.unwrap();
    let app = kat.crds().get("app").unwrap();
    assert_eq!(app.crd_file_path.as_deref(), Some(d.0.join("pat/crds/app.yaml").as_path()));
    assert_eq!(app.cr_file_paths, [d.0.join("pat/cr.yaml")], "the refused entry is left out");
    assert_eq!(kat.crds().get("other").unwrap().crd_file_path, None);

    let opts = LoadOptions { allow_outside_root: true, ..LoadOptions::default() };
    let loaded = load_file(&k, &opts);
    assert!(!loaded.diagnostics.iter().any(|x| x.code == "outside-root"), "{:?}", loaded.diagnostics);
    let kat = loaded.katalog.unwrap();
    assert_eq!(kat.crds().get("other").unwrap().crd_file_path.as_deref(), Some(d.0.join("outside/crd.yaml").as_path()));
}
