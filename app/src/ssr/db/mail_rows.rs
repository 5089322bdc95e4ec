//! The `mails` table (reminders and digests: queued, claimed, sent once) and the reads that
//! decide them.

use super::rows::*;
use super::*;

/// An issued certificate near its end, with what a reminder says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderCandidate {
    pub certificate_id: String,
    pub enrollment_id: String,
    pub certificate_state: String,
    pub user_id: String,
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub language: Option<String>,
    pub user_active: bool,
    pub device_label: String,
    pub not_after: i64,
    pub reissue_allowed: Option<bool>,
    /// The nearest threshold already reminded of (any state: queued, sent, failed…).
    pub reminded: Option<i64>,
}

const CANDIDATE_COLUMNS: &str = "c.id AS certificate_id, c.enrollment_id, c.state AS cstate, \
     c.user_id, u.login, u.display_name, u.email, u.language, u.active, c.device_label, \
     c.not_after, u.reissue_allowed, \
     (SELECT MIN(m.threshold_days) FROM mails m WHERE m.certificate_id = c.id) AS reminded";

fn candidate(r: &AnyRow) -> Result<ReminderCandidate, DbError> {
    Ok(ReminderCandidate {
        certificate_id: get_str(r, "certificate_id")?,
        enrollment_id: get_str(r, "enrollment_id")?,
        certificate_state: get_str(r, "cstate")?,
        user_id: get_str(r, "user_id")?,
        login: get_str(r, "login")?,
        display_name: get_str(r, "display_name")?,
        email: get_str(r, "email")?,
        language: get_opt_str(r, "language")?,
        user_active: get_i64(r, "active")? != 0,
        device_label: get_str(r, "device_label")?,
        not_after: get_i64(r, "not_after")?,
        reissue_allowed: get_opt_i64(r, "reissue_allowed")?.map(|v| v != 0),
        reminded: get_opt_i64(r, "reminded")?,
    })
}

/// Issued certificates of active users with an e-mail address that end in `[from, until)`.
pub async fn reminder_candidates(
    c: &mut Conn,
    from: i64,
    until: i64,
) -> Result<Vec<ReminderCandidate>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT {CANDIDATE_COLUMNS} FROM certificates c JOIN users u ON u.id = c.user_id \
         WHERE c.state = 'issued' AND c.not_after >= $1 AND c.not_after < $2 \
         AND u.active = 1 AND u.email <> '' ORDER BY c.not_after, c.id"
    ))
    .bind(from)
    .bind(until)
    .fetch_all(&mut *c)
    .await?;
    rows.iter().map(candidate).collect()
}

/// The certificate a reminder is about, as it is now.
pub async fn reminder_subject(
    c: &mut Conn,
    certificate_id: &str,
) -> Result<Option<ReminderCandidate>, DbError> {
    let row = sqlx::query(&format!(
        "SELECT {CANDIDATE_COLUMNS} FROM certificates c JOIN users u ON u.id = c.user_id \
         WHERE c.id = $1"
    ))
    .bind(certificate_id)
    .fetch_optional(&mut *c)
    .await?;
    row.as_ref().map(candidate).transpose()
}

/// A mail to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    pub id: String,
    pub kind: &'static str,
    pub dedup_key: String,
    pub user_id: String,
    pub certificate_id: Option<String>,
    pub threshold_days: Option<i64>,
    pub recipient: String,
}

