//! Password hashing: argon2id off the async runtime, at most `cpu_permits` at a time, and
//! verification that takes as long for an unknown account as for a wrong password.

use super::*;

use crate::ssr::passwords::{self, WorkArea};
pub use crate::ssr::passwords::{hash_blocking as hash_password_blocking, verify_blocking};

/// Runs `job` on a blocking thread with one of the reused argon2 work areas (made on first
/// need; never more than `cpu_permits` of them, as each job holds a permit).
async fn with_area<T: Send + 'static>(
    s: &Services,
    job: impl FnOnce(&mut WorkArea) -> T + Send + 'static,
) -> Result<T, AuthError> {
    // The permit goes with the job: a request that gives up waiting (client gone) does not
    // free it while the hash still runs.
    let permit = s
        .cpu_permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| AuthError::Hash)?;
    let areas = s.work_areas.clone();
    tokio::task::spawn_blocking(move || {
        let taken = areas.lock().ok().and_then(|mut v| v.pop());
        let mut area = taken.unwrap_or_default();
        let out = job(&mut area);
        if let Ok(mut v) = areas.lock() {
            v.push(area);
        }
        drop(permit);
        out
    })
    .await
    .map_err(|_| AuthError::Hash)
}

/// Hashes off the async runtime, at most `cpu_permits` at a time.
pub async fn hash_password(s: &Services, password: &str) -> Result<String, AuthError> {
    let p = zeroize::Zeroizing::new(password.to_string());
    Ok(with_area(s, move |area| passwords::hash_with(&p, area)).await??)
}

/// Verifies off the async runtime. Without a stored hash it still spends the time of one
/// verification, so an unknown account answers as slowly as a wrong password.
pub(super) async fn verify_password(
    s: &Services,
    password: &str,
    phc: Option<String>,
) -> Result<bool, AuthError> {
    let p = zeroize::Zeroizing::new(password.to_string());
    let known = phc.is_some();
    let target = phc.unwrap_or_else(|| s.dummy_hash.clone());
    let ok = with_area(s, move |area| passwords::verify_with(&p, &target, area)).await?;
    Ok(ok && known)
}
