//! Admin view of the certificate authorities and revocation (issue 6): every CA with the CRL
//! it publishes (signed when, next update, entries, number) and the OCSP responder's state.

use super::errors::{action_error, denied, ErrorNote};
use super::use_lang;
use crate::api::admin::{admin_revocation_status, AdminRotateCa, CaRevocation, OcspState};
use crate::i18n::{t, Lang, Msg};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn CaPage() -> impl IntoView {
    let lang = use_lang();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let rotate = ServerAction::<AdminRotateCa>::new();
    let status = Resource::new(
        move || rotate.version().get(),
        |_| admin_revocation_status(),
    );
    let query = use_query_map();
    let rotated = move || {
        query.with(|q| q.get("rotated").is_some()) || matches!(rotate.value().get(), Some(Ok(_)))
    };
    let error = action_error(rotate);
    view! {
        <Suspense fallback=move || view! { <p>{tr(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match status.await {
                    Err(e) => denied(lang, &e, "/admin/ca"),
                    Ok(st) => {
                        let now = st.now;
                        view! {
                            <super::admin_nav::AdminNav/>
                            <h1>{tr(Msg::CasTitle)}</h1>
                            <p class="hint">{tr(Msg::CaIntro)}</p>
                            <OcspCard ocsp=st.ocsp lang=lang/>
                            {st.cas.into_iter().map(|ca| view! { <CaCard ca=ca now=now lang=lang/> }).collect_view()}
                            <section class="card" aria-labelledby="rotate-title">
                                <h2 id="rotate-title">{tr(Msg::RotateTitle)}</h2>
                                <p class="hint">{tr(Msg::RotateIntro)}</p>
                                {move || rotated().then(|| view! { <p class="success" role="status" data-testid="rotated">{tr(Msg::Rotated)}</p> })}
                                <ErrorNote error=Signal::derive(error) testid="rotate-error"/>
                                <ActionForm action=rotate attr:class="form" attr:data-testid="rotate-form">
                                    <label for="ca-name">{tr(Msg::RotateName)}</label>
                                    <input id="ca-name" name="name" maxlength="64"/>
                                    <label for="ca-password">{tr(Msg::ConfirmPasswordField)}</label>
                                    <input id="ca-password" name="password" type="password" autocomplete="current-password"/>
                                    <p class="hint">{tr(Msg::ConfirmPasswordHint)}</p>
                                    <super::PasskeyConfirm/>
                                    <label class="check"><input type="checkbox" name="confirm" value="yes"/>{tr(Msg::RotateConfirm)}</label>
                                    <button type="submit" class="danger" data-testid="rotate-ca">{tr(Msg::RotateButton)}</button>
                                </ActionForm>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn OcspCard(ocsp: OcspState, lang: RwSignal<Lang>) -> impl IntoView {
    let zone = super::use_zone();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let counts = move || {
        let l = lang.get();
        [
            (Msg::OcspGood, ocsp.good),
            (Msg::OcspRevokedCount, ocsp.revoked),
            (Msg::OcspUnknown, ocsp.unknown),
            (Msg::OcspMalformed, ocsp.malformed),
            (Msg::OcspUnauthorized, ocsp.unauthorized),
            (Msg::OcspErrors, ocsp.errors),
        ]
        .iter()
        .map(|(m, n)| format!("{} {n}", t(l, *m)))
        .collect::<Vec<_>>()
        .join(" · ")
    };
    let last = ocsp.last_answer_at;
    view! {
        <section class="card" aria-labelledby="ocsp-title" data-testid="ocsp-state">
            <h2 id="ocsp-title">{tr(Msg::OcspTitle)}</h2>
            <dl class="facts">
                <dt>{tr(Msg::OcspUrl)}</dt><dd class="mono">{ocsp.url}</dd>
                <dt>{tr(Msg::OcspTtl)}</dt><dd>{move || format!("{} {}", ocsp.response_ttl_secs / 60, t(lang.get(), Msg::Minutes))}</dd>
                <dt>{tr(Msg::OcspCounts)}</dt><dd data-testid="ocsp-counts">{counts}</dd>
                <dt>{tr(Msg::OcspLast)}</dt>
                <dd>{move || last.map(|x| zone.time(x)).unwrap_or_else(|| t(lang.get(), Msg::OcspNever).to_string())}</dd>
            </dl>
        </section>
    }
}

#[component]
fn CaCard(ca: CaRevocation, now: i64, lang: RwSignal<Lang>) -> impl IntoView {
    let zone = super::use_zone();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let title_id = format!("ca-{}", ca.id);
    let labelled_by = title_id.clone();
    let badge = if ca.current {
        view! { <span class="badge ok">{tr(Msg::CaCurrent)}</span> }.into_any()
    } else {
        view! { <span class="badge muted">{tr(Msg::CaRetired)}</span> }.into_any()
    };
    let overdue = ca.crl_next_update.is_some_and(|n| n <= now);
    let crl_signed = ca.crl_this_update;
    let crl_next = ca.crl_next_update;
    let ocsp_ready = ca.ocsp_ready;
    view! {
        <section class="card" aria-labelledby=labelled_by data-testid="ca-card">
            <div class="cert-head">
                <h2 id=title_id>{ca.subject.clone()}</h2>
                {badge}
            </div>
            <dl class="facts">
                <dt>{"ID"}</dt><dd class="mono">{ca.id.clone()}</dd>
                <dt>{tr(Msg::CaFingerprint)}</dt><dd class="mono">{ca.fingerprint.clone()}</dd>
                <dt>{tr(Msg::CaValidity)}</dt><dd>{format!("{} – {}", zone.date(ca.not_before), zone.date(ca.not_after))}</dd>
                <dt>{tr(Msg::CaIssuedCount)}</dt><dd data-testid="ca-issued">{ca.issued}</dd>
            </dl>
            <h3>{tr(Msg::CrlTitle)}</h3>
            <dl class="facts">
                <dt>{tr(Msg::CrlLastUpdate)}</dt>
                <dd data-testid="crl-signed">{move || crl_signed.map(|x| zone.time(x)).unwrap_or_else(|| t(lang.get(), Msg::CrlMissing).to_string())}</dd>
                <dt>{tr(Msg::CrlNextUpdate)}</dt>
                <dd>
                    {move || crl_next.map(|x| zone.time(x)).unwrap_or_default()}
                    {overdue.then(|| view! { " " <span class="badge off">{tr(Msg::CrlOverdue)}</span> })}
                </dd>
                <dt>{tr(Msg::CrlEntries)}</dt><dd data-testid="crl-entries">{ca.crl_entries.unwrap_or(0)}</dd>
                <dt>{tr(Msg::CrlNumber)}</dt><dd data-testid="crl-number">{ca.crl_number}</dd>
                <dt>{tr(Msg::OcspForCa)}</dt>
                <dd data-testid="ocsp-ready">{move || t(lang.get(), if ocsp_ready { Msg::OcspReady } else { Msg::OcspNotReady })}</dd>
            </dl>
            <ul class="links">
                <li><a href=ca.crl_url rel="external" download>{tr(Msg::CrlDer)}</a></li>
                <li><a href=ca.crl_pem_url rel="external" download>{tr(Msg::CrlPem)}</a></li>
                <li><a href=format!("/ca/{}.pem", ca.id) rel="external" download>{tr(Msg::CaDownload)}</a></li>
            </ul>
        </section>
    }
}
