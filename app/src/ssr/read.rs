//! Read models: what the pages, the API and the CLI show, built from database rows in one
//! place (the lists of certificates, the directory, the history and its CSV, the CA and
//! revocation status, the user list). Server functions and CLI commands call these instead
//! of writing their own queries and mappings. They return the API's wire types.

use super::db::{self, Conn};
use super::Services;
use crate::api::admin::{
    CaRevocation, DirectoryUser, HistoryFilter, HistoryItem, OcspState, RevocationStatus,
};
use crate::api::auth::UserInfo;
use crate::api::certs::EntryView;
use crate::api::AppError;
use crate::domain::directory::UserCertStatus;
use crate::domain::error_code::ErrorCode;
use crate::ssr::{ca, certs, ocsp};

/// A user's certificates and enrollments as the lists show them, newest first.
pub async fn entry_views(
    c: &mut Conn,
    user_id: &str,
    now: i64,
    thresholds: &crate::domain::reminders::Thresholds,
) -> Result<Vec<EntryView>, AppError> {
    use std::collections::HashMap;
    let cas: HashMap<String, String> = db::list_cas(c)
        .await?
        .into_iter()
        .map(|ca| (ca.id, ca.subject))
        .collect();
    let mut all: Vec<EntryView> = certs::entries_for_user(c, user_id, now)
        .await?
        .into_iter()
        .map(|(state, cert, e)| EntryView {
            id: e.id.clone(),
            state,
            device_label: e.device_label.clone(),
            renewal: e.renews_certificate_id.is_some(),
            serial: cert.as_ref().map(|x| x.serial_hex.clone()),
            fingerprint: cert.as_ref().map(|x| x.fingerprint_sha256.clone()),
            not_after: cert.as_ref().map(|x| x.not_after),
            ca_name: cert.as_ref().and_then(|x| cas.get(&x.ca_id).cloned()),
            revocation_reason: cert.as_ref().and_then(|x| x.revocation_reason.clone()),
            pickup_deadline: cert.is_none().then_some(e.pickup_deadline),
            created_at: e.created_at,
            admin_created: e.admin_created,
            rejection_note: e
                .decision_note
                .clone()
                .filter(|n| state == crate::domain::lifecycle::State::Rejected && !n.is_empty()),
            expires_in_days: cert
                .as_ref()
                .filter(|_| state == crate::domain::lifecycle::State::Issued)
                .and_then(|x| thresholds.expiring(x.not_after, now)),
        })
        .collect();
    all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    Ok(all)
}

/// A directory row as the admin pages show it: the status of the newest certificate, and its
/// end where the status shows one.
pub fn directory_user(r: db::admin_rows::DirectoryRow, now: i64) -> DirectoryUser {
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
        activated: r.activated,
    }
}

/// Every user (at most `limit`), for the account list and `certportal user list`.
pub async fn users(c: &mut Conn, limit: i64) -> Result<Vec<(UserInfo, Option<String>)>, AppError> {
    Ok(db::list_users(c, limit)
        .await?
        .into_iter()
        .map(|(u, activated)| {
            (
                UserInfo {
                    login: u.login,
                    display_name: u.display_name,
                    email: u.email,
                    is_admin: u.is_admin,
                    active: u.active,
                    activated,
                },
                u.upn,
            )
        })
        .collect())
}

/// Every CA (current first, then newest) with its CRL (read from the signed CRL itself) and
/// whether the OCSP responder can sign for it; the responder's counters.
pub async fn revocation_status(s: &Services) -> Result<RevocationStatus, AppError> {
    let mut c = s.conn().await?;
    let current = db::current_ca_id(&mut c).await?;
    let mut rows = db::list_cas(&mut c).await?;
    rows.sort_by_key(|r| (Some(&r.id) != current.as_ref(), -r.created_at));
    let mut cas = Vec::with_capacity(rows.len());
    for r in rows {
        let issued = db::count_issued_for_ca(&mut c, &r.id).await?;
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

/// Resolves a history filter (logins to ids, dates to times); refuses what does not parse.
pub async fn history_query(
    c: &mut Conn,
    f: &HistoryFilter,
    page: i64,
    limit: i64,
) -> Result<Option<crate::ssr::db::admin_rows::HistoryQuery>, AppError> {
    let clean = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let mut q = db::admin_rows::HistoryQuery {
        action: clean(&f.action),
        offset: page.clamp(0, 1_000_000) * limit,
        limit,
        ..Default::default()
    };
    if let Some(login) = clean(&f.user) {
        match db::user_by_login(c, &login).await? {
            Some(u) => q.subject_user_id = Some(u.id),
            None => return Ok(None),
        }
    }
    if let Some(login) = clean(&f.actor) {
        q.actor = Some(match db::user_by_login(c, &login).await? {
            Some(u) => u.id,
            None => login,
        });
    }
    let date = |v: Option<String>, field: &'static str| -> Result<Option<i64>, AppError> {
        match v {
            None => Ok(None),
            Some(t) => crate::domain::validate::end_of_day(&t)
                .map(Some)
                .ok_or_else(|| AppError::field(ErrorCode::InvalidDate, field)),
        }
    };
    q.from = date(clean(&f.from), "from")?.map(|end| end - 86_399);
    q.to = date(clean(&f.to), "to")?;
    if let (Some(a), Some(b)) = (q.from, q.to) {
        if a > b {
            return Err(AppError::field(ErrorCode::DateRangeReversed, "from"));
        }
    }
    Ok(Some(q))
}

/// The history as CSV for `GET /admin/history.csv` (same filter as the page; at most
/// 100,000 rows). RFC 4180 quoting; spreadsheet formulas are defused.
pub async fn history_csv(c: &mut Conn, filter: &HistoryFilter) -> Result<String, AppError> {
    let mut out = String::from("time,actor,user,action,result,detail,ip\n");
    if let Some(q) = history_query(c, filter, 0, 100_000).await? {
        let (rows, _) = db::admin_rows::history(c, &q).await?;
        let field = |v: &str| {
            // RFC 4180 quoting; a leading =, +, - or @ is defused for spreadsheets.
            let v = if v.starts_with(['=', '+', '-', '@']) {
                format!("'{v}")
            } else {
                v.to_string()
            };
            if v.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", v.replace('"', "\"\""))
            } else {
                v
            }
        };
        for r in rows.into_iter().map(HistoryItem::from) {
            out.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                crate::ssr::clock::rfc3339(r.at),
                field(&r.actor),
                field(r.subject.as_deref().unwrap_or("")),
                field(&r.action),
                field(&r.result),
                field(&r.detail),
                field(r.ip.as_deref().unwrap_or("")),
            ));
        }
    }
    Ok(out)
}
