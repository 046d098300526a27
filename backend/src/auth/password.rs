//! bcrypt, always on the blocking pool: at cost 12 one hash takes ~0.35 s, which would
//! stall every request sharing an async worker.

use crate::error::AppError;

pub async fn hash(password: String, cost: u32) -> Result<String, AppError> {
    actix_web::web::block(move || bcrypt::hash(password, cost))
        .await?
        .map_err(AppError::internal)
}

/// `hash` `None` means "no such user": verify against `dummy` (a hash of a random
/// password at the same cost) so that both answers take the same time, then say false.
pub async fn verify(password: String, hash: Option<String>, dummy: &str) -> Result<bool, AppError> {
    let known = hash.is_some();
    let hash = hash.unwrap_or_else(|| dummy.to_owned());
    let ok =
        actix_web::web::block(move || bcrypt::verify(password, &hash).unwrap_or(false)).await?;
    Ok(ok && known)
}
