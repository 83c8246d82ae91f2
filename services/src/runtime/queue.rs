//! The work queue of one OperatorBox (runtime-and-gateway.md §1.6), with client-go's semantics:
//! a key waits at most once (dedup); a key being processed is never handed to a second worker,
//! and one added meanwhile comes back after `done`; delayed adds; an optional depth limit;
//! shutdown wakes every waiting worker.
//!
//! Failures back off per key (by default exponentially, 5 ms doubling to 1000 s; per CRD
//! `queue.retryBackoff` and `queue.type`, see [`Backoff`]) until `forget`, and the backoff holds:
//! while a key backs off, every add of it (a child's watch event, a resync) is deferred to the end
//! of the backoff, so a failing key is retried exactly when the log says. Only `forget` (a
//! success, or a change to the CR itself) ends a backoff early. After `maxAttempts` consecutive
//! failures the failure path gives up: the key is not re-queued by it, and only a later add (a
//! change to the CR, a child's event, the resync) processes it again.

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
/// The fixed retry delay of a `delayed` queue when `retryBackoff` does not give one: a fixed
/// 5 ms would retry a failing CR 200 times a second.
pub const DELAYED_DEFAULT: Duration = Duration::from_secs(1);

/// How failures of one key are retried: `delay(n)` after the n-th consecutive failure (n ≥ 1) is
/// `initial × multiplier^(n-1)`, at most `max`; after `max_attempts` failures, no retry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The first delay.
    pub initial: Duration,
    /// The longest delay.
    pub max: Duration,
    /// Growth per consecutive failure (≥ 1; 1 = fixed).
    pub multiplier: f64,
    /// Consecutive failures after which the failure path stops re-queuing the key.
    pub max_attempts: Option<u32>,
}

/// The multiplier is never NaN (the Katalog's is checked when decoded, ≥ 1), so equality is total.
impl Eq for Backoff {}

impl Default for Backoff {
    /// client-go's per-item default: 5 ms doubling to 1000 s, retried without limit.
    fn default() -> Self {
        Backoff { initial: BASE_DELAY, max: MAX_DELAY, multiplier: 2.0, max_attempts: None }
    }
}

impl Backoff {
    /// The delay after the `n`-th consecutive failure (`n` ≥ 1), or `None` past `max_attempts`.
    pub fn delay(&self, n: u32) -> Option<Duration> {
        if self.max_attempts.is_some_and(|m| n > m) {
            return None;
        }
        let m = self.multiplier;
        let mut d = self.initial;
        if m > 1.0 {
            // Integral multipliers stay exact (5 ms × 2¹³ is 40.96 s, not 40.960000001 s).
            let whole = (m.fract() == 0.0 && m <= f64::from(u32::MAX)).then_some(m as u32);
            for _ in 1..n {
                if d >= self.max {
                    break;
                }
                d = match whole {
                    Some(w) => d.saturating_mul(w),
                    None => Duration::try_from_secs_f64(d.as_secs_f64() * m).unwrap_or(self.max),
                };
            }
        }
        Some(d.min(self.max))
    }
}

/// What [`WorkQueue::retry_after_failure`] did with a failed key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Queued again after this backoff.
    After(Duration),
    /// `maxAttempts` consecutive failures: not re-queued (a change to the CR, a child's event or
    /// the resync processes it again).
    GaveUp {
        /// Consecutive failures so far.
        attempts: u32,
    },
}

impl std::fmt::Display for Retry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Retry::After(d) => write!(f, "in {d:?}"),
            Retry::GaveUp { attempts } => {
                write!(f, "not retried: {attempts} consecutive failures reached retryBackoff.maxAttempts (a change to the CR or the resync retries it)")
            }
        }
    }
}

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
    backoff: Backoff,
}

