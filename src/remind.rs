//! Weekly reminders: when each group's reminder is due, in Asia/Shanghai time, and which clause it recalls.
//!
//! Everything here is pure: the caller passes the current instant and what it has recorded, and
//! stores what it is told to send or skip. A week is named by its ISO week in Shanghai
//! ([`WeekKey`], "2026-W48"), which is what makes a reminder idempotent per group and week.

use std::collections::HashMap;
use std::fmt::{self, Write};
use std::str::FromStr;
use std::sync::LazyLock;

use jiff::civil::{Date, ISOWeekDate, Time, Weekday};
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};

use crate::regulation::{ClauseId, Regulation};

/// The time zone every schedule is read in, whatever the machine's own.
pub const TIME_ZONE: &str = "Asia/Shanghai";

/// How late a reminder may still be sent when the process was down at its time.
pub const DEFAULT_GRACE: SignedDuration = SignedDuration::from_hours(12);

/// The week the rotation starts from: the first full week of the 2024 regulation (in force from
/// 2024-06-01, a Saturday; its first Monday is 2024-06-03).
pub const FIRST_WEEK: WeekKey = WeekKey {
    year: 2024,
    week: 23,
};

/// Articles recalled after the items of the list article: what a lawyer should do (8 to 11).
const DUTY_ARTICLES: [u16; 4] = [8, 9, 10, 11];

static SHANGHAI: LazyLock<TimeZone> = LazyLock::new(|| {
    // The tz database (the system's, else the copy bundled into the binary) has it; should both
    // fail, UTC+08:00 is exact for Shanghai at every date since 1991.
    TimeZone::get(TIME_ZONE).unwrap_or_else(|_| TimeZone::fixed(Offset::constant(8)))
});

/// Asia/Shanghai.
pub fn time_zone() -> TimeZone {
    SHANGHAI.clone()
}

/// A reminder setting that cannot be used; says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    /// Nothing was given.
    #[error("empty reminder setting (expected e.g. `mon 09:00`, `周一 09:00` or `off`)")]
    Empty,
    /// A time without a weekday before it.
    #[error("`{0}` has no weekday (expected e.g. `mon 09:00` or `周一 09:00`)")]
    MissingWeekday(String),
    /// A word that is not a weekday.
    #[error(
        "`{0}` is not a weekday (expected mon … sun, monday … sunday, 周一 … 周日 or 星期一 … 星期日)"
    )]
    UnknownWeekday(String),
    /// A weekday without a time after it.
    #[error("`{0}` has no time of day (expected e.g. `mon 09:00`)")]
    MissingTime(String),
    /// A time that is not HH:MM between 00:00 and 23:59.
    #[error("`{0}` is not a time of day (expected HH:MM from 00:00 to 23:59, e.g. 09:00)")]
    BadTime(String),
}

/// When in the week a group is reminded: a weekday and a time of day (to the minute), in Shanghai.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Schedule {
    weekday: Weekday,
    time: Time,
}

impl Schedule {
    /// A schedule at `hour:minute` on `weekday`; refused unless 00:00 ≤ hour:minute ≤ 23:59.
    pub fn new(weekday: Weekday, hour: i8, minute: i8) -> Result<Self, SettingError> {
        let time = Time::new(hour, minute, 0, 0)
            .map_err(|_| SettingError::BadTime(format!("{hour}:{minute:02}")))?;
        Ok(Schedule { weekday, time })
    }

    pub fn weekday(&self) -> Weekday {
        self.weekday
    }

    pub fn time(&self) -> Time {
        self.time
    }
}

/// Monday 09:00.
impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            weekday: Weekday::Monday,
            time: Time::constant(9, 0, 0, 0),
        }
    }
}

/// The canonical form, which [`FromStr`] reads back: `mon 09:00`.
impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let day = WEEKDAYS
            .iter()
            .find(|(_, d)| *d == self.weekday)
            .map_or("?", |(name, _)| name);
        write!(f, "{day} {:02}:{:02}", self.time.hour(), self.time.minute())
    }
}

