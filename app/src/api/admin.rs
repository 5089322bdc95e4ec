//! Administrators' server functions (the admin console). Every one starts with
//! `require_admin` (rule 11); `tests/it/admin.rs` calls each of them as a plain user.
// A server function takes one argument per form field (the settings form has eleven).
#![allow(clippy::too_many_arguments)]

use super::AppError;
use crate::domain::error_code::ErrorCode;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One CA as the revocation view shows it: its certificate, the CRL it publishes and whether
/// the OCSP responder can sign for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaRevocation {
    pub id: String,
    pub subject: String,
    pub fingerprint: String,
    pub not_before: i64,
    pub not_after: i64,
    pub current: bool,
    pub retired_at: Option<i64>,
    /// Certificates of this CA in state `issued` (valid or expired).
    pub issued: i64,
    pub crl_number: i64,
    pub crl_this_update: Option<i64>,
    pub crl_next_update: Option<i64>,
    /// Entries in the published CRL (read from the signed CRL itself).
    pub crl_entries: Option<i64>,
    pub crl_url: String,
    pub crl_pem_url: String,
    /// Whether the responder has this CA's key unlocked and can sign answers for it.
    pub ocsp_ready: bool,
}

/// The OCSP responder's state in this portal process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OcspState {
    pub url: String,
    pub response_ttl_secs: i64,
    pub good: u64,
    pub revoked: u64,
    pub unknown: u64,
    pub malformed: u64,
    pub unauthorized: u64,
    pub errors: u64,
    pub last_answer_at: Option<i64>,
}

/// Revocation status: every CA with its CRL, and the OCSP responder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationStatus {
    pub now: i64,
    pub cas: Vec<CaRevocation>,
    pub ocsp: OcspState,
}

/// Every CA (current first, then newest) with its CRL and OCSP state.
#[server(endpoint = "admin_revocation_status")]
pub async fn admin_revocation_status() -> Result<RevocationStatus, AppError> {
    let s = super::services()?;
    super::auth::session::require_admin(&s).await?;
    crate::ssr::read::revocation_status(&s).await
}

/// One user in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryUser {
    pub id: String,
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub department: Option<String>,
    pub is_admin: bool,
    pub active: bool,
    /// `None`: the global default applies.
    pub reissue_allowed: Option<bool>,
    pub status: crate::domain::directory::UserCertStatus,
    /// The newest certificate's end, where the status shows it.
    pub not_after: Option<i64>,
    /// Has used the activation link (set a password or added a passkey).
    pub activated: bool,
}

/// A page of the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryPage {
    pub users: Vec<DirectoryUser>,
    /// How many users match; with `more`, how many were counted (a search is counted up to
    /// the thousand past the page's end).
    pub total: i64,
    /// More users than `total` match.
    pub more: bool,
    pub page: i64,
    pub page_size: i64,
    pub departments: Vec<String>,
    /// The default expiry of a new certificate (`YYYY-MM-DD`, policy default validity).
    pub default_not_after: String,
}

/// Users per directory page.
pub const PAGE_SIZE: i64 = 50;

/// The admin directory: search by login or display name, a department (with its
/// sub-departments), a certificate status, and a page number (from 0).
#[server(endpoint = "admin_directory")]
pub async fn admin_directory(
    q: Option<String>,
    department: Option<String>,
    status: Option<String>,
    page: Option<i64>,
) -> Result<DirectoryPage, AppError> {
    use super::auth::session;
    use crate::domain::directory::UserCertStatus;
    use crate::ssr::db::admin_rows::{self, DirectoryQuery};
    let s = super::services()?;
    session::require_admin(&s).await?;
    let status = match status.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some(code) => Some(
            UserCertStatus::from_code(code)
                .ok_or_else(|| AppError::field(ErrorCode::InvalidStatus, "status"))?,
        ),
    };
    let text = q.unwrap_or_default();
    if text.chars().count() > 128 {
        return Err(AppError::field(ErrorCode::InvalidSearch, "q"));
    }
    let page = page.unwrap_or(0).clamp(0, 1_000_000);
    let query = DirectoryQuery {
        text,
        department: department.filter(|d| !d.is_empty()),
        status,
        offset: page * PAGE_SIZE,
        limit: PAGE_SIZE,
    };
    let now = s.now();
    let mut c = s.conn().await?;
    let (rows, matches) = admin_rows::directory(&mut c, &query, now).await?;
    let shown = &s.shown;
    let departments = shown
        .departments
        .get(&s.db, admin_rows::department_paths(&mut c))
        .await?;
    let users = rows
        .into_iter()
        .map(|r| crate::ssr::read::directory_user(r, now))
        .collect();
    let policy = shown.policy.get(&s.db, s.policy(&mut c)).await?;
    Ok(DirectoryPage {
        users,
        total: matches.total,
        more: matches.more,
        page,
        page_size: PAGE_SIZE,
        departments,
        default_not_after: crate::i18n::fmt_date(now + policy.default_validity_days * 86_400),
    })
}

