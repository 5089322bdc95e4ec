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
