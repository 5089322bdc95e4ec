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
    pub const LOGIN: &str = "auth.login";
    pub const LOGIN_FAILED: &str = "auth.login_failed";
    pub const LOGIN_THROTTLED: &str = "auth.login_throttled";
    pub const LOGOUT: &str = "auth.logout";
    pub const LOGOUT_ALL: &str = "auth.logout_all";
    pub const SESSION_EXPIRED: &str = "auth.session_expired";
    pub const REAUTH: &str = "auth.reauth";
    pub const REAUTH_FAILED: &str = "auth.reauth_failed";
    pub const PASSWORD_CHANGE: &str = "auth.password_change";
    pub const PASSKEY_ADD: &str = "auth.passkey_add";
    pub const PASSKEY_RENAME: &str = "auth.passkey_rename";
    pub const PASSKEY_REMOVE: &str = "auth.passkey_remove";
    pub const USER_CREATE: &str = "user.create";
    pub const USER_ACTIVATE: &str = "user.activate";
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
    #[error(transparent)]
    Db(#[from] DbError),
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
}

impl Authenticated {
    pub fn actor(&self) -> Actor {
        Actor::user(
            &self.user.id,
            &self.user.login,
            self.user.is_admin,
            self.session.ip.clone(),
        )
    }
}

/// Where a request comes from (for throttling and the history).
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

// ---------------------------------------------------------------- password hashing

fn argon() -> Result<argon2::Argon2<'static>, AuthError> {
    // OWASP minimum for argon2id: 19 MiB, 2 passes, 1 lane.
    let params = argon2::Params::new(19 * 1024, 2, 1, None).map_err(|_| AuthError::Hash)?;
    Ok(argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params,
    ))
}

/// Hashes a password (blocking; call through [`hash_password`]).
pub fn hash_password_blocking(password: &str) -> Result<String, AuthError> {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    argon()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| AuthError::Hash)
}

fn verify_blocking(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    match (PasswordHash::new(phc), argon()) {
        (Ok(parsed), Ok(a)) => a.verify_password(password.as_bytes(), &parsed).is_ok(),
        _ => false,
    }
}

/// Hashes off the async runtime, at most `hash_permits` at a time.
pub async fn hash_password(s: &Services, password: &str) -> Result<String, AuthError> {
    let _permit = s
        .hash_permits
        .acquire()
        .await
        .map_err(|_| AuthError::Hash)?;
    let p = password.to_string();
    tokio::task::spawn_blocking(move || hash_password_blocking(&p))
        .await
        .map_err(|_| AuthError::Hash)?
}

/// Verifies off the async runtime. Without a stored hash it still spends the time of one
/// verification, so an unknown account answers as slowly as a wrong password.
async fn verify_password(
    s: &Services,
    password: &str,
    phc: Option<String>,
) -> Result<bool, AuthError> {
    let _permit = s
        .hash_permits
        .acquire()
        .await
        .map_err(|_| AuthError::Hash)?;
    let p = password.to_string();
    let known = phc.is_some();
    let target = phc.unwrap_or_else(|| s.dummy_hash.clone());
    let ok = tokio::task::spawn_blocking(move || verify_blocking(&p, &target))
        .await
        .map_err(|_| AuthError::Hash)?;
    Ok(ok && known)
}

// ---------------------------------------------------------------- throttling

fn account_key(login: &str) -> String {
    format!("acct:{}", login.trim().to_ascii_lowercase())
}

fn address_key(ip: &Option<String>) -> Option<String> {
    ip.as_ref().map(|ip| format!("ip:{ip}"))
}

async fn throttle_check(c: &mut Conn, keys: &[String], now: i64) -> Result<(), AuthError> {
    for k in keys {
        if let Err(wait) = throttle::check(ar::throttle_get(c, k).await?, now) {
            return Err(AuthError::Throttled(wait));
        }
    }
    Ok(())
}

