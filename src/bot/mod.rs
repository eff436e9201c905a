//! The platform-neutral bot: a group message in, the reply out, each message answered once.

mod dedup;
mod format;
mod rate_limit;

pub use dedup::Dedup;
pub use format::{Markup, fit, to_markup};
pub use rate_limit::RateLimiter;

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jiff::civil::Date;

use crate::engine::{Answer, Engine};
use crate::reply;
use crate::store::{LoggedQuestion, Store};

/// The platform a message came from; it decides the markdown dialect and size limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    Wecom,
    Dingtalk,
}

/// What a group member sent, stripped of platform details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// A text message, with the @mention still in it.
    Text(String),
    /// A picture, voice message, file or anything else that is not text.
    NotText,
}

impl Content {
    /// The text parts of a mixed message (text with pictures), joined; not text if there are none.
    pub fn from_parts<'a>(parts: impl IntoIterator<Item = &'a str>) -> Self {
        let parts: Vec<&str> = parts.into_iter().collect();
        if parts.is_empty() {
            Content::NotText
        } else {
            Content::Text(parts.join(" "))
        }
    }
}

/// One inbound message. The sender is used for the rate limit only and is never stored.
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    pub platform: Platform,
    pub message_id: &'a str,
    /// The group (or 1:1 chat) it was sent in; logged with the question, unlike the sender.
    pub conversation: &'a str,
    pub sender: &'a str,
    pub content: Content,
}

/// The bot's reply, rendered for the message's platform.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// Markdown in the platform's dialect, within its size limit.
    pub markdown: String,
    /// The engine's answer, when the message was a question.
    pub answer: Option<Answer>,
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Reply(Reply),
    /// The platform delivered this message id before: it was answered then.
    Duplicate,
}

/// Where the current time and date come from (injected so tests can pin them).
pub trait Clock: Send + Sync {
    /// A monotonic instant, for windows and limits.
    fn now(&self) -> Instant;
    /// Today's date in China, for the validity notice.
    fn today(&self) -> Date;
    /// Wall-clock milliseconds since the Unix epoch, for platform timestamps.
    fn unix_ms(&self) -> i64;
}

/// The machine's clock, with the date taken in China (UTC+8).
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn today(&self) -> Date {
        let offset = jiff::tz::TimeZone::fixed(jiff::tz::offset(8));
        jiff::Timestamp::now().to_zoned(offset).date()
    }

    fn unix_ms(&self) -> i64 {
        jiff::Timestamp::now().as_millisecond()
    }
}

pub const NOT_TEXT: &str = "请用文字发送你的问题，例如：法官的爱人请我吃饭，能去吗？";
pub const SLOW_DOWN: &str = "提问有点频繁了，请稍等一分钟再问。发送「帮助」查看用法。";

/// The engine plus what a chat needs around it: de-duplication and a per-sender rate limit.
pub struct Bot {
    /// The engine answers come from; replaced when a new version of the regulation takes effect.
    engine: RwLock<Arc<Engine>>,
    dedup: Dedup,
    limiter: RateLimiter,
    clock: Arc<dyn Clock>,
    log: Option<Arc<dyn QuestionSink>>,
}

impl Bot {
    pub fn new(
        engine: Arc<Engine>,
        dedup_window: Duration,
        questions_per_minute: u32,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Bot {
            engine: RwLock::new(engine),
            dedup: Dedup::new(dedup_window),
            limiter: RateLimiter::new(questions_per_minute),
            clock,
            log: None,
        }
    }

    /// Logs every answered question in `sink` (time, platform, group, clauses, score; never who).
    pub fn with_question_log(mut self, sink: Arc<dyn QuestionSink>) -> Self {
        self.log = Some(sink);
        self
    }

