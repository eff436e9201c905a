//! The console's page shell (navigation, flash message, logout), the login page and the embedded assets.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, html};

use super::session::{self, COOKIE, LOGIN_COOKIE, Session};
use super::{Form, Page, console, over_tls};
use crate::server::AppState;

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

/// The pages of the navigation bar: path and name.
const NAV: [(&str, &str); 6] = [
    ("/console", "概览"),
    ("/console/groups", "群组"),
    ("/console/broadcast", "群发通知"),
    ("/console/regulation", "规定版本"),
    ("/console/reminders", "每周提醒"),
    ("/console/try", "试一试"),
];

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · 律规助手控制台" }
            link rel="stylesheet" href="/console/assets/console.css";
            script src="/console/assets/console.js" defer {}
        }
    }
}

/// A page of the console for a logged-in clerk: navigation (with `active` marked), the flash
/// message, the body, and the logout button.
pub fn page(clerk: &Session, active: &str, title: &str, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="zh-CN" {
            (head(title))
            body {
                header.top {
                    a.brand href="/console" { "律规助手 · 控制台" }
                    nav {
                        @for (path, name) in NAV {
                            a href=(path) class=[(path == active).then_some("active")] { (name) }
                        }
                    }
                    form.logout method="post" action="/console/logout" {
                        (csrf(clerk))
                        button type="submit" { "退出登录" }
                    }
                }
                main {
                    h1 { (title) }
                    @if let Some(message) = &clerk.flash {
                        p.flash role="status" { (message) }
                    }
                    (body)
                }
            }
        }
    };
    Html(markup.into_string()).into_response()
}

/// A page without navigation (login, errors).
pub fn bare(title: &str, body: Markup) -> Html<String> {
    let markup = html! {
        (DOCTYPE)
        html lang="zh-CN" {
            (head(title))
            body.bare {
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    Html(markup.into_string())
}

/// The hidden field every form carries.
pub fn csrf(clerk: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(clerk.csrf); }
}

pub async fn asset(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "console.css" => (CSS, "text/css; charset=utf-8"),
        "console.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// The login form, with a fresh login-CSRF value in a cookie and a hidden field.
pub async fn login_form(State(state): State<AppState>, headers: HeaderMap) -> Page {
    console(&state)?;
    Ok(login_page(&headers, StatusCode::OK, None))
}

fn login_page(headers: &HeaderMap, status: StatusCode, error: Option<&str>) -> Response {
    let nonce = session::random_token();
    let cookie = session::set_cookie(
        LOGIN_COOKIE,
        &nonce,
        "/console/login",
        Some(600),
        over_tls(headers),
    );
    let body = html! {
        form.login method="post" action="/console/login" {
            input type="hidden" name="csrf" value=(nonce);
            @if let Some(error) = error {
                p.error role="alert" { (error) }
            }
            label {
                "管理令牌"
                input type="password" name="token" autocomplete="current-password" required autofocus;
            }
            button.primary type="submit" { "登录" }
            p.hint { "令牌即配置文件 [admin] token（或环境变量 LAWBOT_ADMIN_TOKEN）的值。" }
        }
    };
    (
        status,
        [(header::SET_COOKIE, cookie)],
        bare("登录律规助手控制台", body),
    )
        .into_response()
}

/// Checks the token (in constant time, a few wrong ones a minute at most) and starts a session.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Page {
    let console = console(&state)?;
    let field = |name: &str| super::field(&fields, name);
    let nonce = session::cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if nonce.is_empty() || !session::same(field("csrf"), &nonce) {
        crate::metrics::metrics().rejected("console csrf");
        return Ok(login_page(
            &headers,
            StatusCode::FORBIDDEN,
            Some("登录表单已过期，请重新输入令牌。"),
        ));
    }
    if !console.sessions.allow_attempt() {
        return Ok(login_page(
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            Some("错误次数过多，请一分钟后再试。"),
        ));
    }
    let token = state.config().admin.token.as_ref();
    if !token.is_some_and(|t| t.matches(field("token"))) {
        console.sessions.record_failure();
        crate::metrics::metrics().rejected("console login");
        tracing::info!("console: login refused (wrong token)");
        return Ok(login_page(
            &headers,
            StatusCode::UNAUTHORIZED,
            Some("令牌不正确。"),
        ));
    }
    let session = console.sessions.create();
    tracing::info!("console: logged in");
    let tls = over_tls(&headers);
    let mut response = Redirect::to("/console").into_response();
    let cookies = [
        session::set_cookie(COOKIE, &session.id, "/console", None, tls),
        session::set_cookie(LOGIN_COOKIE, "", "/console/login", Some(0), tls),
    ];
    for c in cookies {
        if let Ok(value) = c.parse() {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap, form: Form) -> Page {
    console(&state)?.sessions.remove(&form.clerk.id);
    let cookie = session::set_cookie(COOKIE, "", "/console", Some(0), over_tls(&headers));
    Ok((
        [(header::SET_COOKIE, cookie)],
        Redirect::to("/console/login"),
    )
        .into_response())
}
