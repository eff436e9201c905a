//! The embedded SQLite database: groups, the outbox, reminders, the question log, and migrations.

mod groups;
mod outbox;
mod questions;
mod reminders;
mod versions;

pub use groups::{Group, GroupStatus, NewGroup, Robot, mask};
pub use outbox::{BroadcastSummary, Delivery, OutboxItem, Outcome, Queued};
pub use questions::{LoggedQuestion, Stats};
pub use versions::Version;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

/// A database error, or a request the data does not allow.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed or the file is not a lawbot database.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database was written by a newer lawbot.
    #[error("the database is at schema version {found}, newer than this lawbot knows ({known})")]
    TooNew { found: i64, known: i64 },
    /// A name or id that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A value that breaks a rule (a duplicate name, a missing key).
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Schema versions, applied in order at open; a database records the last one it has.
const MIGRATIONS: &[&str] = &[
    // 1: groups, broadcasts, the outbox and its attempts.
    "CREATE TABLE groups (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        platform TEXT NOT NULL CHECK (platform IN ('wecom', 'dingtalk')),
        webhook_key TEXT,
        access_token TEXT,
        secret TEXT,
        reminder TEXT NOT NULL DEFAULT 'default',
        status TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'broken')),
        broken_reason TEXT,
        last_delivery_at INTEGER,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE broadcasts (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        broadcast_id INTEGER REFERENCES broadcasts(id),
        group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
        part INTEGER NOT NULL,
        parts INTEGER NOT NULL,
        title TEXT NOT NULL,
        content TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        sent_at INTEGER,
        dedup_key TEXT UNIQUE,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX outbox_queue ON outbox (status, group_id, id);
    CREATE TABLE attempts (
        id INTEGER PRIMARY KEY,
        outbox_id INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
        group_id INTEGER NOT NULL,
        at INTEGER NOT NULL,
        result TEXT NOT NULL,
        errcode INTEGER,
        message TEXT
    );
    CREATE INDEX attempts_by_group ON attempts (group_id, at);",
    // 2: weekly reminders done per group and week; the question log (never who asked).
    "CREATE TABLE reminders (
        group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
        week TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('sent', 'skipped')),
        at INTEGER NOT NULL,
        PRIMARY KEY (group_id, week)
    );
    CREATE TABLE questions (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        platform TEXT NOT NULL,
        conversation TEXT,
        intent TEXT NOT NULL,
        clauses TEXT NOT NULL,
        score REAL,
        question TEXT
    );
    CREATE INDEX questions_at ON questions (at);",
    // 3: published versions of the regulation.
    "CREATE TABLE regulation_versions (
        id INTEGER PRIMARY KEY,
        text TEXT NOT NULL,
        metadata TEXT NOT NULL,
        effective TEXT NOT NULL,
        expires TEXT,
        status TEXT NOT NULL,
        summary TEXT NOT NULL,
        published_at INTEGER NOT NULL
    );",
    // 4: DingTalk groups reached by the app robot, by their openConversationId.
    "ALTER TABLE groups ADD COLUMN conversation_id TEXT;",
];

/// The database, shared by the CLI, the admin API and the delivery worker.
pub struct Store {
    connection: Mutex<Connection>,
}

impl Store {
    /// Opens (or creates) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        Store::with_connection(Connection::open(path)?)
    }

    /// A private in-memory database (for tests).
    pub fn in_memory() -> Result<Self> {
        Store::with_connection(Connection::open_in_memory()?)
    }

    fn with_connection(connection: Connection) -> Result<Self> {
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&connection)?;
        Ok(Store {
            connection: Mutex::new(connection),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        self.connection.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Copies the database to `path` page by page (SQLite's online backup): safe while
    /// `lawbot serve` runs, and the copy is consistent. An existing file at `path` is refused.
    pub fn backup(&self, path: &Path) -> Result<()> {
        if path.exists() {
            return Err(StoreError::Invalid(format!(
                "{} exists already",
                path.display()
            )));
        }
        self.lock().backup(
            rusqlite::MAIN_DB,
            path,
            None::<fn(rusqlite::backup::Progress)>,
        )?;
        Ok(())
    }

    /// The schema version the database is at.
    pub fn version(&self) -> Result<i64> {
        Ok(self
            .lock()
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }
}

fn migrate(connection: &Connection) -> Result<()> {
    let found: i64 = connection.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if found > known {
        return Err(StoreError::TooNew { found, known });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = connection.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_is_a_complete_database_and_never_overwrites() {
        let dir = std::env::temp_dir().join(format!("lawbot-backup-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&dir.join("live.db")).unwrap();
        store
            .add_group(&NewGroup {
                name: "甲".into(),
                robot: Robot::Wecom {
                    webhook_key: "k".into(),
                },
            })
            .unwrap();
        let copy = dir.join("copy.db");
        let _ = std::fs::remove_file(&copy);
        store.backup(&copy).unwrap();
        assert_eq!(Store::open(&copy).unwrap().groups().unwrap().len(), 1);
        assert!(matches!(store.backup(&copy), Err(StoreError::Invalid(_))));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn migrations_apply_once_and_a_newer_database_is_refused() {
        let dir = std::env::temp_dir().join(format!("lawbot-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.db");
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            Store::open(&path).unwrap().version().unwrap(),
            MIGRATIONS.len() as i64
        );
        assert_eq!(
            Store::open(&path).unwrap().version().unwrap(),
            MIGRATIONS.len() as i64
        );
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        assert!(matches!(
            Store::open(&path),
            Err(StoreError::TooNew { found: 99, .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