/// Reads `mon 09:00`, `Monday 9:00`, `周一 09:00`, `星期三 8:00` or `周三08:00` (a full-width `：` too).
impl FromStr for Schedule {
    type Err = SettingError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(SettingError::Empty);
        }
        let Some(split) = s.find(|c: char| c.is_ascii_digit()) else {
            weekday(s)?;
            return Err(SettingError::MissingTime(s.to_string()));
        };
        let (day, time) = (s[..split].trim(), s[split..].trim());
        if day.is_empty() {
            return Err(SettingError::MissingWeekday(s.to_string()));
        }
        let weekday = weekday(day)?;
        let bad = || SettingError::BadTime(time.to_string());
        let (hour, minute) = time.split_once([':', '：']).ok_or_else(bad)?;
        let digits = |t: &str, max: usize| {
            (1..=max).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit())
        };
        if !digits(hour, 2) || !digits(minute, 2) || minute.len() != 2 {
            return Err(bad());
        }
        let (Ok(hour), Ok(minute)) = (hour.parse(), minute.parse()) else {
            return Err(bad());
        };
        Time::new(hour, minute, 0, 0)
            .map(|time| Schedule { weekday, time })
            .map_err(|_| bad())
    }
}

/// English names, the canonical short one first for each day.
const WEEKDAYS: [(&str, Weekday); 17] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
    ("monday", Weekday::Monday),
    ("tues", Weekday::Tuesday),
    ("tuesday", Weekday::Tuesday),
    ("wednesday", Weekday::Wednesday),
    ("thur", Weekday::Thursday),
    ("thurs", Weekday::Thursday),
    ("thursday", Weekday::Thursday),
    ("friday", Weekday::Friday),
    ("saturday", Weekday::Saturday),
    ("sunday", Weekday::Sunday),
];

fn weekday(word: &str) -> Result<Weekday, SettingError> {
    if let Some((_, day)) = WEEKDAYS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(word))
    {
        return Ok(*day);
    }
    let unknown = || SettingError::UnknownWeekday(word.to_string());
    let number = ["周", "星期", "礼拜"]
        .iter()
        .find_map(|prefix| word.strip_prefix(prefix))
        .ok_or_else(unknown)?;
    Ok(match number {
        "一" => Weekday::Monday,
        "二" => Weekday::Tuesday,
        "三" => Weekday::Wednesday,
        "四" => Weekday::Thursday,
        "五" => Weekday::Friday,
        "六" => Weekday::Saturday,
        "日" | "天" => Weekday::Sunday,
        _ => return Err(unknown()),
    })
}

/// A group's (or the global) reminder setting: off, or a weekly schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReminderSetting {
    Off,
    At(Schedule),
}

impl ReminderSetting {
    /// The schedule, unless reminders are off.
    pub fn schedule(self) -> Option<Schedule> {
        match self {
            ReminderSetting::Off => None,
            ReminderSetting::At(schedule) => Some(schedule),
        }
    }
}

/// Monday 09:00.
impl Default for ReminderSetting {
    fn default() -> Self {
        ReminderSetting::At(Schedule::default())
    }
}

/// `off` or the schedule's canonical form (`mon 09:00`).
impl fmt::Display for ReminderSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReminderSetting::Off => f.write_str("off"),
            ReminderSetting::At(schedule) => schedule.fmt(f),
        }
    }
}

/// `off` (or `关闭`), or a schedule as [`Schedule`] reads it.
impl FromStr for ReminderSetting {
    type Err = SettingError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("off") || s == "关闭" {
            Ok(ReminderSetting::Off)
        } else {
            s.parse().map(ReminderSetting::At)
        }
    }
}

impl serde::Serialize for ReminderSetting {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ReminderSetting {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A week key that is not `YYYY-Www` naming an existing ISO week.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an ISO week (expected e.g. 2026-W48; only some years have a week 53)")]
pub struct WeekKeyError(pub String);

/// An ISO week (Monday to Sunday) in Shanghai, e.g. 2026-W48: the unit a reminder is sent once in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WeekKey {
    // Field order makes the derived order chronological.
    year: i16,
    week: i8,
}

impl WeekKey {
    /// Week `week` of ISO year `year`; refused if that year has no such week.
    pub fn new(year: i16, week: i8) -> Result<Self, WeekKeyError> {
        ISOWeekDate::new(year, week, Weekday::Monday)
            .map(|_| WeekKey { year, week })
            .map_err(|_| WeekKeyError(format!("{year:04}-W{week:02}")))
    }

