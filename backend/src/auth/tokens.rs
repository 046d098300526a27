//! Access JWTs and opaque refresh tokens.
//!
//! Access tokens: HS256 only (the algorithm is pinned, so `alg: none` or an RSA/HMAC
//! confusion is refused), `exp iat iss aud sub` all required (jsonwebtoken ≥ 10.3 then
//! also refuses an `exp` of the wrong JSON type), 15 minutes, leeway 5 s. `sid` names the
//! session so logout and password changes can end it before the token expires.
//!
//! Refresh tokens: 32 random bytes, base64url; only their SHA-256 is stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::AuthSettings;
use crate::error::{AppError, ErrorCode};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id, as a string (RFC 7519 says `sub` is a string).
    pub sub: String,
    /// Session id.
    pub sid: String,
    pub role: super::domain::UserRole,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    header: Header,
    issuer: String,
    audience: String,
    ttl_secs: i64,
}

impl JwtKeys {
    pub fn new(secret: &SecretString, settings: &AuthSettings) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.leeway = 5;
        validation.validate_exp = true;
        // Off by default in jsonwebtoken: a token that is not valid yet is refused.
        validation.validate_nbf = true;
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
            header: Header::new(Algorithm::HS256),
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            ttl_secs: settings.access_ttl_secs,
        }
    }

    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    pub fn issue(
        &self,
        user_id: i64,
        session_id: &str,
        role: super::domain::UserRole,
    ) -> Result<String, AppError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            sid: session_id.to_owned(),
            role,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            exp: now + self.ttl_secs,
        };
        jsonwebtoken::encode(&self.header, &claims, &self.encoding).map_err(AppError::internal)
    }

    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => {
                    AppError::new(ErrorCode::TokenExpired, "access token expired")
                }
                _ => AppError::new(ErrorCode::InvalidToken, "invalid access token"),
            })
    }
}

/// 32 random bytes from the OS generator, base64url without padding.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Hex SHA-256, the stored form of a refresh token.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> AuthSettings {
        AuthSettings {
            jwt_secret: None,
            issuer: "iss".into(),
            audience: "aud".into(),
            access_ttl_secs: 60,
            refresh_ttl_days: 1,
            bcrypt_cost: 4,
            session_cache_ttl_secs: 30,
        }
    }

    #[test]
    fn round_trip() {
        let keys = JwtKeys::new(&SecretString::from("k".repeat(32)), &settings());
        let t = keys
            .issue(7, "s1", super::super::domain::UserRole::User)
            .expect("issue");
        let c = keys.verify(&t).expect("verify");
        assert_eq!(c.sub, "7");
        assert_eq!(c.sid, "s1");
    }

    #[test]
    fn other_key_is_refused() {
        let a = JwtKeys::new(&SecretString::from("a".repeat(32)), &settings());
        let b = JwtKeys::new(&SecretString::from("b".repeat(32)), &settings());
        let t = a
            .issue(7, "s1", super::super::domain::UserRole::User)
            .expect("issue");
        assert_eq!(b.verify(&t).unwrap_err().code, ErrorCode::InvalidToken);
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let a = random_token();
        assert_ne!(a, random_token());
        assert_eq!(a.len(), 43);
        assert_eq!(hash_token(&a).len(), 64);
        assert_eq!(hash_token("abc"), hash_token("abc"));
    }
}
