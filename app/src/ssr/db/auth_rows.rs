//! SQL for sign-in: password hashes, sessions, passkeys, WebAuthn ceremony state, throttling
//! counters and activation links.

use super::{get_i64, get_opt_i64, get_opt_str, get_str, Conn, DbError};
use crate::domain::throttle::Record;

// ---------------------------------------------------------------- passwords

pub async fn password_hash(c: &mut Conn, user_id: &str) -> Result<Option<String>, DbError> {
    let row = sqlx::query("SELECT password_hash FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(match row {
        Some(r) => get_opt_str(&r, "password_hash")?,
        None => None,
    })
}

pub async fn set_password_hash(
    c: &mut Conn,
    user_id: &str,
    hash: &str,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE users SET password_hash = $1, password_changed_at = $2, must_change_password = 0, \
         updated_at = $2 WHERE id = $3",
    )
    .bind(hash)
    .bind(now)
    .bind(user_id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn set_must_change_password(
    c: &mut Conn,
    user_id: &str,
    on: bool,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET must_change_password = $1, updated_at = $2 WHERE id = $3")
        .bind(i64::from(on))
        .bind(now)
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The user's WebAuthn handle, created on first use.
pub async fn webauthn_handle(c: &mut Conn, user_id: &str, fresh: &str) -> Result<String, DbError> {
    sqlx::query("UPDATE users SET webauthn_handle = $1 WHERE id = $2 AND webauthn_handle IS NULL")
        .bind(fresh)
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    let row = sqlx::query("SELECT webauthn_handle FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(&mut *c)
        .await?;
    get_str(&row, "webauthn_handle")
}

pub async fn user_id_by_webauthn_handle(
    c: &mut Conn,
    handle: &str,
) -> Result<Option<String>, DbError> {
    let row = sqlx::query("SELECT id FROM users WHERE webauthn_handle = $1")
        .bind(handle)
        .fetch_optional(&mut *c)
        .await?;
    row.as_ref().map(|r| get_str(r, "id")).transpose()
}

// ---------------------------------------------------------------- sessions

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id_hash: String,
    pub user_id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub reauth_at: Option<i64>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

fn session_from(r: &sqlx::any::AnyRow) -> Result<SessionRow, DbError> {
    Ok(SessionRow {
        id_hash: get_str(r, "id_hash")?,
        user_id: get_str(r, "user_id")?,
        created_at: get_i64(r, "created_at")?,
        last_seen_at: get_i64(r, "last_seen_at")?,
        expires_at: get_i64(r, "expires_at")?,
        reauth_at: get_opt_i64(r, "reauth_at")?,
        ip: get_opt_str(r, "ip")?,
        user_agent: get_opt_str(r, "user_agent")?,
    })
}

pub async fn insert_session(c: &mut Conn, s: &SessionRow) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, reauth_at, ip, user_agent) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
    )
    .bind(&s.id_hash)
    .bind(&s.user_id)
    .bind(s.created_at)
    .bind(s.last_seen_at)
    .bind(s.expires_at)
    .bind(s.reauth_at)
    .bind(s.ip.clone())
    .bind(s.user_agent.clone())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// What every signed-in request reads first: the session, its user (`None` if the user is
/// gone), and what every page the user opens shows of them — in one query and one round trip
/// (as separate queries, each on a connection of its own, they were half the database round
/// trips of an administrator's directory page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionLookup {
    pub session: SessionRow,
    pub user: Option<super::UserRow>,
    /// The user asked for the weekly digest (an administrator's summary card shows it).
    pub digest_opt_in: bool,
    /// The user's issued certificate that ends first and has not ended at `now`: (enrollment
    /// id, device label, end) — the header's expiry reminder.
    pub nearest_issued: Option<(String, String, i64)>,
}

