//! The `cas` table: every CA the portal ever had, with its CRL.

use super::rows::*;
use super::*;

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

pub(super) fn ca_from(row: &AnyRow) -> Result<CaRow, DbError> {
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

/// The SCEP registration authority of one CA: its certificate and its sealed key.
pub async fn scep_ra(c: &mut Conn, ca_id: &str) -> Result<Option<(Vec<u8>, String)>, DbError> {
    let row = sqlx::query("SELECT cert_der, key_sealed FROM scep_ras WHERE ca_id = $1")
        .bind(ca_id)
        .fetch_optional(&mut *c)
        .await?;
    row.map(|r| Ok((get_bytes(&r, "cert_der")?, get_str(&r, "key_sealed")?)))
        .transpose()
}

/// Stores a CA's registration authority unless another instance stored one first (the caller
/// then reads that one back).
pub async fn insert_scep_ra(
    c: &mut Conn,
    ca_id: &str,
    cert_der: &[u8],
    key_sealed: &str,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO scep_ras (ca_id, cert_der, key_sealed, created_at) VALUES ($1,$2,$3,$4) \
         ON CONFLICT (ca_id) DO NOTHING",
    )
    .bind(ca_id)
    .bind(cert_der)
    .bind(key_sealed)
    .bind(now)
    .execute(&mut *c)
    .await?;
    Ok(())
}
