//! Outbox figures: delivery throughput into a local fake robot with rate limits off, and the cost of
//! one reminder-schedule check over 10,000 groups.
//!
//! `cargo run --release --example outbox_bench -- [MESSAGES] [GROUPS] [CONCURRENCY]` (serve uses 1).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;
use lawbot::bot::{Bot, SystemClock};
use lawbot::delivery::{Endpoints, Reminders, Sender, Worker, WorkerConfig, queued};
use lawbot::remind::ReminderSetting;
use lawbot::store::{NewGroup, Robot, Store};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let messages = args.first().copied().unwrap_or(5_000);
    let groups = args.get(1).copied().unwrap_or(100);
    let concurrency = args.get(2).copied().unwrap_or(1);

    // A fake WeCom robot that answers at once and counts what it receives.
    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    let app = Router::new().route(
        "/cgi-bin/webhook/send",
        post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::Relaxed);
                axum::Json(serde_json::json!({ "errcode": 0, "errmsg": "ok" }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = std::env::temp_dir().join(format!("lawbot-outbox-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = Arc::new(Store::open(&dir.join("bench.db"))?);
    let mut all = Vec::new();
    for i in 0..groups {
        all.push(store.add_group(&NewGroup {
            name: format!("g{i}"),
            robot: Robot::Wecom {
                webhook_key: format!("k{i}"),
            },
        })?);
    }
    let per_group = messages / groups;
    let queued_messages: Vec<_> = all
        .iter()
        .flat_map(|g| (0..per_group).map(move |n| queued(g, "通知", &format!("第{n}条通知"), None)))
        .collect();
    store.enqueue_broadcast("announcement", "通知", "bench", &queued_messages)?;
    let total = (per_group * groups) as u64;
    let endpoints = Endpoints {
        wecom: base.clone(),
        dingtalk: base,
    };
    let config = WorkerConfig {
        per_window: u32::MAX,
        window: Duration::from_secs(60),
        poll: Duration::from_millis(10),
        concurrency,
    };
    let worker = Worker::new(store.clone(), Sender::new(endpoints), config);
    let started = Instant::now();
    while received.load(Ordering::Relaxed) < total {
        worker.drain_once().await?;
    }
    let elapsed = started.elapsed();
    println!(
        "outbox: {total} messages to {groups} groups in {elapsed:.2?} = {:.0} messages/s ({concurrency} in flight, rate limits off, SQLite on disk, synchronous=FULL)",
        total as f64 / elapsed.as_secs_f64()
    );

    // Scheduling: one reminder check over 10,000 groups (all due at once, then all waiting).
    let store = Arc::new(Store::in_memory()?);
    for i in 0..10_000 {
        store.add_group(&NewGroup {
            name: format!("s{i}"),
            robot: Robot::Wecom {
                webhook_key: format!("k{i}"),
            },
        })?;
    }
    let engine = Arc::new(lawbot::Engine::builtin()?);
    let bot = Arc::new(Bot::new(
        engine,
        Duration::from_secs(3600),
        20,
        Arc::new(SystemClock),
    ));
    let reminders = Reminders::new(
        store.clone(),
        bot,
        ReminderSetting::default(),
        lawbot::remind::DEFAULT_GRACE,
    );
    let monday: jiff::Timestamp = "2026-11-30T01:00:30Z".parse()?;
    let started = Instant::now();
    let queued = reminders.check(monday)?.len();
    let first = started.elapsed();
    let started = Instant::now();
    let again = reminders.check(monday)?.len();
    let second = started.elapsed();
    println!(
        "schedule: 10,000 groups, {queued} reminders queued in {first:.2?}; the next check ({again} queued) took {second:.2?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
