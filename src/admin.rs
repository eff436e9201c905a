//! What the bureau's clerks do, for the command line and the admin API: groups and broadcasts.

use std::fmt::Write;

use crate::config::Config;
use crate::delivery::{Endpoints, Sender, queued};
use crate::store::{Group, GroupStatus, NewGroup, Outcome, Robot, Store, StoreError, now_ms};

/// The platforms' send endpoints as configured (official hosts by default).
pub fn endpoints(config: &Config) -> Endpoints {
    let defaults = Endpoints::default();
    Endpoints {
        wecom: config
            .wecom
            .as_ref()
            .map_or(defaults.wecom, |w| w.api_base.clone()),
        dingtalk: config
            .dingtalk
            .as_ref()
            .map_or(defaults.dingtalk, |d| d.api_base.clone()),
    }
}

/// The sender for the configured platforms, the DingTalk app robot included when configured.
pub fn sender(config: &Config) -> Sender {
    let sender = Sender::new(endpoints(config));
    let app = config.dingtalk.as_ref().and_then(|d| d.stream.as_ref());
    match app.and_then(|s| s.client_secret.clone().map(|secret| (s, secret))) {
        Some((stream, client_secret)) => sender.with_app(crate::delivery::AppCredentials {
            client_id: stream.client_id.clone(),
            client_secret,
            api_base: stream.api_base.clone(),
        }),
        None => sender,
    }
}

/// Opens the configured database (`[storage] path`).
pub fn open_store(config: &Config) -> anyhow::Result<Store> {
    let path = config
        .storage
        .path
        .clone()
        .unwrap_or_else(|| "lawbot.db".into());
    Store::open(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The groups as a table, secrets masked.
pub fn group_table(groups: &[Group]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<4} {:<20} {:<9} {:<8} {:<20} {:<36} reminder",
        "id", "name", "platform", "status", "last delivery", "robot"
    );
    for g in groups {
        let status = match g.status {
            GroupStatus::Ok => "ok".to_string(),
            GroupStatus::Broken => "BROKEN".to_string(),
        };
        let last = g.last_delivery_at.map_or("-".to_string(), format_ms);
        let _ = writeln!(
            out,
            "{:<4} {:<20} {:<9} {:<8} {:<20} {:<36} {}",
            g.id,
            g.name,
            g.robot.platform(),
            status,
            last,
            g.robot.masked(),
            g.reminder
        );
        if let Some(reason) = &g.broken_reason {
            let _ = writeln!(out, "     ↳ {reason}");
        }
    }
    if groups.is_empty() {
        out.push_str("(no groups yet: lawbot group add …)\n");
    }
    out
}

/// Queues a broadcast to the named groups (all groups when none is named); returns its id and
/// how many groups it goes to.
pub fn broadcast(
    store: &Store,
    title: &str,
    body: &str,
    names: &[String],
) -> Result<(i64, usize), StoreError> {
    if body.trim().is_empty() {
        return Err(StoreError::Invalid("the broadcast is empty".into()));
    }
    let mut groups: Vec<Group> = if names.is_empty() {
        store.groups()?
    } else {
        names
            .iter()
            .map(|n| store.group(n))
            .collect::<Result<_, _>>()?
    };
    groups.sort_by_key(|g| g.id);
    groups.dedup_by_key(|g| g.id);
    if groups.is_empty() {
        return Err(StoreError::Invalid("there are no groups to send to".into()));
    }
    let messages: Vec<_> = groups
        .iter()
        .map(|g| queued(g, title, body, None))
        .collect();
    let id = store.enqueue_broadcast("announcement", title, body, &messages)?;
    Ok((id, groups.len()))
}

/// The delivery report of a broadcast, one line per group, and a summary.
pub fn report(store: &Store, id: i64) -> Result<String, StoreError> {
    let deliveries = store.broadcast_report(id)?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<20} {:<9} {:<8} {:>7} {:>8} {:<20} last error",
        "group", "platform", "status", "parts", "attempts", "sent at"
    );
    for d in &deliveries {
        let _ = writeln!(
            out,
            "{:<20} {:<9} {:<8} {:>7} {:>8} {:<20} {}",
            d.group,
            d.platform,
            d.status,
            format!("{}/{}", d.parts_sent, d.parts),
            d.attempts,
            d.sent_at.map_or("-".into(), format_ms),
            d.last_error.as_deref().unwrap_or("")
        );
    }
    let sent = deliveries.iter().filter(|d| d.status == "sent").count();
    let _ = writeln!(
        out,
        "broadcast {id}: {sent} of {} groups delivered",
        deliveries.len()
    );
    Ok(out)
}

