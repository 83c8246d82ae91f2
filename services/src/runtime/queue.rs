//! The work queue of one OperatorBox (runtime-and-gateway.md §1.6), with client-go's semantics:
//! a key waits at most once (dedup); a key being processed is never handed to a second worker,
//! and one added meanwhile comes back after `done`; failures back off per key exponentially
//! (5 ms doubling to 1000 s) until `forget`; delayed adds; an optional depth limit; shutdown
//! wakes every waiting worker.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;

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
            state: Mutex::new(State { queue: VecDeque::new(), dirty: HashSet::new(), processing: HashSet::new(), failures: HashMap::new(), shutdown: false }),
            ready: Notify::new(),
            max_depth: max_depth.filter(|d| *d > 0),
        })
    }

    fn state(&self) -> MutexGuard<'_, State<K>> {
        // Every critical section leaves the state consistent, so a poisoned lock is usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `key` unless it is already waiting. Returns false when it was dropped (depth
    /// limit, shutdown).
    pub fn add(&self, key: K) -> bool {
        let mut s = self.state();
        if s.shutdown {
            return false;
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

    /// The delay the next failure of `key` waits (and counts the failure).
    pub fn next_backoff(&self, key: &K) -> Duration {
        let mut s = self.state();
        let n = s.failures.entry(key.clone()).or_insert(0);
        let delay = BASE_DELAY.saturating_mul(1u32.checked_shl(*n).unwrap_or(u32::MAX)).min(MAX_DELAY);
        *n = n.saturating_add(1);
        delay
    }

    /// Queues `key` after its backoff (a failed reconcile).
    pub fn add_rate_limited(self: &Arc<Self>, key: K) {
        let delay = self.next_backoff(&key);
        self.add_after(key, delay);
    }

    /// Forgets `key`'s failures (a successful reconcile).
    pub fn forget(&self, key: &K) {
        self.state().failures.remove(key);
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

    /// Marks `key` processed; if it was added meanwhile, it waits again.
    pub fn done(&self, key: &K) {
        let mut s = self.state();
        s.processing.remove(key);
        if s.dirty.contains(key) && !s.shutdown {
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

    #[tokio::test]
    async fn failures_back_off_exponentially_up_to_the_cap_until_forgotten() {
        let q = WorkQueue::new(None);
        let delays: Vec<Duration> = (0..4).map(|_| q.next_backoff(&"k")).collect();
        assert_eq!(delays, [Duration::from_millis(5), Duration::from_millis(10), Duration::from_millis(20), Duration::from_millis(40)]);
        for _ in 0..40 {
            q.next_backoff(&"k");
        }
        assert_eq!(q.next_backoff(&"k"), MAX_DELAY);
        assert_eq!(q.failures(&"other"), 0);
        q.forget(&"k");
        assert_eq!(q.next_backoff(&"k"), BASE_DELAY);
    }

    #[tokio::test(start_paused = true)]
    async fn delayed_and_rate_limited_adds_arrive_after_their_delay() {
        let q = WorkQueue::new(None);
        q.add_after("late", Duration::from_secs(10));
        q.add_rate_limited("retry");
        tokio::time::sleep(Duration::from_millis(6)).await;
        assert_eq!(q.get().await, Some("retry"));
        assert!(q.is_empty(), "the 10 s one is not there yet");
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(q.get().await, Some("late"));
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