    /// The week that `instant` falls in, in Shanghai.
    pub fn of(instant: Timestamp) -> Self {
        Self::containing(instant.to_zoned(time_zone()).date())
    }

    /// The week a calendar date falls in.
    pub fn containing(date: Date) -> Self {
        let iso = date.iso_week_date();
        WeekKey {
            year: iso.year(),
            week: iso.week(),
        }
    }

    /// The ISO week-numbering year (which differs from the calendar year around New Year).
    pub fn year(self) -> i16 {
        self.year
    }

    /// 1 to 52, or 53 in long years.
    pub fn week(self) -> i8 {
        self.week
    }

    /// The date of `weekday` in this week.
    pub fn day(self, weekday: Weekday) -> Date {
        ISOWeekDate::new(self.year, self.week, weekday)
            .expect("a WeekKey names an existing ISO week")
            .date()
    }

    /// The week after this one; `None` past the last week jiff can represent.
    pub fn next(self) -> Option<WeekKey> {
        let monday = self.day(Weekday::Monday);
        monday
            .checked_add(SignedDuration::from_hours(7 * 24))
            .ok()
            .map(Self::containing)
    }

    /// Whole weeks from `base` to this week (negative before it).
    pub fn weeks_since(self, base: WeekKey) -> i64 {
        let days = self
            .day(Weekday::Monday)
            .duration_since(base.day(Weekday::Monday))
            .as_hours()
            / 24;
        days / 7
    }
}

impl fmt::Display for WeekKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-W{:02}", self.year, self.week)
    }
}

impl FromStr for WeekKey {
    type Err = WeekKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || WeekKeyError(s.to_string());
        let (year, week) = s.trim().rsplit_once("-W").ok_or_else(bad)?;
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(year.trim_start_matches('-')) || !digits(week) || week.len() != 2 {
            return Err(bad());
        }
        let year = year.parse().map_err(|_| bad())?;
        let week = week.parse().map_err(|_| bad())?;
        WeekKey::new(year, week).map_err(|_| bad())
    }
}

impl serde::Serialize for WeekKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The instant of `week`'s reminder: the schedule's weekday and time in that week, in Shanghai
/// (Monday 09:00 is Monday 01:00 UTC). Saturates at jiff's limits for weeks at the ends of its range.
pub fn slot(schedule: &Schedule, week: WeekKey) -> Timestamp {
    week.day(schedule.weekday)
        .to_datetime(schedule.time)
        .to_zoned(time_zone())
        .map(|zoned| zoned.timestamp())
        .unwrap_or(if week.year < 0 {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        })
}

/// The latest reminder slot at or before `now`, with its week.
fn latest_slot(schedule: &Schedule, now: Timestamp) -> (WeekKey, Timestamp) {
    let week = WeekKey::of(now);
    let at = slot(schedule, week);
    if at <= now {
        return (week, at);
    }
    // This week's slot is ahead, so the latest one is last week's (7 days earlier).
    let monday = week.day(Weekday::Monday);
    match monday.checked_sub(SignedDuration::from_hours(24)) {
        Ok(sunday) => {
            let previous = WeekKey::containing(sunday);
            (previous, slot(schedule, previous))
        }
        Err(_) => (week, at),
    }
}

/// What to do about a group's reminder now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Send `week`'s reminder (its slot was `slot`, at most the grace ago); then record `week` as done.
    Send { week: WeekKey, slot: Timestamp },
    /// Nothing to do before `until` (the next slot).
    Wait { until: Timestamp },
    /// `week`'s slot passed `late` ago, more than the grace (the process was down): log it and
    /// record `week` as done without sending; it is never sent later.
    Skip {
        week: WeekKey,
        slot: Timestamp,
        late: SignedDuration,
    },
}

