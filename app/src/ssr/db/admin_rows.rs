//! SQL for the admin console: the directory (search, department subtree, certificate status,
//! paging over an index).

use super::{get_i64, get_opt_i64, get_opt_str, get_str, Conn, DbError};
use crate::domain::directory::UserCertStatus;

/// What the directory is asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryQuery {
    /// Part of a login or display name (case-insensitive); empty for everyone.
    pub text: String,
    /// A department path; its sub-departments are included.
    pub department: Option<String>,
    pub status: Option<UserCertStatus>,
    pub offset: i64,
    pub limit: i64,
}

/// One user as the directory lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryRow {
    pub id: String,
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub department: Option<String>,
    pub is_admin: bool,
    pub active: bool,
    pub reissue_allowed: Option<bool>,
    pub summary: String,
    pub not_after: Option<i64>,
}

fn like_pattern(text: &str) -> String {
    let mut p = String::from("%");
    for ch in text.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// The WHERE clause and its string parameters (numbered from `$1`); `now` is the last one.
fn filter(q: &DirectoryQuery) -> (String, Vec<String>) {
    let mut clauses = Vec::new();
    let mut params = Vec::new();
    if !q.text.trim().is_empty() {
        params.push(like_pattern(q.text.trim()));
        let n = params.len();
        clauses.push(format!(
            "(LOWER(u.login) LIKE ${n} ESCAPE '\\' OR LOWER(u.display_name) LIKE ${n} ESCAPE '\\')"
        ));
    }
    if let Some(d) = q.department.as_deref().filter(|d| !d.is_empty()) {
        params.push(d.to_string());
        let a = params.len();
        params.push(format!(
            "{}/%",
            d.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        ));
        let b = params.len();
        clauses.push(format!("(d.path = ${a} OR d.path LIKE ${b} ESCAPE '\\')"));
    }
    if let Some(s) = q.status {
        let now = params.len() + 1;
        clauses.push(match s {
            UserCertStatus::NotIssued => "u.cert_summary = 'none'".into(),
            UserCertStatus::AwaitingApproval => "u.cert_summary = 'pending'".into(),
            UserCertStatus::Ready => "u.cert_summary = 'ready'".into(),
            UserCertStatus::Issued => {
                format!("u.cert_summary = 'issued' AND u.cert_not_after > CAST(${now} AS BIGINT)")
            }
            UserCertStatus::Expired => {
                format!("u.cert_summary = 'issued' AND u.cert_not_after <= CAST(${now} AS BIGINT)")
            }
            UserCertStatus::Renewed => "u.cert_summary = 'superseded'".into(),
            UserCertStatus::Revoked => "u.cert_summary = 'revoked'".into(),
        });
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    (sql, params)
}

fn uses_now(q: &DirectoryQuery) -> bool {
    matches!(
        q.status,
        Some(UserCertStatus::Issued | UserCertStatus::Expired)
    )
}

fn row_of(r: &sqlx::any::AnyRow) -> Result<DirectoryRow, DbError> {
    Ok(DirectoryRow {
        id: get_str(r, "id")?,
        login: get_str(r, "login")?,
        display_name: get_str(r, "display_name")?,
        email: get_str(r, "email")?,
        department: get_opt_str(r, "department")?,
        is_admin: get_i64(r, "is_admin")? != 0,
        active: get_i64(r, "active")? != 0,
        reissue_allowed: get_opt_i64(r, "reissue_allowed")?.map(|v| v != 0),
        summary: get_str(r, "cert_summary")?,
        not_after: get_opt_i64(r, "cert_not_after")?,
    })
}

/// One page of the directory, ordered by login, and the number of matching users.
pub async fn directory(
    c: &mut Conn,
    q: &DirectoryQuery,
    now: i64,
) -> Result<(Vec<DirectoryRow>, i64), DbError> {
    let (where_sql, params) = filter(q);
    let from = "FROM users u LEFT JOIN departments d ON d.id = u.department_id";
    let count_sql = format!("SELECT COUNT(*) AS n {from} {where_sql}");
    let mut count = sqlx::query(&count_sql);
    for p in &params {
        count = count.bind(p.clone());
    }
    if uses_now(q) {
        count = count.bind(now);
    }
    let total = get_i64(&count.fetch_one(&mut *c).await?, "n")?;
    let base = params.len() + usize::from(uses_now(q));
    let page_sql = format!(
        "SELECT u.id, u.login, u.display_name, u.email, d.path AS department, u.is_admin, \
         u.active, u.reissue_allowed, u.cert_summary, u.cert_not_after {from} {where_sql} \
         ORDER BY u.login LIMIT ${} OFFSET ${}",
        base + 1,
        base + 2
    );
    let mut page = sqlx::query(&page_sql);
    for p in &params {
        page = page.bind(p.clone());
    }
    if uses_now(q) {
        page = page.bind(now);
    }
    let rows = page.bind(q.limit).bind(q.offset).fetch_all(&mut *c).await?;
    let rows = rows
        .iter()
        .map(row_of)
        .collect::<Result<Vec<_>, DbError>>()?;
    Ok((rows, total))
}

/// One user as the directory lists them.
pub async fn directory_row(c: &mut Conn, id: &str) -> Result<Option<DirectoryRow>, DbError> {
    let row = sqlx::query(
        "SELECT u.id, u.login, u.display_name, u.email, d.path AS department, u.is_admin, \
         u.active, u.reissue_allowed, u.cert_summary, u.cert_not_after FROM users u \
         LEFT JOIN departments d ON d.id = u.department_id WHERE u.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *c)
    .await?;
    row.as_ref().map(row_of).transpose()
}

/// Every certificate with its user's login, newest first (the CLI's `cert list`).
pub async fn all_certificates(
    c: &mut Conn,
) -> Result<Vec<(String, super::CertificateRow)>, DbError> {
    let rows = sqlx::query(
        "SELECT u.login, c.id FROM certificates c JOIN users u ON u.id = c.user_id \
         ORDER BY c.created_at DESC, c.id",
    )
    .fetch_all(&mut *c)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let id = get_str(r, "id")?;
        if let Some(cert) = super::certificate_by_id(c, &id).await? {
            out.push((get_str(r, "login")?, cert));
        }
    }
    Ok(out)
}

/// Every department path, sorted (the directory's department tree).
pub async fn department_paths(c: &mut Conn) -> Result<Vec<String>, DbError> {
    let rows = sqlx::query("SELECT path FROM departments ORDER BY path")
        .fetch_all(&mut *c)
        .await?;
    rows.iter().map(|r| get_str(r, "path")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_a_literal_pattern() {
        assert_eq!(like_pattern("Ab%_\\"), "%ab\\%\\_\\\\%");
        let (sql, params) = filter(&DirectoryQuery {
            text: " yam ".into(),
            department: Some("Sales".into()),
            status: Some(UserCertStatus::Expired),
            ..Default::default()
        });
        assert_eq!(params, vec!["%yam%", "Sales", "Sales/%"]);
        assert!(sql.contains("$4"), "{sql}");
    }
}
