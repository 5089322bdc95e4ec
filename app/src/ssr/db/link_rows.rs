//! One-time pickup links (rule 5): only the SHA-256 of the token is stored. A link is used
//! at most once: the compare-and-set in [`use_link`] is the single point two phones race on.

use super::{get_i64, get_opt_i64, get_opt_str, get_str, Conn, DbError};
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRow {
    pub id: String,
    pub enrollment_id: String,
    pub token_hash: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub voided_at: Option<i64>,
}

const LINK_COLS: &str =
    "id, enrollment_id, token_hash, created_by, created_at, expires_at, used_at, voided_at";

fn link_from(row: &AnyRow) -> Result<LinkRow, DbError> {
    Ok(LinkRow {
        id: get_str(row, "id")?,
        enrollment_id: get_str(row, "enrollment_id")?,
        token_hash: get_str(row, "token_hash")?,
        created_by: get_opt_str(row, "created_by")?,
        created_at: get_i64(row, "created_at")?,
        expires_at: get_i64(row, "expires_at")?,
        used_at: get_opt_i64(row, "used_at")?,
        voided_at: get_opt_i64(row, "voided_at")?,
    })
}

pub async fn insert_link(c: &mut Conn, l: &LinkRow) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO links (id, enrollment_id, token_hash, created_by, created_at, expires_at) \
         VALUES ($1,$2,$3,$4,$5,$6)",
    )
    .bind(&l.id)
    .bind(&l.enrollment_id)
    .bind(&l.token_hash)
    .bind(l.created_by.clone())
    .bind(l.created_at)
    .bind(l.expires_at)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn link_by_hash(c: &mut Conn, token_hash: &str) -> Result<Option<LinkRow>, DbError> {
    let sql = format!("SELECT {LINK_COLS} FROM links WHERE token_hash = $1");
    let row = sqlx::query(&sql)
        .bind(token_hash)
        .fetch_optional(&mut *c)
        .await?;
    row.as_ref().map(link_from).transpose()
}

/// Voids every unused, unvoided link of one enrollment. Returns how many.
pub async fn void_open_links(c: &mut Conn, enrollment_id: &str, now: i64) -> Result<u64, DbError> {
    let r = sqlx::query(
        "UPDATE links SET voided_at = $1 WHERE enrollment_id = $2 AND used_at IS NULL \
         AND voided_at IS NULL",
    )
    .bind(now)
    .bind(enrollment_id)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected())
}

/// Voids every unused, unvoided link (when the PIN key is first made).
pub async fn void_all_open_links(c: &mut Conn, now: i64) -> Result<u64, DbError> {
    let r =
        sqlx::query("UPDATE links SET voided_at = $1 WHERE used_at IS NULL AND voided_at IS NULL")
            .bind(now)
            .execute(&mut *c)
            .await?;
    Ok(r.rows_affected())
}

/// Voids every unused, unvoided link of every enrollment of one user (rule 9).
pub async fn void_open_links_for_user(
    c: &mut Conn,
    user_id: &str,
    now: i64,
) -> Result<u64, DbError> {
    let r = sqlx::query(
        "UPDATE links SET voided_at = $1 WHERE used_at IS NULL AND voided_at IS NULL \
         AND enrollment_id IN (SELECT id FROM enrollments WHERE user_id = $2)",
    )
    .bind(now)
    .bind(user_id)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected())
}

/// Marks a link used if it is still unused, unvoided and unexpired at `now`. Returns whether
/// this call won; every other concurrent caller gets `false`.
pub async fn use_link(c: &mut Conn, id: &str, now: i64) -> Result<bool, DbError> {
    let r = sqlx::query(
        "UPDATE links SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND voided_at IS NULL \
         AND expires_at > $1",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The open (`pending` or `ready`) renewal of one certificate, if any.
pub async fn open_renewal_of(
    c: &mut Conn,
    certificate_id: &str,
) -> Result<Option<super::EnrollmentRow>, DbError> {
    let ids = sqlx::query(
        "SELECT id FROM enrollments WHERE renews_certificate_id = $1 \
         AND state IN ('pending','ready') ORDER BY created_at DESC, id LIMIT 1",
    )
    .bind(certificate_id)
    .fetch_optional(&mut *c)
    .await?;
    match ids {
        None => Ok(None),
        Some(row) => super::enrollment_by_id(c, &get_str(&row, "id")?).await,
    }
}
