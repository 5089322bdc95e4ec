//! The time zone times are shown in, and how they are written.
//!
//! Which zone: the user's own choice (account page) when they made one; otherwise, with
//! JavaScript, the browser's zone (a script keeps it in the `tz` cookie); otherwise the
//! portal's configured `time_zone` (UTC unless set). The server resolves it per request from
//! the cookie and puts its name on `<html data-tz>`; the browser renders with the same zone,
//! so hydration writes exactly what the server did. Every time carries its offset
//! (`2026-12-01 09:30 (UTC+9)`), so a time never reads as something it is not.
//!
//! On the server the offsets come from the IANA database (jiff: the system's copy, or the
//! bundled one where the system has none); in the browser from `Intl.DateTimeFormat`.

/// A named IANA time zone.
#[derive(Clone, Debug)]
pub struct Zone {
    name: String,
    #[cfg(feature = "ssr")]
    tz: jiff::tz::TimeZone,
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for Zone {}

impl Default for Zone {
    fn default() -> Self {
        Zone::utc()
    }
}

/// Whether `name` looks like an IANA zone name (letters, digits, `/`, `_`, `-`, `+`), so a
/// cookie or form value is never handed to the database lookup unchecked.
fn plausible(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+'))
        && !name.contains("..")
        && !name.starts_with('/')
}

impl Zone {
    pub fn utc() -> Zone {
        Zone {
            name: "UTC".into(),
            #[cfg(feature = "ssr")]
            tz: jiff::tz::TimeZone::UTC,
        }
    }