/// The selected users (for the revocation confirmation page), in the order given.
#[server(endpoint = "admin_users_by_id")]
pub async fn admin_users_by_id(users: Option<Vec<String>>) -> Result<Vec<DirectoryUser>, AppError> {
    use super::auth::session;
    use crate::ssr::db::admin_rows;
    let s = super::services()?;
    session::require_admin(&s).await?;
    let ids = selected(users)?;
    let now = s.now();
    let mut c = s.conn().await?;
    let mut out = Vec::new();
    for id in ids {
        if let Some(r) = admin_rows::directory_row(&mut c, &id).await? {
            out.push(crate::ssr::read::directory_user(r, now));
        }
    }
    Ok(out)
}

/// The result of a bulk action for one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserResult {
    pub user_id: String,
    pub login: String,
    /// `None` when it worked; the stable error code otherwise.
    pub error: Option<ErrorCode>,
    /// What happened, for logs and scripts (e.g. "2 revoked"), or the error code.
    pub detail: String,
    /// How many certificates were revoked (bulk revoke).
    pub count: Option<usize>,
}

#[cfg(feature = "ssr")]
fn user_result<T>(
    o: crate::ssr::admin::UserOutcome<T>,
    detail: impl Fn(&T) -> (String, Option<usize>),
) -> UserResult {
    match o.result {
        Ok(v) => {
            let (detail, count) = detail(&v);
            UserResult {
                user_id: o.user_id,
                login: o.login,
                error: None,
                detail,
                count,
            }
        }
        Err(e) => {
            let app: AppError = e.into();
            UserResult {
                user_id: o.user_id,
                login: o.login,
                error: Some(app.code),
                detail: app.code.as_str().to_string(),
                count: None,
            }
        }
    }
}

/// A revocation reason an administrator may give (RFC 5280; `superseded` is for renewals).
#[cfg(feature = "ssr")]
fn admin_reason(code: &str) -> Result<crate::domain::lifecycle::RevocationReason, AppError> {
    use crate::domain::lifecycle::{ReasonGiver, RevocationReason};
    RevocationReason::chosen(code, ReasonGiver::Admin)
        .map_err(|_| AppError::field(ErrorCode::InvalidReason, "reason"))
}

/// Rule 8: the administrator's password in this request confirms them; otherwise a password
/// or passkey check in the last 5 minutes must be on the session.
#[cfg(feature = "ssr")]
pub async fn confirm_admin(
    s: &crate::ssr::Services,
    a: &mut crate::ssr::auth::Authenticated,
    password: Option<String>,
) -> Result<(), AppError> {
    if let Some(pw) = password.filter(|p| !p.is_empty()) {
        crate::ssr::auth::reauth_with_password(s, a, &pw).await?;
        a.session.reauth_at = Some(s.now());
    }
    Ok(crate::ssr::auth::require_recent_auth(a, s.now())?)
}

/// The users of a bulk form: at least one, at most 500, no duplicates.
#[cfg(feature = "ssr")]
fn selected(users: Option<Vec<String>>) -> Result<Vec<String>, AppError> {
    let mut v = users.unwrap_or_default();
    v.retain(|u| !u.trim().is_empty());
    let mut seen = std::collections::HashSet::new();
    v.retain(|u| seen.insert(u.clone()));
    if v.is_empty() {
        return Err(AppError::field(ErrorCode::NothingSelected, "users"));
    }
    if v.len() > 500 {
        return Err(AppError::field(ErrorCode::TooMany, "users"));
    }
    Ok(v)
}

/// An optional `YYYY-MM-DD` end date; the policy checks the range (rule 12).
#[cfg(feature = "ssr")]
pub(crate) fn end_date(text: Option<String>) -> Result<Option<i64>, AppError> {
    match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => crate::domain::validate::end_of_day(t)
            .map(Some)
            .ok_or_else(|| AppError::field(ErrorCode::InvalidNotAfter, "not_after")),
    }
}

