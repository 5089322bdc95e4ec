//! First run (SPEC.md "Authentication"): while no administrator exists, a one-time setup link
//! creates the first one. The token is stored only as a hash; the link works once, and not at
//! all once an administrator exists. There is no default password anywhere.

use super::audit::{self, action, Actor};
use super::db::{self, DbError, NewUser, UserRow};
use super::ids;
use super::services::Services;
use crate::domain::validate::{DisplayName, Email, InvalidField, Login, NewPassword};

/// How long a setup link stays valid.
pub const SETUP_LINK_SECS: i64 = 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "this setup link is invalid, used or expired; run `certportal setup-link` for a new one"
    )]
    BadToken,
    #[error("an administrator already exists; sign in instead")]
    AdminExists,
    #[error(transparent)]
    Invalid(#[from] InvalidField),
    #[error("that login is already taken")]
    LoginTaken,
    #[error("password hashing failed")]
    Hash,
    #[error("the passkey could not be registered")]
    Passkey(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for SetupError {
    fn from(e: sqlx::Error) -> Self {
        SetupError::Db(DbError::Sqlx(e))
    }
}

/// Makes a new setup link (recorded in the history) and voids every older one, so only the
/// newest printed link works. Refused once an administrator exists. Returns the full URL.
pub async fn new_setup_link(s: &Services, actor: &Actor) -> Result<String, SetupError> {
    let now = s.now();
    let token = ids::new_token();
    let mut tx = s.db.begin().await?;
    db::lock_named(&mut tx, "admins").await?;
    if db::count_admins(&mut tx).await? > 0 {
        return Err(SetupError::AdminExists);
    }
    db::void_setup_tokens(&mut tx, now).await?;
    db::insert_setup_token(
        &mut tx,
        &ids::token_hash(&token),
        now,
        now + SETUP_LINK_SECS,
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        actor,
        action::SETUP_LINK,
        None,
        None,
        None,
        "first-admin setup link created",
    )
    .await?;
    tx.commit().await?;
    Ok(format!("{}/setup/{token}", s.public_url))
}

/// A setup link if no administrator exists yet (printed at start-up), else `None`.
pub async fn setup_link_if_needed(s: &Services) -> Result<Option<String>, SetupError> {
    let admins = {
        let mut c = s.conn().await?;
        db::count_admins(&mut c).await?
    };
    if admins > 0 {
        return Ok(None);
    }
    new_setup_link(s, &Actor::system()).await.map(Some)
}

/// Whether a setup token can still be used (for showing the form).
pub async fn setup_token_usable(s: &Services, token: &str) -> Result<bool, SetupError> {
    let mut c = s.conn().await?;
    Ok(db::count_admins(&mut c).await? == 0
        && db::setup_token_valid(&mut c, &ids::token_hash(token), s.now()).await?)
}

/// The form's input.
#[derive(Clone)]
pub struct FirstAdmin {
    pub token: String,
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub password: String,
}

/// Creates the first administrator: validates, hashes the password off the async runtime,
/// then in one transaction consumes the token, checks no administrator exists, inserts the
/// user and records it.
pub async fn complete_setup(
    s: &Services,
    input: FirstAdmin,
    ip: Option<String>,
) -> Result<UserRow, SetupError> {
    let login = Login::parse(&input.login)?;
    let name = DisplayName::parse(&input.display_name)?;
    let email = Email::parse(&input.email)?;
    let password = NewPassword::parse(&input.password)?;
    if !setup_token_usable(s, &input.token).await? {
        return Err(SetupError::BadToken);
    }
    let hash = super::auth::hash_password(s, password.expose())
        .await
        .map_err(|_| SetupError::Hash)?;
    let now = s.now();
    let mut tx = s.db.begin().await?;
    // Two setup links completed at once must not make two first administrators.
    db::lock_named(&mut tx, "admins").await?;
    if db::count_admins(&mut tx).await? > 0 {
        return Err(SetupError::AdminExists);
    }
    if !db::consume_setup_token(&mut tx, &ids::token_hash(&input.token), now).await? {
        return Err(SetupError::BadToken);
    }
    if db::user_by_login(&mut tx, login.as_str()).await?.is_some() {
        return Err(SetupError::LoginTaken);
    }
    let user = db::insert_user(
        &mut tx,
        &ids::new_id(),
        &NewUser {
            login: login.as_str().to_string(),
            display_name: name.as_str().to_string(),
            email: email.as_str().to_string(),
            upn: None,
            department_id: None,
            is_admin: true,
            password_hash: Some(hash),
        },
        now,
    )
    .await?;
    let actor = Actor::user(&user.id, &user.login, true, ip);
    audit::record(
        &mut tx,
        now,
        &actor,
        action::SETUP_ADMIN,
        Some(&user.id),
        None,
        None,
        "first administrator created",
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// What a passkey-only setup remembers between its two steps (kept server-side).
#[derive(serde::Serialize, serde::Deserialize)]
struct PendingAdmin {
    registration: webauthn_rs::prelude::PasskeyRegistration,
    token_hash: String,
    login: String,
    display_name: String,
    email: String,
    handle: String,
}

fn passkey_err(e: impl std::fmt::Display) -> SetupError {
    SetupError::Passkey(e.to_string())
}

/// First step of creating the first administrator with a passkey and no password: checks
/// the link and the fields, and returns the ceremony id and `navigator.credentials.create`
/// options (a discoverable credential).
pub async fn passkey_setup_start(
    s: &Services,
    token: &str,
    login: &str,
    display_name: &str,
    email: &str,
) -> Result<(String, webauthn_rs::prelude::CreationChallengeResponse), SetupError> {
    let login = Login::parse(login)?;
    let name = DisplayName::parse(display_name)?;
    let email = Email::parse(email)?;
    if !setup_token_usable(s, token).await? {
        return Err(SetupError::BadToken);
    }
    let handle = webauthn_rs::prelude::Uuid::from_bytes(ids::new_serial());
    let (mut ccr, registration) = s
        .webauthn
        .start_passkey_registration(handle, login.as_str(), name.as_str(), None)
        .map_err(passkey_err)?;
    super::auth::require_discoverable(&mut ccr);
    let pending = PendingAdmin {
        registration,
        token_hash: ids::token_hash(token),
        login: login.as_str().to_string(),
        display_name: name.as_str().to_string(),
        email: email.as_str().to_string(),
        handle: handle.to_string(),
    };
    let now = s.now();
    let id = ids::new_id();
    let json = serde_json::to_string(&pending).map_err(passkey_err)?;
    let mut tx = s.db.begin().await?;
    db::auth_rows::put_webauthn_state(
        &mut tx,
        &id,
        "setup",
        None,
        &json,
        now + super::auth::CEREMONY_SECS,
    )
    .await?;
    tx.commit().await?;
    Ok((id, ccr))
}

/// Second step: verifies the new passkey and, in one transaction, spends the setup link,
/// creates the administrator (no password), stores the passkey, records both and signs in.
pub async fn passkey_setup_finish(
    s: &Services,
    ceremony: &str,
    credential: &webauthn_rs::prelude::RegisterPublicKeyCredential,
    client: &super::auth::Client,
) -> Result<super::auth::NewSession, SetupError> {
    use super::auth::{self as a, action as aa};
    use db::auth_rows as ar;
    let now = s.now();
    let mut tx = s.db.begin().await?;
    let (_, json) = ar::take_webauthn_state(&mut tx, ceremony, "setup", now)
        .await?
        .ok_or(SetupError::BadToken)?;
    let p: PendingAdmin = serde_json::from_str(&json).map_err(passkey_err)?;
    let passkey = s
        .webauthn
        .finish_passkey_registration(credential, &p.registration)
        .map_err(passkey_err)?;
    db::lock_named(&mut tx, "admins").await?;
    if db::count_admins(&mut tx).await? > 0 {
        return Err(SetupError::AdminExists);
    }
    if !db::consume_setup_token(&mut tx, &p.token_hash, now).await? {
        return Err(SetupError::BadToken);
    }
    if db::user_by_login(&mut tx, &p.login).await?.is_some() {
        return Err(SetupError::LoginTaken);
    }
    let user = db::insert_user(
        &mut tx,
        &ids::new_id(),
        &NewUser {
            login: p.login.clone(),
            display_name: p.display_name.clone(),
            email: p.email.clone(),
            upn: None,
            department_id: None,
            is_admin: true,
            password_hash: None,
        },
        now,
    )
    .await?;
    ar::webauthn_handle(&mut tx, &user.id, &p.handle).await?;
    ar::insert_passkey(
        &mut tx,
        &db::PasskeyRow {
            id: ids::new_id(),
            user_id: user.id.clone(),
            name: "Passkey".into(),
            credential_id: a::credential_key(passkey.cred_id().as_ref()),
            passkey_json: serde_json::to_string(&passkey).map_err(passkey_err)?,
            created_at: now,
            last_used_at: None,
        },
    )
    .await?;
    let actor = Actor::user(&user.id, &user.login, true, client.ip.clone());
    audit::record(
        &mut tx,
        now,
        &actor,
        action::SETUP_ADMIN,
        Some(&user.id),
        None,
        None,
        "first administrator created (passkey)",
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        &actor,
        aa::PASSKEY_ADD,
        Some(&user.id),
        None,
        None,
        "name=Passkey",
    )
    .await?;
    let session = a::open_session(&mut tx, s, &user, client, None, "setup")
        .await
        .map_err(|e| SetupError::Passkey(e.to_string()))?;
    tx.commit().await?;
    Ok(session)
}
