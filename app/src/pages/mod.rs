//! The Leptos UI: the HTML shell, the router and the pages. Every string comes from the
//! catalogue in `crate::i18n`; every form is a real `<form>` so it works without JavaScript,
//! and every route renders with `SsrMode::Async`: the server sends the finished page (no
//! out-of-order streaming, whose swaps need JavaScript).

mod account;
mod admin;
mod admin_nav;
mod auth;
mod ca;
mod certs;
mod console;
mod errors;
mod home;
mod pickup;
mod setup;

use crate::api::auth::{whoami, Logout};
use crate::api::SetLanguage;
use crate::i18n::{t, Lang, Msg};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// Where the shell finds the public script and icon. The server gives versioned URLs (the
/// content's hash in `?v=`), which browsers may keep for a year; the plain names otherwise.
#[derive(Clone, Debug)]
pub struct AssetUrls {
    pub script: String,
    pub icon: String,
}

impl Default for AssetUrls {
    fn default() -> Self {
        AssetUrls {
            script: "/passkey.js".into(),
            icon: "/favicon.svg".into(),
        }
    }
}

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let assets = use_context::<AssetUrls>().unwrap_or_default();
    let lang = initial_lang();
    let zone = initial_zone();
    let wasm = page_uses_wasm(&request_path());
    if !wasm {
        // What `HydrationScripts islands=true` does on the pages that load the bundle: the
        // page outside the islands is plain HTML, with no hydration markers.
        if let Some(sc) = Owner::current_shared_context() {
            sc.set_is_hydrating(false);
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang=lang.code() data-tz=zone.name().to_string() data-wasm=if wasm { "app" } else { "none" }>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href=assets.icon type="image/svg+xml"/>
                <script type="module" src=assets.script></script>
                <HashedStylesheet options=options.clone() id="leptos"/>
                <AutoReload options=options.clone()/>
                {wasm.then(|| view! { <HydrationScripts options islands=true/> })}
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Whether the page at `path` loads the WebAssembly bundle: only the link page, whose
/// islands follow the phone live and count down. Every other page is server-rendered HTML
/// and plain forms (with `public/passkey.js` for passkeys, copy buttons and busy states), so
/// the phone's pickup page and the admin console cost a few kilobytes.
pub fn page_uses_wasm(path: &str) -> bool {
    // Asked for every response (the CSP, `plain_pages`): no allocation.
    let mut parts = path.trim_end_matches('/').split('/');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next()),
        (Some(""), Some("certificates"), Some(id), Some("link"), None) if !id.is_empty()
    )
}

/// Marks the page interactive once an island has hydrated (people and tests wait for it).
#[cfg(feature = "hydrate")]
pub(crate) fn mark_interactive() {
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}

/// The path of the request being rendered (on the server; empty elsewhere).
fn request_path() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .map(|p| p.uri.path().to_string())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        String::new()
    }
}

/// The language to render with: on the server from the request (cookie, then
/// `Accept-Language`); in the browser from the `lang` the server put on `<html>`, so
/// hydration renders exactly what the server did.
fn initial_lang() -> Lang {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .map(|p| crate::web::request_lang(&p.headers))
            .unwrap_or_default()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        document()
            .document_element()
            .and_then(|e| e.get_attribute("lang"))
            .and_then(|l| Lang::from_code(&l))
            .unwrap_or_default()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        Lang::default()
    }
}

/// The zone times are shown in: on the server from the `tz` cookie (the user's choice or
/// their browser's zone) or the portal's default; in the browser from the `data-tz` the
/// server put on `<html>`, so hydration renders exactly what the server did.
fn initial_zone() -> crate::zone::Zone {
    #[cfg(feature = "ssr")]
    {
        let default = use_context::<crate::ssr::Services>()
            .map(|s| s.time_zone.clone())
            .unwrap_or_default();
        use_context::<axum::http::request::Parts>()
            .map(|p| crate::web::request_zone(&p.headers, &default))
            .unwrap_or(default)
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        document()
            .document_element()
            .and_then(|e| e.get_attribute("data-tz"))
            .and_then(|z| crate::zone::Zone::parse(&z))
            .unwrap_or_default()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        crate::zone::Zone::default()
    }
}

