//! Throttling of failed sign-ins, confirmations and PINs, per account and per client address.
//!
//! An attempt is counted as a failure *before* it is verified, in one write transaction that
//! also checks the lock (under the row lock on PostgreSQL, the single writer on SQLite), so
//! parallel attempts cannot all pass a check made before any of them was counted. A success
//! takes its count back. Attempts refused by a lock write nothing.

use super::*;
use crate::domain::throttle::Limits;
use crate::domain::validate::Login;

/// The throttle key of a typed login. Whatever cannot be a login (too long, wrong
/// characters) shares one key: no such account exists, and nothing unbounded is stored.
pub(crate) fn account_key(login: &str) -> String {
    match Login::parse(login) {
        Ok(l) => format!("acct:{}", l.as_str()),
        Err(_) => "acct:?".to_string(),
    }
}

/// How a typed login appears in the history: the login if it could be one, else its length.
pub(crate) fn login_for_history(login: &str) -> String {
    match Login::parse(login) {
        Ok(l) => format!("login={}", l.as_str()),
        Err(_) => format!("login=(not a login name, {} bytes)", login.len()),
    }
}

/// The throttle key of a client address: IPv4 per address, IPv6 per /64 (one customer's
/// network); see [`crate::ssr::client_addr::throttle_scope`].
pub(crate) fn address_key(prefix: &str, ip: &Option<String>) -> Option<String> {
    ip.as_ref()
        .map(|ip| format!("{prefix}{}", crate::ssr::client_addr::throttle_scope(ip)))
}

/// Refuses, without writing, when any key is locked.
pub(crate) async fn throttle_check(
    c: &mut Conn,
    keys: &[(String, Limits)],
    now: i64,
) -> Result<(), AuthError> {
    for (k, _) in keys {
        if let Err(wait) = throttle::check(ar::throttle_get(c, k).await?, now) {
            return Err(AuthError::Throttled(wait));
        }
    }
    Ok(())
}

/// Inside the caller's write transaction: locks the keys' rows (in a fixed order, so two
/// transactions cannot deadlock), refuses if any is locked, else counts a failure on each.
/// Returns whether this count started a lock.
pub(crate) async fn charge(
    c: &mut Conn,
    keys: &[(String, Limits)],
    now: i64,
) -> Result<bool, AuthError> {
    let mut sorted: Vec<&(String, Limits)> = keys.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted.dedup_by(|a, b| a.0 == b.0);
    let mut records = Vec::with_capacity(sorted.len());
    for (k, _) in &sorted {
        ar::throttle_lock(c, k).await?;
        let rec = ar::throttle_get(c, k).await?;
        if let Err(wait) = throttle::check(rec, now) {
            return Err(AuthError::Throttled(wait));
        }
        records.push(rec);
    }
    let mut locked = false;
    for ((k, limits), rec) in sorted.into_iter().zip(records) {
        let next = throttle::after_failure(*limits, rec, now);
        locked |= next.locked_until > now;
        ar::throttle_put(c, k, &next).await?;
    }
    Ok(locked)
}

/// Takes back the count [`charge`] made for an attempt that succeeded.
pub(crate) async fn refund(c: &mut Conn, key: &str, limits: Limits) -> Result<(), AuthError> {
    ar::throttle_lock(c, key).await?;
    if let Some(rec) = ar::throttle_get(c, key).await? {
        ar::throttle_put(c, key, &throttle::refund(limits, rec)).await?;
    }
    Ok(())
}

/// Counts one attempt in a transaction of its own, committed before the slow verification.
pub(crate) async fn charge_now(
    s: &Services,
    keys: &[(String, Limits)],
    now: i64,
) -> Result<bool, AuthError> {
    {
        let mut c = s.conn().await?;
        throttle_check(&mut c, keys, now).await?;
    }
    let mut tx = s.db.begin().await?;
    let locked = charge(&mut tx, keys, now).await?;
    tx.commit().await?;
    Ok(locked)
}

/// Forgets throttle records whose window is over and that hold no lock.
pub(crate) async fn purge_stale(c: &mut Conn, now: i64) -> Result<u64, AuthError> {
    let window = throttle::ACCOUNT.window.max(throttle::ADDRESS.window);
    Ok(ar::throttle_purge(c, now, now - window).await?)
}
