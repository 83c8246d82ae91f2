//! The work queue of one OperatorBox (runtime-and-gateway.md §1.6), with client-go's semantics:
//! a key waits at most once (dedup); a key being processed is never handed to a second worker,
//! and one added meanwhile comes back after `done`; delayed adds; an optional depth limit;
//! shutdown wakes every waiting worker.
//!
//! Failures back off per key exponentially (5 ms doubling to 1000 s) until `forget`, and the
//! backoff holds: while a key backs off, every add of it (a child's watch event, a resync) is
//! deferred to the end of the backoff, so a failing key is retried exactly when the log says.
//! Only `forget` (a success, or a change to the CR itself) ends a backoff early.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The first retry delay after a failure.
pub const BASE_DELAY: Duration = Duration::from_millis(5);
/// The longest retry delay.
pub const MAX_DELAY: Duration = Duration::from_secs(1000);

struct State<K> {
    queue: VecDeque<K>,
    /// Keys waiting in `queue`, or to be re-queued when their processing ends.
    dirty: HashSet<K>,
    processing: HashSet<K>,
    failures: HashMap<K, u32>,
    /// When each backing-off key may be processed again.
    backoff_until: HashMap<K, Instant>,
    /// Keys with a timer that adds them when their backoff ends (one timer per key).
    deferred: HashSet<K>,
    shutdown: bool,
}

/// A deduplicating, rate-limited work queue. Share it behind an `Arc`.
pub struct WorkQueue<K> {
    state: Mutex<State<K>>,
    ready: Notify,
    max_depth: Option<usize>,
}

