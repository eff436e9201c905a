//! The outbox: every outgoing message is written here before anything is sent, and its attempts.

use rusqlite::{OptionalExtension, params};

use super::groups::from_row_at as group_from_row_at;
use super::{Group, Result, Store, StoreError, now_ms};

/// One message for one group, possibly in several numbered parts.
#[derive(Debug, Clone)]
pub struct Queued {
    pub group_id: i64,
    pub title: String,
    /// The parts, each within the platform's size limit, sent in order.
    pub parts: Vec<String>,
    /// A key that makes enqueueing idempotent (e.g. a group's weekly reminder).
    pub dedup_key: Option<String>,
}

/// A queued part waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: i64,
    pub group_id: i64,
    pub part: i64,
    pub parts: i64,
    pub title: String,
    pub content: String,
    pub attempts: i64,
}

/// What became of one send.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Sent,
    /// A passing failure (network, 5xx, throttled): try again after this many milliseconds.
    Retry {
        after_ms: i64,
        error: String,
        errcode: Option<i64>,
    },
    /// The platform refused this message for good (e.g. too long); the group is fine.
    Failed {
        error: String,
        errcode: Option<i64>,
    },
    /// The platform refused the robot's credentials: the group is broken, its queue waits.
    Broken {
        error: String,
        errcode: Option<i64>,
    },
}

/// How one group's copy of a broadcast is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub group: String,
    pub platform: String,
    /// `sent`, `queued`, `failed` or `broken` (the group's robot is refused).
    pub status: String,
    pub parts_sent: i64,
    pub parts: i64,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<i64>,
}

/// A broadcast in the list of recent ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BroadcastSummary {
    pub id: i64,
    /// `announcement`, `reminder`, …
    pub kind: String,
    pub title: String,
    pub created_at: i64,
    /// Groups it went to, and how many of them have every part.
    pub groups: i64,
    pub delivered: i64,
}

impl Store {
    /// Writes a broadcast and one queued message per group in one transaction; returns its id.
    pub fn enqueue_broadcast(
        &self,
        kind: &str,
        title: &str,
        body: &str,
        messages: &[Queued],
    ) -> Result<i64> {
        let mut db = self.lock();
        let tx = db.transaction()?;
        let now = now_ms();
        tx.execute(
            "INSERT INTO broadcasts (kind, title, body, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![kind, title, body, now],
        )?;
        let id = tx.last_insert_rowid();
        for message in messages {
            insert(&tx, Some(id), message, now)?;
        }
        tx.commit()?;
        Ok(id)
    }

    /// Queues one message; false if its dedup key was queued before (nothing is written then).
    pub fn enqueue(&self, message: &Queued) -> Result<bool> {
        let mut db = self.lock();
        let tx = db.transaction()?;
        let inserted = insert(&tx, None, message, now_ms())?;
        tx.commit()?;
        Ok(inserted)
    }

    /// For each working group, its oldest queued part if it is due: parts of a group go in order.
    pub fn due(&self, now: i64) -> Result<Vec<(OutboxItem, Group)>> {
        let db = self.lock();
        let mut statement = db.prepare(
            "SELECT o.id, o.group_id, o.part, o.parts, o.title, o.content, o.attempts, o.next_attempt_at,
                    g.id, g.name, g.platform, g.webhook_key, g.access_token, g.secret, g.reminder, g.status,
                    g.broken_reason, g.last_delivery_at, g.conversation_id
             FROM outbox o JOIN groups g ON g.id = o.group_id
             WHERE o.id IN (SELECT MIN(id) FROM outbox WHERE status = 'queued' GROUP BY group_id)
               AND g.status = 'ok'
             ORDER BY o.id",
        )?;
        let rows = statement.query_map([], |row| {
            let item = OutboxItem {
                id: row.get(0)?,
                group_id: row.get(1)?,
                part: row.get(2)?,
                parts: row.get(3)?,
                title: row.get(4)?,
                content: row.get(5)?,
                attempts: row.get(6)?,
            };
            let next: i64 = row.get(7)?;
            let group = group_from_row_at(row, 8)?;
            Ok((item, group, next))
        })?;
        let mut due = Vec::new();
        for row in rows {
            let (item, group, next) = row?;
            if next <= now {
                due.push((item, group));
            }
        }
        Ok(due)
    }

