//! Console sessions: a random cookie after logging in with the admin token, and a CSRF token per session.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use subtle::ConstantTimeEq;

/// The session cookie; `Path=/console`, so it goes nowhere else.
pub const COOKIE: &str = "lawbot_session";
/// The cookie that ties the login form to the browser that loaded it (login CSRF).
pub const LOGIN_COOKIE: &str = "lawbot_login";
/// A session unused for this long is gone.
const IDLE: Duration = Duration::from_secs(8 * 3600);
/// Sessions kept at most; the least recently used goes first.
const MAX_SESSIONS: usize = 256;
/// Wrong tokens allowed per minute, over all clients; more are refused without being checked.
const FAILURES_PER_MINUTE: usize = 5;

/// A logged-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    /// Sent back in a hidden field of every form.
    pub csrf: String,
    /// A regulation text uploaded and not yet published.
    pub draft: Option<String>,
    /// A message for the next page ("group added").
    pub flash: Option<String>,
    last_seen: Instant,
}

/// The sessions of this process (a restart logs everyone out).
#[derive(Debug, Default)]
pub struct Sessions {
    sessions: Mutex<HashMap<String, Session>>,
    failures: Mutex<VecDeque<Instant>>,
}

/// A random token: 32 bytes, URL-safe base64.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Equal strings, compared in constant time.
pub fn same(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

impl Sessions {
    /// Starts a session; returns it.
    pub fn create(&self) -> Session {
        let now = Instant::now();
        let session = Session {
            id: random_token(),
            csrf: random_token(),
            draft: None,
            flash: None,
            last_seen: now,
        };
        let mut sessions = self.lock();
        sessions.retain(|_, s| now.duration_since(s.last_seen) < IDLE);
        if sessions.len() >= MAX_SESSIONS {
            let oldest = sessions
                .values()
                .min_by_key(|s| s.last_seen)
                .map(|s| s.id.clone());
            if let Some(id) = oldest {
                sessions.remove(&id);
            }
        }
        sessions.insert(session.id.clone(), session.clone());
        session
    }

    /// The live session with this id, its flash message taken.
    pub fn touch(&self, id: &str) -> Option<Session> {
        let now = Instant::now();
        let mut sessions = self.lock();
        let session = sessions.get_mut(id)?;
        if now.duration_since(session.last_seen) >= IDLE {
            sessions.remove(id);
            return None;
        }
        session.last_seen = now;
        let found = session.clone();
        session.flash = None;
        Some(found)
    }

    /// Changes a live session (flash, draft); false if it is gone.
    pub fn update(&self, id: &str, change: impl FnOnce(&mut Session)) -> bool {
        match self.lock().get_mut(id) {
            Some(session) => {
                change(session);
                true
            }
            None => false,
        }
    }

    pub fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Counts a wrong token; false when too many came in the last minute (refuse without checking).
    pub fn allow_attempt(&self) -> bool {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        while failures
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(60))
        {
            failures.pop_front();
        }
        failures.len() < FAILURES_PER_MINUTE
    }

    pub fn record_failure(&self) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(Instant::now());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, for `path`; Secure behind TLS.
/// `max_age` zero removes the cookie.
pub fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age: Option<i64>,
    secure: bool,
) -> String {
    let mut builder = cookie::Cookie::build((name, value))
        .path(path)
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(secure);
    if let Some(seconds) = max_age {
        builder = builder.max_age(cookie::time::Duration::seconds(seconds));
    }
    builder.build().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_have_distinct_random_ids_and_csrf_tokens() {
        let sessions = Sessions::default();
        let a = sessions.create();
        let b = sessions.create();
        assert_ne!(a.id, b.id);
        assert_ne!(a.csrf, a.id);
        assert_eq!(a.id.len(), 43);
        assert!(sessions.touch(&a.id).is_some());
        sessions.remove(&a.id);
        assert!(sessions.touch(&a.id).is_none());
        assert!(sessions.touch("made-up").is_none());
    }

    #[test]
    fn a_flash_message_is_shown_once() {
        let sessions = Sessions::default();
        let s = sessions.create();
        assert!(sessions.update(&s.id, |s| s.flash = Some("已添加".into())));
        assert_eq!(
            sessions.touch(&s.id).unwrap().flash.as_deref(),
            Some("已添加")
        );
        assert_eq!(sessions.touch(&s.id).unwrap().flash, None);
    }

    #[test]
    fn the_oldest_session_goes_when_there_are_too_many() {
        let sessions = Sessions::default();
        let first = sessions.create();
        for _ in 0..MAX_SESSIONS {
            sessions.create();
        }
        assert!(sessions.touch(&first.id).is_none());
    }

    #[test]
    fn wrong_tokens_are_limited_per_minute() {
        let sessions = Sessions::default();
        for _ in 0..FAILURES_PER_MINUTE {
            assert!(sessions.allow_attempt());
            sessions.record_failure();
        }
        assert!(!sessions.allow_attempt());
    }

    #[test]
    fn cookies_are_http_only_and_same_site_strict() {
        let c = set_cookie(COOKIE, "abc", "/console", None, false);
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Path=/console"),
            "{c}"
        );
        assert!(!c.contains("Secure"));
        assert!(set_cookie(COOKIE, "abc", "/console", Some(0), true).contains("Secure"));
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("cookie", "a=1; lawbot_session=xyz; b=2".parse().unwrap());
        assert_eq!(cookie(&headers, COOKIE).as_deref(), Some("xyz"));
        assert_eq!(cookie(&headers, "c"), None);
    }
}
