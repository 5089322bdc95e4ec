//! Sign-in use cases (SPEC.md "Authentication", rules 8 and 11): passwords (argon2id, hashed
//! off the async runtime with a bound on concurrent hashes), passkeys (webauthn-rs,
//! discoverable credentials, so a passkey alone signs in), server-side sessions with idle and
//! absolute timeouts, re-authentication for sensitive actions, throttling per account and per
//! address, and activation links for new users. Every outcome is in the operation history.

use super::audit::{self, Actor};
use super::db::{self, auth_rows as ar, Conn, DbError, NewUser, PasskeyRow, SessionRow, UserRow};
use super::ids;
use super::services::Services;
use crate::domain::throttle;
use crate::domain::validate::{DisplayName, Email, InvalidField, Login, NewPassword, Upn};
use std::fmt;
use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Uuid,
};

/// A session ends after this long without a request.
pub const SESSION_IDLE_SECS: i64 = 30 * 60;
/// A session ends this long after sign-in, however active.
pub const SESSION_ABSOLUTE_SECS: i64 = 12 * 3600;
/// Rule 8: a sensitive action needs a password or passkey check this recent.
pub const REAUTH_WINDOW_SECS: i64 = 5 * 60;
/// How long a WebAuthn challenge can be answered.
pub const CEREMONY_SECS: i64 = 5 * 60;
/// How long an activation link for a new user works.
pub const ACTIVATION_SECS: i64 = 7 * 86_400;

/// Audit action names for sign-in.
pub mod action {
    pub use crate::domain::actions::*;
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The same answer for an unknown account, a wrong password and a deactivated account.
    #[error("sign-in failed: check your login name and password")]
    SignInFailed,
    #[error("too many attempts; try again in {0} seconds")]
    Throttled(i64),
    #[error("please sign in")]
    NotSignedIn,
    #[error("please confirm with your password or passkey first")]
    ReauthRequired,
    #[error("the current password is wrong")]
    WrongPassword,
    #[error(transparent)]
    Invalid(#[from] InvalidField),
    #[error("that login is already taken")]
    LoginTaken,
    #[error("this link is invalid, used or expired")]
    BadLink,
    #[error("the passkey check did not succeed")]
    Passkey(String),
    #[error("this passkey is already registered")]
    PasskeyAlreadyRegistered,
    #[error("only an administrator can do this")]
    AdminOnly,
    #[error("not found")]
    NotFound,
    #[error("password hashing failed")]
    Hash,
    /// `oidc_local_passwords = false`: sign in through the provider or with a passkey.
    #[error("passwords are not used here")]
    PasswordsOff,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<crate::ssr::passwords::HashError> for AuthError {
    fn from(_: crate::ssr::passwords::HashError) -> Self {
        AuthError::Hash
    }
}

impl From<sqlx::Error> for AuthError {
    fn from(e: sqlx::Error) -> Self {
        AuthError::Db(DbError::Sqlx(e))
    }
}

/// A new session's secret token, for the cookie only. `Debug` hides it.
pub struct NewSession {
    pub token: String,
    pub user: UserRow,
    /// The time zone the user chose, if any (the browser gets it as a cookie).
    pub time_zone: Option<String>,
}

impl fmt::Debug for NewSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewSession")
            .field("user", &self.user.login)
            .finish_non_exhaustive()
    }
}

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: UserRow,
    pub session: SessionRow,
    /// The address of the request that acts (the session's sign-in may have come from
    /// another one).
    pub ip: Option<String>,
    /// Read with the session (see `db::auth_rows::SessionLookup`): whether the user asked
    /// for the weekly digest, and their issued certificate that ends first.
    pub digest_opt_in: bool,
    pub nearest_issued: Option<(String, String, i64)>,
}

impl Authenticated {
    /// The history's actor: this user, from the address of this request.
    pub fn actor(&self) -> Actor {
        Actor::user(
            &self.user.id,
            &self.user.login,
            self.user.is_admin,
            self.ip.clone(),
        )
    }
}

/// Where a request comes from (for throttling and the history).
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The language the request asked for: remembered at sign-in for the user's mails.
    pub lang: Option<crate::i18n::Lang>,
}

/// Counts a sign-in attempt on `/metrics`.
pub fn count_sign_in<T>(s: &Services, method: &str, r: &Result<T, AuthError>) {
    let result = match r {
        Ok(_) => "ok",
        Err(AuthError::Throttled(_)) => "throttled",
        Err(AuthError::SignInFailed | AuthError::Passkey(_)) => "refused",
        Err(_) => "error",
    };
    s.metrics.sign_in(method, result);
    if result == "throttled" {
        s.metrics.throttled("sign_in");
    }
}

pub(crate) mod attempts;
mod passkeys;
mod password;
mod sessions;
mod users;

use attempts::*;
pub use passkeys::*;
pub use password::*;
pub use sessions::*;
pub use users::*;