/// "Confirm with a passkey" beside a password confirmation (rule 8): a fresh passkey check
/// stands in for the password for 5 minutes. Shown only where the browser supports WebAuthn
/// (`html.webauthn`); `public/passkey.js` runs the ceremony.
#[component]
pub fn PasskeyConfirm() -> impl IntoView {
    let lang = use_lang();
    let me = use_context::<MeResource>();
    // An administrator who signs in through the company's provider may confirm there: a
    // fresh sign-in (prompt=login, max_age=0) stands in for the password for 5 minutes.
    let path = leptos_router::hooks::use_location().pathname;
    let provider = move || {
        Suspend::new(async move {
            let MeResource(r) = me?;
            let name = r.await.ok()??.sso?;
            let here = path.get_untracked();
            Some(view! {
                <a class="button secondary" rel="external" data-testid="sso-confirm"
                    href=format!("/auth/oidc/confirm?next={}", crate::web::percent_encode(&here))>
                    {move || crate::i18n::confirm_with(lang.get(), &name)}
                </a>
            })
        })
    };
    view! {
        <Suspense fallback=|| ()>{provider}</Suspense>
        <div class="passkey-block" data-passkey="">
            <button type="button" class="secondary" data-passkey="confirm" data-testid="passkey-confirm"
                data-done=move || t(lang.get(), Msg::ConfirmedByPasskey)>
                {move || t(lang.get(), Msg::ConfirmWithPasskey)}
            </button>
            <p class="passkey-status" role="status" aria-live="polite"></p>
        </div>
    }
}

/// The zone times are shown in, as a `Copy` handle views can move into every closure.
#[derive(Clone, Copy)]
pub struct Times(StoredValue<crate::zone::Zone>);

impl Times {
    /// `2026-12-01 09:30 (UTC+9)`.
    pub fn time(&self, unix: i64) -> String {
        self.0.with_value(|z| z.time(unix))
    }
    /// `2026-12-01`.
    pub fn date(&self, unix: i64) -> String {
        self.0.with_value(|z| z.date(unix))
    }
    /// `Asia/Tokyo (UTC+9)`.
    pub fn describe(&self, now: i64) -> String {
        self.0.with_value(|z| z.describe(now))
    }
    pub fn zone(&self) -> crate::zone::Zone {
        self.0.get_value()
    }
}

/// The zone times are shown in, provided by [`App`].
pub fn use_zone() -> Times {
    use_context::<Times>().unwrap_or_else(|| Times(StoredValue::new(Default::default())))
}

/// The current language signal, provided by [`App`].
pub fn use_lang() -> RwSignal<Lang> {
    use_context::<RwSignal<Lang>>().unwrap_or_else(|| RwSignal::new(Lang::default()))
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let lang = RwSignal::new(initial_lang());
    provide_context(lang);
    provide_context(Times(StoredValue::new(initial_zone())));
    // Who is signed in: read once per page for the header and the expiry banner.
    provide_context(MeResource(Resource::new(|| (), |_| whoami())));
    view! {
        // A plain string, read now: the server renders the title after the page, when a
        // signal of this page may already be disposed (a closure here panicked under
        // concurrent requests).
        <Title text=t(lang.get_untracked(), Msg::AppName)/>
        <Router>
            <a class="skip-link" href="#main">{move || t(lang.get(), Msg::SkipToContent)}</a>
            <header class="topbar">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"◆"</span>
                    {move || t(lang.get(), Msg::AppName)}
                </a>
                <LangSwitch/>
                <nav class="nav" aria-label="Main">
                    <UserNav/>
                </nav>
            </header>
            <main id="main" tabindex="-1">
                <ExpiryBanner/>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=home::Home ssr=SsrMode::Async/>
                    <Route path=path!("/setup/:token") view=setup::Setup ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=auth::LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/activate/:token") view=auth::ActivatePage ssr=SsrMode::Async/>
                    <Route path=path!("/account") view=account::AccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users") view=admin::UsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/revoke") view=admin::RevokeUsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users/:id") view=console::AdminUserPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/approvals") view=console::ApprovalsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/history") view=console::HistoryPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/settings") view=console::SettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/ca") view=ca::CaPage ssr=SsrMode::Async/>
                    <Route path=path!("/certificates") view=certs::CertificatesPage ssr=SsrMode::Async/>
                    <Route path=path!("/certificates/:id/link") view=certs::LinkPage ssr=SsrMode::Async/>
                    <Route path=path!("/certificates/:id/revoke") view=certs::RevokePage ssr=SsrMode::Async/>
                    <Route path=path!("/lost-device") view=certs::LostDevicePage ssr=SsrMode::Async/>
                    <Route path=path!("/pickup/:token") view=pickup::PickupPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// Links for the signed-in user (or "Sign in"), and a sign-out form.
