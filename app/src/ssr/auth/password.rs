//! Password hashing: argon2id off the async runtime, at most `cpu_permits` at a time, and
//! verification that takes as long for an unknown account as for a wrong password.

use super::*;

pub use crate::ssr::passwords::{hash_blocking as hash_password_blocking, verify_blocking};

/// Hashes off the async runtime, at most `cpu_permits` at a time.
pub async fn hash_password(s: &Services, password: &str) -> Result<String, AuthError> {
    let _permit = s.cpu_permits.acquire().await.map_err(|_| AuthError::Hash)?;
    let p = password.to_string();
    Ok(
        tokio::task::spawn_blocking(move || hash_password_blocking(&p))
            .await
            .map_err(|_| AuthError::Hash)??,
    )
}

/// Verifies off the async runtime. Without a stored hash it still spends the time of one
/// verification, so an unknown account answers as slowly as a wrong password.
pub(super) async fn verify_password(
    s: &Services,
    password: &str,
    phc: Option<String>,
) -> Result<bool, AuthError> {
    let _permit = s.cpu_permits.acquire().await.map_err(|_| AuthError::Hash)?;
    let p = password.to_string();
    let known = phc.is_some();
    let target = phc.unwrap_or_else(|| s.dummy_hash.clone());
    let ok = tokio::task::spawn_blocking(move || verify_blocking(&p, &target))
        .await
        .map_err(|_| AuthError::Hash)?;
    Ok(ok && known)
}
