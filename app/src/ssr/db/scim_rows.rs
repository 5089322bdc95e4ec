//! What the directory's SCIM client reads and changes: users with the directory's fields,
//! groups and their members, and the client's bearer tokens.

use super::rows::*;
use super::users::user_from;
use super::*;

/// A user as the directory sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimUserRow {
    pub user: UserRow,
    pub external_id: Option<String>,
    /// What the directory last sent of `name`, `displayName`, `emails` and `active` (a JSON
    /// object), returned as sent; `None` for users the directory never touched.
    pub scim_attributes: Option<serde_json::Value>,
    /// The department's path (`Sales/Tokyo`).
    pub department: Option<String>,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

const SCIM_USER_SELECT: &str = "SELECT u.id, u.login, u.display_name, u.email, u.upn, \
     u.department_id, u.is_admin, u.reissue_allowed, u.active, u.must_change_password, \
     u.created_at, u.external_id, u.scim_attributes, u.updated_at, u.deleted_at, \
     d.path AS department_path FROM users u LEFT JOIN departments d ON d.id = u.department_id";

fn scim_user_from(row: &AnyRow) -> Result<ScimUserRow, DbError> {
    Ok(ScimUserRow {
        user: user_from(row)?,
        external_id: get_opt_str(row, "external_id")?,
        scim_attributes: get_opt_str(row, "scim_attributes")?
            .map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|e| DbError::Corrupt(format!("users.scim_attributes: {e}")))?,
        department: get_opt_str(row, "department_path")?,
        updated_at: get_i64(row, "updated_at")?,
        deleted_at: get_opt_i64(row, "deleted_at")?,
    })
}

/// A user that the directory has not deleted.
pub async fn scim_user(c: &mut Conn, id: &str) -> Result<Option<ScimUserRow>, DbError> {
    let sql = format!("{SCIM_USER_SELECT} WHERE u.id = $1 AND u.deleted_at IS NULL");
    let row = sqlx::query(&sql).bind(id).fetch_optional(&mut *c).await?;
    row.as_ref().map(scim_user_from).transpose()
}

