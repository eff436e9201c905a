//! Remembers message ids for a window so that a redelivered message is not answered twice.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Platform;

/// Message ids seen within the window, oldest first for expiry.
pub struct Dedup {
    window: Duration,
    inner: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    ids: HashSet<(Platform, String)>,
    order: VecDeque<(Instant, Platform, String)>,
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
        let mut seen = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        while let Some((at, _, _)) = seen.order.front() {
            if now.duration_since(*at) < self.window {
                break;
            }
            let (_, p, old) = seen.order.pop_front().expect("front exists");
            seen.ids.remove(&(p, old));
        }
        let key = (platform, id.to_string());
        if seen.ids.contains(&key) {
            return false;
        }
        seen.ids.insert(key);
        seen.order.push_back((now, platform, id.to_string()));
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
}
