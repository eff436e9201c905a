//! Counters for `GET /metrics`, in the Prometheus text format: questions, latency, refusals, deliveries, reminders.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::engine::{Answer, Intent, Via};

/// Upper bounds of the answer-latency histogram, in seconds.
const LATENCY_BUCKETS: [f64; 7] = [0.000_01, 0.000_05, 0.000_1, 0.000_5, 0.001, 0.005, 0.05];

/// The process's counters.
#[derive(Default)]
pub struct Metrics {
    questions: Mutex<BTreeMap<&'static str, u64>>,
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_ns: AtomicU64,
    rejected: Mutex<BTreeMap<String, u64>>,
    deliveries: Mutex<BTreeMap<(String, String, String), u64>>,
    reminder_runs: AtomicU64,
    reminders: Mutex<BTreeMap<&'static str, u64>>,
}

/// The counters of this process.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::default)
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K) {
    *map.lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_default() += 1;
}

impl Metrics {
    /// One answered question: its outcome (matched, lookup, not covered, help) and how long it took.
    pub fn question(&self, answer: &Answer, took: Duration) {
        let outcome = match answer.intent {
            Intent::NotCovered => "not_covered",
            Intent::Help | Intent::NegativeList => "help",
            Intent::Clauses
                if answer
                    .matches
                    .first()
                    .is_some_and(|m| m.via == Via::Reference) =>
            {
                "lookup"
            }
            Intent::Clauses => "matched",
        };
        bump(&self.questions, outcome);
        let seconds = took.as_secs_f64();
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_ns
            .fetch_add(took.as_nanos() as u64, Ordering::Relaxed);
    }

    /// A request refused at the HTTP edge, by reason.
    pub fn rejected(&self, reason: &str) {
        bump(&self.rejected, reason.to_string());
    }

    /// One delivery attempt: platform, result (sent, retry, failed, broken) and errcode ("" if none).
    pub fn delivery(&self, platform: &str, result: &str, errcode: Option<i64>) {
        let code = errcode.map(|c| c.to_string()).unwrap_or_default();
        bump(
            &self.deliveries,
            (platform.to_string(), result.to_string(), code),
        );
    }

    /// One check of the reminder schedule, and what it queued or skipped.
    pub fn reminder_run(&self, queued: usize, skipped: usize) {
        self.reminder_runs.fetch_add(1, Ordering::Relaxed);
        for (what, n) in [("queued", queued), ("skipped", skipped)] {
            *self
                .reminders
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(what)
                .or_default() += n as u64;
        }
    }

    /// The exposition text; `outbox_depth` is read from the database by the caller.
    pub fn render(&self, outbox_depth: Option<i64>) -> String {
        let mut out = String::new();
        let escape = |s: &str| {
            s.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n")
        };
        out.push_str("# HELP lawbot_questions_total Questions answered, by outcome.\n# TYPE lawbot_questions_total counter\n");
        for (outcome, n) in self
            .questions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(out, "lawbot_questions_total{{outcome=\"{outcome}\"}} {n}");
        }
        out.push_str("# HELP lawbot_answer_seconds Time to answer a question (engine and reply).\n# TYPE lawbot_answer_seconds histogram\n");
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
            let _ = writeln!(
                out,
                "lawbot_answer_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(out, "lawbot_answer_seconds_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.latency_sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(
            out,
            "lawbot_answer_seconds_sum {sum}\nlawbot_answer_seconds_count {count}"
        );
        out.push_str("# HELP lawbot_requests_rejected_total Requests refused at the HTTP edge, by reason.\n# TYPE lawbot_requests_rejected_total counter\n");
        for (reason, n) in self
            .rejected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "lawbot_requests_rejected_total{{reason=\"{}\"}} {n}",
                escape(reason)
            );
        }
        out.push_str("# HELP lawbot_deliveries_total Outbox send attempts, by platform, result and errcode.\n# TYPE lawbot_deliveries_total counter\n");
        for ((platform, result, code), n) in self
            .deliveries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "lawbot_deliveries_total{{platform=\"{platform}\",result=\"{result}\",errcode=\"{code}\"}} {n}"
            );
        }
        if let Some(depth) = outbox_depth {
            out.push_str("# HELP lawbot_outbox_depth Message parts waiting to be sent.\n# TYPE lawbot_outbox_depth gauge\n");
            let _ = writeln!(out, "lawbot_outbox_depth {depth}");
        }
        out.push_str("# HELP lawbot_reminder_runs_total Checks of the reminder schedule.\n# TYPE lawbot_reminder_runs_total counter\n");
        let _ = writeln!(
            out,
            "lawbot_reminder_runs_total {}",
            self.reminder_runs.load(Ordering::Relaxed)
        );
        out.push_str("# HELP lawbot_reminders_total Weekly reminders queued or skipped.\n# TYPE lawbot_reminders_total counter\n");
        for (what, n) in self
            .reminders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(out, "lawbot_reminders_total{{result=\"{what}\"}} {n}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_in_the_prometheus_text_format() {
        let m = Metrics::default();
        let engine = crate::Engine::builtin().unwrap();
        m.question(&engine.answer("第十条"), Duration::from_micros(3));
        m.question(
            &engine.answer("承办法官想借我的车"),
            Duration::from_micros(30),
        );
        m.question(&engine.answer("今天天气如何"), Duration::from_millis(2));
        m.rejected("wrong signature");
        m.delivery("wecom", "retry", Some(45009));
        m.reminder_run(2, 1);
        let text = m.render(Some(5));
        for line in [
            "lawbot_questions_total{outcome=\"lookup\"} 1",
            "lawbot_questions_total{outcome=\"matched\"} 1",
            "lawbot_questions_total{outcome=\"not_covered\"} 1",
            "lawbot_answer_seconds_bucket{le=\"0.00001\"} 1",
            "lawbot_answer_seconds_bucket{le=\"0.005\"} 3",
            "lawbot_answer_seconds_count 3",
            "lawbot_requests_rejected_total{reason=\"wrong signature\"} 1",
            "lawbot_deliveries_total{platform=\"wecom\",result=\"retry\",errcode=\"45009\"} 1",
            "lawbot_outbox_depth 5",
            "lawbot_reminders_total{result=\"queued\"} 2",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing `{line}` in\n{text}"
            );
        }
    }
}
