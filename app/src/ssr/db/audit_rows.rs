//! The append-only `audit` table.

use super::rows::*;
use super::*;

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
