//! Portal policy (SPEC.md rules 2, 5, 6, 7, 12): the settings an administrator controls, their
//! defaults and limits, and the pure checks that use them. No I/O, no clock.

use super::error_code::ErrorCode;

use serde::{Deserialize, Serialize};

pub const DAY: i64 = 86_400;
pub const MINUTE: i64 = 60;

/// How user requests are handled (rule 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DistributionMode {
    /// User requests become `ready` at once.
    Auto,
    /// User requests wait as `pending` for an administrator.
    Approval,
}

/// PKCS#12 encryption form (SPEC.md "Certificates and bundles").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum P12Form {
    /// PBE-SHA1-3DES with a SHA-1 MAC: what iOS, macOS, older Android and Windows accept.
    Legacy,
    /// AES-256-CBC, PBKDF2-SHA256, SHA-256 MAC.
    Modern,
}

/// Key algorithm for client certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyAlgorithm {
    EcdsaP256,
    Rsa2048,
}

/// What Apple devices (Safari on iOS, iPadOS, macOS) get from a pickup link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppleProfile {
    /// A profile with a SCEP payload: the device makes its key and enrolls; the certificate
    /// is signed then (SPEC.md "Certificates and bundles").
    #[default]
    Scep,
    /// A profile carrying a PKCS#12 made here, for devices that cannot reach the SCEP URL.
    Pkcs12,
}

/// Every setting with its default. Stored as one row per key in `settings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub distribution_mode: DistributionMode,
    pub default_validity_days: i64,
    pub max_validity_days: i64,
    pub link_lifetime_minutes: i64,
    pub pickup_deadline_days: i64,
    pub max_active_per_user: i64,
    pub p12_form: P12Form,
    pub key_algorithm: KeyAlgorithm,
    pub reissue_allowed_default: bool,
    pub crl_next_update_days: i64,
    /// Optional installer-app deep link offered on the phone page (seed 003's KeyManager).
    pub installer_link: Option<String>,
    /// What Apple devices get (stored policies from before this setting mean SCEP).
    #[serde(default)]
    pub apple_profile: AppleProfile,
    /// A user the directory (or an administrator) deactivates or deletes loses every active
    /// certificate, revoked `affiliationChanged` (stored policies from before this setting:
    /// on).
    #[serde(default = "on")]
    pub revoke_on_deactivate: bool,
}

fn on() -> bool {
    true
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            distribution_mode: DistributionMode::Auto,
            default_validity_days: 365,
            max_validity_days: 825,
            link_lifetime_minutes: 15,
            pickup_deadline_days: 7,
            max_active_per_user: 2,
            p12_form: P12Form::Legacy,
            key_algorithm: KeyAlgorithm::EcdsaP256,
            reissue_allowed_default: true,
            crl_next_update_days: 7,
            installer_link: None,
            apple_profile: AppleProfile::Scep,
            revoke_on_deactivate: true,
        }
    }
}

/// A setting that cannot be accepted, with the setting's name and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{setting}: {reason}")]
pub struct PolicyError {
    pub setting: String,
    pub reason: String,
    pub code: ErrorCode,
}

fn bad(setting: &str, reason: &str) -> PolicyError {
    let code = match setting {
        "max_validity_days" => ErrorCode::MaxValidityRange,
        "default_validity_days" => ErrorCode::DefaultValidityRange,
        "link_lifetime_minutes" => ErrorCode::LinkLifetimeRange,
        "pickup_deadline_days" => ErrorCode::PickupDeadlineRange,
        "max_active_per_user" => ErrorCode::MaxActiveRange,
        "crl_next_update_days" => ErrorCode::CrlNextUpdateRange,
        "installer_link" => ErrorCode::InstallerLinkInvalid,
        _ => ErrorCode::InvalidChoice,
    };
    PolicyError {
        setting: setting.to_string(),
        reason: reason.to_string(),
        code,
    }
}

