//! Who is using the console: sign-in tokens, sign-in cookies and CSRF tokens.
//!
//! - **Tokens.** The admin's token is `web.admin_token_file` / `SWITCHBOARD_WEB_TOKEN`, or one
//!   generated at first start: printed once, and only its SHA-256 kept (in `platform_state`),
//!   so it survives restarts without being stored. Other people are `web.users`, by the SHA-256
//!   of their tokens. Hashes are compared in constant time. Wrong tokens are counted per client
//!   address (`edge::refusals`): past five in a minute from one address they are answered 429
//!   and no longer audited one by one. The right token always signs in — from any address, at
//!   any rate — so nobody can lock the admin out by guessing wrong; what makes guessing futile is
//!   the token's 256 random bits (a configured admin token must be as long and as random).
//! - **Cookies.** Signing in sets `sb_session` to 32 random bytes: `HttpOnly`,
//!   `SameSite=Strict`, `Secure` when `web.secure_cookie` is set. The store keeps only its
//!   SHA-256, with the user and an expiry (`web.session_ttl`). A user removed from the config is
//!   signed out at their next request.
//! - **CSRF.** Each sign-in has its own random CSRF token, handed to the page by `/api/me`; every
//!   state-changing request must carry it in `X-CSRF-Token`, and one whose `Origin` is another
//!   site is refused before that. Sign-in itself (no cookie yet) checks the `Origin` too. These
//!   refusals are audited, bounded the same way per client address.

use std::time::Duration;

use anyhow::Result;
use axum::http::{HeaderMap, header};
use base64::Engine;
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;

use crate::config::{ADMIN, Secret, WebConfig, WebUser};
use crate::domain::audit::AuditAction;
use crate::domain::ids::now_ms;
use crate::domain::thread::Platform;
use crate::edge::client::ClientAddr;
use crate::edge::refusals::Refusals;
use crate::store::{Store, WebLogin};

/// The sign-in cookie.
pub const COOKIE: &str = "sb_session";
/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Where the generated admin token's hash is kept.
const ADMIN_HASH_KEY: &str = "web:admin_token_sha256";

/// A signed-in person, as a request shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub user: String,
    /// May see and act on every session.
    pub admin: bool,
    pub csrf: String,
    /// The SHA-256 of their cookie (to sign out).
    pub login: String,
}

/// Why a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No valid sign-in: 401.
    SignedOut,
    /// Signed in, but the CSRF token or the origin is wrong: 403.
    Forgery,
    /// Too many wrong tokens from this address: 429.
    Throttled,
}

pub struct Auth {
    store: Store,
    admin_sha256: String,
    users: Vec<WebUser>,
    ttl: Duration,
    secure_cookie: bool,
    rng: SystemRandom,
    /// Wrong tokens, per client address.
    wrong_tokens: Refusals,
    /// Requests refused for a wrong CSRF token or another site's `Origin`.
    forgeries: Refusals,
}

/// Where the admin's token came from, which says how they sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminToken {
    /// Configured (`SWITCHBOARD_WEB_TOKEN` or `web.admin_token_file`).
    Configured,
    /// Generated now, at first start: to be printed once (it is kept only as a hash).
    Generated(String),
    /// Generated at an earlier start; only its hash is left.
    GeneratedBefore,
}

impl Auth {
    /// The console's sign-in, with the admin token configured or, at first start, generated —
    /// returned so it can be printed once.
    pub async fn start(
        store: Store,
        config: &WebConfig,
        admin_token: Option<&Secret>,
    ) -> Result<(Auth, AdminToken)> {
        let rng = SystemRandom::new();
        let (admin_sha256, generated) = match admin_token {
            Some(token) => (sha256_hex(token.expose()), AdminToken::Configured),
            None => match store.platform_state(ADMIN_HASH_KEY).await? {
                Some(hash) => (hash, AdminToken::GeneratedBefore),
                None => {
                    let token = random_token(&rng);
                    let hash = sha256_hex(&token);
                    store.set_platform_state(ADMIN_HASH_KEY, &hash).await?;
                    (hash, AdminToken::Generated(token))
                }
            },
        };
        let auth = Auth {
            wrong_tokens: Refusals::new(store.clone(), Platform::Web, AuditAction::SignInRefused),
            forgeries: Refusals::new(store.clone(), Platform::Web, AuditAction::ForgeryRefused),
            store,
            admin_sha256,
            users: config.users.clone(),
            ttl: config.session_ttl,
            secure_cookie: config.secure_cookie,
            rng,
        };
        Ok((auth, generated))
    }

    /// Whose token this is: the user's name and whether they are an admin.
    fn owner(&self, token: &str) -> Option<(String, bool)> {
        let hash = sha256_hex(token);
        let same = |stored: &str| bool::from(stored.as_bytes().ct_eq(hash.as_bytes()));
        if same(&self.admin_sha256) {
            return Some((ADMIN.to_owned(), true));
        }
        self.users
            .iter()
            .find(|u| same(&u.token_sha256.to_ascii_lowercase()))
            .map(|u| (u.name.clone(), u.admin))
    }

    /// Whether `user` may still sign in, and as an admin.
    fn admin_flag(&self, user: &str) -> Option<bool> {
        if user == ADMIN {
            return Some(true);
        }
        self.users.iter().find(|u| u.name == user).map(|u| u.admin)
    }

