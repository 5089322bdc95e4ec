//! Server functions for accounts and sign-in. Each is thin: read the session cookie, call a use
//! case in `crate::ssr::auth`, set or clear the cookie, map the error.

use super::AppError;
#[cfg(feature = "ssr")]
use crate::domain::error_code::ErrorCode;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Who is signed in, as the UI needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub is_admin: bool,
    pub must_change_password: bool,
    /// The company provider's name when this user signs in through it (they may then confirm
    /// rule 8 there).
    #[serde(default)]
    pub sso: Option<String>,
    /// The user's issued certificate nearest its end, when inside the first reminder
    /// threshold (every page then says "expires in N days" with the way to renew).
    pub expiring: Option<Expiring>,
}

/// A certificate close to its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiring {
    /// The enrollment id (its renewal screen is `/certificates/<entry>/link`).
    pub entry: String,
    pub device_label: String,
    pub days: i64,
}

/// A passkey as listed on the account page (no key material).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyInfo {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// The signed-in user's time zone: their choice (`None`: automatic), the portal's default
/// and every zone they may choose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneChoice {
    pub chosen: Option<String>,
    pub portal_default: String,
    pub names: Vec<String>,
    pub now: i64,
}

/// A user as listed for administrators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub is_admin: bool,
    pub active: bool,
    pub activated: bool,
}

#[cfg(feature = "ssr")]
pub mod session {
    //! The session cookie: `__Host-` prefixed and `Secure` when the portal is served over
    //! HTTPS, always `HttpOnly` and `SameSite=Lax`.
    use super::AppError;
    use crate::ssr::auth::{self, Authenticated, Client};
    use crate::ssr::Services;

    pub fn cookie_name(s: &Services) -> &'static str {
        if s.is_https() {
            "__Host-certportal"
        } else {
            "certportal"
        }
    }

    /// The session token the browser sent, if any.
    pub fn token(s: &Services) -> Option<String> {
        crate::web::cookie(cookie_name(s))
    }

    pub fn client() -> Client {
        Client {
            ip: crate::web::client_ip(),
            user_agent: crate::web::header_str(axum::http::header::USER_AGENT),
            lang: Some(crate::i18n::Lang::for_request(
                crate::web::header_str(axum::http::header::COOKIE).as_deref(),
                crate::web::header_str(axum::http::header::ACCEPT_LANGUAGE).as_deref(),
            )),
        }
    }

    /// The session cookie of a sign-in, and the time zone the user chose (or automatic).
    pub fn set(s: &Services, n: &auth::NewSession) {
        crate::web::set_cookie(
            s.is_https(),
            cookie_name(s),
            &n.token,
            "Lax",
            auth::SESSION_ABSOLUTE_SECS,
        );
        // A zone chosen on the account page follows the user to this browser; a zone another
        // account pinned here is dropped; otherwise the browser's own zone stays.
        match &n.time_zone {
            Some(z) => crate::web::set_zone_cookies(crate::web::ZoneCookies::Chosen(z)),
            None if crate::web::cookie("tz_set").is_some() => {
                crate::web::set_zone_cookies(crate::web::ZoneCookies::Forget)
            }
            None => {}
        }
    }

    pub fn clear(s: &Services) {
        crate::web::set_cookie(s.is_https(), cookie_name(s), "", "Lax", 0);
    }

    /// The signed-in user, if any. A page (a `GET`) looks its session up once: the header's
    /// `whoami` and the page's own server functions share the answer through the request's
    /// [`SessionMemo`]. Anything else (a form post, a server function call) looks it up each
    /// time it asks, so a call that changes sessions and asks again sees the change.
    pub async fn current(s: &Services) -> Result<Option<Authenticated>, AppError> {
        let Some(t) = token(s) else {
            return Ok(None);
        };
        match SessionMemo::of_page() {
            Some(memo) => memo.0.get_or_try_init(|| look_up(s, &t)).await.cloned(),
            None => look_up(s, &t).await,
        }
    }

    async fn look_up(s: &Services, token: &str) -> Result<Option<Authenticated>, AppError> {
        let a = auth::session_user(s, token, crate::web::client_ip()).await?;
        if a.is_none() {
            clear(s);
        }
        Ok(a)
    }

    /// One request's answer to "who is signed in", provided afresh in every request's
    /// context and used by page requests only (see [`current`]).
    #[derive(Clone, Default)]
    pub struct SessionMemo(std::sync::Arc<tokio::sync::OnceCell<Option<Authenticated>>>);

    impl SessionMemo {
        fn of_page() -> Option<SessionMemo> {
            use leptos::prelude::use_context;
            let get = use_context::<axum::http::request::Parts>()
                .is_some_and(|p| p.method == axum::http::Method::GET);
            get.then(use_context::<SessionMemo>).flatten()
        }
    }

    /// The signed-in administrator of a plain HTTP route, from the request's cookies.
    pub async fn admin_from_parts(
        s: &Services,
        parts: &axum::http::request::Parts,
    ) -> Result<Authenticated, AppError> {
        let token = crate::web::request_cookie(&parts.headers, cookie_name(s))
            .ok_or(AppError::NOT_SIGNED_IN)?;
        let a = auth::session_user(s, &token, crate::web::client_of(&parts.extensions))
            .await?
            .ok_or(AppError::NOT_SIGNED_IN)?;
        if a.user.is_admin {
            Ok(a)
        } else {
            Err(AppError::FORBIDDEN)
        }
    }

    /// The signed-in user, or `NotSignedIn`.
    pub async fn require(s: &Services) -> Result<Authenticated, AppError> {
        current(s).await?.ok_or(AppError::NOT_SIGNED_IN)
    }

    /// The signed-in administrator, or an error (rule 11: checked first in every admin call).
    pub async fn require_admin(s: &Services) -> Result<Authenticated, AppError> {
        let a = require(s).await?;
        if a.user.is_admin {
            Ok(a)
        } else {
            Err(AppError::FORBIDDEN)
        }
    }
}

