//! The user's own certificates (seed 003's portal): the list with "Show all", requests,
//! "⁝" → "Show renewal URL" with the QR code and PIN, revocation and "I lost my device".
//! The actions offered come from `allowed_actions`, the same rule the server enforces.

use super::errors::{action_error, ErrorNote, ErrorText};
use super::use_lang;
use crate::api::certs::{
    current_renewal_link, link_page_key, my_certificates, my_entry, EntryView, LinkStatusView,
    LinkView, ReportLostDevice, RequestCertificate, RevokeEntry, ShowRenewalLink, USER_REASONS,
};
use crate::domain::error_code::ErrorCode;
use crate::domain::lifecycle::{
    allowed_actions, check_action, Action, Actor as RuleActor, PermissionError, State,
};
use crate::i18n::{fmt_countdown, fmt_relative, reason_label, state_label, t, Msg};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

/// Shown instead of a page to somebody not signed in.
#[component]
pub fn SignInFirst(next: String) -> impl IntoView {
    let lang = use_lang();
    view! {
        <section class="card narrow">
            <p>{move || t(lang.get(), Msg::PleaseSignIn)}</p>
            <p><a href=format!("/login?next={next}")>{move || t(lang.get(), Msg::NavSignIn)}</a></p>
        </section>
    }
}

fn badge_class(state: State) -> &'static str {
    match state {
        State::Issued => "badge ok",
        State::Ready | State::Pending => "badge wait",
        State::Expired | State::Lapsed => "badge muted",
        State::Revoked | State::Superseded | State::Rejected => "badge off",
    }
}