#[component]
fn UserNav() -> impl IntoView {
    let lang = use_lang();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let me = use_context::<MeResource>()
        .map(|m| m.0)
        .unwrap_or_else(|| Resource::new(|| (), |_| whoami()));
    let logout = ServerAction::<Logout>::new();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(me)) => view! {
                        <a href="/certificates" data-testid="nav-certificates">{tr(Msg::NavCertificates)}</a>
                        <a href="/account" data-testid="nav-account">{tr(Msg::NavAccount)}</a>
                        {me.is_admin.then(|| view! { <a href="/admin/users" data-testid="nav-admin">{tr(Msg::NavAdmin)}</a> })}
                        <ActionForm action=logout attr:class="inline-form">
                            <button type="submit" class="link-button">{tr(Msg::SignOut)}</button>
                        </ActionForm>
                    }
                    .into_any(),
                    _ => view! { <a href="/login" data-testid="nav-sign-in">{tr(Msg::NavSignIn)}</a> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The signed-in user, shared by the header and the expiry banner.
#[derive(Clone, Copy)]
struct MeResource(Resource<Result<Option<crate::api::auth::Me>, crate::api::AppError>>);

/// On every page of a signed-in user whose certificate is inside the first reminder
/// threshold: "expires in N days" and the way to renew, one tap away.
#[component]
fn ExpiryBanner() -> impl IntoView {
    let lang = use_lang();
    let Some(MeResource(me)) = use_context::<MeResource>() else {
        return ().into_any();
    };
    // The certificate pages show it on the certificate itself.
    let path = leptos_router::hooks::use_location().pathname;
    let elsewhere = move || !path.get().starts_with("/certificates");
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let e = me.await.ok().flatten().and_then(|m| m.expiring)?;
                if !elsewhere() {
                    return None;
                }
                let href = format!("/certificates/{}/link", e.entry);
                Some(view! {
                    <p class="expiry-banner" role="status" data-testid="expiry-banner">
                        <span>
                            {(!e.device_label.is_empty()).then(|| format!("{} · ", e.device_label))}
                            <strong>{move || crate::i18n::expires_in(lang.get(), e.days)}</strong>
                        </span>
                        <a class="button primary" href=href data-testid="expiry-renew">{move || t(lang.get(), Msg::RenewNow)}</a>
                    </p>
                })
            })}
        </Suspense>
    }
    .into_any()
}

/// Switches between English and Japanese: the form posts, the server sets the cookie and
/// sends the browser back to the same page.
#[component]
fn LangSwitch() -> impl IntoView {
    let lang = use_lang();
    let action = ServerAction::<SetLanguage>::new();
    let location = leptos_router::hooks::use_location();
    let here = move || format!("{}{}", location.pathname.get(), location.search.get());
    view! {
        <ActionForm action=action attr:class="lang-switch">
            <input type="hidden" name="lang" value=move || lang.get().other().code()/>
            <input type="hidden" name="back" value=here/>
            <button
                type="submit"
                class="lang-button"
                data-testid="lang-switch"
                aria-label=move || {
                    format!("{}: {}", t(lang.get(), Msg::SwitchLanguage), lang.get().other().native_name())
                }
                lang=move || lang.get().other().code()
            >
                <svg class="icon" aria-hidden="true" viewBox="0 0 24 24" width="18" height="18">
                    <circle cx="12" cy="12" r="9" fill="none" stroke="currentColor" stroke-width="1.8"/>
                    <path
                        d="M3 12h18M12 3c2.5 2.6 3.8 5.6 3.8 9s-1.3 6.4-3.8 9c-2.5-2.6-3.8-5.6-3.8-9s1.3-6.4 3.8-9z"
                        fill="none"
                        stroke="currentColor"
                        stroke-width="1.8"
                    />
                </svg>
                {move || lang.get().other().native_name()}
            </button>
        </ActionForm>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    let lang = use_lang();
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="card">
            <h1>{move || t(lang.get(), Msg::NotFound)}</h1>
            <p>
                <a href="/">{move || t(lang.get(), Msg::BackHome)}</a>
            </p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::page_uses_wasm;

    #[test]
    fn only_the_link_page_loads_webassembly() {
        assert!(page_uses_wasm("/certificates/x/link"));
        assert!(page_uses_wasm("/certificates/0190b1c2-aaaa/link/"));
        for p in [
            "/",
            "/pickup/abc123",
            "/pickup/abc123/",
            "/certificates",
            "/certificates//link",
            "/certificates/x/link/more",
            "/certificates/x/revoke",
            "/admin/users",
            "/admin/settings",
            "/login",
            "",
        ] {
            assert!(!page_uses_wasm(p), "{p}");
        }
    }
}
