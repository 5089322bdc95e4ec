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
    /// Has set a password or added a passkey (used their activation link).
    pub activated: bool,
}

/// Whether the user has set a password or a passkey, as a column `activated`.
const ACTIVATED_COL: &str = "CASE WHEN u.password_hash IS NOT NULL OR EXISTS \
     (SELECT 1 FROM passkeys p WHERE p.user_id = u.id) THEN 1 ELSE 0 END AS activated";

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

/// An FTS5 phrase that matches `text` as a substring (with the trigram tokenizer).
fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// The WHERE clause and its string parameters (numbered from `$1`); `now` is the last one.
/// A search term goes through a trigram index on both databases: on PostgreSQL `pg_trgm`
/// serves the LIKE itself; on SQLite, with `narrow`, the FTS5 `user_search` table narrows
/// the rows first and the LIKE decides, so the results are the same either way.
fn filter(q: &DirectoryQuery, narrow: bool) -> (String, Vec<String>) {
    let mut clauses = Vec::new();
    let mut params = Vec::new();
    let text = q.text.trim();
    if !text.is_empty() {
        if narrow {
            params.push(fts_phrase(text));
            let m = params.len();
            clauses.push(format!(
                "u.search_key IN (SELECT rowid FROM user_search WHERE user_search MATCH ${m})"
            ));
        }
        params.push(like_pattern(text));
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
        activated: get_i64(r, "activated")? != 0,
    })
}

/// Most users a search narrows through the SQLite trigram index; a term found in more is
/// searched by reading the users in login order instead (looking up tens of thousands of
/// rows by key costs more than reading them all: 124 ms against 53 ms for 100,000 matches).
const NARROW_AT_MOST: i64 = 5_000;

/// Whether an SQLite search for `text` should go through the trigram index: a term of three
/// characters or more (a trigram needs three) found in few enough users.
async fn narrows(c: &mut Conn, text: &str) -> Result<bool, DbError> {
    let text = text.trim();
    if text.chars().count() < 3 {
        return Ok(false);
    }
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM (SELECT 1 FROM user_search WHERE user_search MATCH $1 \
         LIMIT $2)",
    )
    .bind(fts_phrase(text))
    .bind(NARROW_AT_MOST + 1)
    .fetch_one(&mut *c)
    .await?;
    Ok(get_i64(&row, "n")? <= NARROW_AT_MOST)
}

/// A search's matches are counted up to the thousand past the page's end, no further: a term
/// found in most users (a family name, a domain) would otherwise cost a full count on every
/// page, for a number nobody reads (the page then says "1000+").
const SEARCH_COUNTED_BY: i64 = 1_000;

/// How many users match a directory query, as far as it was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Matches {
    pub total: i64,
    /// `total` is a lower bound: the count stopped there and more users match.
    pub more: bool,
}

/// The most a search's count reads for a page ending at `end` (see [`SEARCH_COUNTED_BY`]).
fn search_count_cap(end: i64) -> i64 {
    (end / SEARCH_COUNTED_BY + 1) * SEARCH_COUNTED_BY
}

/// A directory statement with the filter's parameters bound, then `now` where the filter
/// compares expiry with it (the count and the page share both).
fn with_filter<'q>(
    sql: &'q str,
    params: &[String],
    now: Option<i64>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut query = sqlx::query(sql);
    for p in params {
        query = query.bind(p.clone());
    }
    if let Some(now) = now {
        query = query.bind(now);
    }
    query
}

