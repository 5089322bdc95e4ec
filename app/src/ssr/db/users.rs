//! The `users` and `departments` tables.

use super::rows::*;
use super::*;

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
#[derive(Clone)]
/// Not `Debug`-printed with its password hash.
pub struct NewUser {
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub upn: Option<String>,
    pub department_id: Option<String>,
    pub is_admin: bool,
    pub password_hash: Option<String>,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("login", &self.login)
            .field("is_admin", &self.is_admin)
            .finish_non_exhaustive()
    }
}

const USER_COLS: &str = "id, login, display_name, email, upn, department_id, is_admin, \
     reissue_allowed, active, must_change_password, created_at";

pub(super) fn user_from(row: &AnyRow) -> Result<UserRow, DbError> {
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

/// The logins of these users (by id; unknown ids are left out), in one query: a bulk run
/// names each batch's users at once instead of reading each user again.
pub async fn logins_by_id(
    c: &mut Conn,
    ids: &[String],
) -> Result<std::collections::HashMap<String, String>, DbError> {
    let mut logins = std::collections::HashMap::with_capacity(ids.len());
    // Within both databases' limits on bound parameters.
    for chunk in ids.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id, login FROM users WHERE id IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.clone());
        }
        for row in q.fetch_all(&mut *c).await? {
            logins.insert(get_str(&row, "id")?, get_str(&row, "login")?);
        }
    }
    Ok(logins)
}

/// The time zone the user chose (`None`: automatic).
pub async fn user_time_zone(c: &mut Conn, id: &str) -> Result<Option<String>, DbError> {
    let row = sqlx::query("SELECT time_zone FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(match row {
        Some(r) => get_opt_str(&r, "time_zone")?,
        None => None,
    })
}

/// Records the user's time zone (`None`: automatic). The caller checked the name.
pub async fn set_user_time_zone(c: &mut Conn, id: &str, zone: Option<&str>) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET time_zone = $2 WHERE id = $1")
        .bind(id)
        .bind(zone)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Takes the user's row lock for the rest of the transaction. Every use case that changes a
/// user's certificates, enrollments or links takes it first, so on PostgreSQL they serialise
/// per user. On SQLite a write transaction (`BEGIN IMMEDIATE`, see [`super::Db::begin`])
/// already excludes every other writer, so nothing is done: the no-op update would make
/// SQLite check every table that refers to users for the "changed" key — a full read of
/// `mails`, which has no index on `user_id`, for every lifecycle action.
pub async fn lock_user(c: &mut Conn, id: &str) -> Result<(), DbError> {
    if c.backend_name() == "SQLite" {
        return Ok(());
    }
    sqlx::query("UPDATE users SET id = id WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Takes the named lock (table `locks`) for the rest of the transaction: `admins` for every
/// change that could leave the portal without an administrator or make a first one.
pub async fn lock_named(c: &mut Conn, name: &str) -> Result<(), DbError> {
    let n = sqlx::query("UPDATE locks SET name = name WHERE name = $1")
        .bind(name)
        .execute(&mut *c)
        .await?
        .rows_affected();
    if n == 1 {
        Ok(())
    } else {
        Err(DbError::Corrupt(format!("lock {name:?} is missing")))
    }
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

/// The id of a department path (`Sales/Tokyo`), creating it and its parents as needed; `None`
/// for an empty path.
pub async fn department_id(c: &mut Conn, path: &str) -> Result<Option<String>, DbError> {
    let mut parent: Option<String> = None;
    let mut so_far = String::new();
    for part in path.split('/') {
        if !so_far.is_empty() {
            so_far.push('/');
        }
        so_far.push_str(part);
        let row = sqlx::query("SELECT id FROM departments WHERE path = $1")
            .bind(&so_far)
            .fetch_optional(&mut *c)
            .await?;
        let id = match row {
            Some(r) => get_str(&r, "id")?,
            None => {
                // Two transactions may make the same new department at once (a directory
                // provisions its users in parallel): the second one's insert does nothing and
                // it reads the first one's row, which PostgreSQL's insert waited for.
                sqlx::query(
                    "INSERT INTO departments (id, parent_id, name, path) VALUES ($1,$2,$3,$4) \
                     ON CONFLICT (path) DO NOTHING",
                )
                .bind(crate::ssr::ids::new_id())
                .bind(parent.clone())
                .bind(part)
                .bind(&so_far)
                .execute(&mut *c)
                .await?;
                let made = sqlx::query("SELECT id FROM departments WHERE path = $1")
                    .bind(&so_far)
                    .fetch_one(&mut *c)
                    .await?;
                get_str(&made, "id")?
            }
        };
        parent = Some(id);
    }
    Ok(parent)
}

#[cfg(test)]
mod tests {
    /// On SQLite the user's lock writes nothing: the write transaction already excludes
    /// other writers, and a no-op update of the key made SQLite check every table that
    /// refers to users (all of `mails`, which has no index on `user_id`) on every call.
    #[tokio::test]
    async fn lock_user_writes_nothing_on_sqlite() {
        use sqlx::Row;
        let (_dir, db) = crate::ssr::db::migrated_sqlite().await;
        let mut tx = db.begin().await.unwrap();
        crate::ssr::db::insert_test_user(&mut tx, "u1").await;
        let changes = async |c: &mut super::Conn| -> i64 {
            sqlx::query("SELECT total_changes() AS n")
                .fetch_one(&mut *c)
                .await
                .unwrap()
                .get::<i64, _>("n")
        };
        let before = changes(&mut tx).await;
        super::lock_user(&mut tx, "u1").await.unwrap();
        assert_eq!(changes(&mut tx).await, before);
        tx.commit().await.unwrap();
    }
}
