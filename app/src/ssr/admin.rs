//! Administrators' use cases over many users (issue 5): bulk create with "remove existing",
//! "Create & Download" (sign at once, hand the bundle over with its PIN), and revoking every
//! active certificate of users. Each user's change is its own transaction: a failure for one
//! user leaves that user unchanged and the others done (seed 000, SPEC rule 2).

use super::audit::Actor;
use super::certs::{self, CertError, FailPoint, NewEnrollment};
use super::db;
use super::services::{publish_crl, Services};
use crate::domain::lifecycle::RevocationReason;
use crate::domain::policy::P12Form;
use rand::RngCore;

/// What happened for one user of a bulk run.
#[derive(Debug)]
pub struct UserOutcome<T> {
    pub user_id: String,
    pub login: String,
    pub result: Result<T, CertError>,
}

/// Which user of a bulk run fails on purpose (tests prove per-user atomicity with it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InjectFailure {
    /// The index (in the order given) of the user whose change fails after its first write.
    pub at: Option<usize>,
}

async fn login_of(s: &Services, user_id: &str) -> String {
    match s.conn().await {
        Ok(mut c) => db::user_by_id(&mut c, user_id)
            .await
            .ok()
            .flatten()
            .map(|u| u.login)
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Rule 12 for a whole bulk run: an end date in the past or beyond the policy maximum is
/// refused before anything changes.
pub async fn check_end_date(s: &Services, not_after: Option<i64>) -> Result<(), CertError> {
    if let Some(end) = not_after {
        let mut c = s.conn().await?;
        let policy = s.policy(&mut c).await?;
        policy.not_after(s.now(), Some(end))?;
    }
    Ok(())
}

/// Rule 2 for each user in turn: a `ready` enrollment (the user picks it up through a link),
/// with or without removing their existing certificates first.
pub async fn bulk_create(
    s: &Services,
    actor: &Actor,
    user_ids: &[String],
    not_after: Option<i64>,
    remove_existing: bool,
    inject: InjectFailure,
) -> Vec<UserOutcome<db::EnrollmentRow>> {
    let mut out = Vec::with_capacity(user_ids.len());
    for (i, id) in user_ids.iter().enumerate() {
        let fail = if inject.at == Some(i) {
            FailPoint::AfterRemoveExisting
        } else {
            FailPoint::None
        };
        let req = NewEnrollment {
            user_id: id.clone(),
            device_label: String::new(),
            not_after,
            remove_existing,
            renews_certificate_id: None,
        };
        let result = if fail != FailPoint::None && !remove_existing {
            // Without "remove existing" the first write is the enrollment itself; fail the
            // whole transaction after it instead.
            create_then_fail(s, actor, &req).await
        } else {
            certs::create_enrollment(s, actor, &req, fail).await
        };
        out.push(UserOutcome {
            login: login_of(s, id).await,
            user_id: id.clone(),
            result,
        });
    }
    out
}

async fn create_then_fail(
    s: &Services,
    actor: &Actor,
    req: &NewEnrollment,
) -> Result<db::EnrollmentRow, CertError> {
    let mut tx = s.db.begin().await?;
    certs::create_enrollment_in(s, &mut tx, actor, req, FailPoint::None).await?;
    Err(CertError::Conflict)
}

/// A bundle made by "Create & Download" for one user: the PKCS#12 and its PIN.
pub struct HandOver {
    pub login: String,
    pub serial_hex: String,
    pub not_after: i64,
    pub pin: String,
    pub p12: Vec<u8>,
}

impl std::fmt::Debug for HandOver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandOver")
            .field("login", &self.login)
            .field("serial_hex", &self.serial_hex)
            .finish_non_exhaustive()
    }
}

/// A fresh random PIN (8 symbols of the unambiguous alphabet, 40 bits).
pub fn random_pin() -> String {
    let mut b = [0u8; 5];
    rand::rng().fill_bytes(&mut b);
    crate::domain::pin::pin_from_array(b)
}