/// One page of the directory, ordered by login, and the number of matching users.
pub async fn directory(
    c: &mut Conn,
    q: &DirectoryQuery,
    now: i64,
) -> Result<(Vec<DirectoryRow>, Matches), DbError> {
    let postgres = c.backend_name() != "SQLite";
    let searching = !q.text.trim().is_empty();
    let narrow = !postgres && narrows(c, &q.text).await?;
    let (where_sql, params) = filter(q, narrow);
    let now_bound = uses_now(q).then_some(now);
    let from = "FROM users u LEFT JOIN departments d ON d.id = u.department_id";
    // The count needs the departments only to filter by one (SQLite does not drop the
    // unused join by itself: 8 ms of 100,000 index lookups).
    let count_from = if q.department.as_deref().is_some_and(|d| !d.is_empty()) {
        from
    } else {
        "FROM users u"
    };
    let cap = search_count_cap(q.offset.saturating_add(q.limit));
    // Everyone: the number the triggers keep (migration 10), one row instead of a count,
    // read by the page's own statement (one round trip fewer; an empty page reads it alone).
    let everyone = where_sql.is_empty();
    const KEPT_COUNT: &str = "SELECT n FROM user_count WHERE id = 1";
    let counted = if everyone {
        None
    } else {
        let count_sql = if searching {
            format!(
                "SELECT COUNT(*) AS n FROM (SELECT 1 AS one {count_from} {where_sql} LIMIT {}) m",
                cap + 1
            )
        } else {
            format!("SELECT COUNT(*) AS n {count_from} {where_sql}")
        };
        let count = with_filter(&count_sql, &params, now_bound);
        let n = get_i64(&count.fetch_one(&mut *c).await?, "n")?;
        Some(if searching && n > cap {
            Matches {
                total: cap,
                more: true,
            }
        } else {
            Matches {
                total: n,
                more: false,
            }
        })
    };
    let kept_count = if everyone {
        format!(", ({KEPT_COUNT}) AS kept_total")
    } else {
        String::new()
    };
    let cols = format!(
        "u.id, u.login, u.display_name, u.email, d.path AS department, u.is_admin, \
         u.active, u.reissue_allowed, u.cert_summary, u.cert_not_after, {ACTIVATED_COL}\
         {kept_count}"
    );
    // The page's bounds are written into the statement, not bound: PostgreSQL plans a
    // prepared statement whose LIMIT is a parameter afresh on every execution (a generic
    // plan must guess the limit, so it never looks cheaper than one made for LIMIT 50), and
    // that planning was more than half of the first page's time in the database (190 of
    // 330 µs). With them written in, a statement without parameters is planned once per
    // connection. They are integers of ours, so nothing can be injected; each page number
    // is its own cached statement.
    let (limit, offset) = (q.limit.max(0), q.offset.max(0));
    // A search with few matches on PostgreSQL: its planner, guessing a thousand matches for
    // any term, would read the users in login order and test each (21 ms for 100 matches
    // among 100,000); the matches, fetched through the trigram index first and then sorted,
    // take a few. Many matches are met soon enough in login order.
    let page_sql = if postgres && counted.is_some_and(|m| searching && !m.more) {
        format!(
            "WITH m AS MATERIALIZED (SELECT {cols} {from} {where_sql}) \
             SELECT * FROM m ORDER BY login LIMIT {limit} OFFSET {offset}"
        )
    } else {
        format!("SELECT {cols} {from} {where_sql} ORDER BY u.login LIMIT {limit} OFFSET {offset}")
    };
    let page = with_filter(&page_sql, &params, now_bound);
    let found = page.fetch_all(&mut *c).await?;
    let rows = found
        .iter()
        .map(row_of)
        .collect::<Result<Vec<_>, DbError>>()?;
    let matches = match counted {
        Some(m) => m,
        None => Matches {
            total: match found.first() {
                Some(row) => get_i64(row, "kept_total")?,
                None => get_i64(&sqlx::query(KEPT_COUNT).fetch_one(&mut *c).await?, "n")?,
            },
            more: false,
        },
    };
    Ok((rows, matches))
}