#[cfg(feature = "ssr")]
fn me_of(u: &crate::ssr::db::UserRow) -> Me {
    Me {
        login: u.login.clone(),
        display_name: u.display_name.clone(),
        email: u.email.clone(),
        is_admin: u.is_admin,
        must_change_password: u.must_change_password,
        sso: None,
        expiring: None,
    }
}

#[cfg(feature = "ssr")]
pub(crate) use crate::web::finish_form;

/// The signed-in user, or `None`.
#[server(endpoint = "whoami")]
pub async fn whoami() -> Result<Option<Me>, AppError> {
    let s = super::services()?;
    let Some(a) = session::current(&s).await? else {
        return Ok(None);
    };
    let now = s.now();
    // Read with the session (one round trip for both).
    let expiring = a
        .nearest_issued
        .clone()
        .and_then(|(entry, device_label, not_after)| {
            s.thresholds.expiring(not_after, now).map(|days| Expiring {
                entry,
                device_label,
                days,
            })
        });
    let sso = match &s.oidc {
        Some(o) => {
            let mut c = s.conn().await?;
            crate::ssr::oidc::is_linked(&mut c, &a.user.id)
                .await
                .unwrap_or(false)
                .then(|| o.settings.display_name.clone())
        }
        None => None,
    };
    Ok(Some(Me {
        expiring,
        sso,
        ..me_of(&a.user)
    }))
}

/// How this portal signs people in: the company's provider (its name on the button) and
/// whether passwords still work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInChoices {
    pub provider: Option<String>,
    pub passwords: bool,
}

#[server(endpoint = "sign_in_options")]
pub async fn sign_in_options() -> Result<SignInChoices, AppError> {
    let s = super::services()?;
    Ok(SignInChoices {
        provider: s.oidc.as_ref().map(|o| o.settings.display_name.clone()),
        passwords: crate::ssr::auth::passwords_allowed(&s),
    })
}

/// Signs in with login name and password.
#[server(endpoint = "login")]
pub async fn login(login: String, password: String, next: Option<String>) -> Result<Me, AppError> {
    let s = super::services()?;
    let previous = session::token(&s);
    let result = crate::ssr::auth::password_sign_in(
        &s,
        &login,
        &password,
        &session::client(),
        previous.as_deref(),
    )
    .await;
    crate::ssr::auth::count_sign_in(&s, "password", &result);
    let result = result.map_err(AppError::from).map(|n| {
        session::set(&s, &n);
        me_of(&n.user)
    });
    let dest = match &result {
        Ok(me) if me.must_change_password => "/account?change=1".to_string(),
        _ => safe_next(next.as_deref()),
    };
    // A failed no-JavaScript attempt comes back to the form with its destination kept.
    let back = match next.as_deref() {
        Some(_) => format!("/login?next={}", encode_next(&safe_next(next.as_deref()))),
        None => "/login".to_string(),
    };
    finish_form(result, &dest, &back)
}

