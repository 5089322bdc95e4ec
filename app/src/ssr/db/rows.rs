//! Rows and the SQL that reads and writes them. Every function takes a connection so the
//! caller decides the transaction; state changes are compare-and-set on the old state so two
//! racing requests cannot both win.

use super::{get_bytes, get_i64, get_opt_bytes, get_opt_i64, get_opt_str, get_str, DbError};
use crate::domain::lifecycle::{RevocationReason, State};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

pub type Conn = AnyConnection;

fn flag(b: bool) -> i64 {
    i64::from(b)
}

fn state_of(row: &AnyRow, col: &str) -> Result<State, DbError> {
    let code = get_str(row, col)?;
    State::from_code(&code).ok_or_else(|| DbError::Corrupt(format!("unknown state {code:?}")))
}

// ---------------------------------------------------------------- users

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: String,
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub upn: Option<String>,
    pub department_id: Option<String>,
    pub is_admin: bool,
    pub reissue_allowed: Option<bool>,
    pub active: bool,
    pub must_change_password: bool,
    pub created_at: i64,
}

/// A user to create. Fields are validated by the caller's use case.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub upn: Option<String>,
    pub department_id: Option<String>,
    pub is_admin: bool,
    pub password_hash: Option<String>,
}

const USER_COLS: &str = "id, login, display_name, email, upn, department_id, is_admin, \
     reissue_allowed, active, must_change_password, created_at";

fn user_from(row: &AnyRow) -> Result<UserRow, DbError> {
    Ok(UserRow {
        id: get_str(row, "id")?,
        login: get_str(row, "login")?,
        display_name: get_str(row, "display_name")?,
        email: get_str(row, "email")?,
        upn: get_opt_str(row, "upn")?,
        department_id: get_opt_str(row, "department_id")?,
        is_admin: get_i64(row, "is_admin")? != 0,
        reissue_allowed: get_opt_i64(row, "reissue_allowed")?.map(|v| v != 0),
        active: get_i64(row, "active")? != 0,
        must_change_password: get_i64(row, "must_change_password")? != 0,
        created_at: get_i64(row, "created_at")?,
    })
}

pub async fn insert_user(
    c: &mut Conn,
    id: &str,
    u: &NewUser,
    now: i64,
) -> Result<UserRow, DbError> {
    sqlx::query(
        "INSERT INTO users (id, login, display_name, email, upn, department_id, is_admin, \
         password_hash, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$9)",
    )
    .bind(id)
    .bind(&u.login)
    .bind(&u.display_name)
    .bind(&u.email)
    .bind(u.upn.clone())
    .bind(u.department_id.clone())
    .bind(flag(u.is_admin))
    .bind(u.password_hash.clone())
    .bind(now)
    .execute(&mut *c)
    .await?;
    user_by_id(c, id)
        .await?
        .ok_or_else(|| DbError::Corrupt("inserted user vanished".into()))
}

