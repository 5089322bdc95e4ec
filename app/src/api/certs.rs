//! Server functions for a user's own certificates: the list, requests, "Show renewal URL",
//! revocation and "I lost my device", and the phone's pickup page. Every one checks the
//! session and ownership on the server (rule 11) through the use cases in `crate::ssr`.

use super::AppError;
use crate::domain::error_code::ErrorCode;
#[cfg(feature = "ssr")]
use crate::domain::lifecycle::RevocationReason;
use crate::domain::lifecycle::State;
use crate::domain::platform::Platform;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One row of "My certificates": a certificate, or an enrollment not picked up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryView {
    /// The enrollment id (every certificate is reached through its enrollment).
    pub id: String,
    pub state: State,
    pub device_label: String,
    pub renewal: bool,
    pub serial: Option<String>,
    pub fingerprint: Option<String>,
    pub not_after: Option<i64>,
    pub ca_name: Option<String>,
    pub revocation_reason: Option<String>,
    pub pickup_deadline: Option<i64>,
    pub created_at: i64,
    /// Days left for an issued certificate inside the first reminder threshold.
    pub expires_in_days: Option<i64>,
    /// Why an administrator rejected the request (their note), for a rejected request.
    pub rejection_note: Option<String>,
    /// Made by an administrator (bulk create, Create & Download), not requested by the user.
    pub admin_created: bool,
}

/// Everything "My certificates" needs; the page decides the actions with the same pure
/// rules (`allowed_actions`) the server enforces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateList {
    pub entries: Vec<EntryView>,
    /// Entries hidden because "Show all" is off.
    pub hidden: usize,
    pub reissue_allowed: bool,
    pub approval_mode: bool,
    /// The most certificates and open requests a user may have at once.
    pub max_active: i64,
    pub now: i64,
}

/// A link as "Show renewal URL" shows it. Only ever sent to the screen that made it. Its
/// `Debug` leaves out the URL, the PIN and the QR code.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkView {
    pub entry: String,
    pub url: String,
    pub pin: String,
    pub expires_at: i64,
    pub now: i64,
    pub qr_svg: String,
    pub device_label: String,
    /// What the phone did with the link so far.
    pub status: LinkStatusView,
}

impl std::fmt::Debug for LinkView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkView")
            .field("entry", &self.entry)
            .field("expires_at", &self.expires_at)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// The live status of a link on the screen that made it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkStatusView {
    /// Why the link can no longer be used (`link_locked`, `link_expired`, `link_used`…).
    pub problem: Option<ErrorCode>,
    pub unlocked_at: Option<i64>,
    pub profile_at: Option<i64>,
    pub picked_at: Option<i64>,
    pub picked_format: Option<String>,
    pub pin_failures: i64,
}

/// The answer of "Show renewal URL".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkAnswer {
    Link(Box<LinkView>),
    /// The renewal request waits for an administrator.
    AwaitingApproval,
}

/// What the phone's landing page shows for a link. Its `Debug` leaves out the URL (the
/// link's token).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickupView {
    /// `None` when the link can be used; otherwise the problem's code.
    pub problem: Option<ErrorCode>,
    pub device_label: String,
    pub renewal: bool,
    pub expires_at: i64,
    pub now: i64,
    pub platform: Platform,
    /// The main download's format code (None for "open in Safari").
    pub download: Option<String>,
    pub installer_link: Option<String>,
    pub url: String,
    /// This browser proved the PIN: offer the installer instead of the PIN form.
    pub unlocked: bool,
    /// This browser picked the link up at this time.
    pub downloaded_at: Option<i64>,
    /// Apple devices get a SCEP profile: nothing is signed until the device enrolls.
    pub scep: bool,
}

impl std::fmt::Debug for PickupView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PickupView")
            .field("problem", &self.problem)
            .field("platform", &self.platform)
            .field("unlocked", &self.unlocked)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "ssr")]
mod link_cookie {
    //! The link a screen made is kept in that browser only (an HttpOnly, SameSite=Strict
    //! cookie living as long as the link), so the page can show it again after a reload or
    //! a no-JavaScript form post — and nowhere else.
    use crate::ssr::Services;