#[cfg(feature = "ssr")]
use crate::web::{percent_encode_path as encode_next, safe_next};

/// Ends this session.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let s = super::services()?;
    if let Some(a) = session::current(&s).await? {
        crate::ssr::auth::sign_out(&s, &a).await?;
    }
    session::clear(&s);
    finish_form(Ok(()), "/login?signed_out=1", "/login")
}

/// Ends every session of the signed-in user.
#[server(endpoint = "logout_everywhere")]
pub async fn logout_everywhere() -> Result<u64, AppError> {
    let s = super::services()?;
    let a = session::require(&s).await?;
    let n = crate::ssr::auth::sign_out_everywhere(&s, &a).await?;
    session::clear(&s);
    finish_form(Ok(n), "/login?signed_out=1", "/account")
}

/// Changes the signed-in user's password.
#[server(endpoint = "change_password")]
pub async fn change_password(
    current: Option<String>,
    new_password: String,
) -> Result<(), AppError> {
    let s = super::services()?;
    let result = async {
        let a = session::require(&s).await?;
        let current = current.filter(|c| !c.is_empty());
        crate::ssr::auth::change_password(&s, &a, current.as_deref(), &new_password).await?;
        Ok(())
    }
    .await;
    finish_form(result, "/account?changed=1", "/account")
}

/// Confirms the signed-in user with their password (rule 8).
#[server(endpoint = "confirm_password")]
pub async fn confirm_password(password: String, next: Option<String>) -> Result<(), AppError> {
    let s = super::services()?;
    let result = async {
        let a = session::require(&s).await?;
        crate::ssr::auth::reauth_with_password(&s, &a, &password).await?;
        Ok(())
    }
    .await;
    let dest = safe_next(next.as_deref());
    finish_form(result, &dest, "/account")
}

/// Starts adding a passkey: returns `{"ceremony": id, "options": <CreationChallengeResponse>}`.
#[server(endpoint = "passkey_register_start")]
pub async fn passkey_register_start() -> Result<String, AppError> {
    let s = super::services()?;
    let a = session::require(&s).await?;
    let (id, ccr) = crate::ssr::auth::passkey_register_start(&s, &a).await?;
    super::ceremony_json(&id, &ccr)
}

/// Finishes adding a passkey. `credential` is the JSON of the browser's `PublicKeyCredential`.
#[server(endpoint = "passkey_register_finish")]
pub async fn passkey_register_finish(
    ceremony: String,
    name: String,
    credential: String,
) -> Result<(), AppError> {
    let s = super::services()?;
    let a = session::require(&s).await?;
    let cred =
        serde_json::from_str(&credential).map_err(|_| AppError::new(ErrorCode::PasskeyInvalid))?;
    crate::ssr::auth::passkey_register_finish(&s, &a, &ceremony, &name, &cred).await?;
    Ok(())
}

/// Starts a passkey sign-in or confirmation: `{"ceremony": id, "options": <RequestChallengeResponse>}`.
/// With `confirm`, the signed-in user (rule 8) is offered their own passkeys; a sign-in gets
/// the discoverable form, the same whatever login name was typed (`login` is ignored).
#[server(endpoint = "passkey_login_start")]
pub async fn passkey_login_start(
    login: Option<String>,
    confirm: Option<bool>,
) -> Result<String, AppError> {
    let _ = login;
    let s = super::services()?;
    let (id, rcr) = if confirm.unwrap_or(false) {
        let a = session::require(&s).await?;
        crate::ssr::auth::passkey_confirm_start(&s, &a).await?
    } else {
        crate::ssr::auth::passkey_login_start(&s, crate::web::client_ip().as_deref()).await?
    };
    super::ceremony_json(&id, &rcr)
}

