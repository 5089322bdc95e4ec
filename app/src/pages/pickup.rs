//! The page a phone opens from the QR code (no sign-in): it names the device and asks for the
//! PIN shown on the computer (a plain form, so it works without JavaScript). Once the server
//! has checked the PIN, the same page offers the installer for the detected platform (a POST
//! form: no link a scanner could follow), the steps for that platform, and other platforms
//! for a wrong guess. Opening it changes nothing.

use super::errors::{query_error, ErrorNote, ErrorText};
use super::use_lang;
use crate::api::certs::{pickup_info, ALL_PLATFORMS};
use crate::api::AppError;
use crate::domain::error_code::ErrorCode;
use crate::domain::platform::Offer;
use crate::i18n::{fmt_relative, install_steps_for, platform_name, t, Msg};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn PickupPage() -> impl IntoView {
    let lang = use_lang();
    let zone = super::use_zone();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let params = use_params_map();
    let query = use_query_map();
    let token = move || params.read().get("token").unwrap_or_default();
    // This page ships no WebAssembly (see `page_uses_wasm`): it is server-rendered HTML and
    // plain forms. While a bundle is being made after the tap on a .p12/.pfx download,
    // `public/passkey.js` disables the button, says so (`data-busy-label`) and asks every
    // second whether the download went through (`data-bundle`, `data-token`,
    // `data-platform`), then reloads; after 30 s without an answer the button comes back.
    let info = Resource::new(
        move || (token(), query.read().get("platform")),
        |(tok, platform)| pickup_info(tok, platform),
    );
    view! {
        <section class="card narrow" aria-labelledby="pickup-title">
            <h1 id="pickup-title">{tr(Msg::PickupTitle)}</h1>
            <Transition fallback=move || view! { <p>{tr(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    let query_error = query_error();
                    match info.await {
                        Err(e) => view! { <ErrorText error=e/> }.into_any(),
                        Ok(v) => {
                            // A link that cannot be used says why; a failed download of a
                            // still-usable link comes back here with its reason above the offer.
                            if let Some(code) = v.problem {
                                return view! {
                                    <ErrorText error=AppError::new(code) testid="pickup-problem"/>
                                }.into_any();
                            }
                            // A second tap (or a reload) after this browser's own download is no
                            // error: the page says "downloaded" instead of "already used".
                            let downloaded = v.downloaded_at.is_some();
                            let error = move || {
                                query_error().filter(|e| !(downloaded && e.code == ErrorCode::LinkUsed))
                            };
                            let platform = v.platform;
                            let tok = token();
                            let label = match platform.offer() {
                                Offer::Profile => Some(Msg::PickupProfileButton),
                                Offer::Pkcs12 { pfx: true } => Some(Msg::PickupPfxButton),
                                Offer::Pkcs12 { pfx: false } => Some(Msg::PickupP12Button),
                                _ => None,
                            };
                            let left = query.read_untracked().get("left").and_then(|n| n.parse::<i64>().ok());
                            let scep = v.scep;
                            let apple_scep = scep && matches!(platform.offer(), Offer::Profile);
                            let step = match (label, v.download.clone()) {
                                _ if v.downloaded_at.is_some() => view! {
                                    <p class="notice ok" role="status" data-testid="pickup-downloaded">{tr(Msg::PickupDownloaded)}</p>
                                }.into_any(),
                                (Some(label), Some(format)) if v.unlocked => {
                                    // A profile uses nothing up (the device enrolls later): only a
                                    // bundle signed now waits for its download.
                                    let bundle = format != "mobileconfig";
                                    let asked = query.read_untracked().get("platform").unwrap_or_default();
                                    view! {
                                    <p class="notice ok" role="status" data-testid="pickup-unlocked">{tr(Msg::PickupUnlocked)}</p>
                                    <form method="post" action=format!("/pickup/{tok}/download") class="form" data-testid="download-form"
                                        data-bundle=bundle.then_some("") data-token=tok.clone() data-platform=asked>
                                        <input type="hidden" name="format" value=format/>
                                        <button type="submit" class="primary big" data-testid="download" data-platform=platform.code()
                                            aria-busy="false" data-busy-label=move || t(lang.get(), Msg::PickupPreparing)>
                                            {tr(label)}
                                        </button>
                                    </form>
                                    {if apple_scep {
                                        view! { <p class="hint" data-testid="scep-next">{tr(Msg::PickupProfileNext)}</p> }.into_any()
                                    } else {
                                        view! { <p class="hint" data-testid="pin-reminder">{tr(Msg::PickupOnce)}</p> }.into_any()
                                    }}
                                    }.into_any()
                                }
                                (Some(_), Some(_)) => view! {
                                    <form method="post" action=format!("/pickup/{tok}/unlock") class="form pin-form" data-testid="pin-form">
                                        <input type="hidden" name="platform" value=platform.code()/>
                                        <label for="pickup-pin">{tr(Msg::PickupPinLabel)}</label>
                                        <input id="pickup-pin" name="pin" class="pin-input mono" required
                                            autocomplete="one-time-code" inputmode="text" autocapitalize="characters"
                                            autocorrect="off" spellcheck="false" maxlength="16" aria-describedby="pickup-pin-hint"
                                            data-testid="pin-input"/>
                                        <p id="pickup-pin-hint" class="hint">{tr(Msg::PickupPinHint)}</p>
                                        {left.map(|n| view! { <p class="hint" data-testid="pin-left">{tr(Msg::PickupAttemptsLeft)}" "{n}</p> })}
                                        <button type="submit" class="primary big" data-testid="pin-submit">{tr(Msg::PickupUnlock)}</button>
                                    </form>
                                }.into_any(),
                                _ => view! {
                                    <h2>{tr(Msg::PickupOpenInSafari)}</h2>
                                    <p data-testid="open-in-safari">{tr(Msg::PickupOpenInSafariBody)}</p>
                                    <label for="pickup-url">{tr(Msg::PickupLinkLabel)}</label>
                                    <div class="copy-row">
                                        <input id="pickup-url" class="mono" readonly value=v.url.clone()/>
                                        <button type="button" class="secondary" data-copy="pickup-url" data-done=move || t(lang.get(), Msg::Copied)>{tr(Msg::CopyLink)}</button>
                                        <span class="copy-status" role="status" aria-live="polite"></span>
                                    </div>
                                }.into_any(),
                            };
                            view! {
                                <ErrorNote error=Signal::derive(error) testid="pickup-error"/>
                                <dl class="facts">
                                    <dt>{tr(Msg::ColDevice)}</dt>
                                    <dd data-testid="pickup-device">{if v.device_label.is_empty() { "—".to_string() } else { v.device_label.clone() }}</dd>
                                    <dt>{tr(Msg::LinkValidUntil)}</dt>
                                    <dd data-testid="link-until">
                                        {zone.time(v.expires_at)}
                                        <span class="relative">{move || format!(" ({})", fmt_relative(lang.get(), v.expires_at - v.now))}</span>
                                    </dd>
                                </dl>
                                {v.renewal.then(|| view! { <p class="notice">{tr(Msg::PickupRenewal)}</p> })}
                                {crate::domain::platform::label_names_another_platform(&v.device_label, platform).then(|| view! {
                                    <p class="hint" data-testid="label-is-a-name">{tr(Msg::PickupLabelIsAName)}</p>
                                })}
                                {step}
                                {v.installer_link.clone().map(|href| view! {
                                    <p><a class="button secondary" href=href data-testid="installer-link">{tr(Msg::PickupInstallerApp)}</a></p>
                                })}
                                <h2>{tr(Msg::PickupSteps)}</h2>
                                <ol class="install-steps" data-testid="steps">
                                    {move || install_steps_for(lang.get(), platform, scep).iter().map(|s| view! { <li>{*s}</li> }).collect_view()}
                                </ol>
                                <details class="other-platforms">
                                    <summary>{tr(Msg::PickupNotThisDevice)}</summary>
                                    <ul class="links">
                                        {ALL_PLATFORMS.into_iter().filter(|p| *p != platform).map(|p| {
                                            let href = format!("/pickup/{tok}?platform={}", p.code());
                                            view! { <li><a href=href>{move || platform_name(lang.get(), p)}</a></li> }
                                        }).collect_view()}
                                    </ul>
                                </details>
                            }.into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}