impl Policy {
    /// Checks every limit; an invalid policy is never stored.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if !(1..=3650).contains(&self.max_validity_days) {
            return Err(bad("max_validity_days", "must be between 1 and 3650 days"));
        }
        if self.default_validity_days < 1 || self.default_validity_days > self.max_validity_days {
            return Err(bad(
                "default_validity_days",
                "must be at least 1 day and at most max_validity_days",
            ));
        }
        if !(1..=24 * 60).contains(&self.link_lifetime_minutes) {
            return Err(bad(
                "link_lifetime_minutes",
                "must be between 1 minute and 24 hours",
            ));
        }
        if !(1..=90).contains(&self.pickup_deadline_days) {
            return Err(bad("pickup_deadline_days", "must be between 1 and 90 days"));
        }
        if !(1..=100).contains(&self.max_active_per_user) {
            return Err(bad("max_active_per_user", "must be between 1 and 100"));
        }
        if !(1..=365).contains(&self.crl_next_update_days) {
            return Err(bad(
                "crl_next_update_days",
                "must be between 1 and 365 days",
            ));
        }
        if let Some(link) = &self.installer_link {
            let ok_scheme = link
                .split_once(':')
                .map(|(scheme, rest)| {
                    !scheme.is_empty()
                        && !rest.is_empty()
                        && scheme
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
                        && !["javascript", "data", "vbscript", "file"]
                            .contains(&scheme.to_ascii_lowercase().as_str())
                })
                .unwrap_or(false);
            if !ok_scheme || link.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(bad(
                    "installer_link",
                    "must be an app or https URL without spaces",
                ));
            }
        }
        Ok(())
    }

    /// Rule 12: the `not_after` for a certificate issued at `now`, from an optional requested
    /// end (Unix seconds). The default is `default_validity_days` from issuance.
    pub fn not_after(&self, now: i64, requested: Option<i64>) -> Result<i64, ValidityError> {
        match requested {
            None => Ok(now + self.default_validity_days * DAY),
            Some(end) if end <= now => Err(ValidityError::InThePast),
            Some(end) if end > now + self.max_validity_days * DAY => {
                Err(ValidityError::BeyondMaximum {
                    max_days: self.max_validity_days,
                })
            }
            Some(end) => Ok(end),
        }
    }

    /// Rule 2: may a user with `active` live entries (issued or ready/pending) get one more
    /// without "remove existing"?
    pub fn check_active_limit(&self, active: i64) -> Result<(), QuotaError> {
        if active >= self.max_active_per_user {
            Err(QuotaError {
                max: self.max_active_per_user,
            })
        } else {
            Ok(())
        }
    }

    /// Rule 5: the lifetime of a one-time link in seconds.
    pub fn link_lifetime_secs(&self) -> i64 {
        self.link_lifetime_minutes * MINUTE
    }

    /// Rule 6: the pickup deadline for an enrollment created at `now`.
    pub fn pickup_deadline(&self, now: i64) -> i64 {
        now + self.pickup_deadline_days * DAY
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ValidityError {
    #[error("the end date is in the past")]
    InThePast,
    #[error("the end date is beyond the policy maximum of {max_days} days")]
    BeyondMaximum { max_days: i64 },
}

impl ValidityError {
    pub fn code(self) -> ErrorCode {
        match self {
            ValidityError::InThePast => ErrorCode::NotAfterInPast,
            ValidityError::BeyondMaximum { .. } => ErrorCode::NotAfterBeyondMaximum,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("this user already has {max} active certificates; choose \"Remove existing certificates before re-issuing them\" or revoke one first")]
pub struct QuotaError {
    pub max: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_spec_and_validate() {
        let p = Policy::default();
        assert_eq!(p.default_validity_days, 365);
        assert_eq!(p.max_validity_days, 825);
        assert_eq!(p.link_lifetime_minutes, 15);
        assert_eq!(p.pickup_deadline_days, 7);
        assert_eq!(p.max_active_per_user, 2);
        assert_eq!(p.p12_form, P12Form::Legacy);
        assert_eq!(p.key_algorithm, KeyAlgorithm::EcdsaP256);
        assert_eq!(p.validate(), Ok(()));
    }

    #[test]
    fn invalid_settings_name_the_setting() {
        let cases: Vec<(Policy, &str)> = vec![
            (
                Policy {
                    link_lifetime_minutes: 24 * 60 + 1,
                    ..Policy::default()
                },
                "link_lifetime_minutes",
            ),
            (
                Policy {
                    link_lifetime_minutes: 0,
                    ..Policy::default()
                },
                "link_lifetime_minutes",
            ),
            (
                Policy {
                    default_validity_days: 900,
                    ..Policy::default()
                },
                "default_validity_days",
            ),
            (
                Policy {
                    max_validity_days: 0,
                    ..Policy::default()
                },
                "max_validity_days",
            ),
            (
                Policy {
                    pickup_deadline_days: 0,
                    ..Policy::default()
                },
                "pickup_deadline_days",
            ),
            (
                Policy {
                    max_active_per_user: 0,
                    ..Policy::default()
                },
                "max_active_per_user",
            ),
            (
                Policy {
                    crl_next_update_days: 0,
                    ..Policy::default()
                },
                "crl_next_update_days",
            ),
            (
                Policy {
                    installer_link: Some("javascript:alert(1)".into()),
                    ..Policy::default()
                },
                "installer_link",
            ),
            (
                Policy {
                    installer_link: Some("nocolon".into()),
                    ..Policy::default()
                },
                "installer_link",
            ),
        ];
        for (p, setting) in cases {
            assert_eq!(
                p.validate().map_err(|e| e.setting),
                Err(setting.to_string())
            );
        }
        let ok = Policy {
            installer_link: Some("keymanager://enroll".into()),
            ..Policy::default()
        };
        assert_eq!(ok.validate(), Ok(()));
    }

    #[test]
    fn validity_rule_12() {
        let p = Policy::default();
        let now = 1_000_000;
        assert_eq!(p.not_after(now, None), Ok(now + 365 * DAY));
        assert_eq!(
            p.not_after(now, Some(now - 1)),
            Err(ValidityError::InThePast)
        );
        assert_eq!(p.not_after(now, Some(now)), Err(ValidityError::InThePast));
        assert_eq!(p.not_after(now, Some(now + 30 * DAY)), Ok(now + 30 * DAY));
        assert_eq!(p.not_after(now, Some(now + 825 * DAY)), Ok(now + 825 * DAY));
        assert_eq!(
            p.not_after(now, Some(now + 826 * DAY)),
            Err(ValidityError::BeyondMaximum { max_days: 825 })
        );
    }

    #[test]
    fn active_limit_rule_2() {
        let p = Policy::default();
        assert!(p.check_active_limit(0).is_ok());
        assert!(p.check_active_limit(1).is_ok());
        assert_eq!(p.check_active_limit(2), Err(QuotaError { max: 2 }));
    }

    #[test]
    fn deadlines() {
        let p = Policy::default();
        assert_eq!(p.link_lifetime_secs(), 900);
        assert_eq!(p.pickup_deadline(10), 10 + 7 * DAY);
    }
}
