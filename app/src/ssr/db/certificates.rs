//! The `certificates` table and the revoked entries of a CRL.

use super::rows::*;
use super::*;

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

/// The query of [`active_certificates_for_user`]. `+not_after` keeps SQLite on the user's
/// index (`certificates_user`): with a plain `not_after` it picks the expiry index and reads
/// every issued certificate of every user — on each revocation, each "remove existing" of a
/// bulk run, each page's expiry banner. The unary plus changes nothing in PostgreSQL.
fn active_for_user_sql() -> String {
    format!(
        "SELECT {CERT_COLS} FROM certificates WHERE user_id = $1 AND state = 'issued' \
         AND +not_after > $2 ORDER BY created_at, id"
    )
}

/// The query of [`revoked_for_ca`], on the CA's index (see [`active_for_user_sql`]).
const REVOKED_FOR_CA: &str = "SELECT serial_hex, revoked_at, revocation_reason FROM certificates \
     WHERE ca_id = $1 AND state IN ('revoked','superseded') AND +not_after > $2 \
     ORDER BY revoked_at, serial_hex";

/// Certificates stored as `issued` and not yet past `not_after` at `now`.
pub async fn active_certificates_for_user(
    c: &mut Conn,
    user_id: &str,
    now: i64,
) -> Result<Vec<CertificateRow>, DbError> {
    let rows = sqlx::query(&active_for_user_sql())
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
    cas_certificate_revoke_then(c, id, (to, reason, at), Summary::Refresh).await
}

/// [`cas_certificate_revoke`], refreshing the user's directory summary now or leaving it to
/// a later statement of the caller's transaction (see [`Summary`]).
pub async fn cas_certificate_revoke_then(
    c: &mut Conn,
    id: &str,
    (to, reason, at): (State, RevocationReason, i64),
    summary: Summary,
) -> Result<bool, DbError> {
    let r = sqlx::query(
        "UPDATE certificates SET state = $1, revoked_at = $2, revocation_reason = $3 \
         WHERE id = $4 AND state = 'issued' RETURNING user_id",
    )
    .bind(to.code())
    .bind(at)
    .bind(reason.code())
    .bind(id)
    .fetch_optional(&mut *c)
    .await?;
    match summary {
        Summary::Refresh => refresh_if_changed(c, r).await,
        Summary::Later => Ok(r.is_some()),
    }
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
    let rows = sqlx::query(REVOKED_FOR_CA)
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

/// Whether the user has ever had a certificate (in any state).
pub async fn user_has_certificates(c: &mut Conn, user_id: &str) -> Result<bool, DbError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM certificates WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&mut *c)
        .await?;
    Ok(get_i64(&row, "n")? > 0)
}

/// Marks a certificate as a "Create & Download" bundle (its PIN is derived for the PIN list).
pub async fn mark_handover(c: &mut Conn, certificate_id: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE certificates SET handover_pending = 1 WHERE id = $1")
        .bind(certificate_id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// A "Create & Download" bundle for the PIN list.
#[derive(Debug, Clone)]
pub struct HandoverRow {
    pub login: String,
    pub serial_hex: String,
    pub not_after: i64,
    pub enrollment_id: String,
}

/// The issued "Create & Download" bundles an administrator made since `since`, by login.
pub async fn handover_certificates(
    c: &mut Conn,
    admin_id: &str,
    since: i64,
) -> Result<Vec<HandoverRow>, DbError> {
    let rows = sqlx::query(
        "SELECT u.login, c.serial_hex, c.not_after, c.enrollment_id FROM certificates c \
         JOIN enrollments e ON e.id = c.enrollment_id JOIN users u ON u.id = c.user_id \
         WHERE c.handover_pending = 1 AND c.state = 'issued' AND e.created_by = $1 \
         AND c.created_at >= $2 ORDER BY u.login, c.created_at",
    )
    .bind(admin_id)
    .bind(since)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(HandoverRow {
                login: get_str(r, "login")?,
                serial_hex: get_str(r, "serial_hex")?,
                not_after: get_i64(r, "not_after")?,
                enrollment_id: get_str(r, "enrollment_id")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The per-user and per-CA lookups read the user's or the CA's rows through their own
    /// index. With the expiry index (what SQLite chose before `+not_after`) every revocation
    /// and every signed-in page read all issued certificates (the session's lookup reads the
    /// user's nearest one): bulk runs grew quadratic.
    #[tokio::test]
    async fn per_user_and_per_ca_lookups_use_their_index() {
        use sqlx::Row;
        let (_dir, db) = crate::ssr::db::migrated_sqlite().await;
        for (sql, index) in [
            (active_for_user_sql(), "certificates_user"),
            (REVOKED_FOR_CA.to_string(), "certificates_ca"),
            (
                super::super::auth_rows::SESSION_BY_HASH.to_string(),
                "certificates_user",
            ),
        ] {
            let plan: Vec<String> = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
                .bind("user or CA")
                .bind(0i64)
                .fetch_all(db.pool())
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>("detail"))
                .collect();
            assert!(
                plan.iter().any(|d| d.contains(&format!("INDEX {index} "))),
                "{sql}\n{plan:?}"
            );
        }
    }
}
