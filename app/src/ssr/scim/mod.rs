//! SCIM 2.0 provisioning (RFC 7643, RFC 7644): the company's directory creates, changes,
//! deactivates and deletes users, and keeps groups whose members may carry the administrator
//! role or the renewal flag. Every change is one transaction with its audit row; a user the
//! directory deactivates or deletes is a leaver ([`crate::ssr::admin::leave`]): sessions end,
//! open links stop working and, by the policy's `revoke_on_deactivate` (on by default), every
//! active certificate is revoked `affiliationChanged` with the CRLs republished in the same
//! transaction. The HTTP layer (`server`) only moves JSON in and out of these functions.

pub mod filter;
pub mod json;

use super::audit::{self, action, Actor};
use super::certs::CertError;
use super::db::{self, scim_rows as sr, DbError};
use super::ids;
use super::Services;
use crate::domain::error_code::ErrorCode;
use crate::domain::validate::{DisplayName, Email, InvalidField, Login, TokenName};
use serde_json::{json, Value};

/// A SCIM error (RFC 7644 §3.12): the status, SCIM's `scimType` where one applies, and a
/// detail that names what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {detail}")]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> ScimError {
        ScimError {
            status: 400,
            scim_type: Some(scim_type),
            detail: detail.into(),
        }
    }
    pub fn not_found(what: &str) -> ScimError {
        ScimError {
            status: 404,
            scim_type: None,
            detail: format!("{what} not found"),
        }
    }
    pub fn conflict(detail: impl Into<String>) -> ScimError {
        ScimError {
            status: 409,
            scim_type: Some("uniqueness"),
            detail: detail.into(),
        }
    }
    pub fn unauthorized() -> ScimError {
        ScimError {
            status: 401,
            scim_type: None,
            detail: "a valid bearer token is required".into(),
        }
    }
    /// The body: `urn:…:Error` with the status as a string.
    pub fn body(&self) -> Value {
        let mut v = json!({
            "schemas": [json::ERROR],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            v["scimType"] = json!(t);
        }
        v
    }
    fn internal(e: impl std::fmt::Display) -> ScimError {
        tracing::error!(error = %e, "SCIM request failed");
        ScimError {
            status: 500,
            scim_type: None,
            detail: "internal error; nothing was changed".into(),
        }
    }
}

impl From<DbError> for ScimError {
    fn from(e: DbError) -> Self {
        ScimError::internal(e)
    }
}

impl From<sqlx::Error> for ScimError {
    fn from(e: sqlx::Error) -> Self {
        ScimError::internal(e)
    }
}

impl From<CertError> for ScimError {
    fn from(e: CertError) -> Self {
        match e {
            CertError::Invalid(ErrorCode::LastAdmin) => ScimError {
                status: 409,
                scim_type: None,
                detail: "this would leave the portal without an active administrator".into(),
            },
            other => ScimError::internal(other),
        }
    }
}

impl From<super::services::ServiceError> for ScimError {
    fn from(e: super::services::ServiceError) -> Self {
        ScimError::internal(e)
    }
}

fn field(e: InvalidField) -> ScimError {
    ScimError::bad(
        "invalidValue",
        format!(
            "{}: {}",
            e.field,
            crate::i18n::error_text(crate::i18n::Lang::En, e.code)
        ),
    )
}

/// Which of the directory's groups carry what (settings `scim_admin_groups` and
/// `scim_renewal_groups`, names compared without case). Empty: groups carry nothing and
/// roles stay as administrators set them.
#[derive(Debug, Clone, Default)]
pub struct ScimConfig {
    pub admin_groups: Vec<String>,
    pub renewal_groups: Vec<String>,
}

impl ScimConfig {
    fn names(list: &[String], group: &str) -> bool {
        list.iter().any(|g| g.eq_ignore_ascii_case(group))
    }
}

// ---- tokens -------------------------------------------------------------------------------