/// Queues a mail unless one with its `dedup_key` exists; returns whether this call queued it.
pub async fn queue_mail(c: &mut Conn, m: &NewMail, now: i64) -> Result<bool, DbError> {
    let r = sqlx::query(
        "INSERT INTO mails (id, kind, dedup_key, user_id, certificate_id, threshold_days, \
         recipient, state, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', 0, $8, $8) \
         ON CONFLICT (dedup_key) DO NOTHING",
    )
    .bind(&m.id)
    .bind(m.kind)
    .bind(&m.dedup_key)
    .bind(&m.user_id)
    .bind(m.certificate_id.clone())
    .bind(m.threshold_days)
    .bind(&m.recipient)
    .bind(now)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Whether a mail with this `dedup_key` was decided already.
pub async fn mail_decided(c: &mut Conn, dedup_key: &str) -> Result<bool, DbError> {
    Ok(
        sqlx::query("SELECT 1 AS one FROM mails WHERE dedup_key = $1")
            .bind(dedup_key)
            .fetch_optional(&mut *c)
            .await?
            .is_some(),
    )
}

/// One row of `mails`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailRow {
    pub id: String,
    pub kind: String,
    pub dedup_key: String,
    pub user_id: String,
    pub certificate_id: Option<String>,
    pub threshold_days: Option<i64>,
    pub recipient: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub smtp_answer: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

const MAIL_COLUMNS: &str = "id, kind, dedup_key, user_id, certificate_id, threshold_days, \
     recipient, state, attempts, next_attempt_at, smtp_answer, created_at, sent_at";

fn mail(r: &AnyRow) -> Result<MailRow, DbError> {
    Ok(MailRow {
        id: get_str(r, "id")?,
        kind: get_str(r, "kind")?,
        dedup_key: get_str(r, "dedup_key")?,
        user_id: get_str(r, "user_id")?,
        certificate_id: get_opt_str(r, "certificate_id")?,
        threshold_days: get_opt_i64(r, "threshold_days")?,
        recipient: get_str(r, "recipient")?,
        state: get_str(r, "state")?,
        attempts: get_i64(r, "attempts")?,
        next_attempt_at: get_i64(r, "next_attempt_at")?,
        smtp_answer: get_opt_str(r, "smtp_answer")?,
        created_at: get_i64(r, "created_at")?,
        sent_at: get_opt_i64(r, "sent_at")?,
    })
}

pub async fn mail_by_id(c: &mut Conn, id: &str) -> Result<Option<MailRow>, DbError> {
    let row = sqlx::query(&format!("SELECT {MAIL_COLUMNS} FROM mails WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *c)
        .await?;
    row.as_ref().map(mail).transpose()
}

/// Every mail, oldest first (for tests and the CLI).
pub async fn all_mails(c: &mut Conn) -> Result<Vec<MailRow>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT {MAIL_COLUMNS} FROM mails ORDER BY created_at, id"
    ))
    .fetch_all(&mut *c)
    .await?;
    rows.iter().map(mail).collect()
}

/// Claims whose sender's lease ran out (it died or hung mid-send).
pub async fn stale_claims(c: &mut Conn, now: i64) -> Result<Vec<MailRow>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT {MAIL_COLUMNS} FROM mails WHERE state = 'sending' AND claimed_until < $1"
    ))
    .bind(now)
    .fetch_all(&mut *c)
    .await?;
    rows.iter().map(mail).collect()
}

/// Mails waiting for an attempt at `now`, oldest first.
pub async fn due_mails(c: &mut Conn, now: i64, limit: i64) -> Result<Vec<MailRow>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT {MAIL_COLUMNS} FROM mails WHERE state IN ('queued', 'retry') \
         AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *c)
    .await?;
    rows.iter().map(mail).collect()
}