/// One user as the directory lists them.
pub async fn directory_row(c: &mut Conn, id: &str) -> Result<Option<DirectoryRow>, DbError> {
    let sql = format!(
        "SELECT u.id, u.login, u.display_name, u.email, d.path AS department, u.is_admin, \
         u.active, u.reissue_allowed, u.cert_summary, u.cert_not_after, {ACTIVATED_COL} \
         FROM users u LEFT JOIN departments d ON d.id = u.department_id WHERE u.id = $1"
    );
    let row = sqlx::query(&sql).bind(id).fetch_optional(&mut *c).await?;
    row.as_ref().map(row_of).transpose()
}

/// Every certificate with its user's login, newest first (the CLI's `cert list`).
pub async fn all_certificates(
    c: &mut Conn,
) -> Result<Vec<(String, super::CertificateRow)>, DbError> {
    let sql = format!(
        "SELECT {}, (SELECT u.login FROM users u WHERE u.id = certificates.user_id) AS login \
         FROM certificates ORDER BY created_at DESC, id",
        super::certificates::CERT_COLS
    );
    let rows = sqlx::query(&sql).fetch_all(&mut *c).await?;
    rows.iter()
        .map(|r| {
            Ok((
                get_str(r, "login")?,
                super::certificates::certificate_from(r)?,
            ))
        })
        .collect()
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
        let q = DirectoryQuery {
            text: " y\"am ".into(),
            department: Some("Sales".into()),
            status: Some(UserCertStatus::Expired),
            ..Default::default()
        };
        let (sql, params) = filter(&q, false);
        assert_eq!(params, vec!["%y\"am%", "Sales", "Sales/%"]);
        assert!(sql.contains("$4"), "{sql}");
        let (sql, params) = filter(&q, true);
        assert_eq!(params, vec!["\"y\"\"am\"", "%y\"am%", "Sales", "Sales/%"]);
        assert!(sql.contains("MATCH $1") && sql.contains("$5"), "{sql}");
    }

    /// A search is counted to the thousand past the page's end: the first pages to 1,000,
    /// a page that ends at 1,000 to 2,000 (so that it still knows whether one follows).
    #[test]
    fn a_search_is_counted_past_the_page() {
        assert_eq!(search_count_cap(50), 1_000);
        assert_eq!(search_count_cap(999), 1_000);
        assert_eq!(search_count_cap(1_000), 2_000);
        assert_eq!(search_count_cap(50_050), 51_000);
    }

    /// On SQLite a search of three characters or more reads the trigram index, and finds
    /// exactly what the LIKE finds — after inserts, renames and deletes (the triggers), for
    /// Japanese names, in any case, and for terms that hold FTS5 syntax.
    #[tokio::test]
    async fn search_uses_the_trigram_index_and_finds_what_like_finds() {
        use sqlx::Row;
        let (_dir, db) = crate::ssr::db::migrated_sqlite().await;
        let mut c = db.pool().acquire().await.unwrap();
        for (i, (login, name)) in [
            ("yamada.taro", "山田 太郎"),
            ("suzuki", "Suzuki Ichiro"),
            ("o'neil", "Ann \"AND\" O'Neil"),
            ("tanaka", "田中 花子"),
        ]
        .iter()
        .enumerate()
        {
            sqlx::query(
                "INSERT INTO users (id, login, display_name, email, is_admin, active, \
                 created_at, updated_at) VALUES ($1, $2, $3, '', 0, 1, 0, 0)",
            )
            .bind(format!("u{i}"))
            .bind(*login)
            .bind(*name)
            .execute(&mut *c)
            .await
            .unwrap();
        }
        sqlx::query("UPDATE users SET display_name = 'Suzuki Hanako' WHERE login = 'suzuki'")
            .execute(&mut *c)
            .await
            .unwrap();
        sqlx::query("DELETE FROM users WHERE login = 'tanaka'")
            .execute(&mut *c)
            .await
            .unwrap();
        let mut find = async |text: &str| -> Vec<String> {
            let q = DirectoryQuery {
                text: text.into(),
                limit: 50,
                ..Default::default()
            };
            let (rows, m) = directory(&mut c, &q, 0).await.unwrap();
            assert_eq!((m.total as usize, m.more), (rows.len(), false));
            rows.into_iter().map(|r| r.login).collect()
        };
        // No filter: the total is the number the triggers keep (4 inserted, 1 deleted).
        assert_eq!(find("").await.len(), 3);
        assert_eq!(find("YAMADA").await, vec!["yamada.taro"]);
        assert_eq!(find("山田 太").await, vec!["yamada.taro"]);
        assert_eq!(find("hanako").await, vec!["suzuki"]);
        assert!(
            find("ichiro").await.is_empty(),
            "the rename reached the index"
        );
        assert!(
            find("田中 花").await.is_empty(),
            "the delete reached the index"
        );
        assert_eq!(find("\"and\"").await, vec!["o'neil"]);
        assert_eq!(find("a\"nd").await, Vec::<String>::new());
        assert_eq!(find("ta").await, vec!["yamada.taro"]);
        // Two characters make no trigram; a common term reads the users in login order.
        assert!(!narrows(&mut c, "山田").await.unwrap());
        assert!(narrows(&mut c, "hanako").await.unwrap());
        let (sql, params) = filter(
            &DirectoryQuery {
                text: "hanako".into(),
                ..Default::default()
            },
            true,
        );
        let explain = format!("EXPLAIN QUERY PLAN SELECT u.id FROM users u {sql} ORDER BY u.login");
        let mut plan = sqlx::query(&explain);
        for p in params {
            plan = plan.bind(p);
        }
        let plan: Vec<String> = plan
            .fetch_all(&mut *c)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>("detail"))
            .collect();
        assert!(
            plan.iter().any(|d| d.contains("VIRTUAL TABLE INDEX")),
            "{plan:?}"
        );
        assert!(
            plan.iter()
                .any(|d| d.starts_with("SEARCH u USING INDEX users_search_key")),
            "users read by key, not scanned: {plan:?}"
        );
    }
}

