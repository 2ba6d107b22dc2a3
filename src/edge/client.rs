//! Who sent a request: the peer's address, or — only when the peer is one of the configured
//! `http.trusted_proxies` — the client that proxy names in `X-Forwarded-For`.
//!
//! Every proxy appends the address it received the request from, so the list is read from the
//! right: trusted proxies are skipped, and the first address that is not one is the client.
//! Entries further left were written by whoever sent the request and prove nothing; an
//! unreadable header leaves the last trusted hop as the client. Without trusted proxies the
//! header is never read, so nobody can pick their own address to dodge a per-client limit.
//!
//! [`resolving`] wraps the whole HTTP router once; handlers take [`ClientAddr`] as an extractor.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// The address a request came from (see the module docs for proxies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

impl std::fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Gives every request of `router` its [`ClientAddr`]. The server must be started with
/// `into_make_service_with_connect_info::<SocketAddr>()`, which tells the peer.
pub fn resolving(router: Router, trusted_proxies: &[IpAddr]) -> Router {
    let trusted: Arc<[IpAddr]> = trusted_proxies.iter().map(canonical).collect();
    router.layer(axum::middleware::from_fn_with_state(trusted, resolve))
}

async fn resolve(
    State(trusted): State<Arc<[IpAddr]>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = client_of(peer.ip(), request.headers(), &trusted);
    request.extensions_mut().insert(ClientAddr(client));
    next.run(request).await
}

/// The client of a request from `peer` with these headers.
fn client_of(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let mut client = canonical(&peer);
    if !trusted.contains(&client) {
        return client;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for hop in forwarded.iter().rev() {
        let Ok(address) = hop.trim().parse::<IpAddr>() else {
            break;
        };
        client = canonical(&address);
        if !trusted.contains(&client) {
            break;
        }
    }
    client
}

/// An IPv4 client seen through an IPv6 socket (`::ffff:a.b.c.d`) is that IPv4 client.
fn canonical(address: &IpAddr) -> IpAddr {
    address.to_canonical()
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<ClientAddr>().copied().ok_or((
            StatusCode::INTERNAL_SERVER_ERROR,
            "the server was started without resolving clients\n",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        let headers = forwarded(&["203.0.113.7"]);
        assert_eq!(client_of(ip("10.0.0.5"), &headers, &[]), ip("10.0.0.5"));
        assert_eq!(
            client_of(ip("::ffff:10.0.0.5"), &headers, &[]),
            ip("10.0.0.5")
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client_from_the_right() {
        let trusted = [ip("127.0.0.1"), ip("10.0.0.2")];
        // The client claims to be 1.1.1.1; the outer proxy saw 203.0.113.7.
        let headers = forwarded(&["1.1.1.1, 203.0.113.7", "10.0.0.2"]);
        assert_eq!(
            client_of(ip("127.0.0.1"), &headers, &trusted),
            ip("203.0.113.7")
        );
        // An untrusted peer's header is ignored.
        assert_eq!(
            client_of(ip("192.0.2.1"), &headers, &trusted),
            ip("192.0.2.1")
        );
        // Nothing forwarded, or nonsense: the proxy itself.
        assert_eq!(
            client_of(ip("127.0.0.1"), &HeaderMap::new(), &trusted),
            ip("127.0.0.1")
        );
        assert_eq!(
            client_of(ip("127.0.0.1"), &forwarded(&["1.1.1.1, junk"]), &trusted),
            ip("127.0.0.1")
        );
        assert_eq!(
            client_of(ip("127.0.0.1"), &forwarded(&["2001:db8::1"]), &trusted),
            ip("2001:db8::1")
        );
    }
}
