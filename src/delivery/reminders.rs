//! Weekly reminders: at each group's slot, queue that week's clause once; a missed slot is skipped.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;

use super::queued;
use crate::bot::{Bot, Markup, Platform, to_markup};
use crate::remind::{self, Due, ReminderSetting, WeekKey};
use crate::store::{Group, Robot, Store};

/// How often the schedule is checked.
const CHECK_EVERY: Duration = Duration::from_secs(20);

/// The title reminders are sent under.
pub const TITLE: &str = "每周一条";

/// What one check did for one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    Queued { group: String, week: String },
    Skipped { group: String, week: String },
}

pub struct Reminders {
    store: Arc<Store>,
    /// Whose engine is in effect: the reminder quotes the version answers come from.
    bot: Arc<Bot>,
    default: ReminderSetting,
    grace: SignedDuration,
}

impl Reminders {
    pub fn new(
        store: Arc<Store>,
        bot: Arc<Bot>,
        default: ReminderSetting,
        grace: SignedDuration,
    ) -> Self {
        Reminders {
            store,
            bot,
            default,
            grace,
        }
    }

    /// Checks the schedule every few seconds until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            match self.check(Timestamp::now()) {
                Ok(done) => {
                    for d in done {
                        match d {
                            Checked::Queued { group, week } => {
                                tracing::info!(%group, %week, "weekly reminder queued")
                            }
                            Checked::Skipped { group, week } => {
                                tracing::warn!(%group, %week, "weekly reminder skipped: its time passed while lawbot was down")
                            }
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot check the reminders"),
            }
            tokio::select! {
                _ = tokio::time::sleep(CHECK_EVERY) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }

    /// Queues (or skips) every reminder due at `now`; idempotent per group and week.
    pub fn check(&self, now: Timestamp) -> crate::store::Result<Vec<Checked>> {
        let engine = self.bot.engine();
        let topics = remind::topics(&engine.regulation);
        let mut done = Vec::new();
        for group in self.store.groups()? {
            let Some(schedule) = crate::admin::reminder_setting(&group, self.default).schedule()
            else {
                continue;
            };
            let last = self
                .store
                .last_reminder_week(group.id)?
                .and_then(|w| w.parse::<WeekKey>().ok());
            match remind::due(&schedule, now, last, self.grace) {
                Due::Wait { .. } => {}
                Due::Skip { week, .. } => {
                    // A group with no record yet (just registered) starts from its next slot quietly.
                    let recorded = self
                        .store
                        .record_reminder(group.id, &week.to_string(), None)?;
                    if recorded && last.is_some() {
                        done.push(Checked::Skipped {
                            group: group.name.clone(),
                            week: week.to_string(),
                        });
                    }
                }
                Due::Send { week, .. } => {
                    let Some(text) = remind::topic_for(week, &topics).and_then(|topic| {
                        remind::reminder_text(
                            &engine.regulation,
                            &engine.lexicon.summaries,
                            topic,
                            week,
                        )
                    }) else {
                        continue;
                    };
                    let markdown = to_markup(&text, markup(&group));
                    let key = format!("reminder:{}:{week}", group.id);
                    let message = queued(&group, TITLE, &markdown, Some(key));
                    if self
                        .store
                        .record_reminder(group.id, &week.to_string(), Some(&message))?
                    {
                        done.push(Checked::Queued {
                            group: group.name.clone(),
                            week: week.to_string(),
                        });
                    }
                }
            }
        }
        let queued = done
            .iter()
            .filter(|d| matches!(d, Checked::Queued { .. }))
            .count();
        crate::metrics::metrics().reminder_run(queued, done.len() - queued);
        Ok(done)
    }
}

fn markup(group: &Group) -> Markup {
    Markup::of(match group.robot {
        Robot::Wecom { .. } => Platform::Wecom,
        Robot::Dingtalk { .. } | Robot::DingtalkApp { .. } => Platform::Dingtalk,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewGroup, Robot};

    fn reminders() -> (Reminders, Arc<Store>) {
        let store = Arc::new(Store::in_memory().unwrap());
        for (name, setting) in [("a", "default"), ("b", "tue 18:30"), ("c", "off")] {
            store
                .add_group(&NewGroup {
                    name: name.into(),
                    robot: Robot::Wecom {
                        webhook_key: format!("k{name}"),
                    },
                })
                .unwrap();
            store.set_reminder(name, setting).unwrap();
        }
        let engine = Arc::new(crate::Engine::builtin().unwrap());
        let clock = Arc::new(crate::bot::SystemClock);
        let bot = Arc::new(Bot::new(
            engine,
            std::time::Duration::from_secs(3600),
            10,
            clock,
        ));
        let r = Reminders::new(
            store.clone(),
            bot,
            ReminderSetting::default(),
            remind::DEFAULT_GRACE,
        );
        (r, store)
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn each_group_gets_its_week_once_at_its_own_time() {
        let (r, store) = reminders();
        // Monday 2026-11-30 09:00:30 in Shanghai = 01:00:30 UTC.
        let monday = at("2026-11-30T01:00:30Z");
        let first = r.check(monday).unwrap();
        assert_eq!(
            first,
            vec![Checked::Queued {
                group: "a".into(),
                week: "2026-W49".into()
            }]
        );
        assert_eq!(
            r.check(monday).unwrap(),
            vec![],
            "a restart or a second check sends nothing twice"
        );
        // Tuesday 18:30 Shanghai = 10:30 UTC: group b's slot.
        let tuesday = r.check(at("2026-12-01T10:31:00Z")).unwrap();
        assert_eq!(
            tuesday,
            vec![Checked::Queued {
                group: "b".into(),
                week: "2026-W49".into()
            }]
        );
        assert_eq!(store.backlog().unwrap(), 2, "group c has reminders off");
    }

    #[test]
    fn a_week_missed_beyond_the_grace_is_skipped_not_sent_late() {
        let (r, store) = reminders();
        // Down until Tuesday 00:00 Shanghai: 15 hours after Monday 09:00.
        r.check(at("2026-11-25T00:00:00Z")).unwrap();
        let late = r.check(at("2026-11-30T16:00:00Z")).unwrap();
        assert!(
            late.contains(&Checked::Skipped {
                group: "a".into(),
                week: "2026-W49".into()
            }),
            "{late:?}"
        );
        assert_eq!(store.backlog().unwrap(), 0);
        let next = r.check(at("2026-12-07T01:00:10Z")).unwrap();
        assert!(
            next.contains(&Checked::Queued {
                group: "a".into(),
                week: "2026-W50".into()
            }),
            "{next:?}"
        );
    }
}