pub async fn user_by_id(c: &mut Conn, id: &str) -> Result<Option<UserRow>, DbError> {
    let sql = format!("SELECT {USER_COLS} FROM users WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(&mut *c).await?;
    row.as_ref().map(user_from).transpose()
}

/// Takes the user's row lock for the rest of the transaction (a no-op update: `FOR UPDATE`
/// is not portable). Every use case that changes a user's certificates, enrollments or links
/// takes it first, so on PostgreSQL they serialise per user (on SQLite `BEGIN IMMEDIATE`
/// already serialises all writers).
pub async fn lock_user(c: &mut Conn, id: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET id = id WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn user_by_login(c: &mut Conn, login: &str) -> Result<Option<UserRow>, DbError> {
    let sql = format!("SELECT {USER_COLS} FROM users WHERE login = $1");
    let row = sqlx::query(&sql)
        .bind(login)
        .fetch_optional(&mut *c)
        .await?;
    row.as_ref().map(user_from).transpose()
}

/// Users by login, each with whether they have set a password or passkey yet.
pub async fn list_users(c: &mut Conn, limit: i64) -> Result<Vec<(UserRow, bool)>, DbError> {
    let sql = format!(
        "SELECT {USER_COLS}, CASE WHEN password_hash IS NOT NULL OR EXISTS \
         (SELECT 1 FROM passkeys p WHERE p.user_id = users.id) THEN 1 ELSE 0 END AS activated \
         FROM users ORDER BY login LIMIT $1"
    );
    let rows = sqlx::query(&sql).bind(limit).fetch_all(&mut *c).await?;
    rows.iter()
        .map(|r| Ok((user_from(r)?, get_i64(r, "activated")? != 0)))
        .collect()
}

pub async fn count_admins(c: &mut Conn) -> Result<i64, DbError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE is_admin = 1 AND active = 1")
        .fetch_one(&mut *c)
        .await?;
    get_i64(&row, "n")
}

// ---------------------------------------------------------------- settings

pub async fn get_setting(c: &mut Conn, key: &str) -> Result<Option<String>, DbError> {
    let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(&mut *c)
        .await?;
    row.as_ref().map(|r| get_str(r, "value")).transpose()
}

pub async fn put_setting(c: &mut Conn, key: &str, value: &str) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Inserts a setting only if it is absent; returns whether this call inserted it. Used to
/// elect one winner when several instances start at once.
pub async fn insert_setting_if_absent(
    c: &mut Conn,
    key: &str,
    value: &str,
) -> Result<bool, DbError> {
    let r = sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(value)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}

// ---------------------------------------------------------------- CAs

#[derive(Clone, PartialEq, Eq)]
pub struct CaRow {
    pub id: String,
    pub subject: String,
    pub cert_pem: String,
    pub key_pem_encrypted: String,
    pub fingerprint_sha256: String,
    pub not_before: i64,
    pub not_after: i64,
    pub created_at: i64,
    pub retired_at: Option<i64>,
    pub crl_number: i64,
    pub crl_der: Option<Vec<u8>>,
    pub crl_this_update: Option<i64>,
    pub crl_next_update: Option<i64>,
}

impl std::fmt::Debug for CaRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaRow")
            .field("id", &self.id)
            .field("subject", &self.subject)
            .field("fingerprint_sha256", &self.fingerprint_sha256)
            .field("key_pem_encrypted", &"<redacted>")
            .field("crl_number", &self.crl_number)
            .finish_non_exhaustive()
    }
}

const CA_COLS: &str = "id, subject, cert_pem, key_pem_encrypted, fingerprint_sha256, not_before, \
     not_after, created_at, retired_at, crl_number, crl_der, crl_this_update, crl_next_update";

fn ca_from(row: &AnyRow) -> Result<CaRow, DbError> {
    Ok(CaRow {
        id: get_str(row, "id")?,
        subject: get_str(row, "subject")?,
        cert_pem: get_str(row, "cert_pem")?,
        key_pem_encrypted: get_str(row, "key_pem_encrypted")?,
        fingerprint_sha256: get_str(row, "fingerprint_sha256")?,
        not_before: get_i64(row, "not_before")?,
        not_after: get_i64(row, "not_after")?,
        created_at: get_i64(row, "created_at")?,
        retired_at: get_opt_i64(row, "retired_at")?,
        crl_number: get_i64(row, "crl_number")?,
        crl_der: get_opt_bytes(row, "crl_der")?,
        crl_this_update: get_opt_i64(row, "crl_this_update")?,
        crl_next_update: get_opt_i64(row, "crl_next_update")?,
    })
}