/// Finishes a passkey sign-in (no session yet) or, with `confirm`, a confirmation of the
/// signed-in user (rule 8).
#[server(endpoint = "passkey_login_finish")]
pub async fn passkey_login_finish(
    ceremony: String,
    credential: String,
    confirm: Option<bool>,
) -> Result<Me, AppError> {
    let s = super::services()?;
    let cred =
        serde_json::from_str(&credential).map_err(|_| AppError::new(ErrorCode::PasskeyInvalid))?;
    if confirm.unwrap_or(false) {
        let a = session::require(&s).await?;
        crate::ssr::auth::reauth_with_passkey(&s, &a, &ceremony, &cred).await?;
        return Ok(me_of(&a.user));
    }
    let previous = session::token(&s);
    let n = crate::ssr::auth::passkey_login_finish(
        &s,
        &ceremony,
        &cred,
        &session::client(),
        previous.as_deref(),
    )
    .await;
    crate::ssr::auth::count_sign_in(&s, "passkey", &n);
    let n = n?;
    session::set(&s, &n);
    Ok(me_of(&n.user))
}

/// The signed-in user's passkeys.
#[server(endpoint = "list_passkeys")]
pub async fn list_passkeys() -> Result<Vec<PasskeyInfo>, AppError> {
    let s = super::services()?;
    let a = session::require(&s).await?;
    let mut c = s.conn().await?;
    let rows = crate::ssr::db::auth_rows::passkeys_for_user(&mut c, &a.user.id).await?;
    Ok(rows
        .into_iter()
        .map(|p| PasskeyInfo {
            id: p.id,
            name: p.name,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
        })
        .collect())
}

/// The signed-in user's time zone choice and the zones on offer.
#[server(endpoint = "my_time_zone")]
pub async fn my_time_zone() -> Result<ZoneChoice, AppError> {
    let s = super::services()?;
    let a = session::require(&s).await?;
    let mut c = s.conn().await?;
    let chosen = crate::ssr::db::user_time_zone(&mut c, &a.user.id).await?;
    Ok(ZoneChoice {
        chosen,
        portal_default: s.time_zone.describe(s.now()),
        names: crate::zone::Zone::all_names(),
        now: s.now(),
    })
}

/// Chooses the zone times are shown in (empty: automatic — the browser's zone with
/// JavaScript, else the portal's). Remembered for the account and set in this browser;
/// `browser` is the browser's own zone, which the page script fills in.
#[server(endpoint = "set_time_zone")]
pub async fn set_time_zone(zone: String, browser: Option<String>) -> Result<(), AppError> {
    let s = super::services()?;
    let result = async {
        let a = session::require(&s).await?;
        let z = zone.trim();
        let chosen = if z.is_empty() {
            None
        } else {
            let parsed = crate::zone::Zone::parse(z)
                .ok_or_else(|| AppError::field(ErrorCode::InvalidTimeZone, "zone"))?;
            Some(parsed.name().to_string())
        };
        let mut c = s.conn().await?;
        crate::ssr::db::set_user_time_zone(&mut c, &a.user.id, chosen.as_deref()).await?;
        use crate::web::{set_zone_cookies, ZoneCookies};
        let browser = browser.as_deref().and_then(crate::zone::Zone::parse);
        match (&chosen, &browser) {
            (Some(z), _) => set_zone_cookies(ZoneCookies::Chosen(z)),
            (None, Some(b)) => set_zone_cookies(ZoneCookies::Browser(b.name())),
            (None, None) => set_zone_cookies(ZoneCookies::Forget),
        }
        Ok(())
    }
    .await;
    crate::web::finish_form(result, "/account?zone=saved", "/account")
}

/// Renames one of the signed-in user's passkeys.
#[server(endpoint = "rename_passkey")]
pub async fn rename_passkey(id: String, name: String) -> Result<(), AppError> {
    let s = super::services()?;
    let result = async {
        let a = session::require(&s).await?;
        crate::ssr::auth::passkey_rename(&s, &a, &id, &name).await?;
        Ok(())
    }
    .await;
    finish_form(result, "/account", "/account")
}

/// Removes one of the signed-in user's passkeys (needs a recent confirmation, rule 8).
#[server(endpoint = "remove_passkey")]
pub async fn remove_passkey(id: String) -> Result<(), AppError> {
    let s = super::services()?;
    let result = async {
        let a = session::require(&s).await?;
        crate::ssr::auth::require_recent_auth(&a, s.now())?;
        crate::ssr::auth::passkey_remove(&s, &a, &id).await?;
        Ok(())
    }
    .await;
    finish_form(result, "/account", "/account")
}

