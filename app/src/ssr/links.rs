//! One-time pickup links (rule 5) and what redeeming one hands out.
//!
//! A link is a 256-bit random token; the database keeps only its SHA-256. The bundle PIN is
//! derived from the token with the portal's key ([`Services::pin_for_token`]), so it is shown
//! once, on the screen that made the link, and never stored. Making a new link voids the
//! earlier unused ones of the same enrollment. Redeeming marks the link used and picks the
//! enrollment up in one transaction, so of two phones racing exactly one gets a certificate.

use super::audit::{self, action, Actor};
use super::certs::{self, CertError, NewEnrollment, PickedUp};
use super::db::{self, link_rows, EnrollmentRow, LinkRow};
use super::ids;
use super::profile;
use super::services::Services;
use crate::domain::lifecycle::{
    check_action, effective_state, transition, Action, Actor as RuleActor, Event, State,
};
use crate::domain::platform::Format;
use crate::domain::policy::P12Form;

/// A freshly made link, as the screen that made it (or the helpdesk CLI) shows it.
#[derive(Clone)]
pub struct IssuedLink {
    pub url: String,
    pub token: String,
    pub pin: String,
    pub expires_at: i64,
    pub enrollment: EnrollmentRow,
}

impl std::fmt::Debug for IssuedLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedLink")
            .field("enrollment", &self.enrollment.id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// What "Show renewal URL" leads to for one entry.
#[derive(Debug, Clone)]
pub enum LinkOutcome {
    Link(IssuedLink),
    /// The (renewal) request waits for an administrator (approval mode).
    AwaitingApproval(EnrollmentRow),
}

/// Why a link cannot be redeemed. Nothing changes in any of these cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkProblem {
    #[error("this link is not known; check that it was copied completely")]
    Unknown,
    #[error("this link has already been used; make a new one in the portal")]
    Used,
    #[error("this link has expired; make a new one in the portal")]
    Expired,
    #[error("this link was replaced by a newer one or withdrawn; use the newest link")]
    Voided,
    #[error("the certificate behind this link can no longer be picked up")]
    NotReady,
}

