//! The one error type server functions return: stable snake_case codes the UI translates and
//! a human message. Internal causes are logged on the server and never sent to the browser.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The request was understood and refused: bad input or a rule said no.
    #[error("{message}")]
    Refused {
        code: String,
        field: Option<String>,
        message: String,
    },
    #[error("not found")]
    NotFound,
    #[error("you are not allowed to do this")]
    Forbidden,
    #[error("please sign in")]
    NotSignedIn,
    #[error("please confirm with your password or passkey first")]
    ReauthRequired,
    #[error("something went wrong on the server; it has been logged")]
    Internal,
    /// The browser could not talk to the server (or decode its answer).
    #[error("could not reach the server: {0}")]
    Transport(String),
}

impl AppError {
    pub fn refused(code: &str, field: Option<&str>, message: impl Into<String>) -> Self {
        AppError::Refused {
            code: code.to_string(),
            field: field.map(str::to_string),
            message: message.into(),
        }
    }

    /// The stable code of this error.
    pub fn code(&self) -> &str {
        match self {
            AppError::Refused { code, .. } => code,
            AppError::NotFound => "not_found",
            AppError::Forbidden => "forbidden",
            AppError::NotSignedIn => "not_signed_in",
            AppError::ReauthRequired => "reauth_required",
            AppError::Internal => "internal",
            AppError::Transport(_) => "transport",
        }
    }
}

impl AppError {
    /// The HTTP status a server function answers with when it returns this error (the
    /// browser client decodes the error from any 4xx/5xx; other clients get a proper status).
    pub fn http_status(&self) -> u16 {
        match self {
            AppError::Refused { code, .. } => match code.as_str() {
                "throttled" => 429,
                "conflict" => 409,
                _ => 400,
            },
            AppError::NotFound => 404,
            AppError::Forbidden | AppError::ReauthRequired => 403,
            AppError::NotSignedIn => 401,
            AppError::Internal | AppError::Transport(_) => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
mod from_ssr {
    use super::AppError;
    use crate::ssr::auth::AuthError;
    use crate::ssr::certs::CertError;
    use crate::ssr::setup::SetupError;

    /// Logs an internal failure with its cause and returns the generic error.
    pub fn internal(cause: &dyn std::fmt::Display) -> AppError {
        tracing::error!(error = %cause, "internal error");
        AppError::Internal
    }

    impl From<SetupError> for AppError {
        fn from(e: SetupError) -> Self {
            match e {
                SetupError::BadToken => {
                    AppError::refused("setup_link_invalid", None, e.to_string())
                }
                SetupError::AdminExists => {
                    AppError::refused("setup_admin_exists", None, e.to_string())
                }
                SetupError::Invalid(f) => {
                    AppError::refused("invalid_field", Some(f.field), f.to_string())
                }
                SetupError::LoginTaken => {
                    AppError::refused("login_taken", Some("login"), e.to_string())
                }
                SetupError::Passkey(ref detail) => {
                    tracing::info!(detail = %detail, "setup passkey refused");
                    AppError::refused("passkey_failed", None, e.to_string())
                }
                SetupError::Hash | SetupError::Db(_) => internal(&e),
            }
        }
    }

    impl From<AuthError> for AppError {
        fn from(e: AuthError) -> Self {
            match &e {
                AuthError::SignInFailed => AppError::refused("sign_in_failed", None, e.to_string()),
                AuthError::Throttled(_) => AppError::refused("throttled", None, e.to_string()),
                AuthError::NotSignedIn => AppError::NotSignedIn,
                AuthError::ReauthRequired => AppError::ReauthRequired,
                AuthError::WrongPassword => {
                    AppError::refused("wrong_password", Some("password"), e.to_string())
                }
                AuthError::Invalid(f) => {
                    AppError::refused("invalid_field", Some(f.field), f.to_string())
                }
                AuthError::LoginTaken => {
                    AppError::refused("login_taken", Some("login"), e.to_string())
                }
                AuthError::BadLink => AppError::refused("link_invalid", None, e.to_string()),
                AuthError::Passkey(detail) => {
                    tracing::info!(detail = %detail, "passkey ceremony refused");
                    AppError::refused("passkey_failed", None, e.to_string())
                }
                AuthError::AdminOnly => AppError::Forbidden,
                AuthError::NotFound => AppError::NotFound,
                AuthError::Hash | AuthError::Db(_) => internal(&e),
            }
        }
    }

    impl From<CertError> for AppError {
        fn from(e: CertError) -> Self {
            match &e {
                CertError::Invalid(m) => AppError::refused("invalid_input", None, *m),
                CertError::Policy(p) => {
                    AppError::refused("invalid_setting", Some(&p.setting), p.to_string())
                }
                CertError::Lifecycle(l) => AppError::refused(l.code(), None, l.to_string()),
                CertError::Quota(_) => AppError::refused("quota_exceeded", None, e.to_string()),
                CertError::Validity(_) => {
                    AppError::refused("invalid_not_after", Some("not_after"), e.to_string())
                }
                CertError::NotFound(_) => AppError::NotFound,
                CertError::Forbidden => AppError::Forbidden,
                CertError::UserInactive => AppError::refused("user_inactive", None, e.to_string()),
                CertError::ReissueNotAllowed => {
                    AppError::refused("reissue_not_allowed", None, e.to_string())
                }
                CertError::Conflict => AppError::refused("conflict", None, e.to_string()),
                CertError::Ca(_)
                | CertError::Bundle(_)
                | CertError::Service(_)
                | CertError::Db(_) => internal(&e),
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
    fn each_error_has_its_http_status() {
        assert_eq!(
            AppError::refused("invalid_field", None, "x").http_status(),
            400
        );
        assert_eq!(AppError::refused("throttled", None, "x").http_status(), 429);
        assert_eq!(AppError::refused("conflict", None, "x").http_status(), 409);
        assert_eq!(AppError::NotFound.http_status(), 404);
        assert_eq!(AppError::Forbidden.http_status(), 403);
        assert_eq!(AppError::ReauthRequired.http_status(), 403);
        assert_eq!(AppError::NotSignedIn.http_status(), 401);
        assert_eq!(AppError::Internal.http_status(), 500);
    }
}
