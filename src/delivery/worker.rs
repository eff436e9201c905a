//! The delivery worker: drains the outbox, one part per group at a time, within each robot's rate limit.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::watch;

use super::Sender;
use crate::store::{Group, OutboxItem, Outcome, Store, now_ms};

/// How the worker paces itself.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Messages one robot may be sent per window.
    pub per_window: u32,
    pub window: Duration,
    /// How long to sleep when nothing is due.
    pub poll: Duration,
    /// Groups served at the same time.
    pub concurrency: usize,
}

pub struct Worker {
    store: Arc<Store>,
    sender: Sender,
    config: WorkerConfig,
}

impl Worker {
    pub fn new(store: Arc<Store>, sender: Sender, config: WorkerConfig) -> Self {
        Worker {
            store,
            sender,
            config,
        }
    }

    /// Drains the outbox until `stop` turns true. Sends cut short by a crash are sent again.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        tracing::info!(
            backlog = self.store.backlog().unwrap_or(0),
            "outbox worker started"
        );
        match self.store.abandon_in_flight() {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                sends = n,
                "sends were in flight when lawbot last stopped; they will be repeated"
            ),
            Err(e) => tracing::error!(error = %e, "cannot read the outbox"),
        }
        loop {
            let sent = match self.drain_once().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(error = %e, "the outbox worker failed; retrying");
                    0
                }
            };
            if sent > 0 {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(self.config.poll) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }

    /// Sends every part that is due now and within its robot's limit; returns how many were tried.
    pub async fn drain_once(&self) -> crate::store::Result<usize> {
        let now = now_ms();
        let window = self.config.window.as_millis() as i64;
        let mut ready: Vec<(OutboxItem, Group)> = Vec::new();
        for (item, group) in self.store.due(now)? {
            if self.store.attempts_since(group.id, now - window)?
                < i64::from(self.config.per_window)
            {
                ready.push((item, group));
            }
        }
        let tried = ready.len();
        let results: Vec<crate::store::Result<()>> = futures_util::stream::iter(ready)
            .map(|(item, group)| self.deliver(item, group))
            .buffer_unordered(self.config.concurrency.max(1))
            .collect()
            .await;
        results.into_iter().collect::<crate::store::Result<()>>()?;
        Ok(tried)
    }

    async fn deliver(&self, item: OutboxItem, group: Group) -> crate::store::Result<()> {
        let started = now_ms();
        let attempt = self.store.begin_attempt(&item, started)?;
        let outcome = self
            .sender
            .send(&group, &item.title, &item.content, item.attempts, started)
            .await;
        match &outcome {
            Outcome::Sent => tracing::debug!(group = %group.name, part = item.part, "delivered"),
            Outcome::Retry {
                error, after_ms, ..
            } => {
                tracing::warn!(group = %group.name, %error, retry_in_ms = after_ms, "delivery will be retried")
            }
            Outcome::Failed { error, .. } => {
                tracing::warn!(group = %group.name, %error, "message refused")
            }
            Outcome::Broken { error, .. } => {
                tracing::error!(group = %group.name, %error, "the group's robot was refused; deliveries to it stop")
            }
        }
        let (result, errcode) = match &outcome {
            Outcome::Sent => ("sent", None),
            Outcome::Retry { errcode, .. } => ("retry", *errcode),
            Outcome::Failed { errcode, .. } => ("failed", *errcode),
            Outcome::Broken { errcode, .. } => ("broken", *errcode),
        };
        crate::metrics::metrics().delivery(group.robot.platform(), result, errcode);
        self.store
            .finish_attempt(attempt, &item, now_ms(), &outcome)
    }
}