/// The query of [`session_by_hash`]: `$1` the token hash, `$2` now. The nearest certificate
/// is read on the user's index (`+not_after`: see `certificates::active_for_user_sql`).
pub(crate) const SESSION_BY_HASH: &str =
    "SELECT s.id_hash, s.user_id, s.created_at AS session_created_at, s.last_seen_at, \
     s.expires_at, s.reauth_at, s.ip, s.user_agent, u.id, u.login, u.display_name, \
     u.email, u.upn, u.department_id, u.is_admin, u.reissue_allowed, u.active, \
     u.must_change_password, u.created_at, u.digest_opt_in, \
     n.enrollment_id AS nearest_entry, n.device_label AS nearest_label, \
     n.not_after AS nearest_not_after \
     FROM sessions s LEFT JOIN users u ON u.id = s.user_id \
     LEFT JOIN certificates n ON n.id = (SELECT c.id FROM certificates c \
       WHERE c.user_id = s.user_id AND c.state = 'issued' AND +c.not_after > $2 \
       ORDER BY +c.not_after LIMIT 1) \
     WHERE s.id_hash = $1";

/// The session with this token hash, its user, and what its pages show of them (see
/// [`SessionLookup`]), as of `now`.
pub async fn session_by_hash(
    c: &mut Conn,
    id_hash: &str,
    now: i64,
) -> Result<Option<SessionLookup>, DbError> {
    let row = sqlx::query(SESSION_BY_HASH)
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&mut *c)
        .await?;
    let Some(r) = row else {
        return Ok(None);
    };
    let session = SessionRow {
        id_hash: get_str(&r, "id_hash")?,
        user_id: get_str(&r, "user_id")?,
        created_at: get_i64(&r, "session_created_at")?,
        last_seen_at: get_i64(&r, "last_seen_at")?,
        expires_at: get_i64(&r, "expires_at")?,
        reauth_at: get_opt_i64(&r, "reauth_at")?,
        ip: get_opt_str(&r, "ip")?,
        user_agent: get_opt_str(&r, "user_agent")?,
    };
    let user = match get_opt_str(&r, "id")? {
        Some(_) => Some(super::users::user_from(&r)?),
        None => None,
    };
    let nearest_issued = match get_opt_str(&r, "nearest_entry")? {
        Some(entry) => Some((
            entry,
            get_str(&r, "nearest_label")?,
            get_i64(&r, "nearest_not_after")?,
        )),
        None => None,
    };
    Ok(Some(SessionLookup {
        session,
        digest_opt_in: user.is_some() && get_i64(&r, "digest_opt_in")? != 0,
        user,
        nearest_issued,
    }))
}

pub async fn sessions_for_user(c: &mut Conn, user_id: &str) -> Result<Vec<SessionRow>, DbError> {
    let rows = sqlx::query(
        "SELECT id_hash, user_id, created_at, last_seen_at, expires_at, reauth_at, ip, user_agent \
         FROM sessions WHERE user_id = $1 ORDER BY created_at DESC",
    )
    .bind(user_id)
    .fetch_all(&mut *c)
    .await?;
    rows.iter().map(session_from).collect()
}

