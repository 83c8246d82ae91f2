//! Render one CR of a demo Katalog: mutation, validation, children and status (budget < 100 µs,
//! ARCHITECTURE.md §7). Templates are parsed once beforehand, as at load time.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use katalog::load::{LoadOptions, load_file};
use katalog::render::{Request, render};
use katalog::template::{Rng, TemplateSet};
use serde_json::Value;
use std::hint::black_box;
use std::path::Path;

fn demo(c: &mut Criterion, dir: &str, crd: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demos").join(dir);
    let loaded = load_file(&root.join("katalog.yaml"), &LoadOptions::default());
    let katalog = loaded.katalog.expect("demo loads");
    let (templates, diags) = TemplateSet::compile(&katalog);
    assert!(diags.is_empty());
    let docs = katalog::load::include::read_yaml_file(&root.join("cr.yaml"), katalog::yaml::Limits::default()).unwrap();
    let cr: Value = docs[0].root.to_json();
    let name = dir.rsplit('/').next().unwrap_or(dir);
    c.bench_function(&format!("render/{name}"), |b| {
        b.iter(|| {
            let req = Request { crd, cr: black_box(&cr), observed: &[], others: &[], now: 1_795_000_000, rng: Rng::Seeded(1), cross: &serde_json::Value::Null };
            let out = render(&katalog, &templates, req).unwrap();
            black_box(out.children.len())
        })
    });
}

fn benches(c: &mut Criterion) {
    demo(c, "beginner/hello-website", "website");
    demo(c, "security/hardened-workload", "worker");
    demo(c, "security/admission-rules", "database");
    demo(c, "security/deletion-protection", "ledger");
    demo(c, "intermediate/team-spaces", "team");
}

criterion_group!(render_benches, benches);
criterion_main!(render_benches);