    /// The engine in use now.
    pub fn engine(&self) -> Arc<Engine> {
        self.engine
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Answers from `engine` from now on (a new version of the regulation took effect).
    pub fn set_engine(&self, engine: Arc<Engine>) {
        *self.engine.write().unwrap_or_else(|e| e.into_inner()) = engine;
    }

    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// Handles one message: a duplicate is dropped; anything else gets exactly one reply.
    pub fn handle(&self, message: &Incoming) -> Outcome {
        let now = self.clock.now();
        if !self
            .dedup
            .first_time(message.platform, message.message_id, now)
        {
            return Outcome::Duplicate;
        }
        let markup = Markup::of(message.platform);
        let plain = |text: &str| Reply {
            markdown: fit(&to_markup(text, markup), markup),
            answer: None,
        };
        let question = match &message.content {
            Content::Text(text) => text,
            Content::NotText => return Outcome::Reply(plain(NOT_TEXT)),
        };
        if !self.limiter.allow(message.platform, message.sender, now) {
            return Outcome::Reply(plain(SLOW_DOWN));
        }
        let started = std::time::Instant::now();
        let engine = self.engine();
        let answer = engine.answer(question);
        self.log(message, question, &answer);
        let text = reply::render(&engine, &answer, self.clock.today());
        crate::metrics::metrics().question(&answer, started.elapsed());
        Outcome::Reply(Reply {
            markdown: fit(&to_markup(&text, markup), markup),
            answer: Some(answer),
        })
    }
}

impl Bot {
    fn log(&self, message: &Incoming, question: &str, answer: &Answer) {
        let Some(sink) = &self.log else { return };
        let intent = serde_json::to_value(answer.intent)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string));
        let entry = LoggedQuestion {
            platform: match message.platform {
                Platform::Wecom => "wecom".into(),
                Platform::Dingtalk => "dingtalk".into(),
            },
            conversation: Some(message.conversation.to_string()).filter(|c| !c.is_empty()),
            intent: intent.unwrap_or_default(),
            clauses: answer
                .matches
                .iter()
                .map(|m| m.id.to_string())
                .collect::<Vec<_>>()
                .join(","),
            score: answer.matches.first().map(|m| f64::from(m.score)),
            // The text only when nothing matched: what the bureau needs to widen the lexicon.
            question: (answer.intent == crate::Intent::NotCovered)
                .then(|| question.trim().to_string()),
        };
        sink.record(entry);
    }
}

/// Where answered questions are logged.
pub trait QuestionSink: Send + Sync {
    fn record(&self, question: LoggedQuestion);
}

/// Straight into the database (tests, the command line).
impl QuestionSink for Store {
    fn record(&self, question: LoggedQuestion) {
        if let Err(e) = self.log_questions(&[question]) {
            tracing::warn!(error = %e, "cannot log a question");
        }
    }
}

/// Questions waiting to be written; past this a flood's questions go unlogged rather than fill memory.
const LOG_QUEUE: usize = 10_000;

/// Off the answer path: questions are queued in memory and written in batches by [`BatchedLog::run`].
pub struct BatchedLog {
    queue: tokio::sync::mpsc::Sender<LoggedQuestion>,
}

impl BatchedLog {
    /// The sink, and the receiver its writer task drains.
    pub fn new() -> (Self, tokio::sync::mpsc::Receiver<LoggedQuestion>) {
        let (queue, receiver) = tokio::sync::mpsc::channel(LOG_QUEUE);
        (BatchedLog { queue }, receiver)
    }

    /// Writes queued questions, up to a thousand in one transaction, until the senders are gone.
    pub async fn run(store: Arc<Store>, mut receiver: tokio::sync::mpsc::Receiver<LoggedQuestion>) {
        let mut batch = Vec::new();
        while receiver.recv_many(&mut batch, 1000).await > 0 {
            if let Err(e) = store.log_questions(&batch) {
                tracing::warn!(error = %e, lost = batch.len(), "cannot log questions");
            }
            batch.clear();
        }
    }
}