    /// Signs in with a token sent from `client`: the cookie to set and who it is. A wrong token
    /// is refused (and audited), throttled once `client` sent too many.
    pub async fn sign_in(
        &self,
        client: ClientAddr,
        token: &str,
    ) -> Result<Result<(String, Viewer), Denied>> {
        let Some((user, admin)) = self.owner(token) else {
            let refused = self.wrong_tokens.refuse(client, "a wrong token").await;
            return Ok(Err(if refused.over_limit() {
                Denied::Throttled
            } else {
                Denied::SignedOut
            }));
        };
        let cookie = random_token(&self.rng);
        let login = WebLogin {
            user: user.clone(),
            csrf: random_token(&self.rng),
            expires_at: now_ms() + self.ttl.as_millis() as i64,
        };
        let hash = sha256_hex(&cookie);
        self.store.insert_web_login(&hash, &login).await?;
        let viewer = Viewer {
            user,
            admin,
            csrf: login.csrf,
            login: hash,
        };
        Ok(Ok((cookie, viewer)))
    }

    /// Who sent a request, from its cookie.
    pub async fn viewer(&self, headers: &HeaderMap) -> Result<Result<Viewer, Denied>> {
        let Some(cookie) = cookie_value(headers, COOKIE) else {
            return Ok(Err(Denied::SignedOut));
        };
        let hash = sha256_hex(cookie);
        let Some(login) = self.store.web_login(&hash).await? else {
            return Ok(Err(Denied::SignedOut));
        };
        let Some(admin) = self.admin_flag(&login.user) else {
            self.store.delete_web_login(&hash).await?;
            return Ok(Err(Denied::SignedOut));
        };
        Ok(Ok(Viewer {
            user: login.user,
            admin,
            csrf: login.csrf,
            login: hash,
        }))
    }

    /// The `Set-Cookie` value that signs a browser in.
    pub fn set_cookie(&self, value: &str) -> String {
        let secure = if self.secure_cookie { "; Secure" } else { "" };
        format!(
            "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            self.ttl.as_secs()
        )
    }

    /// The `Set-Cookie` value that signs a browser out.
    pub fn clear_cookie(&self) -> String {
        let secure = if self.secure_cookie { "; Secure" } else { "" };
        format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
    }

    pub async fn sign_out(&self, viewer: &Viewer) -> Result<()> {
        self.store.delete_web_login(&viewer.login).await
    }

    /// Records a request from `client` refused by [`check_csrf`] or [`same_origin`].
    pub async fn refuse_forgery(&self, client: ClientAddr, detail: &str) {
        self.forgeries.refuse(client, detail).await;
    }
}

/// Checks a state-changing request: same-origin (when the browser says), and the sign-in's
/// CSRF token in [`CSRF_HEADER`].
pub fn check_csrf(viewer: &Viewer, headers: &HeaderMap) -> Result<(), Denied> {
    same_origin(headers)?;
    let sent = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if bool::from(sent.as_bytes().ct_eq(viewer.csrf.as_bytes())) && !sent.is_empty() {
        Ok(())
    } else {
        Err(Denied::Forgery)
    }
}

/// Refuses a request whose `Origin` names another site than the `Host` it was sent to.
pub fn same_origin(headers: &HeaderMap) -> Result<(), Denied> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(()); // not a browser's cross-site request
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let origin_host = url::Url::parse(origin).ok().and_then(|url| {
        let host = url.host_str()?.to_owned();
        Some(match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        })
    });
    if origin_host.as_deref() == Some(host) {
        Ok(())
    } else {
        Err(Denied::Forgery)
    }
}

/// The value of cookie `name` in a request's `Cookie` headers.
fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// 32 random bytes, base64url without padding.
fn random_token(rng: &SystemRandom) -> String {
    let mut bytes = [0u8; 32];
    rng.fill(&mut bytes).expect("the system random source");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The SHA-256 of `text`, in lowercase hex.
pub fn sha256_hex(text: &str) -> String {
    digest::digest(&digest::SHA256, text.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fresh token for `web.users`: the token to give the person, and its hash for the config.
pub fn new_user_token() -> (String, String) {
    let token = random_token(&SystemRandom::new());
    let hash = sha256_hex(&token);
    (token, hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    fn viewer() -> Viewer {
        Viewer {
            user: "bob".into(),
            admin: false,
            csrf: "the-csrf".into(),
            login: "x".into(),
        }
    }

    #[test]
    fn cookies_are_found_among_others() {
        let h = headers(&[("cookie", "a=1; sb_session=abc; b=2"), ("cookie", "c=3")]);
        assert_eq!(cookie_value(&h, COOKIE), Some("abc"));
        assert_eq!(
            cookie_value(&headers(&[("cookie", "sb_session=")]), COOKIE),
            None
        );
        assert_eq!(cookie_value(&headers(&[]), COOKIE), None);
    }

    #[test]
    fn csrf_needs_the_token_and_a_same_site_origin() {
        let ok = headers(&[("x-csrf-token", "the-csrf"), ("host", "127.0.0.1:8080")]);
        assert_eq!(check_csrf(&viewer(), &ok), Ok(()));
        let same = headers(&[
            ("x-csrf-token", "the-csrf"),
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
        ]);
        assert_eq!(check_csrf(&viewer(), &same), Ok(()));
        for bad in [
            headers(&[("host", "127.0.0.1:8080")]),
            headers(&[("x-csrf-token", "other"), ("host", "127.0.0.1:8080")]),
            headers(&[("x-csrf-token", ""), ("host", "127.0.0.1:8080")]),
            headers(&[
                ("x-csrf-token", "the-csrf"),
                ("host", "127.0.0.1:8080"),
                ("origin", "http://evil.example"),
            ]),
            headers(&[
                ("x-csrf-token", "the-csrf"),
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8081"),
            ]),
        ] {
            assert_eq!(check_csrf(&viewer(), &bad), Err(Denied::Forgery), "{bad:?}");
        }
    }

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let (token, hash) = new_user_token();
        assert_eq!(token.len(), 43);
        assert_eq!(sha256_hex(&token), hash);
    }
}