    /// The earliest time a queued part becomes due (to sleep until then), if any is queued.
    pub fn next_due_at(&self) -> Result<Option<i64>> {
        let db = self.lock();
        Ok(db.query_row(
            "SELECT MIN(o.next_attempt_at) FROM outbox o JOIN groups g ON g.id = o.group_id
             WHERE o.status = 'queued' AND g.status = 'ok'",
            [],
            |r| r.get(0),
        )?)
    }

    /// Sends to a group's robot in the window ending now (failed ones count: the platform saw them).
    pub fn attempts_since(&self, group_id: i64, since: i64) -> Result<i64> {
        let db = self.lock();
        Ok(db.query_row(
            "SELECT COUNT(*) FROM attempts WHERE group_id = ?1 AND at > ?2",
            params![group_id, since],
            |r| r.get(0),
        )?)
    }

    /// The oldest attempt of a group in the window, to know when it frees a slot.
    pub fn oldest_attempt_since(&self, group_id: i64, since: i64) -> Result<Option<i64>> {
        let db = self.lock();
        Ok(db
            .query_row(
                "SELECT MIN(at) FROM attempts WHERE group_id = ?1 AND at > ?2",
                params![group_id, since],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// Records a send attempt to its group before the request goes out, so that a crash right
    /// after cannot let the rate limit be exceeded after a restart.
    pub fn begin_attempt(&self, item: &OutboxItem, now: i64) -> Result<i64> {
        let db = self.lock();
        db.execute(
            "INSERT INTO attempts (outbox_id, group_id, at, result) VALUES (?1, ?2, ?3, 'in_flight')",
            params![item.id, item.group_id, now],
        )?;
        Ok(db.last_insert_rowid())
    }

    /// Records the outcome of an attempt, in one transaction with the message's new state.
    pub fn finish_attempt(
        &self,
        attempt: i64,
        item: &OutboxItem,
        now: i64,
        outcome: &Outcome,
    ) -> Result<()> {
        let mut db = self.lock();
        let tx = db.transaction()?;
        let (result, errcode, error) = match outcome {
            Outcome::Sent => ("sent", None, None),
            Outcome::Retry { errcode, error, .. } => ("retry", *errcode, Some(error.as_str())),
            Outcome::Failed { errcode, error } => ("failed", *errcode, Some(error.as_str())),
            Outcome::Broken { errcode, error } => ("broken", *errcode, Some(error.as_str())),
        };
        tx.execute(
            "UPDATE attempts SET result = ?2, errcode = ?3, message = ?4 WHERE id = ?1",
            params![attempt, result, errcode, error],
        )?;
        match outcome {
            Outcome::Sent => {
                tx.execute(
                    "UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?2, last_error = NULL
                     WHERE id = ?1",
                    params![item.id, now],
                )?;
                tx.execute(
                    "UPDATE groups SET last_delivery_at = ?2 WHERE id = ?1",
                    params![item.group_id, now],
                )?;
            }
            Outcome::Retry {
                after_ms, error, ..
            } => {
                tx.execute(
                    "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3 WHERE id = ?1",
                    params![item.id, now + after_ms, error],
                )?;
            }
            Outcome::Failed { error, .. } => {
                tx.execute(
                    "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
                    params![item.id, error],
                )?;
            }
            Outcome::Broken { error, .. } => {
                tx.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
                    params![item.id, error],
                )?;
                tx.execute(
                    "UPDATE groups SET status = 'broken', broken_reason = ?2 WHERE id = ?1",
                    params![item.group_id, error],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Attempts still marked in flight (a crash happened during them) count as sent for the rate
    /// limit but say nothing of the outcome; the message stays queued and is sent again.
    pub fn abandon_in_flight(&self) -> Result<usize> {
        Ok(self.lock().execute(
            "UPDATE attempts SET result = 'interrupted' WHERE result = 'in_flight'",
            [],
        )?)
    }

    /// Parts waiting to be sent, over all groups.
    pub fn backlog(&self) -> Result<i64> {
        Ok(self.lock().query_row(
            "SELECT COUNT(*) FROM outbox WHERE status = 'queued'",
            [],
            |r| r.get(0),
        )?)
    }

    /// The latest broadcasts, newest first: id, title, when, and groups delivered of all.
    pub fn recent_broadcasts(&self, limit: usize) -> Result<Vec<BroadcastSummary>> {
        let db = self.lock();
        let mut statement = db.prepare(
            "SELECT b.id, b.kind, b.title, b.created_at,
                    COUNT(DISTINCT o.group_id),
                    COUNT(DISTINCT o.group_id) - COUNT(DISTINCT CASE WHEN o.status != 'sent' THEN o.group_id END)
             FROM broadcasts b LEFT JOIN outbox o ON o.broadcast_id = b.id
             GROUP BY b.id ORDER BY b.id DESC LIMIT ?1",
        )?;
        let rows = statement.query_map([limit as i64], |row| {
            Ok(BroadcastSummary {
                id: row.get(0)?,
                kind: row.get(1)?,
                title: row.get(2)?,
                created_at: row.get(3)?,
                groups: row.get(4)?,
                delivered: row.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The delivery report of a broadcast, one line per group.
    pub fn broadcast_report(&self, broadcast: i64) -> Result<Vec<Delivery>> {
        let db = self.lock();
        let exists: Option<i64> = db
            .query_row(
                "SELECT id FROM broadcasts WHERE id = ?1",
                [broadcast],
                |r| r.get(0),
            )
            .optional()?;
        if exists.is_none() {
            return Err(StoreError::NotFound(format!("no broadcast {broadcast}")));
        }
        let mut statement = db.prepare(
            "SELECT g.name, g.platform, g.status,
                    SUM(o.status = 'sent'), COUNT(*), SUM(o.status = 'failed'), SUM(o.attempts),
                    MAX(o.sent_at),
                    (SELECT last_error FROM outbox WHERE broadcast_id = ?1 AND group_id = g.id
                       AND last_error IS NOT NULL ORDER BY id DESC LIMIT 1)
             FROM outbox o JOIN groups g ON g.id = o.group_id
             WHERE o.broadcast_id = ?1 GROUP BY g.id ORDER BY g.name",
        )?;
        let rows = statement.query_map([broadcast], |row| {
            let group_status: String = row.get(2)?;
            let (sent, parts, failed): (i64, i64, i64) = (row.get(3)?, row.get(4)?, row.get(5)?);
            let status = if sent == parts {
                "sent"
            } else if failed > 0 {
                "failed"
            } else if group_status == "broken" {
                "broken"
            } else {
                "queued"
            };
            Ok(Delivery {
                group: row.get(0)?,
                platform: row.get(1)?,
                status: status.to_string(),
                parts_sent: sent,
                parts,
                attempts: row.get(6)?,
                last_error: row.get(8)?,
                sent_at: if sent == parts { row.get(7)? } else { None },
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

pub(super) fn insert(
    tx: &rusqlite::Transaction,
    broadcast: Option<i64>,
    message: &Queued,
    now: i64,
) -> Result<bool> {
    let parts = message.parts.len() as i64;
    if parts == 0 {
        return Err(StoreError::Invalid(
            "a message needs at least one part".into(),
        ));
    }
    for (i, content) in message.parts.iter().enumerate() {
        let key = message.dedup_key.as_ref().map(|k| format!("{k}#{}", i + 1));
        let inserted = tx.execute(
            "INSERT INTO outbox (broadcast_id, group_id, part, parts, title, content, next_attempt_at, dedup_key, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?7) ON CONFLICT (dedup_key) DO NOTHING",
            params![broadcast, message.group_id, i as i64 + 1, parts, message.title, content, now, key],
        )?;
        if inserted == 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewGroup, Robot};

    fn store_with(names: &[&str]) -> (Store, Vec<Group>) {
        let store = Store::in_memory().unwrap();
        let groups = names
            .iter()
            .map(|n| {
                store
                    .add_group(&NewGroup {
                        name: n.to_string(),
                        robot: Robot::Wecom {
                            webhook_key: format!("key-{n}"),
                        },
                    })
                    .unwrap()
            })
            .collect();
        (store, groups)
    }

    fn message(group: &Group, parts: &[&str]) -> Queued {
        Queued {
            group_id: group.id,
            title: "通知".into(),
            parts: parts.iter().map(|p| p.to_string()).collect(),
            dedup_key: None,
        }
    }

    #[test]
    fn parts_of_a_group_go_out_one_at_a_time_in_order() {
        let (store, groups) = store_with(&["a", "b"]);
        let id = store
            .enqueue_broadcast(
                "announcement",
                "通知",
                "x",
                &[
                    message(&groups[0], &["1", "2"]),
                    message(&groups[1], &["x"]),
                ],
            )
            .unwrap();
        let due = store.due(now_ms()).unwrap();
        let contents: Vec<&str> = due.iter().map(|(i, _)| i.content.as_str()).collect();
        assert_eq!(contents, ["1", "x"]);
        let (first, _) = &due[0];
        let attempt = store.begin_attempt(first, now_ms()).unwrap();
        store
            .finish_attempt(attempt, first, now_ms(), &Outcome::Sent)
            .unwrap();
        let due = store.due(now_ms()).unwrap();
        assert_eq!(
            due.iter()
                .map(|(i, _)| i.content.as_str())
                .collect::<Vec<_>>(),
            ["2", "x"]
        );
        let report = store.broadcast_report(id).unwrap();
        assert_eq!(
            (
                report[0].parts_sent,
                report[0].parts,
                report[0].status.as_str()
            ),
            (1, 2, "queued")
        );
    }

    #[test]
    fn recent_broadcasts_count_the_groups_with_every_part_sent() {
        let (store, groups) = store_with(&["a", "b"]);
        assert!(store.recent_broadcasts(10).unwrap().is_empty());
        let first = store
            .enqueue_broadcast("announcement", "一", "x", &[message(&groups[0], &["1"])])
            .unwrap();
        let second = store
            .enqueue_broadcast(
                "announcement",
                "二",
                "x",
                &[
                    message(&groups[0], &["1", "2"]),
                    message(&groups[1], &["1"]),
                ],
            )
            .unwrap();
        for (item, _) in store.due(now_ms()).unwrap() {
            let attempt = store.begin_attempt(&item, now_ms()).unwrap();
            store
                .finish_attempt(attempt, &item, now_ms(), &Outcome::Sent)
                .unwrap();
        }
        let recent = store.recent_broadcasts(10).unwrap();
        let summary: Vec<(i64, &str, i64, i64)> = recent
            .iter()
            .map(|b| (b.id, b.title.as_str(), b.groups, b.delivered))
            .collect();
        // Newest first; in the second, group a waits for its turn (one message at a time per group).
        assert_eq!(summary, [(second, "二", 2, 1), (first, "一", 1, 1)]);
        assert_eq!(store.recent_broadcasts(1).unwrap().len(), 1);
    }

    #[test]
    fn retries_wait_and_broken_groups_stop() {
        let (store, groups) = store_with(&["a"]);
        store.enqueue(&message(&groups[0], &["hello"])).unwrap();
        let now = now_ms();
        let (item, _) = store.due(now).unwrap().remove(0);
        let retry = Outcome::Retry {
            after_ms: 60_000,
            error: "45009".into(),
            errcode: Some(45009),
        };
        let attempt = store.begin_attempt(&item, now).unwrap();
        store.finish_attempt(attempt, &item, now, &retry).unwrap();
        assert!(store.due(now).unwrap().is_empty());
        assert_eq!(store.next_due_at().unwrap(), Some(now + 60_000));
        assert_eq!(store.due(now + 60_000).unwrap().len(), 1);
        let attempt = store.begin_attempt(&item, now).unwrap();
        let broken = Outcome::Broken {
            error: "93000 invalid webhook key".into(),
            errcode: Some(93000),
        };
        store.finish_attempt(attempt, &item, now, &broken).unwrap();
        assert!(store.due(now + 120_000).unwrap().is_empty());
        assert_eq!(
            store.group("a").unwrap().status,
            crate::store::GroupStatus::Broken
        );
        assert_eq!(
            store.backlog().unwrap(),
            1,
            "nothing is lost: the message waits for the group to be fixed"
        );
        assert_eq!(store.attempts_since(groups[0].id, now - 1).unwrap(), 2);
    }

    #[test]
    fn a_dedup_key_queues_once() {
        let (store, groups) = store_with(&["a"]);
        let mut m = message(&groups[0], &["周提醒"]);
        m.dedup_key = Some("reminder:1:2026-W48".into());
        assert!(store.enqueue(&m).unwrap());
        assert!(!store.enqueue(&m).unwrap());
        assert_eq!(store.backlog().unwrap(), 1);
    }
}
