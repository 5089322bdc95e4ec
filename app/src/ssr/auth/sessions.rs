//! Server-side sessions (idle and absolute timeouts, several instances), password sign-in,
//! sign-out, re-authentication for sensitive actions (rule 8) and password changes.

use super::*;

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
    if let Some(lang) = client.lang {
        super::super::db::set_user_language(c, &user.id, lang.code()).await?;
    }
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
    let time_zone = super::super::db::user_time_zone(c, &user.id).await?;
    Ok(NewSession {
        token,
        user: user.clone(),
        time_zone,
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

/// Signs in with login and password. The attempt is counted before the password is checked
/// (see [`super::attempts`]), so parallel guesses get no more tries than sequential ones.
/// Whether local passwords sign in and confirm (off only by `oidc_local_passwords = false`
/// with a provider configured; passkeys always work).
pub fn passwords_allowed(s: &Services) -> bool {
    s.oidc.as_ref().is_none_or(|o| o.settings.local_passwords)
}

pub async fn password_sign_in(
    s: &Services,
    login: &str,
    password: &str,
    client: &Client,
    previous_token: Option<&str>,
) -> Result<NewSession, AuthError> {
    if !passwords_allowed(s) {
        return Err(AuthError::PasswordsOff);
    }
    let now = s.now();
    let login_key = account_key(login);
    let ip_key = address_key("ip:", &client.ip);
    let keys: Vec<(String, throttle::Limits)> =
        std::iter::once((login_key.clone(), throttle::ACCOUNT))
            .chain(ip_key.clone().map(|k| (k, throttle::ADDRESS)))
            .collect();
    // Refused while locked: nothing is written (the lock's start is in the history).
    let locked_now = charge_now(s, &keys, now).await?;
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
            if let Some(k) = &ip_key {
                refund(&mut tx, k, throttle::ADDRESS).await?;
            }
            let session = open_session(&mut tx, s, &u, client, previous_token, "password").await?;
            tx.commit().await?;
            Ok(session)
        }
        other => {
            let actor = Actor::anonymous(client.ip.clone());
            let subject = other.as_ref().map(|u| u.id.as_str());
            let who = login_for_history(login);
            audit::record_result(
                &mut tx,
                now,
                &actor,
                action::LOGIN_FAILED,
                subject,
                "refused",
                &who,
            )
            .await?;
            if locked_now {
                audit::record_result(
                    &mut tx,
                    now,
                    &actor,
                    action::LOGIN_THROTTLED,
                    subject,
                    "refused",
                    &format!("{who} locked"),
                )
                .await?;
            }
            tx.commit().await?;
            Err(AuthError::SignInFailed)
        }
    }
}

/// The user behind a session token, if the session is alive (idle and absolute timeouts);
/// refreshes its last-seen time. An expired session is deleted and recorded. `ip` is the
/// address of the request presenting it.
pub async fn session_user(
    s: &Services,
    token: &str,
    ip: Option<String>,
) -> Result<Option<Authenticated>, AuthError> {
    let now = s.now();
    let hash = ids::token_hash(token);
    let mut c = s.conn().await?;
    let Some(found) = ar::session_by_hash(&mut c, &hash, now).await? else {
        return Ok(None);
    };
    drop(c);
    let session = found.session;
    let alive = session.expires_at > now && session.last_seen_at + SESSION_IDLE_SECS > now;
    match found.user {
        Some(user) if alive && user.active => {
            // Writing on every request would serialise readers on SQLite; a minute is enough
            // precision for a 30-minute idle timeout.
            if now - session.last_seen_at >= 60 {
                let mut c = s.conn().await?;
                ar::touch_session(&mut c, &hash, now).await?;
            }
            Ok(Some(Authenticated {
                user,
                session,
                ip,
                digest_opt_in: found.digest_opt_in,
                nearest_issued: found.nearest_issued,
            }))
        }
        user => {
            let mut tx = s.db.begin().await?;
            if ar::delete_session(&mut tx, &hash).await? == 1 {
                if let Some(u) = &user {
                    let actor = Actor::user(&u.id, &u.login, u.is_admin, ip);
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
    purge_stale(&mut tx, now).await?;
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
pub(super) async fn confirmed(
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

/// Confirms the signed-in user with their password (rule 8), counted like a sign-in.
pub async fn reauth_with_password(
    s: &Services,
    auth: &Authenticated,
    password: &str,
) -> Result<(), AuthError> {
    if !passwords_allowed(s) {
        return Err(AuthError::PasswordsOff);
    }
    let now = s.now();
    let key = account_key(&auth.user.login);
    let keys = [(key.clone(), throttle::ACCOUNT)];
    charge_now(s, &keys, now).await?;
    let phc = {
        let mut c = s.conn().await?;
        ar::password_hash(&mut c, &auth.user.id).await?
    };
    let ok = verify_password(s, password, phc).await?;
    let mut tx = s.db.begin().await?;
    if ok {
        ar::throttle_clear(&mut tx, &key).await?;
        confirmed(&mut tx, auth, now, "password").await?;
        tx.commit().await?;
        Ok(())
    } else {
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

/// Sets a new password. Needs the current one whenever the account has one — also when a
/// change is forced after "lost device": a session alone (perhaps opened by whoever holds
/// the lost phone) never sets a password unchallenged.
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
    if phc.is_some() {
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
    ar::delete_other_sessions(&mut tx, &auth.user.id, &auth.session.id_hash).await?;
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