/// Which users a list reads.
#[derive(Debug, Clone, Copy)]
pub enum UserSelection<'a> {
    All,
    /// `userName eq` (logins are stored lower-case).
    Login(&'a str),
    ExternalId(&'a str),
}

fn user_where(sel: UserSelection<'_>) -> (&'static str, Option<String>) {
    match sel {
        UserSelection::All => ("u.deleted_at IS NULL", None),
        UserSelection::Login(l) => (
            "u.deleted_at IS NULL AND u.login = $1",
            Some(l.trim().to_lowercase()),
        ),
        UserSelection::ExternalId(e) => (
            "u.deleted_at IS NULL AND u.external_id = $1",
            Some(e.to_string()),
        ),
    }
}

/// How many users a selection holds.
pub async fn count_scim_users(c: &mut Conn, sel: UserSelection<'_>) -> Result<i64, DbError> {
    let (cond, bind) = user_where(sel);
    let sql = format!("SELECT COUNT(*) AS n FROM users u WHERE {cond}");
    let mut q = sqlx::query(&sql);
    if let Some(b) = bind {
        q = q.bind(b);
    }
    let row = q.fetch_one(&mut *c).await?;
    get_i64(&row, "n")
}

/// A page of a selection in creation order (`limit` < 0: all of it).
pub async fn scim_users(
    c: &mut Conn,
    sel: UserSelection<'_>,
    offset: i64,
    limit: i64,
) -> Result<Vec<ScimUserRow>, DbError> {
    let (cond, bind) = user_where(sel);
    let n = if bind.is_some() { 2 } else { 1 };
    let sql = format!(
        "{SCIM_USER_SELECT} WHERE {cond} ORDER BY u.created_at, u.id LIMIT ${n} OFFSET ${}",
        n + 1
    );
    let mut q = sqlx::query(&sql);
    if let Some(b) = bind {
        q = q.bind(b);
    }
    let limit = if limit < 0 { i64::MAX } else { limit };
    let rows = q.bind(limit).bind(offset).fetch_all(&mut *c).await?;
    rows.iter().map(scim_user_from).collect()
}

/// Everything the directory sets on a user.
#[derive(Debug, Clone)]
pub struct ScimUserFields {
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub upn: Option<String>,
    pub department_id: Option<String>,
    pub external_id: Option<String>,
    pub scim_attributes: serde_json::Value,
    pub active: bool,
}

pub async fn set_scim_fields(
    c: &mut Conn,
    id: &str,
    f: &ScimUserFields,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE users SET login = $2, display_name = $3, email = $4, upn = $5, \
         department_id = $6, external_id = $7, scim_attributes = $8, active = $9, \
         updated_at = $10 WHERE id = $1",
    )
    .bind(id)
    .bind(&f.login)
    .bind(&f.display_name)
    .bind(&f.email)
    .bind(f.upn.clone())
    .bind(f.department_id.clone())
    .bind(f.external_id.clone())
    .bind(f.scim_attributes.to_string())
    .bind(flag(f.active))
    .bind(now)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// The directory deleted the user: the row stays (certificates and history keep it), out of
/// SCIM's sight, deactivated, its login renamed so the name is free again.
pub async fn mark_deleted(c: &mut Conn, id: &str, login: &str, now: i64) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE users SET login = $2, active = 0, deleted_at = $3, updated_at = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(login)
    .bind(now)
    .execute(&mut *c)
    .await?;
    sqlx::query("DELETE FROM scim_group_members WHERE user_id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The role and renewal flag the directory's groups give a user.
pub async fn set_role(
    c: &mut Conn,
    id: &str,
    is_admin: bool,
    reissue_allowed: Option<bool>,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE users SET is_admin = $2, reissue_allowed = $3, updated_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(flag(is_admin))
    .bind(reissue_allowed.map(flag))
    .bind(now)
    .execute(&mut *c)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    pub id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

fn group_from(row: &AnyRow) -> Result<GroupRow, DbError> {
    Ok(GroupRow {
        id: get_str(row, "id")?,
        display_name: get_str(row, "display_name")?,
        external_id: get_opt_str(row, "external_id")?,
        created_at: get_i64(row, "created_at")?,
        updated_at: get_i64(row, "updated_at")?,
    })
}

const GROUP_COLS: &str = "id, display_name, external_id, created_at, updated_at";

pub async fn insert_group(c: &mut Conn, g: &GroupRow) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO scim_groups (id, display_name, external_id, created_at, updated_at) \
         VALUES ($1,$2,$3,$4,$5)",
    )
    .bind(&g.id)
    .bind(&g.display_name)
    .bind(g.external_id.clone())
    .bind(g.created_at)
    .bind(g.updated_at)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn group(c: &mut Conn, id: &str) -> Result<Option<GroupRow>, DbError> {
    let sql = format!("SELECT {GROUP_COLS} FROM scim_groups WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(&mut *c).await?;
    row.as_ref().map(group_from).transpose()
}

/// The group of that name, compared without case.
pub async fn group_by_name(c: &mut Conn, name: &str) -> Result<Option<GroupRow>, DbError> {
    let sql = format!("SELECT {GROUP_COLS} FROM scim_groups WHERE LOWER(display_name) = $1");
    let row = sqlx::query(&sql)
        .bind(name.to_lowercase())
        .fetch_optional(&mut *c)
        .await?;
    row.as_ref().map(group_from).transpose()
}

pub async fn groups(c: &mut Conn) -> Result<Vec<GroupRow>, DbError> {
    let sql = format!("SELECT {GROUP_COLS} FROM scim_groups ORDER BY created_at, id");
    let rows = sqlx::query(&sql).fetch_all(&mut *c).await?;
    rows.iter().map(group_from).collect()
}

pub async fn update_group(c: &mut Conn, g: &GroupRow) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE scim_groups SET display_name = $2, external_id = $3, updated_at = $4 \
         WHERE id = $1",
    )
    .bind(&g.id)
    .bind(&g.display_name)
    .bind(g.external_id.clone())
    .bind(g.updated_at)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn delete_group(c: &mut Conn, id: &str) -> Result<bool, DbError> {
    sqlx::query("DELETE FROM scim_group_members WHERE group_id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    let n = sqlx::query("DELETE FROM scim_groups WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// The members of a group: (user id, login).
pub async fn members(c: &mut Conn, group_id: &str) -> Result<Vec<(String, String)>, DbError> {
    let rows = sqlx::query(
        "SELECT u.id, u.login FROM scim_group_members m JOIN users u ON u.id = m.user_id \
         WHERE m.group_id = $1 ORDER BY u.login",
    )
    .bind(group_id)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| Ok((get_str(r, "id")?, get_str(r, "login")?)))
        .collect()
}

pub async fn add_member(c: &mut Conn, group_id: &str, user_id: &str) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO scim_group_members (group_id, user_id) VALUES ($1,$2) \
         ON CONFLICT DO NOTHING",
    )
    .bind(group_id)
    .bind(user_id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn remove_member(c: &mut Conn, group_id: &str, user_id: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM scim_group_members WHERE group_id = $1 AND user_id = $2")
        .bind(group_id)
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The groups a user belongs to: (group id, display name).
pub async fn groups_of(c: &mut Conn, user_id: &str) -> Result<Vec<(String, String)>, DbError> {
    let rows = sqlx::query(
        "SELECT g.id, g.display_name FROM scim_group_members m \
         JOIN scim_groups g ON g.id = m.group_id WHERE m.user_id = $1 ORDER BY g.display_name",
    )
    .bind(user_id)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| Ok((get_str(r, "id")?, get_str(r, "display_name")?)))
        .collect()
}

/// A SCIM client's bearer token, without the token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScimTokenRow {
    pub id: String,
    pub name: String,
    pub created_by: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

fn token_from(row: &AnyRow) -> Result<ScimTokenRow, DbError> {
    Ok(ScimTokenRow {
        id: get_str(row, "id")?,
        name: get_str(row, "name")?,
        created_by: get_str(row, "created_by")?,
        created_at: get_i64(row, "created_at")?,
        last_used_at: get_opt_i64(row, "last_used_at")?,
        revoked_at: get_opt_i64(row, "revoked_at")?,
    })
}

const TOKEN_COLS: &str = "id, name, created_by, created_at, last_used_at, revoked_at";

pub async fn insert_token(c: &mut Conn, t: &ScimTokenRow, hash: &str) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO scim_tokens (id, name, token_hash, created_by, created_at) \
         VALUES ($1,$2,$3,$4,$5)",
    )
    .bind(&t.id)
    .bind(&t.name)
    .bind(hash)
    .bind(&t.created_by)
    .bind(t.created_at)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn tokens(c: &mut Conn) -> Result<Vec<ScimTokenRow>, DbError> {
    let sql = format!("SELECT {TOKEN_COLS} FROM scim_tokens ORDER BY created_at DESC, id");
    let rows = sqlx::query(&sql).fetch_all(&mut *c).await?;
    rows.iter().map(token_from).collect()
}

/// The unrevoked token with that hash.
pub async fn live_token(c: &mut Conn, hash: &str) -> Result<Option<ScimTokenRow>, DbError> {
    let sql = format!(
        "SELECT {TOKEN_COLS} FROM scim_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
    );
    let row = sqlx::query(&sql).bind(hash).fetch_optional(&mut *c).await?;
    row.as_ref().map(token_from).transpose()
}

pub async fn touch_token(c: &mut Conn, id: &str, now: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE scim_tokens SET last_used_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Revokes a token; `None` if there is no such token, else the token (as it was).
pub async fn revoke_token(
    c: &mut Conn,
    id: &str,
    now: i64,
) -> Result<Option<ScimTokenRow>, DbError> {
    let sql = format!("SELECT {TOKEN_COLS} FROM scim_tokens WHERE id = $1");
    let Some(row) = sqlx::query(&sql).bind(id).fetch_optional(&mut *c).await? else {
        return Ok(None);
    };
    let t = token_from(&row)?;
    if t.revoked_at.is_none() {
        sqlx::query("UPDATE scim_tokens SET revoked_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(&mut *c)
            .await?;
    }
    Ok(Some(t))
}
