//! The bureau's web console at `/console`: Chinese pages for the clerks, behind the admin token.
//!
//! Server-rendered HTML (maud escapes every value), one small stylesheet and script embedded in
//! the binary, charts drawn as SVG on the server: nothing to build, nothing fetched from elsewhere.
//! A clerk logs in with the admin token and gets a session cookie (HttpOnly, SameSite=Strict);
//! every form carries the session's CSRF token, checked before anything changes.

mod broadcast;
mod charts;
mod groups;
mod layout;
mod markdown;
mod overview;
mod regulation;
mod reminders;
mod session;
mod try_it;

pub use session::Sessions;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderValue, Method, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::html;

use crate::lexicon::Source;
use crate::server::AppState;
use crate::store::StoreError;
use session::{COOKIE, Session};

/// What the console keeps besides the server's state.
#[derive(Debug)]
pub struct Console {
    pub sessions: Sessions,
    /// The lexicon new versions of the regulation are checked against.
    pub base: Source,
}

impl Console {
    pub fn new(base: Source) -> Self {
        Console {
            sessions: Sessions::default(),
            base,
        }
    }
}

/// The console's routes (mounted when `[admin] token` is set).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(overview::page))
        .route("/console/", get(|| async { Redirect::to("/console") }))
        .route(
            "/console/login",
            get(layout::login_form).post(layout::login),
        )
        .route("/console/logout", post(layout::logout))
        .route("/console/assets/{file}", get(layout::asset))
        .route("/console/groups", get(groups::list).post(groups::add))
        .route(
            "/console/groups/{id}",
            get(groups::edit_form).post(groups::edit),
        )
        .route("/console/groups/{id}/test", post(groups::test))
        .route("/console/groups/{id}/remove", post(groups::remove))
        .route(
            "/console/broadcast",
            get(broadcast::compose).post(broadcast::submit),
        )
        .route("/console/broadcasts/{id}", get(broadcast::report))
        .route("/console/broadcasts/{id}/rows", get(broadcast::rows))
        .route("/console/regulation", get(regulation::page))
        .route("/console/regulation/upload", post(regulation::upload))
        .route("/console/regulation/draft", get(regulation::draft))
        .route("/console/regulation/publish", post(regulation::publish))
        .route("/console/reminders", get(reminders::page))
        .route("/console/reminders/{id}", post(reminders::set))
        .route("/console/try", get(try_it::page).post(try_it::ask))
        .layer(axum::middleware::from_fn(headers))
}

/// Every console response: no caching, no framing, scripts and styles only from the console itself.
async fn headers(request: Request, next: axum::middleware::Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let set = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (name, value) in set {
        h.insert(name, HeaderValue::from_static(value));
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Why a console request failed, shown to the clerk as a page.
#[derive(Debug)]
pub enum ConsoleError {
    /// The clerk's input cannot be used; the message says why.
    Invalid(String),
    NotFound(String),
    /// No session, or one that has ended.
    LoggedOut,
    /// A form without the session's CSRF token.
    Forbidden,
    Internal(anyhow::Error),
}

impl From<StoreError> for ConsoleError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(m) => ConsoleError::Invalid(format!("操作未完成：{m}")),
            StoreError::NotFound(m) => ConsoleError::NotFound(m),
            other => ConsoleError::Internal(other.into()),
        }
    }
}

impl From<anyhow::Error> for ConsoleError {
    fn from(e: anyhow::Error) -> Self {
        ConsoleError::Internal(e)
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            ConsoleError::Invalid(m) => (StatusCode::BAD_REQUEST, m),
            ConsoleError::NotFound(m) => (StatusCode::NOT_FOUND, format!("找不到：{m}")),
            ConsoleError::LoggedOut => (
                StatusCode::UNAUTHORIZED,
                "请先登录（会话不存在或已过期）。".to_string(),
            ),
            ConsoleError::Forbidden => {
                crate::metrics::metrics().rejected("console csrf");
                (
                    StatusCode::FORBIDDEN,
                    "表单缺少有效的安全令牌（CSRF），操作未执行。请刷新页面后重试。".to_string(),
                )
            }
            ConsoleError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "console: internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "服务器内部错误，操作未完成。详情见服务日志。".to_string(),
                )
            }
        };
        let body = html! {
            p.error { (message) }
            p { a href="/console" { "返回控制台" } }
        };
        (status, layout::bare("出错了", body)).into_response()
    }
}

pub type Page = Result<Response, ConsoleError>;

fn console(state: &AppState) -> Result<&Console, ConsoleError> {
    state
        .console()
        .ok_or_else(|| ConsoleError::NotFound("控制台未开启".into()))
}

/// A logged-in clerk: the request carried a live session cookie. Pages asked for without one
/// send the browser to the login page; anything else is refused.
pub struct Clerk(pub Session);

impl FromRequestParts<AppState> for Clerk {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let found = session::cookie(&parts.headers, COOKIE)
            .and_then(|id| state.console().and_then(|c| c.sessions.touch(&id)));
        match found {
            Some(s) => Ok(Clerk(s)),
            None if parts.method == Method::GET => {
                Err(Redirect::to("/console/login").into_response())
            }
            None => Err(ConsoleError::LoggedOut.into_response()),
        }
    }
}

/// The first value of `name` in a posted form, as sent; empty if absent.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// A posted form of a logged-in clerk whose CSRF token matched the session's.
pub struct Form {
    pub clerk: Session,
    fields: Vec<(String, String)>,
}

impl Form {
    /// The first value of `name`, trimmed; empty if absent.
    pub fn get(&self, name: &str) -> &str {
        field(&self.fields, name).trim()
    }

    /// `name`'s value, or `None` when empty.
    pub fn optional(&self, name: &str) -> Option<String> {
        Some(self.get(name))
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    /// Every value of `name` (checkboxes).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

impl FromRequest<AppState> for Form {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let Clerk(clerk) = Clerk::from_request_parts(&mut parts, state).await?;
        let request = Request::from_parts(parts, body);
        let axum::Form(fields) = axum::Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let form = Form { clerk, fields };
        if !session::same(form.get("csrf"), &form.clerk.csrf) {
            return Err(ConsoleError::Forbidden.into_response());
        }
        Ok(form)
    }
}

/// Sets the message the next page shows, and sends the browser there.
fn done(state: &AppState, clerk: &Session, message: impl Into<String>, to: &str) -> Page {
    let message = message.into();
    console(state)?
        .sessions
        .update(&clerk.id, |s| s.flash = Some(message));
    Ok(Redirect::to(to).into_response())
}

/// Whether the browser reached us over TLS (directly or through the proxy), for `Secure` cookies.
fn over_tls(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}
