//! The reconciler on a `MemCluster`: 1,000 Website CRs (the hello-website demo) reconciled to
//! steady state, and one converged reconcile (only reads).

use criterion::{Criterion, criterion_group, criterion_main};
use katalog::load::{LoadOptions, load_file};
use katalog::validate::validate;
use serde_json::json;
use services::cluster::{ApiResource, MemCluster};
use services::reconcile::{Ctx, Outcome, Reconciler};
use std::path::Path;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demos/beginner/hello-website/katalog.yaml");
    let loaded = load_file(&path, &LoadOptions::default());
    let report = validate(&loaded);
    let (Some(katalog), Some(templates)) = (loaded.katalog, report.templates) else { panic!("the demo does not load") };
    let reconciler = match Reconciler::new(&katalog, &templates, "website") {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    let rt = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(rt) => rt,
        Err(e) => panic!("{e}"),
    };
    let ctx = Ctx { now: 1_767_225_600, rng: katalog::template::Rng::Seeded(1) };
    let setup = |n: usize| {
        let cluster = MemCluster::new();
        cluster.register(
            ApiResource { group: "demo.ork.dev".into(), version: "v1".into(), kind: "Website".into(), plural: "websites".into(), namespaced: true },
            true,
        );
        for i in 0..n {
            let cr = json!({"apiVersion": "demo.ork.dev/v1", "kind": "Website", "metadata": {"name": format!("site-{i}"), "namespace": format!("team-{}", i % 20)}, "spec": {"image": "nginx:1.27", "replicas": 2}});
            if let Err(e) = cluster.seed(&cr) {
                panic!("{e}");
            }
        }
        cluster
    };
    let converge = |cluster: &MemCluster, n: usize| {
        // Cycle 1 creates, the cluster settles, cycle 2 records readiness, cycle 3 only reads.
        for _ in 0..3 {
            for i in 0..n {
                let out = rt.block_on(reconciler.reconcile(cluster, Some(&format!("team-{}", i % 20)), &format!("site-{i}"), &ctx));
                assert_eq!(out, Outcome::Done);
            }
            cluster.settle();
        }
        cluster.take_ops().len()
    };
    let mut g = c.benchmark_group("reconcile");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("250 CRs to steady state (3 cycles each)", |b| {
        b.iter_batched(|| setup(250), |cluster| converge(&cluster, 250), criterion::BatchSize::LargeInput)
    });
    g.bench_function("1000 CRs to steady state (3 cycles each)", |b| {
        b.iter_batched(|| setup(1000), |cluster| converge(&cluster, 1000), criterion::BatchSize::LargeInput)
    });
    let warm = setup(1);
    converge(&warm, 1);
    g.bench_function("one converged reconcile (reads only)", |b| b.iter(|| rt.block_on(reconciler.reconcile(&warm, Some("team-0"), "site-0", &ctx))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
