//! The HTTP server: platform callbacks, `/api/ask`, `/healthz`, `/metrics`, the admin API and the console.

mod admin;
mod api;
mod dingtalk;
mod error;
mod wecom;

pub use error::HttpError;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::bot::Bot;
use crate::config::Config;
use crate::console::Console;
use crate::lexicon::Source;
use crate::platform::wecom::crypto::WecomCrypto;
use crate::store::Store;

/// What every handler shares: the bot and the configuration it was started with.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    bot: Arc<Bot>,
    store: Arc<Store>,
    config: Config,
    wecom: Option<WecomCrypto>,
    /// The web console, when the admin token is set.
    console: Option<Console>,
}

impl AppState {
    /// Checks the platform keys once, at start. `base` is the lexicon new versions of the
    /// regulation are checked against.
    pub fn new(
        bot: Arc<Bot>,
        store: Arc<Store>,
        config: Config,
        base: Source,
    ) -> anyhow::Result<Self> {
        let keys = config
            .wecom
            .as_ref()
            .and_then(|w| w.token.as_ref().zip(w.encoding_aes_key.as_ref()));
        let wecom = match keys {
            Some((token, key)) => Some(
                WecomCrypto::new(token.expose(), key.expose())
                    .map_err(|e| anyhow::anyhow!("[wecom] encoding_aes_key: {e}"))?,
            ),
            None => None,
        };
        let console = config.admin.token.is_some().then(|| Console::new(base));
        Ok(AppState {
            inner: Arc::new(Inner {
                bot,
                store,
                config,
                wecom,
                console,
            }),
        })
    }

    pub fn bot(&self) -> &Bot {
        &self.inner.bot
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn console(&self) -> Option<&Console> {
        self.inner.console.as_ref()
    }
}

/// Checks a request's `Authorization: Bearer …` header against `token`, in constant time.
pub fn authorize_bearer(
    headers: &axum::http::HeaderMap,
    token: &crate::config::Secret,
) -> Result<(), HttpError> {
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(HttpError::Unauthorized("missing bearer token"))?;
    if token.matches(given) {
        Ok(())
    } else {
        Err(HttpError::Unauthorized("wrong bearer token"))
    }
}

/// Runs each request in a tracing span with a request id (the proxy's `X-Request-Id`, or a new
/// one), echoed in the response, so that log lines of one request can be found together.
async fn request_span(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use tracing::Instrument;
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(crate::platform::wecom::message::random_id, str::to_string);
    let span = tracing::info_span!("request", id = %id, method = %request.method(), path = %request.uri().path());
    let mut response = next.run(request).instrument(span).await;
    if let Ok(value) = axum::http::HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// The router, without a listener, so tests can drive it directly or serve it on port 0.
pub fn app(state: AppState) -> Router {
    let config = state.config();
    let mut router = Router::new()
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .route("/api/ask", post(api::ask));
    if let Some(w) = config
        .wecom
        .as_ref()
        .filter(|_| state.inner.wecom.is_some())
    {
        router = router.route(
            &w.callback_path,
            get(wecom::verify_url).post(wecom::callback),
        );
    }
    if let Some(d) = config.dingtalk.as_ref().filter(|d| d.app_secret.is_some()) {
        router = router.route(&d.callback_path, post(dingtalk::callback));
    }
    if config.admin.token.is_some() {
        router = router
            .route(
                "/admin/groups",
                get(admin::list_groups).post(admin::add_group),
            )
            .route(
                "/admin/groups/{name}",
                axum::routing::delete(admin::remove_group),
            )
            .route("/admin/broadcasts", post(admin::broadcast))
            .route("/admin/broadcasts/{id}", get(admin::broadcast_report))
            .merge(crate::console::routes());
    }
    router
        .layer(axum::middleware::from_fn(request_span))
        .layer(DefaultBodyLimit::max(config.server.body_limit))
        .with_state(state)
}