pub async fn insert_ca(c: &mut Conn, ca: &CaRow) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO cas (id, subject, cert_pem, key_pem_encrypted, fingerprint_sha256, \
         not_before, not_after, created_at, crl_number) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
    )
    .bind(&ca.id)
    .bind(&ca.subject)
    .bind(&ca.cert_pem)
    .bind(&ca.key_pem_encrypted)
    .bind(&ca.fingerprint_sha256)
    .bind(ca.not_before)
    .bind(ca.not_after)
    .bind(ca.created_at)
    .bind(ca.crl_number)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn ca_by_id(c: &mut Conn, id: &str) -> Result<Option<CaRow>, DbError> {
    let sql = format!("SELECT {CA_COLS} FROM cas WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(&mut *c).await?;
    row.as_ref().map(ca_from).transpose()
}

pub async fn list_cas(c: &mut Conn) -> Result<Vec<CaRow>, DbError> {
    let sql = format!("SELECT {CA_COLS} FROM cas ORDER BY created_at, id");
    let rows = sqlx::query(&sql).fetch_all(&mut *c).await?;
    rows.iter().map(ca_from).collect()
}

/// Certificates of a CA in state `issued` (the ones its CRL and OCSP still vouch for).
pub async fn count_issued_for_ca(c: &mut Conn, ca_id: &str) -> Result<i64, DbError> {
    let row =
        sqlx::query("SELECT COUNT(*) AS n FROM certificates WHERE ca_id = $1 AND state = 'issued'")
            .bind(ca_id)
            .fetch_one(&mut *c)
            .await?;
    get_i64(&row, "n")
}

pub const CURRENT_CA_KEY: &str = "current_ca_id";

pub async fn current_ca_id(c: &mut Conn) -> Result<Option<String>, DbError> {
    get_setting(c, CURRENT_CA_KEY).await
}

/// Makes `new_id` the current CA if `old_id` still is (compare-and-set).
pub async fn swap_current_ca(c: &mut Conn, old_id: &str, new_id: &str) -> Result<bool, DbError> {
    let r = sqlx::query("UPDATE settings SET value = $1 WHERE key = $2 AND value = $3")
        .bind(new_id)
        .bind(CURRENT_CA_KEY)
        .bind(old_id)
        .execute(&mut *c)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn retire_ca(c: &mut Conn, id: &str, at: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE cas SET retired_at = $1 WHERE id = $2 AND retired_at IS NULL")
        .bind(at)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Takes the next CRL number for a CA (numbers only grow, RFC 5280 §5.2.3).
pub async fn next_crl_number(c: &mut Conn, ca_id: &str) -> Result<i64, DbError> {
    let row = sqlx::query(
        "UPDATE cas SET crl_number = crl_number + 1 WHERE id = $1 RETURNING crl_number",
    )
    .bind(ca_id)
    .fetch_one(&mut *c)
    .await?;
    get_i64(&row, "crl_number")
}

pub async fn store_crl(
    c: &mut Conn,
    ca_id: &str,
    der: &[u8],
    this_update: i64,
    next_update: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE cas SET crl_der = $1, crl_this_update = $2, crl_next_update = $3 WHERE id = $4",
    )
    .bind(der.to_vec())
    .bind(this_update)
    .bind(next_update)
    .bind(ca_id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- enrollments

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentRow {
    pub id: String,
    pub user_id: String,
    pub state: State,
    pub kind: String,
    pub renews_certificate_id: Option<String>,
    pub device_label: String,
    pub requested_not_after: Option<i64>,
    pub pickup_deadline: i64,
    pub admin_created: bool,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub certificate_id: Option<String>,
}

const ENR_COLS: &str = "id, user_id, state, kind, renews_certificate_id, device_label, \
     requested_not_after, pickup_deadline, admin_created, created_by, created_at, certificate_id";

fn enrollment_from(row: &AnyRow) -> Result<EnrollmentRow, DbError> {
    Ok(EnrollmentRow {
        id: get_str(row, "id")?,
        user_id: get_str(row, "user_id")?,
        state: state_of(row, "state")?,
        kind: get_str(row, "kind")?,
        renews_certificate_id: get_opt_str(row, "renews_certificate_id")?,
        device_label: get_str(row, "device_label")?,
        requested_not_after: get_opt_i64(row, "requested_not_after")?,
        pickup_deadline: get_i64(row, "pickup_deadline")?,
        admin_created: get_i64(row, "admin_created")? != 0,
        created_by: get_opt_str(row, "created_by")?,
        created_at: get_i64(row, "created_at")?,
        certificate_id: get_opt_str(row, "certificate_id")?,
    })
}

/// The newest certificate-or-open-enrollment of a user, as the directory shows it (see
/// migration 0003). Run by every function below that changes enrollments or certificates,
/// inside the caller's transaction.
const NEWEST_OF_USER: &str =
    "FROM enrollments e LEFT JOIN certificates c ON c.id = e.certificate_id \
     WHERE e.user_id = $1 AND (e.state IN ('pending', 'ready') OR c.id IS NOT NULL) \
     ORDER BY e.created_at DESC, e.id DESC LIMIT 1";

pub async fn refresh_cert_summary(c: &mut Conn, user_id: &str) -> Result<(), DbError> {
    let sql = format!(
        "UPDATE users SET cert_summary = COALESCE((SELECT CASE WHEN e.state IN ('pending', \
         'ready') THEN e.state ELSE c.state END {NEWEST_OF_USER}), 'none'), \
         cert_not_after = (SELECT c.not_after {NEWEST_OF_USER}) WHERE id = $1"
    );
    sqlx::query(&sql).bind(user_id).execute(&mut *c).await?;
    Ok(())
}

async fn refresh_cert_summary_of(c: &mut Conn, table: &str, id: &str) -> Result<(), DbError> {
    let sql = format!("SELECT user_id FROM {table} WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_one(&mut *c).await?;
    refresh_cert_summary(c, &get_str(&row, "user_id")?).await
}

pub async fn insert_enrollment(c: &mut Conn, e: &EnrollmentRow) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO enrollments (id, user_id, state, kind, renews_certificate_id, device_label, \
         requested_not_after, pickup_deadline, admin_created, created_by, created_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
    )
    .bind(&e.id)
    .bind(&e.user_id)
    .bind(e.state.code())
    .bind(&e.kind)
    .bind(e.renews_certificate_id.clone())
    .bind(&e.device_label)
    .bind(e.requested_not_after)
    .bind(e.pickup_deadline)
    .bind(flag(e.admin_created))
    .bind(e.created_by.clone())
    .bind(e.created_at)
    .execute(&mut *c)
    .await?;
    refresh_cert_summary(c, &e.user_id).await
}

pub async fn enrollment_by_id(c: &mut Conn, id: &str) -> Result<Option<EnrollmentRow>, DbError> {
    let sql = format!("SELECT {ENR_COLS} FROM enrollments WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(&mut *c).await?;
    row.as_ref().map(enrollment_from).transpose()
}

pub async fn enrollments_for_user(
    c: &mut Conn,
    user_id: &str,
) -> Result<Vec<EnrollmentRow>, DbError> {
    let sql =
        format!("SELECT {ENR_COLS} FROM enrollments WHERE user_id = $1 ORDER BY created_at, id");
    let rows = sqlx::query(&sql).bind(user_id).fetch_all(&mut *c).await?;
    rows.iter().map(enrollment_from).collect()
}

/// Moves an enrollment from `from` to `to` only if it is still in `from`. Returns whether it
/// moved; `false` means somebody else changed it first.
pub async fn cas_enrollment_state(
    c: &mut Conn,
    id: &str,
    from: State,
    to: State,
    certificate_id: Option<&str>,
    withdrawn_reason: Option<RevocationReason>,
) -> Result<bool, DbError> {
    let r = sqlx::query(
        "UPDATE enrollments SET state = $1, certificate_id = COALESCE($2, certificate_id), \
         withdrawn_reason = COALESCE($3, withdrawn_reason) WHERE id = $4 AND state = $5",
    )
    .bind(to.code())
    .bind(certificate_id.map(str::to_string))
    .bind(withdrawn_reason.map(|r| r.code().to_string()))
    .bind(id)
    .bind(from.code())
    .execute(&mut *c)
    .await?;
    let changed = r.rows_affected() == 1;
    if changed {
        refresh_cert_summary_of(c, "enrollments", id).await?;
    }
    Ok(changed)
}

/// Records an administrator's decision on a `pending` request (compare-and-set): approved
/// requests get a fresh pickup deadline.
pub async fn decide_enrollment(
    c: &mut Conn,
    id: &str,
    to: State,
    by: &str,
    at: i64,
    note: &str,
    pickup_deadline: i64,
) -> Result<bool, DbError> {
    let r = sqlx::query(
        "UPDATE enrollments SET state = $1, decided_by = $2, decided_at = $3, \
         decision_note = $4, pickup_deadline = $5 WHERE id = $6 AND state = 'pending'",
    )
    .bind(to.code())
    .bind(by)
    .bind(at)
    .bind(note)
    .bind(pickup_deadline)
    .bind(id)
    .execute(&mut *c)
    .await?;
    let changed = r.rows_affected() == 1;
    if changed {
        refresh_cert_summary_of(c, "enrollments", id).await?;
    }
    Ok(changed)
}

/// Enrollments still waiting (`pending` or `ready`) for a user.
pub async fn open_enrollments_for_user(
    c: &mut Conn,
    user_id: &str,
) -> Result<Vec<EnrollmentRow>, DbError> {
    let sql = format!(
        "SELECT {ENR_COLS} FROM enrollments WHERE user_id = $1 AND state IN ('pending','ready') \
         ORDER BY created_at, id"
    );
    let rows = sqlx::query(&sql).bind(user_id).fetch_all(&mut *c).await?;
    rows.iter().map(enrollment_from).collect()
}

/// `ready` enrollments whose pickup deadline has passed at `now`.
pub async fn overdue_enrollments(c: &mut Conn, now: i64) -> Result<Vec<EnrollmentRow>, DbError> {
    let sql = format!(
        "SELECT {ENR_COLS} FROM enrollments WHERE state = 'ready' AND pickup_deadline <= $1 \
         ORDER BY pickup_deadline, id"
    );
    let rows = sqlx::query(&sql).bind(now).fetch_all(&mut *c).await?;
    rows.iter().map(enrollment_from).collect()
}

// ---------------------------------------------------------------- certificates

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRow {
    pub id: String,
    pub enrollment_id: String,
    pub user_id: String,
    pub ca_id: String,
    pub serial_hex: String,
    pub fingerprint_sha256: String,
    pub subject: String,
    pub device_label: String,
    pub not_before: i64,
    pub not_after: i64,
    pub cert_der: Vec<u8>,
    pub state: State,
    pub revoked_at: Option<i64>,
    pub revocation_reason: Option<String>,
    pub created_at: i64,
}

pub(crate) const CERT_COLS: &str =
    "id, enrollment_id, user_id, ca_id, serial_hex, fingerprint_sha256, \
     subject, device_label, not_before, not_after, cert_der, state, revoked_at, \
     revocation_reason, created_at";

pub(crate) fn certificate_from(row: &AnyRow) -> Result<CertificateRow, DbError> {
    Ok(CertificateRow {
        id: get_str(row, "id")?,
        enrollment_id: get_str(row, "enrollment_id")?,
        user_id: get_str(row, "user_id")?,
        ca_id: get_str(row, "ca_id")?,
        serial_hex: get_str(row, "serial_hex")?,
        fingerprint_sha256: get_str(row, "fingerprint_sha256")?,
        subject: get_str(row, "subject")?,
        device_label: get_str(row, "device_label")?,
        not_before: get_i64(row, "not_before")?,
        not_after: get_i64(row, "not_after")?,
        cert_der: get_bytes(row, "cert_der")?,
        state: state_of(row, "state")?,
        revoked_at: get_opt_i64(row, "revoked_at")?,
        revocation_reason: get_opt_str(row, "revocation_reason")?,
        created_at: get_i64(row, "created_at")?,
    })
}

pub async fn insert_certificate(c: &mut Conn, r: &CertificateRow) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO certificates (id, enrollment_id, user_id, ca_id, serial_hex, \
         fingerprint_sha256, subject, device_label, not_before, not_after, cert_der, state, \
         created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)",
    )
    .bind(&r.id)
    .bind(&r.enrollment_id)
    .bind(&r.user_id)
    .bind(&r.ca_id)
    .bind(&r.serial_hex)
    .bind(&r.fingerprint_sha256)
    .bind(&r.subject)
    .bind(&r.device_label)
    .bind(r.not_before)
    .bind(r.not_after)
    .bind(r.cert_der.clone())
    .bind(r.state.code())
    .bind(r.created_at)
    .execute(&mut *c)
    .await?;
    refresh_cert_summary(c, &r.user_id).await
}

pub async fn certificate_by_id(c: &mut Conn, id: &str) -> Result<Option<CertificateRow>, DbError> {
    let sql = format!("SELECT {CERT_COLS} FROM certificates WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(&mut *c).await?;
    row.as_ref().map(certificate_from).transpose()
}

pub async fn certificate_by_serial(
    c: &mut Conn,
    serial_hex: &str,
) -> Result<Option<CertificateRow>, DbError> {
    let sql = format!("SELECT {CERT_COLS} FROM certificates WHERE serial_hex = $1");
    let row = sqlx::query(&sql)
        .bind(serial_hex.to_ascii_uppercase())
        .fetch_optional(&mut *c)
        .await?;
    row.as_ref().map(certificate_from).transpose()
}

pub async fn certificates_for_user(
    c: &mut Conn,
    user_id: &str,
) -> Result<Vec<CertificateRow>, DbError> {
    let sql =
        format!("SELECT {CERT_COLS} FROM certificates WHERE user_id = $1 ORDER BY created_at, id");
    let rows = sqlx::query(&sql).bind(user_id).fetch_all(&mut *c).await?;
    rows.iter().map(certificate_from).collect()
}

/// Certificates stored as `issued` and not yet past `not_after` at `now`.
pub async fn active_certificates_for_user(
    c: &mut Conn,
    user_id: &str,
    now: i64,
) -> Result<Vec<CertificateRow>, DbError> {
    let sql = format!(
        "SELECT {CERT_COLS} FROM certificates WHERE user_id = $1 AND state = 'issued' \
         AND not_after > $2 ORDER BY created_at, id"
    );
    let rows = sqlx::query(&sql)
        .bind(user_id)
        .bind(now)
        .fetch_all(&mut *c)
        .await?;
    rows.iter().map(certificate_from).collect()
}

/// Moves a certificate from `issued` to `superseded` or `revoked` only if it is still issued.
pub async fn cas_certificate_revoke(
    c: &mut Conn,
    id: &str,
    to: State,
    reason: RevocationReason,
    at: i64,
) -> Result<bool, DbError> {
    let r = sqlx::query(
        "UPDATE certificates SET state = $1, revoked_at = $2, revocation_reason = $3 \
         WHERE id = $4 AND state = 'issued'",
    )
    .bind(to.code())
    .bind(at)
    .bind(reason.code())
    .bind(id)
    .execute(&mut *c)
    .await?;
    let changed = r.rows_affected() == 1;
    if changed {
        refresh_cert_summary_of(c, "certificates", id).await?;
    }
    Ok(changed)
}

/// One entry of a CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedEntry {
    pub serial_hex: String,
    pub revoked_at: i64,
    pub reason: Option<RevocationReason>,
}

/// Revoked or superseded certificates of a CA that have not expired at `now` (an expired
/// certificate may leave the CRL, RFC 5280 §3.3).
pub async fn revoked_for_ca(
    c: &mut Conn,
    ca_id: &str,
    now: i64,
) -> Result<Vec<RevokedEntry>, DbError> {
    let rows = sqlx::query(
        "SELECT serial_hex, revoked_at, revocation_reason FROM certificates \
         WHERE ca_id = $1 AND state IN ('revoked','superseded') AND not_after > $2 \
         ORDER BY revoked_at, serial_hex",
    )
    .bind(ca_id)
    .bind(now)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(RevokedEntry {
                serial_hex: get_str(r, "serial_hex")?,
                revoked_at: get_opt_i64(r, "revoked_at")?.unwrap_or(0),
                reason: get_opt_str(r, "revocation_reason")?
                    .and_then(|s| RevocationReason::parse(&s).ok()),
            })
        })
        .collect()
}

// ---------------------------------------------------------------- setup tokens

pub async fn insert_setup_token(
    c: &mut Conn,
    hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES ($1,$2,$3)")
        .bind(hash)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Is this setup token unused and unexpired at `now`?
pub async fn setup_token_valid(c: &mut Conn, hash: &str, now: i64) -> Result<bool, DbError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM setup_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(hash)
    .bind(now)
    .fetch_one(&mut *c)
    .await?;
    Ok(get_i64(&row, "n")? == 1)
}

/// Marks a setup token used; `false` if it was already used, expired or unknown.
pub async fn consume_setup_token(c: &mut Conn, hash: &str, now: i64) -> Result<bool, DbError> {
    let r = sqlx::query(
        "UPDATE setup_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(hash)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}

// ---------------------------------------------------------------- audit

/// One operation-history record (rule 10).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditEntry {
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub subject_user_id: Option<String>,
    pub certificate_id: Option<String>,
    pub enrollment_id: Option<String>,
    pub action: String,
    pub result: String,
    pub detail: String,
    pub ip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: i64,
    pub at: i64,
    pub entry: AuditEntry,
}

pub async fn append_audit(c: &mut Conn, at: i64, e: &AuditEntry) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO audit (at, actor_id, actor_label, subject_user_id, certificate_id, \
         enrollment_id, action, result, detail, ip) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
    )
    .bind(at)
    .bind(e.actor_id.clone())
    .bind(&e.actor_label)
    .bind(e.subject_user_id.clone())
    .bind(e.certificate_id.clone())
    .bind(e.enrollment_id.clone())
    .bind(&e.action)
    .bind(&e.result)
    .bind(&e.detail)
    .bind(e.ip.clone())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// History, newest first, optionally for one subject user and/or one action.
pub async fn list_audit(
    c: &mut Conn,
    subject_user_id: Option<&str>,
    action: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditRecord>, DbError> {
    let rows = sqlx::query(
        "SELECT id, at, actor_id, actor_label, subject_user_id, certificate_id, enrollment_id, \
         action, result, detail, ip FROM audit \
         WHERE ($1 IS NULL OR subject_user_id = $1) AND ($2 IS NULL OR action = $2) \
         ORDER BY id DESC LIMIT $3",
    )
    .bind(subject_user_id.map(str::to_string))
    .bind(action.map(str::to_string))
    .bind(limit)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AuditRecord {
                id: get_i64(r, "id")?,
                at: get_i64(r, "at")?,
                entry: AuditEntry {
                    actor_id: get_opt_str(r, "actor_id")?,
                    actor_label: get_str(r, "actor_label")?,
                    subject_user_id: get_opt_str(r, "subject_user_id")?,
                    certificate_id: get_opt_str(r, "certificate_id")?,
                    enrollment_id: get_opt_str(r, "enrollment_id")?,
                    action: get_str(r, "action")?,
                    result: get_str(r, "result")?,
                    detail: get_str(r, "detail")?,
                    ip: get_opt_str(r, "ip")?,
                },
            })
        })
        .collect()
}