impl QuestionSink for BatchedLog {
    fn record(&self, question: LoggedQuestion) {
        if self.queue.try_send(question).is_err() {
            tracing::debug!("question log queue full; a question went unlogged");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct FixedClock(Mutex<Instant>);

    impl Clock for FixedClock {
        fn now(&self) -> Instant {
            *self.0.lock().unwrap()
        }
        fn today(&self) -> Date {
            jiff::civil::date(2026, 1, 10)
        }
        fn unix_ms(&self) -> i64 {
            1_767_000_000_000
        }
    }

    fn bot(per_minute: u32) -> (Bot, Arc<FixedClock>) {
        let clock = Arc::new(FixedClock(Mutex::new(Instant::now())));
        let engine = Arc::new(Engine::builtin().unwrap());
        (
            Bot::new(engine, Duration::from_secs(3600), per_minute, clock.clone()),
            clock,
        )
    }

    fn text<'a>(id: &'a str, sender: &'a str, q: &str) -> Incoming<'a> {
        Incoming {
            platform: Platform::Wecom,
            message_id: id,
            conversation: "chat",
            sender,
            content: Content::Text(q.into()),
        }
    }

    #[test]
    fn questions_are_logged_without_the_sender() {
        let (bot, _) = bot(10);
        let store = Arc::new(Store::in_memory().unwrap());
        let bot = bot.with_question_log(store.clone());
        bot.handle(&text("q1", "zhangsan", "承办法官想借我的车开两天"));
        bot.handle(&text("q2", "zhangsan", "律师证丢了怎么补办"));
        let stats = store.stats(0, |_| "w".into()).unwrap();
        assert_eq!(stats.by_clause[0].0, "12.23");
        assert_eq!(stats.not_covered, vec!["律师证丢了怎么补办".to_string()]);
        let dump: String = store.lock().query_row(
            "SELECT group_concat(coalesce(conversation,'') || platform || coalesce(question,''), '|') FROM questions",
            [],
            |r| r.get(0),
        ).unwrap();
        assert!(!dump.contains("zhangsan"), "{dump}");
    }

    #[test]
    fn answers_once_per_message_id() {
        let (bot, _) = bot(10);
        let first = bot.handle(&text("m1", "u", "@律规助手 法官老婆请我吃饭能去吗"));
        let Outcome::Reply(reply) = first else {
            panic!("expected a reply")
        };
        assert_eq!(reply.answer.unwrap().matches[0].id.to_string(), "12.28");
        assert_eq!(
            bot.handle(&text("m1", "u", "@律规助手 法官老婆请我吃饭能去吗")),
            Outcome::Duplicate
        );
        let other_platform = Incoming {
            platform: Platform::Dingtalk,
            ..text("m1", "u", "第十条")
        };
        assert!(matches!(bot.handle(&other_platform), Outcome::Reply(_)));
    }

    #[test]
    fn non_text_gets_a_request_for_text_and_a_bare_mention_the_help() {
        let (bot, _) = bot(10);
        let picture = Incoming {
            content: Content::NotText,
            ..text("p", "u", "")
        };
        let Outcome::Reply(reply) = bot.handle(&picture) else {
            panic!()
        };
        assert!(
            reply.markdown.contains("请用文字发送"),
            "{}",
            reply.markdown
        );
        let Outcome::Reply(reply) = bot.handle(&text("h", "u", "@律规助手")) else {
            panic!()
        };
        assert!(reply.markdown.contains("律规助手"), "{}", reply.markdown);
        assert_eq!(reply.answer.unwrap().intent, crate::Intent::Help);
    }

    #[test]
    fn a_sender_over_the_limit_is_asked_to_wait_then_answered_again() {
        let (bot, clock) = bot(2);
        for id in ["a", "b"] {
            let Outcome::Reply(r) = bot.handle(&text(id, "u1", "第十条")) else {
                panic!()
            };
            assert!(r.answer.is_some());
        }
        let Outcome::Reply(r) = bot.handle(&text("c", "u1", "第十条")) else {
            panic!()
        };
        assert!(
            r.answer.is_none() && r.markdown.contains("稍等"),
            "{}",
            r.markdown
        );
        let Outcome::Reply(r) = bot.handle(&text("d", "u2", "第十条")) else {
            panic!()
        };
        assert!(r.answer.is_some(), "another sender is not limited");
        *clock.0.lock().unwrap() += Duration::from_secs(61);
        let Outcome::Reply(r) = bot.handle(&text("e", "u1", "第十条")) else {
            panic!()
        };
        assert!(r.answer.is_some(), "the limit lifts after a minute");
    }
}