/// Makes a bearer token for a SCIM client. Returns it once; only its SHA-256 is kept.
pub async fn create_token(
    s: &Services,
    actor: &Actor,
    name: &str,
) -> Result<(sr::ScimTokenRow, String), CertError> {
    if !actor.is_admin {
        return Err(CertError::Forbidden);
    }
    let name = TokenName::parse(name).map_err(|e| CertError::Invalid(e.code))?;
    let now = s.now();
    let token = format!("scim_{}", ids::new_token());
    let row = sr::ScimTokenRow {
        id: ids::new_id(),
        name: name.as_str().to_string(),
        created_by: actor.label.clone(),
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    let mut tx = s.db.begin().await?;
    sr::insert_token(&mut tx, &row, &ids::token_hash(&token)).await?;
    audit::record(
        &mut tx,
        now,
        actor,
        action::SCIM_TOKEN_CREATE,
        None,
        None,
        None,
        &format!("name={} id={}", row.name, row.id),
    )
    .await?;
    tx.commit().await?;
    Ok((row, token))
}

pub async fn list_tokens(s: &Services, actor: &Actor) -> Result<Vec<sr::ScimTokenRow>, CertError> {
    if !actor.is_admin {
        return Err(CertError::Forbidden);
    }
    let mut c = s.conn().await?;
    Ok(sr::tokens(&mut c).await?)
}

/// Revokes a token: the client using it is refused from the next request on.
pub async fn revoke_token(s: &Services, actor: &Actor, id: &str) -> Result<(), CertError> {
    if !actor.is_admin {
        return Err(CertError::Forbidden);
    }
    let now = s.now();
    let mut tx = s.db.begin().await?;
    let t = sr::revoke_token(&mut tx, id, now)
        .await?
        .ok_or(CertError::NotFound("token"))?;
    if t.revoked_at.is_some() {
        return Ok(());
    }
    audit::record(
        &mut tx,
        now,
        actor,
        action::SCIM_TOKEN_REVOKE,
        None,
        None,
        None,
        &format!("name={} id={}", t.name, t.id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The client behind `Authorization: Bearer …`, as the actor its changes are recorded
/// under (`scim:<token name>`). Records the token's use (at most once a minute).
pub async fn authenticate(
    s: &Services,
    authorization: Option<&str>,
    ip: Option<String>,
) -> Result<Actor, ScimError> {
    let token = authorization
        .and_then(|h| {
            let (scheme, rest) = h.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or_else(ScimError::unauthorized)?;
    let hash = ids::token_hash(token);
    let now = s.now();
    let t = {
        let mut c = s.conn().await?;
        sr::live_token(&mut c, &hash).await?
    }
    .ok_or_else(ScimError::unauthorized)?;
    if t.last_used_at.is_none_or(|at| now - at >= 60) {
        let mut tx = s.db.begin().await?;
        sr::touch_token(&mut tx, &t.id, now).await?;
        tx.commit().await?;
    }
    Ok(Actor {
        user_id: None,
        label: format!("scim:{}", t.name),
        is_admin: true,
        ip,
    })
}

// ---- users --------------------------------------------------------------------------------

/// `{public URL}/scim/v2`
pub fn base(s: &Services) -> String {
    format!("{}/scim/v2", s.public_url)
}

async fn render_user(
    c: &mut db::Conn,
    s: &Services,
    u: &sr::ScimUserRow,
) -> Result<Value, ScimError> {
    let groups = sr::groups_of(c, &u.user.id).await?;
    Ok(json::user(&base(s), u, &groups))
}

pub async fn get_user(s: &Services, id: &str) -> Result<Value, ScimError> {
    let mut c = s.conn().await?;
    let u = sr::scim_user(&mut c, id)
        .await?
        .ok_or_else(|| ScimError::not_found("user"))?;
    render_user(&mut c, s, &u).await
}

/// What a list asks for: a filter, and the page (`startIndex` is 1-based).
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub filter: Option<String>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
    /// `attributes` / `excludedAttributes` (comma-separated paths).
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
}

impl ListQuery {
    /// One resource as the query asks to see it.
    pub fn project(&self, v: Value) -> Result<Value, ScimError> {
        json::project(
            v,
            self.attributes.as_deref(),
            self.excluded_attributes.as_deref(),
        )
    }
    /// The page the query asks for out of every hit.
    fn page_of_all(&self, hits: Vec<Value>) -> Result<Value, ScimError> {
        let (start, count) = page(self);
        let total = hits.len() as i64;
        let out = hits
            .into_iter()
            .skip(usize::try_from(start - 1).unwrap_or(0))
            .take(usize::try_from(count).unwrap_or(0))
            .collect();
        self.page_of(out, total, start)
    }
    fn page_of(&self, hits: Vec<Value>, total: i64, start: i64) -> Result<Value, ScimError> {
        let out = hits
            .into_iter()
            .map(|v| self.project(v))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(json::list(out, total, start))
    }
}

/// The largest page a list returns (ServiceProviderConfig's `filter.maxResults`).
pub const MAX_RESULTS: i64 = 1000;

fn page(q: &ListQuery) -> (i64, i64) {
    let start = q.start_index.unwrap_or(1).max(1);
    let count = q.count.unwrap_or(100).clamp(0, MAX_RESULTS);
    (start, count)
}

fn parse_filter(q: &ListQuery) -> Result<Option<filter::Filter>, ScimError> {
    q.filter
        .as_deref()
        .filter(|f| !f.trim().is_empty())
        .map(|f| {
            filter::parse_filter(f).map_err(|e| ScimError::bad("invalidFilter", e.to_string()))
        })
        .transpose()
}

/// Lists users. `userName eq` and `externalId eq` are looked up in the database; any other
/// filter is evaluated on every user the directory has not deleted.
pub async fn list_users(s: &Services, q: &ListQuery) -> Result<Value, ScimError> {
    let (start, count) = page(q);
    let f = parse_filter(q)?;
    let mut c = s.conn().await?;
    let sel = match f
        .as_ref()
        .map(|f| filter::simple_eq(f, &["userName", "externalId"]))
    {
        None => Some(sr::UserSelection::All),
        Some(Some(("userName", v))) => Some(sr::UserSelection::Login(v)),
        Some(Some((_, v))) => Some(sr::UserSelection::ExternalId(v)),
        Some(None) => None,
    };
    let base = base(s);
    if let Some(sel) = sel {
        let total = sr::count_scim_users(&mut c, sel).await?;
        let rows = sr::scim_users(&mut c, sel, start - 1, count).await?;
        let mut out = Vec::with_capacity(rows.len());
        for u in &rows {
            out.push(render_user(&mut c, s, u).await?);
        }
        return q.page_of(out, total, start);
    }
    let hits = matching_users(&mut c, &base, f.as_ref()).await?;
    q.page_of_all(hits)
}

/// Every user the directory has not deleted that `f` matches, rendered.
async fn matching_users(
    c: &mut db::Conn,
    base: &str,
    f: Option<&filter::Filter>,
) -> Result<Vec<Value>, ScimError> {
    let rows = sr::scim_users(c, sr::UserSelection::All, 0, -1).await?;
    let mut hits = Vec::new();
    for u in &rows {
        let groups = sr::groups_of(c, &u.user.id).await?;
        let v = json::user(base, u, &groups);
        if f.is_none_or(|f| filter::matches(f, &v)) {
            hits.push(v);
        }
    }
    Ok(hits)
}

/// Every group `f` matches, rendered.
async fn matching_groups(
    c: &mut db::Conn,
    base: &str,
    f: Option<&filter::Filter>,
) -> Result<Vec<Value>, ScimError> {
    let mut hits = Vec::new();
    for g in sr::groups(c).await? {
        let members = sr::members(c, &g.id).await?;
        let v = json::group(base, &g, &members);
        if f.is_none_or(|f| filter::matches(f, &v)) {
            hits.push(v);
        }
    }
    Ok(hits)
}

/// `POST /.search` (RFC 7644 §3.4.3): users and groups together.
pub async fn search(s: &Services, body: &Value) -> Result<Value, ScimError> {
    if !get_ci_schema(body, "urn:ietf:params:scim:api:messages:2.0:SearchRequest") {
        return Err(ScimError::bad(
            "invalidValue",
            "schemas must list urn:ietf:params:scim:api:messages:2.0:SearchRequest",
        ));
    }
    let text = |k: &str| -> Result<Option<String>, ScimError> {
        match filter::get_ci(body, k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(t)) => Ok(Some(t.clone())),
            Some(Value::Array(list)) => Ok(Some(
                list.iter()
                    .map(|x| x.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        ScimError::bad("invalidValue", format!("{k} must list strings"))
                    })?
                    .join(","),
            )),
            Some(_) => Err(ScimError::bad(
                "invalidValue",
                format!("{k} must be a list"),
            )),
        }
    };
    let num = |k: &str| -> Result<Option<i64>, ScimError> {
        match filter::get_ci(body, k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| {
                ScimError::bad("invalidValue", format!("{k} must be a whole number"))
            }),
        }
    };
    let q = ListQuery {
        filter: text("filter")?,
        start_index: num("startIndex")?,
        count: num("count")?,
        attributes: text("attributes")?,
        excluded_attributes: text("excludedAttributes")?,
    };
    let f = parse_filter(&q)?;
    let mut c = s.conn().await?;
    let base = base(s);
    let mut hits = matching_users(&mut c, &base, f.as_ref()).await?;
    hits.extend(matching_groups(&mut c, &base, f.as_ref()).await?);
    q.page_of_all(hits)
}

fn get_ci_schema(body: &Value, schema: &str) -> bool {
    filter::get_ci(body, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(schema)))
}

/// The fields to store, checked as the portal's own forms check them.
fn fields(
    c_in: &json::UserIn,
    department_id: Option<String>,
    upn: Option<String>,
) -> Result<sr::ScimUserFields, ScimError> {
    let login = Login::parse(&c_in.user_name).map_err(field)?;
    let joined = match (&c_in.given_name, &c_in.family_name) {
        (Some(g), Some(f)) => Some(format!("{g} {f}")),
        (Some(n), None) | (None, Some(n)) => Some(n.clone()),
        (None, None) => None,
    };
    let display = c_in
        .display_name
        .clone()
        .or_else(|| c_in.formatted.clone())
        .or(joined)
        .unwrap_or_else(|| login.as_str().to_string());
    let display_name = DisplayName::parse(&display).map_err(field)?;
    // A directory that sends no e-mail may name users by address; else the user has none
    // (their certificates then carry no rfc822Name, and no reminder is mailed).
    let email = match &c_in.email {
        Some(e) => Email::parse(e).map_err(field)?.as_str().to_string(),
        None => Email::parse(login.as_str())
            .map(|e| e.as_str().to_string())
            .unwrap_or_default(),
    };
    Ok(sr::ScimUserFields {
        login: login.as_str().to_string(),
        display_name: display_name.as_str().to_string(),
        email,
        upn,
        department_id,
        external_id: c_in.external_id.clone(),
        scim_attributes: c_in.sent.clone(),
        active: c_in.active,
    })
}

/// A write refused because another request took `login` first (their check and ours both saw
/// it free): 409 `uniqueness`, as when the check sees it taken; any other error as it is.
fn taken_or(e: DbError, login: &str) -> ScimError {
    if e.is_unique_violation() {
        ScimError::conflict(format!("userName {login} is taken"))
    } else {
        e.into()
    }
}

fn department(c_in: &json::UserIn) -> Result<Option<String>, ScimError> {
    super::auth::department_path(c_in.department.as_deref()).map_err(field)
}

async fn department_id(c: &mut db::Conn, path: Option<&str>) -> Result<Option<String>, ScimError> {
    match path {
        None => Ok(None),
        Some(p) => Ok(db::users::department_id(c, p).await?),
    }
}

/// Creates a user (no password: they sign in through the company's provider, or with an
/// activation link an administrator makes).
pub async fn create_user(s: &Services, actor: &Actor, body: &Value) -> Result<Value, ScimError> {
    let input = json::user_in(body)?;
    let dept = department(&input)?;
    let f = fields(&input, None, None)?;
    let now = s.now();
    let mut tx = s.db.begin().await?;
    if db::user_by_login(&mut tx, &f.login).await?.is_some() {
        return Err(ScimError::conflict(format!(
            "userName {} is taken",
            f.login
        )));
    }
    let f = sr::ScimUserFields {
        department_id: department_id(&mut tx, dept.as_deref()).await?,
        ..f
    };
    let id = ids::new_id();
    db::insert_user(
        &mut tx,
        &id,
        &db::NewUser {
            login: f.login.clone(),
            display_name: f.display_name.clone(),
            email: f.email.clone(),
            upn: None,
            department_id: f.department_id.clone(),
            is_admin: false,
            password_hash: None,
        },
        now,
    )
    .await
    .map_err(|e| taken_or(e, &f.login))?;
    sr::set_scim_fields(&mut tx, &id, &f, now).await?;
    audit::record(
        &mut tx,
        now,
        actor,
        action::USER_CREATE,
        Some(&id),
        None,
        None,
        &format!("login={} active={} via=scim", f.login, f.active),
    )
    .await?;
    let u = sr::scim_user(&mut tx, &id)
        .await?
        .ok_or_else(|| ScimError::internal("created user vanished"))?;
    let v = render_user(&mut tx, s, &u).await?;
    tx.commit().await?;
    Ok(v)
}

/// A change of an existing resource: the whole resource (PUT), or PATCH operations applied
/// to the resource as served (inside the same transaction, so that two PATCHes never lose one
/// another's change), then stored as the equivalent PUT.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    Replace(&'a Value),
    Patch(&'a Value),
}

/// Changes a user (PUT or PATCH).
pub async fn change_user(
    s: &Services,
    actor: &Actor,
    id: &str,
    change: Change<'_>,
) -> Result<Value, ScimError> {
    let now = s.now();
    let mut tx = s.db.begin().await?;
    // A deactivation may take an administrator away: the `admins` lock first, as everywhere.
    db::lock_named(&mut tx, "admins").await?;
    db::lock_user(&mut tx, id).await?;
    let before = sr::scim_user(&mut tx, id)
        .await?
        .ok_or_else(|| ScimError::not_found("user"))?;
    let input = match change {
        Change::Replace(body) => json::user_in(body)?,
        Change::Patch(body) => {
            let mut current = render_user(&mut tx, s, &before).await?;
            json::apply_patch(&mut current, body)?;
            json::user_in(&current)?
        }
    };
    let dept = department(&input)?;
    let f = fields(&input, None, before.user.upn.clone())?;
    if f.login != before.user.login && db::user_by_login(&mut tx, &f.login).await?.is_some() {
        return Err(ScimError::conflict(format!(
            "userName {} is taken",
            f.login
        )));
    }
    let f = sr::ScimUserFields {
        department_id: department_id(&mut tx, dept.as_deref()).await?,
        ..f
    };
    let mut changed = Vec::new();
    let b = &before.user;
    for (name, old, new) in [
        ("login", Some(b.login.as_str()), Some(f.login.as_str())),
        (
            "display_name",
            Some(b.display_name.as_str()),
            Some(f.display_name.as_str()),
        ),
        ("email", Some(b.email.as_str()), Some(f.email.as_str())),
        ("department", before.department.as_deref(), dept.as_deref()),
        (
            "external_id",
            before.external_id.as_deref(),
            f.external_id.as_deref(),
        ),
    ] {
        if old != new {
            changed.push(format!("{name}={}", new.unwrap_or("")));
        }
    }
    if before.scim_attributes.as_ref() != Some(&f.scim_attributes) && changed.is_empty() {
        changed.push("attributes".to_string());
    }
    if b.active != f.active {
        changed.push(format!("active={}", f.active));
    }
    if b.active
        && !f.active
        && b.is_admin
        && db::admin_rows::count_active_admins(&mut tx).await? <= 1
    {
        return Err(CertError::Invalid(ErrorCode::LastAdmin).into());
    }
    sr::set_scim_fields(&mut tx, id, &f, now)
        .await
        .map_err(|e| taken_or(e, &f.login))?;
    if b.active && !f.active {
        let revoke = s.policy(&mut tx).await?.revoke_on_deactivate;
        changed.extend(super::admin::leave(&mut tx, s, actor, id, revoke, now).await?);
    }
    if !changed.is_empty() {
        changed.push("via=scim".into());
        audit::record(
            &mut tx,
            now,
            actor,
            action::USER_UPDATE,
            Some(id),
            None,
            None,
            &changed.join(" "),
        )
        .await?;
    }
    let u = sr::scim_user(&mut tx, id)
        .await?
        .ok_or_else(|| ScimError::internal("updated user vanished"))?;
    let v = render_user(&mut tx, s, &u).await?;
    tx.commit().await?;
    Ok(v)
}

/// The directory deleted the user: a leaver (as a deactivation), then out of the directory's
/// sight; the row, certificates and history stay for administrators, the login is freed.
pub async fn delete_user(s: &Services, actor: &Actor, id: &str) -> Result<(), ScimError> {
    let now = s.now();
    let mut tx = s.db.begin().await?;
    db::lock_named(&mut tx, "admins").await?;
    db::lock_user(&mut tx, id).await?;
    let before = sr::scim_user(&mut tx, id)
        .await?
        .ok_or_else(|| ScimError::not_found("user"))?;
    let b = &before.user;
    if b.active && b.is_admin && db::admin_rows::count_active_admins(&mut tx).await? <= 1 {
        return Err(CertError::Invalid(ErrorCode::LastAdmin).into());
    }
    let mut changed = vec![format!("login={}", b.login)];
    if b.active {
        let revoke = s.policy(&mut tx).await?.revoke_on_deactivate;
        changed.extend(super::admin::leave(&mut tx, s, actor, id, revoke, now).await?);
    }
    let renamed = format!("{}~deleted-{}", b.login, &ids::new_id()[..8]);
    sr::mark_deleted(&mut tx, id, &renamed, now).await?;
    changed.push("via=scim".into());
    audit::record(
        &mut tx,
        now,
        actor,
        action::USER_DELETE,
        Some(id),
        None,
        None,
        &changed.join(" "),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---- groups -------------------------------------------------------------------------------

async fn render_group(
    c: &mut db::Conn,
    s: &Services,
    g: &sr::GroupRow,
) -> Result<Value, ScimError> {
    let members = sr::members(c, &g.id).await?;
    Ok(json::group(&base(s), g, &members))
}

pub async fn get_group(s: &Services, id: &str) -> Result<Value, ScimError> {
    let mut c = s.conn().await?;
    let g = sr::group(&mut c, id)
        .await?
        .ok_or_else(|| ScimError::not_found("group"))?;
    render_group(&mut c, s, &g).await
}

pub async fn list_groups(s: &Services, q: &ListQuery) -> Result<Value, ScimError> {
    let f = parse_filter(q)?;
    let mut c = s.conn().await?;
    let hits = matching_groups(&mut c, &base(s), f.as_ref()).await?;
    q.page_of_all(hits)
}

fn group_name(name: &str) -> Result<String, ScimError> {
    TokenName::parse(name)
        .map(|n| n.as_str().to_string())
        .map_err(|_| {
            ScimError::bad(
                "invalidValue",
                "displayName: 1 to 64 characters, no control characters",
            )
        })
}

pub async fn create_group(s: &Services, actor: &Actor, body: &Value) -> Result<Value, ScimError> {
    let input = json::group_in(body)?;
    let name = group_name(&input.display_name)?;
    let now = s.now();
    let mut tx = s.db.begin().await?;
    db::lock_named(&mut tx, "admins").await?;
    if sr::group_by_name(&mut tx, &name).await?.is_some() {
        return Err(ScimError::conflict(format!("a group named {name} exists")));
    }
    let g = sr::GroupRow {
        id: ids::new_id(),
        display_name: name,
        external_id: input.external_id.clone(),
        created_at: now,
        updated_at: now,
    };
    sr::insert_group(&mut tx, &g).await?;
    audit::record(
        &mut tx,
        now,
        actor,
        action::GROUP_CHANGE,
        None,
        None,
        None,
        &format!("created group={}", g.display_name),
    )
    .await?;
    set_members(&mut tx, s, actor, &g, None, &input.members, now).await?;
    let v = render_group(&mut tx, s, &g).await?;
    tx.commit().await?;
    Ok(v)
}

/// Changes a group (PUT or PATCH).
pub async fn change_group(
    s: &Services,
    actor: &Actor,
    id: &str,
    change: Change<'_>,
) -> Result<Value, ScimError> {
    let now = s.now();
    let mut tx = s.db.begin().await?;
    db::lock_named(&mut tx, "admins").await?;
    let before = sr::group(&mut tx, id)
        .await?
        .ok_or_else(|| ScimError::not_found("group"))?;
    let input = match change {
        Change::Replace(body) => json::group_in(body)?,
        Change::Patch(body) => {
            let mut current = render_group(&mut tx, s, &before).await?;
            json::apply_patch(&mut current, body)?;
            json::group_in(&current)?
        }
    };
    let name = group_name(&input.display_name)?;
    if !name.eq_ignore_ascii_case(&before.display_name)
        && sr::group_by_name(&mut tx, &name).await?.is_some()
    {
        return Err(ScimError::conflict(format!("a group named {name} exists")));
    }
    let g = sr::GroupRow {
        display_name: name,
        external_id: input.external_id.clone(),
        updated_at: now,
        ..before.clone()
    };
    sr::update_group(&mut tx, &g).await?;
    if g.display_name != before.display_name {
        audit::record(
            &mut tx,
            now,
            actor,
            action::GROUP_CHANGE,
            None,
            None,
            None,
            &format!(
                "renamed group={} to={}",
                before.display_name, g.display_name
            ),
        )
        .await?;
    }
    set_members(
        &mut tx,
        s,
        actor,
        &g,
        Some(&before.display_name),
        &input.members,
        now,
    )
    .await?;
    let v = render_group(&mut tx, s, &g).await?;
    tx.commit().await?;
    Ok(v)
}

pub async fn delete_group(s: &Services, actor: &Actor, id: &str) -> Result<(), ScimError> {
    let now = s.now();
    let mut tx = s.db.begin().await?;
    db::lock_named(&mut tx, "admins").await?;
    let g = sr::group(&mut tx, id)
        .await?
        .ok_or_else(|| ScimError::not_found("group"))?;
    set_members(&mut tx, s, actor, &g, Some(&g.display_name), &[], now).await?;
    sr::delete_group(&mut tx, id).await?;
    audit::record(
        &mut tx,
        now,
        actor,
        action::GROUP_CHANGE,
        None,
        None,
        None,
        &format!("deleted group={}", g.display_name),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Makes the group's members exactly `wanted` (user ids), then gives every user who joined or
/// left the role and renewal flag their groups now carry (audited per user when it changes).
/// The caller holds the `admins` lock.
async fn set_members(
    tx: &mut db::Conn,
    s: &Services,
    actor: &Actor,
    g: &sr::GroupRow,
    old_name: Option<&str>,
    wanted: &[String],
    now: i64,
) -> Result<(), ScimError> {
    let have: Vec<String> = sr::members(tx, &g.id)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    for id in wanted {
        if sr::scim_user(tx, id).await?.is_none() {
            return Err(ScimError::bad(
                "invalidValue",
                format!("members: no user has the id {id}"),
            ));
        }
    }
    let joined: Vec<&String> = wanted.iter().filter(|id| !have.contains(id)).collect();
    let left: Vec<&String> = have.iter().filter(|id| !wanted.contains(id)).collect();
    for id in &joined {
        sr::add_member(tx, &g.id, id).await?;
    }
    for id in &left {
        sr::remove_member(tx, &g.id, id).await?;
    }
    if joined.is_empty() && left.is_empty() {
        return Ok(());
    }
    audit::record(
        tx,
        now,
        actor,
        action::GROUP_CHANGE,
        None,
        None,
        None,
        &format!(
            "group={} joined={} left={}",
            g.display_name,
            joined.len(),
            left.len()
        ),
    )
    .await?;
    let cfg = &s.scim;
    let carries = |name: &str| {
        ScimConfig::names(&cfg.admin_groups, name) || ScimConfig::names(&cfg.renewal_groups, name)
    };
    if !carries(&g.display_name) && !old_name.is_some_and(carries) {
        return Ok(());
    }
    for id in joined.into_iter().chain(left) {
        apply_groups(tx, s, actor, id, now).await?;
    }
    Ok(())
}

/// Gives a user the role and renewal flag their groups carry, when the settings name such
/// groups; audited when it changes. Refuses to take the last active administrator away.
async fn apply_groups(
    tx: &mut db::Conn,
    s: &Services,
    actor: &Actor,
    user_id: &str,
    now: i64,
) -> Result<(), ScimError> {
    let cfg = &s.scim;
    db::lock_user(tx, user_id).await?;
    let Some(u) = sr::scim_user(tx, user_id).await? else {
        return Ok(());
    };
    let groups = sr::groups_of(tx, user_id).await?;
    let in_any = |list: &[String]| groups.iter().any(|(_, n)| ScimConfig::names(list, n));
    let is_admin = if cfg.admin_groups.is_empty() {
        u.user.is_admin
    } else {
        in_any(&cfg.admin_groups)
    };
    let reissue = if cfg.renewal_groups.is_empty() {
        u.user.reissue_allowed
    } else {
        Some(in_any(&cfg.renewal_groups))
    };
    if is_admin == u.user.is_admin && reissue == u.user.reissue_allowed {
        return Ok(());
    }
    if u.user.is_admin
        && !is_admin
        && u.user.active
        && db::admin_rows::count_active_admins(tx).await? <= 1
    {
        return Err(CertError::Invalid(ErrorCode::LastAdmin).into());
    }
    sr::set_role(tx, user_id, is_admin, reissue, now).await?;
    let mut changed = Vec::new();
    if is_admin != u.user.is_admin {
        changed.push(format!("is_admin={is_admin}"));
    }
    if reissue != u.user.reissue_allowed {
        changed.push(format!(
            "reissue_allowed={}",
            reissue.map_or("default".to_string(), |b| b.to_string())
        ));
    }
    changed.push("via=scim groups".into());
    audit::record(
        tx,
        now,
        actor,
        action::USER_UPDATE,
        Some(user_id),
        None,
        None,
        &changed.join(" "),
    )
    .await?;
    Ok(())
}

// ---- what the service offers (RFC 7644 §4) ------------------------------------------------

pub fn service_provider_config(s: &Services) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": format!("{}/", s.public_url),
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A token an administrator made on the portal's settings page or with `certportal scim token create`",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", base(s)),
        },
    })
}

fn attr(name: &str, kind: &str, required: bool, mutability: &str, uniqueness: &str) -> Value {
    json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": name,
        "required": required,
        "caseExact": false,
        "mutability": mutability,
        "returned": "default",
        "uniqueness": uniqueness,
    })
}