/// For a no-JavaScript form post: back to the directory with the per-user results in the
/// query (`result=login:ok,login:code`).
#[cfg(feature = "ssr")]
fn finish_bulk(
    action: &str,
    back: Option<String>,
    refused: Refused,
    result: Result<Vec<UserResult>, AppError>,
) -> Result<Vec<UserResult>, AppError> {
    if super::is_plain_form_post() {
        let mut back = crate::web::safe_back(back.as_deref(), "/admin/users", "/admin/users");
        // A refused run comes back to its form as it was (the password aside).
        match (&result, refused) {
            (Err(_), Refused::Keep(kept)) => {
                back.push(if back.contains('?') { '&' } else { '?' });
                back.push_str(&kept);
            }
            (Err(_), Refused::At(page)) => back = page,
            _ => {}
        }
        let sep = if back.contains('?') { '&' } else { '?' };
        let target = match &result {
            Ok(rows) => {
                let list: Vec<String> = rows
                    .iter()
                    .map(|r| match (&r.error, r.count) {
                        (Some(code), _) => format!("{}:{code}", r.login),
                        (None, Some(n)) => format!("{}:ok.{n}", r.login),
                        (None, None) => format!("{}:ok", r.login),
                    })
                    .collect();
                format!("{back}{sep}done={action}&result={}", list.join(","))
            }
            Err(e) => crate::web::with_error(&back, e),
        };
        crate::web::redirect(&target);
    }
    result
}

/// Where a refused bulk run sends the browser back to (without JavaScript every form posts).
#[cfg(feature = "ssr")]
enum Refused {
    /// The directory page it came from, with these query pairs: what the form held.
    Keep(String),
    /// Another page of ours (the revocation page with its users).
    At(String),
}

/// What the directory's bulk form held, as query pairs (never the password).
#[cfg(feature = "ssr")]
fn kept_form(users: &Option<Vec<String>>, remove: bool, end: Option<&str>) -> String {
    use crate::web::percent_encode as enc;
    let ids: Vec<String> = users
        .iter()
        .flatten()
        .take(PAGE_SIZE as usize)
        .cloned()
        .collect();
    format!(
        "keep={}&remove={}&end={}",
        enc(&ids.join(",")),
        u8::from(remove),
        enc(end.unwrap_or_default())
    )
}

/// The revocation page for these users.
#[cfg(feature = "ssr")]
fn revoke_page(users: &Option<Vec<String>>) -> String {
    use crate::web::percent_encode as enc;
    let pairs: Vec<String> = users
        .iter()
        .flatten()
        .take(500)
        .map(|u| format!("users[]={}", enc(u)))
        .collect();
    format!("/admin/revoke?{}", pairs.join("&"))
}

/// Bulk create (rule 2): a `ready` enrollment for each selected user, optionally removing
/// their existing certificates first, with an optional end date. One transaction per user;
/// the results say who failed and why.
#[server(endpoint = "admin_bulk_create")]
pub async fn admin_bulk_create(
    users: Option<Vec<String>>,
    not_after: Option<String>,
    remove_existing: Option<String>,
    password: Option<String>,
    back: Option<String>,
) -> Result<Vec<UserResult>, AppError> {
    use super::auth::session;
    let kept = kept_form(
        &users,
        crate::web::is_checked(remove_existing.as_deref()),
        not_after.as_deref(),
    );
    let result = async {
        let s = super::services()?;
        let mut a = session::require_admin(&s).await?;
        let users = selected(users)?;
        let not_after = end_date(not_after)?;
        crate::ssr::admin::check_end_date(&s, not_after).await?;
        let remove = crate::web::is_checked(remove_existing.as_deref());
        // "Remove existing" revokes: rule 8 like every other administrator revocation.
        if remove {
            confirm_admin(&s, &mut a, password).await?;
        }
        let out = crate::ssr::admin::bulk_create(&s, &a.actor(), &users, not_after, remove).await;
        Ok(out
            .into_iter()
            .map(|o| user_result(o, |_| ("ready".to_string(), None)))
            .collect())
    }
    .await;
    finish_bulk("create", back, Refused::Keep(kept), result)
}

/// Bulk revoke (rule 8): every active certificate of each selected user, with an RFC 5280
/// reason, after a confirmation — the admin's password in this request, or a password or
/// passkey check in the last 5 minutes. Final (rule 1).
#[server(endpoint = "admin_bulk_revoke")]
pub async fn admin_bulk_revoke(
    users: Option<Vec<String>>,
    reason: String,
    password: Option<String>,
    back: Option<String>,
) -> Result<Vec<UserResult>, AppError> {
    use super::auth::session;
    let page = revoke_page(&users);
    let result = async {
        let s = super::services()?;
        let mut a = session::require_admin(&s).await?;
        let users = selected(users)?;
        let reason = admin_reason(&reason)?;
        confirm_admin(&s, &mut a, password).await?;
        let out = crate::ssr::admin::bulk_revoke(&s, &a.actor(), &users, reason).await;
        Ok(out
            .into_iter()
            .map(|o| user_result(o, |n| (format!("{n} revoked"), Some(*n))))
            .collect())
    }
    .await;
    finish_bulk("revoke", back, Refused::At(page), result)
}

