//! Registered groups: which robot reaches each group, and whether it still works.

use rusqlite::{OptionalExtension, Row, params};

use super::{Result, Store, StoreError, now_ms};

/// How the bot reaches a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Robot {
    /// A WeCom group robot (群机器人), by its webhook key.
    Wecom { webhook_key: String },
    /// A DingTalk custom robot (自定义机器人), by its access token and signing secret.
    Dingtalk {
        access_token: String,
        secret: String,
    },
    /// A group the DingTalk app robot is in, by its openConversationId (sent as the app).
    DingtalkApp { conversation_id: String },
}

impl Robot {
    pub fn platform(&self) -> &'static str {
        match self {
            Robot::Wecom { .. } => "wecom",
            Robot::Dingtalk { .. } | Robot::DingtalkApp { .. } => "dingtalk",
        }
    }

    /// The credentials as they may be shown: the first four characters and the length.
    pub fn masked(&self) -> String {
        match self {
            Robot::Wecom { webhook_key } => format!("key {}", mask(webhook_key)),
            Robot::Dingtalk {
                access_token,
                secret,
            } => {
                format!("token {} secret {}", mask(access_token), mask(secret))
            }
            Robot::DingtalkApp { conversation_id } => {
                format!("app robot, conversation {}", mask(conversation_id))
            }
        }
    }
}

/// `abcd…(36)`: enough to tell keys apart, not enough to use one.
pub fn mask(secret: &str) -> String {
    let length = secret.chars().count();
    // A short secret shows nothing of itself.
    let head: String = if length > 8 {
        secret.chars().take(4).collect()
    } else {
        String::new()
    };
    format!("{head}…({length})")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupStatus {
    Ok,
    /// The platform refused the robot's credentials for good; deliveries stop until fixed.
    Broken,
}

/// A registered group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub robot: Robot,
    /// `default`, `off`, or a schedule such as `mon 09:00`.
    pub reminder: String,
    pub status: GroupStatus,
    pub broken_reason: Option<String>,
    pub last_delivery_at: Option<i64>,
}

/// A group to register.
#[derive(Debug, Clone)]
pub struct NewGroup {
    pub name: String,
    pub robot: Robot,
}

const COLUMNS: &str = "id, name, platform, webhook_key, access_token, secret, reminder, status, broken_reason, last_delivery_at, conversation_id";

pub(super) fn from_row(row: &Row) -> rusqlite::Result<Group> {
    from_row_at(row, 0)
}

/// A group read from the columns of `COLUMNS`, starting at `at` (for joins).
pub(super) fn from_row_at(row: &Row, at: usize) -> rusqlite::Result<Group> {
    let platform: String = row.get(at + 2)?;
    let text = |i: usize| -> rusqlite::Result<String> {
        Ok(row.get::<_, Option<String>>(at + i)?.unwrap_or_default())
    };
    let conversation: Option<String> = row.get(at + 10)?;
    let robot = match (platform.as_str(), conversation) {
        ("wecom", _) => Robot::Wecom {
            webhook_key: text(3)?,
        },
        (_, Some(conversation_id)) => Robot::DingtalkApp { conversation_id },
        _ => Robot::Dingtalk {
            access_token: text(4)?,
            secret: text(5)?,
        },
    };
    let status: String = row.get(at + 7)?;
    Ok(Group {
        id: row.get(at)?,
        name: row.get(at + 1)?,
        robot,
        reminder: row.get(at + 6)?,
        status: if status == "broken" {
            GroupStatus::Broken
        } else {
            GroupStatus::Ok
        },
        broken_reason: row.get(at + 8)?,
        last_delivery_at: row.get(at + 9)?,
    })
}

type Columns<'a> = (
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
);

/// The name, and the robot as its columns (webhook key, access token, secret, conversation id),
/// with nothing empty.
fn checked(group: &NewGroup) -> Result<(&str, Columns<'_>)> {
    let name = group.name.trim();
    if name.is_empty() {
        return Err(StoreError::Invalid("a group needs a name".into()));
    }
    let columns = match &group.robot {
        Robot::Wecom { webhook_key } => (Some(webhook_key.as_str()), None, None, None),
        Robot::Dingtalk {
            access_token,
            secret,
        } => (
            None,
            Some(access_token.as_str()),
            Some(secret.as_str()),
            None,
        ),
        Robot::DingtalkApp { conversation_id } => {
            (None, None, None, Some(conversation_id.as_str()))
        }
    };
    let (key, token, secret, conversation) = columns;
    if [key, token, secret, conversation]
        .iter()
        .flatten()
        .any(|v| v.trim().is_empty())
    {
        return Err(StoreError::Invalid(
            "the robot's key, token and secret must not be empty".into(),
        ));
    }
    Ok((name, columns))
}

