//! Delivering the outbox: split long messages, send to group robots, obey their rate limits.

mod dingtalk_app;
mod reminders;
mod send;
mod split;
mod worker;

pub use dingtalk_app::AppCredentials;
pub use reminders::{Checked, Reminders, TITLE as REMINDER_TITLE};
pub use send::{Endpoints, Sender, classify, dingtalk_title, shown_markdown};
pub use split::{part_limit, split};
pub use worker::{Worker, WorkerConfig};

use crate::store::{Group, Queued, Robot};

/// The queued form of a message for one group: split for its platform, parts numbered.
pub fn queued(group: &Group, title: &str, body: &str, dedup_key: Option<String>) -> Queued {
    Queued {
        group_id: group.id,
        title: title.to_string(),
        parts: parts_for(&group.robot, title, body),
        dedup_key,
    }
}

/// The parts a message is sent in to a group on `robot`.
pub fn parts_for(robot: &Robot, title: &str, body: &str) -> Vec<String> {
    // The sender puts the title in bold before every part.
    let limit = part_limit(robot).saturating_sub(title.len() + 8);
    split(body, limit)
}