/// The form of `POST /admin/create-download`. Not `Debug`: it may carry the password.
#[derive(Clone, Default)]
pub struct CreateDownloadForm {
    pub users: Vec<String>,
    pub not_after: Option<String>,
    pub remove_existing: bool,
    /// Rule 8's confirmation, needed with `remove_existing`.
    pub password: Option<String>,
}

impl CreateDownloadForm {
    /// From the urlencoded pairs (`users[]` repeats, which a struct cannot say to serde).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut f = CreateDownloadForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "users[]" | "users" => f.users.push(v),
                "not_after" => f.not_after = Some(v),
                "remove_existing" => f.remove_existing = crate::web::is_checked(Some(&v)),
                "password" => f.password = Some(v),
                _ => {}
            }
        }
        f
    }
}

/// "Create & Download" (rule 2, seed 001) for the plain HTTP route
/// `POST /admin/create-download`, for a signed-in administrator: signs a bundle at once for
/// each selected user and returns a ZIP's entries — `<login>.p12` each, `PINS.csv` and
/// `RESULTS.csv`.
#[cfg(feature = "ssr")]
pub async fn create_and_download(
    s: &crate::ssr::Services,
    admin: &mut crate::ssr::auth::Authenticated,
    form: CreateDownloadForm,
) -> Result<Vec<(String, Vec<u8>)>, AppError> {
    use crate::ssr::admin;
    let users = selected(Some(form.users))?;
    let not_after = end_date(form.not_after)?;
    admin::check_end_date(s, not_after).await?;
    // The bundles are keys handed to the administrator, and "remove existing" revokes:
    // rule 8 either way.
    confirm_admin(s, admin, form.password).await?;
    let out =
        admin::bulk_create_and_download(s, &admin.actor(), &users, not_after, form.remove_existing)
            .await;
    Ok(admin::download_files(out))
}

/// Rule 13: rolls the CA (after the same confirmation as a revocation: the password here, or
/// a check in the last 5 minutes). Returns the new CA's id.
#[server(endpoint = "admin_rotate_ca")]
pub async fn admin_rotate_ca(
    confirm: Option<String>,
    password: Option<String>,
    name: Option<String>,
) -> Result<String, AppError> {
    use super::auth::session;
    let result = async {
        let s = super::services()?;
        let mut a = session::require_admin(&s).await?;
        if confirm.as_deref() != Some("yes") {
            return Err(AppError::field(ErrorCode::ConfirmationRequired, "confirm"));
        }
        let name = crate::domain::validate::CaName::parse(name.as_deref().unwrap_or(""))?;
        confirm_admin(&s, &mut a, password).await?;
        let row = s.rotate_ca(&a.actor(), name.as_ref()).await?;
        Ok(row.id)
    }
    .await;
    super::auth::finish_form(result, "/admin/ca?rotated=1", "/admin/ca")
}

/// A request in the approvals queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRequest {
    pub enrollment_id: String,
    pub user_id: String,
    pub login: String,
    pub display_name: String,
    pub department: Option<String>,
    pub device_label: String,
    pub renewal: bool,
    pub created_at: i64,
}

/// Rule 7: every request waiting for approval, oldest first.
#[server(endpoint = "admin_pending")]
pub async fn admin_pending() -> Result<Vec<PendingRequest>, AppError> {
    use super::auth::session;
    let s = super::services()?;
    session::require_admin(&s).await?;
    let mut c = s.conn().await?;
    let rows = crate::ssr::db::admin_rows::pending_requests(&mut c, 500).await?;
    Ok(rows
        .into_iter()
        .map(|r| PendingRequest {
            renewal: r.kind == "renewal",
            enrollment_id: r.enrollment_id,
            user_id: r.user_id,
            login: r.login,
            display_name: r.display_name,
            department: r.department,
            device_label: r.device_label,
            created_at: r.created_at,
        })
        .collect())
}

