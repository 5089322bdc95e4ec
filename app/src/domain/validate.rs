//! Parse-don't-validate newtypes for user input: login, display name, e-mail, UPN and new
//! passwords. Pure, so the browser can show the same message before submitting.

use serde::{Deserialize, Serialize};

use super::error_code::ErrorCode;

/// A field that failed validation: the field's name and the code that says what to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {code}")]
pub struct InvalidField {
    pub field: &'static str,
    pub code: ErrorCode,
}

fn invalid(field: &'static str, code: ErrorCode) -> InvalidField {
    InvalidField { field, code }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login(String);

impl Login {
    /// 1–64 characters: lower-case letters, digits, `.`, `_`, `-`, `@`; stored lower-case.
    pub fn parse(s: &str) -> Result<Login, InvalidField> {
        let s = s.trim().to_ascii_lowercase();
        if s.is_empty() || s.len() > 64 {
            return Err(invalid("login", ErrorCode::InvalidLogin));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
        {
            return Err(invalid("login", ErrorCode::InvalidLogin));
        }
        Ok(Login(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Characters no free-text field accepts: control characters (a terminal obeys them when
/// `cert list` prints a label) and the invisible bidirectional-text controls that make a
/// label read differently from what it is ("Trojan Source").
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `s` holds a character of [`is_unsafe_char`].
pub fn has_unsafe_chars(s: &str) -> bool {
    s.chars().any(is_unsafe_char)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayName(String);

impl DisplayName {
    /// 1–128 characters of any script, no control characters.
    pub fn parse(s: &str) -> Result<DisplayName, InvalidField> {
        let s = s.trim();
        if s.is_empty() || s.chars().count() > 128 {
            return Err(invalid("display_name", ErrorCode::InvalidDisplayName));
        }
        if has_unsafe_chars(s) {
            return Err(invalid("display_name", ErrorCode::InvalidDisplayName));
        }
        Ok(DisplayName(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    /// An ASCII address `local@domain` (it goes into the certificate's rfc822Name SAN,
    /// which is an IA5String).
    pub fn parse(s: &str) -> Result<Email, InvalidField> {
        parse_address(s, "email", ErrorCode::InvalidEmail).map(Email)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Microsoft user principal name, `user@domain` (seed 002).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upn(String);

impl Upn {
    pub fn parse(s: &str) -> Result<Upn, InvalidField> {
        parse_address(s, "upn", ErrorCode::InvalidUpn).map(Upn)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn parse_address(s: &str, field: &'static str, code: ErrorCode) -> Result<String, InvalidField> {
    let s = s.trim();
    if s.len() > 254 || !s.is_ascii() {
        return Err(invalid(field, code));
    }
    match s.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !s
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || "<>\",;".contains(c)) =>
        {
            Ok(s.to_string())
        }
        _ => Err(invalid(field, code)),
    }
}

/// A new password: 12–1024 characters (NIST SP 800-63B length rule; no composition rules).
/// A short free-text label (device name, CA name, passkey name): trimmed, at most 64
/// characters, no control characters.
fn label(
    s: &str,
    field: &'static str,
    code: ErrorCode,
    allow_empty: bool,
) -> Result<String, InvalidField> {
    let s = s.trim();
    if (!allow_empty && s.is_empty()) || s.chars().count() > 64 || has_unsafe_chars(s) {
        return Err(invalid(field, code));
    }
    Ok(s.to_string())
}

/// The name an administrator gives a SCIM client's token ("Entra ID provisioning").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenName(String);

impl TokenName {
    pub fn parse(s: &str) -> Result<TokenName, InvalidField> {
        label(s, "name", ErrorCode::InvalidTokenName, false).map(TokenName)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name a user gives a device ("Taro's iPhone"); may be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceLabel(String);

impl DeviceLabel {
    pub fn parse(s: &str) -> Result<DeviceLabel, InvalidField> {
        label(s, "device_label", ErrorCode::InvalidDeviceLabel, true).map(DeviceLabel)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The common name of a new CA (rotation); empty means "keep the current name".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaName(String);

impl CaName {
    /// `None` for an empty name.
    pub fn parse(s: &str) -> Result<Option<CaName>, InvalidField> {
        let v = label(s, "name", ErrorCode::InvalidCaName, true)?;
        Ok((!v.is_empty()).then_some(CaName(v)))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A passkey's name; an empty one becomes "Passkey" when a passkey is added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyName(String);

impl PasskeyName {
    pub fn parse(s: &str) -> Result<PasskeyName, InvalidField> {
        label(s, "name", ErrorCode::InvalidPasskeyName, false).map(PasskeyName)
    }
    /// For a new passkey: an empty name is allowed and becomes "Passkey".
    pub fn parse_or_default(s: &str) -> Result<PasskeyName, InvalidField> {
        if s.trim().is_empty() {
            return Ok(PasskeyName("Passkey".into()));
        }
        PasskeyName::parse(s)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(s: &str) -> Result<NewPassword, InvalidField> {
        let n = s.chars().count();
        if n < 12 {
            return Err(invalid("password", ErrorCode::PasswordTooShort));
        }
        if n > 1024 {
            return Err(invalid("password", ErrorCode::PasswordTooLong));
        }
        Ok(NewPassword(s.to_string()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins() {
        assert_eq!(Login::parse(" Yamada.T ").unwrap().as_str(), "yamada.t");
        assert_eq!(Login::parse("").unwrap_err().field, "login");
        assert!(Login::parse("a b").is_err());
        assert!(Login::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn names_emails_upns() {
        assert_eq!(
            DisplayName::parse("山田 太郎").unwrap().as_str(),
            "山田 太郎"
        );
        assert!(DisplayName::parse("a\u{7}b").is_err());
        assert!(DisplayName::parse("   ").is_err());
        assert!(Email::parse("taro@example.com").is_ok());
        for bad in [
            "taro",
            "taro@",
            "@example.com",
            "t@example",
            "太郎@example.com",
            "a b@c.d",
            "a@b@c.d",
        ] {
            assert_eq!(Email::parse(bad).unwrap_err().field, "email", "{bad}");
        }
        assert!(Upn::parse("taro@corp.example").is_ok());
        assert_eq!(Upn::parse("nope").unwrap_err().field, "upn");
    }

    #[test]
    fn labels() {
        assert_eq!(DeviceLabel::parse("  iPhone ").unwrap().as_str(), "iPhone");
        assert_eq!(DeviceLabel::parse("").unwrap().as_str(), "");
        assert_eq!(
            DeviceLabel::parse(&"x".repeat(65)).unwrap_err().code,
            ErrorCode::InvalidDeviceLabel
        );
        assert!(DeviceLabel::parse(&"端".repeat(64)).is_ok());
        assert!(DeviceLabel::parse("a\u{1b}b").is_err());
        assert!(DeviceLabel::parse("\u{1b}[2J\u{1b}[31mroot").is_err());
        assert!(
            DeviceLabel::parse("iPhone\u{202E}gpj.exe").is_err(),
            "bidi override"
        );
        assert!(DeviceLabel::parse("a\u{2066}b").is_err());
        assert!(DisplayName::parse("Taro\u{202E}").is_err());
        assert!(PasskeyName::parse("key\u{7}").is_err());
        assert!(DeviceLabel::parse("山田の iPhone 🙂").is_ok());
        assert_eq!(CaName::parse(" ").unwrap(), None);
        assert_eq!(
            CaName::parse("Corp CA 2").unwrap().unwrap().as_str(),
            "Corp CA 2"
        );
        assert_eq!(
            CaName::parse(&"c".repeat(65)).unwrap_err().code,
            ErrorCode::InvalidCaName
        );
        assert_eq!(
            PasskeyName::parse_or_default(" ").unwrap().as_str(),
            "Passkey"
        );
        assert!(PasskeyName::parse(" ").is_err());
        assert_eq!(
            PasskeyName::parse(&"p".repeat(65)).unwrap_err().code,
            ErrorCode::InvalidPasskeyName
        );
    }

    #[test]
    fn passwords() {
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse("twelve chars").is_ok());
        assert!(
            !format!("{:?}", NewPassword::parse("secret secret").unwrap())
                .contains("secret secret")
        );
    }
}

/// An end date typed by an administrator (`YYYY-MM-DD`, UTC) as the last second of that day
/// (Unix seconds). `None` when it is not a real calendar date.
pub fn end_of_day(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if text.trim().len() != 10 || !(1970..=9999).contains(&y) || !(1..=12).contains(&m) {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if d < 1 || d > days_in_month[(m - 1) as usize] {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + 86_399)
}

#[cfg(test)]
mod date_tests {
    use super::end_of_day;

    #[test]
    fn end_of_day_is_the_last_second_of_a_real_date() {
        assert_eq!(end_of_day("1970-01-01"), Some(86_399));
        assert_eq!(end_of_day("2024-02-29"), Some(1_709_251_199));
        assert_eq!(end_of_day("2026-12-31"), Some(1_798_761_599));
        for bad in [
            "2025-02-29",
            "2026-13-01",
            "2026-00-10",
            "26-01-01",
            "2026-1-1",
            "x",
            "",
            "1969-12-31",
        ] {
            assert_eq!(end_of_day(bad), None, "{bad}");
        }
    }
}