pub async fn touch_session(c: &mut Conn, id_hash: &str, now: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(now)
        .bind(id_hash)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn set_reauth(c: &mut Conn, id_hash: &str, now: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE sessions SET reauth_at = $1, last_seen_at = $1 WHERE id_hash = $2")
        .bind(now)
        .bind(id_hash)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn delete_session(c: &mut Conn, id_hash: &str) -> Result<u64, DbError> {
    let r = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(&mut *c)
        .await?;
    Ok(r.rows_affected())
}

pub async fn delete_user_sessions(c: &mut Conn, user_id: &str) -> Result<u64, DbError> {
    let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    Ok(r.rows_affected())
}

pub async fn delete_expired_sessions(c: &mut Conn, now: i64, idle: i64) -> Result<u64, DbError> {
    let r = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
        .bind(now)
        .bind(now - idle)
        .execute(&mut *c)
        .await?;
    Ok(r.rows_affected())
}

// ---------------------------------------------------------------- passkeys

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub credential_id: String,
    pub passkey_json: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

fn passkey_from(r: &sqlx::any::AnyRow) -> Result<PasskeyRow, DbError> {
    Ok(PasskeyRow {
        id: get_str(r, "id")?,
        user_id: get_str(r, "user_id")?,
        name: get_str(r, "name")?,
        credential_id: get_str(r, "credential_id")?,
        passkey_json: get_str(r, "passkey_json")?,
        created_at: get_i64(r, "created_at")?,
        last_used_at: get_opt_i64(r, "last_used_at")?,
    })
}

const PK_COLS: &str = "id, user_id, name, credential_id, passkey_json, created_at, last_used_at";

pub async fn insert_passkey(c: &mut Conn, p: &PasskeyRow) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO passkeys (id, user_id, name, credential_id, passkey_json, created_at) VALUES ($1,$2,$3,$4,$5,$6)",
    )
    .bind(&p.id)
    .bind(&p.user_id)
    .bind(&p.name)
    .bind(&p.credential_id)
    .bind(&p.passkey_json)
    .bind(p.created_at)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn passkeys_for_user(c: &mut Conn, user_id: &str) -> Result<Vec<PasskeyRow>, DbError> {
    let sql = format!("SELECT {PK_COLS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id");
    let rows = sqlx::query(&sql).bind(user_id).fetch_all(&mut *c).await?;
    rows.iter().map(passkey_from).collect()
}

pub async fn passkey_by_credential(
    c: &mut Conn,
    credential_id: &str,
) -> Result<Option<PasskeyRow>, DbError> {
    let sql = format!("SELECT {PK_COLS} FROM passkeys WHERE credential_id = $1");
    let row = sqlx::query(&sql)
        .bind(credential_id)
        .fetch_optional(&mut *c)
        .await?;
    row.as_ref().map(passkey_from).transpose()
}

pub async fn update_passkey_use(
    c: &mut Conn,
    id: &str,
    passkey_json: &str,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query("UPDATE passkeys SET passkey_json = $1, last_used_at = $2 WHERE id = $3")
        .bind(passkey_json)
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn rename_passkey(
    c: &mut Conn,
    user_id: &str,
    id: &str,
    name: &str,
) -> Result<bool, DbError> {
    let r = sqlx::query("UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3")
        .bind(name)
        .bind(id)
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn delete_passkey(c: &mut Conn, user_id: &str, id: &str) -> Result<bool, DbError> {
    let r = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    Ok(r.rows_affected() == 1)
}

// ---------------------------------------------------------------- WebAuthn ceremony state

pub async fn put_webauthn_state(
    c: &mut Conn,
    id: &str,
    kind: &str,
    user_id: Option<&str>,
    state_json: &str,
    expires_at: i64,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO webauthn_states (id, kind, user_id, state_json, expires_at) VALUES ($1,$2,$3,$4,$5)")
        .bind(id)
        .bind(kind)
        .bind(user_id.map(str::to_string))
        .bind(state_json)
        .bind(expires_at)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Takes (reads and deletes) a ceremony state: each challenge can be answered once.
pub async fn take_webauthn_state(
    c: &mut Conn,
    id: &str,
    kind: &str,
    now: i64,
) -> Result<Option<(Option<String>, String)>, DbError> {
    let row = sqlx::query(
        "DELETE FROM webauthn_states WHERE id = $1 AND kind = $2 AND expires_at > $3 RETURNING user_id, state_json",
    )
    .bind(id)
    .bind(kind)
    .bind(now)
    .fetch_optional(&mut *c)
    .await?;
    row.as_ref()
        .map(|r| Ok((get_opt_str(r, "user_id")?, get_str(r, "state_json")?)))
        .transpose()
}

/// Takes a login ceremony of either kind (`login` discoverable, `login_user` username-first):
/// returns (kind, user_id, state_json).
pub async fn take_login_state(
    c: &mut Conn,
    id: &str,
    now: i64,
) -> Result<Option<(String, Option<String>, String)>, DbError> {
    let row = sqlx::query(
        "DELETE FROM webauthn_states WHERE id = $1 AND kind IN ('login', 'login_user') AND expires_at > $2 \
         RETURNING kind, user_id, state_json",
    )
    .bind(id)
    .bind(now)
    .fetch_optional(&mut *c)
    .await?;
    row.as_ref()
        .map(|r| {
            Ok((
                get_str(r, "kind")?,
                get_opt_str(r, "user_id")?,
                get_str(r, "state_json")?,
            ))
        })
        .transpose()
}

/// Unanswered, unexpired anonymous sign-in ceremonies.
pub async fn count_open_login_states(c: &mut Conn, now: i64) -> Result<i64, DbError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM webauthn_states WHERE kind = 'login' AND expires_at > $1",
    )
    .bind(now)
    .fetch_one(&mut *c)
    .await?;
    get_i64(&row, "n")
}

/// Deletes every passkey of a user; returns how many.
pub async fn delete_user_passkeys(c: &mut Conn, user_id: &str) -> Result<u64, DbError> {
    Ok(sqlx::query("DELETE FROM passkeys WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *c)
        .await?
        .rows_affected())
}

pub async fn delete_expired_webauthn_states(c: &mut Conn, now: i64) -> Result<(), DbError> {
    sqlx::query("DELETE FROM webauthn_states WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *c)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------- throttling

pub async fn throttle_get(c: &mut Conn, key: &str) -> Result<Option<Record>, DbError> {
    let row =
        sqlx::query("SELECT window_start, failures, locked_until FROM throttle WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *c)
            .await?;
    row.as_ref()
        .map(|r| {
            Ok(Record {
                window_start: get_i64(r, "window_start")?,
                failures: get_i64(r, "failures")?,
                locked_until: get_i64(r, "locked_until")?,
            })
        })
        .transpose()
}

pub async fn throttle_put(c: &mut Conn, key: &str, r: &Record) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO throttle (key, window_start, failures, locked_until) VALUES ($1,$2,$3,$4) \
         ON CONFLICT (key) DO UPDATE SET window_start = excluded.window_start, \
         failures = excluded.failures, locked_until = excluded.locked_until",
    )
    .bind(key)
    .bind(r.window_start)
    .bind(r.failures)
    .bind(r.locked_until)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Takes the row lock of `key` for the rest of the transaction, creating an empty record if
/// there is none, so that reading, checking and counting an attempt is one atomic step on
/// PostgreSQL too (SQLite's `BEGIN IMMEDIATE` already serialises writers). A no-op update,
/// since `FOR UPDATE` is not portable.
pub async fn throttle_lock(c: &mut Conn, key: &str) -> Result<(), DbError> {
    // The purge may delete the row between the insert and the update: then insert again.
    for _ in 0..3 {
        sqlx::query(
            "INSERT INTO throttle (key, window_start, failures, locked_until) VALUES ($1,0,0,0) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .execute(&mut *c)
        .await?;
        let locked = sqlx::query("UPDATE throttle SET key = key WHERE key = $1")
            .bind(key)
            .execute(&mut *c)
            .await?
            .rows_affected();
        if locked == 1 {
            return Ok(());
        }
    }
    Err(DbError::Corrupt(format!(
        "throttle row {key:?} keeps vanishing"
    )))
}

/// Forgets records whose window ended before `window_start_before` and that hold no lock.
pub async fn throttle_purge(
    c: &mut Conn,
    now: i64,
    window_start_before: i64,
) -> Result<u64, DbError> {
    Ok(
        sqlx::query("DELETE FROM throttle WHERE locked_until <= $1 AND window_start < $2")
            .bind(now)
            .bind(window_start_before)
            .execute(&mut *c)
            .await?
            .rows_affected(),
    )
}

pub async fn throttle_clear(c: &mut Conn, key: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM throttle WHERE key = $1")
        .bind(key)
        .execute(&mut *c)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------- activation links

pub async fn insert_activation(
    c: &mut Conn,
    hash: &str,
    user_id: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO activation_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1,$2,$3,$4)")
        .bind(hash)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The user an unused, unexpired activation token belongs to.
pub async fn activation_user(
    c: &mut Conn,
    hash: &str,
    now: i64,
) -> Result<Option<String>, DbError> {
    let row = sqlx::query(
        "SELECT user_id FROM activation_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(hash)
    .bind(now)
    .fetch_optional(&mut *c)
    .await?;
    row.as_ref().map(|r| get_str(r, "user_id")).transpose()
}

/// Spends every unused activation link of a user.
pub async fn void_activations(c: &mut Conn, user_id: &str, now: i64) -> Result<u64, DbError> {
    Ok(sqlx::query(
        "UPDATE activation_tokens SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .execute(&mut *c)
    .await?
    .rows_affected())
}

pub async fn consume_activation(c: &mut Conn, hash: &str, now: i64) -> Result<bool, DbError> {
    let r = sqlx::query(
        "UPDATE activation_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(hash)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Ends every session of a user but one (after a password change).
pub async fn delete_other_sessions(
    c: &mut Conn,
    user_id: &str,
    keep_id_hash: &str,
) -> Result<u64, DbError> {
    Ok(
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
            .bind(user_id)
            .bind(keep_id_hash)
            .execute(&mut *c)
            .await?
            .rows_affected(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The session's one query also brings the user's digest choice and the issued
    /// certificate that ends first and has not ended (not a revoked one, not an ended one).
    #[tokio::test]
    async fn the_session_lookup_brings_what_pages_show() {
        let (_dir, db) = crate::ssr::db::migrated_sqlite().await;
        let mut c = db.pool().acquire().await.unwrap();
        crate::ssr::db::insert_test_user(&mut c, "u1").await;
        sqlx::query(
            "INSERT INTO cas (id, subject, cert_pem, key_pem_encrypted, fingerprint_sha256, \
             not_before, not_after, created_at) VALUES ('ca', 'CN=CA', '', '', '', 0, 9999, 0)",
        )
        .execute(&mut *c)
        .await
        .unwrap();
        // (enrollment, device, end, state)
        for (n, (device, end, state)) in [
            ("ended", 90, "issued"),
            ("revoked", 150, "revoked"),
            ("laptop", 300, "issued"),
            ("phone", 200, "issued"),
        ]
        .into_iter()
        .enumerate()
        {
            sqlx::query(
                "INSERT INTO enrollments (id, user_id, state, kind, pickup_deadline, created_at) \
                 VALUES ($1, 'u1', 'issued', 'new', 0, 0)",
            )
            .bind(format!("e{n}"))
            .execute(&mut *c)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO certificates (id, enrollment_id, user_id, ca_id, serial_hex, \
                 fingerprint_sha256, subject, device_label, not_before, not_after, cert_der, \
                 state, created_at) VALUES ($1, $2, 'u1', 'ca', $1, '', '', $3, 0, $4, $5, $6, 0)",
            )
            .bind(format!("c{n}"))
            .bind(format!("e{n}"))
            .bind(device)
            .bind(end)
            .bind(vec![0u8])
            .bind(state)
            .execute(&mut *c)
            .await
            .unwrap();
        }
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at) \
             VALUES ('h', 'u1', 0, 0, 1000)",
        )
        .execute(&mut *c)
        .await
        .unwrap();
        let found = session_by_hash(&mut c, "h", 100).await.unwrap().unwrap();
        assert_eq!(found.user.map(|u| u.login), Some("u1".to_string()));
        assert_eq!(
            found.nearest_issued,
            Some(("e3".into(), "phone".into(), 200))
        );
        assert!(!found.digest_opt_in);
        // Later the phone's has ended too; the digest chosen meanwhile shows.
        super::super::set_digest_opt_in(&mut c, "u1", true)
            .await
            .unwrap();
        let found = session_by_hash(&mut c, "h", 250).await.unwrap().unwrap();
        assert_eq!(
            found.nearest_issued,
            Some(("e2".into(), "laptop".into(), 300))
        );
        assert!(found.digest_opt_in);
        assert_eq!(
            session_by_hash(&mut c, "h", 300)
                .await
                .unwrap()
                .unwrap()
                .nearest_issued,
            None
        );
        assert_eq!(session_by_hash(&mut c, "nope", 100).await.unwrap(), None);
    }
}
