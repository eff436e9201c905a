//! A per-sender limit on questions per minute, kept in memory under a hash of the sender.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Platform;

const WINDOW: Duration = Duration::from_secs(60);

/// Sliding one-minute windows per sender. Senders are keyed by a hash, never kept as names,
/// and forgotten once their window is empty.
pub struct RateLimiter {
    per_minute: u32,
    recent: Mutex<Recent>,
}

struct Recent {
    by_sender: HashMap<u64, VecDeque<Instant>>,
    /// When idle senders were last forgotten (at most once a window, so a flood stays cheap).
    swept: Option<Instant>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute: per_minute.max(1),
            recent: Mutex::new(Recent {
                by_sender: HashMap::new(),
                swept: None,
            }),
        }
    }

    /// Whether this sender may ask now; records the question if so.
    pub fn allow(&self, platform: Platform, sender: &str, now: Instant) -> bool {
        let mut hasher = DefaultHasher::new();
        (platform, sender).hash(&mut hasher);
        let key = hasher.finish();
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent
            .swept
            .is_none_or(|at| now.duration_since(at) >= WINDOW)
        {
            recent.by_sender.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < WINDOW)
            });
            recent.swept = Some(now);
        }
        let times = recent.by_sender.entry(key).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            times.pop_front();
        }
        if times.len() >= self.per_minute as usize {
            return false;
        }
        times.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_limit_per_minute_per_sender() {
        let r = RateLimiter::new(3);
        let t = Instant::now();
        assert!((0..3).all(|i| r.allow(Platform::Wecom, "u", t + Duration::from_secs(i))));
        assert!(!r.allow(Platform::Wecom, "u", t + Duration::from_secs(10)));
        assert!(r.allow(Platform::Wecom, "v", t + Duration::from_secs(10)));
        assert!(r.allow(Platform::Dingtalk, "u", t + Duration::from_secs(10)));
        assert!(r.allow(Platform::Wecom, "u", t + Duration::from_secs(60)));
    }

    #[test]
    fn idle_senders_are_forgotten() {
        let r = RateLimiter::new(3);
        let t = Instant::now();
        for i in 0..100 {
            assert!(r.allow(Platform::Wecom, &format!("u{i}"), t));
        }
        assert!(r.allow(Platform::Wecom, "late", t + Duration::from_secs(61)));
        assert_eq!(r.recent.lock().unwrap().by_sender.len(), 1);
    }
}
