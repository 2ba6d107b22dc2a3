//! App authentication as GitHub does it: the App signs a short JWT (RS256,
//! `iss` = App id, at most ten minutes long) with the private key GitHub gave
//! it, trades it for an installation token at
//! `POST /app/installations/{id}/access_tokens`, and uses that token
//! (`Authorization: token …` for REST, the Basic password for git).
//!
//! The key is a real 2048-bit RSA key in the PKCS#1 PEM form GitHub hands out
//! (generated with the `openssl` tool, so the bot's PEM parsing is exercised
//! on the real format); signatures are checked with ring, independently of
//! whatever JWT code the bot uses. Error texts are GitHub's.

use std::process::Command;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::signature::{self, RsaKeyPair};
use serde_json::Value;

/// GitHub lets `iat` and `exp` be off by this much (it recommends back-dating
/// `iat` by 60 s against clock drift).
const CLOCK_SKEW: Duration = Duration::from_secs(60);
/// The longest JWT GitHub accepts.
const MAX_JWT_LIFETIME: Duration = Duration::from_secs(600);

pub(super) const JWT_UNDECODABLE: &str = "A JSON web token could not be decoded";
pub(super) const JWT_EXPIRED: &str = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
pub(super) const JWT_TOO_LONG: &str = "'Expiration time' claim ('exp') is too far in the future";
pub(super) const JWT_IAT: &str = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";

/// The App's key pair.
pub(super) struct AppKey {
    pub pem: String,
    /// DER `RSAPublicKey`, what ring verifies with.
    public_der: Vec<u8>,
}

impl AppKey {
    /// Generates a key like the one GitHub hands out, with the `openssl`
    /// tool (`genrsa -traditional` writes PKCS#1, `BEGIN RSA PRIVATE KEY`).
    pub fn generate() -> Self {
        let out = Command::new("openssl")
            .args(["genrsa", "-traditional", "2048"])
            .output()
            .expect("fake GitHub: run `openssl genrsa` (is openssl installed?)");
        assert!(
            out.status.success(),
            "fake GitHub: openssl genrsa failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self::from_pem(String::from_utf8(out.stdout).expect("PEM is ASCII"))
    }

    pub fn from_pem(pem: String) -> Self {
        let der = pem_to_der(&pem, "RSA PRIVATE KEY")
            .expect("fake GitHub: the App key must be a PKCS#1 PEM (BEGIN RSA PRIVATE KEY)");
        let pair = RsaKeyPair::from_der(&der).expect("fake GitHub: a valid RSA private key");
        Self {
            public_der: pair.public().as_ref().to_vec(),
            pem,
        }
    }
}

/// The DER inside a PEM block with the given label.
pub(super) fn pem_to_der(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem[start..].find(&end)?;
    let b64: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD.decode(b64).ok()
}

/// Why a JWT was refused: GitHub's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct JwtError(pub &'static str);

/// Checks an App JWT the way GitHub does: three base64url parts, `alg`
/// RS256, a valid signature by the App's key, `iss` = the App id (number or
/// string), `iat` not in the future and `exp` not past (both with 60 s of
/// skew), and `exp - iat` at most ten minutes.
pub(super) fn verify_jwt(
    jwt: &str,
    key: &AppKey,
    app_id: u64,
    now: SystemTime,
) -> Result<(), JwtError> {
    let undecodable = JwtError(JWT_UNDECODABLE);
    let mut parts = jwt.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(undecodable);
    };
    let header: Value = decode_json(h).ok_or(undecodable)?;
    if header["alg"] != "RS256" {
        return Err(undecodable);
    }
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| undecodable)?;
    let public =
        signature::UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &key.public_der);
    public
        .verify(format!("{h}.{p}").as_bytes(), &sig)
        .map_err(|_| undecodable)?;
    let claims: Value = decode_json(p).ok_or(undecodable)?;
    let iss_ok = match &claims["iss"] {
        Value::Number(n) => n.as_u64() == Some(app_id),
        Value::String(s) => s.parse::<u64>().ok() == Some(app_id),
        _ => false,
    };
    if !iss_ok {
        return Err(undecodable);
    }
    let now = unix(now);
    let skew = CLOCK_SKEW.as_secs() as i64;
    let iat = claims["iat"].as_i64().ok_or(JwtError(JWT_IAT))?;
    let exp = claims["exp"].as_i64().ok_or(JwtError(JWT_EXPIRED))?;
    if iat > now + skew {
        return Err(JwtError(JWT_IAT));
    }
    if exp <= now - skew {
        return Err(JwtError(JWT_EXPIRED));
    }
    if exp - iat > MAX_JWT_LIFETIME.as_secs() as i64 || exp > now + skew + 600 {
        return Err(JwtError(JWT_TOO_LONG));
    }
    Ok(())
}