/// Rule 7: approve (`decision=approve`) or reject (`decision=reject`, with a note) a request.
#[server(endpoint = "admin_decide")]
pub async fn admin_decide(
    enrollment: String,
    decision: String,
    note: Option<String>,
) -> Result<String, AppError> {
    use super::auth::session;
    let result = async {
        let s = super::services()?;
        let a = session::require_admin(&s).await?;
        let approve = match decision.as_str() {
            "approve" => true,
            "reject" => false,
            _ => return Err(AppError::field(ErrorCode::InvalidChoice, "decision")),
        };
        let e = crate::ssr::admin::decide(
            &s,
            &a.actor(),
            &enrollment,
            approve,
            note.as_deref().unwrap_or(""),
        )
        .await?;
        Ok(e.state.code().to_string())
    }
    .await;
    let ok = match &result {
        Ok(state) => format!("/admin/approvals?done={state}"),
        Err(_) => String::new(),
    };
    super::auth::finish_form(result, &ok, "/admin/approvals")
}

/// Everything the per-user admin page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUserView {
    pub user: DirectoryUser,
    pub upn: Option<String>,
    pub must_change_password: bool,
    pub reissue_default: bool,
    pub entries: Vec<super::certs::EntryView>,
    pub history: Vec<HistoryItem>,
    pub now: i64,
}

/// One user, their certificates and requests (newest first) and their latest history.
#[server(endpoint = "admin_user")]
pub async fn admin_user(id: String) -> Result<AdminUserView, AppError> {
    use super::auth::session;
    use crate::ssr::db::{self, admin_rows};
    let s = super::services()?;
    session::require_admin(&s).await?;
    let now = s.now();
    let mut c = s.conn().await?;
    let r = admin_rows::directory_row(&mut c, &id)
        .await?
        .ok_or(AppError::NOT_FOUND)?;
    let full = db::user_by_id(&mut c, &id)
        .await?
        .ok_or(AppError::NOT_FOUND)?;
    let policy = s.policy(&mut c).await?;
    let entries = crate::ssr::read::entry_views(&mut c, &id, now, &s.thresholds).await?;
    let (history, _) = admin_rows::history(
        &mut c,
        &admin_rows::HistoryQuery {
            subject_user_id: Some(id.clone()),
            limit: 20,
            ..Default::default()
        },
    )
    .await?;
    Ok(AdminUserView {
        user: crate::ssr::read::directory_user(r, now),
        upn: full.upn,
        must_change_password: full.must_change_password,
        reissue_default: policy.reissue_allowed_default,
        entries,
        history: history.into_iter().map(HistoryItem::from).collect(),
        now,
    })
}

/// Changes a user's renewal flag (`default`, `on`, `off`), role (`admin`, `user`) and
/// account (`active` = `on` or absent for deactivated). Deactivating revokes the user's
/// active certificates unless `keep_certificates` is `on`. Making someone an administrator
/// and deactivating need rule 8's confirmation (`password`, or a recent check).
#[server(endpoint = "admin_update_user")]
pub async fn admin_update_user(
    id: String,
    reissue: String,
    role: String,
    active: Option<String>,
    keep_certificates: Option<String>,
    password: Option<String>,
) -> Result<Vec<String>, AppError> {
    use super::auth::session;
    let result = async {
        let s = super::services()?;
        let mut a = session::require_admin(&s).await?;
        let reissue_allowed = match reissue.as_str() {
            "default" => None,
            "on" => Some(true),
            "off" => Some(false),
            _ => return Err(AppError::field(ErrorCode::InvalidChoice, "reissue")),
        };
        let is_admin = match role.as_str() {
            "admin" => true,
            "user" => false,
            _ => return Err(AppError::field(ErrorCode::InvalidChoice, "role")),
        };
        let flags = crate::ssr::admin::UserFlags {
            reissue_allowed,
            is_admin,
            active: crate::web::is_checked(active.as_deref()),
            revoke_on_deactivate: !crate::web::is_checked(keep_certificates.as_deref()),
        };
        let current = {
            let mut c = s.conn().await.map_err(crate::ssr::certs::CertError::from)?;
            crate::ssr::db::user_by_id(&mut c, &id)
                .await
                .map_err(crate::ssr::certs::CertError::from)?
                .ok_or(AppError::new(ErrorCode::NotFound))?
        };
        let promotes = flags.is_admin && !current.is_admin;
        let deactivates = current.active && !flags.active;
        if promotes || deactivates {
            confirm_admin(&s, &mut a, password).await?;
        }
        Ok(crate::ssr::admin::update_user(&s, &a.actor(), &id, &flags).await?)
    }
    .await;
    let back = format!("/admin/users/{}", crate::web::id_segment(&id));
    super::auth::finish_form(result, &format!("{back}?saved=1"), &back)
}

