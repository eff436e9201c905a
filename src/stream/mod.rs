//! Long connections, for offices without a public server: WeCom's WebSocket and DingTalk's stream mode.

pub mod dingtalk;
pub mod wecom;

use std::future::Future;
use std::time::Duration;

use anyhow::anyhow;
use tokio::sync::watch;

/// How long a connect, a subscription or a gateway call may take before the session is retried.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs one step of a session unless the service stops first (`None`), giving up after `STEP_TIMEOUT`.
pub async fn step<T>(
    stop: &mut watch::Receiver<bool>,
    what: &str,
    work: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<Option<T>> {
    tokio::select! {
        result = tokio::time::timeout(STEP_TIMEOUT, work) => {
            result.map_err(|_| anyhow!("{what}: no answer within {STEP_TIMEOUT:?}"))?.map(Some)
        }
        _ = stop.wait_for(|stopped| *stopped) => Ok(None),
    }
}

/// Reconnect delay after `failures` failed attempts in a row: 1 s, 2 s, 4 s … capped at 30 s.
pub fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.min(5)).min(Duration::from_secs(30))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_thirty_seconds() {
        let table: Vec<u64> = (0..8).map(|f| backoff(f).as_secs()).collect();
        assert_eq!(table, [1, 2, 4, 8, 16, 30, 30, 30]);
    }
}