fn decode_json(part: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    serde_json::from_slice(&bytes).ok()
}

pub(super) fn unix(at: SystemTime) -> i64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// A fresh installation token: `ghs_` and 36 random alphanumerics, like
/// GitHub's.
pub(super) fn new_installation_token() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::from("ghs_");
    let random = [
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
    ];
    let bytes = random.iter().flat_map(|u| u.as_bytes().iter().copied());
    for b in bytes.take(36) {
        out.push(ALPHABET[usize::from(b) % ALPHABET.len()] as char);
    }
    out
}

/// RFC 3339 in UTC with whole seconds, as GitHub writes timestamps.
pub(super) fn rfc3339(at: SystemTime) -> String {
    humantime::format_rfc3339_seconds(at).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    /// One key for all unit tests: generating one costs ~100 ms.
    fn key() -> &'static AppKey {
        static KEY: std::sync::OnceLock<AppKey> = std::sync::OnceLock::new();
        KEY.get_or_init(AppKey::generate)
    }

    fn sign(header: &Value, claims: &Value) -> String {
        let der = pem_to_der(&key().pem, "RSA PRIVATE KEY").unwrap();
        let pair = RsaKeyPair::from_der(&der).unwrap();
        let h = URL_SAFE_NO_PAD.encode(header.to_string());
        let p = URL_SAFE_NO_PAD.encode(claims.to_string());
        let mut sig = vec![0; pair.public().modulus_len()];
        pair.sign(
            &signature::RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            format!("{h}.{p}").as_bytes(),
            &mut sig,
        )
        .unwrap();
        format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    fn rs256() -> Value {
        serde_json::json!({"alg": "RS256", "typ": "JWT"})
    }

    #[test]
    fn generated_key_is_pkcs1_2048() {
        assert!(key().pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        let der = pem_to_der(&key().pem, "RSA PRIVATE KEY").unwrap();
        let pair = RsaKeyPair::from_der(&der).unwrap();
        assert_eq!(pair.public().modulus_len(), 256);
    }

    #[test]
    fn claims_are_checked_like_github() {
        let now = SystemTime::now();
        let t = unix(now);
        let ok = |claims: Value| verify_jwt(&sign(&rs256(), &claims), key(), 7, now);
        assert_eq!(
            ok(serde_json::json!({"iss": 7, "iat": t - 60, "exp": t + 540})),
            Ok(())
        );
        assert_eq!(
            ok(serde_json::json!({"iss": "7", "iat": t, "exp": t + 600})),
            Ok(())
        );
        assert_eq!(
            ok(serde_json::json!({"iss": 8, "iat": t, "exp": t + 60})),
            Err(JwtError(JWT_UNDECODABLE))
        );
        assert_eq!(
            ok(serde_json::json!({"iss": 7, "iat": t - 700, "exp": t - 100})),
            Err(JwtError(JWT_EXPIRED))
        );
        assert_eq!(
            ok(serde_json::json!({"iss": 7, "iat": t, "exp": t + 601})),
            Err(JwtError(JWT_TOO_LONG))
        );
        assert_eq!(
            ok(serde_json::json!({"iss": 7, "iat": t + 120, "exp": t + 300})),
            Err(JwtError(JWT_IAT))
        );
        assert_eq!(
            ok(serde_json::json!({"iss": 7, "exp": t + 300})),
            Err(JwtError(JWT_IAT))
        );
    }

    #[test]
    fn signature_and_algorithm_are_checked() {
        let now = SystemTime::now();
        let t = unix(now);
        let claims = serde_json::json!({"iss": 7, "iat": t, "exp": t + 60});
        let good = sign(&rs256(), &claims);
        // Another payload under the same signature.
        let (h, rest) = good.split_once('.').unwrap();
        let (_, s) = rest.split_once('.').unwrap();
        let forged_claims = serde_json::json!({"iss": 7, "iat": t, "exp": t + 61});
        let forged = format!(
            "{h}.{}.{s}",
            URL_SAFE_NO_PAD.encode(forged_claims.to_string())
        );
        assert_eq!(
            verify_jwt(&forged, key(), 7, now),
            Err(JwtError(JWT_UNDECODABLE))
        );
        let none_alg = sign(&serde_json::json!({"alg": "none"}), &claims);
        assert!(verify_jwt(&none_alg, key(), 7, now).is_err());
        assert!(verify_jwt("not-a-jwt", key(), 7, now).is_err());
        // A key that is not the App's.
        let other = AppKey::generate();
        assert!(verify_jwt(&good, &other, 7, now).is_err());
    }

    #[test]
    fn tokens_look_like_githubs() {
        let a = new_installation_token();
        assert_eq!(a.len(), 40);
        assert!(a.starts_with("ghs_"));
        assert_ne!(a, new_installation_token());
    }
}
