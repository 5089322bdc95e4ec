//! The one error type server functions return: stable snake_case codes the UI translates and
//! a human message. Internal causes are logged on the server and never sent to the browser.

use crate::domain::error_code::ErrorCode;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// An error as server functions return it: a stable code and, for a bad form field, the
/// field's name. On the wire: `{"code":"login_taken","field":"login"}`. The text comes from the
/// catalogue in the reader's language; `Display` gives the English text (logs, CLI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    pub code: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl AppError {
    pub const fn new(code: ErrorCode) -> Self {
        AppError { code, field: None }
    }

    /// An error about one form field.
    pub fn field(code: ErrorCode, field: &str) -> Self {
        AppError {
            code,
            field: Some(field.to_string()),
        }
    }

    pub const NOT_FOUND: AppError = AppError::new(ErrorCode::NotFound);
    pub const FORBIDDEN: AppError = AppError::new(ErrorCode::Forbidden);
    pub const NOT_SIGNED_IN: AppError = AppError::new(ErrorCode::NotSignedIn);
    pub const INTERNAL: AppError = AppError::new(ErrorCode::Internal);

    /// The HTTP status a server function answers with when it returns this error (the
    /// browser client decodes the error from any 4xx/5xx; other clients get a proper status).
    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(crate::i18n::error_text(crate::i18n::Lang::En, self.code))
    }
}

impl std::error::Error for AppError {}

impl From<ErrorCode> for AppError {
    fn from(code: ErrorCode) -> Self {
        AppError::new(code)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        // The detail stays in the browser's console (or the server's log); the page shows
        // the catalogue text. A request the server could not decode is the caller's
        // mistake (400), not a failure of the server.
        leptos::logging::warn!("server function call failed: {value}");
        match value {
            // On the server: the request did not decode. (In the browser a response that
            // does not decode is a transport failure.)
            ServerFnErrorErr::Args(_)
            | ServerFnErrorErr::MissingArg(_)
            | ServerFnErrorErr::Deserialization(_)
            | ServerFnErrorErr::UnsupportedRequestMethod(_)
                if cfg!(feature = "ssr") =>
            {
                AppError::new(ErrorCode::MalformedRequest)
            }
            _ => AppError::new(ErrorCode::Transport),
        }
    }
}

#[cfg(feature = "ssr")]
mod from_ssr {
    use super::AppError;
    use crate::domain::error_code::ErrorCode;
    use crate::domain::validate::InvalidField;
    use crate::ssr::auth::AuthError;
    use crate::ssr::certs::CertError;
    use crate::ssr::db::DbError;
    use crate::ssr::services::ServiceError;
    use crate::ssr::setup::SetupError;

    /// Logs an internal failure with its cause and returns the generic error.
    pub fn internal(cause: &dyn std::fmt::Display) -> AppError {
        tracing::error!(error = %cause, "internal error");
        AppError::INTERNAL
    }

    impl From<InvalidField> for AppError {
        fn from(f: InvalidField) -> Self {
            AppError::field(f.code, f.field)
        }
    }

    impl From<crate::domain::lifecycle::LifecycleError> for AppError {
        fn from(l: crate::domain::lifecycle::LifecycleError) -> Self {
            AppError::new(l.code())
        }
    }

    impl From<DbError> for AppError {
        fn from(e: DbError) -> Self {
            internal(&e)
        }
    }

    impl From<sqlx::Error> for AppError {
        fn from(e: sqlx::Error) -> Self {
            internal(&e)
        }
    }

    impl From<ServiceError> for AppError {
        fn from(e: ServiceError) -> Self {
            match e {
                ServiceError::Conflict => AppError::new(ErrorCode::Conflict),
                e => internal(&e),
            }
        }
    }

