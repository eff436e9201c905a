//! `lawbot serve`: the HTTP server and the long connections the configuration enables, until SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::admin;
use crate::bot::{BatchedLog, Bot, Clock, SystemClock};
use crate::config::Config;
use crate::delivery::{Reminders, Worker, WorkerConfig};
use crate::engine::Engine;
use crate::lexicon::Source;
use crate::publish;
use crate::remind::ReminderSetting;
use crate::server::{AppState, app};
use crate::store::Store;
use crate::stream;
use jiff::SignedDuration;

/// A running service: where it listens, and how to stop it.
pub struct Running {
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish, closes the long connections.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.task.await.context("the server task panicked")?
    }
}

/// Starts everything the configuration enables and returns once the listener is bound, answering
/// from the built-in lexicon (or a published version of the regulation in effect).
pub async fn start(config: Config, engine: Arc<Engine>) -> anyhow::Result<Running> {
    start_with(config, engine, Source::builtin()).await
}

/// [`start`] with the lexicon `engine` was loaded from (published versions are checked against it).
pub async fn start_with(
    config: Config,
    base_engine: Arc<Engine>,
    base: Source,
) -> anyhow::Result<Running> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let store = Arc::new(match &config.storage.path {
        Some(path) => Store::open(path).with_context(|| format!("opening {}", path.display()))?,
        None => Store::in_memory()?,
    });
    let today = SystemClock.today();
    let (engine, version) = publish::engine_in_effect(&store, &base, base_engine.clone(), today)?;
    if let Some(id) = version {
        tracing::info!(
            version = id,
            "answering from a published version of the regulation"
        );
    }
    let mut bot = Bot::new(
        engine.clone(),
        Duration::from_secs(config.server.dedup_seconds),
        config.server.rate_limit_per_minute,
        Arc::new(SystemClock),
    );
    if config.questions.log {
        let (log, queue) = BatchedLog::new();
        tokio::spawn(BatchedLog::run(store.clone(), queue));
        bot = bot.with_question_log(Arc::new(log));
    }
    let bot = Arc::new(bot);
    let state = AppState::new(bot.clone(), store.clone(), config.clone(), base.clone())?;
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let mut connections = Vec::new();
    if let Some(long) = config
        .wecom
        .as_ref()
        .and_then(|w| w.long_connection.clone())
    {
        connections.push(tokio::spawn(stream::wecom::run(
            long,
            bot.clone(),
            stopped.clone(),
        )));
    }
    if let Some(s) = config.dingtalk.as_ref().and_then(|d| d.stream.clone()) {
        connections.push(tokio::spawn(stream::dingtalk::run(
            s,
            bot.clone(),
            stopped.clone(),
        )));
    }
    let worker = Worker::new(
        store.clone(),
        admin::sender(&config),
        WorkerConfig {
            per_window: config.outbox.per_minute,
            window: Duration::from_secs(config.outbox.window_seconds),
            poll: Duration::from_millis(config.outbox.poll_ms),
            // One send in flight: a crash repeats at most that one.
            concurrency: 1,
        },
    );
    connections.push(tokio::spawn(worker.run(stopped.clone())));
    let default: ReminderSetting = config
        .reminders
        .default
        .parse()
        .context("[reminders] default")?;
    let grace = SignedDuration::from_hours(i64::from(config.reminders.grace_hours));
    let reminders = Reminders::new(store.clone(), bot.clone(), default, grace);
    connections.push(tokio::spawn(publish::follow_versions(
        store.clone(),
        base,
        base_engine,
        bot.clone(),
        version,
        stopped.clone(),
    )));
    connections.push(tokio::spawn(reminders.run(stopped.clone())));
    connections.push(tokio::spawn(expire_questions(
        store,
        config.questions.retention_days,
        stopped.clone(),
    )));
    tracing::info!(%addr, wecom = config.wecom.is_some(), dingtalk = config.dingtalk.is_some(), "lawbot serving");
    let mut until_stopped = stopped.clone();
    let task = tokio::spawn(async move {
        axum::serve(listener, app(state))
            .with_graceful_shutdown(async move {
                let _ = until_stopped.wait_for(|s| *s).await;
            })
            .await
            .context("the HTTP server failed")?;
        for c in connections {
            let _ = c.await;
        }
        tracing::info!("lawbot stopped");
        Ok(())
    });
    Ok(Running { addr, stop, task })
}

/// Deletes logged questions older than the retention period, hourly.
async fn expire_questions(store: Arc<Store>, retention_days: u32, mut stop: watch::Receiver<bool>) {
    let retention_ms = i64::from(retention_days) * 24 * 3600 * 1000;
    loop {
        match store.expire_questions(crate::store::now_ms() - retention_ms) {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "expired logged questions"),
            Err(e) => tracing::warn!(error = %e, "cannot expire logged questions"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Runs until SIGTERM or Ctrl-C, then shuts down gracefully.
pub async fn run(config: Config, engine: Arc<Engine>, base: Source) -> anyhow::Result<()> {
    let running = start_with(config, engine, base).await?;
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.shutdown().await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