impl<K: Clone + Eq + Hash + Send + Sync + 'static> WorkQueue<K> {
    /// A queue; `max_depth` bounds how many keys may wait (new keys beyond it are dropped).
    pub fn new(max_depth: Option<usize>) -> Arc<WorkQueue<K>> {
        Self::with_backoff(max_depth, Backoff::default())
    }

    /// A queue whose failures are retried per `backoff`.
    pub fn with_backoff(max_depth: Option<usize>, backoff: Backoff) -> Arc<WorkQueue<K>> {
        Arc::new(WorkQueue {
            backoff,
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

    /// Counts a failure of `key`, starts its backoff ([`Backoff::delay`]) and queues it for when
    /// the backoff ends. Past `maxAttempts` the key is not queued and has no backoff, so the next
    /// add of it (from anywhere) processes it.
    pub fn retry_after_failure(self: &Arc<Self>, key: K) -> Retry {
        let retry = {
            let mut s = self.state();
            let n = s.failures.entry(key.clone()).or_insert(0);
            *n = n.saturating_add(1);
            let attempts = *n;
            match self.backoff.delay(attempts) {
                Some(delay) => {
                    s.backoff_until.insert(key.clone(), Instant::now() + delay);
                    Retry::After(delay)
                }
                None => {
                    s.backoff_until.remove(&key);
                    // An add that came in while the key was processed would re-run it at once.
                    s.dirty.remove(&key);
                    return Retry::GaveUp { attempts };
                }
            }
        };
        self.add(key);
        retry
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
        let delays: Vec<Retry> = (0..4).map(|_| q.retry_after_failure("k")).collect();
        let ms = |n| Retry::After(Duration::from_millis(n));
        assert_eq!(delays, [ms(5), ms(10), ms(20), ms(40)]);
        for _ in 0..40 {
            q.retry_after_failure("k");
        }
        assert_eq!(q.retry_after_failure("k"), Retry::After(MAX_DELAY));
        assert_eq!(q.failures(&"other"), 0);
        q.forget(&"k");
        assert_eq!(q.retry_after_failure("k"), Retry::After(BASE_DELAY));
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
            let Retry::After(d) = q.retry_after_failure("cr") else { panic!("no maxAttempts: always retried") };
            delay = d;
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

    #[test]
    fn backoff_delays_follow_initial_multiplier_max_and_max_attempts() {
        let b = Backoff { initial: Duration::from_secs(1), max: Duration::from_secs(10), multiplier: 3.0, max_attempts: Some(5) };
        let delays: Vec<Option<Duration>> = (1..=6).map(|n| b.delay(n)).collect();
        let s = |n| Some(Duration::from_secs(n));
        assert_eq!(delays, [s(1), s(3), s(9), s(10), s(10), None], "×3 capped at 10 s; the 6th failure is past maxAttempts 5");
        let fractional = Backoff { initial: Duration::from_millis(100), max: Duration::from_secs(1), multiplier: 1.5, max_attempts: None };
        assert_eq!(fractional.delay(3), Some(Duration::from_millis(225)));
        assert_eq!(fractional.delay(u32::MAX), Some(Duration::from_secs(1)), "no limit: the cap forever");
        let fixed = Backoff { initial: Duration::from_secs(2), max: Duration::from_secs(2), multiplier: 1.0, max_attempts: None };
        assert!((1..50).all(|n| fixed.delay(n) == Some(Duration::from_secs(2))), "multiplier 1 (a delayed queue): the same delay every time");
        assert_eq!(Backoff::default().delay(14), Some(Duration::from_millis(5) * (1 << 13)), "client-go's default");
    }

    #[tokio::test(start_paused = true)]
    async fn past_max_attempts_the_failure_path_stops_retrying_until_the_key_is_added_again() {
        let b = Backoff { initial: Duration::from_millis(10), max: Duration::from_millis(10), multiplier: 1.0, max_attempts: Some(2) };
        let q = WorkQueue::with_backoff(None, b);
        for attempt in 1..=2 {
            assert!(q.add("cr") || attempt > 1);
            assert_eq!(q.get().await, Some("cr"));
            assert_eq!(q.retry_after_failure("cr"), Retry::After(Duration::from_millis(10)));
            q.done(&"cr");
            tokio::time::sleep(Duration::from_millis(11)).await;
            assert_eq!(q.len(), 1, "attempt {attempt}: retried after its delay");
        }
        assert_eq!(q.get().await, Some("cr"));
        q.add("cr"); // a child's event during the failing reconcile
        let gave_up = q.retry_after_failure("cr");
        assert_eq!(gave_up, Retry::GaveUp { attempts: 3 });
        assert!(gave_up.to_string().contains("maxAttempts"), "{gave_up}");
        q.done(&"cr");
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(q.is_empty(), "given up: not retried by the failure path, nor by the event seen while it ran");
        // The resync (or any later add) processes it again, at once: no backoff holds it.
        assert!(q.add("cr"));
        assert_eq!(q.len(), 1);
        assert_eq!(q.get().await, Some("cr"));
        assert_eq!(q.retry_after_failure("cr"), Retry::GaveUp { attempts: 4 }, "still failing: one try per resync");
        q.done(&"cr");
        // A change to the CR forgets the count: the full budget again.
        q.forget(&"cr");
        assert!(q.add("cr"));
        assert_eq!(q.get().await, Some("cr"));
        assert_eq!(q.retry_after_failure("cr"), Retry::After(Duration::from_millis(10)));
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