    impl From<SetupError> for AppError {
        fn from(e: SetupError) -> Self {
            match e {
                SetupError::BadToken => AppError::new(ErrorCode::SetupLinkInvalid),
                SetupError::AdminExists => AppError::new(ErrorCode::SetupAdminExists),
                SetupError::Invalid(f) => f.into(),
                SetupError::LoginTaken => AppError::field(ErrorCode::LoginTaken, "login"),
                SetupError::Passkey(ref detail) => {
                    tracing::info!(detail = %detail, "setup passkey refused");
                    AppError::new(ErrorCode::PasskeyFailed)
                }
                SetupError::Hash | SetupError::Db(_) => internal(&e),
            }
        }
    }

    impl From<AuthError> for AppError {
        fn from(e: AuthError) -> Self {
            match &e {
                AuthError::SignInFailed => AppError::new(ErrorCode::SignInFailed),
                AuthError::Throttled(_) => AppError::new(ErrorCode::Throttled),
                AuthError::NotSignedIn => AppError::NOT_SIGNED_IN,
                AuthError::ReauthRequired => AppError::new(ErrorCode::ReauthRequired),
                AuthError::WrongPassword => AppError::field(ErrorCode::WrongPassword, "password"),
                AuthError::Invalid(f) => (*f).into(),
                AuthError::LoginTaken => AppError::field(ErrorCode::LoginTaken, "login"),
                AuthError::BadLink => AppError::new(ErrorCode::LinkInvalid),
                AuthError::Passkey(detail) => {
                    tracing::info!(detail = %detail, "passkey ceremony refused");
                    AppError::new(ErrorCode::PasskeyFailed)
                }
                AuthError::PasskeyAlreadyRegistered => {
                    AppError::new(ErrorCode::PasskeyAlreadyRegistered)
                }
                AuthError::AdminOnly => AppError::FORBIDDEN,
                AuthError::NotFound => AppError::NOT_FOUND,
                AuthError::PasswordsOff => AppError::new(ErrorCode::PasswordSignInOff),
                AuthError::Hash | AuthError::Db(_) => internal(&e),
            }
        }
    }

    impl From<CertError> for AppError {
        fn from(e: CertError) -> Self {
            match &e {
                CertError::Invalid(code) => AppError::new(*code),
                CertError::Policy(p) => AppError::field(p.code, &p.setting),
                CertError::Lifecycle(l) => AppError::new(l.code()),
                CertError::Quota(_) => AppError::new(ErrorCode::QuotaExceeded),
                CertError::Validity(v) => AppError::field(v.code(), "not_after"),
                CertError::NotFound(_) => AppError::NOT_FOUND,
                CertError::Forbidden => AppError::FORBIDDEN,
                CertError::UserInactive => AppError::new(ErrorCode::UserInactive),
                CertError::ReissueNotAllowed => AppError::new(ErrorCode::ReissueNotAllowed),
                CertError::Conflict => AppError::new(ErrorCode::Conflict),
                CertError::Service(ServiceError::Conflict) => AppError::new(ErrorCode::Conflict),
                CertError::Ca(_)
                | CertError::Bundle(_)
                | CertError::Service(_)
                | CertError::Db(_)
                | CertError::Injected(_)
                | CertError::Internal(_) => internal(&e),
            }
        }
    }
}

#[cfg(feature = "ssr")]
pub use from_ssr::internal;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_form_is_a_code_and_a_field() {
        let e = AppError::field(ErrorCode::LoginTaken, "login");
        let json = serde_json::to_string(&e).unwrap_or_default();
        assert_eq!(json, r#"{"code":"login_taken","field":"login"}"#);
        let back: AppError = serde_json::from_str(&json).unwrap_or(AppError::INTERNAL);
        assert_eq!(back, e);
        assert_eq!(
            serde_json::to_string(&AppError::NOT_FOUND).unwrap_or_default(),
            r#"{"code":"not_found"}"#
        );
        assert_eq!(e.http_status(), 400);
        assert_eq!(e.to_string(), "That login name is already taken.");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn a_ca_rotation_conflict_is_a_409() {
        let e: AppError = crate::ssr::services::ServiceError::Conflict.into();
        assert_eq!(e.code, ErrorCode::Conflict);
        assert_eq!(e.http_status(), 409);
    }
}
