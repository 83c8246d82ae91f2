//! The health of one OperatorBox (runtime-and-gateway.md §1.16). With panic isolation around a
//! reconcile (§1.8, [`crate::serve::panic::catch`]) a panic becomes a counted failure with its
//! message, and the box that panicked degrades while the others carry on.

use serde::Serialize;
use std::sync::Mutex;

/// Where an OperatorBox is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Not started (waiting for dependencies or its CRD).
    Starting,
    /// Reconciling; the last `threshold` reconciles did not all fail.
    Healthy,
    /// `threshold` consecutive failures.
    Degraded,
    /// A gate keeps CRs out (idle, not failing).
    Gated,
    /// Stopped (shutdown, or its CRD disappeared).
    Stopped,
}

/// Counters and state, shared by the box's workers.
#[derive(Debug)]
pub struct Health {
    inner: Mutex<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    state: State,
    reconciles: u64,
    failures: u64,
    panics: u64,
    consecutive_failures: u32,
    threshold: u32,
    last_error: Option<String>,
    gated: u64,
    last_gate: Option<String>,
}

/// A snapshot for `/katalog` and the TUI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Snapshot {
    pub state: State,
    /// Reconciles finished.
    pub reconciles: u64,
    /// Of which failed (panics included).
    pub failures: u64,
    /// Of which panicked.
    pub panics: u64,
    /// Failures in a row.
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
    /// Items the reconcileGate held.
    pub gated: u64,
    /// Why the reconcileGate last held an item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_gate: Option<String>,
}

impl Health {
    /// A box that degrades after `threshold` consecutive failures (at least 1).
    pub fn new(threshold: u32) -> Health {
        Health {
            inner: Mutex::new(Inner {
                state: State::Starting,
                reconciles: 0,
                failures: 0,
                panics: 0,
                consecutive_failures: 0,
                threshold: threshold.max(1),
                last_error: None,
                gated: 0,
                last_gate: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Marks the box running.
    pub fn started(&self) {
        let mut i = self.lock();
        if matches!(i.state, State::Starting | State::Stopped) {
            i.state = State::Healthy;
        }
    }

    /// Records a successful reconcile (a degraded box recovers).
    pub fn success(&self) {
        let mut i = self.lock();
        i.reconciles += 1;
        i.consecutive_failures = 0;
        if matches!(i.state, State::Degraded | State::Gated | State::Starting) {
            i.state = State::Healthy;
        }
    }

    /// Records a failed reconcile.
    pub fn failure(&self, error: &str, panicked: bool) {
        let mut i = self.lock();
        i.reconciles += 1;
        i.failures += 1;
        if panicked {
            i.panics += 1;
        }
        i.consecutive_failures = i.consecutive_failures.saturating_add(1);
        i.last_error = Some(error.to_string());
        if i.consecutive_failures >= i.threshold && i.state != State::Stopped {
            i.state = State::Degraded;
        }
    }

    /// Records an item the reconcileGate held: the box is `gated` (idle, not failing) until
    /// a reconcile runs again.
    pub fn gated(&self, why: &str) {
        let mut i = self.lock();
        i.gated += 1;
        i.last_gate = Some(why.to_string());
        if matches!(i.state, State::Healthy | State::Starting) {
            i.state = State::Gated;
        }
    }

    /// Sets a state (gated, stopped).
    pub fn set(&self, state: State) {
        self.lock().state = state;
    }

    /// The current counters.
    pub fn snapshot(&self) -> Snapshot {
        let i = self.lock().clone();
        Snapshot {
            state: i.state,
            reconciles: i.reconciles,
            failures: i.failures,
            panics: i.panics,
            consecutive_failures: i.consecutive_failures,
            last_error: i.last_error,
            gated: i.gated,
            last_gate: i.last_gate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::panic::catch;

    #[tokio::test]
    async fn a_panic_is_caught_and_counted_and_degrades_only_at_the_threshold() {
        let h = Health::new(3);
        h.started();
        for i in 0..3 {
            let r: Result<(), _> = catch(async {
                panic!("boom {i}");
            })
            .await;
            // What the worker records (operator.rs).
            let msg = format!("reconciler panic: {}", r.unwrap_err());
            assert_eq!(msg, format!("reconciler panic: boom {i}"));
            h.failure(&msg, true);
            let expect = if i < 2 { State::Healthy } else { State::Degraded };
            assert_eq!(h.snapshot().state, expect, "after {} failures", i + 1);
        }
        assert_eq!(catch(async { 7 }).await.unwrap(), 7);
        h.success();
        let s = h.snapshot();
        assert_eq!((s.state, s.reconciles, s.failures, s.panics, s.consecutive_failures), (State::Healthy, 4, 3, 3, 0));
        assert_eq!(s.last_error.as_deref(), Some("reconciler panic: boom 2"));
        h.set(State::Stopped);
        h.failure("late", false);
        assert_eq!(h.snapshot().state, State::Stopped, "a stopped box stays stopped");
    }
}