/// "Create & Download" for one user: the enrollment is created and picked up at once, in one
/// transaction, under a random PIN. Nothing is stored that could rebuild the bundle.
pub async fn create_and_download(
    s: &Services,
    actor: &Actor,
    user_id: &str,
    not_after: Option<i64>,
    remove_existing: bool,
    form: Option<P12Form>,
    fail: FailPoint,
) -> Result<HandOver, CertError> {
    let pin = random_pin();
    let mut tx = s.db.begin().await?;
    let req = NewEnrollment {
        user_id: user_id.to_string(),
        device_label: String::new(),
        not_after,
        remove_existing,
        renews_certificate_id: None,
    };
    let e = certs::create_enrollment_in(s, &mut tx, actor, &req, FailPoint::None).await?;
    let picked = certs::pick_up_in(s, &mut tx, actor, &e.id, &pin, form, fail).await?;
    tx.commit().await?;
    Ok(HandOver {
        login: picked.user.login.clone(),
        serial_hex: picked.certificate.serial_hex.clone(),
        not_after: picked.certificate.not_after,
        pin,
        p12: picked.p12,
    })
}

/// "Create & Download" for each user in turn.
pub async fn bulk_create_and_download(
    s: &Services,
    actor: &Actor,
    user_ids: &[String],
    not_after: Option<i64>,
    remove_existing: bool,
    inject: InjectFailure,
) -> Vec<UserOutcome<HandOver>> {
    let mut out = Vec::with_capacity(user_ids.len());
    for (i, id) in user_ids.iter().enumerate() {
        let fail = if inject.at == Some(i) {
            FailPoint::AfterIssue
        } else {
            FailPoint::None
        };
        let result =
            create_and_download(s, actor, id, not_after, remove_existing, None, fail).await;
        out.push(UserOutcome {
            login: login_of(s, id).await,
            user_id: id.clone(),
            result,
        });
    }
    out
}

/// Revokes every active certificate of one user with `reason`, republishing the CRLs, in one
/// transaction. Returns how many were revoked (0 is not an error).
pub async fn revoke_user(
    s: &Services,
    actor: &Actor,
    user_id: &str,
    reason: RevocationReason,
    fail: FailPoint,
) -> Result<usize, CertError> {
    if !actor.is_admin {
        return Err(CertError::Forbidden);
    }
    let now = s.now();
    let mut tx = s.db.begin().await?;
    db::user_by_id(&mut tx, user_id)
        .await?
        .ok_or(CertError::NotFound("user"))?;
    db::lock_user(&mut tx, user_id).await?;
    let (n, crl_cas) =
        certs::revoke_all_active(&mut tx, actor, user_id, reason, now, "admin").await?;
    if fail != FailPoint::None && n > 0 {
        return Err(CertError::Conflict);
    }
    let policy = s.policy(&mut tx).await?;
    for ca_id in crl_cas {
        let signer = s.signer(&ca_id).await?;
        publish_crl(&mut tx, &signer, now, policy.crl_next_update_days).await?;
    }
    tx.commit().await?;
    Ok(n)
}

/// [`revoke_user`] for each user in turn.
pub async fn bulk_revoke(
    s: &Services,
    actor: &Actor,
    user_ids: &[String],
    reason: RevocationReason,
    inject: InjectFailure,
) -> Vec<UserOutcome<usize>> {
    let mut out = Vec::with_capacity(user_ids.len());
    for (i, id) in user_ids.iter().enumerate() {
        let fail = if inject.at == Some(i) {
            FailPoint::AfterRemoveExisting
        } else {
            FailPoint::None
        };
        let result = revoke_user(s, actor, id, reason, fail).await;
        out.push(UserOutcome {
            login: login_of(s, id).await,
            user_id: id.clone(),
            result,
        });
    }
    out
}
