//! Sign-in and activation pages. Password forms work without JavaScript; passkey buttons are
//! driven by `/passkey.js` and only shown where the browser supports WebAuthn.

use super::errors::{action_error, ErrorNote, ErrorText};
use super::use_lang;
use crate::api::auth::{Activate, Login};
use crate::api::AppError;
use crate::domain::error_code::ErrorCode;
use crate::i18n::{t, Msg};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn LoginPage() -> impl IntoView {
    let lang = use_lang();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let query = use_query_map();
    // Only a same-site path is ever followed after sign-in (no open redirect), with or
    // without JavaScript and for the passkey button too.
    let next = move || crate::web::safe_next(query.read().get("next").as_deref());
    let action = ServerAction::<Login>::new();
    let error = action_error(action);
    let options = Resource::new(|| (), |_| crate::api::auth::sign_in_options());
    let passwords = move || {
        options
            .get()
            .and_then(|o| o.ok())
            .is_none_or(|o| o.passwords)
    };
    view! {
        <section class="card narrow" aria-labelledby="login-title">
            <h1 id="login-title">{tr(Msg::SignInTitle)}</h1>
            {move || query.read().get("signed_out").map(|_| view! { <p class="success" role="status">{tr(Msg::SignedOut)}</p> })}
            {move || query.read().get("lost").map(|_| view! { <p class="success" role="status" data-testid="lost-done">{tr(Msg::LostDone)}</p> })}
            <ErrorNote error=Signal::derive(error) testid="login-error"/>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let o = options.await.ok()?;
                    let provider = o.provider?;
                    let href = format!("/auth/oidc/start?next={}", crate::web::percent_encode(&next()));
                    Some(view! {
                        <a class="button primary sso" href=href rel="external" data-testid="sso-sign-in">
                            {move || crate::i18n::sign_in_with(lang.get(), &provider)}
                        </a>
                        {o.passwords.then(|| view! { <p class="or">{tr(Msg::Or)}</p> })}
                    })
                })}
            </Suspense>
            <ActionForm action=action attr:class="form" attr:data-testid="login-form" attr:hidden=move || (!passwords()).then_some("")>
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
            <p class="hint" data-testid="forgot-hint">{tr(Msg::ForgotPassword)}</p>
        </section>
    }
}

#[component]
pub fn ActivatePage() -> impl IntoView {
    let lang = use_lang();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let info = Resource::new(token, crate::api::auth::activation_info);
    let action = ServerAction::<Activate>::new();
    let error = action_error(action);
    view! {
        <section class="card narrow" aria-labelledby="activate-title">
            <h1 id="activate-title">{tr(Msg::ActivateTitle)}</h1>
            <Suspense fallback=move || view! { <p>{tr(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match info.await {
                        Ok(Some((name, login))) => view! {
                            <p><strong>{name}</strong></p>
                            <dl class="facts">
                                <dt>{tr(Msg::FieldLogin)}</dt>
                                <dd class="mono" data-testid="activation-login">{login}</dd>
                            </dl>
                            <p>{tr(Msg::ActivateIntro)}</p>
                            <ErrorNote error=Signal::derive(error)/>
                            <ActionForm action=action attr:class="form">
                                <input type="hidden" name="token" value=token/>
                                <label for="password">{tr(Msg::NewPassword)}</label>
                                <input id="password" name="password" type="password" required minlength="12" autocomplete="new-password" aria-describedby="pw-hint"/>
                                <p class="hint" id="pw-hint">{tr(Msg::PasswordHint)}</p>
                                <button type="submit" class="primary">{tr(Msg::ActivateButton)}</button>
                            </ActionForm>
                        }
                        .into_any(),
                        _ => view! { <ErrorText error=AppError::new(ErrorCode::LinkInvalid)/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
