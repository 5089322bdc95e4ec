//! Administrators' server functions (the admin console). Every one starts with
//! `require_admin` (rule 11); `tests/it/admin.rs` calls each of them as a plain user.

use super::AppError;
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
    use super::auth::session;
    use super::error::internal;
    use crate::ssr::{ca, db, ocsp};
    let s = super::services()?;
    session::require_admin(&s).await?;
    let mut c = s.conn().await.map_err(|e| internal(&e))?;
    let current = db::current_ca_id(&mut c).await.map_err(|e| internal(&e))?;
    let mut rows = db::list_cas(&mut c).await.map_err(|e| internal(&e))?;
    rows.sort_by_key(|r| (Some(&r.id) != current.as_ref(), -r.created_at));
    let mut cas = Vec::with_capacity(rows.len());
    for r in rows {
        let issued = db::count_issued_for_ca(&mut c, &r.id)
            .await
            .map_err(|e| internal(&e))?;
        let crl_entries = r.crl_der.as_deref().and_then(|der| {
            use x509_parser::prelude::FromDer;
            x509_parser::revocation_list::CertificateRevocationList::from_der(der)
                .ok()
                .map(|(_, crl)| crl.iter_revoked_certificates().count() as i64)
        });
        cas.push(CaRevocation {
            current: Some(&r.id) == current.as_ref(),
            crl_url: ca::crl_url(&s.public_url, &r.id),
            crl_pem_url: format!("{}/crl/{}.pem", s.public_url.trim_end_matches('/'), r.id),
            ocsp_ready: false,
            issued,
            crl_entries,
            id: r.id,
            subject: r.subject,
            fingerprint: r.fingerprint_sha256,
            not_before: r.not_before,
            not_after: r.not_after,
            retired_at: r.retired_at,
            crl_number: r.crl_number,
            crl_this_update: r.crl_this_update,
            crl_next_update: r.crl_next_update,
        });
    }
    drop(c);
    for ca in &mut cas {
        ca.ocsp_ready = s.signer(&ca.id).await.is_ok();
    }
    let n = s.ocsp_stats.snapshot();
    Ok(RevocationStatus {
        now: s.now(),
        cas,
        ocsp: OcspState {
            url: ca::ocsp_url(&s.public_url),
            response_ttl_secs: ocsp::RESPONSE_TTL,
            good: n.good,
            revoked: n.revoked,
            unknown: n.unknown,
            malformed: n.malformed,
            unauthorized: n.unauthorized,
            errors: n.errors,
            last_answer_at: n.last_answer_at,
        },
    })
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
}