/// Rule 9 by an administrator (after the confirmation of rule 8): revokes all the user's
/// active certificates (`keyCompromise`), voids their links, ends their sessions and forces
/// a password change.
#[server(endpoint = "admin_lost_device")]
pub async fn admin_lost_device(
    id: String,
    confirm: Option<String>,
    password: Option<String>,
) -> Result<usize, AppError> {
    use super::auth::session;
    let back = format!("/admin/users/{}", crate::web::id_segment(&id));
    let result = async {
        let s = super::services()?;
        let mut a = session::require_admin(&s).await?;
        if confirm.as_deref() != Some("yes") {
            return Err(AppError::field(ErrorCode::ConfirmationRequired, "confirm"));
        }
        confirm_admin(&s, &mut a, password).await?;
        let r = crate::ssr::certs::lost_device(&s, &a.actor(), &id).await?;
        Ok(r.certificates_revoked)
    }
    .await;
    super::auth::finish_form(result, &format!("{back}?lost=1"), &back)
}

/// One certificate revoked by an administrator (rule 8's confirmation, rule 1: final).
#[server(endpoint = "admin_revoke_certificate")]
pub async fn admin_revoke_certificate(
    entry: String,
    reason: String,
    password: Option<String>,
    back: Option<String>,
) -> Result<(), AppError> {
    use super::auth::session;
    let back = crate::web::safe_back(back.as_deref(), "/admin/users/", "/admin/users");
    let result = async {
        let s = super::services()?;
        let mut a = session::require_admin(&s).await?;
        let reason = admin_reason(&reason)?;
        confirm_admin(&s, &mut a, password).await?;
        crate::ssr::certs::revoke_entry(&s, &a.actor(), &entry, reason)
            .await
            .map_err(AppError::from)
    }
    .await;
    super::auth::finish_form(result, &format!("{back}?revoked=1"), &back)
}

/// A history record as the pages and the CSV show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryItem {
    pub at: i64,
    /// The actor's login, or `cli` / `system` / `anonymous`.
    pub actor: String,
    pub subject: Option<String>,
    pub action: String,
    pub result: String,
    pub detail: String,
    pub ip: Option<String>,
}

#[cfg(feature = "ssr")]
impl From<crate::ssr::db::admin_rows::HistoryRow> for HistoryItem {
    fn from(r: crate::ssr::db::admin_rows::HistoryRow) -> Self {
        HistoryItem {
            at: r.at,
            actor: r.actor_login.unwrap_or(r.actor_label),
            subject: r.subject_login,
            action: r.action,
            result: r.result,
            detail: r.detail,
            ip: r.ip,
        }
    }
}

/// A page of the operation history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub items: Vec<HistoryItem>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

/// The history filter as typed in the form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryFilter {
    pub user: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    /// `YYYY-MM-DD` (from the start of that day, UTC).
    pub from: Option<String>,
    /// `YYYY-MM-DD` (to the end of that day, UTC).
    pub to: Option<String>,
}

/// History rows per page.
pub const HISTORY_PAGE: i64 = 50;

/// Rule 10: the operation history, searched by user, actor, action and date range.
#[server(endpoint = "admin_history")]
pub async fn admin_history(
    filter: HistoryFilter,
    page: Option<i64>,
) -> Result<HistoryPage, AppError> {
    use super::auth::session;
    let s = super::services()?;
    session::require_admin(&s).await?;
    let page = page.unwrap_or(0).max(0);
    let mut c = s.conn().await?;
    let Some(q) = crate::ssr::read::history_query(&mut c, &filter, page, HISTORY_PAGE).await?
    else {
        return Ok(HistoryPage {
            items: Vec::new(),
            total: 0,
            page,
            page_size: HISTORY_PAGE,
        });
    };
    let (rows, total) = crate::ssr::db::admin_rows::history(&mut c, &q).await?;
    Ok(HistoryPage {
        items: rows.into_iter().map(HistoryItem::from).collect(),
        total,
        page,
        page_size: HISTORY_PAGE,
    })
}

/// The settings page: the policy in force and the public URL (read-only here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsView {
    pub policy: crate::domain::policy::Policy,
    pub public_url: String,
    /// Whether RSA-2048 client keys can be made by this build.
    pub rsa_available: bool,
}

#[server(endpoint = "admin_settings")]
pub async fn admin_settings() -> Result<SettingsView, AppError> {
    use super::auth::session;
    let s = super::services()?;
    session::require_admin(&s).await?;
    let mut c = s.conn().await?;
    let policy = s.policy(&mut c).await?;
    Ok(SettingsView {
        policy,
        public_url: s.public_url.clone(),
        rsa_available: crate::ssr::ca::RSA_AVAILABLE,
    })
}