async fn throttle_fail(
    c: &mut Conn,
    login_key: &str,
    ip_key: Option<&str>,
    now: i64,
) -> Result<(), AuthError> {
    let rec = throttle::after_failure(
        throttle::ACCOUNT,
        ar::throttle_get(c, login_key).await?,
        now,
    );
    ar::throttle_put(c, login_key, &rec).await?;
    if let Some(k) = ip_key {
        let rec = throttle::after_failure(throttle::ADDRESS, ar::throttle_get(c, k).await?, now);
        ar::throttle_put(c, k, &rec).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------- sessions

pub(crate) async fn open_session(
    c: &mut Conn,
    s: &Services,
    user: &UserRow,
    client: &Client,
    previous_token: Option<&str>,
    how: &str,
) -> Result<NewSession, AuthError> {
    let now = s.now();
    // Rotation: whatever session the browser presented before signing in is ended, so a
    // planted session id never becomes an authenticated one.
    if let Some(old) = previous_token {
        ar::delete_session(c, &ids::token_hash(old)).await?;
    }
    let token = ids::new_token();
    ar::insert_session(
        c,
        &SessionRow {
            id_hash: ids::token_hash(&token),
            user_id: user.id.clone(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + SESSION_ABSOLUTE_SECS,
            reauth_at: Some(now),
            ip: client.ip.clone(),
            user_agent: client
                .user_agent
                .as_ref()
                .map(|u| u.chars().take(200).collect()),
        },
    )
    .await?;
    let actor = Actor::user(&user.id, &user.login, user.is_admin, client.ip.clone());
    audit::record(
        c,
        now,
        &actor,
        action::LOGIN,
        Some(&user.id),
        None,
        None,
        how,
    )
    .await?;
    Ok(NewSession {
        token,
        user: user.clone(),
    })
}

/// Opens a session for a user who has just proven themselves another way (first-admin setup).
pub async fn start_session(
    s: &Services,
    user: &UserRow,
    client: &Client,
    how: &str,
) -> Result<NewSession, AuthError> {
    let mut tx = s.db.begin().await?;
    let session = open_session(&mut tx, s, user, client, None, how).await?;
    tx.commit().await?;
    Ok(session)
}

/// Signs in with login and password.
pub async fn password_sign_in(
    s: &Services,
    login: &str,
    password: &str,
    client: &Client,
    previous_token: Option<&str>,
) -> Result<NewSession, AuthError> {
    let now = s.now();
    let login_key = account_key(login);
    let ip_key = address_key(&client.ip);
    let keys: Vec<String> = std::iter::once(login_key.clone())
        .chain(ip_key.clone())
        .collect();
    {
        let mut c = s.conn().await?;
        if let Err(e) = throttle_check(&mut c, &keys, now).await {
            drop(c);
            let mut tx = s.db.begin().await?;
            let actor = Actor::anonymous(client.ip.clone());
            audit::record_result(
                &mut tx,
                now,
                &actor,
                action::LOGIN_THROTTLED,
                None,
                "refused",
                &format!("login={}", login_key.trim_start_matches("acct:")),
            )
            .await?;
            tx.commit().await?;
            return Err(e);
        }
    }
    let (user, phc) = {
        let mut c = s.conn().await?;
        match db::user_by_login(&mut c, &login.trim().to_ascii_lowercase()).await? {
            Some(u) => {
                let h = ar::password_hash(&mut c, &u.id).await?;
                (Some(u), h)
            }
            None => (None, None),
        }
    };
    let ok = verify_password(s, password, phc).await?;
    let mut tx = s.db.begin().await?;
    match user {
        Some(u) if ok && u.active => {
            ar::throttle_clear(&mut tx, &login_key).await?;
            let session = open_session(&mut tx, s, &u, client, previous_token, "password").await?;
            tx.commit().await?;
            Ok(session)
        }
        other => {
            throttle_fail(&mut tx, &login_key, ip_key.as_deref(), now).await?;
            let actor = Actor::anonymous(client.ip.clone());
            let subject = other.as_ref().map(|u| u.id.as_str());
            audit::record_result(
                &mut tx,
                now,
                &actor,
                action::LOGIN_FAILED,
                subject,
                "refused",
                &format!("login={}", login_key.trim_start_matches("acct:")),
            )
            .await?;
            tx.commit().await?;
            Err(AuthError::SignInFailed)
        }
    }
}

/// The user behind a session token, if the session is alive (idle and absolute timeouts);
/// refreshes its last-seen time. An expired session is deleted and recorded.
pub async fn session_user(s: &Services, token: &str) -> Result<Option<Authenticated>, AuthError> {
    let now = s.now();
    let hash = ids::token_hash(token);
    let mut c = s.conn().await?;
    let Some(session) = ar::session_by_hash(&mut c, &hash).await? else {
        return Ok(None);
    };
    let user = db::user_by_id(&mut c, &session.user_id).await?;
    drop(c);
    let alive = session.expires_at > now && session.last_seen_at + SESSION_IDLE_SECS > now;
    match user {
        Some(user) if alive && user.active => {
            // Writing on every request would serialise readers on SQLite; a minute is enough
            // precision for a 30-minute idle timeout.
            if now - session.last_seen_at >= 60 {
                let mut c = s.conn().await?;
                ar::touch_session(&mut c, &hash, now).await?;
            }
            Ok(Some(Authenticated { user, session }))
        }
        user => {
            let mut tx = s.db.begin().await?;
            if ar::delete_session(&mut tx, &hash).await? == 1 {
                if let Some(u) = &user {
                    let actor = Actor::user(&u.id, &u.login, u.is_admin, session.ip.clone());
                    audit::record(
                        &mut tx,
                        now,
                        &actor,
                        action::SESSION_EXPIRED,
                        Some(&u.id),
                        None,
                        None,
                        "",
                    )
                    .await?;
                }
            }
            tx.commit().await?;
            Ok(None)
        }
    }
}

/// Housekeeping: deletes sessions past their timeouts and unanswered ceremonies. Returns the
/// number of sessions removed. (A session is also refused and removed when presented late;
/// this only keeps the table small.)
pub async fn purge_expired(s: &Services) -> Result<u64, AuthError> {
    let now = s.now();
    let mut tx = s.db.begin().await?;
    let n = ar::delete_expired_sessions(&mut tx, now, SESSION_IDLE_SECS).await?;
    ar::delete_expired_webauthn_states(&mut tx, now).await?;
    tx.commit().await?;
    Ok(n)
}

/// Ends one session.
pub async fn sign_out(s: &Services, auth: &Authenticated) -> Result<(), AuthError> {
    let now = s.now();
    let mut tx = s.db.begin().await?;
    ar::delete_session(&mut tx, &auth.session.id_hash).await?;
    audit::record(
        &mut tx,
        now,
        &auth.actor(),
        action::LOGOUT,
        Some(&auth.user.id),
        None,
        None,
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends every session of the user, on every device and instance.
pub async fn sign_out_everywhere(s: &Services, auth: &Authenticated) -> Result<u64, AuthError> {
    let now = s.now();
    let mut tx = s.db.begin().await?;
    let n = ar::delete_user_sessions(&mut tx, &auth.user.id).await?;
    audit::record(
        &mut tx,
        now,
        &auth.actor(),
        action::LOGOUT_ALL,
        Some(&auth.user.id),
        None,
        None,
        &format!("sessions={n}"),
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

/// Rule 8's guard: the session passed a password or passkey check in the last 5 minutes.
pub fn require_recent_auth(auth: &Authenticated, now: i64) -> Result<(), AuthError> {
    match auth.session.reauth_at {
        Some(t) if now - t <= REAUTH_WINDOW_SECS && t <= now => Ok(()),
        _ => Err(AuthError::ReauthRequired),
    }
}

/// Records a successful confirmation on the session (rule 8).
async fn confirmed(
    c: &mut Conn,
    auth: &Authenticated,
    now: i64,
    how: &str,
) -> Result<(), AuthError> {
    ar::set_reauth(c, &auth.session.id_hash, now).await?;
    audit::record(
        c,
        now,
        &auth.actor(),
        action::REAUTH,
        Some(&auth.user.id),
        None,
        None,
        how,
    )
    .await?;
    Ok(())
}

/// Confirms the signed-in user with their password (rule 8).
pub async fn reauth_with_password(
    s: &Services,
    auth: &Authenticated,
    password: &str,
) -> Result<(), AuthError> {
    let now = s.now();
    let key = account_key(&auth.user.login);
    {
        let mut c = s.conn().await?;
        throttle_check(&mut c, std::slice::from_ref(&key), now).await?;
    }
    let phc = {
        let mut c = s.conn().await?;
        ar::password_hash(&mut c, &auth.user.id).await?
    };
    let ok = verify_password(s, password, phc).await?;
    let mut tx = s.db.begin().await?;
    if ok {
        confirmed(&mut tx, auth, now, "password").await?;
        tx.commit().await?;
        Ok(())
    } else {
        throttle_fail(&mut tx, &key, None, now).await?;
        audit::record_result(
            &mut tx,
            now,
            &auth.actor(),
            action::REAUTH_FAILED,
            Some(&auth.user.id),
            "refused",
            "password",
        )
        .await?;
        tx.commit().await?;
        Err(AuthError::WrongPassword)
    }
}

/// Sets a new password. Needs the current one unless the account has none yet or a password
/// change is forced (after "lost device", the user signed in with the old one moments ago).
pub async fn change_password(
    s: &Services,
    auth: &Authenticated,
    current: Option<&str>,
    new_password: &str,
) -> Result<(), AuthError> {
    let new_password = NewPassword::parse(new_password)?;
    let now = s.now();
    let phc = {
        let mut c = s.conn().await?;
        ar::password_hash(&mut c, &auth.user.id).await?
    };
    if phc.is_some() && !auth.user.must_change_password {
        let ok = match current {
            Some(p) => verify_password(s, p, phc).await?,
            None => false,
        };
        if !ok {
            return Err(AuthError::WrongPassword);
        }
    }
    let hash = hash_password(s, new_password.expose()).await?;
    let mut tx = s.db.begin().await?;
    ar::set_password_hash(&mut tx, &auth.user.id, &hash, now).await?;
    // Other sessions may belong to whoever knew the old password.
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
        .bind(&auth.user.id)
        .bind(&auth.session.id_hash)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        now,
        &auth.actor(),
        action::PASSWORD_CHANGE,
        Some(&auth.user.id),
        None,
        None,
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- passkeys

pub(crate) fn wa_err(e: impl fmt::Display) -> AuthError {
    AuthError::Passkey(e.to_string())
}

pub(crate) fn credential_key(id: &[u8]) -> String {
    hex::encode(id)
}

/// Asks the browser for a discoverable credential, so the passkey alone can sign in later
/// (webauthn-rs' passkey registration leaves the choice to the authenticator).
pub(crate) fn require_discoverable(ccr: &mut CreationChallengeResponse) {
    if let Some(sel) = ccr.public_key.authenticator_selection.as_mut() {
        sel.require_resident_key = true;
        sel.resident_key = Some(webauthn_rs_proto::ResidentKeyRequirement::Required);
    }
}

/// Starts adding a passkey for the signed-in user. Returns the ceremony id and the options
/// for `navigator.credentials.create`.
pub async fn passkey_register_start(
    s: &Services,
    auth: &Authenticated,
) -> Result<(String, CreationChallengeResponse), AuthError> {
    let now = s.now();
    let mut tx = s.db.begin().await?;
    let handle = ar::webauthn_handle(
        &mut tx,
        &auth.user.id,
        &Uuid::from_bytes(ids::new_serial()).to_string(),
    )
    .await?;
    let uuid = Uuid::parse_str(&handle).map_err(wa_err)?;
    let existing: Vec<_> = ar::passkeys_for_user(&mut tx, &auth.user.id)
        .await?
        .iter()
        .filter_map(|p| serde_json::from_str::<Passkey>(&p.passkey_json).ok())
        .map(|p| p.cred_id().clone())
        .collect();
    let (mut ccr, state) = s
        .webauthn
        .start_passkey_registration(
            uuid,
            &auth.user.login,
            &auth.user.display_name,
            Some(existing),
        )
        .map_err(wa_err)?;
    require_discoverable(&mut ccr);
    let id = ids::new_id();
    let json = serde_json::to_string(&state).map_err(wa_err)?;
    ar::put_webauthn_state(
        &mut tx,
        &id,
        "register",
        Some(&auth.user.id),
        &json,
        now + CEREMONY_SECS,
    )
    .await?;
    tx.commit().await?;
    Ok((id, ccr))
}

/// Finishes adding a passkey.
pub async fn passkey_register_finish(
    s: &Services,
    auth: &Authenticated,
    ceremony: &str,
    name: &str,
    credential: &RegisterPublicKeyCredential,
) -> Result<PasskeyRow, AuthError> {
    let name = crate::domain::validate::PasskeyName::parse_or_default(name)?;
    let name = name.as_str();
    let now = s.now();
    let mut tx = s.db.begin().await?;
    let (owner, json) = ar::take_webauthn_state(&mut tx, ceremony, "register", now)
        .await?
        .ok_or(AuthError::BadLink)?;
    if owner.as_deref() != Some(auth.user.id.as_str()) {
        return Err(AuthError::BadLink);
    }
    let state: PasskeyRegistration = serde_json::from_str(&json).map_err(wa_err)?;
    let passkey = s
        .webauthn
        .finish_passkey_registration(credential, &state)
        .map_err(wa_err)?;
    let cred_key = credential_key(passkey.cred_id().as_ref());
    if ar::passkey_by_credential(&mut tx, &cred_key)
        .await?
        .is_some()
    {
        return Err(AuthError::PasskeyAlreadyRegistered);
    }
    let row = PasskeyRow {
        id: ids::new_id(),
        user_id: auth.user.id.clone(),
        name: name.to_string(),
        credential_id: cred_key,
        passkey_json: serde_json::to_string(&passkey).map_err(wa_err)?,
        created_at: now,
        last_used_at: None,
    };
    ar::insert_passkey(&mut tx, &row).await?;
    audit::record(
        &mut tx,
        now,
        &auth.actor(),
        action::PASSKEY_ADD,
        Some(&auth.user.id),
        None,
        None,
        &format!("name={name}"),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn passkey_rename(
    s: &Services,
    auth: &Authenticated,
    id: &str,
    name: &str,
) -> Result<(), AuthError> {
    let name = crate::domain::validate::PasskeyName::parse(name)?;
    let name = name.as_str();
    let now = s.now();
    let mut tx = s.db.begin().await?;
    if !ar::rename_passkey(&mut tx, &auth.user.id, id, name).await? {
        return Err(AuthError::NotFound);
    }
    audit::record(
        &mut tx,
        now,
        &auth.actor(),
        action::PASSKEY_RENAME,
        Some(&auth.user.id),
        None,
        None,
        &format!("name={name}"),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn passkey_remove(s: &Services, auth: &Authenticated, id: &str) -> Result<(), AuthError> {
    let now = s.now();
    let mut tx = s.db.begin().await?;
    if !ar::delete_passkey(&mut tx, &auth.user.id, id).await? {
        return Err(AuthError::NotFound);
    }
    audit::record(
        &mut tx,
        now,
        &auth.actor(),
        action::PASSKEY_REMOVE,
        Some(&auth.user.id),
        None,
        None,
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Starts a sign-in (or a confirmation) with a passkey. Without a login name the browser
/// offers the user's discoverable passkeys (the passkey alone signs in); with one, the user's
/// registered passkeys are listed, for authenticators that cannot store discoverable ones. An
/// unknown login gets the discoverable form, so the answer says nothing about who exists.
pub async fn passkey_login_start(
    s: &Services,
    login: Option<&str>,
) -> Result<(String, RequestChallengeResponse), AuthError> {
    let now = s.now();
    let mut tx = s.db.begin().await?;
    ar::delete_expired_webauthn_states(&mut tx, now).await?;
    let known = match login.map(str::trim).filter(|l| !l.is_empty()) {
        Some(l) => match db::user_by_login(&mut tx, &l.to_ascii_lowercase()).await? {
            Some(u) => {
                let keys: Vec<Passkey> = ar::passkeys_for_user(&mut tx, &u.id)
                    .await?
                    .iter()
                    .filter_map(|p| serde_json::from_str(&p.passkey_json).ok())
                    .collect();
                (!keys.is_empty()).then_some((u.id, keys))
            }
            None => None,
        },
        None => None,
    };
    let id = ids::new_id();
    let rcr = match known {
        Some((user_id, keys)) => {
            let (rcr, state) = s
                .webauthn
                .start_passkey_authentication(&keys)
                .map_err(wa_err)?;
            let json = serde_json::to_string(&state).map_err(wa_err)?;
            ar::put_webauthn_state(
                &mut tx,
                &id,
                "login_user",
                Some(&user_id),
                &json,
                now + CEREMONY_SECS,
            )
            .await?;
            rcr
        }
        None => {
            let (mut rcr, state) = s
                .webauthn
                .start_discoverable_authentication()
                .map_err(wa_err)?;
            // A modal prompt from a button press, not autofill ("conditional") mediation.
            rcr.mediation = None;
            let json = serde_json::to_string(&state).map_err(wa_err)?;
            ar::put_webauthn_state(&mut tx, &id, "login", None, &json, now + CEREMONY_SECS).await?;
            rcr
        }
    };
    tx.commit().await?;
    Ok((id, rcr))
}

/// Verifies a passkey assertion and returns its user (updating the stored counter).
async fn passkey_verify(
    s: &Services,
    tx: &mut Conn,
    ceremony: &str,
    credential: &PublicKeyCredential,
) -> Result<UserRow, AuthError> {
    let now = s.now();
    let (kind, state_user, json) = ar::take_login_state(tx, ceremony, now)
        .await?
        .ok_or(AuthError::BadLink)?;
    let row = ar::passkey_by_credential(tx, &credential_key(credential.get_credential_id()))
        .await?
        .ok_or(AuthError::SignInFailed)?;
    let mut passkey: Passkey = serde_json::from_str(&row.passkey_json).map_err(wa_err)?;
    let result = if kind == "login_user" {
        if state_user.as_deref() != Some(row.user_id.as_str()) {
            return Err(AuthError::SignInFailed);
        }
        let state: PasskeyAuthentication = serde_json::from_str(&json).map_err(wa_err)?;
        s.webauthn
            .finish_passkey_authentication(credential, &state)
            .map_err(|_| AuthError::SignInFailed)?
    } else {
        let state: DiscoverableAuthentication = serde_json::from_str(&json).map_err(wa_err)?;
        let (handle, _) = s
            .webauthn
            .identify_discoverable_authentication(credential)
            .map_err(wa_err)?;
        let user_id = ar::user_id_by_webauthn_handle(tx, &handle.to_string())
            .await?
            .ok_or(AuthError::SignInFailed)?;
        if user_id != row.user_id {
            return Err(AuthError::SignInFailed);
        }
        s.webauthn
            .finish_discoverable_authentication_v2(credential, state, &passkey)
            .map_err(|_| AuthError::SignInFailed)?
    };
    passkey.update_credential(&result);
    ar::update_passkey_use(
        tx,
        &row.id,
        &serde_json::to_string(&passkey).map_err(wa_err)?,
        now,
    )
    .await?;
    let user = db::user_by_id(tx, &row.user_id)
        .await?
        .ok_or(AuthError::SignInFailed)?;
    if !user.active {
        return Err(AuthError::SignInFailed);
    }
    Ok(user)
}

/// Finishes a passkey sign-in and opens a session.
pub async fn passkey_login_finish(
    s: &Services,
    ceremony: &str,
    credential: &PublicKeyCredential,
    client: &Client,
    previous_token: Option<&str>,
) -> Result<NewSession, AuthError> {
    let now = s.now();
    let mut tx = s.db.begin().await?;
    match passkey_verify(s, &mut tx, ceremony, credential).await {
        Ok(user) => {
            let session =
                open_session(&mut tx, s, &user, client, previous_token, "passkey").await?;
            tx.commit().await?;
            Ok(session)
        }
        Err(e) => {
            drop(tx);
            let mut tx = s.db.begin().await?;
            let actor = Actor::anonymous(client.ip.clone());
            audit::record_result(
                &mut tx,
                now,
                &actor,
                action::LOGIN_FAILED,
                None,
                "refused",
                "passkey",
            )
            .await?;
            tx.commit().await?;
            Err(match e {
                AuthError::Db(d) => AuthError::Db(d),
                _ => AuthError::SignInFailed,
            })
        }
    }
}

/// Confirms the signed-in user with a passkey of theirs (rule 8).
pub async fn reauth_with_passkey(
    s: &Services,
    auth: &Authenticated,
    ceremony: &str,
    credential: &PublicKeyCredential,
) -> Result<(), AuthError> {
    let now = s.now();
    let mut tx = s.db.begin().await?;
    match passkey_verify(s, &mut tx, ceremony, credential).await {
        Ok(user) if user.id == auth.user.id => {
            confirmed(&mut tx, auth, now, "passkey").await?;
            tx.commit().await?;
            Ok(())
        }
        _ => {
            drop(tx);
            let mut tx = s.db.begin().await?;
            audit::record_result(
                &mut tx,
                now,
                &auth.actor(),
                action::REAUTH_FAILED,
                Some(&auth.user.id),
                "refused",
                "passkey",
            )
            .await?;
            tx.commit().await?;
            Err(AuthError::WrongPassword)
        }
    }
}

// ---------------------------------------------------------------- users and activation

/// What an administrator enters for a new user.
#[derive(Debug, Clone, Default)]
pub struct UserInput {
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub upn: Option<String>,
    pub department: Option<String>,
    pub is_admin: bool,
}

/// A validated [`UserInput`].
#[derive(Debug, Clone)]
pub struct ValidUser {
    pub login: Login,
    pub display_name: DisplayName,
    pub email: Email,
    pub upn: Option<Upn>,
    pub department: Option<String>,
    pub is_admin: bool,
}

impl UserInput {
    pub fn validate(&self) -> Result<ValidUser, InvalidField> {
        let department = match self.department.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => {
                let parts: Vec<&str> = d
                    .split('/')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .collect();
                if parts.is_empty()
                    || parts
                        .iter()
                        .any(|p| p.chars().count() > 64 || p.chars().any(char::is_control))
                {
                    return Err(InvalidField {
                        field: "department",
                        code: crate::domain::error_code::ErrorCode::InvalidDepartment,
                    });
                }
                Some(parts.join("/"))
            }
        };
        Ok(ValidUser {
            login: Login::parse(&self.login)?,
            display_name: DisplayName::parse(&self.display_name)?,
            email: Email::parse(&self.email)?,
            upn: match self.upn.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(u) => Some(Upn::parse(u)?),
            },
            department,
            is_admin: self.is_admin,
        })
    }
}

/// Finds or creates a department path (`Sales/Tokyo`), parents first.
async fn department_id(c: &mut Conn, path: &str) -> Result<String, AuthError> {
    let mut parent: Option<String> = None;
    let mut so_far = String::new();
    for part in path.split('/') {
        if !so_far.is_empty() {
            so_far.push('/');
        }
        so_far.push_str(part);
        let row = sqlx::query("SELECT id FROM departments WHERE path = $1")
            .bind(&so_far)
            .fetch_optional(&mut *c)
            .await?;
        let id = match row {
            Some(r) => db::get_str(&r, "id")?,
            None => {
                let id = ids::new_id();
                sqlx::query(
                    "INSERT INTO departments (id, parent_id, name, path) VALUES ($1,$2,$3,$4)",
                )
                .bind(&id)
                .bind(parent.clone())
                .bind(part)
                .bind(&so_far)
                .execute(&mut *c)
                .await?;
                id
            }
        };
        parent = Some(id);
    }
    parent.ok_or(AuthError::Invalid(InvalidField {
        field: "department",
        code: crate::domain::error_code::ErrorCode::InvalidDepartment,
    }))
}

/// Creates a user with no password and returns a one-time activation link (rule: never an
/// administrator-chosen password).
pub async fn create_user(
    s: &Services,
    actor: &Actor,
    input: &UserInput,
) -> Result<(UserRow, String), AuthError> {
    let mut created = create_users(s, actor, std::slice::from_ref(input))
        .await
        .map_err(|(_, e)| e)?;
    created.pop().ok_or(AuthError::NotFound)
}

/// Creates several users in one transaction: if any row is invalid or taken, nobody is created
/// and the error names the row (0-based).
pub async fn create_users(
    s: &Services,
    actor: &Actor,
    inputs: &[UserInput],
) -> Result<Vec<(UserRow, String)>, (usize, AuthError)> {
    if !actor.is_admin {
        return Err((0, AuthError::AdminOnly));
    }
    let valid: Vec<ValidUser> = inputs
        .iter()
        .enumerate()
        .map(|(i, u)| u.validate().map_err(|e| (i, AuthError::Invalid(e))))
        .collect::<Result<_, _>>()?;
    for (i, v) in valid.iter().enumerate() {
        if valid[..i].iter().any(|w| w.login == v.login) {
            return Err((i, AuthError::LoginTaken));
        }
    }
    let now = s.now();
    let mut tx = s.db.begin().await.map_err(|e| (0, AuthError::Db(e)))?;
    let mut out = Vec::with_capacity(valid.len());
    for (i, v) in valid.iter().enumerate() {
        let r = create_one(&mut tx, s, actor, v, now)
            .await
            .map_err(|e| (i, e))?;
        out.push(r);
    }
    tx.commit().await.map_err(|e| (0, AuthError::from(e)))?;
    Ok(out)
}

async fn create_one(
    tx: &mut Conn,
    s: &Services,
    actor: &Actor,
    v: &ValidUser,
    now: i64,
) -> Result<(UserRow, String), AuthError> {
    if db::user_by_login(tx, v.login.as_str()).await?.is_some() {
        return Err(AuthError::LoginTaken);
    }
    let dept = match &v.department {
        Some(p) => Some(department_id(tx, p).await?),
        None => None,
    };
    let user = db::insert_user(
        tx,
        &ids::new_id(),
        &NewUser {
            login: v.login.as_str().to_string(),
            display_name: v.display_name.as_str().to_string(),
            email: v.email.as_str().to_string(),
            upn: v.upn.as_ref().map(|u| u.as_str().to_string()),
            department_id: dept,
            is_admin: v.is_admin,
            password_hash: None,
        },
        now,
    )
    .await?;
    let token = ids::new_token();
    ar::insert_activation(
        tx,
        &ids::token_hash(&token),
        &user.id,
        now,
        now + ACTIVATION_SECS,
    )
    .await?;
    audit::record(
        tx,
        now,
        actor,
        action::USER_CREATE,
        Some(&user.id),
        None,
        None,
        &format!("login={} admin={}", user.login, user.is_admin),
    )
    .await?;
    Ok((user, format!("{}/activate/{token}", s.public_url)))
}

/// The user an activation link is for, if it still works.
pub async fn activation_target(s: &Services, token: &str) -> Result<Option<UserRow>, AuthError> {
    let mut c = s.conn().await?;
    match ar::activation_user(&mut c, &ids::token_hash(token), s.now()).await? {
        Some(id) => Ok(db::user_by_id(&mut c, &id).await?),
        None => Ok(None),
    }
}

/// Sets the first password from an activation link and signs the user in.
pub async fn activate(
    s: &Services,
    token: &str,
    password: &str,
    client: &Client,
) -> Result<NewSession, AuthError> {
    let password = NewPassword::parse(password)?;
    if activation_target(s, token).await?.is_none() {
        return Err(AuthError::BadLink);
    }
    let hash = hash_password(s, password.expose()).await?;
    let now = s.now();
    let mut tx = s.db.begin().await?;
    let user_id = ar::activation_user(&mut tx, &ids::token_hash(token), now)
        .await?
        .ok_or(AuthError::BadLink)?;
    if !ar::consume_activation(&mut tx, &ids::token_hash(token), now).await? {
        return Err(AuthError::BadLink);
    }
    ar::set_password_hash(&mut tx, &user_id, &hash, now).await?;
    let user = db::user_by_id(&mut tx, &user_id)
        .await?
        .ok_or(AuthError::BadLink)?;
    let actor = Actor::user(&user.id, &user.login, user.is_admin, client.ip.clone());
    audit::record(
        &mut tx,
        now,
        &actor,
        action::USER_ACTIVATE,
        Some(&user.id),
        None,
        None,
        "",
    )
    .await?;
    let session = open_session(&mut tx, s, &user, client, None, "activation").await?;
    tx.commit().await?;
    Ok(session)
}