impl<K: Clone + Eq + Hash + Send + Sync + 'static> WorkQueue<K> {
    /// A queue; `max_depth` bounds how many keys may wait (new keys beyond it are dropped).
    pub fn new(max_depth: Option<usize>) -> Arc<WorkQueue<K>> {
        Arc::new(WorkQueue {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                dirty: HashSet::new(),
                processing: HashSet::new(),
                failures: HashMap::new(),
                backoff_until: HashMap::new(),
                deferred: HashSet::new(),
                shutdown: false,
            }),
            ready: Notify::new(),
            max_depth: max_depth.filter(|d| *d > 0),
        })
    }

    fn state(&self) -> MutexGuard<'_, State<K>> {
        // Every critical section leaves the state consistent, so a poisoned lock is usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `key` unless it is already waiting; a key that backs off is queued when its
    /// backoff ends. Returns false when it was dropped (depth limit, shutdown).
    pub fn add(self: &Arc<Self>, key: K) -> bool {
        let mut s = self.state();
        if s.shutdown {
            return false;
        }
        if let Some(until) = s.backoff_until.get(&key).copied().filter(|u| *u > Instant::now()) {
            self.defer(&mut s, key, until);
            return true;
        }
        if s.dirty.contains(&key) {
            return true;
        }
        if self.max_depth.is_some_and(|d| s.queue.len() >= d) && !s.processing.contains(&key) {
            return false;
        }
        s.dirty.insert(key.clone());
        if !s.processing.contains(&key) {
            s.queue.push_back(key);
            drop(s);
            self.ready.notify_one();
        }
        true
    }

    /// Adds `key` at `until` (once: a key already deferred keeps its one timer, which re-checks
    /// the backoff when it fires).
    fn defer(self: &Arc<Self>, s: &mut State<K>, key: K, until: Instant) {
        if s.deferred.insert(key.clone()) {
            let q = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep_until(until).await;
                q.state().deferred.remove(&key);
                q.add(key);
            });
        }
    }

    /// Queues `key` after `delay`.
    pub fn add_after(self: &Arc<Self>, key: K, delay: Duration) {
        if delay.is_zero() {
            self.add(key);
            return;
        }
        let q = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            q.add(key);
        });
    }

    /// Counts a failure of `key`, starts its backoff (5 ms doubling per consecutive failure, at
    /// most 1000 s) and queues it for when the backoff ends. Returns the backoff.
    pub fn retry_after_failure(self: &Arc<Self>, key: K) -> Duration {
        let delay = {
            let mut s = self.state();
            let n = s.failures.entry(key.clone()).or_insert(0);
            let delay = BASE_DELAY.saturating_mul(1u32.checked_shl(*n).unwrap_or(u32::MAX)).min(MAX_DELAY);
            *n = n.saturating_add(1);
            s.backoff_until.insert(key.clone(), Instant::now() + delay);
            delay
        };
        self.add(key);
        delay
    }

    /// Forgets `key`'s failures and ends its backoff (a successful reconcile, or a change to
    /// the CR that deserves a prompt retry).
    pub fn forget(&self, key: &K) {
        let mut s = self.state();
        s.failures.remove(key);
        s.backoff_until.remove(key);
    }

    /// How many times `key` has failed since it was last forgotten.
    pub fn failures(&self, key: &K) -> u32 {
        self.state().failures.get(key).copied().unwrap_or(0)
    }

    /// The next key to process, waiting for one; `None` once the queue is shut down.
    pub async fn get(&self) -> Option<K> {
        loop {
            let notified = self.ready.notified();
            {
                let mut s = self.state();
                if s.shutdown {
                    return None;
                }
                if let Some(key) = s.queue.pop_front() {
                    s.dirty.remove(&key);
                    s.processing.insert(key.clone());
                    if !s.queue.is_empty() {
                        self.ready.notify_one();
                    }
                    return Some(key);
                }
            }
            notified.await;
        }
    }

    /// Marks `key` processed; if it was added meanwhile, it waits again (after its backoff, if
    /// this processing failed).
    pub fn done(self: &Arc<Self>, key: &K) {
        let mut s = self.state();
        s.processing.remove(key);
        if s.dirty.contains(key) && !s.shutdown {
            if let Some(until) = s.backoff_until.get(key).copied().filter(|u| *u > Instant::now()) {
                s.dirty.remove(key);
                self.defer(&mut s, key.clone(), until);
                return;
            }
            s.queue.push_back(key.clone());
            drop(s);
            self.ready.notify_one();
        }
    }

    /// Keys waiting.
    pub fn len(&self) -> usize {
        self.state().queue.len()
    }

    /// No key waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops handing out keys: waiting and future `get`s return `None`.
    pub fn shutdown(&self) {
        self.state().shutdown = true;
        self.ready.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keys_wait_once_and_come_back_if_added_while_processing() {
        let q = WorkQueue::new(None);
        assert!(q.add("a"));
        assert!(q.add("a"));
        assert!(q.add("b"));
        assert_eq!(q.len(), 2, "a waits once");
        let a = q.get().await.unwrap();
        assert_eq!(a, "a");
        q.add("a");
        assert_eq!(q.get().await, Some("b"), "a is being processed: not handed out twice");
        assert!(q.is_empty());
        q.done(&"a");
        assert_eq!(q.get().await, Some("a"), "added while processing: back after done");
        q.done(&"a");
        q.done(&"b");
        assert!(q.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn failures_back_off_exponentially_up_to_the_cap_until_forgotten() {
        let q = WorkQueue::new(None);
        let delays: Vec<Duration> = (0..4).map(|_| q.retry_after_failure("k")).collect();
        assert_eq!(delays, [Duration::from_millis(5), Duration::from_millis(10), Duration::from_millis(20), Duration::from_millis(40)]);
        for _ in 0..40 {
            q.retry_after_failure("k");
        }
        assert_eq!(q.retry_after_failure("k"), MAX_DELAY);
        assert_eq!(q.failures(&"other"), 0);
        q.forget(&"k");
        assert_eq!(q.retry_after_failure("k"), BASE_DELAY);
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_is_retried_exactly_when_logged_whatever_else_adds_the_key() {
        // Regression: adds from watch events and resyncs used to retry a failing key long
        // before its logged backoff (a retry logged as 40.96 s came after 13.6 s).
        let q = WorkQueue::new(None);
        let mut delay = Duration::ZERO;
        let mut failed_at = Instant::now();
        for _ in 0..14 {
            assert!(q.add("cr"));
            assert_eq!(q.get().await, Some("cr"));
            let waited = failed_at.elapsed();
            assert!(waited >= delay, "retried after {waited:?}, before the logged backoff {delay:?}");
            assert!(waited <= delay + Duration::from_millis(1), "retried late: {waited:?} for {delay:?}");
            // The reconcile fails; meanwhile a child's watch event adds the key again.
            q.add("cr");
            delay = q.retry_after_failure("cr");
            failed_at = Instant::now();
            q.done(&"cr");
            // More events during the backoff change nothing.
            tokio::time::sleep(delay / 3).await;
            q.add("cr");
            assert!(q.is_empty(), "added during its backoff: deferred, not queued");
        }
        assert_eq!(delay, Duration::from_millis(5) * (1 << 13), "40.96 s after 14 failures");
        // A change to the CR itself forgets the backoff: retried at once.
        q.forget(&"cr");
        assert!(q.add("cr"));
        assert_eq!(q.len(), 1);
    }

    #[tokio::test]
    async fn a_depth_limit_drops_new_keys_and_shutdown_wakes_workers() {
        let q = WorkQueue::new(Some(2));
        assert!(q.add(1) && q.add(2));
        assert!(!q.add(3), "over the limit");
        assert!(q.add(1), "already waiting is not new");
        let waiter = {
            let q = q.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                while let Some(k) = q.get().await {
                    got.push(k);
                    q.done(&k);
                }
                got
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        q.shutdown();
        assert_eq!(waiter.await.unwrap(), [1, 2]);
        assert!(!q.add(4));
        assert_eq!(q.get().await, None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_workers_never_hold_the_same_key() {
        let q = WorkQueue::new(None);
        let busy = Arc::new(Mutex::new(HashSet::new()));
        let mut workers = Vec::new();
        for _ in 0..4 {
            let (q, busy) = (q.clone(), busy.clone());
            workers.push(tokio::spawn(async move {
                let mut n = 0;
                while let Some(k) = q.get().await {
                    assert!(busy.lock().unwrap_or_else(|p| p.into_inner()).insert(k), "key {k} handed to two workers");
                    tokio::task::yield_now().await;
                    busy.lock().unwrap_or_else(|p| p.into_inner()).remove(&k);
                    q.done(&k);
                    n += 1;
                }
                n
            }));
        }
        for round in 0..200 {
            q.add(round % 7);
            if round % 20 == 0 {
                tokio::task::yield_now().await;
            }
        }
        while !q.is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        q.shutdown();
        let mut total = 0;
        for w in workers {
            total += w.await.unwrap_or(0);
        }
        assert!((7..=200).contains(&total), "{total} reconciles");
    }
}
