//! Per-OperatorBox counters and the Prometheus text exposition behind `/metrics`. Atomics
//! only: a worker records a reconcile without taking a lock.

use crate::serve::metrics::{family, label};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the reconcile duration histogram.
pub const BUCKETS: [f64; 12] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// How a reconcile ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Result {
    /// Converged (or requeued on purpose).
    Success,
    /// Failed; retried with backoff.
    Error,
    /// Refused by a deny rule: the CR must change, no retry.
    Denied,
    /// The reconcileGate held: nothing was done.
    Gated,
}

/// One box's series.
#[derive(Debug, Default)]
pub struct BoxMetrics {
    success: AtomicU64,
    error: AtomicU64,
    denied: AtomicU64,
    gated: AtomicU64,
    panics: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
    busy: AtomicI64,
}

impl BoxMetrics {
    /// Records one reconcile.
    pub fn observe(&self, result: Result, panicked: bool, took: Duration) {
        match result {
            Result::Success => &self.success,
            Result::Error => &self.error,
            Result::Denied => &self.denied,
            Result::Gated => &self.gated,
        }
        .fetch_add(1, Ordering::Relaxed);
        if panicked {
            self.panics.fetch_add(1, Ordering::Relaxed);
        }
        let secs = took.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(took.as_micros().min(u128::from(u64::MAX)) as u64, Ordering::Relaxed);
    }

    /// A worker starts (`+1`) or finishes (`-1`) an item.
    pub fn busy(&self, delta: i64) {
        self.busy.fetch_add(delta, Ordering::Relaxed);
    }

    /// Workers processing an item now.
    pub fn busy_now(&self) -> i64 {
        self.busy.load(Ordering::Relaxed)
    }
}

/// What `/metrics` shows of one box besides its counters.
pub struct Gauges<'a> {
    /// CRD entry name.
    pub crd: &'a str,
    /// Keys waiting.
    pub queue_depth: usize,
    /// Configured workers.
    pub workers: usize,
    /// CRs in the watch cache.
    pub resources: usize,
    /// 1 healthy, 0 otherwise.
    pub healthy: bool,
    /// CRs paused by the annotation `orkestra.orkspace.io/paused: "true"`.
    pub paused: usize,
}

/// Renders every box's series, grouped by metric family (the exposition format requires one
/// HELP/TYPE block per family), boxes in the order given.
pub fn render(boxes: &[(&BoxMetrics, Gauges<'_>)], leader: bool) -> String {
    let mut out = String::new();
    family(&mut out, "ork_leader", "gauge", "1 when this replica holds the orkestra-konductor Lease and reconciles.");
    let _ = writeln!(out, "ork_leader {}", u8::from(leader));
    family(&mut out, "ork_reconcile_total", "counter", "Reconciles finished, by result.");
    for (m, g) in boxes {
        let crd = label(g.crd);
        for (result, c) in [("success", &m.success), ("error", &m.error), ("denied", &m.denied), ("gated", &m.gated)] {
            let _ = writeln!(out, "ork_reconcile_total{{crd=\"{crd}\",result=\"{result}\"}} {}", c.load(Ordering::Relaxed));
        }
    }
    family(&mut out, "ork_reconcile_panics_total", "counter", "Reconciles that panicked (caught; counted as errors too).");
    for (m, g) in boxes {
        let _ = writeln!(out, "ork_reconcile_panics_total{{crd=\"{}\"}} {}", label(g.crd), m.panics.load(Ordering::Relaxed));
    }
    family(&mut out, "ork_reconcile_duration_seconds", "histogram", "Time one reconcile took.");
    for (m, g) in boxes {
        let crd = label(g.crd);
        let mut cumulative = 0;
        for (b, c) in BUCKETS.iter().zip(&m.buckets) {
            cumulative += c.load(Ordering::Relaxed);
            let _ = writeln!(out, "ork_reconcile_duration_seconds_bucket{{crd=\"{crd}\",le=\"{b}\"}} {cumulative}");
        }
        let count = m.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "ork_reconcile_duration_seconds_bucket{{crd=\"{crd}\",le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "ork_reconcile_duration_seconds_sum{{crd=\"{crd}\"}} {}", m.sum_micros.load(Ordering::Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "ork_reconcile_duration_seconds_count{{crd=\"{crd}\"}} {count}");
    }
    type Gauge = fn(&BoxMetrics, &Gauges<'_>) -> i64;
    let gauges: [(&str, &str, Gauge); 6] = [
        ("ork_queue_depth", "Keys waiting in the OperatorBox queue.", |_, g| g.queue_depth as i64),
        ("ork_workers", "Configured workers.", |_, g| g.workers as i64),
        ("ork_workers_busy", "Workers processing an item now.", |m, _| m.busy_now()),
        ("ork_resources", "CRs in the OperatorBox's watch cache.", |_, g| g.resources as i64),
        ("ork_crd_healthy", "1 when the OperatorBox is healthy.", |_, g| i64::from(g.healthy)),
        ("ork_paused_resources", "CRs whose reconciling is paused by the orkestra.orkspace.io/paused annotation.", |_, g| g.paused as i64),
    ];
    for (name, help, value) in gauges {
        family(&mut out, name, "gauge", help);
        for (m, g) in boxes {
            let _ = writeln!(out, "{name}{{crd=\"{}\"}} {}", label(g.crd), value(m, g));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_one_family_block_and_cumulative_buckets() {
        let m = BoxMetrics::default();
        m.observe(Result::Success, false, Duration::from_millis(3));
        m.observe(Result::Error, true, Duration::from_millis(30));
        m.observe(Result::Denied, false, Duration::from_secs(60));
        let g = Gauges { crd: "web\"site", queue_depth: 4, workers: 2, resources: 9, healthy: true, paused: 0 };
        let text = render(&[(&m, g)], true);
        assert_eq!(text.matches("# TYPE ork_reconcile_total counter").count(), 1);
        assert!(text.contains("ork_reconcile_total{crd=\"web\\\"site\",result=\"error\"} 1"), "{text}");
        assert!(text.contains("ork_reconcile_panics_total{crd=\"web\\\"site\"} 1"));
        assert!(text.contains("le=\"0.001\"} 0"));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"0.05\"} 2"));
        assert!(text.contains("le=\"10\"} 2"), "60 s is beyond the last bucket");
        assert!(text.contains("le=\"+Inf\"} 3"));
        assert!(text.contains("ork_queue_depth{crd=\"web\\\"site\"} 4"));
        assert!(text.contains("ork_leader 1"));
    }
}
