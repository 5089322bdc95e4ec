//! One-time pickup links (rule 5) and what redeeming one hands out.
//!
//! A link is a 256-bit random token; the database keeps only its SHA-256. The PIN is derived
//! from the token with the portal's key ([`Services::pin_for_token`]), so it is shown once, on
//! the screen that made the link, and never stored. Making a new link voids the earlier
//! unused ones of the same enrollment.
//!
//! The phone proves the PIN to the server first ([`unlock`]): five wrong PINs void the link.
//! A correct PIN gives the phone's browser a short-lived grant, the only thing that releases
//! anything ([`redeem`]): a SCEP profile for Apple devices, whose device then enrolls
//! ([`scep_operation`]), or a PKCS#12. Whatever signs the certificate marks the link used in
//! the same transaction, so of two phones racing exactly one gets a certificate.

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
use crate::domain::policy::{AppleProfile, P12Form};

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
    #[error("this link was locked after too many wrong PINs; make a new one in the portal")]
    Locked,
    #[error("enter the PIN first")]
    PinRequired,
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
            LinkProblem::Locked => E::LinkLocked,
            LinkProblem::PinRequired => E::PinRequired,
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
    /// This browser holds a live grant (a correct PIN): offer the installer.
    pub unlocked: bool,
    /// This browser picked the link up at this time.
    pub downloaded_at: Option<i64>,
    /// Apple devices get a SCEP profile (the policy's `apple_profile`).
    pub apple_scep: bool,
}

fn url_of(s: &Services, token: &str) -> String {
    format!("{}/pickup/{token}", s.public_url)
}

fn problem_of(l: &LinkRow, now: i64) -> Option<LinkProblem> {
    if l.used_at.is_some() {
        Some(LinkProblem::Used)
    } else if l.voided_at.is_some() {
        Some(if l.void_reason.as_deref() == Some("pin") {
            LinkProblem::Locked
        } else {
            LinkProblem::Voided
        })
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
        pin_failures: 0,
        void_reason: None,
        unlocked_at: None,
        profile_at: None,
        picked_format: None,
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

/// What the screen that made a link shows live about it: whether the phone proved the PIN,
/// picked it up or enrolled, or locked it with wrong PINs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkStatus {
    /// Why the link can no longer be used, if it cannot.
    pub problem: Option<LinkProblem>,
    pub unlocked_at: Option<i64>,
    /// A profile with the SCEP challenge was handed out; the device has not enrolled yet
    /// unless `picked_at` is set.
    pub profile_at: Option<i64>,
    pub picked_at: Option<i64>,
    /// `p12`, `pfx`, `mobileconfig` (a PKCS#12 profile) or `scep`.
    pub picked_format: Option<String>,
    pub pin_failures: i64,
}

fn status_of(l: &LinkRow, now: i64) -> LinkStatus {
    LinkStatus {
        problem: problem_of(l, now),
        unlocked_at: l.unlocked_at,
        profile_at: l.profile_at,
        picked_at: l.used_at,
        picked_format: l.picked_format.clone(),
        pin_failures: l.pin_failures,
    }
}

/// The link a screen made earlier (its token kept in that browser) with its live status, if
/// it belongs to `enrollment_id` of a user `actor` may act for and was not replaced.
pub async fn current_link(
    s: &Services,
    actor: &Actor,
    enrollment_id: &str,
    token: &str,
) -> Result<Option<(IssuedLink, LinkStatus)>, CertError> {
    let now = s.now();
    let mut c = s.conn().await?;
    let Some(l) = link_rows::link_by_hash(&mut c, &ids::token_hash(token)).await? else {
        return Ok(None);
    };
    if l.enrollment_id != enrollment_id {
        return Ok(None);
    }
    let status = status_of(&l, now);
    if status.problem == Some(LinkProblem::Voided) {
        return Ok(None);
    }
    let e = db::enrollment_by_id(&mut c, &l.enrollment_id)
        .await?
        .ok_or(CertError::NotFound("enrollment"))?;
    if !actor.is_admin && actor.user_id.as_deref() != Some(e.user_id.as_str()) {
        return Err(CertError::Forbidden);
    }
    Ok(Some((
        IssuedLink {
            url: url_of(s, token),
            pin: s.pin_for_token(token)?,
            token: token.to_string(),
            expires_at: l.expires_at,
            enrollment: e,
        },
        status,
    )))
}

/// What the landing page shows. Read-only: opening the page changes nothing, so link
/// previewers and scanners cannot burn a link. `grant` is the grant this browser holds, if
/// any: with a live one the page offers the installer instead of asking for the PIN.
pub async fn inspect(
    s: &Services,
    token: &str,
    grant: Option<&str>,
) -> Result<LinkInfo, RedeemError> {
    let now = s.now();
    let mut c = s.conn().await?;
    let l = link_rows::link_by_hash(&mut c, &ids::token_hash(token))
        .await?
        .ok_or(LinkProblem::Unknown)?;
    let held = match grant {
        Some(g) => link_rows::grant_by_hash(&mut c, &ids::token_hash(g))
            .await?
            .filter(|g| g.link_id == l.id),
        None => None,
    };
    if let Some(p) = problem_of(&l, now) {
        // This browser redeemed the link itself: say so kindly, not "already used".
        if p == LinkProblem::Used && held.as_ref().is_some_and(|g| g.used_at.is_some()) {
            let e = db::enrollment_by_id(&mut c, &l.enrollment_id)
                .await?
                .ok_or(LinkProblem::Unknown)?;
            return Ok(LinkInfo {
                device_label: e.device_label,
                renewal: e.renews_certificate_id.is_some(),
                expires_at: l.expires_at,
                installer_link: None,
                unlocked: false,
                downloaded_at: l.used_at,
                apple_scep: false,
            });
        }
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
        unlocked: held.is_some_and(|g| g.expires_at > now),
        downloaded_at: None,
        apple_scep: policy.apple_profile == AppleProfile::Scep,
    })
}

