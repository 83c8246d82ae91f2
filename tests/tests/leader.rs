//! Leader election against the dev cluster through kube-rs: one leader among candidates; when
//! it dies (its task killed, no release), another takes over within the lease duration.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use services::cluster::KubeCluster;
use services::devcluster::{DevCluster, Options};
use services::serve::leader::{Elector, Timings};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_takes_over_within_the_lease_duration_when_the_leader_dies() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dev = DevCluster::start(Options { tls: false, ..Options::default() }).await.unwrap();
    let client = dev.client().await.unwrap();
    let cluster = Arc::new(KubeCluster::new(client));
    let timings = Timings { lease_duration: Duration::from_secs(2), renew_deadline: Duration::from_millis(1500), retry_period: Duration::from_millis(100) };
    let (mut a, a_task) = Elector::new(cluster.clone(), "default", "orkestra-konductor", "runtime-a", timings).spawn();
    tokio::time::timeout(Duration::from_secs(5), a.wait_for(|l| *l)).await.expect("a never led").unwrap();
    let (mut b, b_task) = Elector::new(cluster.clone(), "default", "orkestra-konductor", "runtime-b", timings).spawn();
    // While a renews, b stays a follower.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(*a.borrow());
    assert!(!*b.borrow(), "two leaders");
    // a dies without releasing; b takes over once the lease has expired.
    a_task.abort();
    let died = Instant::now();
    tokio::time::timeout(Duration::from_secs(6), b.wait_for(|l| *l)).await.expect("b never took over").unwrap();
    let gap = died.elapsed();
    // Lease 2 s, renewTime kept to the second, candidates retrying every 100 ms.
    assert!(gap <= Duration::from_millis(4500), "takeover took {gap:?}, lease duration 2 s");
    let leases = katalog::kinds::known("coordination.k8s.io", "Lease").unwrap();
    let lease = dev.store().objects(&leases).remove(0);
    assert_eq!(lease["spec"]["holderIdentity"], "runtime-b");
    assert_eq!(lease["spec"]["leaseTransitions"], 1);
    b_task.abort();
    dev.stop().await;
}
