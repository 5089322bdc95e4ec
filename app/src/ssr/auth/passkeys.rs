//! Passkeys (webauthn-rs): adding, renaming and removing them, signing in with one alone
//! (discoverable credentials) and confirming with one (rule 8).

use super::*;

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
/// for `navigator.credentials.create`. Like removing one, it needs a password or passkey
/// check in the last 5 minutes (rule 8): a session alone does not add a way in.
pub async fn passkey_register_start(
    s: &Services,
    auth: &Authenticated,
) -> Result<(String, CreationChallengeResponse), AuthError> {
    let now = s.now();
    require_recent_auth(auth, now)?;
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
    require_recent_auth(auth, now)?;
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

/// Most unanswered anonymous sign-in ceremonies kept at once; beyond it a start is refused
/// for a minute (each start stores a challenge, and anyone can start one).
pub const MAX_OPEN_CEREMONIES: i64 = 10_000;

/// Anonymous sign-in starts allowed per client address (IPv6 per /64) in a window, per
/// process, so one address cannot fill [`MAX_OPEN_CEREMONIES`] for everyone.
pub const STARTS_PER_ADDRESS: u32 = 30;
/// The window of [`STARTS_PER_ADDRESS`], in seconds.
pub const STARTS_WINDOW_SECS: i64 = 300;

/// Counts anonymous passkey sign-in starts per address scope (in memory: a start is cheap to
/// refuse and needs no write).
#[derive(Debug, Default)]
pub struct StartLimiter(std::sync::Mutex<std::collections::HashMap<String, (i64, u32)>>);

impl StartLimiter {
    /// Whether another start from `scope` may happen at `now` (and counts it).
    pub fn allow(&self, scope: &str, now: i64) -> bool {
        let Ok(mut m) = self.0.lock() else {
            return false;
        };
        if m.len() > 100_000 {
            m.retain(|_, (start, _)| now - *start < STARTS_WINDOW_SECS);
        }
        let e = m.entry(scope.to_string()).or_insert((now, 0));
        if now - e.0 >= STARTS_WINDOW_SECS || now < e.0 {
            *e = (now, 0);
        }
        if e.1 >= STARTS_PER_ADDRESS {
            return false;
        }
        e.1 += 1;
        true
    }
}

/// Starts a sign-in with a passkey: always the discoverable form (the browser offers the
/// user's passkeys; every passkey is registered discoverable), so the answer is the same for
/// every login name and says nothing about who exists or which passkeys they have. `ip` is
/// the client's address (limited per address, then globally).
pub async fn passkey_login_start(
    s: &Services,
    ip: Option<&str>,
) -> Result<(String, RequestChallengeResponse), AuthError> {
    let now = s.now();
    if let Some(ip) = ip {
        if !s
            .passkey_starts
            .allow(&crate::ssr::client_addr::throttle_scope(ip), now)
        {
            return Err(AuthError::Throttled(STARTS_WINDOW_SECS));
        }
    }
    {
        let mut c = s.conn().await?;
        if ar::count_open_login_states(&mut c, now).await? >= MAX_OPEN_CEREMONIES {
            return Err(AuthError::Throttled(60));
        }
    }
    let (mut rcr, state) = s
        .webauthn
        .start_discoverable_authentication()
        .map_err(wa_err)?;
    // A modal prompt from a button press, not autofill ("conditional") mediation.
    rcr.mediation = None;
    let json = serde_json::to_string(&state).map_err(wa_err)?;
    let id = ids::new_id();
    let mut tx = s.db.begin().await?;
    ar::delete_expired_webauthn_states(&mut tx, now).await?;
    ar::put_webauthn_state(&mut tx, &id, "login", None, &json, now + CEREMONY_SECS).await?;
    tx.commit().await?;
    Ok((id, rcr))
}

/// Starts a confirmation (rule 8) with one of the signed-in user's passkeys.
pub async fn passkey_confirm_start(
    s: &Services,
    auth: &Authenticated,
) -> Result<(String, RequestChallengeResponse), AuthError> {
    let now = s.now();
    let mut tx = s.db.begin().await?;
    let keys: Vec<Passkey> = ar::passkeys_for_user(&mut tx, &auth.user.id)
        .await?
        .iter()
        .filter_map(|p| serde_json::from_str(&p.passkey_json).ok())
        .collect();
    if keys.is_empty() {
        return Err(AuthError::NotFound);
    }
    let (rcr, state) = s
        .webauthn
        .start_passkey_authentication(&keys)
        .map_err(wa_err)?;
    let json = serde_json::to_string(&state).map_err(wa_err)?;
    let id = ids::new_id();
    ar::put_webauthn_state(
        &mut tx,
        &id,
        "login_user",
        Some(&auth.user.id),
        &json,
        now + CEREMONY_SECS,
    )
    .await?;
    tx.commit().await?;
    Ok((id, rcr))
}

/// Verifies a passkey assertion and returns its user (updating the stored counter).
pub(super) async fn passkey_verify(
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
