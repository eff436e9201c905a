//! Load generator for `lawbot serve`: signed DingTalk and encrypted WeCom callbacks on loopback.
//!
//! `cargo run --release --example loadgen -- http://127.0.0.1:18080 SECONDS CONCURRENCY`
//! (the server configured as in benches/load.sh). Prints requests per second and latency percentiles.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use lawbot::platform::dingtalk::sign::sign;
use lawbot::platform::wecom::crypto::WecomCrypto;

const TOKEN: &str = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
const AES_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
const APP_SECRET: &str = "test-app-secret";
const QUESTIONS: &[&str] = &[
    "@律规助手 法官老婆请我吃饭能去吗",
    "承办法官想借我的车开两天",
    "第十二条第十八项是什么",
    "民事案件上诉期是多久",
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:18080".into());
    let seconds: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    let concurrency: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(32);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let crypto = Arc::new(WecomCrypto::new(TOKEN, AES_KEY)?);
    let counter = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let (client, base, crypto, counter) = (
            client.clone(),
            base.clone(),
            crypto.clone(),
            counter.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0u64;
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let question = QUESTIONS[(n as usize) % QUESTIONS.len()];
                let sender = format!("user{}", n % 100_000);
                let started = Instant::now();
                let ok = if n % 2 == 0 {
                    dingtalk(&client, &base, n, question, &sender).await
                } else {
                    wecom(&client, &base, &crypto, n, question, &sender).await
                };
                latencies.push(started.elapsed());
                failures += u64::from(!ok);
            }
            let _ = worker;
            (latencies, failures)
        }));
    }
    let mut all = Vec::new();
    let mut failures = 0;
    for t in tasks {
        let (l, f) = t.await?;
        all.extend(l);
        failures += f;
    }
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "requests={} failures={} rps={:.0} p50={:.2?} p99={:.2?} max={:.2?} concurrency={concurrency}",
        all.len(),
        failures,
        all.len() as f64 / seconds as f64,
        pct(0.50),
        pct(0.99),
        all.last().copied().unwrap_or_default()
    );
    Ok(())
}

async fn dingtalk(
    client: &reqwest::Client,
    base: &str,
    n: u64,
    question: &str,
    sender: &str,
) -> bool {
    let now = jiff::Timestamp::now().as_millisecond();
    let body = serde_json::json!({
        "msgtype": "text", "text": { "content": question }, "msgId": format!("load-d-{n}"),
        "conversationId": "cid-load", "senderStaffId": sender, "conversationType": "2",
    });
    let response = client
        .post(format!("{base}/dingtalk/callback"))
        .header("timestamp", now.to_string())
        .header("sign", sign(APP_SECRET, now))
        .json(&body)
        .send()
        .await;
    answered(response).await
}

async fn wecom(
    client: &reqwest::Client,
    base: &str,
    crypto: &WecomCrypto,
    n: u64,
    question: &str,
    sender: &str,
) -> bool {
    let plaintext = serde_json::json!({
        "msgid": format!("load-w-{n}"), "chatid": "chat-load", "chattype": "group",
        "from": { "userid": sender }, "msgtype": "text", "text": { "content": question },
    })
    .to_string();
    let encrypt = crypto.encrypt(&plaintext, "");
    let timestamp = (jiff::Timestamp::now().as_millisecond() / 1000).to_string();
    let nonce = n.to_string();
    let signature = crypto.signature(&timestamp, &nonce, &encrypt);
    let url = format!(
        "{base}/wecom/callback?msg_signature={signature}&timestamp={timestamp}&nonce={nonce}"
    );
    let response = client
        .post(url)
        .json(&serde_json::json!({ "encrypt": encrypt }))
        .send()
        .await;
    answered(response).await
}

/// A 200 with a body long enough to hold a clause.
async fn answered(response: reqwest::Result<reqwest::Response>) -> bool {
    match response {
        Ok(r) if r.status().is_success() => r.bytes().await.is_ok_and(|b| b.len() > 100),
        _ => false,
    }
}