impl LinkProblem {
    pub fn code(self) -> crate::domain::error_code::ErrorCode {
        use crate::domain::error_code::ErrorCode as E;
        match self {
            LinkProblem::Unknown => E::LinkUnknown,
            LinkProblem::Used => E::LinkUsed,
            LinkProblem::Expired => E::LinkExpired,
            LinkProblem::Voided => E::LinkVoided,
            LinkProblem::NotReady => E::LinkNotReady,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RedeemError {
    #[error(transparent)]
    Link(#[from] LinkProblem),
    #[error(transparent)]
    Cert(#[from] CertError),
}

impl From<db::DbError> for RedeemError {
    fn from(e: db::DbError) -> Self {
        RedeemError::Cert(CertError::Db(e))
    }
}

impl From<sqlx::Error> for RedeemError {
    fn from(e: sqlx::Error) -> Self {
        RedeemError::Cert(CertError::from(e))
    }
}

/// What the landing page may say about a link without changing anything.
#[derive(Debug, Clone)]
pub struct LinkInfo {
    pub device_label: String,
    pub renewal: bool,
    pub expires_at: i64,
    pub installer_link: Option<String>,
}

fn url_of(s: &Services, token: &str) -> String {
    format!("{}/pickup/{token}", s.public_url)
}

fn problem_of(l: &LinkRow, now: i64) -> Option<LinkProblem> {
    if l.used_at.is_some() {
        Some(LinkProblem::Used)
    } else if l.voided_at.is_some() {
        Some(LinkProblem::Voided)
    } else if l.expires_at <= now {
        Some(LinkProblem::Expired)
    } else {
        None
    }
}

/// The rule inputs for `actor` acting on an entry of `owner`.
async fn rule_actor(
    s: &Services,
    c: &mut db::Conn,
    actor: &Actor,
    owner: &db::UserRow,
) -> Result<RuleActor, CertError> {
    let policy = s.policy(c).await?;
    Ok(RuleActor {
        is_admin: actor.is_admin,
        owns_entry: actor.user_id.as_deref() == Some(owner.id.as_str()),
        reissue_allowed: owner
            .reissue_allowed
            .unwrap_or(policy.reissue_allowed_default),
    })
}

/// "Show renewal URL" for one entry (an enrollment id; a certificate is reached through the
/// enrollment it was picked up from). A `ready` enrollment gets a link; an issued or expired
/// certificate gets a renewal enrollment first (rule 3, reissue must be allowed), or its open
/// one is reused. In approval mode a user's renewal waits instead.
pub async fn show_link(
    s: &Services,
    actor: &Actor,
    enrollment_id: &str,
) -> Result<LinkOutcome, CertError> {
    let now = s.now();
    let (entry, cert, owner, who) = {
        let mut c = s.conn().await?;
        let e = db::enrollment_by_id(&mut c, enrollment_id)
            .await?
            .ok_or(CertError::NotFound("enrollment"))?;
        let owner = db::user_by_id(&mut c, &e.user_id)
            .await?
            .ok_or(CertError::NotFound("user"))?;
        let cert = match &e.certificate_id {
            Some(id) => db::certificate_by_id(&mut c, id).await?,
            None => None,
        };
        let who = rule_actor(s, &mut c, actor, &owner).await?;
        (e, cert, owner, who)
    };
    if !who.is_admin && !who.owns_entry {
        return Err(CertError::Forbidden);
    }
    let target = match cert {
        None => {
            check_action(who, entry.state, Action::ShowLink).map_err(permission)?;
            // A waiting renewal still needs reissue to be allowed (rule 3).
            if entry.renews_certificate_id.is_some() && !who.is_admin && !who.reissue_allowed {
                return Err(CertError::ReissueNotAllowed);
            }
            entry
        }
        Some(cert) => {
            let st = effective_state(cert.state, Some(cert.not_after), now);
            check_action(who, st, Action::Renew).map_err(permission)?;
            let open = {
                let mut c = s.conn().await?;
                link_rows::open_renewal_of(&mut c, &cert.id).await?
            };
            match open {
                Some(e) => e,
                None => {
                    certs::create_enrollment(
                        s,
                        actor,
                        &NewEnrollment {
                            user_id: owner.id.clone(),
                            device_label: crate::domain::validate::DeviceLabel::parse(
                                &cert.device_label,
                            )
                            .unwrap_or_default(),
                            renews_certificate_id: Some(cert.id.clone()),
                            ..NewEnrollment::default()
                        },
                    )
                    .await?
                }
            }
        }
    };
    if target.state == State::Pending {
        return Ok(LinkOutcome::AwaitingApproval(target));
    }
    Ok(LinkOutcome::Link(make_link(s, actor, &target.id).await?))
}

fn permission(e: crate::domain::lifecycle::PermissionError) -> CertError {
    use crate::domain::lifecycle::PermissionError as P;
    match e {
        P::NotOwner | P::AdminOnly => CertError::Forbidden,
        P::ReissueNotAllowed => CertError::ReissueNotAllowed,
        P::Lifecycle(l) => CertError::Lifecycle(l),
    }
}

/// Makes a new one-time link to a `ready` enrollment, voiding its earlier unused links, in
/// one transaction with its audit record.
pub async fn make_link(
    s: &Services,
    actor: &Actor,
    enrollment_id: &str,
) -> Result<IssuedLink, CertError> {
    let now = s.now();
    let mut tx = s.db.begin().await?;
    let e = db::enrollment_by_id(&mut tx, enrollment_id)
        .await?
        .ok_or(CertError::NotFound("enrollment"))?;
    if !actor.is_admin && actor.user_id.as_deref() != Some(e.user_id.as_str()) {
        return Err(CertError::Forbidden);
    }
    db::lock_user(&mut tx, &e.user_id).await?;
    // Re-read under the lock: a concurrent pickup or withdrawal wins cleanly.
    let e = db::enrollment_by_id(&mut tx, enrollment_id)
        .await?
        .ok_or(CertError::NotFound("enrollment"))?;
    transition(e.state, Event::MakeLink)?;
    if e.pickup_deadline <= now {
        // Past the deadline but not yet lapsed by the background task.
        return Err(CertError::Lifecycle(
            crate::domain::lifecycle::LifecycleError::NotReady,
        ));
    }
    let policy = s.policy(&mut tx).await?;
    let voided = link_rows::void_open_links(&mut tx, &e.id, now).await?;
    let token = ids::new_token();
    let link = LinkRow {
        id: ids::new_id(),
        enrollment_id: e.id.clone(),
        token_hash: ids::token_hash(&token),
        created_by: actor.user_id.clone().or_else(|| Some(actor.label.clone())),
        created_at: now,
        // Never past the pickup deadline: a link must not outlive what it picks up.
        expires_at: (now + policy.link_lifetime_secs()).min(e.pickup_deadline),
        used_at: None,
        voided_at: None,
    };
    link_rows::insert_link(&mut tx, &link).await?;
    audit::record(
        &mut tx,
        now,
        actor,
        action::LINK_CREATE,
        Some(&e.user_id),
        None,
        Some(&e.id),
        &format!("expires_at={} voided={voided}", link.expires_at),
    )
    .await?;
    tx.commit().await?;
    Ok(IssuedLink {
        url: url_of(s, &token),
        pin: s.pin_for_token(&token)?,
        token,
        expires_at: link.expires_at,
        enrollment: e,
    })
}

/// The link a screen made earlier (its token kept in that browser), if it is still usable
/// and belongs to `enrollment_id` of a user `actor` may act for.
pub async fn current_link(
    s: &Services,
    actor: &Actor,
    enrollment_id: &str,
    token: &str,
) -> Result<Option<IssuedLink>, CertError> {
    let now = s.now();
    let mut c = s.conn().await?;
    let Some(l) = link_rows::link_by_hash(&mut c, &ids::token_hash(token)).await? else {
        return Ok(None);
    };
    if l.enrollment_id != enrollment_id || problem_of(&l, now).is_some() {
        return Ok(None);
    }
    let e = db::enrollment_by_id(&mut c, &l.enrollment_id)
        .await?
        .ok_or(CertError::NotFound("enrollment"))?;
    if !actor.is_admin && actor.user_id.as_deref() != Some(e.user_id.as_str()) {
        return Err(CertError::Forbidden);
    }
    if e.state != State::Ready {
        return Ok(None);
    }
    Ok(Some(IssuedLink {
        url: url_of(s, token),
        pin: s.pin_for_token(token)?,
        token: token.to_string(),
        expires_at: l.expires_at,
        enrollment: e,
    }))
}

/// What the phone's landing page shows. Read-only: opening the page changes nothing, so
/// link previewers and scanners cannot burn a link.
pub async fn inspect(s: &Services, token: &str) -> Result<LinkInfo, RedeemError> {
    let now = s.now();
    let mut c = s.conn().await?;
    let l = link_rows::link_by_hash(&mut c, &ids::token_hash(token))
        .await?
        .ok_or(LinkProblem::Unknown)?;
    if let Some(p) = problem_of(&l, now) {
        return Err(p.into());
    }
    let e = db::enrollment_by_id(&mut c, &l.enrollment_id)
        .await?
        .ok_or(LinkProblem::Unknown)?;
    if e.state != State::Ready {
        return Err(LinkProblem::NotReady.into());
    }
    let policy = s.policy(&mut c).await.map_err(CertError::from)?;
    Ok(LinkInfo {
        device_label: e.device_label,
        renewal: e.renews_certificate_id.is_some(),
        expires_at: l.expires_at,
        installer_link: policy.installer_link.clone(),
    })
}

/// A redeemed link: the file to send and its name.
pub struct Download {
    pub bytes: Vec<u8>,
    pub format: Format,
    pub file_name: String,
    pub serial_hex: String,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("format", &self.format)
            .field("serial", &self.serial_hex)
            .finish_non_exhaustive()
    }
}

/// Redeems a link: in one transaction marks it used (only one caller can), signs the
/// certificate (superseding the renewed one), and builds the bundle under the link's PIN.
/// A used, expired, voided or unknown link changes nothing. The failed attempt is audited.
pub async fn redeem(
    s: &Services,
    token: &str,
    format: Format,
    ip: Option<String>,
) -> Result<Download, RedeemError> {
    let result = redeem_in_tx(s, token, format, ip.clone()).await;
    if let Err(RedeemError::Link(p)) = &result {
        let now = s.now();
        if let Ok(mut c) = s.conn().await {
            let _ = audit::record_result(
                &mut c,
                now,
                &Actor::anonymous(ip),
                action::LINK_REDEEM,
                None,
                p.code().as_str(),
                "",
            )
            .await;
        }
    }
    result
}

async fn redeem_in_tx(
    s: &Services,
    token: &str,
    format: Format,
    ip: Option<String>,
) -> Result<Download, RedeemError> {
    let now = s.now();
    let mut tx = s.db.begin().await?;
    let l = link_rows::link_by_hash(&mut tx, &ids::token_hash(token))
        .await?
        .ok_or(LinkProblem::Unknown)?;
    if let Some(p) = problem_of(&l, now) {
        return Err(p.into());
    }
    let owner_id = db::enrollment_by_id(&mut tx, &l.enrollment_id)
        .await?
        .ok_or(LinkProblem::Unknown)?
        .user_id;
    // The user's lock first, then the link's (the order every use case takes them in).
    db::lock_user(&mut tx, &owner_id).await?;
    if !link_rows::use_link(&mut tx, &l.id, now).await? {
        // Another phone won the race meanwhile (PostgreSQL re-checks after the row lock).
        return Err(LinkProblem::Used.into());
    }
    let e = db::enrollment_by_id(&mut tx, &l.enrollment_id)
        .await?
        .ok_or(LinkProblem::Unknown)?;
    if transition(e.state, Event::PickUp).is_err() {
        return Err(LinkProblem::NotReady.into());
    }
    let owner = db::user_by_id(&mut tx, &e.user_id)
        .await?
        .ok_or(CertError::NotFound("user"))?;
    let actor = Actor {
        user_id: Some(owner.id.clone()),
        label: format!("{} (one-time link)", owner.login),
        is_admin: false,
        ip,
    };
    let pin = s.pin_for_token(token).map_err(CertError::from)?;
    // Apple devices reject the AES/SHA-256 form: a profile always carries the legacy one.
    let form = match format {
        Format::Mobileconfig => Some(P12Form::Legacy),
        Format::P12 | Format::Pfx => None,
    };
    let picked: PickedUp = match certs::pick_up_in(s, &mut tx, &actor, &e.id, &pin, form).await {
        Ok(p) => p,
        // Refused by the rules (e.g. the certificate was already renewed, the account
        // deactivated): the link cannot deliver; nothing is committed.
        Err(
            CertError::Lifecycle(_)
            | CertError::Conflict
            | CertError::UserInactive
            | CertError::Forbidden,
        ) => return Err(LinkProblem::NotReady.into()),
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &mut tx,
        now,
        &actor,
        action::LINK_REDEEM,
        Some(&owner.id),
        Some(&picked.certificate.id),
        Some(&e.id),
        &format!("format={}", format.code()),
    )
    .await?;
    let bytes = match format {
        Format::Mobileconfig => profile::mobileconfig(&profile::ProfileInput {
            portal_url: &s.public_url,
            user_id: &owner.id,
            login: &owner.login,
            display_name: &owner.display_name,
            p12: &picked.p12,
            ca_der: &picked.ca_der,
        })
        .into_bytes(),
        Format::P12 | Format::Pfx => picked.p12.clone(),
    };
    tx.commit().await?;
    Ok(Download {
        file_name: format!("certportal-{}.{}", owner.login, format.code()),
        format,
        serial_hex: picked.certificate.serial_hex.clone(),
        bytes,
    })
}

/// The helpdesk path (`certportal link create`): the same link and PIN "Show renewal URL"
/// makes, for an administrator to send. With `renew_serial`, a renewal of that certificate;
/// otherwise the user's newest `ready` enrollment (matching `device` when given), or a new
/// administrator-created one under the usual rules (e.g. `max_active_per_user`).
pub async fn helpdesk_link(
    s: &Services,
    actor: &Actor,
    login: &str,
    renew_serial: Option<&str>,
    device: Option<&crate::domain::validate::DeviceLabel>,
) -> Result<LinkOutcome, CertError> {
    let (user, target) = {
        let mut c = s.conn().await?;
        let user = db::user_by_login(&mut c, login)
            .await?
            .ok_or(CertError::NotFound("user"))?;
        let target = match renew_serial {
            Some(serial) => {
                let serial = serial.trim().to_ascii_lowercase().replace(':', "");
                let cert = db::certificate_by_serial(&mut c, &serial)
                    .await?
                    .ok_or(CertError::NotFound("certificate"))?;
                if cert.user_id != user.id {
                    return Err(CertError::NotFound("certificate"));
                }
                Some(cert.enrollment_id)
            }
            None => db::open_enrollments_for_user(&mut c, &user.id)
                .await?
                .into_iter()
                .rev()
                .filter(|e| e.state == State::Ready)
                .find(|e| device.is_none_or(|d| e.device_label == d.as_str()))
                .map(|e| e.id),
        };
        (user, target)
    };
    match target {
        Some(id) => show_link(s, actor, &id).await,
        None => {
            let e = certs::create_enrollment(
                s,
                actor,
                &NewEnrollment {
                    user_id: user.id.clone(),
                    device_label: device.cloned().unwrap_or_default(),
                    ..NewEnrollment::default()
                },
            )
            .await?;
            show_link(s, actor, &e.id).await
        }
    }
}
