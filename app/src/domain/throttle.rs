//! Sign-in throttling (SPEC.md "Authentication"): a failure counter per account and per client
//! address with exponential back-off. Pure: the caller stores the record and passes the time.

use serde::{Deserialize, Serialize};

/// Limits for one kind of key (an account, or an address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Failures allowed inside `window` before the key is locked.
    pub free_failures: i64,
    /// Seconds after the first failure during which failures accumulate.
    pub window: i64,
    /// First lock length in seconds; doubles with each further failure.
    pub base_lock: i64,
    /// Longest lock in seconds.
    pub max_lock: i64,
}

/// Per account: 5 free tries per 15 minutes, then 30 s, 60 s, … up to 15 minutes.
pub const ACCOUNT: Limits = Limits {
    free_failures: 5,
    window: 900,
    base_lock: 30,
    max_lock: 900,
};
/// Per address: 30 free tries per 15 minutes (an office behind one NAT), then the same back-off.
pub const ADDRESS: Limits = Limits {
    free_failures: 30,
    window: 900,
    base_lock: 30,
    max_lock: 900,
};

/// The stored state of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Record {
    pub window_start: i64,
    pub failures: i64,
    pub locked_until: i64,
}

/// Whether an attempt may proceed at `now`; `Err(seconds)` tells how long to wait.
pub fn check(rec: Option<Record>, now: i64) -> Result<(), i64> {
    match rec {
        Some(r) if r.locked_until > now => Err(r.locked_until - now),
        _ => Ok(()),
    }
}

/// The record after a failed attempt at `now`.
pub fn after_failure(limits: Limits, rec: Option<Record>, now: i64) -> Record {
    let r = match rec {
        Some(r) if now - r.window_start < limits.window || r.locked_until > now => r,
        _ => Record {
            window_start: now,
            failures: 0,
            locked_until: 0,
        },
    };
    let failures = r.failures + 1;
    let over = failures - limits.free_failures;
    let locked_until = if over > 0 {
        let exp = (over - 1).min(20) as u32;
        let lock = limits
            .base_lock
            .saturating_mul(1_i64 << exp)
            .min(limits.max_lock);
        now + lock
    } else {
        r.locked_until
    };
    Record {
        window_start: r.window_start,
        failures,
        locked_until,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_tries_then_doubling_locks() {
        let mut rec = None;
        let now = 1000;
        for _ in 0..5 {
            assert_eq!(check(rec, now), Ok(()));
            rec = Some(after_failure(ACCOUNT, rec, now));
        }
        assert_eq!(rec.map(|r| r.locked_until), Some(0), "five free failures");
        rec = Some(after_failure(ACCOUNT, rec, now));
        assert_eq!(check(rec, now), Err(30));
        assert_eq!(check(rec, now + 30), Ok(()));
        rec = Some(after_failure(ACCOUNT, rec, now + 30));
        assert_eq!(check(rec, now + 30), Err(60));
        for i in 0..20 {
            rec = Some(after_failure(ACCOUNT, rec, now + 100 + i));
        }
        assert_eq!(check(rec, now + 119), Err(900), "capped at 15 minutes");
    }

    #[test]
    fn the_window_resets() {
        let mut rec = None;
        for _ in 0..5 {
            rec = Some(after_failure(ACCOUNT, rec, 0));
        }
        let later = after_failure(ACCOUNT, rec, 901);
        assert_eq!(later.failures, 1);
        assert_eq!(check(Some(later), 901), Ok(()));
    }

    #[test]
    fn addresses_get_more_room() {
        let mut rec = None;
        for _ in 0..30 {
            rec = Some(after_failure(ADDRESS, rec, 0));
        }
        assert_eq!(check(rec, 0), Ok(()));
        rec = Some(after_failure(ADDRESS, rec, 0));
        assert_eq!(check(rec, 0), Err(30));
    }
}