/// Claims a due mail for one attempt (lease until `until`); false when another sender (or
/// instance) claimed it first or it is no longer due.
pub async fn claim_mail(c: &mut Conn, id: &str, now: i64, until: i64) -> Result<bool, DbError> {
    let r = sqlx::query(
        "UPDATE mails SET state = 'sending', attempts = attempts + 1, claimed_until = $3 \
         WHERE id = $1 AND state IN ('queued', 'retry') AND next_attempt_at <= $2",
    )
    .bind(id)
    .bind(now)
    .bind(until)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Records the outcome of an attempt (or of a stale claim): only a row still `sending`
/// changes.
pub async fn finish_mail(
    c: &mut Conn,
    id: &str,
    state: &str,
    answer: &str,
    next_attempt_at: i64,
    sent_at: Option<i64>,
) -> Result<bool, DbError> {
    let r = sqlx::query(
        "UPDATE mails SET state = $2, smtp_answer = $3, next_attempt_at = $4, sent_at = $5, \
         claimed_until = NULL WHERE id = $1 AND state = 'sending'",
    )
    .bind(id)
    .bind(state)
    .bind(answer)
    .bind(next_attempt_at)
    .bind(sent_at)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Remembers the language of the user's latest sign-in.
pub async fn set_user_language(c: &mut Conn, user_id: &str, lang: &str) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE users SET language = $2 WHERE id = $1 AND (language IS NULL OR language <> $2)",
    )
    .bind(user_id)
    .bind(lang)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Whether an administrator receives the weekly digest.
pub async fn set_digest_opt_in(c: &mut Conn, user_id: &str, on: bool) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET digest_opt_in = $2 WHERE id = $1")
        .bind(user_id)
        .bind(i64::from(on))
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// An administrator who asked for the digest: (id, display name, e-mail, language).
pub async fn digest_recipients(
    c: &mut Conn,
) -> Result<Vec<(String, String, String, Option<String>)>, DbError> {
    let rows = sqlx::query(
        "SELECT id, display_name, email, language FROM users \
         WHERE is_admin = 1 AND active = 1 AND digest_opt_in = 1 AND email <> '' ORDER BY id",
    )
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                get_str(r, "id")?,
                get_str(r, "display_name")?,
                get_str(r, "email")?,
                get_opt_str(r, "language")?,
            ))
        })
        .collect()
}

/// What the digest and the admin start page count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DigestCounts {
    /// Issued certificates ending in the window, by department path ("" for none).
    pub expiring_by_department: Vec<(String, i64)>,
    pub open_approvals: i64,
    /// Links handed out that lapsed unused in the last week, and those still waiting.
    pub lapsed_last_week: i64,
    pub waiting_for_pickup: i64,
}

/// Requests waiting for approval, links that lapsed unused since `$1`, links waiting for
/// their pickup: each count on the `enrollments_deadline` index (state first).
const ENROLLMENT_COUNTS: &str = "SELECT \
     (SELECT COUNT(*) FROM enrollments WHERE state = 'pending') AS pending, \
     (SELECT COUNT(*) FROM enrollments WHERE state = 'lapsed' AND pickup_deadline >= $1) AS lapsed, \
     (SELECT COUNT(*) FROM enrollments WHERE state = 'ready') AS ready";

pub async fn digest_counts(c: &mut Conn, now: i64, until: i64) -> Result<DigestCounts, DbError> {
    let rows = sqlx::query(
        "SELECT COALESCE(d.path, '') AS dept, COUNT(*) AS n FROM certificates c \
         JOIN users u ON u.id = c.user_id LEFT JOIN departments d ON d.id = u.department_id \
         WHERE c.state = 'issued' AND c.not_after >= $1 AND c.not_after < $2 \
         GROUP BY COALESCE(d.path, '') ORDER BY COALESCE(d.path, '')",
    )
    .bind(now)
    .bind(until)
    .fetch_all(&mut *c)
    .await?;
    let expiring_by_department = rows
        .iter()
        .map(|r| Ok((get_str(r, "dept")?, get_i64(r, "n")?)))
        .collect::<Result<Vec<_>, DbError>>()?;
    // The three enrollment counts in one statement: the admin start page asks for them on
    // every view, and each statement is a round trip to PostgreSQL.
    let row = sqlx::query(ENROLLMENT_COUNTS)
        .bind(now - 7 * 86_400)
        .fetch_one(&mut *c)
        .await?;
    let open_approvals = get_i64(&row, "pending")?;
    let lapsed_last_week = get_i64(&row, "lapsed")?;
    let waiting_for_pickup = get_i64(&row, "ready")?;
    Ok(DigestCounts {
        expiring_by_department,
        open_approvals,
        lapsed_last_week,
        waiting_for_pickup,
    })
}