/// Decides whether a group's reminder is due at `now`.
///
/// `last_done` is the latest week recorded for the group, sent or skipped. The week in question is
/// the one of the latest slot at or before `now` (so a Sunday-night reminder can still go out late
/// on Monday): nothing if it is already done, Send within `grace` after its slot (a negative grace
/// counts as none), Skip after that. A group with no record yet is treated the same way: it gets a
/// slot that passed within the grace, or a Skip, then waits for the next one.
pub fn due(
    schedule: &Schedule,
    now: Timestamp,
    last_done: Option<WeekKey>,
    grace: SignedDuration,
) -> Due {
    let (week, at) = latest_slot(schedule, now);
    if last_done.is_some_and(|done| done >= week) {
        let until = week
            .next()
            .map_or(Timestamp::MAX, |next| slot(schedule, next));
        return Due::Wait { until };
    }
    let deadline = at
        .checked_add(grace.max(SignedDuration::ZERO))
        .unwrap_or(Timestamp::MAX);
    if now <= deadline && at <= now {
        Due::Send { week, slot: at }
    } else if at > now {
        // Only at the very start of jiff's range, where there is no earlier slot.
        Due::Wait { until: at }
    } else {
        Due::Skip {
            week,
            slot: at,
            late: now.duration_since(at),
        }
    }
}

/// The clauses recalled in turn: the items of the list article (第十二条 (一)–(二十八)), then
/// Articles 8 to 11 (what a lawyer should do), as far as `regulation` has them.
pub fn topics(regulation: &Regulation) -> Vec<ClauseId> {
    let items = regulation
        .list_article()
        .map(|list| list.items.clone())
        .unwrap_or_default();
    let duties = DUTY_ARTICLES
        .iter()
        .map(|&article| ClauseId::article(article))
        .filter(|&id| regulation.contains(id));
    items.into_iter().chain(duties).collect()
}

/// The topic of `week`: weeks since [`FIRST_WEEK`] modulo the number of topics, so every group gets
/// the same one in the same week whenever it is computed. `None` without topics.
pub fn topic_for(week: WeekKey, topics: &[ClauseId]) -> Option<ClauseId> {
    let count = i64::try_from(topics.len()).ok().filter(|&n| n > 0)?;
    let index = week.weeks_since(FIRST_WEEK).rem_euclid(count);
    topics.get(usize::try_from(index).ok()?).copied()
}

/// The reminder a group reads: a heading, the plain-language line, the clause verbatim (an item
/// with its article's opening words) and how to ask the bot. `None` if `topic` is not in `regulation`.
///
/// Written like a reply (【…】 headings, blank lines between parts) so that the same markdown
/// rendering applies.
pub fn reminder_text(
    regulation: &Regulation,
    summaries: &HashMap<ClauseId, String>,
    topic: ClauseId,
    week: WeekKey,
) -> Option<String> {
    let clause = regulation.get(topic)?;
    let mut out = format!("【每周一条 · {}年第{}周】\n", week.year, week.week);
    if let Some(summary) = summaries.get(&topic) {
        let _ = writeln!(out, "要点：{}。", summary.trim_end_matches('。'));
    }
    let _ = writeln!(out, "\n【{}】", clause.citation);
    if let Some(item) = topic.item {
        if let Some(article) = regulation.get(topic.parent()) {
            let _ = writeln!(out, "{}", article.text);
        }
        let _ = writeln!(
            out,
            "（{}）{}",
            crate::numerals::to_chinese(item.into()),
            clause.text
        );
    } else {
        let _ = writeln!(out, "{}", clause.text);
    }
    out.push_str(
        "\n遇到拿不准的情况，可以@律规助手 用大白话提问，例如「@律规助手 法官的爱人请我吃饭，能去吗？」；发送「负面清单」查看全部禁止行为。\n",
    );
    Some(out)
}

/// One reminder to come: its week, its instant and its topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upcoming {
    pub week: WeekKey,
    pub slot: Timestamp,
    pub topic: ClauseId,
}