    fn name(s: &Services) -> &'static str {
        if s.is_https() {
            "__Host-certportal-link"
        } else {
            "certportal-link"
        }
    }

    pub fn set(s: &Services, entry: &str, token: &str, max_age: i64) {
        let value = format!("{entry}.{token}");
        crate::web::set_cookie(s.is_https(), name(s), &value, "Strict", max_age.max(1));
    }

    /// `(entry, token)` from the cookie, if present.
    pub fn get(s: &Services) -> Option<(String, String)> {
        let v = crate::web::cookie(name(s))?;
        let (e, t) = v.split_once('.')?;
        Some((e.to_string(), t.to_string()))
    }
}

#[cfg(feature = "ssr")]
fn link_view(
    s: &crate::ssr::Services,
    l: &crate::ssr::links::IssuedLink,
    status: Option<&crate::ssr::links::LinkStatus>,
) -> Result<LinkView, AppError> {
    let svg = crate::ssr::qr::svg(&l.url, "QR code of the one-time link")
        .map_err(|e| super::error::internal(&e))?;
    Ok(LinkView {
        entry: l.enrollment.id.clone(),
        url: l.url.clone(),
        pin: l.pin.clone(),
        expires_at: l.expires_at,
        now: s.now(),
        qr_svg: svg,
        device_label: l.enrollment.device_label.clone(),
        status: status
            .map(|st| LinkStatusView {
                problem: st.problem.map(|p| p.code()),
                unlocked_at: st.unlocked_at,
                profile_at: st.profile_at,
                picked_at: st.picked_at,
                picked_format: st.picked_format.clone(),
                pin_failures: st.pin_failures,
            })
            .unwrap_or_default(),
    })
}

/// The signed-in user for the self-service functions, acting as an ordinary user on their
/// own entries even when they are an administrator (administrators act on others through
/// the admin console and its confirmation guard). A pending forced password change (after a
/// lost device) must be done first.
#[cfg(feature = "ssr")]
async fn require_user(
    s: &crate::ssr::Services,
) -> Result<(crate::ssr::auth::Authenticated, crate::ssr::audit::Actor), AppError> {
    let me = super::auth::session::require(s).await?;
    if me.user.must_change_password {
        return Err(AppError::new(ErrorCode::PasswordChangeRequired));
    }
    let actor = crate::ssr::audit::Actor {
        is_admin: false,
        ..me.actor()
    };
    Ok((me, actor))
}

#[cfg(feature = "ssr")]
use crate::web::no_store;

/// The signed-in user's certificates and enrollments (rule 4: hidden ones only with
/// `show_all`).
#[server(endpoint = "my_certificates")]
pub async fn my_certificates(show_all: bool) -> Result<CertificateList, AppError> {
    let s = super::services()?;
    let (me, _) = require_user(&s).await?;
    let now = s.now();
    let mut c = s.conn().await?;
    let policy = s.policy(&mut c).await?;
    let all = crate::ssr::read::entry_views(&mut c, &me.user.id, now, &s.thresholds).await?;

    let total = all.len();
    let entries: Vec<EntryView> = all
        .into_iter()
        .filter(|e| show_all || e.state.visible_by_default())
        .collect();
    Ok(CertificateList {
        hidden: total - entries.len(),
        entries,
        reissue_allowed: me
            .user
            .reissue_allowed
            .unwrap_or(policy.reissue_allowed_default),
        approval_mode: policy.distribution_mode
            == crate::domain::policy::DistributionMode::Approval,
        max_active: policy.max_active_per_user,
        now,
    })
}

/// Requests a new certificate for a device: `ready` at once in auto mode, `pending` in
/// approval mode (rule 7). Returns the new entry's id.
#[server(endpoint = "request_certificate")]
pub async fn request_certificate(device_label: String) -> Result<String, AppError> {
    let result = async {
        let s = super::services()?;
        let (me, actor) = require_user(&s).await?;
        let label = crate::domain::validate::DeviceLabel::parse(&device_label)?;
        let e = crate::ssr::certs::create_enrollment(
            &s,
            &actor,
            &crate::ssr::certs::NewEnrollment {
                user_id: me.user.id.clone(),
                device_label: label,
                ..Default::default()
            },
        )
        .await?;
        Ok(e.id)
    }
    .await;
    let ok = match &result {
        Ok(id) => format!("/certificates?requested={id}"),
        Err(_) => String::new(),
    };
    super::auth::finish_form(result, &ok, "/certificates")
}