/// `attribute` with one more property.
fn with(mut attribute: Value, key: &str, value: Value) -> Value {
    attribute[key] = value;
    attribute
}

fn complex(name: &str, multi: bool, sub: Vec<Value>, mutability: &str) -> Value {
    json!({
        "name": name,
        "type": "complex",
        "multiValued": multi,
        "description": name,
        "required": false,
        "mutability": mutability,
        "returned": "default",
        "uniqueness": "none",
        "subAttributes": sub,
    })
}

/// The schemas: only the attributes the portal keeps.
pub fn schemas(s: &Services) -> Vec<Value> {
    let rw = "readWrite";
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": json::USER,
        "name": "User",
        "description": "A person who may hold certificates",
        "attributes": [
            attr("userName", "string", true, rw, "server"),
            complex("name", false, vec![
                attr("formatted", "string", false, rw, "none"),
                attr("familyName", "string", false, rw, "none"),
                attr("givenName", "string", false, rw, "none"),
            ], rw),
            attr("displayName", "string", false, rw, "none"),
            attr("active", "boolean", false, rw, "none"),
            complex("emails", true, vec![
                attr("value", "string", false, rw, "none"),
                with(attr("type", "string", false, rw, "none"), "canonicalValues", json!(["work", "home", "other"])),
                attr("primary", "boolean", false, rw, "none"),
            ], rw),
            complex("groups", true, vec![
                attr("value", "string", false, "readOnly", "none"),
                with(attr("$ref", "reference", false, "readOnly", "none"), "referenceTypes", json!(["Group"])),
                attr("display", "string", false, "readOnly", "none"),
            ], "readOnly"),
        ],
        "meta": {"resourceType": "Schema", "location": format!("{}/Schemas/{}", base(s), json::USER)},
    });
    let enterprise = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": json::ENTERPRISE,
        "name": "EnterpriseUser",
        "description": "The department, as a path (Sales/Tokyo) of the portal's department tree",
        "attributes": [attr("department", "string", false, rw, "none")],
        "meta": {"resourceType": "Schema", "location": format!("{}/Schemas/{}", base(s), json::ENTERPRISE)},
    });
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": json::GROUP,
        "name": "Group",
        "description": "A group of the directory; settings name the groups that carry the administrator role or renewal",
        "attributes": [
            attr("displayName", "string", true, rw, "server"),
            complex("members", true, vec![
                attr("value", "string", false, "immutable", "none"),
                with(attr("$ref", "reference", false, "immutable", "none"), "referenceTypes", json!(["User"])),
                with(attr("type", "string", false, "immutable", "none"), "canonicalValues", json!(["User"])),
            ], rw),
        ],
        "meta": {"resourceType": "Schema", "location": format!("{}/Schemas/{}", base(s), json::GROUP)},
    });
    vec![user, enterprise, group]
}

pub fn resource_types(s: &Services) -> Vec<Value> {
    vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "User Account",
            "schema": json::USER,
            "schemaExtensions": [{"schema": json::ENTERPRISE, "required": false}],
            "meta": {"resourceType": "ResourceType", "location": format!("{}/ResourceTypes/User", base(s))},
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "Group",
            "schema": json::GROUP,
            "meta": {"resourceType": "ResourceType", "location": format!("{}/ResourceTypes/Group", base(s))},
        }),
    ]
}
