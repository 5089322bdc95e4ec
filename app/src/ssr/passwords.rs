//! argon2id hashing and verification (blocking; the async callers in `auth` run these off
//! the runtime with a bound on how many run at once). No dependency on the rest of `ssr`.

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed")]
pub struct HashError;

fn argon() -> Result<argon2::Argon2<'static>, HashError> {
    // OWASP minimum for argon2id: 19 MiB, 2 passes, 1 lane.
    let params = argon2::Params::new(19 * 1024, 2, 1, None).map_err(|_| HashError)?;
    Ok(argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params,
    ))
}

/// Hashes a password into a PHC string.
pub fn hash_blocking(password: &str) -> Result<String, HashError> {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    argon()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| HashError)
}

/// Whether `password` matches the PHC string `phc`.
pub fn verify_blocking(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    match (PasswordHash::new(phc), argon()) {
        (Ok(parsed), Ok(a)) => a.verify_password(password.as_bytes(), &parsed).is_ok(),
        _ => false,
    }
}
