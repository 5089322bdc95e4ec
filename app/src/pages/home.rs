//! The start page: what certportal is for, the three steps of a renewal, and the CA and its
//! revocation lists (read through the `portal_info` server function).

use super::use_lang;
use crate::api::portal_info;
use crate::i18n::{t, Msg};
use leptos::prelude::*;

#[component]
pub fn Home() -> impl IntoView {
    let lang = use_lang();
    let zone = super::use_zone();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let info = Resource::new(|| (), |_| portal_info());
    let steps = [
        (Msg::Step1Title, Msg::Step1Body),
        (Msg::Step2Title, Msg::Step2Body),
        (Msg::Step3Title, Msg::Step3Body),
    ];
    view! {
        <section class="hero">
            <h1>{tr(Msg::AppName)}</h1>
            <p class="tagline" data-testid="tagline">{tr(Msg::Tagline)}</p>
        </section>
        <section class="card" aria-labelledby="how-title">
            <h2 id="how-title">{tr(Msg::HowItWorks)}</h2>
            <ol class="steps">
                {steps
                    .into_iter()
                    .map(|(title, body)| {
                        view! {
                            <li>
                                <h3>{tr(title)}</h3>
                                <p>{tr(body)}</p>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </section>
        <section class="card" aria-labelledby="ca-title">
            <h2 id="ca-title">{tr(Msg::CaTitle)}</h2>
            <Suspense fallback=move || view! { <p>{tr(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match info.await {
                        Ok(i) => {
                            let crl = format!("/crl/{}.crl", i.ca_id);
                            let crl_pem = format!("/crl/{}.pem", i.ca_id);
                            view! {
                                {i
                                    .setup_needed
                                    .then(|| view! { <p class="notice" role="status">{tr(Msg::SetupNeeded)}</p> })}
                                <dl class="facts">
                                    <dt>{tr(Msg::CaSubject)}</dt>
                                    <dd data-testid="ca-subject">{i.ca_subject.clone()}</dd>
                                    <dt>{tr(Msg::CaFingerprint)}</dt>
                                    <dd class="mono">{i.ca_fingerprint.clone()}</dd>
                                    <dt>{tr(Msg::CaValidUntil)}</dt>
                                    <dd>{zone.time(i.ca_not_after)}</dd>
                                    <dt>{tr(Msg::CrlNextUpdate)}</dt>
                                    <dd>{i.crl_next_update.map(|x| zone.time(x)).unwrap_or_default()}</dd>
                                </dl>
                                <ul class="links">
                                    <li><a href="/ca.pem" download="certportal-ca.pem">{tr(Msg::CaDownload)}</a></li>
                                    <li><a href=crl>{tr(Msg::CrlDownloadDer)}</a></li>
                                    <li><a href=crl_pem>{tr(Msg::CrlDownloadPem)}</a></li>
                                </ul>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <super::errors::ErrorText error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