/// Sends a test message to a group right away and says what the platform answered; a group
/// that was broken and now works is marked working again.
pub async fn test_group(store: &Store, config: &Config, name: &str) -> anyhow::Result<String> {
    let group = store.group(name)?;
    let sender = sender(config);
    let text = "律规助手测试消息：本群已登记，将收到司法局的通知和每周一条的规定提醒。";
    match sender.send(&group, "测试", text, 0, now_ms()).await {
        Outcome::Sent => {
            store.mark_ok(group.id)?;
            Ok(format!("{name}: delivered"))
        }
        Outcome::Retry { error, .. }
        | Outcome::Failed { error, .. }
        | Outcome::Broken { error, .. } => {
            anyhow::bail!("{name}: not delivered: {error}")
        }
    }
}

/// A group to register, from the command line's or the API's fields.
/// How a group is reached, as the command line and the API give it.
#[derive(Debug, Clone, Default)]
pub struct RobotFields {
    pub webhook_key: Option<String>,
    pub access_token: Option<String>,
    pub secret: Option<String>,
    pub conversation_id: Option<String>,
}

/// A group to register: WeCom by webhook key; DingTalk by custom robot (token and secret) or, when
/// the app robot is configured, by the group's openConversationId.
pub fn new_group(platform: &str, name: &str, fields: RobotFields) -> Result<NewGroup, StoreError> {
    let missing = |what: &str| StoreError::Invalid(format!("a {platform} group needs {what}"));
    let robot = match (platform, fields.conversation_id) {
        ("wecom", _) => Robot::Wecom {
            webhook_key: fields.webhook_key.ok_or_else(|| missing("--webhook-key"))?,
        },
        ("dingtalk", Some(conversation_id)) => Robot::DingtalkApp { conversation_id },
        ("dingtalk", None) => Robot::Dingtalk {
            access_token: fields
                .access_token
                .ok_or_else(|| missing("--access-token and --secret (or --conversation-id)"))?,
            secret: fields.secret.ok_or_else(|| missing("--secret"))?,
        },
        (other, _) => {
            return Err(StoreError::Invalid(format!(
                "unknown platform `{other}` (wecom or dingtalk)"
            )));
        }
    };
    Ok(NewGroup {
        name: name.to_string(),
        robot,
    })
}

/// A time as China reads it: 2026-11-28 09:00.
pub fn format_ms(ms: i64) -> String {
    let offset = jiff::tz::TimeZone::fixed(jiff::tz::offset(8));
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t.to_zoned(offset).strftime("%Y-%m-%d %H:%M").to_string(),
        Err(_) => "-".into(),
    }
}

/// One reminder to come: when (the slot), which week and topic, and the groups that get it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpcomingReminder {
    pub slot: jiff::Timestamp,
    pub week: crate::remind::WeekKey,
    pub topic: crate::regulation::ClauseId,
    pub groups: Vec<String>,
}

/// The next `weeks` reminders of every group, in time order, and the groups with reminders off.
/// Without groups, the default schedule's reminders are shown for "(no groups yet)".
pub fn upcoming_reminders(
    store: &Store,
    engine: &crate::engine::Engine,
    default: crate::remind::ReminderSetting,
    weeks: usize,
    from: jiff::Timestamp,
) -> Result<(Vec<UpcomingReminder>, Vec<String>), StoreError> {
    use crate::remind::{self, ReminderSetting};
    let topics = remind::topics(&engine.regulation);
    let groups = store.groups()?;
    let mut rows: Vec<UpcomingReminder> = Vec::new();
    let mut off: Vec<String> = Vec::new();
    let mut add = |schedule: remind::Schedule, who: String| {
        for up in remind::preview(&schedule, from, weeks, &topics) {
            match rows
                .iter_mut()
                .find(|r| r.slot == up.slot && r.topic == up.topic)
            {
                Some(row) => row.groups.push(who.clone()),
                None => rows.push(UpcomingReminder {
                    slot: up.slot,
                    week: up.week,
                    topic: up.topic,
                    groups: vec![who.clone()],
                }),
            }
        }
    };
    if let Some(schedule) = default.schedule().filter(|_| groups.is_empty()) {
        add(schedule, "(no groups yet)".into());
    }
    for g in &groups {
        match reminder_setting(g, default) {
            ReminderSetting::Off => off.push(g.name.clone()),
            ReminderSetting::At(schedule) => add(schedule, g.name.clone()),
        }
    }
    rows.sort_by_key(|r| (r.slot, r.topic));
    Ok((rows, off))
}