/// "Show renewal URL": makes a new one-time link (voiding the earlier ones of the entry) and
/// remembers it in this browser. For an issued or expired certificate this first requests a
/// renewal (rule 3).
#[server(endpoint = "show_renewal_link")]
pub async fn show_renewal_link(entry: String) -> Result<LinkAnswer, AppError> {
    let result = async {
        use crate::ssr::links::{self, LinkOutcome};
        let s = super::services()?;
        let (_, actor) = require_user(&s).await?;
        no_store();
        match links::show_link(&s, &actor, &entry).await? {
            LinkOutcome::AwaitingApproval(_) => Ok(LinkAnswer::AwaitingApproval),
            LinkOutcome::Link(l) => {
                link_cookie::set(&s, &l.enrollment.id, &l.token, l.expires_at - s.now());
                Ok(LinkAnswer::Link(Box::new(link_view(&s, &l, None)?)))
            }
        }
    }
    .await;
    let page = format!("/certificates/{entry}/link");
    let ok = match &result {
        Ok(LinkAnswer::Link(l)) => format!("/certificates/{}/link", l.entry),
        Ok(LinkAnswer::AwaitingApproval) => "/certificates?awaiting=1".to_string(),
        Err(_) => page.clone(),
    };
    super::auth::finish_form(result, &ok, &page)
}

/// The link this browser made for `entry`, if it is still usable.
#[server(endpoint = "current_renewal_link")]
pub async fn current_renewal_link(entry: String) -> Result<Option<LinkView>, AppError> {
    let s = super::services()?;
    let (_, actor) = require_user(&s).await?;
    no_store();
    let Some((e, token)) = link_cookie::get(&s) else {
        return Ok(None);
    };
    if e != entry {
        return Ok(None);
    }
    match crate::ssr::links::current_link(&s, &actor, &entry, &token).await? {
        Some((l, status)) => Ok(Some(link_view(&s, &l, Some(&status))?)),
        None => Ok(None),
    }
}

/// Everything the link page shows that can change by itself, in one string: the entry's
/// state and what the phone did with the link (PIN proven, profile fetched, picked up or
/// enrolled, locked, failed PINs). The page's watcher asks for it and reloads on a change.
pub fn link_page_key(e: &EntryView, cur: Option<&LinkView>) -> String {
    let mut key = format!("{:?}", e.state);
    if let Some(l) = cur {
        let st = &l.status;
        key.push_str(&format!(
            "|{}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{}",
            l.entry,
            l.expires_at,
            st.problem.map(ErrorCode::as_str),
            st.unlocked_at,
            st.profile_at,
            st.picked_at,
            st.picked_format,
            st.pin_failures
        ));
    }
    key
}

/// [`link_page_key`] now, for the link page's watcher (every few seconds while it is open).
#[server(endpoint = "link_page_key")]
pub async fn link_page_key_now(entry: String) -> Result<String, AppError> {
    let e = my_entry(entry.clone()).await?;
    let cur = current_renewal_link(entry).await?;
    Ok(link_page_key(&e, cur.as_ref()))
}

/// One entry of the signed-in user, for the link and revoke pages.
#[server(endpoint = "my_entry")]
pub async fn my_entry(entry: String) -> Result<EntryView, AppError> {
    let list = my_certificates(true).await?;
    list.entries
        .into_iter()
        .find(|e| e.id == entry)
        .ok_or(AppError::NOT_FOUND)
}

/// Revokes one of the user's certificates with a reason, or withdraws an enrollment not yet
/// picked up. Final (rule 1); the CRL is republished in the same transaction.
#[server(endpoint = "revoke_entry")]
pub async fn revoke_entry(entry: String, reason: String) -> Result<(), AppError> {
    let result = async {
        let s = super::services()?;
        let (_, actor) = require_user(&s).await?;
        let reason = user_reason(&reason)?;
        crate::ssr::certs::revoke_entry(&s, &actor, &entry, reason)
            .await
            .map_err(AppError::from)
    }
    .await;
    super::auth::finish_form(
        result,
        "/certificates?revoked=1&all=1",
        &format!("/certificates/{entry}/revoke"),
    )
}

/// The reasons a user may give (RFC 5280 codes); administrators get more in their console.
pub use crate::domain::lifecycle::USER_REASONS;