/// Administrators: create a user; returns the one-time activation link to hand over.
#[server(endpoint = "admin_create_user")]
pub async fn admin_create_user(
    login: String,
    display_name: String,
    email: String,
    upn: Option<String>,
    department: Option<String>,
    is_admin: Option<String>,
    password: Option<String>,
) -> Result<String, AppError> {
    let s = super::services()?;
    let result = async {
        let mut a = session::require_admin(&s).await?;
        // A new administrator is a new way into everything: rule 8, like a promotion.
        if crate::web::is_checked(is_admin.as_deref()) {
            super::admin::confirm_admin(&s, &mut a, password).await?;
        }
        let input = crate::ssr::auth::UserInput {
            login,
            display_name,
            email,
            upn,
            department,
            is_admin: crate::web::is_checked(is_admin.as_deref()),
        };
        let (_, link) = crate::ssr::auth::create_user(&s, &a.actor(), &input).await?;
        Ok(link)
    }
    .await;
    carry_link(&s, &result);
    finish_form(
        result,
        "/admin/users?created=1#create-user",
        "/admin/users?form=create#create-user",
    )
}

/// Administrators: a new one-time activation link for an existing user (after rule 8's
/// confirmation: it is a way into the account). Older unused links stop working.
#[server(endpoint = "admin_activation_link")]
pub async fn admin_activation_link(
    id: String,
    password: Option<String>,
) -> Result<String, AppError> {
    let s = super::services()?;
    let back = format!("/admin/users/{}", crate::web::id_segment(&id));
    let result = async {
        let mut a = session::require_admin(&s).await?;
        super::admin::confirm_admin(&s, &mut a, password).await?;
        Ok(crate::ssr::auth::new_activation_link(&s, &a.actor(), &id).await?)
    }
    .await;
    carry_link(&s, &result);
    finish_form(
        result,
        &format!("{back}?link=1#activation"),
        &format!("{back}#activation"),
    )
}

/// Without JavaScript the page cannot show a returned activation link: it travels to the
/// next page in a short-lived cookie only this browser holds (never in a URL).
#[cfg(feature = "ssr")]
fn carry_link(s: &crate::ssr::Services, result: &Result<String, AppError>) {
    if let Ok(link) = result {
        if crate::web::is_plain_form_post() {
            crate::web::set_cookie(s.is_https(), CREATED_COOKIE, link, "Strict", 600);
        }
    }
}

/// The cookie carrying a new user's activation link to the next page (no JavaScript).
#[cfg(feature = "ssr")]
const CREATED_COOKIE: &str = "certportal-created";

/// The activation link of the user this browser just created without JavaScript, if any.
#[server(endpoint = "admin_created_link")]
pub async fn admin_created_link() -> Result<Option<String>, AppError> {
    let s = super::services()?;
    session::require_admin(&s).await?;
    let link = crate::web::cookie(CREATED_COOKIE);
    Ok(link.filter(|l| l.starts_with(&s.public_url)))
}

/// Administrators: every user.
#[server(endpoint = "admin_list_users")]
pub async fn admin_list_users() -> Result<Vec<UserInfo>, AppError> {
    let s = super::services()?;
    session::require_admin(&s).await?;
    let mut c = s.conn().await?;
    let rows = crate::ssr::read::users(&mut c, 500).await?;
    Ok(rows.into_iter().map(|(u, _)| u).collect())
}

/// Whom an activation link is for — (display name, login name) — or `None` if it no longer
/// works.
#[server(endpoint = "activation_info")]
pub async fn activation_info(token: String) -> Result<Option<(String, String)>, AppError> {
    let s = super::services()?;
    Ok(crate::ssr::auth::activation_target(&s, &token)
        .await?
        .map(|u| (u.display_name, u.login)))
}

/// Sets the first password from an activation link and signs in.
#[server(endpoint = "activate")]
pub async fn activate(token: String, password: String) -> Result<Me, AppError> {
    let s = super::services()?;
    let result = crate::ssr::auth::activate(&s, &token, &password, &session::client())
        .await
        .map_err(AppError::from)
        .map(|n| {
            session::set(&s, &n);
            me_of(&n.user)
        });
    finish_form(result, "/account", &format!("/activate/{token}"))
}
