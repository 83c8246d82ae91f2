//! Leader election on a coordination.k8s.io/v1 Lease, over the [`Cluster`] trait: the runtime's
//! "konductor" (runtime-and-gateway.md §1.3, Lease `orkestra-konductor`) and the gateway's
//! housekeeper (its own Lease) use it. Every write is resourceVersion-guarded, so two candidates can never
//! both believe they acquired the same term. A leader that cannot renew for `renew_deadline`
//! steps down before its lease can expire; a follower takes over once the holder's lease is
//! older than `lease_duration`.

use crate::cluster::{ApiResource, Cluster, ClusterError};
use katalog::time::{format_rfc3339, parse_rfc3339};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Timings of an election.
#[derive(Debug, Clone, Copy)]
pub struct Timings {
    /// How long a lease is valid after its last renewal.
    pub lease_duration: Duration,
    /// How long a leader keeps trying to renew before it steps down (< lease_duration).
    pub renew_deadline: Duration,
    /// How often candidates try.
    pub retry_period: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Timings { lease_duration: Duration::from_secs(15), renew_deadline: Duration::from_secs(10), retry_period: Duration::from_secs(2) }
    }
}

/// One candidate.
pub struct Elector<C> {
    cluster: Arc<C>,
    lease: ApiResource,
    namespace: String,
    name: String,
    identity: String,
    timings: Timings,
    clock: Arc<dyn Fn() -> i64 + Send + Sync>,
}

fn micro(t: i64) -> String {
    format_rfc3339(t).replace('Z', ".000000Z")
}

fn seconds(s: &str) -> Option<i64> {
    let whole = match s.split_once('.') {
        Some((head, _)) => format!("{head}Z"),
        None => s.to_string(),
    };
    parse_rfc3339(&whole).ok()
}

