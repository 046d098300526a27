//! Playback grants: expiring tokens bound to a user and a movie, carried in the URL path
//! (`/hls/{token}/{movie_id}/master.m3u8`) so that every relative segment, subtitle and
//! thumbnail URL in the playlists inherits them. Stateless: `{user}.{expires}.{mac}` where
//! the MAC is HMAC-SHA256 over user, movie and expiry with a key derived from the server
//! secret, so nginx (through `auth_request`) and every instance can check one without a
//! database round trip.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct GrantSigner {
    key: [u8; 32],
    ttl_secs: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub user_id: i64,
    pub movie_id: i64,
    pub expires_at: i64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum GrantError {
    Malformed,
    BadSignature,
    Expired,
}

impl GrantSigner {
    pub fn new(secret: &SecretString, ttl_secs: i64) -> Self {
        // Domain separation: this key signs nothing but grants.
        let key: [u8; 32] = Sha256::new()
            .chain_update(b"luojia-hls-grant\0")
            .chain_update(secret.expose_secret().as_bytes())
            .finalize()
            .into();
        Self { key, ttl_secs }
    }

    fn mac(&self, user_id: i64, movie_id: i64, expires_at: i64) -> String {
        // new_from_slice only fails for key sizes HMAC cannot take; 32 bytes always works.
        let mut mac = HmacSha256::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!());
        mac.update(format!("{user_id}|{movie_id}|{expires_at}").as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// A token for `user_id` to watch `movie_id` until now + ttl.
    pub fn issue(&self, user_id: i64, movie_id: i64, now: i64) -> (String, i64) {
        let expires_at = now + self.ttl_secs;
        let token = format!(
            "{user_id}.{expires_at}.{}",
            self.mac(user_id, movie_id, expires_at)
        );
        (token, expires_at)
    }

    /// Exactly one spelling is valid: the one `issue` wrote (no sign, no leading zeros).
    pub fn verify(&self, token: &str, movie_id: i64, now: i64) -> Result<Grant, GrantError> {
        let mut parts = token.split('.');
        let (Some(user), Some(exp), Some(mac), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(GrantError::Malformed);
        };
        let user_id = canonical_int(user).ok_or(GrantError::Malformed)?;
        let expires_at = canonical_int(exp).ok_or(GrantError::Malformed)?;
        let expected = self.mac(user_id, movie_id, expires_at);
        // Constant-time comparison of the MACs.
        let equal = expected.len() == mac.len()
            && expected
                .bytes()
                .zip(mac.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !equal {
            return Err(GrantError::BadSignature);
        }
        if expires_at <= now {
            return Err(GrantError::Expired);
        }
        Ok(Grant {
            user_id,
            movie_id,
            expires_at,
        })
    }
}

/// A positive decimal integer in its one canonical spelling (`7`, never `07` or `+7`).
fn canonical_int(s: &str) -> Option<i64> {
    s.parse::<i64>()
        .ok()
        .filter(|n| *n > 0 && n.to_string() == s)
}

/// Split `/hls/{token}/{movie_id}/{file}` and check `file` is a plain relative path
/// (no `..`, no empty or hidden segments, a small character set). `None` for anything else.
pub fn parse_hls_path(path: &str) -> Option<(&str, i64, &str)> {
    let rest = path.strip_prefix("/hls/")?;
    let (token, rest) = rest.split_once('/')?;
    let (movie, file) = rest.split_once('/')?;
    let movie_id = canonical_int(movie)?;
    let safe = !file.is_empty()
        && file.len() <= 200
        && file.split('/').all(|seg| {
            !seg.is_empty()
                && !seg.starts_with('.')
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        });
    safe.then_some((token, movie_id, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> GrantSigner {
        GrantSigner::new(&SecretString::from("s".repeat(32)), 3600)
    }

    #[test]
    fn issued_tokens_verify_for_their_movie_only() {
        let s = signer();
        let (t, exp) = s.issue(7, 42, 1000);
        assert_eq!(exp, 4600);
        assert_eq!(
            s.verify(&t, 42, 1001),
            Ok(Grant {
                user_id: 7,
                movie_id: 42,
                expires_at: 4600
            })
        );
        assert_eq!(s.verify(&t, 43, 1001), Err(GrantError::BadSignature));
        assert_eq!(s.verify(&t, 42, 4600), Err(GrantError::Expired));
    }

    #[test]
    fn tampering_is_detected() {
        let s = signer();
        let (t, _) = s.issue(7, 42, 1000);
        let parts: Vec<&str> = t.split('.').collect();
        let other_user = format!("8.{}.{}", parts[1], parts[2]);
        assert_eq!(
            s.verify(&other_user, 42, 1001),
            Err(GrantError::BadSignature)
        );
        let later = format!("7.99999999999.{}", parts[2]);
        assert_eq!(s.verify(&later, 42, 1001), Err(GrantError::BadSignature));
        assert_eq!(s.verify("garbage", 42, 1001), Err(GrantError::Malformed));
        assert_eq!(s.verify("1.2.3.4", 42, 1001), Err(GrantError::Malformed));
        // One spelling only: no leading zeros, no sign.
        for other in [
            format!("07.{}.{}", parts[1], parts[2]),
            format!("+7.{}.{}", parts[1], parts[2]),
            format!("7.0{}.{}", parts[1], parts[2]),
            format!("7.+{}.{}", parts[1], parts[2]),
        ] {
            assert_eq!(
                s.verify(&other, 42, 1001),
                Err(GrantError::Malformed),
                "{other}"
            );
        }
        let other_key = GrantSigner::new(&SecretString::from("t".repeat(32)), 3600);
        assert_eq!(
            other_key.verify(&t, 42, 1001),
            Err(GrantError::BadSignature)
        );
    }

    #[test]
    fn hls_paths() {
        assert_eq!(
            parse_hls_path("/hls/tok/5/master.m3u8"),
            Some(("tok", 5, "master.m3u8"))
        );
        assert_eq!(
            parse_hls_path("/hls/tok/5/720p/seg_001.ts"),
            Some(("tok", 5, "720p/seg_001.ts"))
        );
        for bad in [
            "/hls/tok/5/../6/master.m3u8",
            "/hls/tok/5/..",
            "/hls/tok/5/",
            "/hls/tok/5//x.ts",
            "/hls/tok/5/.hidden",
            "/hls/tok/x/master.m3u8",
            "/hls/tok/-1/master.m3u8",
            "/hls/tok/05/master.m3u8",
            "/hls/tok/+5/master.m3u8",
            "/hls/tok/5/a%2f..%2fb",
            "/hls/tok/5/a\\b",
            "/other/tok/5/master.m3u8",
        ] {
            assert_eq!(parse_hls_path(bad), None, "{bad}");
        }
    }
}
