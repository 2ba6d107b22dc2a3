//! A client of the web console's API, as its page uses it: the sign-in cookie kept by hand,
//! the CSRF token from `/api/me` sent with every state-changing request (or a wrong one, or
//! none, to test the refusals).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::harness::WAIT;

pub struct WebClient {
    http: reqwest::Client,
    base: String,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
}

/// What a request may leave out or get wrong.
#[derive(Debug, Clone, Copy, Default)]
pub struct Forged<'a> {
    /// Send this CSRF token instead of the right one (`Some("")`: none at all).
    pub csrf: Option<&'a str>,
    /// Send this `Origin`.
    pub origin: Option<&'a str>,
}

impl WebClient {
    pub fn new(base: &str) -> WebClient {
        WebClient::with_http(base, reqwest::Client::new())
    }

    /// A client whose connections come from `address` (another loopback address, say, to be
    /// another client to the console).
    pub fn from_address(base: &str, address: std::net::IpAddr) -> WebClient {
        let http = reqwest::Client::builder()
            .local_address(address)
            .build()
            .expect("an HTTP client");
        WebClient::with_http(base, http)
    }

    fn with_http(base: &str, http: reqwest::Client) -> WebClient {
        WebClient {
            http,
            base: base.to_owned(),
            cookie: None,
            csrf: None,
        }
    }

    /// Signs in; returns the status and the `Set-Cookie` header.
    pub async fn sign_in(&mut self, token: &str) -> (StatusCode, Option<String>) {
        self.sign_in_from(token, None).await
    }

    pub async fn sign_in_from(
        &mut self,
        token: &str,
        origin: Option<&str>,
    ) -> (StatusCode, Option<String>) {
        let mut request = self
            .http
            .post(format!("{}/api/login", self.base))
            .json(&json!({ "token": token }));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response = request.send().await.expect("sign in");
        let status = response.status();
        let set_cookie = response
            .headers()
            .get("set-cookie")
            .map(|v| v.to_str().unwrap().to_owned());
        if status.is_success() {
            let cookie = set_cookie.as_deref().unwrap().split(';').next().unwrap();
            self.cookie = Some(cookie.to_owned());
            let me: Value = response.json().await.unwrap();
            self.csrf = Some(me["csrf"].as_str().unwrap().to_owned());
        }
        (status, set_cookie)
    }

    fn with_cookie(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        }
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .with_cookie(self.http.get(format!("{}{path}", self.base)))
            .send()
            .await
            .expect("GET");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The raw response of a GET (pages, files, the event stream).
    pub async fn get_raw(&self, path: &str) -> reqwest::Response {
        self.with_cookie(self.http.get(format!("{}{path}", self.base)))
            .send()
            .await
            .expect("GET")
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.post_forged(path, body, Forged::default()).await
    }

    pub async fn post_forged(
        &self,
        path: &str,
        body: Value,
        forged: Forged<'_>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .with_cookie(self.http.post(format!("{}{path}", self.base)))
            .json(&body);
        let csrf = forged.csrf.or(self.csrf.as_deref()).unwrap_or_default();
        if !csrf.is_empty() {
            request = request.header("x-csrf-token", csrf);
        }
        if let Some(origin) = forged.origin {
            request = request.header("origin", origin);
        }
        let response = request.send().await.expect("POST");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Starts a web session on the default host; its id.
    pub async fn new_session(&self) -> String {
        let (status, made) = self.post("/api/sessions", json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        made["id"].as_str().unwrap().to_owned()
    }

    /// Sends a prompt to a session.
    pub async fn prompt(&self, session: &str, text: &str) {
        let (status, body) = self
            .post(
                &format!("/api/sessions/{session}/prompts"),
                json!({ "text": text }),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }

    /// Waits until the session's page shows what `check` looks for, re-reading it whenever the
    /// console's event stream says something changed (and at least every second, should a
    /// change reach the page without one).
    pub async fn wait_session<T>(
        &self,
        session: &str,
        mut check: impl FnMut(&Value) -> Option<T>,
    ) -> T {
        let mut events = self.get_raw("/api/events").await;
        assert_eq!(events.status(), StatusCode::OK, "the event stream");
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let (status, detail) = self.get(&format!("/api/sessions/{session}")).await;
            assert_eq!(status, StatusCode::OK, "{detail}");
            if let Some(found) = check(&detail) {
                return found;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the session never showed it: {detail:#}"
            );
            match tokio::time::timeout(Duration::from_secs(1), events.chunk()).await {
                Ok(Ok(Some(_))) | Err(_) => {} // an event, or a quiet second
                Ok(_) => panic!("the console's event stream ended"),
            }
        }
    }

    /// Waits until turn `index` of the session has ended; returns it.
    pub async fn wait_turn_done(&self, session: &str, index: usize) -> Value {
        self.wait_session(session, |d| {
            let turn = d["turns"].get(index)?;
            (turn["state"] == "done").then(|| turn.clone())
        })
        .await
    }
}