/// Changes the policy. Every field is checked (numbers, choices, limits, the installer link);
/// the first bad one is named and nothing changes. The change and its old and new values go
/// to the history in the same transaction.
#[server(endpoint = "admin_update_settings")]
pub async fn admin_update_settings(
    distribution_mode: String,
    default_validity_days: String,
    max_validity_days: String,
    link_lifetime_minutes: String,
    pickup_deadline_days: String,
    max_active_per_user: String,
    p12_form: String,
    key_algorithm: String,
    reissue_allowed_default: Option<String>,
    crl_next_update_days: String,
    installer_link: Option<String>,
    apple_profile: Option<String>,
    revoke_on_deactivate: Option<String>,
    password: Option<String>,
) -> Result<Vec<String>, AppError> {
    use super::auth::session;
    use crate::domain::policy::{AppleProfile, DistributionMode, KeyAlgorithm, P12Form, Policy};
    let result = async {
        let s = super::services()?;
        let mut a = session::require_admin(&s).await?;
        // A setting can send every pickup elsewhere (the installer link): rule 8.
        confirm_admin(&s, &mut a, password).await?;
        let num = |field: &'static str, v: &str| -> Result<i64, AppError> {
            v.trim()
                .parse::<i64>()
                .map_err(|_| AppError::field(ErrorCode::InvalidNumber, field))
        };
        let choice = |field: &'static str| AppError::field(ErrorCode::InvalidChoice, field);
        let policy = Policy {
            distribution_mode: match distribution_mode.as_str() {
                "auto" => DistributionMode::Auto,
                "approval" => DistributionMode::Approval,
                _ => return Err(choice("distribution_mode")),
            },
            default_validity_days: num("default_validity_days", &default_validity_days)?,
            max_validity_days: num("max_validity_days", &max_validity_days)?,
            link_lifetime_minutes: num("link_lifetime_minutes", &link_lifetime_minutes)?,
            pickup_deadline_days: num("pickup_deadline_days", &pickup_deadline_days)?,
            max_active_per_user: num("max_active_per_user", &max_active_per_user)?,
            p12_form: match p12_form.as_str() {
                "legacy" => P12Form::Legacy,
                "modern" => P12Form::Modern,
                _ => return Err(choice("p12_form")),
            },
            key_algorithm: match key_algorithm.as_str() {
                "ecdsa_p256" => KeyAlgorithm::EcdsaP256,
                "rsa2048" => KeyAlgorithm::Rsa2048,
                _ => return Err(choice("key_algorithm")),
            },
            reissue_allowed_default: crate::web::is_checked(reissue_allowed_default.as_deref()),
            crl_next_update_days: num("crl_next_update_days", &crl_next_update_days)?,
            installer_link: installer_link
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty()),
            apple_profile: match apple_profile.as_deref() {
                None | Some("scep") => AppleProfile::Scep,
                Some("pkcs12") => AppleProfile::Pkcs12,
                Some(_) => return Err(choice("apple_profile")),
            },
            revoke_on_deactivate: crate::web::is_checked(revoke_on_deactivate.as_deref()),
        };
        Ok(crate::ssr::admin::update_policy(&s, &a.actor(), &policy).await?)
    }
    .await;
    super::auth::finish_form(result, "/admin/settings?saved=1", "/admin/settings")
}

/// Rule 10: a user's own history (the newest 50 records about them).
#[server(endpoint = "my_history")]
pub async fn my_history() -> Result<Vec<HistoryItem>, AppError> {
    use super::auth::session;
    use crate::ssr::db::admin_rows;
    let s = super::services()?;
    let me = session::require(&s).await?;
    let mut c = s.conn().await?;
    let (rows, _) = admin_rows::history(
        &mut c,
        &admin_rows::HistoryQuery {
            subject_user_id: Some(me.user.id.clone()),
            limit: 50,
            ..Default::default()
        },
    )
    .await?;
    Ok(rows.into_iter().map(HistoryItem::from).collect())
}

/// The numbers of the weekly digest, on the admin start page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekSummary {
    /// Issued certificates ending in the next 30 days, by department path ("" for none).
    pub expiring_by_department: Vec<(String, i64)>,
    pub open_approvals: i64,
    pub waiting_for_pickup: i64,
    pub lapsed_last_week: i64,
    /// Whether this administrator receives the weekly digest.
    pub digest_opt_in: bool,
    /// Whether the portal can send mail at all.
    pub mail_configured: bool,
}

