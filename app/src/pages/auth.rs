//! Sign-in and activation pages. Password forms work without JavaScript; passkey buttons are
//! driven by `/passkey.js` and only shown where the browser supports WebAuthn.

use super::use_lang;
use crate::api::auth::{Activate, Login};
use crate::api::AppError;
use crate::i18n::{t, Lang, Msg};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The catalogue message for an error code, if it has one.
fn known(code: &str) -> Option<Msg> {
    Some(match code {
        "sign_in_failed" => Msg::SignInFailed,
        "throttled" => Msg::Throttled,
        "not_signed_in" => Msg::PleaseSignIn,
        "link_invalid" => Msg::LinkInvalid,
        "reauth_required" => Msg::ConfirmHint,
        "invalid_field" => Msg::PasswordHint,
        "reissue_not_allowed" => Msg::ReissueNotAllowed,
        "quota_exceeded" => Msg::QuotaExceeded,
        "confirmation_required" => Msg::ConfirmationRequired,
        "password_change_required" => Msg::MustChangePassword,
        "link_unknown" => Msg::LinkUnknown,
        "link_used" => Msg::LinkUsed,
        "link_expired" => Msg::LinkExpiredPickup,
        "link_voided" => Msg::LinkVoided,
        "link_not_ready" => Msg::LinkNotReady,
        "nothing_selected" => Msg::NothingSelected,
        "invalid_not_after" => Msg::InvalidNotAfter,
        "wrong_password" => Msg::WrongPasswordShort,
        "forbidden" => Msg::AdminOnly,
        c if c.starts_with("lifecycle_") => Msg::NotAllowedNow,
        _ => return None,
    })
}

/// Text for an error code (from a no-JavaScript redirect, or an `AppError`).
pub fn error_text(lang: Lang, code: &str) -> String {
    t(lang, known(code).unwrap_or(Msg::ErrorPrefix)).to_string()
}

/// The message for an error returned to a hydrated page.
pub fn app_error_text(lang: Lang, e: &AppError) -> String {
    match e {
        AppError::Refused { code, message, .. } => match known(code) {
            Some(m)
                if code != "invalid_field"
                    && (lang == Lang::Ja || !code.starts_with("lifecycle_")) =>
            {
                t(lang, m).to_string()
            }
            _ => message.clone(),
        },
        other => error_text(lang, other.code()),
    }
}

/// Sends the browser to `href` with a full page load (so every part of the page, the header
/// included, reflects the new session).
pub fn go(href: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().set_href(href);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = href;
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let lang = use_lang();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let query = use_query_map();
    let next = move || {
        query
            .read()
            .get("next")
            .unwrap_or_else(|| "/certificates".to_string())
    };
    let action = ServerAction::<Login>::new();
    Effect::new(move |_| {
        if let Some(Ok(me)) = action.value().get() {
            go(&if me.must_change_password {
                "/account?change=1".to_string()
            } else {
                next()
            });
        }
    });
    let error = move || match action.value().get() {
        Some(Err(e)) => Some(app_error_text(lang.get(), &e)),
        _ => query
            .read()
            .get("error")
            .map(|c| error_text(lang.get(), &c)),
    };
    view! {
        <section class="card narrow" aria-labelledby="login-title">
            <h1 id="login-title">{tr(Msg::SignInTitle)}</h1>
            {move || query.read().get("signed_out").map(|_| view! { <p class="success" role="status">{tr(Msg::SignedOut)}</p> })}
            {move || query.read().get("lost").map(|_| view! { <p class="success" role="status" data-testid="lost-done">{tr(Msg::LostDone)}</p> })}
            {move || error().map(|e| view! { <p class="error" role="alert" data-testid="login-error">{e}</p> })}
            <ActionForm action=action attr:class="form" attr:data-testid="login-form">
                <input type="hidden" name="next" value=next/>
                <label for="login">{tr(Msg::FieldLogin)}</label>
                <input id="login" name="login" required autocomplete="username webauthn" autocapitalize="none" spellcheck="false"/>
                <label for="password">{tr(Msg::FieldPassword)}</label>
                <input id="password" name="password" type="password" required autocomplete="current-password"/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>{tr(Msg::SignInButton)}</button>
            </ActionForm>
            <div class="passkey-block" data-passkey="">
                <p class="or">{tr(Msg::Or)}</p>
                <button type="button" class="secondary" data-passkey="login" data-next=next>
                    {tr(Msg::SignInWithPasskey)}
                </button>
                <p class="passkey-status" role="status" aria-live="polite"></p>
            </div>
        </section>
    }
}

#[component]
pub fn ActivatePage() -> impl IntoView {
    let lang = use_lang();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let params = use_params_map();
    let query = use_query_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let info = Resource::new(token, crate::api::auth::activation_info);
    let action = ServerAction::<Activate>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            go("/account");
        }
    });
    let error = move || match action.value().get() {
        Some(Err(e)) => Some(app_error_text(lang.get(), &e)),
        _ => query
            .read()
            .get("error")
            .map(|c| error_text(lang.get(), &c)),
    };
    view! {
        <section class="card narrow" aria-labelledby="activate-title">
            <h1 id="activate-title">{tr(Msg::ActivateTitle)}</h1>
            <Suspense fallback=move || view! { <p>{tr(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match info.await {
                        Ok(Some(name)) => view! {
                            <p><strong>{name}</strong></p>
                            <p>{tr(Msg::ActivateIntro)}</p>
                            {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                            <ActionForm action=action attr:class="form">
                                <input type="hidden" name="token" value=token/>
                                <label for="password">{tr(Msg::NewPassword)}</label>
                                <input id="password" name="password" type="password" required minlength="12" autocomplete="new-password" aria-describedby="pw-hint"/>
                                <p class="hint" id="pw-hint">{tr(Msg::PasswordHint)}</p>
                                <button type="submit" class="primary">{tr(Msg::ActivateButton)}</button>
                            </ActionForm>
                        }
                        .into_any(),
                        _ => view! { <p class="error" role="alert">{tr(Msg::LinkInvalid)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
