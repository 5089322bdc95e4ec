//! The page a phone opens from the QR code (no sign-in): it names the device, offers the
//! installer for the detected platform as a plain link (works without JavaScript), the
//! steps for that platform, the PIN reminder, and other platforms for a wrong guess. Opening
//! it changes nothing; only the download redeems the link.

use super::errors::{query_error, ErrorNote, ErrorText};
use super::use_lang;
use crate::api::certs::{pickup_info, ALL_PLATFORMS};
use crate::api::AppError;
use crate::domain::platform::Offer;
use crate::i18n::{fmt_utc, install_steps, platform_name, t, Msg};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn PickupPage() -> impl IntoView {
    let lang = use_lang();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let params = use_params_map();
    let query = use_query_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let info = Resource::new(
        move || (token(), query.read().get("platform")),
        |(tok, platform)| pickup_info(tok, platform),
    );
    view! {
        <section class="card narrow" aria-labelledby="pickup-title">
            <h1 id="pickup-title">{tr(Msg::PickupTitle)}</h1>
            <Suspense fallback=move || view! { <p>{tr(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    let error = query_error();
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
                            let platform = v.platform;
                            let tok = token();
                            let button = match (platform.offer(), v.download.clone()) {
                                (Offer::Profile, Some(href)) => Some((href, Msg::PickupProfileButton)),
                                (Offer::Pkcs12 { pfx: true }, Some(href)) => Some((href, Msg::PickupPfxButton)),
                                (Offer::Pkcs12 { pfx: false }, Some(href)) => Some((href, Msg::PickupP12Button)),
                                _ => None,
                            };
                            view! {
                                <ErrorNote error=Signal::derive(error) testid="pickup-error"/>
                                <dl class="facts">
                                    <dt>{tr(Msg::ColDevice)}</dt>
                                    <dd data-testid="pickup-device">{if v.device_label.is_empty() { "—".to_string() } else { v.device_label.clone() }}</dd>
                                    <dt>{tr(Msg::LinkValidUntil)}</dt>
                                    <dd>{fmt_utc(v.expires_at)}</dd>
                                </dl>
                                {v.renewal.then(|| view! { <p class="notice">{tr(Msg::PickupRenewal)}</p> })}
                                {match button {
                                    Some((href, label)) => view! {
                                        <p class="notice" data-testid="pin-reminder">{tr(Msg::PickupOnce)}</p>
                                        <a class="button primary big" href=href data-testid="download" data-platform=platform.code() rel="external nofollow">{tr(label)}</a>
                                    }.into_any(),
                                    None => view! {
                                        <h2>{tr(Msg::PickupOpenInSafari)}</h2>
                                        <p data-testid="open-in-safari">{tr(Msg::PickupOpenInSafariBody)}</p>
                                        <label for="pickup-url">{tr(Msg::PickupLinkLabel)}</label>
                                        <div class="copy-row">
                                            <input id="pickup-url" class="mono" readonly value=v.url.clone()/>
                                            <button type="button" class="secondary" data-copy="pickup-url" data-done=move || t(lang.get(), Msg::Copied)>{tr(Msg::CopyLink)}</button>
                                            <span class="copy-status" role="status" aria-live="polite"></span>
                                        </div>
                                    }.into_any(),
                                }}
                                {v.installer_link.clone().map(|href| view! {
                                    <p><a class="button secondary" href=href data-testid="installer-link">{tr(Msg::PickupInstallerApp)}</a></p>
                                })}
                                <h2>{tr(Msg::PickupSteps)}</h2>
                                <ol class="install-steps" data-testid="steps">
                                    {move || install_steps(lang.get(), platform).iter().map(|s| view! { <li>{*s}</li> }).collect_view()}
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
            </Suspense>
        </section>
    }
}
