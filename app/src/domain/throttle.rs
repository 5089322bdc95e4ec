//! Sign-in throttling (SPEC.md "Authentication"): a failure counter per account and per client
//! address with exponential back-off. Pure: the caller stores the record and passes the time.

use serde::{Deserialize, Serialize};

/// Limits for one kind of key (an account, or an address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Failures inside `window` after which the key is locked (the last of them locks it).
    pub free_failures: i64,
    /// Seconds after the first failure during which failures accumulate.
    pub window: i64,
    /// First lock length in seconds; doubles with each further failure.
    pub base_lock: i64,
    /// Longest lock in seconds.
    pub max_lock: i64,
}

/// Per account: 5 tries per 15 minutes; the fifth failure locks for 30 s, each further one
/// doubles the lock, up to 15 minutes.
pub const ACCOUNT: Limits = Limits {
    free_failures: 5,
    window: 900,
    base_lock: 30,
    max_lock: 900,
};
/// Per address: 30 tries per 15 minutes (an office behind one NAT), then the same back-off.
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
    let locked_until = if failures >= limits.free_failures {
        let exp = (failures - limits.free_failures).min(20) as u32;
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

/// The record after an attempt that was counted in advance (see [`after_failure`]) turned
/// out to succeed: the failure is taken back, and with it a lock it started.
pub fn refund(limits: Limits, rec: Record) -> Record {
    let failures = (rec.failures - 1).max(0);
    Record {
        window_start: rec.window_start,
        failures,
        locked_until: if failures < limits.free_failures {
            0
        } else {
            rec.locked_until
        },
    }
}

/// Whether `rec` can be forgotten at `now`: its window is over and it holds no lock.
pub fn is_stale(limits: Limits, rec: Record, now: i64) -> bool {
    rec.locked_until <= now && now - rec.window_start >= limits.window
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_tries_then_doubling_locks() {
        let mut rec = None;
        let now = 1000;
        for _ in 0..4 {
            assert_eq!(check(rec, now), Ok(()));
            rec = Some(after_failure(ACCOUNT, rec, now));
        }
        assert_eq!(
            rec.map(|r| r.locked_until),
            Some(0),
            "four failures lock nothing"
        );
        assert_eq!(check(rec, now), Ok(()));
        rec = Some(after_failure(ACCOUNT, rec, now));
        assert_eq!(check(rec, now), Err(30), "the fifth locks");
        assert_eq!(check(rec, now + 30), Ok(()));
        rec = Some(after_failure(ACCOUNT, rec, now + 30));
        assert_eq!(check(rec, now + 30), Err(60));
        for i in 0..20 {
            rec = Some(after_failure(ACCOUNT, rec, now + 100 + i));
        }
        assert_eq!(check(rec, now + 119), Err(900), "capped at 15 minutes");
    }

    #[test]
    fn a_refund_takes_back_one_failure_and_its_lock() {
        let mut rec = None;
        for _ in 0..5 {
            rec = Some(after_failure(ACCOUNT, rec, 0));
        }
        let r = refund(ACCOUNT, rec.unwrap());
        assert_eq!((r.failures, r.locked_until), (4, 0));
        let r = refund(ACCOUNT, Record::default());
        assert_eq!(r.failures, 0, "never below zero");
        let mut rec = rec.unwrap();
        rec = after_failure(ACCOUNT, Some(rec), 0);
        let r = refund(ACCOUNT, rec);
        assert_eq!(r.failures, 5);
        assert!(r.locked_until > 0, "earlier failures keep their lock");
    }

    #[test]
    fn stale_records_can_go() {
        let rec = after_failure(ACCOUNT, None, 0);
        assert!(!is_stale(ACCOUNT, rec, 899));
        assert!(is_stale(ACCOUNT, rec, 900));
        let mut rec = Some(rec);
        for _ in 0..10 {
            rec = Some(after_failure(ACCOUNT, rec, 500));
        }
        assert!(!is_stale(ACCOUNT, rec.unwrap(), 1000), "still locked");
        assert!(is_stale(ACCOUNT, rec.unwrap(), 1400));
    }

    #[test]
    fn the_window_resets() {
        let mut rec = None;
        for _ in 0..4 {
            rec = Some(after_failure(ACCOUNT, rec, 0));
        }
        let later = after_failure(ACCOUNT, rec, 901);
        assert_eq!(later.failures, 1);
        assert_eq!(check(Some(later), 901), Ok(()));
    }

    #[test]
    fn addresses_get_more_room() {
        let mut rec = None;
        for _ in 0..29 {
            rec = Some(after_failure(ADDRESS, rec, 0));
        }
        assert_eq!(check(rec, 0), Ok(()));
        rec = Some(after_failure(ADDRESS, rec, 0));
        assert_eq!(check(rec, 0), Err(30));
    }
}