/// Active administrators (the last one may not be demoted or deactivated).
pub async fn count_active_admins(c: &mut Conn) -> Result<i64, DbError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE is_admin = 1 AND active = 1")
        .fetch_one(&mut *c)
        .await?;
    get_i64(&row, "n")
}

pub async fn set_user_flags(
    c: &mut Conn,
    id: &str,
    reissue_allowed: Option<bool>,
    is_admin: bool,
    active: bool,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE users SET reissue_allowed = $1, is_admin = $2, active = $3, updated_at = $4 \
         WHERE id = $5",
    )
    .bind(reissue_allowed.map(i64::from))
    .bind(i64::from(is_admin))
    .bind(i64::from(active))
    .bind(now)
    .bind(id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// A request waiting for approval, with who asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRow {
    pub enrollment_id: String,
    pub user_id: String,
    pub login: String,
    pub display_name: String,
    pub department: Option<String>,
    pub device_label: String,
    pub kind: String,
    pub created_at: i64,
}

/// Every pending request, oldest first (the approvals queue).
pub async fn pending_requests(c: &mut Conn, limit: i64) -> Result<Vec<PendingRow>, DbError> {
    let rows = sqlx::query(
        "SELECT e.id, e.user_id, u.login, u.display_name, d.path AS department, \
         e.device_label, e.kind, e.created_at FROM enrollments e \
         JOIN users u ON u.id = e.user_id LEFT JOIN departments d ON d.id = u.department_id \
         WHERE e.state = 'pending' ORDER BY e.created_at, e.id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PendingRow {
                enrollment_id: get_str(r, "id")?,
                user_id: get_str(r, "user_id")?,
                login: get_str(r, "login")?,
                display_name: get_str(r, "display_name")?,
                department: get_opt_str(r, "department")?,
                device_label: get_str(r, "device_label")?,
                kind: get_str(r, "kind")?,
                created_at: get_i64(r, "created_at")?,
            })
        })
        .collect()
}