#[cfg(feature = "ssr")]
fn user_reason(code: &str) -> Result<RevocationReason, AppError> {
    use crate::domain::lifecycle::ReasonGiver;
    RevocationReason::chosen(code, ReasonGiver::User)
        .map_err(|_| AppError::field(ErrorCode::InvalidReason, "reason"))
}

/// "I lost my device" (rule 9). `confirm` must be `yes` (the confirmation checkbox).
#[server(endpoint = "report_lost_device")]
pub async fn report_lost_device(confirm: Option<String>) -> Result<u32, AppError> {
    let result = async {
        use super::auth::session;
        let s = super::services()?;
        let me = session::require(&s).await?;
        if confirm.as_deref() != Some("yes") {
            return Err(AppError::field(ErrorCode::ConfirmationRequired, "confirm"));
        }
        // It removes every passkey and signs out everywhere: not for a session alone
        // (rule 8; signing in on the other device just now counts).
        crate::ssr::auth::require_recent_auth(&me, s.now())?;
        let actor = crate::ssr::audit::Actor {
            is_admin: false,
            ..me.actor()
        };
        let done = crate::ssr::certs::lost_device(&s, &actor, &me.user.id).await?;
        session::clear(&s);
        Ok(u32::try_from(done.certificates_revoked).unwrap_or(u32::MAX))
    }
    .await;
    let ok = match &result {
        Ok(n) => format!("/login?lost={n}"),
        Err(_) => String::new(),
    };
    super::auth::finish_form(result, &ok, "/lost-device")
}

/// What the phone's landing page shows. Opening it changes nothing. `platform` overrides
/// the guess from the User-Agent ("Not this device?").
#[server(endpoint = "pickup_info")]
pub async fn pickup_info(token: String, platform: Option<String>) -> Result<PickupView, AppError> {
    use crate::ssr::links::{self, RedeemError};
    let s = super::services()?;
    let guessed = crate::web::header_str(axum::http::header::USER_AGENT)
        .map(|ua| Platform::from_user_agent(&ua))
        .unwrap_or(Platform::Other);
    let platform = platform
        .as_deref()
        .and_then(|code| ALL_PLATFORMS.into_iter().find(|p| p.code() == code))
        .unwrap_or(guessed);
    let url = format!("{}/pickup/{token}", s.public_url);
    let grant = crate::web::cookie(crate::web::grant_cookie_name(s.is_https()));
    let base = PickupView {
        problem: None,
        device_label: String::new(),
        renewal: false,
        expires_at: 0,
        now: s.now(),
        platform,
        download: platform.format().map(|f| f.code().to_string()),
        installer_link: None,
        url: url.clone(),
        unlocked: false,
        downloaded_at: None,
        scep: false,
    };
    no_store();
    match links::inspect(&s, &token, grant.as_deref()).await {
        Ok(info) => Ok(PickupView {
            device_label: info.device_label,
            renewal: info.renewal,
            expires_at: info.expires_at,
            installer_link: info
                .installer_link
                .map(|l| l.replace("{url}", &crate::web::percent_encode(&url))),
            unlocked: info.unlocked,
            downloaded_at: info.downloaded_at,
            scep: info.apple_scep,
            ..base
        }),
        Err(RedeemError::Link(p)) => Ok(PickupView {
            problem: Some(p.code()),
            download: None,
            ..base
        }),
        Err(RedeemError::Cert(e)) => Err(e.into()),
    }
}

/// Every platform, for the "Not this device?" choice.
pub const ALL_PLATFORMS: [Platform; 10] = [
    Platform::IosSafari,
    Platform::IpadSafari,
    Platform::MacSafari,
    Platform::IosOtherBrowser,
    Platform::Android,
    Platform::Windows,
    Platform::MacOther,
    Platform::Firefox,
    Platform::Linux,
    Platform::Other,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_leaves_out_links_and_pins() {
        let v = LinkView {
            entry: "e1".into(),
            url: "https://certs.example.com/pickup/secret-token".into(),
            pin: "ABCD2345".into(),
            expires_at: 1,
            now: 0,
            qr_svg: "<svg>secret-token</svg>".into(),
            device_label: "phone".into(),
            status: LinkStatusView::default(),
        };
        let text = format!("{v:?}");
        assert!(
            !text.contains("secret-token") && !text.contains("ABCD2345"),
            "{text}"
        );
    }
}
