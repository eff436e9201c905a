//! Published versions of the regulation: the text, its metadata, and from when it applies.

use rusqlite::{OptionalExtension, Row, params};

use super::{Result, Store, now_ms};

/// A published version. Old versions stay, so an answer can say which version it quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub id: i64,
    pub text: String,
    /// The regulation.toml of this version.
    pub metadata: String,
    /// The first day it applies, `2026-12-01`.
    pub effective: String,
    pub expires: Option<String>,
    pub status: String,
    /// The change notice that went out with it.
    pub summary: String,
    pub published_at: i64,
}

const COLUMNS: &str = "id, text, metadata, effective, expires, status, summary, published_at";

fn from_row(row: &Row) -> rusqlite::Result<Version> {
    Ok(Version {
        id: row.get(0)?,
        text: row.get(1)?,
        metadata: row.get(2)?,
        effective: row.get(3)?,
        expires: row.get(4)?,
        status: row.get(5)?,
        summary: row.get(6)?,
        published_at: row.get(7)?,
    })
}

impl Store {
    /// Stores a new version; returns its id.
    pub fn add_version(&self, v: &Version) -> Result<i64> {
        let db = self.lock();
        db.execute(
            "INSERT INTO regulation_versions (text, metadata, effective, expires, status, summary, published_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![v.text, v.metadata, v.effective, v.expires, v.status, v.summary, now_ms()],
        )?;
        Ok(db.last_insert_rowid())
    }

    /// Every published version, oldest first.
    pub fn versions(&self) -> Result<Vec<Version>> {
        let db = self.lock();
        let mut statement = db.prepare(&format!(
            "SELECT {COLUMNS} FROM regulation_versions ORDER BY id"
        ))?;
        Ok(statement
            .query_map([], from_row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// The version answers come from on `today` (`2026-12-01`): the latest one already in effect.
    pub fn active_version(&self, today: &str) -> Result<Option<Version>> {
        let db = self.lock();
        Ok(db
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM regulation_versions WHERE effective <= ?1
                     ORDER BY effective DESC, id DESC LIMIT 1"
                ),
                [today],
                from_row,
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(effective: &str) -> Version {
        Version {
            id: 0,
            text: format!("text of {effective}"),
            metadata: String::new(),
            effective: effective.into(),
            expires: None,
            status: "试行".into(),
            summary: String::new(),
            published_at: 0,
        }
    }

    #[test]
    fn the_active_version_is_the_latest_in_effect() {
        let store = Store::in_memory().unwrap();
        assert_eq!(store.active_version("2026-12-01").unwrap(), None);
        store.add_version(&version("2026-12-01")).unwrap();
        store.add_version(&version("2027-01-01")).unwrap();
        assert_eq!(store.active_version("2026-11-30").unwrap(), None);
        assert_eq!(
            store
                .active_version("2026-12-15")
                .unwrap()
                .unwrap()
                .effective,
            "2026-12-01"
        );
        assert_eq!(
            store
                .active_version("2027-01-01")
                .unwrap()
                .unwrap()
                .effective,
            "2027-01-01"
        );
        assert_eq!(store.versions().unwrap().len(), 2);
    }
}
