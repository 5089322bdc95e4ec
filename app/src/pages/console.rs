//! The rest of the admin console: the section navigation, the approvals queue (rule 7), the
//! per-user page (rules 3, 8, 9: renewal flag, role, deactivation, lost device, revoking one
//! certificate), the operation history with CSV (rule 10) and the settings. Every form works
//! without JavaScript.

use super::admin_nav::{status_label, AdminNav};
use super::errors::{denied, value_error, ErrorNote, ErrorText};
use super::use_lang;
use crate::api::admin::{
    admin_history, admin_pending, admin_scim, admin_settings, admin_user, my_history,
    AdminCreateScimToken, AdminDecide, AdminLostDevice, AdminRevokeCertificate,
    AdminRevokeScimToken, AdminUpdateSettings, AdminUpdateUser, HistoryFilter, HistoryItem,
};
use crate::api::auth::AdminActivationLink;
use crate::i18n::{admin_reason_label, state_label, t, Lang, Msg};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let lang = use_lang();
    let zone = super::use_zone();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let decide = ServerAction::<AdminDecide>::new();
    let pending = Resource::new(move || decide.version().get(), |_| admin_pending());
    let settings = Resource::new(|| (), |_| admin_settings());
    let query = use_query_map();
    let done = move || {
        let from_query = query.with(|q| q.get("done").unwrap_or_default());
        let state = match decide.value().get() {
            Some(Ok(s)) => s,
            _ => from_query,
        };
        match state.as_str() {
            "ready" => Some(t(lang.get(), Msg::Approved)),
            "rejected" => Some(t(lang.get(), Msg::RejectedDone)),
            _ => None,
        }
    };
    let error = value_error(decide.value());
    view! {
        <AdminNav/>
        <h1>{tr(Msg::ApprovalsTitle)}</h1>
        {move || done().map(|m| view! { <p class="success" role="status" data-testid="decided">{m}</p> })}
        <ErrorNote error=Signal::derive(error) testid="decide-error"/>
        <Suspense fallback=move || view! { <p>{tr(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                let auto = matches!(settings.await, Ok(s) if s.policy.distribution_mode == crate::domain::policy::DistributionMode::Auto);
                match pending.await {
                    Err(e) => denied(lang, &e, "/admin/approvals"),
                    Ok(list) => view! {
                        {auto.then(|| view! { <p class="notice">{tr(Msg::ApprovalsModeOff)}</p> })}
                        {list.is_empty().then(|| view! { <p data-testid="no-pending">{tr(Msg::ApprovalsEmpty)}</p> })}
                        <ul class="certs">
                            {list.into_iter().map(|p| {
                                let kind = if p.renewal { Msg::KindRenewal } else { Msg::KindNew };
                                let note_id = format!("note-{}", p.enrollment_id);
                                view! {
                                    <li class="cert" data-testid="pending" data-login=p.login.clone()>
                                        <div class="cert-head">
                                            <h3><a href=format!("/admin/users/{}", p.user_id)>{p.display_name.clone()}</a>" "<span class="mono">{p.login.clone()}</span></h3>
                                            <span class="badge wait">{tr(kind)}</span>
                                        </div>
                                        <dl class="facts">
                                            <dt>{tr(Msg::ColDevice)}</dt><dd>{p.device_label.clone()}</dd>
                                            <dt>{tr(Msg::ColDepartment)}</dt><dd>{p.department.clone().unwrap_or_else(|| "-".into())}</dd>
                                            <dt>{tr(Msg::ColRequested)}</dt><dd>{zone.time(p.created_at)}</dd>
                                        </dl>
                                        <ActionForm action=decide attr:class="form">
                                            <input type="hidden" name="enrollment" value=p.enrollment_id.clone()/>
                                            <label for=note_id.clone()>{tr(Msg::DecisionNote)}</label>
                                            <input id=note_id name="note" maxlength="500"/>
                                            <div class="row">
                                                <button type="submit" name="decision" value="approve" class="primary" data-testid="approve">{tr(Msg::Approve)}</button>
                                                <button type="submit" name="decision" value="reject" class="danger" data-testid="reject">{tr(Msg::Reject)}</button>
                                            </div>
                                        </ActionForm>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn AdminUserPage() -> impl IntoView {
    let lang = use_lang();
    let zone = super::use_zone();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let update = ServerAction::<AdminUpdateUser>::new();
    let lost = ServerAction::<AdminLostDevice>::new();
    let revoke = ServerAction::<AdminRevokeCertificate>::new();
    let activation = ServerAction::<AdminActivationLink>::new();
    let user = Resource::new(
        move || {
            (
                id(),
                update.version().get(),
                lost.version().get(),
                revoke.version().get(),
            )
        },
        |(id, _, _, _)| admin_user(id),
    );
    let query = use_query_map();
    let flag = move |k: &str| query.with(|q| q.get(k).is_some());
    let saved = move || flag("saved") || matches!(update.value().get(), Some(Ok(_)));
    let lost_done = move || flag("lost") || matches!(lost.value().get(), Some(Ok(_)));
    let revoked = move || flag("revoked") || matches!(revoke.value().get(), Some(Ok(_)));
    let err_update = value_error(update.value());
    let err_lost = move || match lost.value().get() {
        Some(Err(e)) => Some(e),
        _ => None,
    };
    let err_revoke = move || match revoke.value().get() {
        Some(Err(e)) => Some(e),
        _ => None,
    };
    let err_activation = move || match activation.value().get() {
        Some(Err(e)) => Some(e),
        _ => None,
    };
    // Without JavaScript the new link comes back in a short-lived cookie (never a URL).
    let carried = Resource::new(
        move || flag("link"),
        |shown| async move {
            if shown {
                crate::api::auth::admin_created_link().await.ok().flatten()
            } else {
                None
            }
        },
    );
    view! {
        <AdminNav/>
        <Suspense fallback=move || view! { <p>{tr(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Err(e) => denied(lang, &e, "/admin/users"),
                    Ok(v) => {
                        let u = v.user.clone();
                        let uid = u.id.clone();
                        let back = format!("/admin/users/{uid}");
                        let (uid_flags, uid_lost, uid_act) = (uid.clone(), uid.clone(), uid.clone());
                        let status = u.status;
                        let reissue = match u.reissue_allowed { None => "default", Some(true) => "on", Some(false) => "off" };
                        view! {
                            <div class="title-row">
                                <h1 data-testid="user-name">{u.display_name.clone()}" "<span class="mono">{u.login.clone()}</span></h1>
                                <span class="badge muted" data-testid="user-status">{move || status_label(lang.get(), status)}</span>
                            </div>
                            {move || saved().then(|| view! { <p class="success" role="status" data-testid="saved">{tr(Msg::Saved)}</p> })}
                            {move || revoked().then(|| view! { <p class="success" role="status" data-testid="revoked">{tr(Msg::StateRevoked)}</p> })}
                            <ErrorNote error=Signal::derive(err_update) testid="user-error"/>
                            <section class="card" aria-labelledby="flags-title">
                                <h2 id="flags-title">{tr(Msg::UserTitle)}</h2>
                                <dl class="facts">
                                    <dt>{tr(Msg::FieldEmail)}</dt><dd>{u.email.clone()}</dd>
                                    <dt>{tr(Msg::ColDepartment)}</dt><dd>{u.department.clone().unwrap_or_else(|| "-".into())}</dd>
                                    {v.upn.clone().map(|upn| view! { <dt>"UPN"</dt><dd>{upn}</dd> })}
                                </dl>
                                {v.must_change_password.then(|| view! { <p class="notice">{tr(Msg::UserMustChangePassword)}</p> })}
                                <ActionForm action=update attr:class="form" attr:data-testid="flags-form">
                                    <input type="hidden" name="id" value=uid_flags/>
                                    <label for="f-reissue">{tr(Msg::FieldReissue)}</label>
                                    <select id="f-reissue" name="reissue">
                                        <option value="default" selected=reissue == "default">{move || format!("{} ({})", t(lang.get(), Msg::ReissueDefault), t(lang.get(), if v.reissue_default { Msg::ReissueOn } else { Msg::ReissueOff }))}</option>
                                        <option value="on" selected=reissue == "on">{tr(Msg::ReissueOn)}</option>
                                        <option value="off" selected=reissue == "off">{tr(Msg::ReissueOff)}</option>
                                    </select>
                                    <label for="f-role">{tr(Msg::FieldRole)}</label>
                                    <select id="f-role" name="role">
                                        <option value="user" selected=!u.is_admin>{tr(Msg::RoleUser)}</option>
                                        <option value="admin" selected=u.is_admin>{tr(Msg::RoleAdmin)}</option>
                                    </select>
                                    <label class="check"><input type="checkbox" name="active" value="on" checked=u.active data-testid="active"/>{tr(Msg::FieldActive)}</label>
                                    <label class="check"><input type="checkbox" name="keep_certificates" value="on" data-testid="keep-certificates"/>{tr(Msg::FieldKeepCertificates)}</label>
                                    <label for="flags-pw">{tr(Msg::ConfirmPasswordField)}</label>
                                    <input id="flags-pw" name="password" type="password" autocomplete="current-password"/>
                                    <p class="hint">{tr(Msg::FlagsConfirmHint)}</p>
                                    <button type="submit" class="primary" data-testid="save-user">{tr(Msg::Save)}</button>
                                </ActionForm>
                            </section>
                            <section class="card" aria-labelledby="certs-title">
                                <h2 id="certs-title">{tr(Msg::UserCerts)}</h2>
                                <ErrorNote error=Signal::derive(err_revoke) testid="revoke-error"/>
                                <ul class="certs">
                                    {v.entries.clone().into_iter().map(|e| {
                                        let st = e.state;
                                        let can_revoke = matches!(st, crate::domain::lifecycle::State::Issued | crate::domain::lifecycle::State::Ready | crate::domain::lifecycle::State::Pending);
                                        let pw_id = format!("pw-{}", e.id);
                                        let reason_id = format!("reason-{}", e.id);
                                        view! {
                                            <li class="cert" data-testid="admin-cert" data-state=st.code()>
                                                <div class="cert-head">
                                                    <h3>{if e.device_label.is_empty() { "-".to_string() } else { e.device_label.clone() }}</h3>
                                                    <span class="badge muted">{move || state_label(lang.get(), st)}</span>
                                                </div>
                                                <dl class="facts">
                                                    {e.serial.clone().map(|sn| view! { <dt>"Serial"</dt><dd class="mono">{sn}</dd> })}
                                                    {e.not_after.map(|na| view! { <dt>{tr(Msg::ColExpiry)}</dt><dd>{zone.time(na)}</dd> })}
                                                    {e.ca_name.clone().map(|ca| view! { <dt>"CA"</dt><dd>{ca}</dd> })}
                                                </dl>
                                                {can_revoke.then({ let back = back.clone(); move || view! {
                                                    <details>
                                                        <summary>{tr(Msg::RevokeOne)}</summary>
                                                        <ActionForm action=revoke attr:class="form">
                                                            <input type="hidden" name="entry" value=e.id.clone()/>
                                                            <input type="hidden" name="back" value=back.clone()/>
                                                            <label for=reason_id.clone()>{tr(Msg::RevokeReasonLabel)}</label>
                                                            <select id=reason_id name="reason">
                                                                {["keyCompromise", "affiliationChanged", "cessationOfOperation", "privilegeWithdrawn", "unspecified"].into_iter().map(|code| view! {
                                                                    <option value=code>{move || admin_reason_label(lang.get(), code)}</option>
                                                                }).collect_view()}
                                                            </select>
                                                            <label for=pw_id.clone()>{tr(Msg::ConfirmPasswordField)}</label>
                                                            <input id=pw_id name="password" type="password" autocomplete="current-password"/>
                                                            <super::PasskeyConfirm/>
                                                            <button type="submit" class="danger" data-testid="revoke-one">{tr(Msg::RevokeExecute)}</button>
                                                        </ActionForm>
                                                    </details>
                                                }})}
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            </section>
                            <section class="card" aria-labelledby="lost-title">
                                <h2 id="lost-title">{tr(Msg::LostDeviceAdminTitle)}</h2>
                                <p class="hint">{tr(Msg::LostDeviceAdminIntro)}</p>
                                {move || lost_done().then(|| view! { <p class="success" role="status" data-testid="lost-done">{tr(Msg::LostDeviceDone)}</p> })}
                                <ErrorNote error=Signal::derive(err_lost) testid="lost-error"/>
                                <ActionForm action=lost attr:class="form" attr:data-testid="lost-form">
                                    <input type="hidden" name="id" value=uid_lost/>
                                    <label for="lost-pw">{tr(Msg::ConfirmPasswordField)}</label>
                                    <input id="lost-pw" name="password" type="password" autocomplete="current-password"/>
                                    <p class="hint">{tr(Msg::ConfirmPasswordHint)}</p>
                                    <super::PasskeyConfirm/>
                                    <label class="check"><input type="checkbox" name="confirm" value="yes"/>{tr(Msg::LostDeviceConfirmBox)}</label>
                                    <button type="submit" class="danger" data-testid="lost-device">{tr(Msg::LostDeviceButton)}</button>
                                </ActionForm>
                            </section>
                            <section class="card" id="activation" aria-labelledby="act-title">
                                <h2 id="act-title">{tr(Msg::ActivationAgainTitle)}</h2>
                                <p class="hint">{tr(Msg::ActivationAgainIntro)}</p>
                                <ErrorNote error=Signal::derive(err_activation) testid="activation-error"/>
                                {move || match activation.value().get() {
                                    Some(Ok(link)) => Some(view! { <p class="mono success" data-testid="new-activation-link">{link}</p> }.into_any()),
                                    _ => None,
                                }}
                                <Suspense fallback=|| ()>
                                    {move || Suspend::new(async move {
                                        carried.await.map(|link| view! { <p class="mono success" data-testid="new-activation-link">{link}</p> })
                                    })}
                                </Suspense>
                                <ActionForm action=activation attr:class="form">
                                    <input type="hidden" name="id" value=uid_act.clone()/>
                                    <label for="act-pw">{tr(Msg::ConfirmPasswordField)}</label>
                                    <input id="act-pw" name="password" type="password" autocomplete="current-password"/>
                                    <p class="hint">{tr(Msg::ConfirmPasswordHint)}</p>
                                    <button type="submit" class="secondary" data-testid="new-activation">{tr(Msg::ActivationAgainButton)}</button>
                                </ActionForm>
                            </section>
                            <section class="card" aria-labelledby="uh-title">
                                <h2 id="uh-title">{tr(Msg::RecentHistory)}</h2>
                                <HistoryTable items=v.history.clone() lang=lang/>
                                <p><a href=format!("/admin/history?user={}", u.login)>{tr(Msg::NavHistory)}</a></p>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn HistoryTable(items: Vec<HistoryItem>, lang: RwSignal<Lang>) -> impl IntoView {
    let zone = super::use_zone();
    let tr = move |m: Msg| move || t(lang.get(), m);
    if items.is_empty() {
        return view! { <p data-testid="history-empty">{tr(Msg::HistoryEmpty)}</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table data-testid="history-table">
                <thead><tr>
                    <th scope="col">{tr(Msg::ColTime)}</th>
                    <th scope="col">{tr(Msg::ColActor)}</th>
                    <th scope="col">{tr(Msg::ColLogin)}</th>
                    <th scope="col">{tr(Msg::ColAction)}</th>
                    <th scope="col" class="wide">{tr(Msg::ColResult)}</th>
                    <th scope="col" class="wide">{tr(Msg::ColDetail)}</th>
                    <th scope="col" class="wide">{tr(Msg::ColAddress)}</th>
                </tr></thead>
                <tbody>
                    {items.into_iter().map(|h| view! {
                        <tr data-testid="history-row" data-action=h.action.clone()>
                            <td>{zone.time(h.at)}</td>
                            <td class="mono">{h.actor}</td>
                            <td class="mono">{h.subject.unwrap_or_default()}</td>
                            <td title=h.action.clone() data-testid="history-action">{
                                let a = h.action.clone();
                                move || crate::i18n::action_label(lang.get(), &a).map(str::to_string).unwrap_or_else(|| a.clone())
                            }</td>
                            <td class="wide">{
                                let r = h.result.clone();
                                move || crate::i18n::result_label(lang.get(), &r).map(str::to_string).unwrap_or_else(|| r.clone())
                            }</td>
                            <td class="wide detail" data-testid="history-detail">{crate::i18n::readable_detail(&h.detail, &zone.zone())}</td>
                            <td class="wide mono">{h.ip.unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

use crate::web::percent_encode as enc;

#[component]
pub fn HistoryPage() -> impl IntoView {
    let lang = use_lang();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let query = use_query_map();
    let get = move |k: &str| query.with(|q| q.get(k).unwrap_or_default());
    let filter = move || HistoryFilter {
        user: Some(get("user")),
        actor: Some(get("actor")),
        action: Some(get("action")),
        from: Some(get("from")),
        to: Some(get("to")),
    };
    let page = move || get("page").parse::<i64>().unwrap_or(0);
    let data = Resource::new(
        move || (filter(), page()),
        |(f, p)| admin_history(f, Some(p)),
    );
    let qs = move |p: Option<i64>| {
        let f = filter();
        let mut s = format!(
            "user={}&actor={}&action={}&from={}&to={}",
            enc(&f.user.unwrap_or_default()),
            enc(&f.actor.unwrap_or_default()),
            enc(&f.action.unwrap_or_default()),
            enc(&f.from.unwrap_or_default()),
            enc(&f.to.unwrap_or_default())
        );
        if let Some(p) = p {
            s.push_str(&format!("&page={p}"));
        }
        s
    };
    let actions = crate::domain::actions::HISTORY_FILTER.iter().copied();
    view! {
        <AdminNav/>
        <h1>{tr(Msg::HistoryTitle)}</h1>
        <section class="card">
            <form method="get" action="/admin/history" class="filters history-filters" data-testid="history-filter">
                <div class="field"><label for="h-user">{tr(Msg::HistoryUser)}</label>
                    <input id="h-user" name="user" value=get("user") autocapitalize="none"/></div>
                <div class="field"><label for="h-actor">{tr(Msg::HistoryActor)}</label>
                    <input id="h-actor" name="actor" value=get("actor") autocapitalize="none"/></div>
                <div class="field"><label for="h-action">{tr(Msg::HistoryAction)}</label>
                    <select id="h-action" name="action">
                        {actions.into_iter().map(|a| {
                            let sel = a == get("action");
                            let label = if a.is_empty() { t(lang.get_untracked(), Msg::DirAll).to_string() } else if a.ends_with('.') { format!("{a}*") } else { a.to_string() };
                            view! { <option value=a selected=sel>{label}</option> }
                        }).collect_view()}
                    </select></div>
                <div class="field"><label for="h-from">{tr(Msg::HistoryFrom)}</label>
                    <input id="h-from" name="from" type="date" value=get("from")/></div>
                <div class="field"><label for="h-to">{tr(Msg::HistoryTo)}</label>
                    <input id="h-to" name="to" type="date" value=get("to")/></div>
                <button type="submit" class="secondary">{tr(Msg::DirSearchButton)}</button>
            </form>
            <p><a href=move || format!("/admin/history.csv?{}", qs(None)) rel="external" download data-testid="history-csv">{tr(Msg::HistoryCsv)}</a></p>
        </section>
        <Suspense fallback=move || view! { <p>{tr(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => denied(lang, &e, "/admin/history"),
                    Ok(h) => {
                        let from = h.page * h.page_size;
                        let to = from + h.items.len() as i64;
                        let has_prev = h.page > 0;
                        let has_next = to < h.total;
                        let p = h.page;
                        view! {
                            <section class="card">
                                <p class="hint" data-testid="history-count">{format!("{}–{} / {}", if h.items.is_empty() { 0 } else { from + 1 }, to, h.total)}</p>
                                <HistoryTable items=h.items lang=lang/>
                                <nav class="row pager" aria-label="pages">
                                    {has_prev.then(|| view! { <a href=format!("/admin/history?{}", qs(Some(p - 1))) rel="prev">{tr(Msg::DirPrev)}</a> })}
                                    {has_next.then(|| view! { <a href=format!("/admin/history?{}", qs(Some(p + 1))) rel="next">{tr(Msg::DirNext)}</a> })}
                                </nav>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The user's own history on the account page (rule 10).
#[component]
pub fn MyHistoryCard() -> impl IntoView {
    let lang = use_lang();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let items = Resource::new(|| (), |_| my_history());
    view! {
        <section class="card" aria-labelledby="mh-title" data-testid="my-history">
            <h2 id="mh-title">{tr(Msg::MyHistory)}</h2>
            <Suspense fallback=move || view! { <p>{tr(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match items.await {
                        Ok(list) => view! { <HistoryTable items=list lang=lang/> }.into_any(),
                        Err(e) => view! { <ErrorText error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let lang = use_lang();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let save = ServerAction::<AdminUpdateSettings>::new();
    let data = Resource::new(move || save.version().get(), |_| admin_settings());
    let query = use_query_map();
    let saved = move || {
        query.with(|q| q.get("saved").is_some()) || matches!(save.value().get(), Some(Ok(_)))
    };
    let error = value_error(save.value());
    view! {
        <AdminNav/>
        <h1>{tr(Msg::SettingsTitle)}</h1>
        <p class="hint">{tr(Msg::SettingsIntro)}</p>
        {move || saved().then(|| view! { <p class="success" role="status" data-testid="settings-saved">{tr(Msg::Saved)}</p> })}
        <ErrorNote error=Signal::derive(error) testid="settings-error"/>
        <Suspense fallback=move || view! { <p>{tr(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => denied(lang, &e, "/admin/settings"),
                    Ok(v) => {
                        use crate::domain::policy::{AppleProfile, DistributionMode, KeyAlgorithm, P12Form};
                        let p = v.policy.clone();
                        let num = move |id: &'static str, label: Msg, value: i64, min: i64, max: i64| view! {
                            <label for=id>{tr(label)}</label>
                            <input id=id name=id type="number" inputmode="numeric" min=min.to_string() max=max.to_string() value=value.to_string() required/>
                        };
                        view! {
                            <section class="card">
                                <ActionForm action=save attr:class="form" attr:data-testid="settings-form">
                                    <fieldset class="bulk">
                                        <legend>{tr(Msg::SetDistribution)}</legend>
                                        <label class="check"><input type="radio" name="distribution_mode" value="auto" checked=p.distribution_mode == DistributionMode::Auto/>{tr(Msg::SetAuto)}</label>
                                        <label class="check"><input type="radio" name="distribution_mode" value="approval" checked=p.distribution_mode == DistributionMode::Approval data-testid="mode-approval"/>{tr(Msg::SetApproval)}</label>
                                    </fieldset>
                                    {num("default_validity_days", Msg::SetDefaultValidity, p.default_validity_days, 1, 3650)}
                                    {num("max_validity_days", Msg::SetMaxValidity, p.max_validity_days, 1, 3650)}
                                    {num("link_lifetime_minutes", Msg::SetLinkLifetime, p.link_lifetime_minutes, 1, 1440)}
                                    {num("pickup_deadline_days", Msg::SetPickupDeadline, p.pickup_deadline_days, 1, 90)}
                                    {num("max_active_per_user", Msg::SetMaxActive, p.max_active_per_user, 1, 100)}
                                    {num("crl_next_update_days", Msg::SetCrlNext, p.crl_next_update_days, 1, 365)}
                                    <label for="p12_form">{tr(Msg::SetP12Form)}</label>
                                    <select id="p12_form" name="p12_form">
                                        <option value="legacy" selected=p.p12_form == P12Form::Legacy>{tr(Msg::SetLegacy)}</option>
                                        <option value="modern" selected=p.p12_form == P12Form::Modern>{tr(Msg::SetModern)}</option>
                                    </select>
                                    <label for="key_algorithm">{tr(Msg::SetKeyAlgorithm)}</label>
                                    <select id="key_algorithm" name="key_algorithm">
                                        <option value="ecdsa_p256" selected=p.key_algorithm == KeyAlgorithm::EcdsaP256>"ECDSA P-256"</option>
                                        <option value="rsa2048" selected=p.key_algorithm == KeyAlgorithm::Rsa2048 disabled=!v.rsa_available>"RSA-2048"</option>
                                    </select>
                                    <label for="apple_profile">{tr(Msg::SetAppleProfile)}</label>
                                    <select id="apple_profile" name="apple_profile">
                                        <option value="scep" selected=p.apple_profile == AppleProfile::Scep>{tr(Msg::SetAppleScep)}</option>
                                        <option value="pkcs12" selected=p.apple_profile == AppleProfile::Pkcs12>{tr(Msg::SetApplePkcs12)}</option>
                                    </select>
                                    <label class="check"><input type="checkbox" name="reissue_allowed_default" value="on" checked=p.reissue_allowed_default/>{tr(Msg::SetReissueDefault)}</label>
                                    <label class="check"><input type="checkbox" name="revoke_on_deactivate" value="on" checked=p.revoke_on_deactivate data-testid="revoke-on-deactivate"/>{tr(Msg::SetRevokeOnDeactivate)}</label>
                                    <label for="installer_link">{tr(Msg::SetInstaller)}</label>
                                    <input id="installer_link" name="installer_link" value=p.installer_link.clone().unwrap_or_default() autocapitalize="none" spellcheck="false"/>
                                    <label for="public_url">{tr(Msg::SetPublicUrl)}</label>
                                    <input id="public_url" value=v.public_url.clone() readonly/>
                                    <p class="hint">{tr(Msg::SetPublicUrlHint)}</p>
                                    <label for="settings-pw">{tr(Msg::ConfirmPasswordField)}</label>
                                    <input id="settings-pw" name="password" type="password" autocomplete="current-password"/>
                                    <p class="hint">{tr(Msg::ConfirmPasswordHint)}</p>
                                    <super::PasskeyConfirm/>
                                    <button type="submit" class="primary" data-testid="save-settings">{tr(Msg::Save)}</button>
                                </ActionForm>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
        <ScimSection/>
    }
}

/// The directory's SCIM access on the settings page: the endpoint, the tokens (made once,
/// listed with their last use, revocable).
#[component]
fn ScimSection() -> impl IntoView {
    let lang = use_lang();
    let zone = super::use_zone();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let make = ServerAction::<AdminCreateScimToken>::new();
    let revoke = ServerAction::<AdminRevokeScimToken>::new();
    let data = Resource::new(
        move || (make.version().get(), revoke.version().get()),
        |_| admin_scim(),
    );
    let error = value_error(make.value());
    let made = move || match make.value().get() {
        Some(Ok(token)) => Some(token),
        _ => None,
    };
    view! {
        <section class="card" id="scim" aria-labelledby="scim-title">
            <h2 id="scim-title">{tr(Msg::ScimTitle)}</h2>
            <p class="hint">{tr(Msg::ScimIntro)}</p>
            <Suspense fallback=move || view! { <p>{tr(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <ErrorText error=e/> }.into_any(),
                        Ok(v) => {
                            let shown = made().or(v.just_made.clone());
                            view! {
                                <div class="form">
                                    <label for="scim-endpoint">{tr(Msg::ScimEndpoint)}</label>
                                    <input id="scim-endpoint" class="mono" value=v.endpoint.clone() readonly data-testid="scim-endpoint"/>
                                </div>
                                {shown.map(|token| view! {
                                    <div class="notice ok form" role="status">
                                        <p>{tr(Msg::ScimShownOnce)}</p>
                                        <input class="mono" value=token readonly aria-label=tr(Msg::ScimShownOnce) data-testid="scim-token"/>
                                    </div>
                                })}
                                {if v.tokens.is_empty() {
                                    view! { <p data-testid="scim-no-tokens">{tr(Msg::ScimNoTokens)}</p> }.into_any()
                                } else {
                                    view! {
                                        <div class="table-wrap">
                                            <table data-testid="scim-tokens">
                                                <thead><tr>
                                                    <th scope="col">{tr(Msg::ScimColName)}</th>
                                                    <th scope="col">{tr(Msg::ScimColMade)}</th>
                                                    <th scope="col" class="wide">{tr(Msg::ScimColMadeBy)}</th>
                                                    <th scope="col">{tr(Msg::ScimColLastUsed)}</th>
                                                    <th scope="col">{tr(Msg::ColStatus)}</th>
                                                </tr></thead>
                                                <tbody>
                                                    {v.tokens.into_iter().map(|tk| {
                                                        let live = tk.revoked_at.is_none();
                                                        view! {
                                                            <tr data-testid="scim-token-row">
                                                                <td>{tk.name.clone()}</td>
                                                                <td>{zone.time(tk.created_at)}</td>
                                                                <td class="wide mono">{tk.created_by.clone()}</td>
                                                                <td>{match tk.last_used_at {
                                                                    Some(at) => zone.time(at).into_any(),
                                                                    None => view! { <span>{tr(Msg::ScimNever)}</span> }.into_any(),
                                                                }}</td>
                                                                <td>{if live {
                                                                    view! {
                                                                        <ActionForm action=revoke attr:class="inline" attr:data-testid="scim-revoke-form">
                                                                            <input type="hidden" name="id" value=tk.id.clone()/>
                                                                            <span>{tr(Msg::ScimInUse)}" "</span>
                                                                            <button type="submit" class="danger" data-testid="scim-revoke" title=tr(Msg::ScimRevokeHint)>{tr(Msg::ScimRevoke)}</button>
                                                                        </ActionForm>
                                                                    }.into_any()
                                                                } else {
                                                                    view! { <span data-testid="scim-token-revoked">{tr(Msg::ScimRevoked)}</span> }.into_any()
                                                                }}</td>
                                                            </tr>
                                                        }
                                                    }).collect_view()}
                                                </tbody>
                                            </table>
                                        </div>
                                    }.into_any()
                                }}
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
            <ErrorNote error=Signal::derive(error) testid="scim-error"/>
            <ActionForm action=make attr:class="form" attr:id="scim-form" attr:data-testid="scim-form">
                <label for="scim-name">{tr(Msg::ScimTokenName)}</label>
                <input id="scim-name" name="name" required maxlength="64" placeholder="Entra ID"/>
                <label for="scim-pw">{tr(Msg::ConfirmPasswordField)}</label>
                <input id="scim-pw" name="password" type="password" autocomplete="current-password"/>
                <p class="hint">{tr(Msg::ConfirmPasswordHint)}</p>
                <super::PasskeyConfirm/>
                <button type="submit" class="primary" data-testid="scim-make">{tr(Msg::ScimMake)}</button>
            </ActionForm>
        </section>
    }
}