/// What the operation history is searched by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryQuery {
    /// Only records about this user (subject).
    pub subject_user_id: Option<String>,
    /// Only records by this actor (a user id, or a label such as `cli`).
    pub actor: Option<String>,
    /// An action, or a prefix ending in `.` (`certificate.`).
    pub action: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub offset: i64,
    pub limit: i64,
}

/// A history record with the logins resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    pub id: i64,
    pub at: i64,
    pub actor_label: String,
    pub actor_login: Option<String>,
    pub subject_login: Option<String>,
    pub action: String,
    pub result: String,
    pub detail: String,
    pub ip: Option<String>,
    pub certificate_id: Option<String>,
}

/// Newest first, with the total count.
pub async fn history(c: &mut Conn, q: &HistoryQuery) -> Result<(Vec<HistoryRow>, i64), DbError> {
    let mut clauses: Vec<String> = Vec::new();
    let mut params: Vec<String> = Vec::new();
    let mut ints: Vec<i64> = Vec::new();
    if let Some(u) = &q.subject_user_id {
        params.push(u.clone());
        clauses.push(format!("a.subject_user_id = ${}", params.len()));
    }
    if let Some(actor) = &q.actor {
        params.push(actor.clone());
        let n = params.len();
        clauses.push(format!("(a.actor_id = ${n} OR a.actor_label = ${n})"));
    }
    if let Some(action) = q.action.as_deref().filter(|a| !a.is_empty()) {
        if let Some(prefix) = action.strip_suffix('.') {
            params.push(format!("{prefix}.%"));
            clauses.push(format!("a.action LIKE ${}", params.len()));
        } else {
            params.push(action.to_string());
            clauses.push(format!("a.action = ${}", params.len()));
        }
    }
    let mut next = params.len();
    if let Some(from) = q.from {
        next += 1;
        ints.push(from);
        clauses.push(format!("a.at >= CAST(${next} AS BIGINT)"));
    }
    if let Some(to) = q.to {
        next += 1;
        ints.push(to);
        clauses.push(format!("a.at <= CAST(${next} AS BIGINT)"));
    }
    let where_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let from = "FROM audit a LEFT JOIN users ua ON ua.id = a.actor_id \
                LEFT JOIN users us ON us.id = a.subject_user_id";
    let count_sql = format!("SELECT COUNT(*) AS n {from} {where_sql}");
    let mut count = sqlx::query(&count_sql);
    for p in &params {
        count = count.bind(p.clone());
    }
    for i in &ints {
        count = count.bind(*i);
    }
    let total = get_i64(&count.fetch_one(&mut *c).await?, "n")?;
    let sql = format!(
        "SELECT a.id, a.at, a.actor_label, ua.login AS actor_login, us.login AS subject_login, \
         a.action, a.result, a.detail, a.ip, a.certificate_id {from} {where_sql} \
         ORDER BY a.id DESC LIMIT ${} OFFSET ${}",
        next + 1,
        next + 2
    );
    let mut page = sqlx::query(&sql);
    for p in &params {
        page = page.bind(p.clone());
    }
    for i in &ints {
        page = page.bind(*i);
    }
    let rows = page.bind(q.limit).bind(q.offset).fetch_all(&mut *c).await?;
    let rows = rows
        .iter()
        .map(|r| {
            Ok(HistoryRow {
                id: get_i64(r, "id")?,
                at: get_i64(r, "at")?,
                actor_label: get_str(r, "actor_label")?,
                actor_login: get_opt_str(r, "actor_login")?,
                subject_login: get_opt_str(r, "subject_login")?,
                action: get_str(r, "action")?,
                result: get_str(r, "result")?,
                detail: get_str(r, "detail")?,
                ip: get_opt_str(r, "ip")?,
                certificate_id: get_opt_str(r, "certificate_id")?,
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    Ok((rows, total))
}
