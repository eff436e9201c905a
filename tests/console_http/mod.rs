//! The console over plain HTTP, as a browser without scripts: the login form and its nonce, the
//! session cookie, the CSRF field of every form.
// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};

/// A client that does not follow redirects, so that they can be checked.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client")
}

/// The value of the first hidden `csrf` field in a page.
pub fn csrf_field(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    page[at..at + page[at..].find('"').unwrap()].to_string()
}

/// The whole `Set-Cookie` header of cookie `name`.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// `name=value` of a `Set-Cookie` header, as a `Cookie` header sends it back.
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_string()
}

/// The login form's nonce cookie (`name=value`) and hidden field.
pub async fn login_form(base: &str) -> (String, String) {
    let form = client()
        .get(format!("{base}/console/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let nonce_cookie = set_cookie(&form, "lawbot_login").expect("the login nonce cookie");
    let page = form.text().await.unwrap();
    (cookie_pair(&nonce_cookie), csrf_field(&page))
}

/// Fills in and posts the login form with `token`.
pub async fn post_login(base: &str, token: &str) -> reqwest::Response {
    let (cookie, nonce) = login_form(base).await;
    client()
        .post(format!("{base}/console/login"))
        .header(COOKIE, cookie)
        .form(&[("csrf", nonce.as_str()), ("token", token)])
        .send()
        .await
        .unwrap()
}

/// A logged-in clerk: the session cookie and the session's CSRF token.
pub struct Clerk {
    base: String,
    pub cookie: String,
    pub csrf: String,
    http: reqwest::Client,
}

impl Clerk {
    pub async fn login(base: &str, token: &str) -> Clerk {
        let response = post_login(base, token).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "logging in");
        let cookie = cookie_pair(&set_cookie(&response, "lawbot_session").expect("a session"));
        let mut clerk = Clerk {
            base: base.to_string(),
            cookie,
            csrf: String::new(),
            http: client(),
        };
        clerk.csrf = csrf_field(&clerk.get("/console").await.text().await.unwrap());
        clerk
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .unwrap()
    }

    /// The page's text; fails unless it is a 200.
    pub async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.text().await.unwrap()
    }

    /// Posts a form with the session's CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut fields = fields.to_vec();
        fields.push(("csrf", &self.csrf));
        self.post_as_is(path, &fields).await
    }

    /// Posts exactly these fields (a forged or broken form).
    pub async fn post_as_is(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    /// Posts a multipart form (the regulation upload) with these parts.
    pub async fn upload(&self, path: &str, parts: reqwest::multipart::Form) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .multipart(parts)
            .send()
            .await
            .unwrap()
    }
}
