//! Authenticating as the GitHub App: an RS256 JWT signed with the App's private key, exchanged
//! for installation tokens that are cached until shortly before they expire.
//!
//! The JWT is signed with ring (already in the tree for TLS and SSH) rather than a JWT crate:
//! it is three base64url parts and one signature.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

use crate::config::Secret;

/// How long a JWT is valid (GitHub allows at most 10 minutes).
const JWT_LIFETIME: Duration = Duration::from_secs(9 * 60);
/// Clock skew allowance: the JWT claims to be issued a minute ago.
const JWT_BACKDATE: Duration = Duration::from_secs(60);
/// An installation token is renewed when it has less than this left.
const TOKEN_MARGIN: Duration = Duration::from_secs(5 * 60);

/// The App's identity.
pub struct AppKey {
    app_id: u64,
    key: RsaKeyPair,
    rng: SystemRandom,
}

impl std::fmt::Debug for AppKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppKey")
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

impl AppKey {
    /// Reads the private key GitHub hands out (PEM, PKCS#1 `RSA PRIVATE KEY` or PKCS#8).
    pub fn new(app_id: u64, pem: &Secret) -> Result<AppKey> {
        let (label, der) =
            pem_decode(pem.expose()).context("the GitHub App private key is not PEM")?;
        let key = match label.as_str() {
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
            other => bail!("the GitHub App private key is a {other:?}, not an RSA private key"),
        }
        .map_err(|e| anyhow::anyhow!("the GitHub App private key was rejected: {e}"))?;
        Ok(AppKey {
            app_id,
            key,
            rng: SystemRandom::new(),
        })
    }

    /// A JWT for the App, valid for nine minutes from `now`.
    pub fn jwt(&self, now: SystemTime) -> Result<Secret> {
        let now = now.duration_since(UNIX_EPOCH)?.as_secs();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = serde_json::json!({
            "iat": now - JWT_BACKDATE.as_secs(),
            "exp": now + JWT_LIFETIME.as_secs(),
            "iss": self.app_id.to_string(),
        });
        let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims)?);
        let signing_input = format!("{header}.{claims}");
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &self.rng,
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| anyhow::anyhow!("signing the GitHub App JWT failed"))?;
        Ok(Secret::new(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        )))
    }
}

/// The first PEM block: its label and its bytes.
fn pem_decode(pem: &str) -> Option<(String, Vec<u8>)> {
    let begin = pem.find("-----BEGIN ")?;
    let rest = &pem[begin + "-----BEGIN ".len()..];
    let label_end = rest.find("-----")?;
    let label = rest[..label_end].to_owned();
    let body_start = label_end + 5;
    let end = rest.find(&format!("-----END {label}-----"))?;
    let body: String = rest[body_start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    Some((label, STANDARD.decode(body).ok()?))
}

/// Installation tokens by installation id, with their expiry.
#[derive(Default)]
pub struct TokenCache {
    tokens: Mutex<HashMap<u64, (Secret, SystemTime)>>,
}

impl TokenCache {
    /// A cached token with more than a few minutes left.
    pub fn get(&self, installation: u64, now: SystemTime) -> Option<Secret> {
        let tokens = self.tokens.lock().expect("token cache lock");
        let (token, expires) = tokens.get(&installation)?;
        (now + TOKEN_MARGIN < *expires).then(|| token.clone())
    }

    pub fn put(&self, installation: u64, token: Secret, expires: SystemTime) {
        self.tokens
            .lock()
            .expect("token cache lock")
            .insert(installation, (token, expires));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    fn generate_pem() -> String {
        let out = std::process::Command::new("openssl")
            .args(["genrsa", "-traditional", "2048"])
            .output()
            .expect("openssl");
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn the_jwt_is_rs256_with_the_app_as_issuer_and_verifies() {
        let pem = generate_pem();
        assert!(pem.contains("BEGIN RSA PRIVATE KEY"));
        let key = AppKey::new(42, &Secret::new(pem)).unwrap();
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let jwt = key.jwt(now).unwrap();
        let parts: Vec<&str> = jwt.expose().split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS256");
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "42");
        assert_eq!(claims["iat"], 1_800_000_000 - 60);
        assert_eq!(claims["exp"], 1_800_000_000 + 540);
        let public = UnparsedPublicKey::new(
            &RSA_PKCS1_2048_8192_SHA256,
            key.key.public().as_ref().to_vec(),
        );
        let signed = format!("{}.{}", parts[0], parts[1]);
        public
            .verify(
                signed.as_bytes(),
                &URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
            )
            .expect("the signature verifies with the App's public key");
        assert!(!format!("{key:?}").contains("PRIVATE"));
    }

    #[test]
    fn bad_keys_are_refused_clearly() {
        let err = AppKey::new(1, &Secret::new("not a key")).unwrap_err();
        assert!(err.to_string().contains("not PEM"));
        let ec = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
        assert!(
            AppKey::new(1, &Secret::new(ec))
                .unwrap_err()
                .to_string()
                .contains("not an RSA")
        );
    }

    #[test]
    fn tokens_are_reused_until_close_to_expiry() {
        let cache = TokenCache::default();
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        cache.put(7, Secret::new("t1"), now + Duration::from_secs(3600));
        assert_eq!(cache.get(7, now).unwrap().expose(), "t1");
        assert!(
            cache.get(7, now + Duration::from_secs(3300)).is_none(),
            "renewed 5 min before"
        );
        assert!(cache.get(8, now).is_none());
    }
}
