//! The question log, privacy first: when, where, which clauses — never who asked.

use rusqlite::params;

use super::{Result, Store, now_ms};

/// One answered question as logged. The text is kept only when no clause matched, so that the
/// bureau can widen the lexicon.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedQuestion {
    pub platform: String,
    /// The group (chat or conversation id), not the person.
    pub conversation: Option<String>,
    pub intent: String,
    /// Matched clause ids, comma separated, best first.
    pub clauses: String,
    pub score: Option<f64>,
    pub question: Option<String>,
}

/// What `lawbot stats` shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stats {
    /// (clause id, times it came first)
    pub by_clause: Vec<(String, i64)>,
    /// (ISO week, questions)
    pub by_week: Vec<(String, i64)>,
    /// Recent questions no clause matched.
    pub not_covered: Vec<String>,
    pub total: i64,
}

impl Store {
    /// Logs questions in one transaction.
    pub fn log_questions(&self, questions: &[LoggedQuestion]) -> Result<()> {
        let mut db = self.lock();
        let tx = db.transaction()?;
        let now = now_ms();
        for q in questions {
            tx.execute(
                "INSERT INTO questions (at, platform, conversation, intent, clauses, score, question)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![now, q.platform, q.conversation, q.intent, q.clauses, q.score, q.question],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Deletes entries older than the retention period; returns how many.
    pub fn expire_questions(&self, older_than_ms: i64) -> Result<usize> {
        Ok(self
            .lock()
            .execute("DELETE FROM questions WHERE at < ?1", [older_than_ms])?)
    }

    /// Questions per clause (the first match) and per week since `since`, and recent uncovered ones.
    pub fn stats(&self, since: i64, week_of: impl Fn(i64) -> String) -> Result<Stats> {
        let db = self.lock();
        let mut stats = Stats::default();
        let mut by_clause = db.prepare(
            "SELECT CASE WHEN instr(clauses, ',') > 0 THEN substr(clauses, 1, instr(clauses, ',') - 1) ELSE clauses END
                    AS first, COUNT(*) FROM questions
             WHERE at >= ?1 AND clauses != '' GROUP BY first ORDER BY COUNT(*) DESC, first",
        )?;
        stats.by_clause = by_clause
            .query_map([since], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut times = db.prepare("SELECT at FROM questions WHERE at >= ?1 ORDER BY at")?;
        for at in times.query_map([since], |r| r.get::<_, i64>(0))? {
            let week = week_of(at?);
            match stats.by_week.last_mut() {
                Some((w, n)) if *w == week => *n += 1,
                _ => stats.by_week.push((week, 1)),
            }
            stats.total += 1;
        }
        let mut uncovered = db.prepare(
            "SELECT question FROM questions WHERE at >= ?1 AND intent = 'not_covered' AND question IS NOT NULL
             ORDER BY at DESC LIMIT 50",
        )?;
        stats.not_covered = uncovered
            .query_map([since], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(intent: &str, clauses: &str, text: Option<&str>) -> LoggedQuestion {
        LoggedQuestion {
            platform: "wecom".into(),
            conversation: Some("chat1".into()),
            intent: intent.into(),
            clauses: clauses.into(),
            score: Some(5.0),
            question: text.map(str::to_string),
        }
    }

    #[test]
    fn stats_count_first_clauses_weeks_and_uncovered_questions() {
        let store = Store::in_memory().unwrap();
        store
            .log_questions(&[q("clauses", "12.15,10", None)])
            .unwrap();
        store.log_questions(&[q("clauses", "12.15", None)]).unwrap();
        store
            .log_questions(&[q("clauses", "12.23,11", None)])
            .unwrap();
        store
            .log_questions(&[q("not_covered", "", Some("律师证丢了怎么办"))])
            .unwrap();
        let stats = store.stats(0, |_| "2026-W48".into()).unwrap();
        assert_eq!(
            stats.by_clause,
            vec![("12.15".to_string(), 2), ("12.23".to_string(), 1)]
        );
        assert_eq!(stats.by_week, vec![("2026-W48".to_string(), 4)]);
        assert_eq!(stats.not_covered, vec!["律师证丢了怎么办".to_string()]);
        assert_eq!(store.expire_questions(now_ms() + 1).unwrap(), 4);
    }
}
