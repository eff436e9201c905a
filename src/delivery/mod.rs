//! Delivering the outbox: split long messages, send to group robots, obey their rate limits.

mod dingtalk_app;
mod reminders;
mod send;
mod split;
mod worker;

pub use dingtalk_app::AppCredentials;
pub use reminders::{Checked, Reminders};
pub use send::{Endpoints, Sender, classify};
pub use split::{part_limit, split};
pub use worker::{Worker, WorkerConfig};

use crate::store::{Group, Queued};

/// The queued form of a message for one group: split for its platform, parts numbered.
pub fn queued(group: &Group, title: &str, body: &str, dedup_key: Option<String>) -> Queued {
    // The sender puts the title in bold before every part.
    let limit = part_limit(&group.robot).saturating_sub(title.len() + 8);
    Queued {
        group_id: group.id,
        title: title.to_string(),
        parts: split(body, limit),
        dedup_key,
    }
}
