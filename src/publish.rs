//! New versions of the regulation: checked against the lexicon, stored, announced, and in effect from their date.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use jiff::civil::Date;
use tokio::sync::watch;

use crate::admin;
use crate::bot::Bot;
use crate::engine::{Engine, METADATA};
use crate::lexicon::{LexiconError, Source};
use crate::regulation::{Change, Metadata, diff, render, summary};
use crate::store::{Store, Version};

/// The file name a published text takes inside its version's lexicon.
const VERSION_TEXT: &str = "published-version.txt";

/// The metadata of a new version: the current one's title, issuer and interpreter, new dates and status.
pub fn metadata_toml(
    base: &Metadata,
    effective: Date,
    expires: Option<Date>,
    status: &str,
) -> String {
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut out = format!(
        "title = {}\nissuer = {}\nstatus = {}\neffective = {effective}\ninterpreter = {}\ntext = {}\n",
        quote(&base.title),
        quote(&base.issuer),
        quote(status),
        quote(&base.interpreter),
        quote(VERSION_TEXT),
    );
    if let Some(expires) = expires {
        out.push_str(&format!("expires = {expires}\n"));
    }
    out
}

/// The engine of a version: the base lexicon with the version's text and metadata.
pub fn engine_for(base: &Source, version: &Version) -> Result<Engine, LexiconError> {
    let source = base
        .clone()
        .with_file(METADATA, &version.metadata)
        .with_file(VERSION_TEXT, &version.text);
    Engine::load(&source)
}

/// What publishing did.
#[derive(Debug)]
pub struct Published {
    pub version: i64,
    /// The change notice's broadcast, when there are groups.
    pub broadcast: Option<i64>,
    /// The clause-by-clause changes, for the clerk.
    pub report: String,
}

/// A new text checked against the lexicon and compared with the version in effect, not yet stored.
#[derive(Debug)]
pub struct Prepared {
    pub version: Version,
    pub changes: Vec<Change>,
    /// The clause-by-clause changes as text.
    pub report: String,
    /// The change notice every group will get.
    pub notice: String,
}

/// A new text of the regulation and the dates it is to apply between.
#[derive(Debug, Clone, Copy)]
pub struct NewText<'a> {
    pub text: &'a str,
    pub effective: Date,
    pub expires: Option<Date>,
    /// The status it is published with (`试行`); the current one's when `None`.
    pub status: Option<&'a str>,
}

/// Checks a new text against the lexicon and compares it with `current`: what publishing it would
/// store and announce.
pub fn prepare(base: &Source, current: &Engine, new: NewText) -> anyhow::Result<Prepared> {
    let NewText {
        text,
        effective,
        expires,
        status,
    } = new;
    let status = status.unwrap_or(&current.metadata.status);
    let metadata = metadata_toml(&current.metadata, effective, expires, status);
    let mut version = Version {
        id: 0,
        text: text.to_string(),
        metadata,
        effective: effective.to_string(),
        expires: expires.map(|d| d.to_string()),
        status: status.to_string(),
        summary: String::new(),
        published_at: 0,
    };
    let engine = engine_for(base, &version)
        .context("the new text does not fit the lexicon (fix the text, or the lexicon first)")?;
    let changes = diff(&current.regulation, &engine.regulation);
    version.summary = summary(&changes);
    let report = render(&changes);
    let notice = format!(
        "《{}》（{}）新版本自{}起施行。\n\n{}\n\n{}",
        engine.metadata.title,
        status,
        chinese_date(effective),
        version.summary,
        report.trim_end()
    );
    Ok(Prepared {
        version,
        changes,
        report,
        notice,
    })
}

/// Checks a new text against the lexicon, stores it as a version in effect from `effective`, and
/// queues a change notice to every group. `current` is the version it is compared with.
pub fn publish(
    store: &Store,
    base: &Source,
    current: &Engine,
    new: NewText,
) -> anyhow::Result<Published> {
    let prepared = prepare(base, current, new)?;
    let id = store.add_version(&prepared.version)?;
    let broadcast = match admin::broadcast(store, NOTICE_TITLE, &prepared.notice, &[]) {
        Ok((id, _)) => Some(id),
        Err(crate::store::StoreError::Invalid(_)) => None,
        Err(e) => return Err(e.into()),
    };
    Ok(Published {
        version: id,
        broadcast,
        report: prepared.report,
    })
}