impl<C: Cluster + 'static> Elector<C> {
    /// A candidate `identity` for the Lease `namespace/name`, on the wall clock.
    pub fn new(cluster: Arc<C>, namespace: &str, name: &str, identity: &str, timings: Timings) -> Elector<C> {
        Elector::with_clock(cluster, namespace, name, identity, timings, Arc::new(katalog::time::unix_now))
    }

    /// The same on a given clock (Unix seconds).
    pub fn with_clock(cluster: Arc<C>, namespace: &str, name: &str, identity: &str, timings: Timings, clock: Arc<dyn Fn() -> i64 + Send + Sync>) -> Elector<C> {
        let lease = katalog::kinds::known("coordination.k8s.io", "Lease").unwrap_or(ApiResource {
            group: "coordination.k8s.io".into(),
            version: "v1".into(),
            kind: "Lease".into(),
            plural: "leases".into(),
            namespaced: true,
        });
        Elector { cluster, lease, namespace: namespace.into(), name: name.into(), identity: identity.into(), timings, clock }
    }

    /// One attempt to acquire or renew. `Ok(true)`: this candidate holds the lease now.
    pub async fn try_acquire_or_renew(&self) -> Result<bool, ClusterError> {
        let now = (self.clock)();
        let secs = self.timings.lease_duration.as_secs().max(1);
        let ns = Some(self.namespace.as_str());
        let current = match self.cluster.get(&self.lease, ns, &self.name).await {
            Ok(l) => l,
            Err(e) if e.is_not_found() => {
                let lease = json!({
                    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": self.name, "namespace": self.namespace},
                    "spec": {"holderIdentity": self.identity, "leaseDurationSeconds": secs, "acquireTime": micro(now), "renewTime": micro(now), "leaseTransitions": 0},
                });
                return match self.cluster.create(&self.lease, ns, &lease).await {
                    Ok(_) => Ok(true),
                    Err(ClusterError::AlreadyExists { .. }) => Ok(false),
                    Err(e) => Err(e),
                };
            }
            Err(e) => return Err(e),
        };
        let spec = current.get("spec").cloned().unwrap_or(json!({}));
        let holder = spec.get("holderIdentity").and_then(Value::as_str).unwrap_or_default();
        let renewed = spec.get("renewTime").and_then(Value::as_str).and_then(seconds).unwrap_or(0);
        let duration = spec.get("leaseDurationSeconds").and_then(Value::as_i64).unwrap_or(secs as i64);
        let mine = holder == self.identity;
        if !mine && !holder.is_empty() && renewed + duration > now {
            return Ok(false);
        }
        let mut next = current.clone();
        next["spec"]["holderIdentity"] = json!(self.identity);
        next["spec"]["leaseDurationSeconds"] = json!(secs);
        next["spec"]["renewTime"] = json!(micro(now));
        if !mine {
            next["spec"]["acquireTime"] = json!(micro(now));
            next["spec"]["leaseTransitions"] = json!(spec.get("leaseTransitions").and_then(Value::as_i64).unwrap_or(0) + 1);
        }
        match self.cluster.update(&self.lease, ns, &next).await {
            Ok(_) => Ok(true),
            Err(ClusterError::Conflict { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Gives the lease up (on shutdown) if this candidate holds it.
    pub async fn release(&self) -> Result<(), ClusterError> {
        let ns = Some(self.namespace.as_str());
        let current = self.cluster.get(&self.lease, ns, &self.name).await?;
        if current.pointer("/spec/holderIdentity").and_then(Value::as_str) != Some(self.identity.as_str()) {
            return Ok(());
        }
        let mut next = current;
        next["spec"]["holderIdentity"] = json!("");
        next["spec"]["renewTime"] = Value::Null;
        self.cluster.update(&self.lease, ns, &next).await.map(|_| ())
    }

    /// Campaigns forever in the background; the receiver says whether this candidate leads.
    /// A leader whose renewals keep failing for `renew_deadline` reports `false` before its
    /// lease can expire.
    pub fn spawn(self) -> (watch::Receiver<bool>, JoinHandle<()>) {
        self.start(None)
    }

    /// Like [`Elector::spawn`], until `stop` turns true (or its sender is dropped): then the
    /// lease is released when held (so a successor need not wait for it to expire), the
    /// receiver reads `false`, and the task ends. (Aborting the task instead is a crash: the
    /// lease stays until it expires.)
    pub fn spawn_until(self, stop: watch::Receiver<bool>) -> (watch::Receiver<bool>, JoinHandle<()>) {
        self.start(Some(stop))
    }

    fn start(self, mut stop: Option<watch::Receiver<bool>>) -> (watch::Receiver<bool>, JoinHandle<()>) {
        let (tx, rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut last_renewal = tokio::time::Instant::now();
            let mut last_error: Option<String> = None;
            loop {
                if stop.as_ref().is_some_and(|s| *s.borrow()) {
                    break;
                }
                let leading = *tx.borrow();
                // A request that hangs must not keep a leader past its deadline.
                let attempt = tokio::time::timeout(self.timings.renew_deadline / 2, self.try_acquire_or_renew()).await;
                match attempt.unwrap_or(Err(ClusterError::Other("lease request timed out".to_string()))) {
                    Ok(true) => {
                        last_error = None;
                        last_renewal = tokio::time::Instant::now();
                        if !leading {
                            let _ = tx.send(true);
                        }
                    }
                    Ok(false) => {
                        if leading {
                            let _ = tx.send(false);
                        }
                    }
                    Err(e) => {
                        // Said once per distinct error: a missing namespace or a 403 must not be
                        // a silent follower.
                        let text = e.to_string();
                        if last_error.as_deref() != Some(text.as_str()) {
                            tracing::warn!(lease = %self.name, namespace = %self.namespace, "leader election: {text}; retrying every {:?}", self.timings.retry_period);
                            last_error = Some(text);
                        }
                        if leading && last_renewal.elapsed() >= self.timings.renew_deadline {
                            let _ = tx.send(false);
                        }
                    }
                }
                let stopped = async {
                    match stop.as_mut() {
                        Some(s) => s.changed().await.is_err() || *s.borrow(),
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = tokio::time::sleep(self.timings.retry_period) => {}
                    true = stopped => break,
                }
            }
            let was_leading = *tx.borrow();
            let _ = tx.send(false);
            if was_leading {
                let _ = self.release().await;
            }
        });
        (rx, task)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::MemCluster;
    use std::sync::atomic::{AtomicI64, Ordering};

    fn pair() -> (Elector<MemCluster>, Elector<MemCluster>, Arc<AtomicI64>, Arc<MemCluster>) {
        let t = Arc::new(AtomicI64::new(1_800_000_000));
        let clock: Arc<dyn Fn() -> i64 + Send + Sync> = {
            let t = t.clone();
            Arc::new(move || t.load(Ordering::SeqCst))
        };
        let cluster = Arc::new(MemCluster::with_clock(clock.clone()));
        let timings = Timings { lease_duration: Duration::from_secs(15), ..Timings::default() };
        let a = Elector::with_clock(cluster.clone(), "default", "orkestra-konductor", "a", timings, clock.clone());
        let b = Elector::with_clock(cluster.clone(), "default", "orkestra-konductor", "b", timings, clock);
        (a, b, t, cluster)
    }

    #[tokio::test]
    async fn one_leader_at_a_time_and_takeover_only_after_the_lease_expires() {
        let (a, b, t, cluster) = pair();
        assert!(a.try_acquire_or_renew().await.unwrap());
        assert!(!b.try_acquire_or_renew().await.unwrap());
        t.fetch_add(10, Ordering::SeqCst);
        assert!(a.try_acquire_or_renew().await.unwrap(), "the holder renews");
        t.fetch_add(14, Ordering::SeqCst);
        assert!(!b.try_acquire_or_renew().await.unwrap(), "renewed 14 s ago: still valid");
        t.fetch_add(2, Ordering::SeqCst);
        assert!(b.try_acquire_or_renew().await.unwrap(), "16 s without renewal: expired, taken over");
        assert!(!a.try_acquire_or_renew().await.unwrap(), "the old leader cannot renew someone else's lease");
        let lease = cluster.objects(&katalog::kinds::known("coordination.k8s.io", "Lease").unwrap()).remove(0);
        assert_eq!(lease["spec"]["holderIdentity"], "b");
        assert_eq!(lease["spec"]["leaseTransitions"], 1);
        b.release().await.unwrap();
        assert!(a.try_acquire_or_renew().await.unwrap(), "a released lease is free at once");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn candidates_racing_for_an_expired_lease_produce_exactly_one_winner() {
        let (a, b, t, _) = pair();
        assert!(a.try_acquire_or_renew().await.unwrap());
        t.fetch_add(100, Ordering::SeqCst);
        let c = Elector::with_clock(a.cluster.clone(), "default", "orkestra-konductor", "c", a.timings, a.clock.clone());
        let (rb, rc) = tokio::join!(b.try_acquire_or_renew(), c.try_acquire_or_renew());
        assert_eq!([rb.unwrap(), rc.unwrap()].iter().filter(|w| **w).count(), 1);
    }
}
