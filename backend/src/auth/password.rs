//! bcrypt, always on the blocking pool: at cost 12 one hash takes ~0.35 s, which would
//! stall every request sharing an async worker.

use std::sync::Arc;

use crate::error::AppError;

/// bcrypt at the configured cost, with the dummy hash that makes "no such user" take as
/// long as a wrong password.
#[derive(Clone)]
pub struct Passwords {
    cost: u32,
    /// A bcrypt hash of a random password at `cost`.
    dummy: Arc<str>,
}

impl Passwords {
    /// Hashes the dummy (one bcrypt run, on the blocking pool).
    pub async fn new(cost: u32) -> Result<Self, AppError> {
        let dummy = hash(super::tokens::random_token(), cost).await?;
        Ok(Self {
            cost,
            dummy: dummy.into(),
        })
    }

    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        hash(password, self.cost).await
    }

    /// `hash` `None` means "no such user": the answer is false, after as long as a check.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, AppError> {
        verify(password, hash, &self.dummy).await
    }
}

pub async fn hash(password: String, cost: u32) -> Result<String, AppError> {
    actix_web::web::block(move || bcrypt::hash(password, cost))
        .await?
        .map_err(AppError::internal)
}

/// `hash` `None` means "no such user": verify against `dummy` (a hash of a random
/// password at the same cost) so that both answers take the same time, then say false.
async fn verify(password: String, hash: Option<String>, dummy: &str) -> Result<bool, AppError> {
    let known = hash.is_some();
    let hash = hash.unwrap_or_else(|| dummy.to_owned());
    let ok =
        actix_web::web::block(move || bcrypt::verify(password, &hash).unwrap_or(false)).await?;
    Ok(ok && known)
}