#[server(endpoint = "admin_summary")]
pub async fn admin_summary() -> Result<WeekSummary, AppError> {
    let s = super::services()?;
    let a = super::auth::session::require_admin(&s).await?;
    let now = s.now();
    // Shown, never decided on: kept like the directory's department list (at most a second
    // old, and read again after any write here); the digest mail counts afresh. A
    // connection is taken only to read them again.
    let counts = s
        .shown
        .digest
        .get(&s.db, async {
            let mut c = s.conn().await?;
            crate::ssr::db::digest_counts(&mut c, now, now + 30 * 86_400).await
        })
        .await?;
    Ok(WeekSummary {
        expiring_by_department: counts.expiring_by_department,
        open_approvals: counts.open_approvals,
        waiting_for_pickup: counts.waiting_for_pickup,
        lapsed_last_week: counts.lapsed_last_week,
        // Read with the session.
        digest_opt_in: a.digest_opt_in,
        mail_configured: s.mailer.is_some(),
    })
}

/// Turns this administrator's weekly digest on or off (a checkbox form).
#[server(endpoint = "admin_set_digest")]
pub async fn admin_set_digest(digest: Option<String>) -> Result<bool, AppError> {
    use crate::ssr::audit::{self, action};
    let s = super::services()?;
    let a = super::auth::session::require_admin(&s).await?;
    let on = crate::web::is_checked(digest.as_deref());
    let result = async {
        let mut tx = s.db.begin().await?;
        crate::ssr::db::set_digest_opt_in(&mut tx, &a.user.id, on).await?;
        audit::record(
            &mut tx,
            s.now(),
            &a.actor(),
            action::USER_UPDATE,
            Some(&a.user.id),
            None,
            None,
            &format!("digest_opt_in={on}"),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, AppError>(on)
    }
    .await;
    crate::web::finish_form(result, "/admin/users?digest=saved", "/admin/users")
}

/// A SCIM client's bearer token as the settings page lists it (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScimTokenInfo {
    pub id: String,
    pub name: String,
    pub created_by: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// The directory's SCIM access: the endpoint, the tokens, and a token this browser just made
/// without JavaScript (carried to the page once, in a short-lived cookie).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScimAccess {
    pub endpoint: String,
    pub tokens: Vec<ScimTokenInfo>,
    pub just_made: Option<String>,
}

/// The cookie carrying a token made without JavaScript to the next page.
#[cfg(feature = "ssr")]
const SCIM_TOKEN_COOKIE: &str = "certportal-scim-token";

#[server(endpoint = "admin_scim")]
pub async fn admin_scim() -> Result<ScimAccess, AppError> {
    use super::auth::session;
    let s = super::services()?;
    let a = session::require_admin(&s).await?;
    let tokens = crate::ssr::scim::list_tokens(&s, &a.actor()).await?;
    // Shown once: the page that reads the carried token clears it.
    let just_made = crate::web::cookie(SCIM_TOKEN_COOKIE).filter(|t| t.starts_with("scim_"));
    if just_made.is_some() {
        crate::web::set_cookie(s.is_https(), SCIM_TOKEN_COOKIE, "", "Strict", 0);
    }
    Ok(ScimAccess {
        endpoint: crate::ssr::scim::base(&s),
        tokens: tokens
            .into_iter()
            .map(|t| ScimTokenInfo {
                id: t.id,
                name: t.name,
                created_by: t.created_by,
                created_at: t.created_at,
                last_used_at: t.last_used_at,
                revoked_at: t.revoked_at,
            })
            .collect(),
        just_made,
    })
}

/// Makes a SCIM bearer token (rule 8's confirmation first: the token can deactivate users and
/// revoke their certificates). Returns it once; only its hash is kept.
#[server(endpoint = "admin_create_scim_token")]
pub async fn admin_create_scim_token(
    name: String,
    password: Option<String>,
) -> Result<String, AppError> {
    use super::auth::session;
    let s = super::services()?;
    let result = async {
        let mut a = session::require_admin(&s).await?;
        confirm_admin(&s, &mut a, password).await?;
        let (_, token) = crate::ssr::scim::create_token(&s, &a.actor(), &name).await?;
        Ok(token)
    }
    .await;
    if let Ok(token) = &result {
        if crate::web::is_plain_form_post() {
            crate::web::set_cookie(s.is_https(), SCIM_TOKEN_COOKIE, token, "Strict", 300);
        }
    }
    crate::web::finish_form(
        result,
        "/admin/settings?token=1#scim",
        "/admin/settings#scim",
    )
}

/// Revokes a SCIM token: its client is refused from the next request on.
#[server(endpoint = "admin_revoke_scim_token")]
pub async fn admin_revoke_scim_token(id: String) -> Result<(), AppError> {
    use super::auth::session;
    let s = super::services()?;
    let result = async {
        let a = session::require_admin(&s).await?;
        Ok(crate::ssr::scim::revoke_token(&s, &a.actor(), &id).await?)
    }
    .await;
    crate::web::finish_form(result, "/admin/settings#scim", "/admin/settings#scim")
}
