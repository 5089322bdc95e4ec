//! Server functions: the API the UI calls. Each one is thin: take the services from context,
//! call a use case in `crate::ssr`, map the error. Wire types (DTOs) live here and never carry
//! key material.

pub mod admin;
pub mod auth;
pub mod certs;
pub mod error;

pub use error::AppError;

#[cfg(feature = "ssr")]
use crate::domain::error_code::ErrorCode;
use crate::i18n::Lang;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the start page shows about the portal's CA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalSummary {
    pub ca_id: String,
    pub ca_subject: String,
    pub ca_fingerprint: String,
    pub ca_not_after: i64,
    pub crl_next_update: Option<i64>,
    pub setup_needed: bool,
}

#[cfg(feature = "ssr")]
/// The services for this request, with the clock read once here, at the edge: every use case
/// the request runs sees the same instant.
pub(crate) fn services() -> Result<crate::ssr::Services, AppError> {
    use_context::<crate::ssr::Services>()
        .map(crate::ssr::Services::at_now)
        .ok_or_else(|| error::internal(&"services missing from context"))
}

#[cfg(feature = "ssr")]
pub(crate) use crate::web::{client_ip, is_plain_form_post};

/// The CA the portal signs with, and whether first-run setup is still needed.
#[server(endpoint = "portal_info")]
pub async fn portal_info() -> Result<PortalSummary, AppError> {
    use crate::ssr::db;
    let s = services()?;
    let mut c = s.conn().await?;
    let ca_id = s.current_ca_id(&mut c).await?;
    let ca = db::ca_by_id(&mut c, &ca_id)
        .await?
        .ok_or(AppError::NOT_FOUND)?;
    drop(c);
    let setup_needed = s.setup_needed().await?;
    Ok(PortalSummary {
        ca_id: ca.id,
        ca_subject: ca.subject,
        ca_fingerprint: ca.fingerprint_sha256,
        ca_not_after: ca.not_after,
        crl_next_update: ca.crl_next_update,
        setup_needed,
    })
}

/// Remembers the chosen language in a cookie (a year; not a secret, so readable by scripts).
#[server(endpoint = "set_language")]
pub async fn set_language(lang: String, back: Option<String>) -> Result<Lang, AppError> {
    let lang = Lang::from_code(&lang)
        .ok_or_else(|| AppError::field(ErrorCode::InvalidLanguage, "lang"))?;
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        // Not HttpOnly: the language is no secret, and scripts may read it.
        let cookie = format!(
            "lang={}; Path=/; Max-Age=31536000; SameSite=Lax",
            lang.code()
        );
        if let Ok(v) = axum::http::HeaderValue::from_str(&cookie) {
            res.append_header(axum::http::header::SET_COOKIE, v);
        }
    }
    // A signed-in user's mails follow the language they chose.
    let s = services()?;
    if let Some(a) = auth::session::current(&s).await? {
        let mut c = s.conn().await?;
        crate::ssr::db::set_user_language(&mut c, &a.user.id, lang.code()).await?;
    }
    // Without JavaScript the browser comes back to the page it switched on (same site only).
    let back = back
        .as_deref()
        .and_then(crate::web::same_site_path)
        .unwrap_or("/")
        .to_string();
    crate::web::finish_form(Ok(lang), &back, &back)
}

/// Whether a first-admin setup link can still be used.
#[server(endpoint = "setup_status")]
pub async fn setup_status(token: String) -> Result<bool, AppError> {
    let s = services()?;
    Ok(crate::ssr::setup::setup_token_usable(&s, &token).await?)
}

/// Creates the first administrator from a setup link.
#[server(endpoint = "complete_setup")]
pub async fn complete_setup(
    token: String,
    login: String,
    display_name: String,
    email: String,
    password: String,
) -> Result<String, AppError> {
    let s = services()?;
    let input = crate::ssr::setup::FirstAdmin {
        token: token.clone(),
        login,
        display_name,
        email,
        password,
    };
    match crate::ssr::setup::complete_setup(&s, input, client_ip()).await {
        Ok(user) => {
            // Signed in at once, so the administrator can add a passkey straight away.
            let session =
                crate::ssr::auth::start_session(&s, &user, &auth::session::client(), "setup")
                    .await?;
            auth::session::set(&s, &session);
            if is_plain_form_post() {
                crate::web::redirect(&format!("/setup/{token}?done=1"));
            }
            Ok(user.login)
        }
        Err(e) => {
            let e = AppError::from(e);
            if is_plain_form_post() {
                crate::web::redirect(&crate::web::with_error(&format!("/setup/{token}"), &e));
            }
            Err(e)
        }
    }
}

/// First administrator with a passkey, step 1: `{"ceremony": id, "options": …}`.
#[server(endpoint = "setup_passkey_start")]
pub async fn setup_passkey_start(
    token: String,
    login: String,
    display_name: String,
    email: String,
) -> Result<String, AppError> {
    let s = services()?;
    let (id, ccr) =
        crate::ssr::setup::passkey_setup_start(&s, &token, &login, &display_name, &email).await?;
    ceremony_json(&id, &ccr)
}

/// First administrator with a passkey, step 2: creates the account and signs in.
#[server(endpoint = "setup_passkey_finish")]
pub async fn setup_passkey_finish(
    ceremony: String,
    credential: String,
) -> Result<String, AppError> {
    let s = services()?;
    let cred =
        serde_json::from_str(&credential).map_err(|_| AppError::new(ErrorCode::PasskeyInvalid))?;
    let session =
        crate::ssr::setup::passkey_setup_finish(&s, &ceremony, &cred, &auth::session::client())
            .await?;
    auth::session::set(&s, &session);
    Ok(session.user.login)
}

/// The answer to a passkey ceremony's first step: its id and the browser's options.
#[cfg(feature = "ssr")]
pub(crate) fn ceremony_json(id: &str, options: &impl Serialize) -> Result<String, AppError> {
    serde_json::to_string(&serde_json::json!({ "ceremony": id, "options": options }))
        .map_err(|e| error::internal(&e))
}
