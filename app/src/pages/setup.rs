//! First-run setup: the one-time link printed by the server opens this page, which creates the
//! first administrator. Works with and without JavaScript.

use super::errors::{action_error, ErrorNote, ErrorText};
use super::use_lang;
use crate::api::AppError;
use crate::api::{setup_status, CompleteSetup};
use crate::domain::error_code::ErrorCode;
use crate::i18n::{t, Msg};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn Setup() -> impl IntoView {
    let lang = use_lang();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let params = use_params_map();
    let query = use_query_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let status = Resource::new(token, setup_status);
    let action = ServerAction::<CompleteSetup>::new();
    let done =
        move || query.read().get("done").is_some() || matches!(action.value().get(), Some(Ok(_)));
    let error = action_error(action);
    view! {
        <section class="card narrow" aria-labelledby="setup-title">
            <h1 id="setup-title">{tr(Msg::SetupTitle)}</h1>
            <Show
                when=done
                fallback=move || {
                    view! {
                        <Suspense fallback=move || view! { <p>{tr(Msg::Loading)}</p> }>
                            {move || Suspend::new(async move {
                                match status.await {
                                    Ok(true) => {
                                        view! {
                                            <p>{tr(Msg::SetupIntro)}</p>
                                            <ErrorNote error=Signal::derive(error) testid="setup-error"/>
                                            <ActionForm action=action attr:class="form" attr:data-testid="setup-form">
                                                <input type="hidden" name="token" value=token/>
                                                <label for="login">{tr(Msg::FieldLogin)}</label>
                                                <input id="login" name="login" required autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="64"/>
                                                <label for="display_name">{tr(Msg::FieldDisplayName)}</label>
                                                <input id="display_name" name="display_name" required autocomplete="name" maxlength="128"/>
                                                <label for="email">{tr(Msg::FieldEmail)}</label>
                                                <input id="email" name="email" type="email" required autocomplete="email"/>
                                                <label for="password">{tr(Msg::FieldPassword)}</label>
                                                <input id="password" name="password" type="password" required minlength="12" autocomplete="new-password" aria-describedby="password-hint"/>
                                                <p class="hint" id="password-hint">{tr(Msg::PasswordHint)}</p>
                                                <button type="submit" class="primary" disabled=move || action.pending().get()>
                                                    {tr(Msg::CreateAdmin)}
                                                </button>
                                            </ActionForm>
                                            <div class="passkey-block" data-passkey="">
                                                <p class="or">{tr(Msg::Or)}</p>
                                                <button type="button" class="secondary" data-passkey="setup" data-token=token>
                                                    {tr(Msg::CreateAdminPasskey)}
                                                </button>
                                                <p class="passkey-status" role="status" aria-live="polite"></p>
                                            </div>
                                        }
                                            .into_any()
                                    }
                                    _ => view! { <ErrorText error=AppError::new(ErrorCode::SetupLinkInvalid)/> }.into_any(),
                                }
                            })}
                        </Suspense>
                    }
                }
            >
                <p class="success" role="status" data-testid="setup-done">{tr(Msg::SetupDone)}</p>
                <p class="row">
                    <a href="/admin/users" rel="external" class="button primary" data-testid="to-admin">{tr(Msg::NavAdmin)}</a>
                    <a href="/account" rel="external" class="button secondary" data-testid="to-account">{tr(Msg::NavAccount)}</a>
                </p>
            </Show>
        </section>
    }
}
