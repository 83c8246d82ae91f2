//! The gateway's Prometheus series: requests per webhook and outcome, and a latency histogram per
//! webhook (the time from a complete request body to the answer).

use crate::serve::metrics::{family, label};
use katalog::admission::Webhook;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds: admission must stay far below the API
/// server's webhook timeout, so the buckets are fine-grained under 10 ms.
const BUCKETS: [f64; 12] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Series {
    /// (webhook, outcome) → requests.
    requests: BTreeMap<(&'static str, &'static str), u64>,
    latency: BTreeMap<&'static str, Histogram>,
}

/// Counters of one gateway process.
#[derive(Default)]
pub struct Metrics {
    series: Mutex<Series>,
}

impl Metrics {
    /// Counts one answered request: `outcome` is `allowed`, `warned`, `mutated`, `denied`,
    /// `converted`, `failed` (conversion) or `invalid` (a malformed review, answered 400).
    pub fn observe(&self, webhook: Webhook, outcome: &'static str, took: Duration) {
        let Ok(mut s) = self.series.lock() else { return };
        *s.requests.entry((webhook.label(), outcome)).or_default() += 1;
        let h = s.latency.entry(webhook.label()).or_default();
        let secs = took.as_secs_f64();
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                h.counts[i] += 1;
            }
        }
        h.sum += secs;
        h.count += 1;
    }

    /// How many requests `webhook` answered with `outcome`.
    pub fn count(&self, webhook: Webhook, outcome: &str) -> u64 {
        self.series.lock().map(|s| s.requests.get(&(webhook.label(), outcome)).copied().unwrap_or(0)).unwrap_or(0)
    }

    /// The exposition text of every series, sorted.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let Ok(s) = self.series.lock() else { return out };
        family(&mut out, "ork_gateway_requests_total", "counter", "Admission and conversion requests answered, by webhook and outcome.");
        for ((webhook, outcome), n) in &s.requests {
            let _ = writeln!(out, "ork_gateway_requests_total{{webhook=\"{}\",outcome=\"{}\"}} {n}", label(webhook), label(outcome));
        }
        family(&mut out, "ork_gateway_request_duration_seconds", "histogram", "Time to answer a request once its body is read, by webhook.");
        for (webhook, h) in &s.latency {
            let w = label(webhook);
            for (le, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(out, "ork_gateway_request_duration_seconds_bucket{{webhook=\"{w}\",le=\"{le}\"}} {n}");
            }
            let _ = writeln!(out, "ork_gateway_request_duration_seconds_bucket{{webhook=\"{w}\",le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "ork_gateway_request_duration_seconds_sum{{webhook=\"{w}\"}} {}", h.sum);
            let _ = writeln!(out, "ork_gateway_request_duration_seconds_count{{webhook=\"{w}\"}} {}", h.count);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_webhook_and_outcome_with_cumulative_buckets() {
        let m = Metrics::default();
        m.observe(Webhook::Validate, "denied", Duration::from_micros(300));
        m.observe(Webhook::Validate, "allowed", Duration::from_millis(20));
        let text = m.render();
        assert!(text.contains("ork_gateway_requests_total{webhook=\"validate\",outcome=\"denied\"} 1"), "{text}");
        assert!(text.contains("ork_gateway_request_duration_seconds_bucket{webhook=\"validate\",le=\"0.0005\"} 1"), "{text}");
        assert!(text.contains("ork_gateway_request_duration_seconds_bucket{webhook=\"validate\",le=\"0.025\"} 2"), "{text}");
        assert!(text.contains("ork_gateway_request_duration_seconds_count{webhook=\"validate\"} 2"), "{text}");
        assert_eq!(m.count(Webhook::Validate, "denied"), 1);
    }
}