/// Forgets grants that ended a day ago (the page a phone reopens within that day can still
/// say "downloaded"). Run by the background task.
pub async fn purge_old_grants(s: &Services) -> Result<u64, CertError> {
    let mut c = s.conn().await?;
    Ok(link_rows::purge_grants(&mut c, s.now() - 86_400).await?)
}

/// How long a grant made by a correct PIN lives (never past its link).
pub const GRANT_SECS: i64 = 600;
/// How long after its link expired a device that got the profile in time may still enroll
/// (iOS keeps a downloaded profile for about 8 minutes before the user installs it).
pub const SCEP_GRACE_SECS: i64 = 900;

/// A grant made by a correct PIN: the secret the phone's browser keeps (a cookie) and when it
/// ends.
pub struct NewGrant {
    pub token: String,
    pub expires_at: i64,
}

impl std::fmt::Debug for NewGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewGrant")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Why a PIN was not accepted. Nothing but the counters changes.
#[derive(Debug, thiserror::Error)]
pub enum UnlockError {
    #[error(transparent)]
    Link(#[from] LinkProblem),
    #[error("wrong PIN; {left} attempts left")]
    WrongPin { left: i64 },
    #[error("too many wrong PINs from this address; wait {0} s")]
    Throttled(i64),
    #[error(transparent)]
    Cert(#[from] CertError),
}

impl From<db::DbError> for UnlockError {
    fn from(e: db::DbError) -> Self {
        UnlockError::Cert(CertError::Db(e))
    }
}

impl From<sqlx::Error> for UnlockError {
    fn from(e: sqlx::Error) -> Self {
        UnlockError::Cert(CertError::from(e))
    }
}

/// A PIN as typed: upper case, without spaces or dashes.
fn normalize_pin(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// Compares two strings in time that depends only on their SHA-256, not on where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    let (x, y) = (ids::token_hash(a), ids::token_hash(b));
    x.bytes()
        .zip(y.bytes())
        .fold(0u8, |acc, (p, q)| acc | (p ^ q))
        == 0
        && x.len() == y.len()
}

/// The phone proves the link's PIN (SPEC rule 5). A correct PIN makes a short-lived grant;
/// a wrong one is counted on the link — the fifth voids it, audited — and on the client's
/// address (IPv6 per /64), throttled like sign-ins, the check and the count one atomic step.
/// An unknown link, a link that no longer works and an address that is locked out are
/// answered from reads alone: nothing is written for them.
pub async fn unlock(
    s: &Services,
    token: &str,
    typed: &str,
    ip: Option<String>,
) -> Result<NewGrant, UnlockError> {
    use crate::domain::throttle;
    use crate::ssr::auth::{attempts, AuthError};
    let now = s.now();
    let hash = ids::token_hash(token);
    let keys: Vec<(String, throttle::Limits)> = attempts::address_key("pin:", &ip)
        .map(|k| (k, throttle::ADDRESS))
        .into_iter()
        .collect();
    let auth_err = |e: AuthError| match e {
        AuthError::Throttled(w) => UnlockError::Throttled(w),
        AuthError::Db(d) => UnlockError::Cert(CertError::Db(d)),
        other => UnlockError::Cert(CertError::Db(db::DbError::Corrupt(other.to_string()))),
    };
    {
        let mut c = s.conn().await?;
        attempts::throttle_check(&mut c, &keys, now)
            .await
            .map_err(auth_err)?;
        let l = link_rows::link_by_hash(&mut c, &hash)
            .await?
            .ok_or(LinkProblem::Unknown)?;
        if let Some(p) = problem_of(&l, now) {
            return Err(p.into());
        }
    }
    let expected = s.pin_for_token(token).map_err(CertError::from)?;
    let right = same_secret(&normalize_pin(typed), &expected);
    let mut tx = s.db.begin().await?;
    let l = link_rows::link_by_hash(&mut tx, &hash)
        .await?
        .ok_or(LinkProblem::Unknown)?;
    if let Some(p) = problem_of(&l, now) {
        return Err(p.into());
    }
    let e = db::enrollment_by_id(&mut tx, &l.enrollment_id)
        .await?
        .ok_or(LinkProblem::Unknown)?;
    if e.state != State::Ready {
        return Err(LinkProblem::NotReady.into());
    }
    let actor = Actor::anonymous(ip.clone());
    if !right {
        attempts::charge(&mut tx, &keys, now)
            .await
            .map_err(auth_err)?;
        let Some(failures) = link_rows::count_pin_failure(&mut tx, &l.id, now).await? else {
            // Used or voided meanwhile by another request: say what became of it.
            let again = link_rows::link_by_hash(&mut tx, &l.token_hash).await?;
            let p = again.and_then(|l| problem_of(&l, now));
            return Err(p.unwrap_or(LinkProblem::Used).into());
        };
        let locked = failures >= link_rows::MAX_PIN_FAILURES;
        audit::record(
            &mut tx,
            now,
            &actor,
            if locked {
                action::LINK_LOCKED
            } else {
                action::LINK_PIN_FAILED
            },
            Some(&e.user_id),
            None,
            Some(&e.id),
            &format!("failures={failures}"),
        )
        .await?;
        tx.commit().await?;
        return Err(if locked {
            UnlockError::Link(LinkProblem::Locked)
        } else {
            UnlockError::WrongPin {
                left: link_rows::MAX_PIN_FAILURES - failures,
            }
        });
    }
    let grant = ids::new_token();
    let expires_at = (now + GRANT_SECS).min(l.expires_at);
    link_rows::insert_grant(
        &mut tx,
        &link_rows::GrantRow {
            id_hash: ids::token_hash(&grant),
            link_id: l.id.clone(),
            created_at: now,
            expires_at,
            used_at: None,
        },
    )
    .await?;
    link_rows::mark_unlocked(&mut tx, &l.id, now).await?;
    audit::record(
        &mut tx,
        now,
        &actor,
        action::LINK_UNLOCK,
        Some(&e.user_id),
        None,
        Some(&e.id),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(NewGrant {
        token: grant,
        expires_at,
    })
}

/// A redeemed link: the file to send and its name.
pub struct Download {
    pub bytes: Vec<u8>,
    pub format: Format,
    pub file_name: String,
    /// The serial of the certificate signed for it (none for a SCEP profile: the device's
    /// enrollment signs it later).
    pub serial_hex: Option<String>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("format", &self.format)
            .field("serial", &self.serial_hex)
            .finish_non_exhaustive()
    }
}

/// Releases what a grant allows: for Apple devices (by default) a profile whose SCEP payload
/// lets the device make its key and enroll — nothing is signed yet and the link stays open, so
/// an abandoned install costs nothing; otherwise a PKCS#12 signed now, which uses up the link
/// and the grant in one transaction (of two taps or two phones exactly one gets it). A
/// missing, expired or foreign grant, and a used, expired or voided link, change nothing.
pub async fn redeem(
    s: &Services,
    token: &str,
    grant: &str,
    format: Format,
    ip: Option<String>,
    lang: crate::i18n::Lang,
) -> Result<Download, RedeemError> {
    // An unknown link or a missing grant is answered from reads alone: anonymous traffic
    // that changes nothing does not queue for the writer or leave rows behind.
    {
        let now = s.now();
        let mut c = s.conn().await?;
        let l = link_rows::link_by_hash(&mut c, &ids::token_hash(token))
            .await?
            .ok_or(LinkProblem::Unknown)?;
        link_rows::grant_by_hash(&mut c, &ids::token_hash(grant))
            .await?
            .filter(|g| g.link_id == l.id && g.expires_at > now)
            .ok_or(LinkProblem::PinRequired)?;
    }
    let result = redeem_in_tx(s, token, grant, format, ip.clone(), lang).await;
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

/// The link and grant of a redemption, checked: the link is open and the grant is this
/// browser's, unexpired and unused. Returns them with the link's enrollment.
async fn claimable(
    c: &mut db::Conn,
    token: &str,
    grant: &str,
    now: i64,
) -> Result<(LinkRow, link_rows::GrantRow, EnrollmentRow), RedeemError> {
    let l = link_rows::link_by_hash(&mut *c, &ids::token_hash(token))
        .await?
        .ok_or(LinkProblem::Unknown)?;
    let g = link_rows::grant_by_hash(&mut *c, &ids::token_hash(grant))
        .await?
        .filter(|g| g.link_id == l.id && g.expires_at > now)
        .ok_or(LinkProblem::PinRequired)?;
    if g.used_at.is_some() {
        return Err(LinkProblem::Used.into());
    }
    if let Some(p) = problem_of(&l, now) {
        return Err(p.into());
    }
    let e = db::enrollment_by_id(&mut *c, &l.enrollment_id)
        .await?
        .ok_or(LinkProblem::Unknown)?;
    Ok((l, g, e))
}

/// The pickup rules refusing a link's enrollment (renewed meanwhile, account deactivated…):
/// the link cannot deliver.
fn not_ready(e: CertError) -> RedeemError {
    match e {
        CertError::Lifecycle(_)
        | CertError::Conflict
        | CertError::UserInactive
        | CertError::Forbidden => LinkProblem::NotReady.into(),
        other => other.into(),
    }
}

async fn redeem_in_tx(
    s: &Services,
    token: &str,
    grant: &str,
    format: Format,
    ip: Option<String>,
    lang: crate::i18n::Lang,
) -> Result<Download, RedeemError> {
    match redeem_once(s, token, grant, format, ip.clone(), lang).await {
        // Something the bundle was signed from changed before it was recorded (a CA
        // rotation, a renamed account): sign again, once.
        Err(RedeemError::Cert(CertError::Conflict)) => {
            redeem_once(s, token, grant, format, ip, lang)
                .await
                .map_err(|e| match e {
                    RedeemError::Cert(c) => not_ready(c),
                    link => link,
                })
        }
        other => other,
    }
}

/// One try of [`redeem`]: reads and checks with nothing locked; signs (key, certificate,
/// PKCS#12, profile) on a blocking thread; then one short write transaction checks the link
/// and grant again, uses them up and records the certificate — of two taps or two phones
/// exactly one gets it, and the loser's bundle is dropped unrecorded, its key with it.
async fn redeem_once(
    s: &Services,
    token: &str,
    grant: &str,
    format: Format,
    ip: Option<String>,
    lang: crate::i18n::Lang,
) -> Result<Download, RedeemError> {
    let now = s.now();
    let (e, owner, policy) = {
        let mut c = s.conn().await?;
        let (_, _, e) = claimable(&mut c, token, grant, now).await?;
        if transition(e.state, Event::PickUp).is_err() {
            return Err(LinkProblem::NotReady.into());
        }
        let owner = db::user_by_id(&mut c, &e.user_id)
            .await?
            .ok_or(CertError::NotFound("user"))?;
        let policy = s.policy(&mut c).await.map_err(CertError::from)?;
        (e, owner, policy)
    };
    let actor = Actor {
        user_id: Some(owner.id.clone()),
        label: format!("{} (one-time link)", owner.login),
        is_admin: false,
        ip,
    };
    // Signed when a signer is configured (iOS then shows it as verified).
    let profile = |identity: profile::Identity,
                   ca_der: &[u8],
                   removal_date: i64|
     -> Result<Vec<u8>, CertError> {
        let xml = profile::mobileconfig(&profile::ProfileInput {
            portal_url: &s.public_url,
            user_id: &owner.id,
            login: &owner.login,
            display_name: &owner.display_name,
            identity,
            ca_der,
            removal_date,
            lang,
        })
        .into_bytes();
        match &s.profile_signer {
            Some(signer) => signer
                .sign(&xml)
                .map_err(|e| CertError::from(super::services::ServiceError::from(e))),
            None => Ok(xml),
        }
    };
    let file_name = format!("certportal-{}.{}", owner.login, format.code());
    if format == Format::Mobileconfig && policy.apple_profile == AppleProfile::Scep {
        // Nothing is signed now: the device enrolls with the profile's challenge.
        let mut tx = s.db.begin().await?;
        let (l, _, e) = claimable(&mut tx, token, grant, now).await?;
        // The user's lock first, then the link's (the order every use case takes them in).
        db::lock_user(&mut tx, &e.user_id).await?;
        let e = db::enrollment_by_id(&mut tx, &e.id)
            .await?
            .ok_or(LinkProblem::Unknown)?;
        if transition(e.state, Event::PickUp).is_err() {
            return Err(LinkProblem::NotReady.into());
        }
        let challenge = s.authority.scep_challenge(&l.id).map_err(CertError::from)?;
        link_rows::set_scep(&mut tx, &l.id, &ids::token_hash(&challenge), now).await?;
        let ca_id = s.current_ca_id(&mut tx).await.map_err(CertError::from)?;
        let signer = s
            .signer_in(&mut tx, &ca_id)
            .await
            .map_err(CertError::from)?;
        let not_after = policy
            .not_after(now, e.requested_not_after)
            .map_err(CertError::from)?;
        audit::record(
            &mut tx,
            now,
            &actor,
            action::LINK_PROFILE,
            Some(&owner.id),
            None,
            Some(&e.id),
            "scep",
        )
        .await?;
        tx.commit().await?;
        let scep = profile::ScepPayload {
            url: format!("{}/scep", s.public_url.trim_end_matches('/')),
            challenge,
            display_name: owner.display_name.clone(),
            login: owner.login.clone(),
            email: owner.email.clone(),
            upn: owner.upn.clone(),
        };
        let bytes = profile(profile::Identity::Scep(scep), &signer.cert_der, not_after)?;
        return Ok(Download {
            file_name,
            format,
            serial_hex: None,
            bytes,
        });
    }
    {
        let mut c = s.conn().await?;
        certs::pickable(&mut c, &actor, &e.id)
            .await
            .map_err(not_ready)?;
    }
    let pin = s.pin_for_token(token).map_err(CertError::from)?;
    // Apple devices reject the AES/SHA-256 form: a profile always carries the legacy one.
    let form = match format {
        Format::Mobileconfig => Some(P12Form::Legacy),
        Format::P12 | Format::Pfx => None,
    };
    let keying = certs::Keying::Bundle {
        pin: zeroize::Zeroizing::new(pin),
        form,
    };
    let signed = certs::sign_for(s, &owner, e.requested_not_after, keying).await?;
    let bytes = match format {
        Format::Mobileconfig => profile(
            profile::Identity::Pkcs12(signed.p12().to_vec()),
            signed.ca_der(),
            signed.not_after(),
        )?,
        Format::P12 | Format::Pfx => signed.p12().to_vec(),
    };
    let mut tx = s.db.begin().await?;
    let (l, g, e) = claimable(&mut tx, token, grant, now).await?;
    // The user's lock first, then the link's (the order every use case takes them in).
    db::lock_user(&mut tx, &e.user_id).await?;
    if !link_rows::use_link(&mut tx, &l.id, now, now, format.code()).await? {
        // Another phone won the race meanwhile (PostgreSQL re-checks after the row lock).
        return Err(LinkProblem::Used.into());
    }
    let picked: PickedUp = match certs::record_pickup(s, &mut tx, &actor, &e.id, signed).await {
        Ok(p) => p,
        // Changed since it was signed: the caller signs again.
        Err(CertError::Conflict) => return Err(CertError::Conflict.into()),
        // Refused by the rules (e.g. the certificate was already renewed, the account
        // deactivated): the link cannot deliver; nothing is committed.
        Err(e) => return Err(not_ready(e)),
    };
    if !link_rows::use_grant(&mut tx, &g.id_hash, now).await? {
        return Err(LinkProblem::Used.into());
    }
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
    tx.commit().await?;
    Ok(Download {
        file_name,
        format,
        serial_hex: Some(picked.certificate.serial_hex.clone()),
        bytes,
    })
}

/// Answers a SCEP `PKIOperation` (RFC 8894): a `PKCSReq` whose challenge belongs to an open
/// link whose profile was handed out is signed through the same lifecycle as every other
/// pickup — issue, supersede the renewed certificate, audit, CRL — in one transaction that
/// also uses the link up, so of two devices with one challenge exactly one gets a
/// certificate. The subject and SANs come from the enrollment, whatever the request asks.
/// Everything refused gets a signed FAILURE and changes nothing (the refusal is audited).
pub async fn scep_operation(
    s: &Services,
    message: &[u8],
    ip: Option<String>,
) -> Result<Vec<u8>, super::scep::ScepError> {
    use super::scep::{self, ScepError};
    let internal = |e: &dyn std::fmt::Display| ScepError::Internal(e.to_string());
    let now = s.now();
    let ca_id = {
        let mut c = s.conn().await.map_err(|e| internal(&e))?;
        s.current_ca_id(&mut c).await.map_err(|e| internal(&e))?
    };
    let ra = s
        .authority
        .scep_ra(&ca_id, now)
        .await
        .map_err(|e| internal(&e))?;
    let req = match scep::parse_pkcs_req(&ra, message) {
        Ok(r) => r,
        Err(ScepError::Refused { info, reply, why }) => {
            scep_audit(s, &ip, None, info, why).await;
            return scep::cert_rep(&ra, &reply, Err(info));
        }
        Err(e) => return Err(e),
    };
    let started = std::time::Instant::now();
    match scep_enroll(s, &req, ip.clone()).await {
        Ok(cert_der) => {
            s.metrics.scep("issued");
            s.metrics.issued_in(started.elapsed().as_secs_f64());
            scep::cert_rep(&ra, &req.reply, Ok(&cert_der))
        }
        Err(EnrollFailure::Refused { info, why, user }) => {
            s.metrics.scep(info.name());
            scep_audit(s, &ip, user.as_deref(), info, why).await;
            scep::cert_rep(&ra, &req.reply, Err(info))
        }
        // Not the device's fault: a server error, which the client may retry.
        Err(EnrollFailure::Internal(e)) => {
            s.metrics.scep("error");
            Err(internal(&e))
        }
    }
}

async fn scep_audit(
    s: &Services,
    ip: &Option<String>,
    user: Option<&str>,
    info: super::scep::FailInfo,
    why: &str,
) {
    if let Ok(mut c) = s.conn().await {
        let _ = audit::record_result(
            &mut c,
            s.now(),
            &Actor::anonymous(ip.clone()),
            action::SCEP_ENROLL,
            user,
            info.name(),
            why,
        )
        .await;
    }
}

/// Why a checked `PKCSReq` did not enroll.
enum EnrollFailure {
    /// The request is refused (a signed FAILURE with `info`), for `user` when known.
    Refused {
        info: super::scep::FailInfo,
        why: &'static str,
        user: Option<String>,
    },
    Internal(CertError),
}

impl<E: Into<CertError>> From<E> for EnrollFailure {
    fn from(e: E) -> Self {
        EnrollFailure::Internal(e.into())
    }
}

async fn scep_enroll(
    s: &Services,
    req: &super::scep::PkcsReq,
    ip: Option<String>,
) -> Result<Vec<u8>, EnrollFailure> {
    use super::scep::FailInfo;
    let now = s.now();
    let refuse_for =
        |user: Option<&str>, info: FailInfo, why: &'static str| EnrollFailure::Refused {
            info,
            why,
            user: user.map(str::to_string),
        };
    let challenge = req
        .challenge
        .as_deref()
        .ok_or_else(|| refuse_for(None, FailInfo::BadRequest, "no challenge"))?;
    let unknown = || refuse_for(None, FailInfo::BadRequest, "unknown challenge");
    // Checked with nothing locked, signed on a blocking thread, then checked again and
    // recorded in one short transaction that uses the challenge up.
    let checked = |l: &LinkRow, e: &EnrollmentRow| -> Result<(), EnrollFailure> {
        let refuse = |why: &'static str| refuse_for(Some(&e.user_id), FailInfo::BadRequest, why);
        // A profile handed out before the link expired may still enroll for a while.
        if l.used_at.is_some() {
            return Err(refuse("challenge already used"));
        }
        if l.voided_at.is_some() {
            return Err(refuse("link voided"));
        }
        if l.profile_at.is_none() || l.expires_at + SCEP_GRACE_SECS <= now {
            return Err(refuse("challenge expired"));
        }
        Ok(())
    };
    let refused = |e: &EnrollmentRow, err: CertError| match err {
        CertError::Lifecycle(_)
        | CertError::Conflict
        | CertError::UserInactive
        | CertError::Forbidden => refuse_for(
            Some(&e.user_id),
            FailInfo::BadRequest,
            "the enrollment can no longer be picked up",
        ),
        CertError::Ca(_) => refuse_for(Some(&e.user_id), FailInfo::BadAlg, "key not accepted"),
        other => other.into(),
    };
    let (e, owner) = {
        let mut c = s.conn().await?;
        let l = link_rows::link_by_scep_hash(&mut c, &ids::token_hash(challenge))
            .await?
            .ok_or_else(unknown)?;
        let e = db::enrollment_by_id(&mut c, &l.enrollment_id)
            .await?
            .ok_or_else(unknown)?;
        checked(&l, &e)?;
        let owner = db::user_by_id(&mut c, &e.user_id)
            .await?
            .ok_or_else(|| refuse_for(Some(&e.user_id), FailInfo::BadRequest, "unknown user"))?;
        (e, owner)
    };
    let actor = Actor {
        user_id: Some(owner.id.clone()),
        label: format!("{} (SCEP)", owner.login),
        is_admin: false,
        ip,
    };
    {
        let mut c = s.conn().await?;
        certs::pickable(&mut c, &actor, &e.id)
            .await
            .map_err(|err| refused(&e, err))?;
    }
    let keying = certs::Keying::Device(req.public_key.clone());
    let signed = certs::sign_for(s, &owner, e.requested_not_after, keying)
        .await
        .map_err(|err| refused(&e, err))?;
    let mut tx = s.db.begin().await?;
    let l = link_rows::link_by_scep_hash(&mut tx, &ids::token_hash(challenge))
        .await?
        .ok_or_else(unknown)?;
    checked(&l, &e)?;
    db::lock_user(&mut tx, &e.user_id).await?;
    if !link_rows::use_link(&mut tx, &l.id, now, now - SCEP_GRACE_SECS, "scep").await? {
        return Err(refuse_for(
            Some(&e.user_id),
            FailInfo::BadRequest,
            "challenge already used",
        ));
    }
    // A change since signing (CA rotated, account renamed) is refused like a lost race:
    // the device retries its enrollment.
    let picked = certs::record_pickup(s, &mut tx, &actor, &l.enrollment_id, signed)
        .await
        .map_err(|err| refused(&e, err))?;
    audit::record(
        &mut tx,
        now,
        &actor,
        action::SCEP_ENROLL,
        Some(&owner.id),
        Some(&picked.certificate.id),
        Some(&e.id),
        &format!(
            "serial={} transaction={}",
            picked.certificate.serial_hex, req.reply.transaction_id
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(picked.certificate.cert_der)
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
