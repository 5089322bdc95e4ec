//! Throttling of failed sign-ins and confirmations, per account and per client address.

use super::*;

pub(super) fn account_key(login: &str) -> String {
    format!("acct:{}", login.trim().to_ascii_lowercase())
}

pub(super) fn address_key(ip: &Option<String>) -> Option<String> {
    ip.as_ref().map(|ip| format!("ip:{ip}"))
}

pub(super) async fn throttle_check(
    c: &mut Conn,
    keys: &[String],
    now: i64,
) -> Result<(), AuthError> {
    for k in keys {
        if let Err(wait) = throttle::check(ar::throttle_get(c, k).await?, now) {
            return Err(AuthError::Throttled(wait));
        }
    }
    Ok(())
}

pub(super) async fn throttle_fail(
    c: &mut Conn,
    login_key: &str,
    ip_key: Option<&str>,
    now: i64,
) -> Result<(), AuthError> {
    let rec = throttle::after_failure(
        throttle::ACCOUNT,
        ar::throttle_get(c, login_key).await?,
        now,
    );
    ar::throttle_put(c, login_key, &rec).await?;
    if let Some(k) = ip_key {
        let rec = throttle::after_failure(throttle::ADDRESS, ar::throttle_get(c, k).await?, now);
        ar::throttle_put(c, k, &rec).await?;
    }
    Ok(())
}
