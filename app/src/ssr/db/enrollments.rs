//! The `enrollments` table (and the per-user summary kept beside it).

use super::rows::*;
use super::*;

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
    /// The administrator's note when the request was approved or rejected.
    pub decision_note: Option<String>,
}

const ENR_COLS: &str = "id, user_id, state, kind, renews_certificate_id, device_label, \
     requested_not_after, pickup_deadline, admin_created, created_by, created_at, certificate_id, \
     decision_note";

pub(super) fn enrollment_from(row: &AnyRow) -> Result<EnrollmentRow, DbError> {
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
        decision_note: get_opt_str(row, "decision_note")?,
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

/// Whether a change refreshes its user's directory summary at once, or leaves it to a later
/// statement of the same transaction that refreshes it anyway (such as
/// [`insert_enrollment`]): a bulk "remove existing" revokes and then inserts, one refresh
/// per user instead of two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summary {
    Refresh,
    Later,
}

/// After a compare-and-set `UPDATE … RETURNING user_id`: whether it changed a row, and if so
/// that user's summary refreshed (one statement fewer than reading the user back).
pub(super) async fn refresh_if_changed(
    c: &mut Conn,
    changed: Option<sqlx::any::AnyRow>,
) -> Result<bool, DbError> {
    match changed {
        Some(row) => {
            refresh_cert_summary(c, &get_str(&row, "user_id")?).await?;
            Ok(true)
        }
        None => Ok(false),
    }
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
         withdrawn_reason = COALESCE($3, withdrawn_reason) WHERE id = $4 AND state = $5 \
         RETURNING user_id",
    )
    .bind(to.code())
    .bind(certificate_id.map(str::to_string))
    .bind(withdrawn_reason.map(|r| r.code().to_string()))
    .bind(id)
    .bind(from.code())
    .fetch_optional(&mut *c)
    .await?;
    refresh_if_changed(c, r).await
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
         decision_note = $4, pickup_deadline = $5 WHERE id = $6 AND state = 'pending' \
         RETURNING user_id",
    )
    .bind(to.code())
    .bind(by)
    .bind(at)
    .bind(note)
    .bind(pickup_deadline)
    .bind(id)
    .fetch_optional(&mut *c)
    .await?;
    refresh_if_changed(c, r).await
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