/// A group's own reminder setting, or the default.
pub fn reminder_setting(
    group: &Group,
    default: crate::remind::ReminderSetting,
) -> crate::remind::ReminderSetting {
    match group.reminder.as_str() {
        "default" => default,
        own => own.parse().unwrap_or(default),
    }
}

/// `lawbot remind preview`: the next reminders, when they go out (Shanghai time) and where.
pub fn remind_preview(
    store: &Store,
    engine: &crate::engine::Engine,
    default: crate::remind::ReminderSetting,
    weeks: usize,
    from: jiff::Timestamp,
) -> Result<String, StoreError> {
    let (rows, off) = upcoming_reminders(store, engine, default, weeks, from)?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<9} {:<20} {:<22} groups",
        "week", "time (Shanghai)", "topic"
    );
    for row in &rows {
        let time = shanghai_time(row.slot);
        let _ = writeln!(
            out,
            "{:<9} {time:<20} {:<22} {}",
            row.week.to_string(),
            row.topic.citation(),
            row.groups.join(", ")
        );
    }
    if !off.is_empty() {
        let _ = writeln!(out, "reminders off: {}", off.join(", "));
    }
    Ok(out)
}

/// `2026-11-30 Mon 09:00`, in Shanghai time.
pub fn shanghai_time(slot: jiff::Timestamp) -> String {
    slot.to_zoned(crate::remind::time_zone())
        .strftime("%Y-%m-%d %a %H:%M")
        .to_string()
}

/// The question log of the last `weeks` weeks, counted per ISO week of Shanghai time.
pub fn question_stats(store: &Store, weeks: i64) -> Result<crate::store::Stats, StoreError> {
    let since = now_ms() - weeks * 7 * 24 * 3600 * 1000;
    store.stats(since, |ms| {
        jiff::Timestamp::from_millisecond(ms)
            .map_or("-".into(), |t| crate::remind::WeekKey::of(t).to_string())
    })
}

/// `lawbot stats`: questions per clause and per week, and recent questions no clause matched.
pub fn stats_report(
    store: &Store,
    engine: &crate::engine::Engine,
    weeks: i64,
) -> Result<String, StoreError> {
    let stats = question_stats(store, weeks)?;
    let mut out = format!(
        "questions in the last {weeks} weeks: {}\n\nby week:\n",
        stats.total
    );
    for (week, n) in &stats.by_week {
        let _ = writeln!(
            out,
            "  {week}  {n:>5}  {}",
            "█".repeat((*n as usize).min(60))
        );
    }
    out.push_str("\nmost asked clauses (first match):\n");
    for (id, n) in stats.by_clause.iter().take(20) {
        let citation = id
            .parse::<crate::regulation::ClauseId>()
            .map(|c| c.citation())
            .unwrap_or_else(|_| id.clone());
        let summary = id
            .parse()
            .ok()
            .and_then(|c| engine.lexicon.summaries.get(&c))
            .map_or("", String::as_str);
        let _ = writeln!(
            out,
            "  {n:>5}  {citation}  {}",
            summary.chars().take(30).collect::<String>()
        );
    }
    out.push_str("\nrecent questions no clause matched (to widen the lexicon):\n");
    for q in &stats.not_covered {
        let _ = writeln!(out, "  · {q}");
    }
    out.push_str("\nStored: time, platform, group, matched clauses and score — never who asked; the text only when nothing matched.\n");
    Ok(out)
}

/// `lawbot regulation versions`: the built-in text and every published version, the one in effect marked.
pub fn versions_table(
    store: &Store,
    builtin: &crate::engine::Engine,
    today: &str,
) -> Result<String, StoreError> {
    let active = store.active_version(today)?.map(|v| v.id);
    let mark = |in_effect: bool| if in_effect { "  ← in effect" } else { "" };
    let m = &builtin.metadata;
    let mut out = format!(
        "{:<8} {:<11} {:<11} {:<10} summary\n",
        "version", "effective", "expires", "status"
    );
    let _ = writeln!(
        out,
        "{:<8} {:<11} {:<11} {:<10} built-in text{}",
        "0",
        m.effective.to_string(),
        m.expires.map_or("-".into(), |d| d.to_string()),
        m.status,
        mark(active.is_none())
    );
    for v in store.versions()? {
        let _ = writeln!(
            out,
            "{:<8} {:<11} {:<11} {:<10} {}{}",
            v.id,
            v.effective,
            v.expires.as_deref().unwrap_or("-"),
            v.status,
            v.summary,
            mark(Some(v.id) == active)
        );
    }
    Ok(out)
}
