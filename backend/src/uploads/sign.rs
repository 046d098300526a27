//! Signed, short-lived URLs for uploaded media (`/api/v1/media/{id}?exp=&sig=`).
//!
//! An `<img>` or `<audio>` element cannot send a bearer token, so the URL itself is the
//! permission: whoever issues one has checked that the caller may see the upload (its
//! owner, or a member of the conversation the message is in). The signature is an
//! HMAC-SHA256 over the upload id, the variant (content or thumbnail) and the expiry, with
//! a key derived from the server secret (domain-separated from playback grants), so every
//! instance checks one without a database round trip.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Which file of an upload a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Content,
    Thumbnail,
}

impl Variant {
    fn tag(self) -> &'static str {
        match self {
            Self::Content => "content",
            Self::Thumbnail => "thumb",
        }
    }
}

#[derive(Clone)]
pub struct UploadSigner {
    key: [u8; 32],
    ttl_secs: i64,
}

impl UploadSigner {
    pub fn new(secret: &SecretString, ttl_secs: i64) -> Self {
        let key: [u8; 32] = Sha256::new()
            .chain_update(b"luojia-upload-url\0")
            .chain_update(secret.expose_secret().as_bytes())
            .finalize()
            .into();
        Self { key, ttl_secs }
    }

    fn mac(&self, id: i64, variant: Variant, expires_at: i64) -> HmacSha256 {
        // new_from_slice only fails for key sizes HMAC cannot take; 32 bytes always works.
        let mut mac = HmacSha256::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!());
        mac.update(format!("{id}|{}|{expires_at}", variant.tag()).as_bytes());
        mac
    }

    /// `(expires_at, sig)` for `id`'s `variant`, valid until now + ttl.
    pub fn sign(&self, id: i64, variant: Variant, now: i64) -> (i64, String) {
        let expires_at = now + self.ttl_secs;
        let sig = URL_SAFE_NO_PAD.encode(self.mac(id, variant, expires_at).finalize().into_bytes());
        (expires_at, sig)
    }

    /// Whether `sig` was issued for this id, variant and expiry, and has not expired.
    pub fn verify(&self, id: i64, variant: Variant, expires_at: i64, sig: &str, now: i64) -> bool {
        let Ok(raw) = URL_SAFE_NO_PAD.decode(sig) else {
            return false;
        };
        // `verify_slice` compares in constant time.
        self.mac(id, variant, expires_at).verify_slice(&raw).is_ok() && expires_at > now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> UploadSigner {
        UploadSigner::new(&SecretString::from("k".repeat(32)), 600)
    }

    #[test]
    fn a_signature_holds_for_its_upload_variant_and_time_only() {
        let s = signer();
        let (exp, sig) = s.sign(5, Variant::Content, 1000);
        assert_eq!(exp, 1600);
        assert!(s.verify(5, Variant::Content, exp, &sig, 1599));
        assert!(!s.verify(5, Variant::Content, exp, &sig, 1600), "expired");
        assert!(
            !s.verify(6, Variant::Content, exp, &sig, 1000),
            "other upload"
        );
        assert!(
            !s.verify(5, Variant::Thumbnail, exp, &sig, 1000),
            "other variant"
        );
        assert!(
            !s.verify(5, Variant::Content, exp + 1, &sig, 1000),
            "longer expiry"
        );
        assert!(!s.verify(5, Variant::Content, exp, "not-base64!", 1000));
        let other = UploadSigner::new(&SecretString::from("x".repeat(32)), 600);
        assert!(
            !other.verify(5, Variant::Content, exp, &sig, 1000),
            "other key"
        );
    }
}