/// Refuses a robot another group (other than `except`) is registered with: two groups on one
/// robot would share its 20-a-minute limit behind the worker's back.
fn robot_free(db: &rusqlite::Connection, columns: Columns, except: Option<i64>) -> Result<()> {
    let (key, token, _, conversation) = columns;
    let same_robot: Option<String> = db
        .query_row(
            "SELECT name FROM groups WHERE id IS NOT ?4 AND ((?1 IS NOT NULL AND webhook_key = ?1)
                OR (?2 IS NOT NULL AND access_token = ?2) OR (?3 IS NOT NULL AND conversation_id = ?3))",
            params![key, token, conversation, except],
            |r| r.get(0),
        )
        .optional()?;
    match same_robot {
        Some(other) => Err(StoreError::Invalid(format!(
            "this robot is registered already, as group `{other}`"
        ))),
        None => Ok(()),
    }
}

impl Store {
    /// Registers a group; names are unique and credentials must not be empty.
    pub fn add_group(&self, group: &NewGroup) -> Result<Group> {
        let (name, columns) = checked(group)?;
        let (key, token, secret, conversation) = columns;
        let db = self.lock();
        robot_free(&db, (key, token, secret, conversation), None)?;
        let inserted = db.execute(
            "INSERT INTO groups (name, platform, webhook_key, access_token, secret, conversation_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (name) DO NOTHING",
            params![name, group.robot.platform(), key, token, secret, conversation, now_ms()],
        )?;
        if inserted == 0 {
            return Err(StoreError::Invalid(format!(
                "a group named `{name}` exists already"
            )));
        }
        let id = db.last_insert_rowid();
        drop(db);
        self.group_by_id(id)
    }

