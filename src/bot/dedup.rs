//! Remembers message ids for a window so that a redelivered message is not answered twice.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Platform;

/// The most ids remembered; past it the oldest go first (a flood must not exhaust memory).
const CAPACITY: usize = 200_000;

/// Message ids seen within the window (as 64-bit hashes), oldest first for expiry.
pub struct Dedup {
    window: Duration,
    inner: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    ids: HashSet<u64>,
    order: VecDeque<(Instant, u64)>,
}

impl Dedup {
    pub fn new(window: Duration) -> Self {
        Dedup {
            window,
            inner: Mutex::new(Seen::default()),
        }
    }

    /// True the first time an id is seen within the window; records it.
    pub fn first_time(&self, platform: Platform, id: &str, now: Instant) -> bool {
        let mut hasher = DefaultHasher::new();
        (platform, id).hash(&mut hasher);
        let key = hasher.finish();
        let mut seen = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(&(at, old)) = seen.order.front() {
            if now.duration_since(at) < self.window && seen.order.len() < CAPACITY {
                break;
            }
            seen.order.pop_front();
            seen.ids.remove(&old);
        }
        if !seen.ids.insert(key) {
            return false;
        }
        seen.order.push_back((now, key));
        true
    }

    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .ids
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_new_again_only_after_the_window() {
        let d = Dedup::new(Duration::from_secs(3600));
        let t0 = Instant::now();
        assert!(d.first_time(Platform::Wecom, "a", t0));
        assert!(!d.first_time(Platform::Wecom, "a", t0 + Duration::from_secs(3599)));
        assert!(d.first_time(Platform::Dingtalk, "a", t0));
        assert!(d.first_time(Platform::Wecom, "b", t0 + Duration::from_secs(3600)));
        assert!(d.first_time(Platform::Wecom, "a", t0 + Duration::from_secs(3600)));
        assert_eq!(d.len(), 2, "expired ids are forgotten");
    }

    #[test]
    fn a_flood_keeps_at_most_the_capacity() {
        let d = Dedup::new(Duration::from_secs(3600));
        let t0 = Instant::now();
        for i in 0..CAPACITY + 10 {
            assert!(d.first_time(Platform::Wecom, &i.to_string(), t0));
        }
        assert_eq!(d.len(), CAPACITY);
        assert!(
            !d.first_time(Platform::Wecom, &(CAPACITY + 9).to_string(), t0),
            "recent ids are kept"
        );
    }
}