#[component]
pub fn CertificatesPage() -> impl IntoView {
    let lang = use_lang();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let query = use_query_map();
    let show_all = move || query.read().get("all").is_some();
    let request = ServerAction::<RequestCertificate>::new();
    let list = Resource::new(
        move || (show_all(), request.version().get()),
        |(all, _)| my_certificates(all),
    );
    let error = action_error(request);
    let notice = move || -> Option<String> {
        let l = lang.get();
        if request.value().get().is_some() || error().is_some() {
            return None;
        }
        let q = query.read();
        if q.get("awaiting").is_some() {
            return Some(t(l, Msg::RequestedPending).to_string());
        }
        if q.get("revoked").is_some() {
            return Some(t(l, Msg::RevokedDone).to_string());
        }
        None
    };
    view! {
        <Suspense fallback=move || view! { <p>{tr(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) if e.code == ErrorCode::NotSignedIn => view! { <SignInFirst next="/certificates".into()/> }.into_any(),
                    Err(e) => view! {
                        <section class="card narrow">
                            <ErrorText error=e.clone()/>
                            {(e.code == ErrorCode::PasswordChangeRequired).then(|| view! {
                                <p><a href="/account?change=1">{tr(Msg::NavAccount)}</a></p>
                            })}
                        </section>
                    }.into_any(),
                    Ok(mine) => {
                        let who = RuleActor { is_admin: false, owns_entry: true, reissue_allowed: mine.reissue_allowed };
                        let requested = query.read_untracked().get("requested");
                        let just_made = move |id: &str| {
                            requested.as_deref() == Some(id)
                                || matches!(request.value().get(), Some(Ok(ref r)) if r == id)
                        };
                        let now = mine.now;
                        let hidden = mine.hidden;
                        let empty = mine.entries.is_empty();
                        view! {
                            <section class="card" aria-labelledby="certs-title">
                                <div class="title-row">
                                    <h1 id="certs-title">{tr(Msg::CertsTitle)}</h1>
                                    {if show_all() {
                                        view! { <a href="/certificates" data-testid="show-current">{tr(Msg::ShowCurrent)}</a> }.into_any()
                                    } else {
                                        view! {
                                            <a href="/certificates?all=1" data-testid="show-all">
                                                {tr(Msg::ShowAll)}
                                                {(hidden > 0).then(|| format!(" ({hidden})"))}
                                            </a>
                                        }.into_any()
                                    }}
                                </div>
                                <ErrorNote error=Signal::derive(error) testid="certs-notice"/>
                                {move || notice().map(|text| view! {
                                    <p class="success" role="status" data-testid="certs-notice">{text}</p>
                                })}
                                {empty.then(|| view! { <p data-testid="no-certs">{tr(Msg::NoCertificates)}</p> })}
                                <ul class="certs" data-testid="cert-list">
                                    {mine.entries.into_iter().map(|e| {
                                        let fresh = just_made(&e.id);
                                        view! { <EntryCard e=e who=who now=now fresh=fresh/> }
                                    }).collect_view()}
                                </ul>
                            </section>
                            <section class="card" aria-labelledby="request-title">
                                <h2 id="request-title">{tr(Msg::RequestTitle)}</h2>
                                {mine.approval_mode.then(|| view! { <p class="hint">{tr(Msg::ApprovalModeHint)}</p> })}
                                <p class="hint" data-testid="limit-hint">{tr(Msg::LimitHint)}" "<strong>{mine.max_active}</strong></p>
                                <ActionForm action=request attr:class="form" attr:data-testid="request-form">
                                    <label for="device_label">{tr(Msg::DeviceLabel)}</label>
                                    <input id="device_label" name="device_label" maxlength="64" autocomplete="off"/>
                                    <button type="submit" class="primary" disabled=move || request.pending().get()>{tr(Msg::RequestButton)}</button>
                                </ActionForm>
                            </section>
                            <section class="card" aria-labelledby="lost-title">
                                <h2 id="lost-title">{tr(Msg::LostTitle)}</h2>
                                <p class="hint">{tr(Msg::LostHint)}</p>
                                <p><a href="/lost-device" class="danger-link" data-testid="lost-link">{tr(Msg::LostLink)}</a></p>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// One certificate or enrollment, with the "⁝" menu of what the rules allow.
#[component]
fn EntryCard(e: EntryView, who: RuleActor, now: i64, fresh: bool) -> impl IntoView {
    let lang = use_lang();
    let zone = super::use_zone();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let actions = allowed_actions(who, e.state);
    let renew_refused = matches!(
        check_action(who, e.state, Action::Renew),
        Err(PermissionError::ReissueNotAllowed)
    );
    let id = e.id.clone();
    let link_label = if e.serial.is_some() || e.renewal {
        Msg::ShowRenewalUrl
    } else {
        Msg::ShowInstallUrl
    };
    let has_link = actions.contains(&Action::ShowLink) || actions.contains(&Action::Renew);
    let can_revoke = actions.contains(&Action::Revoke);
    let revoke_label = if e.serial.is_some() {
        Msg::RevokeAction
    } else {
        Msg::WithdrawAction
    };
    let state = e.state;
    // A request cancelled before anything was issued is "cancelled", not "revoked".
    let cancelled = state == State::Revoked && e.serial.is_none();
    let label_of = move |lang| {
        if cancelled {
            t(lang, Msg::StateCancelled)
        } else {
            state_label(lang, state)
        }
    };
    let unnamed = e.device_label.is_empty();
    let admin_made = e.admin_created;
    let device_label = e.device_label.clone();
    let title = move || {
        if !unnamed {
            device_label.clone()
        } else if admin_made {
            t(lang.get(), Msg::AdminMadeTitle).to_string()
        } else {
            t(lang.get(), Msg::UnnamedDevice).to_string()
        }
    };
    let _ = now;
    view! {
        <li class="cert" data-testid="cert" data-state=state.code() data-entry=id.clone()>
            <div class="cert-head">
                <h3>{title}</h3>
                <span class=badge_class(state) data-testid="cert-state">{move || label_of(lang.get())}</span>
                {(has_link || can_revoke || renew_refused).then(|| view! {
                    <details class="menu">
                        <summary aria-label=move || t(lang.get(), Msg::ActionsMenu) data-testid="cert-menu">"⁝"</summary>
                        <div class="menu-items">
                            {has_link.then(|| view! {
                                <a href=format!("/certificates/{id}/link") data-testid="show-link">{tr(link_label)}</a>
                            })}
                            {renew_refused.then(|| view! { <p class="hint">{tr(Msg::ReissueNotAllowed)}</p> })}
                            {can_revoke.then(|| view! {
                                <a href=format!("/certificates/{id}/revoke") class="danger-link" data-testid="revoke-link">{tr(revoke_label)}</a>
                            })}
                        </div>
                    </details>
                })}
            </div>
            {e.expires_in_days.map(|days| view! {
                <p class="expiry-note" data-testid="cert-expiring">
                    <strong>{move || crate::i18n::expires_in(lang.get(), days)}</strong>
                    {has_link.then(|| view! {
                        <a class="button primary" href=format!("/certificates/{}/link", e.id) data-testid="renew-now">{tr(Msg::RenewNow)}</a>
                    })}
                </p>
            })}
            {e.rejection_note.clone().map(|note| view! {
                <p class="notice error" data-testid="rejection-note">
                    <strong>{tr(Msg::RejectionNote)}</strong>" "{note}
                </p>
            })}
            {(fresh && state == State::Ready).then(|| view! { <p class="success" role="status">{tr(Msg::RequestedReady)}</p> })}
            // "Ready" (SPEC's 発行待ち) waits for the user, not for the portal: say what to do.
            {(!fresh && state == State::Ready && has_link).then(|| view! { <p class="hint" data-testid="ready-hint">{tr(Msg::ReadyForYou)}</p> })}
            {(fresh && state == State::Pending).then(|| view! { <p class="notice" role="status">{tr(Msg::RequestedPending)}</p> })}
            <dl class="facts">
                {e.serial.clone().map(|s| view! { <dt>{tr(Msg::ColSerial)}</dt><dd class="mono" data-testid="cert-serial">{s}</dd> })}
                {e.fingerprint.clone().map(|f| view! { <dt>{tr(Msg::ColFingerprint)}</dt><dd class="mono wrap">{f}</dd> })}
                {e.not_after.map(|n| view! {
                    <dt>{tr(Msg::ColNotAfter)}</dt>
                    <dd data-testid="cert-not-after">
                        {zone.date(n)}
                        {(state == State::Issued).then(|| view! { <span class="relative">{move || format!(" ({})", fmt_relative(lang.get(), n - now))}</span> })}
                    </dd>
                })}
                {e.ca_name.clone().map(|c| view! { <dt>{tr(Msg::ColIssuer)}</dt><dd>{c}</dd> })}
                {e.pickup_deadline.filter(|_| state == State::Ready).map(|d| view! { <dt>{tr(Msg::ColPickupBy)}</dt><dd>{zone.time(d)}<span class="relative">{move || format!(" ({})", fmt_relative(lang.get(), d - now))}</span></dd> })}
                {e.revocation_reason.clone().map(|r| view! { <dt>{tr(Msg::ColReason)}</dt><dd>{move || reason_label(lang.get(), &r)}</dd> })}
            </dl>
        </li>
    }
}

/// What the phone picked up, and the PIN while the install step that needs it may still be
/// under way (a `.p12`/`.pfx` asks for it in the phone's settings after the download).
#[component]
fn PickedUp(l: LinkView) -> impl IntoView {
    let lang = use_lang();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let format = l.status.picked_format.clone().unwrap_or_default();
    let kind = match format.as_str() {
        "p12" => Some(Msg::PickedAsP12),
        "pfx" => Some(Msg::PickedAsPfx),
        "scep" => Some(Msg::PickedAsScep),
        "mobileconfig" => Some(Msg::PickedAsProfile),
        _ => None,
    };
    let needs_pin = matches!(format.as_str(), "p12" | "pfx")
        && l.status
            .picked_at
            .is_some_and(|at| l.now - at < PIN_AFTER_PICKUP_SECS);
    let pin = l.pin.clone();
    view! {
        {kind.map(|k| view! { <p data-testid="picked-kind">{tr(Msg::PickedAs)}" "<strong>{tr(k)}</strong></p> })}
        {needs_pin.then(|| view! {
            <div class="notice" data-testid="pin-after-pickup" data-pin=pin.clone()>
                <p>{tr(Msg::PinForInstall)}</p>
                <p class="pin mono">{grouped(&pin)}</p>
            </div>
        })}
    }
}

/// How long after a `.p12`/`.pfx` pickup the link page keeps showing the PIN.
const PIN_AFTER_PICKUP_SECS: i64 = 30 * 60;

/// Groups a PIN for reading aloud and typing: `ABCD EFGH`.
fn grouped(pin: &str) -> String {
    let (a, b) = pin.split_at(pin.len() / 2);
    format!("{a} {b}")
}

#[component]
pub fn LinkPage() -> impl IntoView {
    let lang = use_lang();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    // "Make the link" posts; the server answers with this page again (a renewal's link at
    // its new entry's address) or the approvals notice.
    let make = ServerAction::<ShowRenewalLink>::new();
    let entry = Resource::new(id, my_entry);
    let current = Resource::new(id, current_renewal_link);
    let error = action_error(make);
    view! {
        <section class="card narrow-wide" aria-labelledby="link-title">
            <p><a href="/certificates">{"← "}{tr(Msg::BackToCertificates)}</a></p>
            <Transition fallback=move || view! { <p>{tr(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    let e = entry.await;
                    let cur = current.await;
                    match (e, cur) {
                        (Err(e), _) if e.code == ErrorCode::NotSignedIn => view! { <SignInFirst next=format!("/certificates/{}/link", id())/> }.into_any(),
                        (Err(e), _) | (_, Err(e)) => view! { <ErrorText error=e/> }.into_any(),
                        (Ok(e), Ok(cur)) => {
                            // Once the phone picked the link up, the QR code and PIN are spent:
                            // only the outcome is shown.
                            let picked = cur.as_ref().is_some_and(|l| l.status.picked_at.is_some());
                            // Right after a pickup another renewal is almost surely a mistake: it
                            // waits behind a closed disclosure for the first half hour.
                            let recent = cur.as_ref().is_some_and(|l| {
                                l.status.picked_at.is_some_and(|at| l.now - at < PIN_AFTER_PICKUP_SECS)
                            });
                            // The page follows the phone live: the watcher reloads it when
                            // this key changes.
                            let key = link_page_key(&e, cur.as_ref());
                            let cur = StoredValue::new(cur);
                            let shown = move || cur.get_value();
                            let title = if e.serial.is_some() || e.renewal { Msg::LinkTitle } else { Msg::InstallUrlTitle };
                            view! {
                                <h1 id="link-title">{tr(title)}</h1>
                                <p class="lead">
                                    <strong>{if e.device_label.is_empty() { "—".to_string() } else { e.device_label.clone() }}</strong>
                                    " · "
                                    <span class=badge_class(e.state)>{move || state_label(lang.get(), e.state)}</span>
                                </p>
                                <LinkWatch entry=e.id.clone() key=key/>
                                <ErrorNote error=Signal::derive(error) testid="link-error"/>
                                {move || match shown() {
                                    Some(l) if picked => view! { <LinkStatusNote st=l.status.clone()/> <PickedUp l=l/> }.into_any(),
                                    Some(l) => view! { <LinkPanel l=l/> }.into_any(),
                                    None => view! { <p class="hint">{tr(Msg::LinkNone)}</p> }.into_any(),
                                }}
                                // After a pickup, another renewal is a deliberate step behind its own
                                // disclosure, never a button met in passing.
                                {
                                    let form = move || view! {
                                        <ActionForm action=make attr:class="form">
                                            <input type="hidden" name="entry" value=id/>
                                            <button type="submit" class=if picked { "secondary" } else { "primary" } data-testid="make-link">
                                                {move || if picked {
                                                    t(lang.get(), Msg::StartAnotherRenewal)
                                                } else if shown().is_some() {
                                                    t(lang.get(), Msg::MakeNewLink)
                                                } else {
                                                    t(lang.get(), Msg::MakeLink)
                                                }}
                                            </button>
                                        </ActionForm>
                                    };
                                    if picked {
                                        view! {
                                            <details class="another-renewal" data-testid="another-renewal" open=!recent>
                                                <summary>{tr(Msg::AnotherRenewal)}</summary>
                                                <p class="hint">{tr(Msg::AnotherRenewalHint)}</p>
                                                {form()}
                                            </details>
                                        }.into_any()
                                    } else {
                                        form().into_any()
                                    }
                                }
                            }.into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

/// The QR code, the link, the PIN and the countdown.
#[component]
fn LinkPanel(l: LinkView) -> impl IntoView {
    let lang = use_lang();
    let zone = super::use_zone();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let left = l.expires_at - l.now;
    let url = l.url.clone();
    let spelled = l
        .pin
        .chars()
        .map(String::from)
        .collect::<Vec<_>>()
        .join(" ");
    view! {
        <div class="link-panel" data-testid="link-panel">
            <p>{tr(Msg::LinkIntro)}</p>
            <div class="qr" data-testid="qr" inner_html=l.qr_svg.clone()></div>
            <label for="link-url">{tr(Msg::PickupLinkLabel)}</label>
            <div class="copy-row">
                <input id="link-url" class="mono" readonly value=url.clone() data-testid="link-url"/>
                <button type="button" class="secondary" data-copy="link-url" data-done=move || t(lang.get(), Msg::Copied)>{tr(Msg::CopyLink)}</button>
                <span class="copy-status" role="status" aria-live="polite"></span>
            </div>
            <p class="pin-label">{tr(Msg::LinkPin)}</p>
            <p class="pin mono" data-testid="pin" data-pin=l.pin.clone() aria-label=spelled>{grouped(&l.pin)}</p>
            <p class="hint">{tr(Msg::LinkPinOnlyHere)}</p>
            <dl class="facts">
                <dt>{tr(Msg::LinkExpiresIn)}</dt>
                <dd data-testid="countdown" aria-live="off">
                    <Countdown left=left expired=t(lang.get_untracked(), Msg::LinkExpired).to_string()/>
                </dd>
                <dt>{tr(Msg::LinkValidUntil)}</dt>
                <dd data-testid="link-until">{zone.time(l.expires_at)}</dd>
            </dl>
            <LinkStatusNote st=l.status.clone()/>
        </div>
    }
}

/// Keeps the link page current, the one page that changes by itself: every 3 seconds it asks
/// the server for the page's [`link_page_key`] and reloads the page when it changed — the
/// phone proved the PIN, fetched the profile, picked up or enrolled, or the link locked. An
/// island: this and [`Countdown`] are all the WebAssembly the portal ships.
#[island]
fn LinkWatch(entry: String, key: String) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        super::mark_interactive();
        let asking = StoredValue::new(false);
        let ask = move || {
            if asking.get_value() {
                return;
            }
            asking.set_value(true);
            let (entry, key) = (entry.clone(), key.clone());
            leptos::task::spawn_local(async move {
                let changed = match crate::api::certs::link_page_key_now(entry).await {
                    Ok(now) => now != key,
                    // Signed out, or the entry is gone: the page says so after a reload. A
                    // network hiccup is asked again next time.
                    Err(e) => e.code != ErrorCode::Transport,
                };
                if changed {
                    let _ = window().location().reload();
                } else {
                    asking.set_value(false);
                }
            });
        };
        if let Ok(h) = set_interval_with_handle(ask, std::time::Duration::from_secs(3)) {
            on_cleanup(move || h.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (entry, key);
}

/// The time left on the link, counting down every second (`expired` once it is over).
#[island]
fn Countdown(left: i64, expired: String) -> impl IntoView {
    let elapsed = RwSignal::new(0i64);
    #[cfg(feature = "hydrate")]
    {
        super::mark_interactive();
        if let Ok(h) = set_interval_with_handle(
            move || elapsed.update(|e| *e += 1),
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || h.clear());
        }
    }
    move || {
        let now = left - elapsed.get();
        if now > 0 {
            fmt_countdown(now)
        } else {
            expired.clone()
        }
    }
}

/// What the phone did with the link, as far as the server knows.
#[component]
fn LinkStatusNote(st: LinkStatusView) -> impl IntoView {
    let lang = use_lang();
    let zone = super::use_zone();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let at = |m: Msg, when: i64| {
        view! { <p class="notice ok" data-testid="link-status">{tr(m)}" "{zone.time(when)}</p> }
            .into_any()
    };
    let body = if st.problem == Some(ErrorCode::LinkLocked) {
        view! { <p class="notice error" role="alert" data-testid="link-status" data-status="locked">{tr(Msg::LinkStatusLocked)}</p> }.into_any()
    } else if let (Some(when), Some("scep")) = (st.picked_at, st.picked_format.as_deref()) {
        at(Msg::LinkStatusEnrolled, when)
    } else if let Some(when) = st.picked_at {
        at(Msg::LinkStatusPicked, when)
    } else if st.profile_at.is_some() {
        view! { <p class="notice" data-testid="link-status" data-status="profile">{tr(Msg::LinkStatusProfile)}</p> }.into_any()
    } else if let Some(when) = st.unlocked_at {
        at(Msg::LinkStatusUnlocked, when)
    } else {
        view! { <p class="hint" data-testid="link-status" data-status="waiting">{tr(Msg::LinkStatusWaiting)}</p> }.into_any()
    };
    view! {
        <section class="link-status" aria-live="polite" aria-labelledby="link-status-title">
            <h2 id="link-status-title">{tr(Msg::LinkStatus)}</h2>
            {body}
            {(st.pin_failures > 0 && st.problem != Some(ErrorCode::LinkLocked)).then(|| view! {
                <p class="hint" data-testid="pin-failures">{tr(Msg::LinkStatusFailures)}" "{st.pin_failures}</p>
            })}
        </section>
    }
}

#[component]
pub fn RevokePage() -> impl IntoView {
    let lang = use_lang();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let entry = Resource::new(id, my_entry);
    let revoke = ServerAction::<RevokeEntry>::new();
    let error = action_error(revoke);
    view! {
        <section class="card narrow" aria-labelledby="revoke-title">
            <Suspense fallback=move || view! { <p>{tr(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match entry.await {
                        Err(e) if e.code == ErrorCode::NotSignedIn => view! { <SignInFirst next=format!("/certificates/{}/revoke", id())/> }.into_any(),
                        Err(e) => view! { <ErrorText error=e/> }.into_any(),
                        Ok(e) => {
                            let cert = e.serial.is_some();
                            view! {
                                <h1 id="revoke-title">{tr(if cert { Msg::RevokeTitle } else { Msg::WithdrawTitle })}</h1>
                                <dl class="facts">
                                    <dt>{tr(Msg::ColDevice)}</dt><dd>{if e.device_label.is_empty() { "—".to_string() } else { e.device_label.clone() }}</dd>
                                    {e.serial.clone().map(|s| view! { <dt>{tr(Msg::ColSerial)}</dt><dd class="mono">{s}</dd> })}
                                    <dt>{tr(Msg::ColStatus)}</dt><dd>{move || state_label(lang.get(), e.state)}</dd>
                                </dl>
                                <p class="notice">{tr(if cert { Msg::RevokeIntro } else { Msg::WithdrawIntro })}</p>
                                <ErrorNote error=Signal::derive(error) testid="revoke-error"/>
                                <ActionForm action=revoke attr:class="form" attr:data-testid="revoke-form">
                                    <input type="hidden" name="entry" value=id/>
                                    {if cert {
                                        view! {
                                            <label for="reason">{tr(Msg::ColReason)}</label>
                                            <select id="reason" name="reason">
                                                {USER_REASONS.into_iter().map(|r| view! {
                                                    <option value=r.code()>{move || reason_label(lang.get(), r.code())}</option>
                                                }).collect_view()}
                                            </select>
                                        }.into_any()
                                    } else {
                                        view! { <input type="hidden" name="reason" value="cessationOfOperation"/> }.into_any()
                                    }}
                                    <div class="row">
                                        <button type="submit" class="danger" data-testid="confirm-revoke">
                                            {tr(if cert { Msg::RevokeConfirmButton } else { Msg::WithdrawConfirmButton })}
                                        </button>
                                        <a href="/certificates" class="button-like">{tr(Msg::Cancel)}</a>
                                    </div>
                                </ActionForm>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
pub fn LostDevicePage() -> impl IntoView {
    let lang = use_lang();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let lost = ServerAction::<ReportLostDevice>::new();
    let error = action_error(lost);
    let me = Resource::new(|| (), |_| crate::api::auth::whoami());
    let mine = Resource::new(|| (), |_| my_certificates(false));
    view! {
        <section class="card narrow" aria-labelledby="lost-title">
            <h1 id="lost-title">{tr(Msg::LostTitle)}</h1>
            <Suspense fallback=move || view! { <p>{tr(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(Some(_)) => view! {
                            <p>{tr(Msg::LostIntro)}</p>
                            // What it cuts off, by name: every certificate in use and every open link.
                            {mine.await.ok().map(|m| {
                                let cut: Vec<String> = m.entries.iter()
                                    .filter(|e| matches!(e.state, State::Issued | State::Ready))
                                    .map(|e| if e.device_label.is_empty() { "—".to_string() } else { e.device_label.clone() })
                                    .collect();
                                (!cut.is_empty()).then(|| view! {
                                    <p>{tr(Msg::LostWillCut)}</p>
                                    <ul data-testid="lost-devices">
                                        {cut.into_iter().map(|d| view! { <li>{d}</li> }).collect_view()}
                                    </ul>
                                })
                            })}
                            <ErrorNote error=Signal::derive(error) testid="lost-error"/>
                            <ActionForm action=lost attr:class="form" attr:data-testid="lost-form">
                                <label class="check">
                                    <input type="checkbox" name="confirm" value="yes" required data-testid="lost-confirm"/>
                                    {tr(Msg::LostConfirm)}
                                </label>
                                <div class="row">
                                    <button type="submit" class="danger" data-testid="lost-submit">{tr(Msg::LostButton)}</button>
                                    <a href="/certificates" class="button-like">{tr(Msg::Cancel)}</a>
                                </div>
                            </ActionForm>
                        }.into_any(),
                        _ => view! { <SignInFirst next="/lost-device".into()/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