    /// Every group, in the order they were registered.
    pub fn groups(&self) -> Result<Vec<Group>> {
        let db = self.lock();
        let mut statement = db.prepare(&format!("SELECT {COLUMNS} FROM groups ORDER BY id"))?;
        let groups = statement
            .query_map([], from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(groups)
    }

    pub fn group(&self, name: &str) -> Result<Group> {
        let db = self.lock();
        db.query_row(
            &format!("SELECT {COLUMNS} FROM groups WHERE name = ?1"),
            [name],
            from_row,
        )
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("no group named `{name}`")))
    }

    pub fn group_by_id(&self, id: i64) -> Result<Group> {
        let db = self.lock();
        db.query_row(
            &format!("SELECT {COLUMNS} FROM groups WHERE id = ?1"),
            [id],
            from_row,
        )
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("no group with id {id}")))
    }

    /// Removes a group and what is still queued for it.
    pub fn remove_group(&self, name: &str) -> Result<()> {
        let removed = self
            .lock()
            .execute("DELETE FROM groups WHERE name = ?1", [name])?;
        if removed == 0 {
            return Err(StoreError::NotFound(format!("no group named `{name}`")));
        }
        Ok(())
    }

    /// Sets a group's reminder: `default`, `off` or a schedule (checked by the caller).
    pub fn set_reminder(&self, name: &str, setting: &str) -> Result<()> {
        let changed = self.lock().execute(
            "UPDATE groups SET reminder = ?2 WHERE name = ?1",
            params![name, setting],
        )?;
        if changed == 0 {
            return Err(StoreError::NotFound(format!("no group named `{name}`")));
        }
        Ok(())
    }

    /// Renames a group or gives it new credentials. New credentials mark it working again: it was
    /// broken because the platform refused the old ones.
    pub fn update_group(&self, id: i64, group: &NewGroup) -> Result<Group> {
        let before = self.group_by_id(id)?;
        let (name, (key, token, secret, conversation)) = checked(group)?;
        let db = self.lock();
        robot_free(&db, (key, token, secret, conversation), Some(id))?;
        let taken: Option<i64> = db
            .query_row(
                "SELECT id FROM groups WHERE name = ?1 AND id != ?2",
                params![name, id],
                |r| r.get(0),
            )
            .optional()?;
        if taken.is_some() {
            return Err(StoreError::Invalid(format!(
                "a group named `{name}` exists already"
            )));
        }
        let new_robot = before.robot != group.robot;
        db.execute(
            "UPDATE groups SET name = ?2, platform = ?3, webhook_key = ?4, access_token = ?5,
                secret = ?6, conversation_id = ?7,
                status = CASE WHEN ?8 THEN 'ok' ELSE status END,
                broken_reason = CASE WHEN ?8 THEN NULL ELSE broken_reason END
             WHERE id = ?1",
            params![
                id,
                name,
                group.robot.platform(),
                key,
                token,
                secret,
                conversation,
                new_robot
            ],
        )?;
        drop(db);
        self.group_by_id(id)
    }

    /// Marks a group working again (after its credentials were fixed and a test succeeded).
    pub fn mark_ok(&self, id: i64) -> Result<()> {
        self.lock().execute(
            "UPDATE groups SET status = 'ok', broken_reason = NULL WHERE id = ?1",
            [id],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wecom(name: &str) -> NewGroup {
        NewGroup {
            name: name.into(),
            robot: Robot::Wecom {
                webhook_key: "0123456789abcdef".into(),
            },
        }
    }

    #[test]
    fn groups_are_added_listed_and_removed_by_name() {
        let store = Store::in_memory().unwrap();
        let a = store.add_group(&wecom("甲律所")).unwrap();
        let b = store
            .add_group(&NewGroup {
                name: "乙律所".into(),
                robot: Robot::Dingtalk {
                    access_token: "tok".into(),
                    secret: "SECxyz".into(),
                },
            })
            .unwrap();
        assert_eq!(store.groups().unwrap(), vec![a.clone(), b]);
        assert_eq!(a.status, GroupStatus::Ok);
        assert_eq!(a.reminder, "default");
        assert!(matches!(
            store.add_group(&wecom("甲律所")),
            Err(StoreError::Invalid(_))
        ));
        store.remove_group("甲律所").unwrap();
        assert!(matches!(
            store.group("甲律所"),
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.remove_group("甲律所"),
            Err(StoreError::NotFound(_))
        ));
    }

    #[test]
    fn a_group_is_renamed_and_new_credentials_mend_it() {
        let store = Store::in_memory().unwrap();
        let a = store.add_group(&wecom("甲律所")).unwrap();
        store
            .add_group(&NewGroup {
                name: "乙律所".into(),
                robot: Robot::Wecom {
                    webhook_key: "ffffffffffffffff".into(),
                },
            })
            .unwrap();
        store
            .lock()
            .execute(
                "UPDATE groups SET status = 'broken', broken_reason = '93000' WHERE id = ?1",
                [a.id],
            )
            .unwrap();
        // A new name only: still broken.
        let renamed = NewGroup {
            name: "甲律师事务所".into(),
            robot: a.robot.clone(),
        };
        let g = store.update_group(a.id, &renamed).unwrap();
        assert_eq!(
            (g.name.as_str(), g.status),
            ("甲律师事务所", GroupStatus::Broken)
        );
        // Another group's name or robot is refused, and nothing changes.
        let taken = NewGroup {
            name: "乙律所".into(),
            robot: a.robot.clone(),
        };
        assert!(matches!(
            store.update_group(a.id, &taken),
            Err(StoreError::Invalid(_))
        ));
        let shared = NewGroup {
            name: "甲律师事务所".into(),
            robot: Robot::Wecom {
                webhook_key: "ffffffffffffffff".into(),
            },
        };
        assert!(matches!(
            store.update_group(a.id, &shared),
            Err(StoreError::Invalid(_))
        ));
        // New credentials: working again.
        let mended = NewGroup {
            name: "甲律师事务所".into(),
            robot: Robot::Dingtalk {
                access_token: "tok".into(),
                secret: "SECxyz".into(),
            },
        };
        let g = store.update_group(a.id, &mended).unwrap();
        assert_eq!(g.status, GroupStatus::Ok);
        assert_eq!(g.broken_reason, None);
        assert_eq!(g.robot, mended.robot);
        assert!(matches!(
            store.update_group(99, &mended),
            Err(StoreError::NotFound(_))
        ));
    }

    #[test]
    fn empty_credentials_are_refused_and_secrets_are_masked() {
        let store = Store::in_memory().unwrap();
        let empty = NewGroup {
            name: "x".into(),
            robot: Robot::Wecom {
                webhook_key: " ".into(),
            },
        };
        assert!(matches!(
            store.add_group(&empty),
            Err(StoreError::Invalid(_))
        ));
        let masked = Robot::Dingtalk {
            access_token: "abcdefgh".into(),
            secret: "SEC12345678".into(),
        }
        .masked();
        assert_eq!(masked, "token …(8) secret SEC1…(11)");
        assert!(!masked.contains("abcd") && !masked.contains("5678"));
    }
}
