//! The signed-in user's account: password, passkeys, confirmation (rule 8), sessions.

use super::errors::{query_error, ErrorNote, ErrorText};
use super::use_lang;
use crate::api::auth::{
    list_passkeys, my_time_zone, whoami, ChangePassword, ConfirmPassword, Logout, LogoutEverywhere,
    RemovePasskey, RenamePasskey,
};
use crate::i18n::{t, Msg};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AccountPage() -> impl IntoView {
    let lang = use_lang();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let query = use_query_map();
    let me = Resource::new(|| (), |_| whoami());
    view! {
        <Suspense fallback=move || view! { <p>{tr(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(me)) => {
                        let must = me.must_change_password || query.read_untracked().get("change").is_some();
                        view! {
                            <section class="card" aria-labelledby="account-title">
                                <h1 id="account-title">{tr(Msg::AccountTitle)}</h1>
                                <dl class="facts">
                                    <dt>{tr(Msg::FieldDisplayName)}</dt><dd data-testid="me-name">{me.display_name.clone()}</dd>
                                    <dt>{tr(Msg::FieldLogin)}</dt><dd data-testid="me-login">{me.login.clone()}</dd>
                                    <dt>{tr(Msg::FieldEmail)}</dt><dd>{me.email.clone()}</dd>
                                </dl>
                                <ErrorNote error=Signal::derive(query_error()) testid="account-error"/>
                            </section>
                            <ZoneCard/>
                            <PasswordCard must=must/>
                            <PasskeysCard/>
                            <SessionsCard/>
                            <super::console::MyHistoryCard/>
                        }
                        .into_any()
                    }
                    _ => view! {
                        <section class="card narrow">
                            <p>{tr(Msg::PleaseSignIn)}</p>
                            <p><a href="/login?next=/account">{tr(Msg::NavSignIn)}</a></p>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// The zone times are shown in. A plain form (a full page load with or without JavaScript),
/// so every time on the next page is written in the new zone.
#[component]
fn ZoneCard() -> impl IntoView {
    let lang = use_lang();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let zone = super::use_zone();
    let query = use_query_map();
    let choice = Resource::new(|| (), |_| my_time_zone());
    let saved = move || query.read().get("zone").is_some_and(|v| v == "saved");
    view! {
        <section class="card" aria-labelledby="zone-title">
            <h2 id="zone-title">{tr(Msg::ZoneTitle)}</h2>
            <Suspense fallback=|| ()>
                {move || {
                    Suspend::new(async move {
                        choice.await.ok().map(|c| {
                            let chosen = c.chosen.clone().unwrap_or_default();
                            let options = c.names.iter().map(|n| {
                                let selected = *n == chosen;
                                view! { <option value=n.clone() selected=selected>{n.clone()}</option> }
                            }).collect_view();
                            view! {
                                <p data-testid="zone-now">{tr(Msg::ZoneShownIn)}" "<strong>{zone.describe(c.now)}</strong></p>
                                {move || saved().then(|| view! { <p class="success" role="status" data-testid="zone-saved">{tr(Msg::Saved)}</p> })}
                                <form method="post" action="/api/set_time_zone" class="form" data-zone-form="">
                                    <input type="hidden" name="browser" value=""/>
                                    <label for="zone">{tr(Msg::ZoneLabel)}</label>
                                    <select id="zone" name="zone" aria-describedby="zone-hint" data-testid="zone-select">
                                        <option value="" selected=chosen.is_empty()>{tr(Msg::ZoneAutomatic)}</option>
                                        {options}
                                    </select>
                                    <p class="hint" id="zone-hint">{tr(Msg::ZoneAutomaticHint)}" "{c.portal_default.clone()}</p>
                                    <button type="submit" class="primary">{tr(Msg::Save)}</button>
                                </form>
                            }
                        })
                    })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn PasswordCard(must: bool) -> impl IntoView {
    let lang = use_lang();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let query = use_query_map();
    let action = ServerAction::<ChangePassword>::new();
    let done = move || {
        matches!(action.value().get(), Some(Ok(()))) || query.read().get("changed").is_some()
    };
    let error = move || match action.value().get() {
        Some(Err(e)) => Some(e),
        _ => None,
    };
    view! {
        <section class="card" aria-labelledby="pw-title">
            <h2 id="pw-title">{tr(Msg::ChangePasswordTitle)}</h2>
            {must.then(|| view! { <p class="notice" role="status" data-testid="must-change">{tr(Msg::MustChangePassword)}</p> })}
            {move || done().then(|| view! {
                <p class="success" role="status" data-testid="password-changed">{tr(Msg::PasswordChanged)}</p>
                <p><a href="/certificates" class="button primary" data-testid="after-password">{tr(Msg::NavCertificates)}</a></p>
            })}
            <ErrorNote error=Signal::derive(error) testid="password-error"/>
            <ActionForm action=action attr:class="form">
                <label for="current">{tr(Msg::CurrentPassword)}</label>
                <input id="current" name="current" type="password" autocomplete="current-password"/>
                <label for="new_password">{tr(Msg::NewPassword)}</label>
                <input id="new_password" name="new_password" type="password" required minlength="12" autocomplete="new-password" aria-describedby="np-hint"/>
                <p class="hint" id="np-hint">{tr(Msg::PasswordHint)}</p>
                <button type="submit" class="primary">{tr(Msg::ChangePasswordButton)}</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn PasskeysCard() -> impl IntoView {
    let lang = use_lang();
    let zone = super::use_zone();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let rename = ServerAction::<RenamePasskey>::new();
    let remove = ServerAction::<RemovePasskey>::new();
    let confirm = ServerAction::<ConfirmPassword>::new();
    let keys = Resource::new(
        move || (rename.version().get(), remove.version().get()),
        |_| list_passkeys(),
    );
    let remove_error = move || match remove.value().get() {
        Some(Err(e)) => Some(e),
        _ => None,
    };
    view! {
        <section class="card" aria-labelledby="pk-title">
            <h2 id="pk-title">{tr(Msg::PasskeysTitle)}</h2>
            <Suspense fallback=move || view! { <p>{tr(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(list) if list.is_empty() => view! { <p data-testid="no-passkeys">{tr(Msg::NoPasskeys)}</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="items" data-testid="passkey-list">
                                {list.into_iter().map(|k| {
                                    let id2 = k.id.clone();
                                    view! {
                                        <li>
                                            <strong>{k.name.clone()}</strong>
                                            <span class="hint">{tr(Msg::Created)}": "{zone.time(k.created_at)}</span>
                                            {k.last_used_at.map(|u| view! { <span class="hint">{tr(Msg::LastUsed)}": "{zone.time(u)}</span> })}
                                            <ActionForm action=rename attr:class="inline-form">
                                                <input type="hidden" name="id" value=k.id.clone()/>
                                                <label class="sr-only" for=format!("name-{}", k.id)>{tr(Msg::PasskeyName)}</label>
                                                <input id=format!("name-{}", k.id) name="name" value=k.name.clone() maxlength="64" required/>
                                                <button type="submit" class="secondary">{tr(Msg::Rename)}</button>
                                            </ActionForm>
                                            <ActionForm action=remove attr:class="inline-form">
                                                <input type="hidden" name="id" value=id2/>
                                                <button type="submit" class="danger">{tr(Msg::Remove)}</button>
                                            </ActionForm>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <ErrorText error=e/> }.into_any(),
                    }
                })}
            </Suspense>
            <ErrorNote error=Signal::derive(remove_error) testid="remove-error"/>
            <div class="passkey-block" data-passkey="">
                <label for="passkey-name">{tr(Msg::PasskeyName)}</label>
                <input id="passkey-name" maxlength="64" placeholder="iPhone, YubiKey…"/>
                <button type="button" class="secondary" data-passkey="register">{tr(Msg::AddPasskey)}</button>
                <p class="passkey-status" role="status" aria-live="polite"></p>
            </div>
            <h3>{tr(Msg::ConfirmTitle)}</h3>
            <p class="hint">{tr(Msg::ConfirmHint)}</p>
            {move || matches!(confirm.value().get(), Some(Ok(()))).then(|| view! { <p class="success" role="status">{tr(Msg::Confirmed)}</p> })}
            <ErrorNote error=Signal::derive(move || confirm.value().get().and_then(Result::err)) testid="confirm-error"/>
            <ActionForm action=confirm attr:class="form">
                <input type="hidden" name="next" value="/account"/>
                <label for="confirm-password">{tr(Msg::FieldPassword)}</label>
                <input id="confirm-password" name="password" type="password" required autocomplete="current-password"/>
                <button type="submit" class="secondary">{tr(Msg::ConfirmWithPassword)}</button>
            </ActionForm>
            <div class="passkey-block" data-passkey="">
                <button type="button" class="secondary" data-passkey="confirm">{tr(Msg::ConfirmWithPasskey)}</button>
                <p class="passkey-status" role="status" aria-live="polite"></p>
            </div>
        </section>
    }
}

#[component]
fn SessionsCard() -> impl IntoView {
    let lang = use_lang();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let all = ServerAction::<LogoutEverywhere>::new();
    let one = ServerAction::<Logout>::new();
    view! {
        <section class="card" aria-labelledby="sess-title">
            <h2 id="sess-title">{tr(Msg::SessionsTitle)}</h2>
            <p class="hint">{tr(Msg::SignOutEverywhereHint)}</p>
            <div class="row">
                <ActionForm action=one>
                    <button type="submit" class="secondary" data-testid="sign-out">{tr(Msg::SignOut)}</button>
                </ActionForm>
                <ActionForm action=all>
                    <button type="submit" class="danger" data-testid="sign-out-everywhere">{tr(Msg::SignOutEverywhere)}</button>
                </ActionForm>
            </div>
        </section>
    }
}
