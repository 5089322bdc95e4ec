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
    /// Wrong PINs typed so far; the fifth voids the link (`void_reason` `pin`).
    pub pin_failures: i64,
    pub void_reason: Option<String>,
    /// When a correct PIN was last proven.
    pub unlocked_at: Option<i64>,
    /// When a profile carrying this link's SCEP challenge was first handed out.
    pub profile_at: Option<i64>,
    /// How the link was redeemed (`p12`, `pfx`, `mobileconfig`, `scep`).
    pub picked_format: Option<String>,
}

const LINK_COLS: &str = "id, enrollment_id, token_hash, created_by, created_at, expires_at, \
     used_at, voided_at, pin_failures, void_reason, unlocked_at, profile_at, picked_format";

/// Wrong PINs after which a link is voided (SPEC rule 5).
pub const MAX_PIN_FAILURES: i64 = 5;

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
        pin_failures: get_i64(row, "pin_failures")?,
        void_reason: get_opt_str(row, "void_reason")?,
        unlocked_at: get_opt_i64(row, "unlocked_at")?,
        profile_at: get_opt_i64(row, "profile_at")?,
        picked_format: get_opt_str(row, "picked_format")?,
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

/// Marks a link used (redeemed as `format`) if it is still unused, unvoided and its
/// `expires_at` is after `valid_after` (`now`, or earlier by the grace a profile's device
/// enrollment gets). Returns whether this call won; every other concurrent caller gets `false`.
pub async fn use_link(
    c: &mut Conn,
    id: &str,
    now: i64,
    valid_after: i64,
    format: &str,
) -> Result<bool, DbError> {
    let r = sqlx::query(
        "UPDATE links SET used_at = $1, picked_format = $4 WHERE id = $2 AND used_at IS NULL \
         AND voided_at IS NULL AND expires_at > $3",
    )
    .bind(now)
    .bind(id)
    .bind(valid_after)
    .bind(format)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Counts one wrong PIN for an open link, voiding it at [`MAX_PIN_FAILURES`]. One statement,
/// so parallel guesses cannot lose counts. Returns the failures counted so far, or `None`
/// when the link was no longer open.
pub async fn count_pin_failure(c: &mut Conn, id: &str, now: i64) -> Result<Option<i64>, DbError> {
    let r = sqlx::query(
        "UPDATE links SET pin_failures = pin_failures + 1, \
         voided_at = CASE WHEN pin_failures + 1 >= $3 THEN $1 ELSE voided_at END, \
         void_reason = CASE WHEN pin_failures + 1 >= $3 THEN 'pin' ELSE void_reason END \
         WHERE id = $2 AND used_at IS NULL AND voided_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .bind(MAX_PIN_FAILURES)
    .execute(&mut *c)
    .await?;
    if r.rows_affected() == 0 {
        return Ok(None);
    }
    let row = sqlx::query("SELECT pin_failures FROM links WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *c)
        .await?;
    Ok(Some(get_i64(&row, "pin_failures")?))
}

/// Records a proven PIN.
pub async fn mark_unlocked(c: &mut Conn, id: &str, now: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE links SET unlocked_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Records the SCEP challenge (its hash) of a link's profile, the first time one is made.
pub async fn set_scep(c: &mut Conn, id: &str, scep_hash: &str, now: i64) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE links SET scep_hash = $1, profile_at = COALESCE(profile_at, $2) WHERE id = $3",
    )
    .bind(scep_hash)
    .bind(now)
    .bind(id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn link_by_scep_hash(c: &mut Conn, scep_hash: &str) -> Result<Option<LinkRow>, DbError> {
    let sql = format!("SELECT {LINK_COLS} FROM links WHERE scep_hash = $1");
    let row = sqlx::query(&sql)
        .bind(scep_hash)
        .fetch_optional(&mut *c)
        .await?;
    row.as_ref().map(link_from).transpose()
}

/// A grant made by a correct PIN (only its hash is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRow {
    pub id_hash: String,
    pub link_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// When a PKCS#12 download used it up.
    pub used_at: Option<i64>,
}

pub async fn insert_grant(c: &mut Conn, g: &GrantRow) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO pickup_grants (id_hash, link_id, created_at, expires_at) \
         VALUES ($1,$2,$3,$4)",
    )
    .bind(&g.id_hash)
    .bind(&g.link_id)
    .bind(g.created_at)
    .bind(g.expires_at)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn grant_by_hash(c: &mut Conn, id_hash: &str) -> Result<Option<GrantRow>, DbError> {
    let row = sqlx::query(
        "SELECT id_hash, link_id, created_at, expires_at, used_at \
         FROM pickup_grants WHERE id_hash = $1",
    )
    .bind(id_hash)
    .fetch_optional(&mut *c)
    .await?;
    row.map(|r| {
        Ok(GrantRow {
            id_hash: get_str(&r, "id_hash")?,
            link_id: get_str(&r, "link_id")?,
            created_at: get_i64(&r, "created_at")?,
            expires_at: get_i64(&r, "expires_at")?,
            used_at: get_opt_i64(&r, "used_at")?,
        })
    })
    .transpose()
}

/// Uses a grant up for a PKCS#12 download if it is still unused (compare-and-set: of two
/// taps on one grant exactly one proceeds).
pub async fn use_grant(c: &mut Conn, id_hash: &str, now: i64) -> Result<bool, DbError> {
    let r =
        sqlx::query("UPDATE pickup_grants SET used_at = $1 WHERE id_hash = $2 AND used_at IS NULL")
            .bind(now)
            .bind(id_hash)
            .execute(&mut *c)
            .await?;
    Ok(r.rows_affected() == 1)
}

/// Forgets grants that expired before `before`.
pub async fn purge_grants(c: &mut Conn, before: i64) -> Result<u64, DbError> {
    let r = sqlx::query("DELETE FROM pickup_grants WHERE expires_at < $1")
        .bind(before)
        .execute(&mut *c)
        .await?;
    Ok(r.rows_affected())
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
