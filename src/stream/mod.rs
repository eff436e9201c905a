//! Long connections, for offices without a public server: WeCom's WebSocket and DingTalk's stream mode.

pub mod dingtalk;
pub mod wecom;

use std::time::Duration;

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
