//! Password hashing: argon2id off the async runtime, at most `hash_permits` at a time, and
//! verification that takes as long for an unknown account as for a wrong password.

use super::*;

pub(super) fn argon() -> Result<argon2::Argon2<'static>, AuthError> {
    // OWASP minimum for argon2id: 19 MiB, 2 passes, 1 lane.
    let params = argon2::Params::new(19 * 1024, 2, 1, None).map_err(|_| AuthError::Hash)?;
    Ok(argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params,
    ))
}

/// Hashes a password (blocking; call through [`hash_password`]).
pub fn hash_password_blocking(password: &str) -> Result<String, AuthError> {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    argon()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| AuthError::Hash)
}

pub(super) fn verify_blocking(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    match (PasswordHash::new(phc), argon()) {
        (Ok(parsed), Ok(a)) => a.verify_password(password.as_bytes(), &parsed).is_ok(),
        _ => false,
    }
}

/// Hashes off the async runtime, at most `hash_permits` at a time.
pub async fn hash_password(s: &Services, password: &str) -> Result<String, AuthError> {
    let _permit = s
        .hash_permits
        .acquire()
        .await
        .map_err(|_| AuthError::Hash)?;
    let p = password.to_string();
    tokio::task::spawn_blocking(move || hash_password_blocking(&p))
        .await
        .map_err(|_| AuthError::Hash)?
}

/// Verifies off the async runtime. Without a stored hash it still spends the time of one
/// verification, so an unknown account answers as slowly as a wrong password.
pub(super) async fn verify_password(
    s: &Services,
    password: &str,
    phc: Option<String>,
) -> Result<bool, AuthError> {
    let _permit = s
        .hash_permits
        .acquire()
        .await
        .map_err(|_| AuthError::Hash)?;
    let p = password.to_string();
    let known = phc.is_some();
    let target = phc.unwrap_or_else(|| s.dummy_hash.clone());
    let ok = tokio::task::spawn_blocking(move || verify_blocking(&p, &target))
        .await
        .map_err(|_| AuthError::Hash)?;
    Ok(ok && known)
}
