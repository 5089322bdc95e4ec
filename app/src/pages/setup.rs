//! First-run setup: the one-time link printed by the server opens this page, which creates the
//! first administrator. Works with and without JavaScript.

use super::use_lang;
use crate::api::{setup_status, CompleteSetup};
use crate::i18n::{t, Lang, Msg};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

/// Text for an error code from a plain (no-JavaScript) form post.
fn error_text(lang: Lang, code: &str) -> String {
    match code {
        "setup_link_invalid" | "setup_admin_exists" => t(lang, Msg::SetupBadLink).to_string(),
        "login_taken" => match lang {
            Lang::En => "That login is already taken.".into(),
            Lang::Ja => "そのログイン名は既に使われています。".into(),
        },
        "invalid_field" => match lang {
            Lang::En => "Please check the fields: login (letters, digits, . _ - @), a display name, an e-mail address and a password of at least 12 characters.".into(),
            Lang::Ja => "入力内容を確認してください: ログイン名(英数字と . _ - @)、表示名、メールアドレス、12文字以上のパスワード。".into(),
        },
        _ => t(lang, Msg::ErrorPrefix).to_string(),
    }
}

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
    let error = move || match action.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        Some(Ok(_)) => None,
        None => query
            .read()
            .get("error")
            .map(|code| error_text(lang.get(), &code)),
    };
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
                                            {move || error().map(|e| view! { <p class="error" role="alert" id="setup-error">{e}</p> })}
                                            <ActionForm action=action attr:class="form">
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
                                    _ => view! { <p class="error" role="alert">{tr(Msg::SetupBadLink)}</p> }.into_any(),
                                }
                            })}
                        </Suspense>
                    }
                }
            >
                <p class="success" role="status" data-testid="setup-done">{tr(Msg::SetupDone)}</p>
                <p><a href="/account" rel="external" data-testid="to-account">{tr(Msg::NavAccount)}</a></p>
            </Show>
        </section>
    }
}