/// What `/metrics` reads from the database at scrape time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricCounts {
    /// (state, count); issued certificates past their end count as "expired".
    pub certificates: Vec<(String, i64)>,
    pub pending_approvals: i64,
    pub mails_waiting: i64,
    /// (CA id, thisUpdate, nextUpdate) of every CA with a CRL.
    pub crls: Vec<(String, i64, i64)>,
}

pub async fn metric_counts(c: &mut Conn, now: i64) -> Result<MetricCounts, DbError> {
    let rows = sqlx::query(
        "SELECT CASE WHEN state = 'issued' AND not_after < $1 THEN 'expired' ELSE state END \
         AS s, COUNT(*) AS n FROM certificates GROUP BY 1",
    )
    .bind(now)
    .fetch_all(&mut *c)
    .await?;
    let certificates = rows
        .iter()
        .map(|r| Ok((get_str(r, "s")?, get_i64(r, "n")?)))
        .collect::<Result<Vec<_>, DbError>>()?;
    let pending_approvals = get_i64(
        &sqlx::query("SELECT COUNT(*) AS n FROM enrollments WHERE state = 'pending'")
            .fetch_one(&mut *c)
            .await?,
        "n",
    )?;
    let mails_waiting = get_i64(
        &sqlx::query("SELECT COUNT(*) AS n FROM mails WHERE state IN ('queued', 'retry')")
            .fetch_one(&mut *c)
            .await?,
        "n",
    )?;
    let rows = sqlx::query(
        "SELECT id, crl_this_update, crl_next_update FROM cas \
         WHERE crl_this_update IS NOT NULL AND crl_next_update IS NOT NULL ORDER BY id",
    )
    .fetch_all(&mut *c)
    .await?;
    let crls = rows
        .iter()
        .map(|r| {
            Ok((
                get_str(r, "id")?,
                get_i64(r, "crl_this_update")?,
                get_i64(r, "crl_next_update")?,
            ))
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    Ok(MetricCounts {
        certificates,
        pending_approvals,
        mails_waiting,
        crls,
    })
}

/// A user's name, address and language, for a mail to them (active users only).
pub async fn mail_recipient(
    c: &mut Conn,
    user_id: &str,
) -> Result<Option<(String, String, Option<String>)>, DbError> {
    let row =
        sqlx::query("SELECT display_name, email, language FROM users WHERE id = $1 AND active = 1")
            .bind(user_id)
            .fetch_optional(&mut *c)
            .await?;
    row.map(|r| {
        Ok((
            get_str(&r, "display_name")?,
            get_str(&r, "email")?,
            get_opt_str(&r, "language")?,
        ))
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    /// Each count of the digest counts its own enrollments: the three share one statement.
    #[tokio::test]
    async fn digest_counts_each_state() {
        let (_dir, db) = crate::ssr::db::migrated_sqlite().await;
        let now = 1_800_000_000i64;
        let mut tx = db.begin().await.unwrap();
        crate::ssr::db::insert_test_user(&mut tx, "u1").await;
        // 2 pending, 3 ready, 1 lapsed this week, 4 lapsed before it, 1 issued.
        let states = [
            ("pending", now + 86_400, 2),
            ("ready", now + 86_400, 3),
            ("lapsed", now - 86_400, 1),
            ("lapsed", now - 8 * 86_400, 4),
            ("issued", now, 1),
        ];
        let mut n = 0;
        for (state, deadline, count) in states {
            for _ in 0..count {
                n += 1;
                sqlx::query(
                    "INSERT INTO enrollments (id, user_id, state, kind, pickup_deadline, \
                     created_at) VALUES ($1, 'u1', $2, 'new', $3, 0)",
                )
                .bind(format!("e{n}"))
                .bind(state)
                .bind(deadline)
                .execute(&mut *tx)
                .await
                .unwrap();
            }
        }
        let counts = super::digest_counts(&mut tx, now, now + 30 * 86_400)
            .await
            .unwrap();
        assert_eq!(
            (
                counts.open_approvals,
                counts.waiting_for_pickup,
                counts.lapsed_last_week
            ),
            (2, 3, 1)
        );
        assert!(counts.expiring_by_department.is_empty());
    }
}