/// A page of the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryPage {
    pub users: Vec<DirectoryUser>,
    pub total: i64,
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
    use super::error::internal;
    use crate::domain::directory::UserCertStatus;
    use crate::ssr::db::admin_rows::{self, DirectoryQuery};
    let s = super::services()?;
    session::require_admin(&s).await?;
    let status = match status.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some(code) => Some(UserCertStatus::from_code(code).ok_or_else(|| {
            AppError::refused(
                "invalid_field",
                Some("status"),
                "unknown certificate status",
            )
        })?),
    };
    let text = q.unwrap_or_default();
    if text.chars().count() > 128 {
        return Err(AppError::refused(
            "invalid_field",
            Some("q"),
            "the search text is too long (at most 128 characters)",
        ));
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
    let mut c = s.conn().await.map_err(|e| internal(&e))?;
    let (rows, total) = admin_rows::directory(&mut c, &query, now)
        .await
        .map_err(|e| internal(&e))?;
    let departments = admin_rows::department_paths(&mut c)
        .await
        .map_err(|e| internal(&e))?;
    let users = rows
        .into_iter()
        .map(|r| {
            let status = UserCertStatus::from_summary(&r.summary, r.not_after, now);
            DirectoryUser {
                not_after: r.not_after.filter(|_| status.shows_expiry()),
                status,
                id: r.id,
                login: r.login,
                display_name: r.display_name,
                email: r.email,
                department: r.department,
                is_admin: r.is_admin,
                active: r.active,
                reissue_allowed: r.reissue_allowed,
            }
        })
        .collect();
    let policy = s.policy(&mut c).await.map_err(|e| internal(&e))?;
    Ok(DirectoryPage {
        users,
        total,
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
    use super::error::internal;
    use crate::domain::directory::UserCertStatus;
    use crate::ssr::db::admin_rows;
    let s = super::services()?;
    session::require_admin(&s).await?;
    let ids = selected(users)?;
    let now = s.now();
    let mut c = s.conn().await.map_err(|e| internal(&e))?;
    let mut out = Vec::new();
    for id in ids {
        if let Some(r) = admin_rows::directory_row(&mut c, &id)
            .await
            .map_err(|e| internal(&e))?
        {
            let status = UserCertStatus::from_summary(&r.summary, r.not_after, now);
            out.push(DirectoryUser {
                not_after: r.not_after.filter(|_| status.shows_expiry()),
                status,
                id: r.id,
                login: r.login,
                display_name: r.display_name,
                email: r.email,
                department: r.department,
                is_admin: r.is_admin,
                active: r.active,
                reissue_allowed: r.reissue_allowed,
            });
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
    pub error: Option<String>,
    /// What happened, for people (e.g. "2 certificates revoked").
    pub detail: String,
}

#[cfg(feature = "ssr")]
fn user_result<T>(
    o: crate::ssr::admin::UserOutcome<T>,
    detail: impl Fn(&T) -> String,
) -> UserResult {
    match o.result {
        Ok(v) => UserResult {
            user_id: o.user_id,
            login: o.login,
            error: None,
            detail: detail(&v),
        },
        Err(e) => {
            let app: AppError = e.into();
            UserResult {
                user_id: o.user_id,
                login: o.login,
                error: Some(app.code().to_string()),
                detail: app.to_string(),
            }
        }
    }
}

/// The users of a bulk form: at least one, at most 500, no duplicates.
#[cfg(feature = "ssr")]
fn selected(users: Option<Vec<String>>) -> Result<Vec<String>, AppError> {
    let mut v = users.unwrap_or_default();
    v.retain(|u| !u.trim().is_empty());
    let mut seen = std::collections::HashSet::new();
    v.retain(|u| seen.insert(u.clone()));
    if v.is_empty() {
        return Err(AppError::refused(
            "nothing_selected",
            Some("users"),
            "select at least one user",
        ));
    }
    if v.len() > 500 {
        return Err(AppError::refused(
            "too_many",
            Some("users"),
            "at most 500 users at once",
        ));
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
            .ok_or_else(|| {
                AppError::refused(
                    "invalid_not_after",
                    Some("not_after"),
                    "the expiry date must be a date like 2027-03-31",
                )
            }),
    }
}

/// For a no-JavaScript form post: back to the directory with the per-user results in the
/// query (`result=login:ok,login:code`).
#[cfg(feature = "ssr")]
fn finish_bulk(
    action: &str,
    back: Option<String>,
    result: Result<Vec<UserResult>, AppError>,
) -> Result<Vec<UserResult>, AppError> {
    if super::is_plain_form_post() {
        let back = back
            .filter(|b| b.starts_with("/admin/users") && !b.contains("//"))
            .unwrap_or_else(|| "/admin/users".into());
        let sep = if back.contains('?') { '&' } else { '?' };
        let target = match &result {
            Ok(rows) => {
                let list: Vec<String> = rows
                    .iter()
                    .map(|r| format!("{}:{}", r.login, r.error.as_deref().unwrap_or("ok")))
                    .collect();
                format!("{back}{sep}done={action}&result={}", list.join(","))
            }
            Err(e) => format!("{back}{sep}error={}", e.code()),
        };
        leptos_axum::redirect(&target);
    }
    result
}

/// Bulk create (rule 2): a `ready` enrollment for each selected user, optionally removing
/// their existing certificates first, with an optional end date. One transaction per user;
/// the results say who failed and why.
#[server(endpoint = "admin_bulk_create")]
pub async fn admin_bulk_create(
    users: Option<Vec<String>>,
    not_after: Option<String>,
    remove_existing: Option<String>,
    back: Option<String>,
) -> Result<Vec<UserResult>, AppError> {
    use super::auth::session;
    let result = async {
        let s = super::services()?;
        let a = session::require_admin(&s).await?;
        let users = selected(users)?;
        let not_after = end_date(not_after)?;
        crate::ssr::admin::check_end_date(&s, not_after).await?;
        let remove = matches!(remove_existing.as_deref(), Some("on" | "true" | "1"));
        let out = crate::ssr::admin::bulk_create(
            &s,
            &a.actor(),
            &users,
            not_after,
            remove,
            Default::default(),
        )
        .await;
        Ok(out
            .into_iter()
            .map(|o| user_result(o, |_| "ready".to_string()))
            .collect())
    }
    .await;
    finish_bulk("create", back, result)
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
    use crate::domain::lifecycle::RevocationReason;
    let result = async {
        let s = super::services()?;
        let mut a = session::require_admin(&s).await?;
        let users = selected(users)?;
        let reason = RevocationReason::parse(&reason)
            .ok()
            .filter(|r| *r != RevocationReason::Superseded)
            .ok_or_else(|| {
                AppError::refused(
                    "invalid_reason",
                    Some("reason"),
                    "choose a revocation reason",
                )
            })?;
        if let Some(pw) = password.filter(|p| !p.is_empty()) {
            crate::ssr::auth::reauth_with_password(&s, &a, &pw).await?;
            a.session.reauth_at = Some(s.now());
        }
        crate::ssr::auth::require_recent_auth(&a, s.now())?;
        let out =
            crate::ssr::admin::bulk_revoke(&s, &a.actor(), &users, reason, Default::default())
                .await;
        Ok(out
            .into_iter()
            .map(|o| user_result(o, |n| format!("{n} revoked")))
            .collect())
    }
    .await;
    finish_bulk("revoke", back, result)
}

/// "Create & Download" (rule 2, seed 001) for the plain HTTP route
/// `POST /admin/create-download`: signs a bundle at once for each selected user and returns
/// a ZIP's entries — `<login>.p12` each, `PINS.csv` (login, serial, expiry, PIN) and
/// `RESULTS.csv` (every user, with the reason for a failure). `form` is the urlencoded body
/// (`users[]`, `not_after`, `remove_existing`); the session comes from the cookie.
#[cfg(feature = "ssr")]
pub async fn create_and_download(
    s: &crate::ssr::Services,
    cookie_header: Option<&str>,
    form: &[u8],
) -> Result<Vec<(String, Vec<u8>)>, AppError> {
    use crate::ssr::admin;
    let name = super::auth::session::cookie_name(s);
    let token = cookie_header.and_then(|h| {
        h.split(';').find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name && !v.is_empty()).then(|| v.to_string())
        })
    });
    let a = match token {
        None => return Err(AppError::NotSignedIn),
        Some(t) => crate::ssr::auth::session_user(s, &t)
            .await?
            .ok_or(AppError::NotSignedIn)?,
    };
    if !a.user.is_admin {
        return Err(AppError::Forbidden);
    }
    let mut users = Vec::new();
    let (mut not_after, mut remove) = (None, false);
    for (k, v) in url::form_urlencoded::parse(form) {
        match k.as_ref() {
            "users[]" | "users" => users.push(v.into_owned()),
            "not_after" => not_after = Some(v.into_owned()),
            "remove_existing" => remove = matches!(v.as_ref(), "on" | "true" | "1"),
            _ => {}
        }
    }
    let users = selected(Some(users))?;
    let not_after = end_date(not_after)?;
    admin::check_end_date(s, not_after).await?;
    let out = admin::bulk_create_and_download(
        s,
        &a.actor(),
        &users,
        not_after,
        remove,
        Default::default(),
    )
    .await;
    let mut files = Vec::new();
    let mut pins = String::from("login,serial,expires,pin\n");
    let mut results = String::from("login,result,detail\n");
    for o in out {
        match o.result {
            Ok(h) => {
                pins.push_str(&format!(
                    "{},{},{},{}\n",
                    h.login,
                    h.serial_hex,
                    crate::i18n::fmt_date(h.not_after),
                    h.pin
                ));
                results.push_str(&format!("{},ok,{}\n", h.login, h.serial_hex));
                files.push((format!("{}.p12", h.login), h.p12));
            }
            Err(e) => {
                let app: AppError = e.into();
                results.push_str(&format!(
                    "{},{},\"{}\"\n",
                    o.login,
                    app.code(),
                    app.to_string().replace('"', "'")
                ));
            }
        }
    }
    files.push(("PINS.csv".into(), pins.into_bytes()));
    files.push(("RESULTS.csv".into(), results.into_bytes()));
    Ok(files)
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
            return Err(AppError::refused(
                "confirmation_required",
                Some("confirm"),
                "tick the box to confirm the new CA",
            ));
        }
        if let Some(pw) = password.filter(|p| !p.is_empty()) {
            crate::ssr::auth::reauth_with_password(&s, &a, &pw).await?;
            a.session.reauth_at = Some(s.now());
        }
        crate::ssr::auth::require_recent_auth(&a, s.now())?;
        if name.as_deref().is_some_and(|n| n.chars().count() > 64) {
            return Err(AppError::refused(
                "invalid_field",
                Some("name"),
                "the CA name is too long (at most 64 characters)",
            ));
        }
        let row = s
            .rotate_ca(&a.actor(), name.as_deref())
            .await
            .map_err(|e| super::error::internal(&e))?;
        Ok(row.id)
    }
    .await;
    super::auth::finish_form(result, "/admin/ca?rotated=1", "/admin/ca")
}
