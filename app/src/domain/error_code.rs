//! The one vocabulary of errors: every reason the portal can refuse or fail a request has a
//! stable snake_case code. Server functions send the code (never English text), the catalogue
//! (`crate::i18n::error_text`) says it in every language, and the CLI prints the English text.
//! Codes are part of the API: add new ones, never rename or reuse one.

use serde::{Deserialize, Serialize};

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $wire:literal, )*) => {
        /// A stable error code (`snake_case` on the wire).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, for the catalogue test and documentation.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            /// The code as sent on the wire and in no-JavaScript redirects.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( ErrorCode::$variant => $wire, )*
                }
            }

            /// Parses a wire code; unknown codes are `None`.
            pub fn parse(code: &str) -> Option<ErrorCode> {
                match code {
                    $( $wire => Some(ErrorCode::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

error_codes! {
    // Who may call.
    /// Sign in first.
    NotSignedIn = "not_signed_in",
    /// Signed in, but not allowed (another user's entry, or not an administrator).
    Forbidden = "forbidden",
    /// Rule 8: a password or passkey check in the last 5 minutes is needed.
    ReauthRequired = "reauth_required",
    /// After a lost device: a new password must be set before anything else.
    PasswordChangeRequired = "password_change_required",
    NotFound = "not_found",
    // Sign-in and accounts.
    SignInFailed = "sign_in_failed",
    Throttled = "throttled",
    WrongPassword = "wrong_password",
    LoginTaken = "login_taken",
    /// An activation or passkey ceremony that is unknown, used or expired.
    LinkInvalid = "link_invalid",
    PasskeyFailed = "passkey_failed",
    PasskeyInvalid = "passkey_invalid",
    PasskeyAlreadyRegistered = "passkey_already_registered",
    UserInactive = "user_inactive",
    SetupLinkInvalid = "setup_link_invalid",
    SetupAdminExists = "setup_admin_exists",
    LastAdmin = "last_admin",
    /// The company's identity provider could not be reached (or is not configured).
    SsoUnavailable = "sso_unavailable",
    /// The identity provider's answer was refused (state, signature, audience, expiry…).
    SsoRefused = "sso_refused",
    /// No account matches the provider's user, and accounts are not created at sign-in.
    SsoNoAccount = "sso_no_account",
    /// Passwords are off: sign in through the company's provider or with a passkey.
    PasswordSignInOff = "password_sign_in_off",
    // Fields.
    InvalidLogin = "invalid_login",
    InvalidDisplayName = "invalid_display_name",
    InvalidEmail = "invalid_email",
    InvalidUpn = "invalid_upn",
    InvalidDepartment = "invalid_department",
    PasswordTooShort = "password_too_short",
    PasswordTooLong = "password_too_long",
    InvalidPasskeyName = "invalid_passkey_name",
    InvalidTokenName = "invalid_token_name",
    InvalidDeviceLabel = "invalid_device_label",
    InvalidCaName = "invalid_ca_name",
    InvalidReason = "invalid_reason",
    InvalidLanguage = "invalid_language",
    InvalidTimeZone = "invalid_time_zone",
    InvalidSearch = "invalid_search",
    InvalidStatus = "invalid_status",
    InvalidDate = "invalid_date",
    DateRangeReversed = "date_range_reversed",
    /// A form value that must be one of a few choices was something else.
    InvalidChoice = "invalid_choice",
    InvalidNumber = "invalid_number",
    NoteTooLong = "note_too_long",
    RejectNoteRequired = "reject_note_required",
    ConfirmationRequired = "confirmation_required",
    NothingSelected = "nothing_selected",
    TooMany = "too_many",
    // Validity and quota (rules 2 and 12).
    InvalidNotAfter = "invalid_not_after",
    NotAfterInPast = "not_after_in_past",
    NotAfterBeyondMaximum = "not_after_beyond_maximum",
    QuotaExceeded = "quota_exceeded",
    ReissueNotAllowed = "reissue_not_allowed",
    // Policy settings.
    MaxValidityRange = "max_validity_range",
    DefaultValidityRange = "default_validity_range",
    LinkLifetimeRange = "link_lifetime_range",
    PickupDeadlineRange = "pickup_deadline_range",
    MaxActiveRange = "max_active_range",
    CrlNextUpdateRange = "crl_next_update_range",
    InstallerLinkInvalid = "installer_link_invalid",
    RsaUnavailable = "rsa_unavailable",
    // The lifecycle (rule 1 and friends).
    LifecycleFinal = "lifecycle_final",
    LifecycleNotPending = "lifecycle_not_pending",
    LifecycleNotReady = "lifecycle_not_ready",
    LifecycleNotIssued = "lifecycle_not_issued",
    LifecycleAlreadyExpired = "lifecycle_already_expired",
    LifecycleAwaitingApproval = "lifecycle_awaiting_approval",
    RevocationReasonNotOffered = "revocation_reason_not_offered",
    RevocationReasonUnknown = "revocation_reason_unknown",
    // One-time pickup links.
    LinkUnknown = "link_unknown",
    LinkUsed = "link_used",
    LinkExpired = "link_expired",
    LinkVoided = "link_voided",
    LinkNotReady = "link_not_ready",
    /// Five wrong PINs voided the link.
    LinkLocked = "link_locked",
    /// A download without a live grant: the PIN must be entered (again).
    PinRequired = "pin_required",
    /// A wrong PIN (the page says how many attempts are left).
    PinWrong = "pin_wrong",
    // Everything else.
    /// Somebody else changed the same thing at the same moment; nothing was changed.
    Conflict = "conflict",
    /// A failure on the server; the cause is in the server's log.
    Internal = "internal",
    /// The browser could not reach the server or read its answer.
    Transport = "transport",
    /// The request itself was malformed (missing or undecodable fields): nothing changed.
    MalformedRequest = "malformed_request",
}

impl ErrorCode {
    /// The HTTP status a server function answers with for this code.
    pub fn http_status(self) -> u16 {
        use ErrorCode as E;
        match self {
            E::NotSignedIn => 401,
            E::Forbidden | E::ReauthRequired | E::PasswordChangeRequired => 403,
            E::NotFound => 404,
            E::Conflict => 409,
            E::Throttled => 429,
            E::Internal | E::Transport => 500,
            _ => 400,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ErrorCode::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown error code {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_snake_case_and_round_trip() {
        let mut seen = HashSet::new();
        for &c in ErrorCode::ALL {
            let s = c.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(
                !s.is_empty()
                    && s.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_')
                    && !s.starts_with('_')
                    && !s.ends_with('_'),
                "{s} is not snake_case"
            );
            assert_eq!(ErrorCode::parse(s), Some(c));
            let json = serde_json::to_string(&c).unwrap_or_default();
            assert_eq!(json, format!("\"{s}\""));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).ok(), Some(c));
        }
        assert_eq!(ErrorCode::parse("no_such_code"), None);
    }

    #[test]
    fn statuses() {
        assert_eq!(ErrorCode::LoginTaken.http_status(), 400);
        assert_eq!(ErrorCode::Throttled.http_status(), 429);
        assert_eq!(ErrorCode::Conflict.http_status(), 409);
        assert_eq!(ErrorCode::NotFound.http_status(), 404);
        assert_eq!(ErrorCode::Forbidden.http_status(), 403);
        assert_eq!(ErrorCode::ReauthRequired.http_status(), 403);
        assert_eq!(ErrorCode::NotSignedIn.http_status(), 401);
        assert_eq!(ErrorCode::Internal.http_status(), 500);
    }
}
