//! argon2id hashing and verification (blocking; the async callers in `auth` run these off
//! the runtime with a bound on how many run at once). No dependency on the rest of `ssr`.

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed")]
pub struct HashError;

/// argon2's memory in KiB (1 KiB blocks): OWASP's minimum for argon2id, with 2 passes.
const MEMORY_KIB: u32 = 19 * 1024;

fn argon() -> Result<argon2::Argon2<'static>, HashError> {
    // OWASP minimum for argon2id: 19 MiB, 2 passes, 1 lane.
    let params = argon2::Params::new(MEMORY_KIB, 2, 1, None).map_err(|_| HashError)?;
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

/// argon2's 19 MiB work area, made once and reused from hash to hash: hashing then allocates
/// nothing, so bursts of sign-ins cannot leave freed 19 MiB blocks behind in the allocator's
/// per-thread arenas (they did: 475 MB resident after a burst, see README "Performance").
pub struct WorkArea(Vec<argon2::Block>);

impl WorkArea {
    pub fn new() -> Self {
        WorkArea(vec![argon2::Block::default(); MEMORY_KIB as usize])
    }
}

impl Default for WorkArea {
    fn default() -> Self {
        Self::new()
    }
}

/// [`hash_blocking`] in `area`: the same PHC string (salt, parameters, output).
pub fn hash_with(password: &str, area: &mut WorkArea) -> Result<String, HashError> {
    use argon2::password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString};
    let a = argon()?;
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_buf)
        .map_err(|_| HashError)?;
    let output = Output::init_with(argon2::Params::DEFAULT_OUTPUT_LEN, |out| {
        a.hash_password_into_with_memory(password.as_bytes(), salt_bytes, out, &mut area.0)
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })
    .map_err(|_| HashError)?;
    let hash = PasswordHash {
        algorithm: argon2::Algorithm::Argon2id.ident(),
        version: Some(argon2::Version::V0x13.into()),
        params: ParamsString::try_from(a.params()).map_err(|_| HashError)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

/// [`verify_blocking`] in `area`. A hash made with other parameters than today's (more
/// memory than the area holds) is verified the allocating way.
pub fn verify_with(password: &str, phc: &str, area: &mut WorkArea) -> bool {
    use argon2::password_hash::{Output, PasswordHash};
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        argon2::Algorithm::try_from(parsed.algorithm),
        argon2::Params::try_from(&parsed),
        parsed.salt,
        parsed.hash,
    ) else {
        return false;
    };
    let Ok(version) = argon2::Version::try_from(parsed.version.unwrap_or(0x13)) else {
        return false;
    };
    if params.block_count() > area.0.len() {
        return verify_blocking(password, phc);
    }
    let mut salt_buf = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let a = argon2::Argon2::new(algorithm, version, params);
    let computed = Output::init_with(expected.len(), |out| {
        a.hash_password_into_with_memory(password.as_bytes(), salt_bytes, out, &mut area.0)
            .map_err(|_| argon2::password_hash::Error::Crypto)
    });
    // `Output`'s comparison is constant-time.
    computed.is_ok_and(|c| c == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reused work area makes and checks the same hashes as the allocating functions,
    /// across uses (a used area holds the last hash's blocks).
    #[test]
    fn work_area_hashes_match_the_allocating_ones() {
        let mut area = WorkArea::new();
        let made_in_area = hash_with("correct horse", &mut area).unwrap();
        let made_plain = hash_blocking("battery staple").unwrap();
        assert!(made_in_area.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_blocking("correct horse", &made_in_area));
        assert!(verify_with("battery staple", &made_plain, &mut area));
        assert!(verify_with("correct horse", &made_in_area, &mut area));
        assert!(!verify_with("correct horsE", &made_in_area, &mut area));
        assert!(!verify_with("battery staple", &made_in_area, &mut area));
        assert!(!verify_with("x", "not a phc string", &mut area));
        // A stronger hash than the area holds (64 MiB) still verifies.
        let big = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(64 * 1024, 1, 1, None).unwrap(),
        );
        use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
        let strong = big
            .hash_password(b"long", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify_with("long", &strong, &mut area));
        assert!(!verify_with("short", &strong, &mut area));
    }
}
