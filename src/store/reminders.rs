//! Which week's reminder each group has had (sent or skipped), so that a restart never sends twice.

use rusqlite::{OptionalExtension, params};

use super::outbox::insert;
use super::{Queued, Result, Store, now_ms};

impl Store {
    /// The latest week recorded for a group (`2026-W48`), sent or skipped.
    pub fn last_reminder_week(&self, group_id: i64) -> Result<Option<String>> {
        let db = self.lock();
        Ok(db
            .query_row(
                "SELECT MAX(week) FROM reminders WHERE group_id = ?1",
                [group_id],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// Records a group's reminder for a week and, when it is sent, queues it — in one transaction,
    /// so a crash leaves either both or neither. False if the week was recorded before.
    pub fn record_reminder(
        &self,
        group_id: i64,
        week: &str,
        message: Option<&Queued>,
    ) -> Result<bool> {
        let mut db = self.lock();
        let tx = db.transaction()?;
        let outcome = if message.is_some() { "sent" } else { "skipped" };
        let recorded = tx.execute(
            "INSERT INTO reminders (group_id, week, outcome, at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (group_id, week) DO NOTHING",
            params![group_id, week, outcome, now_ms()],
        )?;
        if recorded == 0 {
            return Ok(false);
        }
        if let Some(message) = message {
            insert(&tx, None, message, now_ms())?;
        }
        tx.commit()?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{NewGroup, Queued, Robot, Store};

    #[test]
    fn a_week_is_recorded_once_with_its_message() {
        let store = Store::in_memory().unwrap();
        let g = store
            .add_group(&NewGroup {
                name: "a".into(),
                robot: Robot::Wecom {
                    webhook_key: "k".into(),
                },
            })
            .unwrap();
        let message = Queued {
            group_id: g.id,
            title: "每周一条".into(),
            parts: vec!["x".into()],
            dedup_key: None,
        };
        assert_eq!(store.last_reminder_week(g.id).unwrap(), None);
        assert!(
            store
                .record_reminder(g.id, "2026-W48", Some(&message))
                .unwrap()
        );
        assert!(
            !store
                .record_reminder(g.id, "2026-W48", Some(&message))
                .unwrap()
        );
        assert!(store.record_reminder(g.id, "2026-W49", None).unwrap());
        assert_eq!(
            store.last_reminder_week(g.id).unwrap().as_deref(),
            Some("2026-W49")
        );
        assert_eq!(
            store.backlog().unwrap(),
            1,
            "one message for the sent week, none for the skipped one"
        );
    }
}