    /// The zone called `name` in the IANA database, if there is one.
    pub fn parse(name: &str) -> Option<Zone> {
        let name = name.trim();
        if !plausible(name) {
            return None;
        }
        if name == "UTC" {
            return Some(Zone::utc());
        }
        #[cfg(feature = "ssr")]
        {
            let tz = jiff::tz::TimeZone::get(name).ok()?;
            Some(Zone {
                name: name.to_string(),
                tz,
            })
        }
        #[cfg(not(feature = "ssr"))]
        {
            // In the browser the name comes from the server, which checked it; an unknown
            // one makes Intl throw, which `offset_at` turns into UTC.
            Some(Zone {
                name: name.to_string(),
            })
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Seconds east of UTC at `unix`.
    pub fn offset_at(&self, unix: i64) -> i32 {
        if self.name == "UTC" {
            return 0;
        }
        #[cfg(feature = "ssr")]
        {
            jiff::Timestamp::from_second(unix)
                .map(|ts| self.tz.to_offset(ts).seconds())
                .unwrap_or(0)
        }
        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        {
            browser::offset_at(&self.name, unix).unwrap_or(0)
        }
        #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
        {
            let _ = unix;
            0
        }
    }

    /// `2026-12-01 09:30 (UTC+9)`, or `2026-12-01 00:30 UTC` in UTC.
    pub fn time(&self, unix: i64) -> String {
        let off = self.offset_at(unix);
        let (date, h, m) = wall(unix + i64::from(off));
        if self.name == "UTC" {
            format!("{date} {h:02}:{m:02} UTC")
        } else {
            format!("{date} {h:02}:{m:02} ({})", fmt_offset(off))
        }
    }

    /// The calendar date at `unix` in this zone, `2026-12-01`.
    pub fn date(&self, unix: i64) -> String {
        wall(unix + i64::from(self.offset_at(unix))).0
    }

    /// The zone with its current offset, for "Times are shown in …": `Asia/Tokyo (UTC+9)`.
    pub fn describe(&self, now: i64) -> String {
        if self.name == "UTC" {
            "UTC".into()
        } else {
            format!("{} ({})", self.name, fmt_offset(self.offset_at(now)))
        }
    }

    /// Every zone name the server's database knows, sorted (for the account page's list);
    /// read from the database once per process.
    #[cfg(feature = "ssr")]
    pub fn all_names() -> Vec<String> {
        static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        NAMES.get_or_init(Self::read_names).clone()
    }

    #[cfg(feature = "ssr")]
    fn read_names() -> Vec<String> {
        let mut v: Vec<String> = jiff::tz::db()
            .available()
            .map(|n| n.to_string())
            // Region/City names (and UTC): not the legacy aliases (`Japan`, `EST5EDT`) or the
            // database's own trees (`posix/`, `right/`).
            .filter(|n| {
                plausible(n)
                    && (n.contains('/') || n == "UTC")
                    && !n.starts_with("posix/")
                    && !n.starts_with("right/")
                    && !n.starts_with("Etc/")
            })
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// `UTC+9`, `UTC+5:30`, `UTC-3:30`, `UTC` for zero.
pub fn fmt_offset(secs: i32) -> String {
    if secs == 0 {
        return "UTC".into();
    }
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.unsigned_abs();
    let (h, m) = (a / 3600, (a % 3600) / 60);
    if m == 0 {
        format!("UTC{sign}{h}")
    } else {
        format!("UTC{sign}{h}:{m:02}")
    }
}

/// The wall clock of a "local unix" second: (`YYYY-MM-DD`, hour, minute).
fn wall(local: i64) -> (String, i64, i64) {
    let (y, mo, d) = crate::i18n::civil_from_days(local.div_euclid(86_400));
    let secs = local.rem_euclid(86_400);
    (
        format!("{y:04}-{mo:02}-{d:02}"),
        secs / 3600,
        (secs % 3600) / 60,
    )
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
mod browser {
    use wasm_bindgen::JsValue;

    /// The offset of zone `name` at `unix`, read from `Intl.DateTimeFormat`'s parts.
    pub fn offset_at(name: &str, unix: i64) -> Option<i32> {
        let opts = js_sys::Object::new();
        let set = |k: &str, v: &str| {
            js_sys::Reflect::set(&opts, &JsValue::from_str(k), &JsValue::from_str(v)).ok()
        };
        set("timeZone", name)?;
        set("hourCycle", "h23")?;
        for k in ["year", "month", "day", "hour", "minute", "second"] {
            set(k, "numeric")?;
        }
        let locales = js_sys::Array::of1(&JsValue::from_str("en-US"));
        let fmt = js_sys::Intl::DateTimeFormat::new(&locales, &opts);
        let date = js_sys::Date::new(&JsValue::from_f64(unix as f64 * 1000.0));
        let parts = fmt.format_to_parts(&date);
        let mut v = [0i64; 6];
        for p in parts.iter() {
            let kind = js_sys::Reflect::get(&p, &JsValue::from_str("type"))
                .ok()?
                .as_string()?;
            let value = js_sys::Reflect::get(&p, &JsValue::from_str("value"))
                .ok()?
                .as_string()?;
            let i = match kind.as_str() {
                "year" => 0,
                "month" => 1,
                "day" => 2,
                "hour" => 3,
                "minute" => 4,
                "second" => 5,
                _ => continue,
            };
            v[i] = value.parse().ok()?;
        }
        let days = crate::i18n::days_from_civil(v[0], v[1] as u32, v[2] as u32);
        let local = days * 86_400 + (v[3] % 24) * 3600 + v[4] * 60 + v[5];
        i32::try_from(local - unix).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_written_short() {
        assert_eq!(fmt_offset(0), "UTC");
        assert_eq!(fmt_offset(9 * 3600), "UTC+9");
        assert_eq!(fmt_offset(5 * 3600 + 1800), "UTC+5:30");
        assert_eq!(fmt_offset(-(3 * 3600 + 1800)), "UTC-3:30");
        assert_eq!(fmt_offset(-5 * 3600), "UTC-5");
    }

    #[test]
    fn names_are_checked_before_lookup() {
        for bad in [
            "",
            "../etc/passwd",
            "/etc/localtime",
            "Asia/Tokyo;x=1",
            "Asia Tokyo",
        ] {
            assert!(Zone::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(Zone::parse("UTC"), Some(Zone::utc()));
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn times_are_shown_in_the_zone_with_its_offset() {
        let tokyo = Zone::parse("Asia/Tokyo").expect("tzdb has Asia/Tokyo");
        // 2026-12-01 00:30 UTC is 09:30 in Tokyo.
        let t = 1_796_085_000;
        assert_eq!(Zone::utc().time(t), "2026-12-01 00:30 UTC");
        assert_eq!(tokyo.time(t), "2026-12-01 09:30 (UTC+9)");
        // 2026-11-30 20:00 UTC is already 1 December in Tokyo.
        assert_eq!(tokyo.date(1_796_068_800), "2026-12-01");
        assert_eq!(Zone::utc().date(1_796_068_800), "2026-11-30");
        assert_eq!(tokyo.describe(t), "Asia/Tokyo (UTC+9)");
        assert!(Zone::parse("Mars/Olympus_Mons").is_none());
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn daylight_saving_changes_the_offset() {
        let ny = Zone::parse("America/New_York").expect("tzdb has America/New_York");
        // 2026-07-01 12:00 UTC (EDT, -4) and 2026-12-01 12:00 UTC (EST, -5).
        assert_eq!(ny.time(1_782_907_200), "2026-07-01 08:00 (UTC-4)");
        assert_eq!(ny.time(1_796_126_400), "2026-12-01 07:00 (UTC-5)");
        let names = Zone::all_names();
        assert!(names.iter().any(|n| n == "Asia/Tokyo"));
        assert!(names.iter().any(|n| n == "UTC"));
        assert!(names.iter().all(|n| Zone::parse(n).is_some()), "{names:?}");
        assert!(names.len() > 300 && names.len() < 700, "{}", names.len());
    }
}