/// The next `weeks` reminders of `schedule` whose slot is at or after `from` (for
/// `lawbot remind preview`). Empty without topics.
pub fn preview(
    schedule: &Schedule,
    from: Timestamp,
    weeks: usize,
    topics: &[ClauseId],
) -> Vec<Upcoming> {
    let mut week = Some(WeekKey::of(from));
    if week.is_some_and(|w| slot(schedule, w) < from) {
        week = week.and_then(WeekKey::next);
    }
    let mut out = Vec::with_capacity(weeks.min(1024));
    while let Some(w) = week {
        if out.len() == weeks {
            break;
        }
        let Some(topic) = topic_for(w, topics) else {
            break;
        };
        out.push(Upcoming {
            week: w,
            slot: slot(schedule, w),
            topic,
        });
        week = w.next();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse()
            .unwrap_or_else(|e| panic!("bad timestamp {text}: {e}"))
    }

    fn week(text: &str) -> WeekKey {
        text.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn schedule(text: &str) -> Schedule {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn regulation() -> Regulation {
        Regulation::parse(include_str!("../lexicon/bazhou-2024-draft.txt")).unwrap()
    }

    #[test]
    fn the_time_zone_is_shanghai_whatever_the_machines() {
        assert_eq!(time_zone().iana_name(), Some(TIME_ZONE));
        let zoned = ts("2026-07-01T00:00:00Z").to_zoned(time_zone());
        assert_eq!(zoned.offset(), Offset::constant(8));
    }

    #[test]
    fn slot_is_the_weekday_and_time_in_shanghai() {
        let monday = Schedule::default();
        for (w, schedule, expected) in [
            ("2026-W48", monday, "2026-11-23T01:00:00Z"),
            ("2024-W23", monday, "2024-06-03T01:00:00Z"),
            ("2026-W53", monday, "2026-12-28T01:00:00Z"),
            ("2027-W01", monday, "2027-01-04T01:00:00Z"),
            ("2026-W48", schedule("tue 18:30"), "2026-11-24T10:30:00Z"),
            // 07:00 Monday in Shanghai is still Sunday in UTC.
            ("2026-W48", schedule("mon 07:00"), "2026-11-22T23:00:00Z"),
            ("2026-W48", schedule("sun 23:59"), "2026-11-29T15:59:00Z"),
        ] {
            assert_eq!(slot(&schedule, week(w)), ts(expected), "{w} {schedule}");
        }
    }

    #[test]
    fn week_keys_follow_shanghai_and_iso_year_boundaries() {
        for (instant, expected) in [
            // Sunday 23:59:59 in Shanghai is Sunday 15:59:59 UTC.
            ("2026-11-29T15:59:59Z", "2026-W48"),
            // Monday 00:00 in Shanghai is still Sunday in UTC.
            ("2026-11-29T16:00:00Z", "2026-W49"),
            ("2026-11-29T23:59:59Z", "2026-W49"),
            ("2026-12-28T01:00:00Z", "2026-W53"),
            ("2027-01-01T04:00:00Z", "2026-W53"),
            ("2027-01-03T15:59:59Z", "2026-W53"),
            ("2027-01-03T16:00:00Z", "2027-W01"),
            ("2025-12-29T01:00:00Z", "2026-W01"),
        ] {
            assert_eq!(WeekKey::of(ts(instant)).to_string(), expected, "{instant}");
        }
        assert_eq!(week("2026-W53").next(), Some(week("2027-W01")));
        assert_eq!(week("2025-W52").next(), Some(week("2026-W01")));
        assert_eq!(week("2026-W48").next(), Some(week("2026-W49")));
        assert_eq!(week("2027-W01").weeks_since(week("2026-W52")), 2);
        assert_eq!(FIRST_WEEK, WeekKey::new(2024, 23).unwrap());
        assert_eq!(
            FIRST_WEEK.day(Weekday::Monday),
            jiff::civil::date(2024, 6, 3)
        );
        assert!(week("2026-W48") < week("2026-W53") && week("2026-W53") < week("2027-W01"));
        for bad in [
            "2025-W53", "2026-W00", "2026-W54", "2026-W5", "2026W05", "2026-05", "", "x-W01",
        ] {
            assert!(bad.parse::<WeekKey>().is_err(), "{bad}");
        }
    }

    #[test]
    fn due_sends_once_within_the_grace_and_skips_after_it() {
        use Due::*;
        let monday = Schedule::default();
        let w48 = week("2026-W48");
        let w47 = week("2026-W47");
        let slot48 = ts("2026-11-23T01:00:00Z");
        let slot49 = ts("2026-11-30T01:00:00Z");
        let grace = DEFAULT_GRACE;
        for (what, now, last_done, expected) in [
            (
                "Sunday 08:59 in Shanghai, before the slot",
                "2026-11-23T00:59:59Z",
                Some(w47),
                Wait { until: slot48 },
            ),
            (
                "Monday 07:30 in Shanghai, Sunday 23:30 UTC",
                "2026-11-22T23:30:00Z",
                Some(w47),
                Wait { until: slot48 },
            ),
            (
                "Sunday 23:59 in Shanghai, last week done",
                "2026-11-22T15:59:00Z",
                Some(w47),
                Wait { until: slot48 },
            ),
            (
                "at 09:00:30",
                "2026-11-23T01:00:30Z",
                Some(w47),
                Send {
                    week: w48,
                    slot: slot48,
                },
            ),
            (
                "exactly at the slot",
                "2026-11-23T01:00:00Z",
                Some(w47),
                Send {
                    week: w48,
                    slot: slot48,
                },
            ),
            (
                "11 h late",
                "2026-11-23T12:00:00Z",
                Some(w47),
                Send {
                    week: w48,
                    slot: slot48,
                },
            ),
            (
                "12 h late, the last moment",
                "2026-11-23T13:00:00Z",
                Some(w47),
                Send {
                    week: w48,
                    slot: slot48,
                },
            ),
            (
                "13 h late",
                "2026-11-23T14:00:00Z",
                Some(w47),
                Skip {
                    week: w48,
                    slot: slot48,
                    late: SignedDuration::from_hours(13),
                },
            ),
            (
                "sent this week",
                "2026-11-23T01:00:31Z",
                Some(w48),
                Wait { until: slot49 },
            ),
            (
                "skipped this week: never sent later",
                "2026-11-28T10:00:00Z",
                Some(w48),
                Wait { until: slot49 },
            ),
            (
                "the week after a skip",
                "2026-11-30T01:00:05Z",
                Some(w48),
                Send {
                    week: week("2026-W49"),
                    slot: slot49,
                },
            ),
            (
                "never reminded, within the grace",
                "2026-11-23T03:00:00Z",
                None,
                Send {
                    week: w48,
                    slot: slot48,
                },
            ),
            (
                "never reminded, long after the slot",
                "2026-11-25T01:00:00Z",
                None,
                Skip {
                    week: w48,
                    slot: slot48,
                    late: SignedDuration::from_hours(48),
                },
            ),
            (
                "a record ahead of the clock sends nothing twice",
                "2026-11-23T02:00:00Z",
                Some(week("2026-W49")),
                Wait { until: slot49 },
            ),
        ] {
            assert_eq!(
                due(&monday, ts(now), last_done, grace),
                expected,
                "{what} ({now})"
            );
        }
    }

    #[test]
    fn due_across_the_iso_year_boundary() {
        let monday = Schedule::default();
        let w53 = week("2026-W53");
        let w01 = week("2027-W01");
        for (now, last_done, expected) in [
            (
                "2026-12-28T01:00:00Z",
                Some(week("2026-W52")),
                Due::Send {
                    week: w53,
                    slot: ts("2026-12-28T01:00:00Z"),
                },
            ),
            (
                "2027-01-01T01:00:00Z",
                Some(w53),
                Due::Wait {
                    until: ts("2027-01-04T01:00:00Z"),
                },
            ),
            (
                "2027-01-04T01:00:00Z",
                Some(w53),
                Due::Send {
                    week: w01,
                    slot: ts("2027-01-04T01:00:00Z"),
                },
            ),
        ] {
            assert_eq!(
                due(&monday, ts(now), last_done, DEFAULT_GRACE),
                expected,
                "{now}"
            );
        }
    }

    #[test]
    fn a_sunday_night_reminder_is_sent_late_on_monday() {
        let sunday = schedule("周日 23:00");
        let w48 = week("2026-W48");
        let slot48 = ts("2026-11-29T15:00:00Z");
        // Monday 02:00 in Shanghai: a new ISO week, but the latest slot is Sunday's.
        assert_eq!(
            due(
                &sunday,
                ts("2026-11-29T18:00:00Z"),
                Some(week("2026-W47")),
                DEFAULT_GRACE
            ),
            Due::Send {
                week: w48,
                slot: slot48
            }
        );
        assert_eq!(
            due(
                &sunday,
                ts("2026-11-29T18:00:00Z"),
                Some(w48),
                DEFAULT_GRACE
            ),
            Due::Wait {
                until: ts("2026-12-06T15:00:00Z")
            }
        );
        // A negative grace counts as none.
        assert_eq!(
            due(
                &sunday,
                slot48,
                Some(week("2026-W47")),
                SignedDuration::from_hours(-1)
            ),
            Due::Send {
                week: w48,
                slot: slot48
            }
        );
    }

    #[test]
    fn settings_parse_and_print() {
        let at = |weekday, hour, minute| {
            ReminderSetting::At(Schedule::new(weekday, hour, minute).unwrap())
        };
        for (text, expected, canonical) in [
            ("off", ReminderSetting::Off, "off"),
            (" OFF ", ReminderSetting::Off, "off"),
            ("关闭", ReminderSetting::Off, "off"),
            ("mon 09:00", at(Weekday::Monday, 9, 0), "mon 09:00"),
            ("tue 18:30", at(Weekday::Tuesday, 18, 30), "tue 18:30"),
            ("Tuesday 18:30", at(Weekday::Tuesday, 18, 30), "tue 18:30"),
            ("周一 09:00", at(Weekday::Monday, 9, 0), "mon 09:00"),
            ("周三 08:00", at(Weekday::Wednesday, 8, 0), "wed 08:00"),
            ("周三08:00", at(Weekday::Wednesday, 8, 0), "wed 08:00"),
            ("星期日 9:05", at(Weekday::Sunday, 9, 5), "sun 09:05"),
            ("礼拜五 17：45", at(Weekday::Friday, 17, 45), "fri 17:45"),
            ("sat 00:00", at(Weekday::Saturday, 0, 0), "sat 00:00"),
            ("thu 23:59", at(Weekday::Thursday, 23, 59), "thu 23:59"),
        ] {
            let parsed: ReminderSetting = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(parsed, expected, "{text}");
            assert_eq!(parsed.to_string(), canonical, "{text}");
            assert_eq!(
                canonical.parse::<ReminderSetting>(),
                Ok(parsed),
                "{canonical}"
            );
        }
        assert_eq!(ReminderSetting::default().to_string(), "mon 09:00");
    }

    #[test]
    fn bad_settings_are_refused_saying_why() {
        use SettingError::*;
        for (text, expected) in [
            ("", Empty),
            ("   ", Empty),
            ("mon", MissingTime("mon".into())),
            ("周一", MissingTime("周一".into())),
            ("09:00", MissingWeekday("09:00".into())),
            ("someday 09:00", UnknownWeekday("someday".into())),
            ("周八 09:00", UnknownWeekday("周八".into())),
            ("on", UnknownWeekday("on".into())),
            ("mon 24:00", BadTime("24:00".into())),
            ("mon 09:60", BadTime("09:60".into())),
            ("mon 9", BadTime("9".into())),
            ("mon 9:5", BadTime("9:5".into())),
            ("mon 009:00", BadTime("009:00".into())),
            ("mon 09:00 daily", BadTime("09:00 daily".into())),
            ("mon 09:00:00", BadTime("09:00:00".into())),
            ("mon 1:-1", BadTime("1:-1".into())),
        ] {
            assert_eq!(
                text.parse::<ReminderSetting>(),
                Err(expected.clone()),
                "{text}"
            );
        }
        let message = "someday 09:00"
            .parse::<ReminderSetting>()
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("someday") && message.contains("周一"),
            "{message}"
        );
        assert!(Schedule::new(Weekday::Monday, 24, 0).is_err());
    }

    #[test]
    fn topics_are_the_28_items_then_articles_8_to_11() {
        let topics = topics(&regulation());
        assert_eq!(topics.len(), 32);
        assert_eq!(topics[0], ClauseId::item(12, 1));
        assert_eq!(topics[27], ClauseId::item(12, 28));
        assert_eq!(topics[28..], [8, 9, 10, 11].map(ClauseId::article));
    }

    #[test]
    fn rotation_covers_every_topic_once_in_32_weeks_the_same_for_everyone() {
        let topics = topics(&regulation());
        assert_eq!(topic_for(FIRST_WEEK, &topics), Some(topics[0]));
        for start in ["2024-W23", "2026-W40", "2023-W01"] {
            let mut seen = Vec::new();
            let mut w = week(start);
            for _ in 0..32 {
                let topic = topic_for(w, &topics).unwrap();
                assert!(
                    !seen.contains(&topic),
                    "{topic} again in {w} (from {start})"
                );
                seen.push(topic);
                w = w.next().unwrap();
            }
            assert_eq!(seen.len(), 32);
        }
        // Consecutive across week 53.
        let before = topics
            .iter()
            .position(|&t| Some(t) == topic_for(week("2026-W53"), &topics));
        let after = topics
            .iter()
            .position(|&t| Some(t) == topic_for(week("2027-W01"), &topics));
        assert_eq!(after, before.map(|i| (i + 1) % 32));
        assert_eq!(topic_for(FIRST_WEEK, &[]), None);
    }

    #[test]
    fn reminder_text_quotes_the_clause() {
        let regulation = regulation();
        let summaries = HashMap::from([
            (
                ClauseId::item(12, 3),
                "不得请求司法人员违规采取或解除保全措施".to_string(),
            ),
            (
                ClauseId::article(10),
                "需要与案件承办人接触的，应当在工作时间、指定场所进行".to_string(),
            ),
        ]);
        let text = reminder_text(
            &regulation,
            &summaries,
            ClauseId::item(12, 3),
            week("2026-W48"),
        )
        .unwrap();
        for part in [
            "【每周一条 · 2026年第48周】",
            "要点：不得请求司法人员违规采取或解除保全措施。",
            "【第十二条第（三）项】",
            "律师不得与司法人员有下列接触交往行为：\n（三）请求司法人员违反规定采取保全措施或者解除保全措施；",
            "@律规助手",
        ] {
            assert!(text.contains(part), "{part:?} missing from:\n{text}");
        }
        let text = reminder_text(
            &regulation,
            &summaries,
            ClauseId::article(10),
            week("2026-W49"),
        )
        .unwrap();
        let clause = regulation.get(ClauseId::article(10)).unwrap();
        assert!(text.contains("【第十条】"), "{text}");
        assert!(text.contains(&clause.text), "{text}");
        assert_eq!(
            reminder_text(
                &regulation,
                &summaries,
                ClauseId::item(12, 40),
                week("2026-W49")
            ),
            None
        );
    }

    #[test]
    fn every_topic_has_a_reminder_within_wecoms_text_limit() {
        let engine = crate::Engine::builtin().unwrap();
        for topic in topics(&engine.regulation) {
            let text = reminder_text(
                &engine.regulation,
                &engine.lexicon.summaries,
                topic,
                FIRST_WEEK,
            )
            .unwrap();
            assert!(text.contains("要点："), "{topic} has no summary");
            assert!(text.len() < 2048, "{topic}: {} bytes", text.len());
        }
    }

    #[test]
    fn preview_lists_the_coming_slots_and_topics() {
        let topics = topics(&regulation());
        let monday = Schedule::default();
        // From Wednesday of 2026-W52: the next three Mondays, across week 53.
        let upcoming = preview(&monday, ts("2026-12-23T00:00:00Z"), 3, &topics);
        let got: Vec<(String, Timestamp)> = upcoming
            .iter()
            .map(|u| (u.week.to_string(), u.slot))
            .collect();
        assert_eq!(
            got,
            [
                ("2026-W53".to_string(), ts("2026-12-28T01:00:00Z")),
                ("2027-W01".to_string(), ts("2027-01-04T01:00:00Z")),
                ("2027-W02".to_string(), ts("2027-01-11T01:00:00Z")),
            ]
        );
        for u in &upcoming {
            assert_eq!(Some(u.topic), topic_for(u.week, &topics));
        }
        // A slot exactly at `from` is included; one just passed is not.
        let at = ts("2026-11-23T01:00:00Z");
        assert_eq!(preview(&monday, at, 1, &topics)[0].week, week("2026-W48"));
        let after = at.checked_add(SignedDuration::from_secs(1)).unwrap();
        assert_eq!(
            preview(&monday, after, 1, &topics)[0].week,
            week("2026-W49")
        );
        assert!(preview(&monday, at, 5, &[]).is_empty());
        assert!(preview(&monday, at, 0, &topics).is_empty());
    }

    #[test]
    fn far_ends_of_time_do_not_panic() {
        let monday = Schedule::default();
        for now in [Timestamp::MIN, Timestamp::MAX] {
            let _ = due(&monday, now, None, DEFAULT_GRACE);
            let _ = due(&monday, now, Some(WeekKey::of(now)), SignedDuration::MAX);
            let _ = preview(&monday, now, 3, &[ClauseId::article(8)]);
        }
    }
}
