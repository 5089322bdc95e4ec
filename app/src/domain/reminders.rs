//! When a certificate's owner is reminded of its end (SPEC "Reminders"), as pure rules: the
//! thresholds, which reminder is due, the back-off of a refused send, and when the portal
//! calls a certificate "expiring". Days are UTC calendar days: a certificate that ends on
//! 2027-03-10 (any hour) has 1 day left on 2027-03-09 and 0 ("the day it expires") on
//! 2027-03-10.

/// The default thresholds, in days before the end (the day of the end itself always counts).
pub const DEFAULT_THRESHOLDS: &[i64] = &[30, 14, 7, 1];

/// The furthest threshold accepted (a year).
pub const MAX_THRESHOLD: i64 = 365;

/// Attempts at one mail before it is given up as failed.
pub const MAX_ATTEMPTS: i64 = 10;

const DAY: i64 = 86_400;

/// Reminder thresholds: distinct day counts, furthest first, always ending with 0 (the day
/// the certificate expires).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thresholds(Vec<i64>);

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds::new(DEFAULT_THRESHOLDS.iter().copied())
    }
}

impl Thresholds {
    fn new(days: impl IntoIterator<Item = i64>) -> Thresholds {
        let mut v: Vec<i64> = days.into_iter().chain([0]).collect();
        v.sort_unstable_by(|a, b| b.cmp(a));
        v.dedup();
        Thresholds(v)
    }

    /// Parses a comma-separated list such as `30,14,7,1`.
    pub fn parse(text: &str) -> Result<Thresholds, String> {
        let mut days = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let d: i64 = part
                .parse()
                .map_err(|_| format!("{part:?} is not a number of days"))?;
            if !(0..=MAX_THRESHOLD).contains(&d) {
                return Err(format!("{d} is not between 0 and {MAX_THRESHOLD} days"));
            }
            days.push(d);
        }
        if days.is_empty() {
            return Err("name at least one number of days, such as 30,14,7,1".into());
        }
        Ok(Thresholds::new(days))
    }

    /// Furthest first, 0 last.
    pub fn days(&self) -> &[i64] {
        &self.0
    }

    /// The furthest threshold: certificates this close to their end are "expiring".
    pub fn first(&self) -> i64 {
        self.0.first().copied().unwrap_or(0)
    }

    /// The reminder due for a certificate ending at `not_after`, at `now`, given the nearest
    /// threshold already reminded of (`reminded`, if any): the nearest threshold the
    /// certificate has reached, once. A certificate that reached several thresholds while
    /// nobody looked (the portal was down) gets only the nearest one, not a burst; none after
    /// the day of its end.
    pub fn due(&self, not_after: i64, now: i64, reminded: Option<i64>) -> Option<i64> {
        let left = days_left(not_after, now);
        if left < 0 {
            return None;
        }
        let nearest = self.0.iter().copied().filter(|t| left <= *t).min()?;
        match reminded {
            Some(r) if r <= nearest => None,
            _ => Some(nearest),
        }
    }

    /// Days left when a certificate ending at `not_after` is inside the first threshold at
    /// `now` (the portal then shows "expires in N days"); `None` when it is further away or
    /// already over.
    pub fn expiring(&self, not_after: i64, now: i64) -> Option<i64> {
        let left = days_left(not_after, now);
        (not_after > now && left <= self.first()).then_some(left)
    }
}

/// Whole UTC calendar days from `now` to `not_after` (0 on the last day, negative after it).
pub fn days_left(not_after: i64, now: i64) -> i64 {
    not_after.div_euclid(DAY) - now.div_euclid(DAY)
}

/// Seconds to wait before the next attempt after `attempts` failed ones: one minute,
/// doubling, at most an hour.
pub fn backoff(attempts: i64) -> i64 {
    let n = attempts.clamp(1, 7) - 1;
    (60 * (1i64 << n)).min(3_600)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2027-03-10T15:00:00Z.
    const END: i64 = 1_804_690_800;

    fn at(days_before: i64, hour: i64) -> i64 {
        END.div_euclid(DAY) * DAY - days_before * DAY + hour * 3_600
    }

    #[test]
    fn thresholds_parse_sort_and_always_include_the_day() {
        assert_eq!(Thresholds::default().days(), &[30, 14, 7, 1, 0]);
        assert_eq!(
            Thresholds::parse(" 7, 30,7 ,2").unwrap().days(),
            &[30, 7, 2, 0]
        );
        assert!(Thresholds::parse("").is_err());
        assert!(Thresholds::parse("30,x").is_err());
        assert!(Thresholds::parse("-1").is_err());
        assert!(Thresholds::parse("366").is_err());
    }

    #[test]
    fn days_are_utc_calendar_days() {
        assert_eq!(days_left(END, at(0, 0)), 0);
        assert_eq!(days_left(END, at(0, 23)), 0);
        assert_eq!(days_left(END, at(1, 23)), 1);
        assert_eq!(days_left(END, at(-1, 0)), -1);
    }

    #[test]
    fn each_threshold_is_due_once_when_reached() {
        let t = Thresholds::default();
        assert_eq!(t.due(END, at(31, 12), None), None, "too early");
        assert_eq!(t.due(END, at(30, 0), None), Some(30));
        assert_eq!(t.due(END, at(20, 0), Some(30)), None, "already reminded");
        assert_eq!(t.due(END, at(14, 0), Some(30)), Some(14));
        assert_eq!(t.due(END, at(7, 0), Some(14)), Some(7));
        assert_eq!(t.due(END, at(1, 0), Some(7)), Some(1));
        assert_eq!(t.due(END, at(0, 0), Some(1)), Some(0), "on the day");
        assert_eq!(t.due(END, at(0, 20), Some(0)), None);
        assert_eq!(t.due(END, at(-1, 0), Some(1)), None, "never after the day");
    }

    #[test]
    fn a_late_look_sends_only_the_nearest_reminder() {
        let t = Thresholds::default();
        // Down from 31 to 6 days before the end: one reminder (7), not 30, 14 and 7.
        assert_eq!(t.due(END, at(6, 0), None), Some(7));
        assert_eq!(t.due(END, at(6, 0), Some(7)), None);
        // A certificate issued for 10 days starts at the 14-day threshold.
        assert_eq!(t.due(END, at(10, 0), None), Some(14));
    }

    #[test]
    fn expiring_is_inside_the_first_threshold_and_not_over() {
        let t = Thresholds::default();
        assert_eq!(t.expiring(END, at(31, 0)), None);
        assert_eq!(t.expiring(END, at(30, 0)), Some(30));
        assert_eq!(t.expiring(END, at(0, 1)), Some(0));
        assert_eq!(t.expiring(END, END + 1), None, "expired is not expiring");
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(1), 60);
        assert_eq!(backoff(2), 120);
        assert_eq!(backoff(6), 1_920);
        assert_eq!(backoff(7), 3_600);
        assert_eq!(backoff(50), 3_600);
    }
}
