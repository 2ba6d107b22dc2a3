//! The console's page, script, style and icon, compiled into the binary (no build step, no CDN),
//! and the security headers every response of the console carries.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/app.css");
/// Two switches on the console's blue, 16 and 32 pixels (browsers ask for `/favicon.ico`
/// whatever the page says).
const ICON: &[u8] = include_bytes!("assets/favicon.ico");

/// Only the console's own script, style and images run; nothing may frame it.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX.as_bytes())
}

pub async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT.as_bytes())
}

pub async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE.as_bytes())
}

pub async fn icon() -> Response {
    asset("image/x-icon", ICON)
}

fn asset(content_type: &'static str, body: &'static [u8]) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Adds the console's security headers to a response.
pub async fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let mut set = |name, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, CSP);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "no-referrer");
    set(header::CACHE_CONTROL, "no-store");
    response
}
