//! Certificate lifecycle use cases: create an enrollment (rule 2, with "remove existing"),
//! pick it up (sign + bundle; a renewal supersedes the old certificate, rule 3), revoke (rule
//! 1, with the CRL republished in the same transaction) and lapse overdue enrollments (rule
//! 6). Each is one database transaction that also writes its audit records; the pure
//! lifecycle decides every move before the database is touched.

use super::audit::{self, action, Actor};
use super::bundle::{self, BundleError};
use super::ca::{self, CaError, ClientSubject, IssuedCert};
use super::db::{self, CertificateRow, Conn, DbError, EnrollmentRow};
use super::ids;
use super::services::{publish_crl, ServiceError, Services};
use crate::domain::lifecycle::{transition, Event, LifecycleError, RevocationReason, State};
use crate::domain::policy::{P12Form, Policy, QuotaError, ValidityError};

#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// Bad input the use case itself checks (the code says what to fix).
    #[error("{0}")]
    Invalid(crate::domain::error_code::ErrorCode),
    #[error(transparent)]
    Policy(#[from] crate::domain::policy::PolicyError),
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    #[error(transparent)]
    Quota(#[from] QuotaError),
    #[error(transparent)]
    Validity(#[from] ValidityError),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("you may only act on your own certificates")]
    Forbidden,
    #[error("renewal is not allowed for this user; ask an administrator")]
    ReissueNotAllowed,
    #[error("this user's account is deactivated")]
    UserInactive,
    #[error("somebody else changed this entry at the same moment; reload and try again")]
    Conflict,
    #[error(transparent)]
    Ca(#[from] CaError),
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Db(#[from] DbError),
    /// A fault a test armed (see `ssr::faults`).
    #[error(transparent)]
    Injected(#[from] super::faults::Injected),
    /// A failure that is nobody's input (the cause, for the log).
    #[error("internal: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for CertError {
    fn from(e: sqlx::Error) -> Self {
        CertError::Db(DbError::Sqlx(e))
    }
}

/// A request for a new enrollment.
#[derive(Debug, Clone, Default)]
pub struct NewEnrollment {
    pub user_id: String,
    pub device_label: crate::domain::validate::DeviceLabel,
    /// End date requested by an administrator (Unix seconds); policy default otherwise.
    pub not_after: Option<i64>,
    /// Rule 2: revoke every issued certificate (and withdraw open enrollments) first.
    pub remove_existing: bool,
    /// The certificate this renews (rule 3), if any.
    pub renews_certificate_id: Option<String>,
}

pub use super::faults::FailPoint;

fn check(state: State, event: Event) -> Result<State, CertError> {
    Ok(transition(state, event)?)
}

/// Rule 2 (+ rule 7 for user requests): creates an enrollment, `ready` when an administrator
/// creates it or in auto mode, `pending` otherwise. With `remove_existing`, every issued
/// certificate of the user is revoked (`superseded`) and open enrollments withdrawn, in the
/// same transaction.
pub async fn create_enrollment(
    s: &Services,
    actor: &Actor,
    req: &NewEnrollment,
) -> Result<EnrollmentRow, CertError> {
    let mut tx = s.db.begin().await?;
    let e = create_enrollment_in(s, &mut tx, actor, req).await?;
    tx.commit().await?;
    Ok(e)
}

/// [`create_enrollment`] inside the caller's transaction ("Create & Download" signs in the
/// same one).
pub(crate) async fn create_enrollment_in(
    s: &Services,
    tx: &mut Conn,
    actor: &Actor,
    req: &NewEnrollment,
) -> Result<EnrollmentRow, CertError> {
    let policy = s.policy(&mut *tx).await?;
    let (e, crl_cas) = create_enrollment_unpublished(s, tx, actor, req, &policy).await?;
    for ca_id in crl_cas {
        let signer = s.signer_in(&mut *tx, &ca_id).await?;
        publish_crl(&mut *tx, &signer, s.now(), policy.crl_next_update_days).await?;
    }
    Ok(e)
}

/// [`create_enrollment_in`] without republishing the CRLs: returns the CAs whose CRL the
/// caller must republish in the same transaction (a bulk run does it once per batch).
/// `policy` is the policy read in this same transaction (a bulk run reads it once per batch).
pub(crate) async fn create_enrollment_unpublished(
    s: &Services,
    tx: &mut Conn,
    actor: &Actor,
    req: &NewEnrollment,
    policy: &Policy,
) -> Result<(EnrollmentRow, Vec<String>), CertError> {
    create_enrollment_with_id(s, tx, actor, req, ids::new_id(), policy).await
}

/// [`create_enrollment_unpublished`] under an id chosen beforehand ("Create & Download"
/// derives the bundle's PIN from it and signs before its transaction).
pub(crate) async fn create_enrollment_with_id(
    s: &Services,
    tx: &mut Conn,
    actor: &Actor,
    req: &NewEnrollment,
    id: String,
    policy: &Policy,
) -> Result<(EnrollmentRow, Vec<String>), CertError> {
    let now = s.now();
    let user = db::user_by_id(&mut *tx, &req.user_id)
        .await?
        .ok_or(CertError::NotFound("user"))?;
    if !actor.is_admin && actor.user_id.as_deref() != Some(user.id.as_str()) {
        return Err(CertError::Forbidden);
    }
    if !user.active {
        return Err(CertError::UserInactive);
    }
    db::lock_user(&mut *tx, &user.id).await?;
    // Validate the end date now so a bad date changes nothing; it is applied at pickup.
    if let Some(end) = req.not_after {
        policy.not_after(now, Some(end))?;
    }
    // Rule 3, closed against detours: with reissue off, a user gets no further certificate
    // by themselves — neither a renewal nor a new request once they have had one (else a
    // new request plus revoking the old one would be a renewal). Only their first
    // certificate, and whatever an administrator issues, do not need the flag.
    let reissue_ok = actor.is_admin
        || user
            .reissue_allowed
            .unwrap_or(policy.reissue_allowed_default);
    if !reissue_ok
        && req.renews_certificate_id.is_none()
        && db::user_has_certificates(&mut *tx, &user.id).await?
    {
        return Err(CertError::ReissueNotAllowed);
    }
    // Whether the certificate being renewed still counts as active (an expired one does
    // not, so renewing it must fit within the limit like a new request).
    let mut replaces_active = false;
    if let Some(old_id) = &req.renews_certificate_id {
        let old = db::certificate_by_id(&mut *tx, old_id)
            .await?
            .ok_or(CertError::NotFound("certificate"))?;
        if old.user_id != user.id {
            return Err(CertError::Forbidden);
        }
        let st = crate::domain::lifecycle::effective_state(old.state, Some(old.not_after), now);
        check(st, Event::RequestRenewal)?;
        replaces_active = st == State::Issued;
        // Rule 3: a user renews only while reissue is allowed for them.
        if !reissue_ok {
            return Err(CertError::ReissueNotAllowed);
        }
        // One open renewal per certificate: a second request (two clicks, two tabs, two
        // instances) reuses it. Decided under the user's lock taken above.
        if !req.remove_existing {
            if let Some(open) = db::link_rows::open_renewal_of(&mut *tx, old_id).await? {
                return Ok((open, Vec::new()));
            }
        }
    }
    let mut crl_cas = Vec::new();
    if req.remove_existing {
        // The user's directory summary is refreshed once, by the enrollment inserted below.
        crl_cas = revoke_all_active_then(
            &mut *tx,
            actor,
            &user.id,
            (RevocationReason::Superseded, now, "remove existing"),
            db::Summary::Later,
        )
        .await?
        .1;
        for e in db::open_enrollments_for_user(&mut *tx, &user.id).await? {
            let to = check(e.state, Event::Revoke(RevocationReason::Superseded))?;
            if !db::cas_enrollment_state(
                &mut *tx,
                &e.id,
                e.state,
                to,
                None,
                Some(RevocationReason::Superseded),
            )
            .await?
            {
                return Err(CertError::Conflict);
            }
            audit::record(
                &mut *tx,
                now,
                actor,
                action::ENROLLMENT_WITHDRAW,
                Some(&user.id),
                None,
                Some(&e.id),
                "remove existing",
            )
            .await?;
        }
        s.faults.check(FailPoint::AfterRemoveExisting, &user.id)?;
    } else {
        let active = db::active_certificates_for_user(&mut *tx, &user.id, now)
            .await?
            .len()
            + db::open_enrollments_for_user(&mut *tx, &user.id)
                .await?
                .len();
        // A renewal replaces its certificate, so an active one does not count twice.
        let replacing = usize::from(replaces_active);
        policy.check_active_limit(active.saturating_sub(replacing) as i64)?;
    }
    let state = if actor.is_admin
        || policy.distribution_mode == crate::domain::policy::DistributionMode::Auto
    {
        State::Ready
    } else {
        State::Pending
    };
    let e = EnrollmentRow {
        id,
        user_id: user.id.clone(),
        state,
        kind: if req.renews_certificate_id.is_some() {
            "renewal".into()
        } else {
            "new".into()
        },
        renews_certificate_id: req.renews_certificate_id.clone(),
        device_label: req.device_label.as_str().to_string(),
        requested_not_after: req.not_after,
        pickup_deadline: policy.pickup_deadline(now),
        admin_created: actor.is_admin,
        created_by: actor.user_id.clone().or_else(|| Some(actor.label.clone())),
        created_at: now,
        certificate_id: None,
        decision_note: None,
    };
    db::insert_enrollment(&mut *tx, &e).await?;
    s.faults.check(FailPoint::AfterEnrollment, &user.id)?;
    audit::record(
        &mut *tx,
        now,
        actor,
        action::ENROLLMENT_CREATE,
        Some(&user.id),
        None,
        Some(&e.id),
        &format!(
            "state={} kind={} remove_existing={}",
            e.state, e.kind, req.remove_existing
        ),
    )
    .await?;
    Ok((e, crl_cas))
}

/// What a pickup hands out. Holds the bundle (and thus the key, encrypted under the PIN).
pub struct PickedUp {
    pub certificate: CertificateRow,
    pub p12: Vec<u8>,
    pub ca_der: Vec<u8>,
    pub user: db::UserRow,
}

impl std::fmt::Debug for PickedUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PickedUp")
            .field("certificate", &self.certificate.serial_hex)
            .finish_non_exhaustive()
    }
}

/// Picks up a `ready` enrollment: makes a key, signs the certificate with the current CA and
/// builds and checks the PKCS#12 under `pin` — on a blocking thread, outside the write lock —
/// then records it in one short transaction that re-checks the rules and, for a renewal,
/// supersedes the old certificate and republishes its CA's CRL. The key is never stored.
pub async fn pick_up(
    s: &Services,
    actor: &Actor,
    enrollment_id: &str,
    pin: &str,
    form: Option<P12Form>,
) -> Result<PickedUp, CertError> {
    let keying = Keying::Bundle {
        pin: zeroize::Zeroizing::new(pin.to_string()),
        form,
    };
    let mut attempt = 0;
    loop {
        let (e, user) = {
            let mut c = s.conn().await?;
            pickable(&mut c, actor, enrollment_id).await?
        };
        let signed = sign_for(s, &user, e.requested_not_after, keying.clone()).await?;
        let mut tx = s.db.begin().await?;
        match record_pickup(s, &mut tx, actor, enrollment_id, signed).await {
            Ok(picked) => {
                tx.commit().await?;
                return Ok(picked);
            }
            // Changed between signing and recording (a CA rotation, a renamed user): sign
            // again once; a lost race shows up as a lifecycle refusal on the second try.
            Err(CertError::Conflict) if attempt == 0 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Where the key of a pickup comes from.
#[derive(Clone)]
pub(crate) enum Keying {
    /// Made here and delivered in a PKCS#12 under `pin` (`form`, or the policy's).
    Bundle {
        pin: zeroize::Zeroizing<String>,
        form: Option<P12Form>,
    },
    /// Made on the device (SCEP): its SubjectPublicKeyInfo. [`PickedUp::p12`] stays empty.
    Device(Vec<u8>),
}

/// The rules a pickup checks before anything is signed (and again when it is recorded):
/// the enrollment exists, is the actor's (or the actor administers), may be picked up, its
/// user is active, and a renewal's certificate was not already replaced.
pub(crate) async fn pickable(
    c: &mut Conn,
    actor: &Actor,
    enrollment_id: &str,
) -> Result<(EnrollmentRow, db::UserRow), CertError> {
    let e = db::enrollment_by_id(&mut *c, enrollment_id)
        .await?
        .ok_or(CertError::NotFound("enrollment"))?;
    if !actor.is_admin && actor.user_id.as_deref() != Some(e.user_id.as_str()) {
        return Err(CertError::Forbidden);
    }
    check(e.state, Event::PickUp)?;
    let user = db::user_by_id(&mut *c, &e.user_id)
        .await?
        .ok_or(CertError::NotFound("user"))?;
    if !user.active {
        return Err(CertError::UserInactive);
    }
    if let Some(old_id) = &e.renews_certificate_id {
        // Another renewal of the same certificate already replaced it: this one may not
        // add a second valid certificate.
        if let Some(old) = db::certificate_by_id(&mut *c, old_id).await? {
            if old.state == State::Superseded {
                return Err(CertError::Lifecycle(LifecycleError::Final(
                    State::Superseded,
                )));
            }
        }
    }
    Ok((e, user))
}

/// A certificate signed (and bundled) for a user but not recorded yet. Made outside the
/// write transaction; [`record_pickup`] records it, or it is dropped and its key with it
/// (the key lives only inside the PKCS#12, encrypted under the PIN, and the plain key was
/// wiped when the bundle was built) — a crash in between leaves nothing behind.
pub(crate) struct Signed {
    subject: ClientSubject,
    requested_not_after: Option<i64>,
    issued: IssuedCert,
    ca_id: String,
    ca_der: Vec<u8>,
    p12: Vec<u8>,
}

impl Signed {
    pub(crate) fn not_after(&self) -> i64 {
        self.issued.not_after
    }
    pub(crate) fn p12(&self) -> &[u8] {
        &self.p12
    }
    pub(crate) fn ca_der(&self) -> &[u8] {
        &self.ca_der
    }
}

/// Makes the key (or takes the device's), signs the certificate with the current CA under
/// the policy, and builds the PKCS#12 — on a blocking thread, at most one such job per core
/// (with the password hashes: [`Services::cpu_permits`]). Reads only; changes nothing.
pub(crate) async fn sign_for(
    s: &Services,
    user: &db::UserRow,
    requested_not_after: Option<i64>,
    keying: Keying,
) -> Result<Signed, CertError> {
    let now = s.now();
    let (policy, ca_id) = {
        let mut c = s.conn().await?;
        (s.policy(&mut c).await?, s.current_ca_id(&mut c).await?)
    };
    let not_after = policy.not_after(now, requested_not_after)?;
    let signer = s.signer(&ca_id).await?;
    let subject = ClientSubject {
        display_name: user.display_name.clone(),
        login: user.login.clone(),
        email: user.email.clone(),
        upn: user.upn.clone(),
    };
    let friendly = format!("{} ({})", user.display_name, user.login);
    let public_url = s.public_url.clone();
    // The permit goes with the job (a pickup whose client gave up does not free it early).
    let permit = s
        .cpu_permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| CertError::Internal(e.to_string()))?;
    let job_signer = signer.clone();
    let job_subject = subject.clone();
    let (issued, p12) = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let key = match &keying {
            Keying::Bundle { .. } => ca::ClientKey::Generate(policy.key_algorithm),
            Keying::Device(spki) => ca::ClientKey::Device(spki),
        };
        let issued = ca::issue_client(
            &job_signer,
            &job_subject,
            key,
            now - 300,
            not_after,
            &public_url,
        )?;
        let p12 = match (&keying, &issued.key_pkcs8) {
            (Keying::Bundle { pin, form }, Some(key)) => bundle::build_p12(
                form.unwrap_or(policy.p12_form),
                pin,
                key,
                &issued.cert_der,
                &job_signer.cert_der,
                &friendly,
            )?,
            _ => Vec::new(),
        };
        Ok::<_, CertError>((issued, p12))
    })
    .await
    .map_err(|e| CertError::Internal(e.to_string()))??;
    let mut issued = issued;
    // The plain key is no longer needed: wipe it now rather than when `Signed` goes.
    issued.key_pkcs8 = None;
    Ok(Signed {
        subject,
        requested_not_after,
        issued,
        ca_id,
        ca_der: signer.cert_der.clone(),
        p12,
    })
}

/// Records a certificate [`sign_for`] made, inside the caller's (write) transaction: checks
/// the pickup rules again under the user's lock, and that nothing it was signed from changed
/// meanwhile (the user's names, the requested end, the current CA: else
/// [`CertError::Conflict`], and the caller may sign again); then the certificate row, the
/// enrollment's move to `issued`, the audit row and — for a renewal — the old certificate
/// superseded and its CA's CRL republished, all in that transaction.
pub(crate) async fn record_pickup(
    s: &Services,
    tx: &mut Conn,
    actor: &Actor,
    enrollment_id: &str,
    signed: Signed,
) -> Result<PickedUp, CertError> {
    let now = s.now();
    let (probe, _) = pickable(&mut *tx, actor, enrollment_id).await?;
    db::lock_user(&mut *tx, &probe.user_id).await?;
    let (e, user) = pickable(&mut *tx, actor, enrollment_id).await?;
    let next = check(e.state, Event::PickUp)?;
    let subject = ClientSubject {
        display_name: user.display_name.clone(),
        login: user.login.clone(),
        email: user.email.clone(),
        upn: user.upn.clone(),
    };
    if subject != signed.subject
        || e.requested_not_after != signed.requested_not_after
        || s.current_ca_id(&mut *tx).await? != signed.ca_id
    {
        return Err(CertError::Conflict);
    }
    let Signed {
        issued,
        ca_id,
        ca_der,
        p12,
        ..
    } = signed;
    let row = CertificateRow {
        id: ids::new_id(),
        enrollment_id: e.id.clone(),
        user_id: user.id.clone(),
        ca_id,
        serial_hex: issued.serial_hex,
        fingerprint_sha256: issued.fingerprint_sha256,
        subject: issued.subject,
        device_label: e.device_label.clone(),
        not_before: issued.not_before,
        not_after: issued.not_after,
        cert_der: issued.cert_der,
        state: State::Issued,
        revoked_at: None,
        revocation_reason: None,
        created_at: now,
    };
    db::insert_certificate(&mut *tx, &row).await?;
    if !db::cas_enrollment_state(&mut *tx, &e.id, e.state, next, Some(&row.id), None).await? {
        return Err(CertError::Conflict);
    }
    audit::record(
        &mut *tx,
        now,
        actor,
        action::CERT_ISSUE,
        Some(&user.id),
        Some(&row.id),
        Some(&e.id),
        &format!("serial={}", row.serial_hex),
    )
    .await?;
    s.faults.check(FailPoint::AfterIssue, &user.id)?;
    if let Some(old_id) = &e.renews_certificate_id {
        if let Some(old) = db::certificate_by_id(&mut *tx, old_id).await? {
            let st = crate::domain::lifecycle::effective_state(old.state, Some(old.not_after), now);
            // Already revoked meanwhile (e.g. lost device): nothing to supersede.
            if let Ok(to) = transition(st, Event::Supersede) {
                if db::cas_certificate_revoke(
                    &mut *tx,
                    &old.id,
                    to,
                    RevocationReason::Superseded,
                    now,
                )
                .await?
                {
                    audit::record(
                        &mut *tx,
                        now,
                        actor,
                        action::CERT_SUPERSEDE,
                        Some(&user.id),
                        Some(&old.id),
                        Some(&e.id),
                        &format!("by serial={}", row.serial_hex),
                    )
                    .await?;
                    let policy = s.policy(&mut *tx).await?;
                    let old_signer = s.signer_in(&mut *tx, &old.ca_id).await?;
                    publish_crl(&mut *tx, &old_signer, now, policy.crl_next_update_days).await?;
                }
            }
        }
    }
    Ok(PickedUp {
        certificate: row,
        p12,
        ca_der,
        user,
    })
}

/// Revokes the certificate of an entry, or withdraws the entry when nothing was picked up
/// yet (the same action the user's and the administrator's "Revoke" take).
pub async fn revoke_entry(
    s: &Services,
    actor: &Actor,
    entry: &str,
    reason: RevocationReason,
) -> Result<(), CertError> {
    let e = {
        let mut c = s.conn().await?;
        db::enrollment_by_id(&mut c, entry)
            .await?
            .ok_or(CertError::NotFound("enrollment"))?
    };
    match &e.certificate_id {
        Some(cert) => {
            revoke_certificate(s, actor, cert, reason).await?;
        }
        None => {
            withdraw_enrollment(s, actor, &e.id).await?;
        }
    }
    Ok(())
}

/// Revokes one certificate (or withdraws one enrollment not yet picked up) and republishes
/// the CA's CRL in the same transaction. Rule 1: a final state stays final.
pub async fn revoke_certificate(
    s: &Services,
    actor: &Actor,
    certificate_id: &str,
    reason: RevocationReason,
) -> Result<CertificateRow, CertError> {
    let now = s.now();
    let mut tx = s.db.begin().await?;
    let cert = db::certificate_by_id(&mut tx, certificate_id)
        .await?
        .ok_or(CertError::NotFound("certificate"))?;
    if !actor.is_admin && actor.user_id.as_deref() != Some(cert.user_id.as_str()) {
        return Err(CertError::Forbidden);
    }
    let st = crate::domain::lifecycle::effective_state(cert.state, Some(cert.not_after), now);
    let to = check(st, Event::Revoke(reason))?;
    if !db::cas_certificate_revoke(&mut tx, &cert.id, to, reason, now).await? {
        return Err(CertError::Conflict);
    }
    audit::record(
        &mut tx,
        now,
        actor,
        action::CERT_REVOKE,
        Some(&cert.user_id),
        Some(&cert.id),
        None,
        &format!("serial={} reason={}", cert.serial_hex, reason.code()),
    )
    .await?;
    let signer = s.signer_in(&mut tx, &cert.ca_id).await?;
    let policy = s.policy(&mut tx).await?;
    publish_crl(&mut tx, &signer, now, policy.crl_next_update_days).await?;
    let updated = db::certificate_by_id(&mut tx, &cert.id)
        .await?
        .ok_or(CertError::NotFound("certificate"))?;
    tx.commit().await?;
    Ok(updated)
}

/// Rule 6: every `ready` enrollment past its pickup deadline becomes `lapsed`. Returns how
/// many lapsed. Each one is its own small transaction with its audit record.
pub async fn lapse_overdue(s: &Services) -> Result<usize, CertError> {
    let now = s.now();
    let overdue = {
        let mut c = s.conn().await?;
        db::overdue_enrollments(&mut c, now).await?
    };
    let mut n = 0;
    for e in overdue {
        let mut tx = s.db.begin().await?;
        let to = check(e.state, Event::DeadlinePassed)?;
        if db::cas_enrollment_state(&mut tx, &e.id, e.state, to, None, None).await? {
            audit::record(
                &mut tx,
                now,
                &Actor::system(),
                action::ENROLLMENT_LAPSE,
                Some(&e.user_id),
                None,
                Some(&e.id),
                "pickup deadline passed",
            )
            .await?;
            n += 1;
        }
        tx.commit().await?;
    }
    Ok(n)
}

/// The entries of one user as the lists show them: certificates, and enrollments that were
/// never picked up, each with its effective state at `now`.
pub async fn entries_for_user(
    c: &mut Conn,
    user_id: &str,
    now: i64,
) -> Result<Vec<(State, Option<CertificateRow>, EnrollmentRow)>, CertError> {
    let certs = db::certificates_for_user(c, user_id).await?;
    let mut out = Vec::new();
    for e in db::enrollments_for_user(c, user_id).await? {
        let cert = certs.iter().find(|x| x.enrollment_id == e.id).cloned();
        let st = match &cert {
            Some(x) => crate::domain::lifecycle::effective_state(x.state, Some(x.not_after), now),
            None => e.state,
        };
        out.push((st, cert, e));
    }
    Ok(out)
}

/// Revokes every active certificate of a user with `reason` (rule 2's "remove existing",
/// rule 9's lost device), each compare-and-set with its audit row, inside the caller's
/// transaction. Returns how many, and the CAs whose CRL the caller must republish.
pub(crate) async fn revoke_all_active(
    tx: &mut Conn,
    actor: &Actor,
    user_id: &str,
    reason: RevocationReason,
    now: i64,
    why: &str,
) -> Result<(usize, Vec<String>), CertError> {
    revoke_all_active_then(tx, actor, user_id, (reason, now, why), db::Summary::Refresh).await
}

/// [`revoke_all_active`], with the user's directory summary refreshed now or left to a
/// later statement of the same transaction ([`db::Summary::Later`]).
async fn revoke_all_active_then(
    tx: &mut Conn,
    actor: &Actor,
    user_id: &str,
    (reason, now, why): (RevocationReason, i64, &str),
    summary: db::Summary,
) -> Result<(usize, Vec<String>), CertError> {
    let mut crl_cas: Vec<String> = Vec::new();
    let active = db::active_certificates_for_user(tx, user_id, now).await?;
    for cert in &active {
        let to = check(State::Issued, Event::Revoke(reason))?;
        if !db::cas_certificate_revoke_then(tx, &cert.id, (to, reason, now), summary).await? {
            return Err(CertError::Conflict);
        }
        audit::record(
            tx,
            now,
            actor,
            action::CERT_REVOKE,
            Some(user_id),
            Some(&cert.id),
            None,
            &format!(
                "serial={} reason={} ({why})",
                cert.serial_hex,
                reason.code()
            ),
        )
        .await?;
        if !crl_cas.contains(&cert.ca_id) {
            crl_cas.push(cert.ca_id.clone());
        }
    }
    Ok((active.len(), crl_cas))
}

/// Withdraws an enrollment not yet picked up (`pending` or `ready`): it becomes `revoked`
/// (final) and its open links are voided, in one transaction.
pub async fn withdraw_enrollment(
    s: &Services,
    actor: &Actor,
    enrollment_id: &str,
) -> Result<EnrollmentRow, CertError> {
    let now = s.now();
    let mut tx = s.db.begin().await?;
    let e = db::enrollment_by_id(&mut tx, enrollment_id)
        .await?
        .ok_or(CertError::NotFound("enrollment"))?;
    if !actor.is_admin && actor.user_id.as_deref() != Some(e.user_id.as_str()) {
        return Err(CertError::Forbidden);
    }
    let reason = RevocationReason::CessationOfOperation;
    let to = check(e.state, Event::Revoke(reason))?;
    if !db::cas_enrollment_state(&mut tx, &e.id, e.state, to, None, Some(reason)).await? {
        return Err(CertError::Conflict);
    }
    let voided = db::link_rows::void_open_links(&mut tx, &e.id, now).await?;
    audit::record(
        &mut tx,
        now,
        actor,
        action::ENROLLMENT_WITHDRAW,
        Some(&e.user_id),
        None,
        Some(&e.id),
        &format!("links voided={voided}"),
    )
    .await?;
    let updated = db::enrollment_by_id(&mut tx, &e.id)
        .await?
        .ok_or(CertError::NotFound("enrollment"))?;
    tx.commit().await?;
    Ok(updated)
}

/// What "I lost my device" did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LostDevice {
    pub certificates_revoked: usize,
    pub links_voided: u64,
    pub sessions_ended: u64,
    pub passkeys_removed: u64,
}

/// Rule 9, one action: revokes every active certificate of the user (`keyCompromise`),
/// voids their open links, ends all their sessions, removes every passkey (the lost device
/// may hold one; the user adds passkeys again after a password sign-in) and — when they have
/// a password — forces a password change at the next sign-in, which asks for the current
/// password. One transaction, with the CRLs republished.
pub async fn lost_device(
    s: &Services,
    actor: &Actor,
    user_id: &str,
) -> Result<LostDevice, CertError> {
    let now = s.now();
    let mut tx = s.db.begin().await?;
    let user = db::user_by_id(&mut tx, user_id)
        .await?
        .ok_or(CertError::NotFound("user"))?;
    if !actor.is_admin && actor.user_id.as_deref() != Some(user.id.as_str()) {
        return Err(CertError::Forbidden);
    }
    db::lock_user(&mut tx, &user.id).await?;
    let reason = RevocationReason::KeyCompromise;
    let (revoked, crl_cas) =
        revoke_all_active(&mut tx, actor, &user.id, reason, now, "lost device").await?;
    let links_voided = db::link_rows::void_open_links_for_user(&mut tx, &user.id, now).await?;
    let sessions_ended = db::auth_rows::delete_user_sessions(&mut tx, &user.id).await?;
    let passkeys_removed = db::auth_rows::delete_user_passkeys(&mut tx, &user.id).await?;
    if db::auth_rows::password_hash(&mut tx, &user.id)
        .await?
        .is_some()
    {
        db::auth_rows::set_must_change_password(&mut tx, &user.id, true, now).await?;
    }
    audit::record(
        &mut tx,
        now,
        actor,
        action::LOST_DEVICE,
        Some(&user.id),
        None,
        None,
        &format!(
            "certificates={revoked} links={links_voided} sessions={sessions_ended} \
             passkeys={passkeys_removed}"
        ),
    )
    .await?;
    let policy = s.policy(&mut tx).await?;
    for ca_id in crl_cas {
        let signer = s.signer_in(&mut tx, &ca_id).await?;
        publish_crl(&mut tx, &signer, now, policy.crl_next_update_days).await?;
    }
    tx.commit().await?;
    Ok(LostDevice {
        certificates_revoked: revoked,
        links_voided,
        sessions_ended,
        passkeys_removed,
    })
}

/// Re-signs every unexpired CA's CRL once less than half of its validity period is left (or
/// it has none), so relying parties never hold a CRL past its `nextUpdate`. CRL numbers only
/// grow. Returns how many were re-signed. Run by the background task on the injected clock.
pub async fn refresh_crls(s: &Services) -> Result<usize, CertError> {
    let now = s.now();
    let (cas, policy) = {
        let mut c = s.conn().await?;
        (db::list_cas(&mut c).await?, s.policy(&mut c).await?)
    };
    let margin = policy.crl_next_update_days * 86_400 / 2;
    let due = |next: Option<i64>| next.is_none_or(|t| t - now <= margin);
    let mut n = 0;
    for ca in cas {
        if ca.not_after <= now || !due(ca.crl_next_update) {
            continue;
        }
        let mut tx = s.db.begin().await?;
        // Another instance may have refreshed it meanwhile.
        let current = db::ca_by_id(&mut tx, &ca.id).await?;
        if !current.is_some_and(|c| due(c.crl_next_update)) {
            continue;
        }
        let signer = s.signer_in(&mut tx, &ca.id).await?;
        publish_crl(&mut tx, &signer, now, policy.crl_next_update_days).await?;
        tx.commit().await?;
        n += 1;
    }
    Ok(n)
}