/// The title of the change notice.
pub const NOTICE_TITLE: &str = "规定修订通知";

/// The engine in effect on `today`: the latest published version already in effect, else `base_engine`.
pub fn engine_in_effect(
    store: &Store,
    base: &Source,
    base_engine: Arc<Engine>,
    today: Date,
) -> anyhow::Result<(Arc<Engine>, Option<i64>)> {
    match store.active_version(&today.to_string())? {
        Some(version) => {
            let engine = engine_for(base, &version)
                .with_context(|| format!("published version {}", version.id))?;
            Ok((Arc::new(engine), Some(version.id)))
        }
        None => Ok((base_engine, None)),
    }
}

/// Swaps the bot's engine when another version comes into effect (checked every few minutes).
pub async fn follow_versions(
    store: Arc<Store>,
    base: Source,
    base_engine: Arc<Engine>,
    bot: Arc<Bot>,
    mut current: Option<i64>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(300)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let today = bot.clock().today();
        match engine_in_effect(&store, &base, base_engine.clone(), today) {
            Ok((engine, id)) if id != current => {
                tracing::info!(version = ?id, "a new version of the regulation is in effect");
                bot.set_engine(engine);
                current = id;
            }
            Ok(_) => {}
            Err(e) => tracing::error!(
                error = format!("{e:#}"),
                "cannot load the version in effect"
            ),
        }
    }
}

fn chinese_date(d: Date) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewGroup, Robot};
    use jiff::civil::date;

    #[test]
    fn a_reworded_text_is_published_announced_and_in_effect_from_its_date() {
        let store = Store::in_memory().unwrap();
        store
            .add_group(&NewGroup {
                name: "a".into(),
                robot: Robot::Wecom {
                    webhook_key: "k".into(),
                },
            })
            .unwrap();
        let base = Source::builtin();
        let current = Arc::new(Engine::load(&base).unwrap());
        let text = include_str!("../lexicon/bazhou-2024-draft.txt")
            .replace("馈赠礼品、金钱", "赠送礼金、礼品");
        let new = NewText {
            text: &text,
            effective: date(2026, 12, 1),
            expires: Some(date(2028, 11, 30)),
            status: Some("试行"),
        };
        let published = publish(&store, &base, &current, new).unwrap();
        assert!(
            published.report.contains("第十二条第（十八）项"),
            "{}",
            published.report
        );
        assert!(published.broadcast.is_some());
        assert_eq!(store.backlog().unwrap(), 1);
        let (before, none) =
            engine_in_effect(&store, &base, current.clone(), date(2026, 11, 30)).unwrap();
        assert!(Arc::ptr_eq(&before, &current) && none.is_none());
        let (after, id) = engine_in_effect(&store, &base, current, date(2026, 12, 1)).unwrap();
        assert_eq!(id, Some(published.version));
        assert_eq!(after.metadata.status, "试行");
        let clause = after.regulation.get("12.18".parse().unwrap()).unwrap();
        assert!(clause.text.contains("赠送礼金、礼品"));
    }

    #[test]
    fn a_text_the_lexicon_does_not_fit_is_refused_and_nothing_is_stored() {
        let store = Store::in_memory().unwrap();
        let base = Source::builtin();
        let current = Engine::load(&base).unwrap();
        // Dropping item （二十八） leaves rules pointing at 12.28.
        let text: String = include_str!("../lexicon/bazhou-2024-draft.txt")
            .lines()
            .filter(|l| !l.starts_with("（二十八）"))
            .map(|l| format!("{l}\n"))
            .collect();
        let new = NewText {
            text: &text,
            effective: date(2026, 12, 1),
            expires: None,
            status: None,
        };
        let error = publish(&store, &base, &current, new).unwrap_err();
        assert!(format!("{error:#}").contains("12.28"), "{error:#}");
        assert!(store.versions().unwrap().is_empty());
        assert_eq!(store.backlog().unwrap(), 0);
    }
}
