//! The admin console's user directory (seed 004's table, seed 000's bulk create): search,
//! department and status filters, paging, a checkbox per user and the bulk actions. Every
//! control is a plain HTML form (no WebAssembly here): a bulk run posts once and the page shows
//! a result per user after the redirect; a refused run comes back with the same users ticked.

use super::admin_nav::{status_label, AdminNav};
use super::errors::{denied, query_error, ErrorNote, ErrorText};
use super::use_lang;
use crate::api::admin::{
    admin_directory, admin_users_by_id, AdminBulkRevoke, DirectoryPage, DirectoryUser,
};
use crate::api::admin::{admin_summary, AdminSetDigest};
use crate::api::auth::AdminCreateUser;
use crate::domain::directory::UserCertStatus;
use crate::domain::error_code::ErrorCode;
use crate::i18n::{admin_reason_label, t, Lang, Msg};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

fn status_class(s: UserCertStatus) -> &'static str {
    match s {
        UserCertStatus::Issued => "badge ok",
        UserCertStatus::Ready | UserCertStatus::AwaitingApproval => "badge wait",
        UserCertStatus::Revoked | UserCertStatus::Expired => "badge off",
        UserCertStatus::NotIssued | UserCertStatus::Renewed => "badge muted",
    }
}

/// Results of a bulk run, from the `result=` query of the redirect.
#[component]
fn Results(
    rows: Vec<(String, Option<ErrorCode>, Option<usize>)>,
    lang: RwSignal<Lang>,
) -> impl IntoView {
    let tr = move |m: Msg| move || t(lang.get(), m);
    view! {
        <section class="card" aria-labelledby="results-title" data-testid="bulk-results" role="status">
            <h2 id="results-title">{tr(Msg::ResultsTitle)}</h2>
            <ul class="items">
                {rows.into_iter().map(|(login, err, count)| {
                    let ok = err.is_none();
                    let text = move || match (err, count) {
                        (None, None) => t(lang.get(), Msg::ResultOk).to_string(),
                        (None, Some(n)) => format!("{} ({})", t(lang.get(), Msg::ResultOk), t(lang.get(), Msg::RevokedCount).replace("{n}", &n.to_string())),
                        (Some(code), _) => crate::i18n::error_text(lang.get(), code).to_string(),
                    };
                    view! {
                        <li data-testid="bulk-result" data-ok=ok.to_string() data-code=err.map(ErrorCode::as_str)>
                            <strong>{login}</strong>
                            <span class=if ok { "success" } else { "error" }>{text}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

fn results_from_query(text: &str) -> Vec<(String, Option<ErrorCode>, Option<usize>)> {
    text.split(',')
        .filter_map(|pair| {
            let (login, code) = pair.rsplit_once(':')?;
            let (code, count) = match code.split_once('.') {
                Some((c, n)) => (c, n.parse().ok()),
                None => (code, None),
            };
            Some((
                login.to_string(),
                (code != "ok").then(|| ErrorCode::parse(code).unwrap_or(ErrorCode::Internal)),
                count,
            ))
        })
        .collect()
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let lang = use_lang();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let query = use_query_map();
    let get = move |k: &str| query.with(|q| q.get(k).unwrap_or_default());
    let create_user = ServerAction::<AdminCreateUser>::new();
    let dir = Resource::new(
        move || {
            (
                get("q"),
                get("department"),
                get("status"),
                get("page").parse::<i64>().unwrap_or(0),
            )
        },
        |(q, d, s, p)| admin_directory(Some(q), Some(d), Some(s), Some(p)),
    );
    // Bundles a "Create & Download" just delivered: `public/passkey.js` sees the cookie the
    // download sets and loads the page again with `downloaded=<n>`.
    let downloaded = move || get("downloaded").parse::<usize>().ok();
    let no_js_results = move || {
        let done = get("done");
        let result = get("result");
        (!done.is_empty() && !result.is_empty()).then(|| results_from_query(&result))
    };
    let no_js_error = query_error();
    // A user created without JavaScript: the link comes back once from a cookie.
    let created = Resource::new(
        move || get("created"),
        |c| async move {
            if c.is_empty() {
                Ok(None)
            } else {
                crate::api::auth::admin_created_link().await
            }
        },
    );
    view! {
        <AdminNav/>
        <div class="title-row">
            <h1>{tr(Msg::UsersTitle)}</h1>
        </div>
        <SummaryCard/>
        <details class="card" id="create-user" open=move || !get("created").is_empty() || create_user.value().get().is_some() || no_js_error().is_some()>
            <summary><strong>{tr(Msg::CreateUserTitle)}</strong></summary>
            <ErrorNote error=Signal::derive(move || no_js_error().filter(|_| get("form") == "create")) testid="create-user-error"/>
            {move || match create_user.value().get() {
                Some(Ok(link)) => Some(view! { <ActivationLink link=link/> }.into_any()),
                Some(Err(e)) => Some(view! { <ErrorText error=e testid="create-user-error"/> }.into_any()),
                None => None,
            }}
            <Suspense>
                {move || Suspend::new(async move {
                    created.await.ok().flatten().map(|link| view! { <ActivationLink link=link/> })
                })}
            </Suspense>
            <ActionForm action=create_user attr:class="form">
                <label for="u-login">{tr(Msg::FieldLogin)}</label>
                <input id="u-login" name="login" required autocapitalize="none" spellcheck="false" maxlength="64"/>
                <label for="u-name">{tr(Msg::FieldDisplayName)}</label>
                <input id="u-name" name="display_name" required maxlength="128"/>
                <label for="u-email">{tr(Msg::FieldEmail)}</label>
                <input id="u-email" name="email" type="email" required/>
                <label for="u-upn">{tr(Msg::FieldUpn)}</label>
                <input id="u-upn" name="upn"/>
                <label for="u-dept">{tr(Msg::FieldDepartment)}</label>
                <input id="u-dept" name="department"/>
                <label class="check"><input type="checkbox" name="is_admin" value="on"/>{tr(Msg::FieldIsAdmin)}</label>
                <button type="submit" class="primary">{tr(Msg::CreateUserButton)}</button>
            </ActionForm>
        </details>
        // A no-JavaScript error is shown beside the form it came from.
        <ErrorNote error=Signal::derive(move || no_js_error().filter(|_| get("form") != "create")) testid="bulk-error"/>
        {move || no_js_results().map(|rows| view! { <Results rows=rows lang=lang/> })}
        {move || downloaded().map(|n| view! {
            <p class="success" role="status" data-testid="bulk-downloaded">{n}" "{tr(Msg::BulkDownloaded)}</p>
        })}
        <Suspense fallback=move || view! { <p>{tr(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match dir.await {
                    Err(e) => denied(lang, &e, "/admin/users"),
                    Ok(page) => view! { <Directory page=page lang=lang/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A new user's one-time activation link, to hand over.
#[component]
fn ActivationLink(link: String) -> impl IntoView {
    let lang = use_lang();
    view! {
        <div class="success" role="status">
            <p>{move || t(lang.get(), Msg::ActivationLinkIntro)}</p>
            <div class="copy-row">
                <input id="activation-url" class="mono" readonly value=link data-testid="activation-link"/>
                <button type="button" class="secondary" data-copy="activation-url" data-done=move || t(lang.get(), Msg::Copied)>{move || t(lang.get(), Msg::CopyLink)}</button>
                <span class="copy-status" role="status" aria-live="polite"></span>
            </div>
        </div>
    }
}

/// The URL of this directory view with another page number.
fn page_href(q: &str, dept: &str, status: &str, page: i64) -> String {
    use crate::web::percent_encode as enc;
    format!(
        "/admin/users?q={}&department={}&status={}&page={page}",
        enc(q),
        enc(dept),
        enc(status)
    )
}

#[component]
fn Directory(page: DirectoryPage, lang: RwSignal<Lang>) -> impl IntoView {
    let tr = move |m: Msg| move || t(lang.get(), m);
    let query = use_query_map();
    let get = move |k: &str| query.with_untracked(|q| q.get(k).unwrap_or_default());
    let (q, dept, status) = (get("q"), get("department"), get("status"));
    let back = page_href(&q, &dept, &status, page.page);
    // A refused bulk run comes back with what was on the form (never the password): the same
    // users ticked, the same date and "remove existing".
    let kept: Vec<String> = get("keep")
        .split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect();
    let kept_remove = get("remove") == "1";
    let end = Some(get("end"))
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| page.default_not_after.clone());
    let from = page.page * page.page_size + 1;
    let to = (page.page * page.page_size + page.users.len() as i64).max(0);
    let (total, more) = (page.total, page.more);
    let has_prev = page.page > 0;
    let has_next = to < total;
    let (prev_href, next_href) = (
        page_href(&q, &dept, &status, page.page - 1),
        page_href(&q, &dept, &status, page.page + 1),
    );
    let departments = page.departments.clone();
    let users = page.users.clone();
    let empty = users.is_empty();
    view! {
        <section class="card" aria-labelledby="filter-title">
            <h2 id="filter-title" class="sr-only">{tr(Msg::DirSearchButton)}</h2>
            <form method="get" action="/admin/users" class="filters" data-testid="directory-filter">
                <div class="field"><label for="f-q">{tr(Msg::DirSearch)}</label>
                <input id="f-q" name="q" type="search" value=q.clone() maxlength="128"/></div>
                <div class="field"><label for="f-dept">{tr(Msg::DirDepartment)}</label>
                <select id="f-dept" name="department">
                    <option value="" selected=dept.is_empty()>{tr(Msg::DirAllDepartments)}</option>
                    {departments.into_iter().map(|d| {
                        let depth = d.matches('/').count();
                        let leaf = d.rsplit('/').next().unwrap_or_default().to_string();
                        let label = format!("{}{}", "\u{2003}".repeat(depth), leaf);
                        let sel = d == dept;
                        view! { <option value=d selected=sel>{label}</option> }
                    }).collect_view()}
                </select>
                </div>
                <div class="field"><label for="f-status">{tr(Msg::DirStatus)}</label>
                <select id="f-status" name="status">
                    <option value="" selected=status.is_empty()>{tr(Msg::DirAll)}</option>
                    {UserCertStatus::ALL.into_iter().map(|s| {
                        let sel = s.code() == status;
                        view! { <option value=s.code() selected=sel>{move || status_label(lang.get(), s)}</option> }
                    }).collect_view()}
                </select>
                </div>
                <button type="submit" class="secondary">{tr(Msg::DirSearchButton)}</button>
            </form>
        </section>
        <form method="post" action="/api/admin_bulk_create" class="card" data-testid="bulk-form">
            <input type="hidden" name="back" value=back/>
            <p class="hint" data-testid="directory-count">{format!("{}–{} / {}{}", if empty { 0 } else { from }, to, total, if more { "+" } else { "" })}</p>
            {empty.then(|| view! { <p>{tr(Msg::NoUsersFound)}</p> })}
            <div class="table-wrap">
                <table data-testid="user-table">
                    <thead><tr>
                        <th scope="col">{tr(Msg::ColSelect)}</th>
                        <th scope="col">{tr(Msg::ColLogin)}</th>
                        <th scope="col">{tr(Msg::ColName)}</th>
                        <th scope="col" class="wide">{tr(Msg::ColDepartment)}</th>
                        <th scope="col" class="wide">{tr(Msg::ColRole)}</th>
                        <th scope="col">{tr(Msg::ColCertStatus)}</th>
                        <th scope="col" class="wide">{tr(Msg::ColExpiry)}</th>
                    </tr></thead>
                    <tbody>
                        {
                            let (l, zone) = (lang.get_untracked(), super::use_zone());
                            users.into_iter().map(|u| {
                                let ticked = kept.contains(&u.id);
                                user_row(u, l, &zone, ticked)
                            }).collect_view()
                        }
                    </tbody>
                </table>
            </div>
            <nav class="row pager" aria-label="pages">
                {has_prev.then(|| view! { <a href=prev_href rel="prev">{tr(Msg::DirPrev)}</a> })}
                {has_next.then(|| view! { <a href=next_href rel="next" data-testid="next-page">{tr(Msg::DirNext)}</a> })}
            </nav>
            <fieldset class="bulk">
                <legend>{tr(Msg::BulkTitle)}</legend>
                <p class="hint">{tr(Msg::BulkHint)}</p>
                <label for="b-not-after">{tr(Msg::BulkNotAfter)}</label>
                <input id="b-not-after" name="not_after" type="date" value=end/>
                <label class="check">
                    <input type="checkbox" name="remove_existing" value="on" checked=kept_remove data-testid="remove-existing"/>
                    {tr(Msg::BulkRemoveExisting)}
                </label>
                <label for="b-password">{tr(Msg::ConfirmPasswordField)}</label>
                <input id="b-password" name="password" type="password" autocomplete="current-password" data-testid="bulk-password"/>
                <p class="hint">{tr(Msg::BulkConfirmHint)}</p>
                <super::PasskeyConfirm/>
                <div class="row">
                    <button type="submit" class="primary" data-testid="bulk-create">{tr(Msg::BulkCreate)}</button>
                    <button type="submit" class="secondary" formaction="/admin/create-download" data-download-watch="bulk_downloaded" data-testid="bulk-download">{tr(Msg::BulkCreateDownload)}</button>
                    <button type="submit" class="danger" formaction="/admin/revoke" data-testid="bulk-revoke">{tr(Msg::BulkRevoke)}</button>
                </div>
            </fieldset>
        </form>
        <form method="post" action="/admin/handover-pins.csv" class="card form" data-testid="pins-form">
            <h2>{tr(Msg::PinsTitle)}</h2>
            <p class="hint">{tr(Msg::PinsHint)}</p>
            <label for="pins-password">{tr(Msg::ConfirmPasswordField)}</label>
            <input id="pins-password" name="password" type="password" autocomplete="current-password"/>
            <p class="hint">{tr(Msg::ConfirmPasswordHint)}</p>
            <div class="row">
                <button type="submit" class="secondary" data-testid="pins-download">{tr(Msg::PinsDownload)}</button>
            </div>
        </form>
    }
}

/// One user's row. The directory is rendered on the server only (no island in it), so its
/// labels are plain text in the page's language, not reactive closures: fifty rows a page.
fn user_row(u: DirectoryUser, lang: Lang, zone: &super::Times, ticked: bool) -> impl IntoView {
    let check_id = format!("sel-{}", u.id);
    let href = format!("/admin/users/{}", u.id);
    let role = t(
        lang,
        if u.is_admin {
            Msg::RoleAdmin
        } else {
            Msg::RoleUser
        },
    );
    let status = u.status;
    let expiry = u
        .not_after
        .map(|x| zone.time(x))
        .unwrap_or_else(|| "-".into());
    let inactive = (!u.active).then(|| t(lang, Msg::StatusDeactivated));
    // Who has not used their activation link yet, with the way to a new one.
    let not_activated = (u.active && !u.activated).then(|| format!("{href}#activation"));
    let DirectoryUser {
        id,
        login,
        display_name,
        department,
        ..
    } = u;
    let (label_for, row_login, hidden_login) = (check_id.clone(), login.clone(), login.clone());
    view! {
        <tr data-testid="user-row" data-login=row_login>
            <td class="pick">
                // The whole 44 px cell area ticks the box (touch targets of at least 44 px).
                <label class="hit" for=label_for>
                    <input type="checkbox" id=check_id name="users[]" value=id checked=ticked/>
                    <span class="sr-only">{hidden_login}</span>
                </label>
            </td>
            <td class="mono"><a href=href>{login}</a></td>
            <td>
                {display_name}
                {inactive.map(|label| view! { " " <span class="badge off">{label}</span> })}
                {not_activated.map(|href| view! {
                    " " <a class="badge warn" href=href data-testid="not-activated">{t(lang, Msg::NotActivatedYet)}</a>
                })}
            </td>
            <td class="wide">{department.unwrap_or_default()}</td>
            <td class="wide">{role}</td>
            <td><span class=status_class(status) data-testid="user-status">{status_label(lang, status)}</span></td>
            <td class="wide">{expiry}</td>
        </tr>
    }
}

/// Seed 004's confirmation step: the selected users, a reason and the confirmation password.
#[component]
pub fn RevokeUsersPage() -> impl IntoView {
    let lang = use_lang();
    let zone = super::use_zone();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let query = use_query_map();
    let ids = move || query.with(|q| q.get_all("users[]").unwrap_or_default());
    // Done, the form posts and the directory shows a result per user; refused, it comes
    // back here with `error=`.
    let revoke = ServerAction::<AdminBulkRevoke>::new();
    let users = Resource::new(ids, |ids| admin_users_by_id(Some(ids)));
    let error = query_error();
    view! {
        <AdminNav/>
        <h1>{tr(Msg::RevokeUsersTitle)}</h1>
        <Suspense fallback=move || view! { <p>{tr(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Err(e) => view! {
                        {denied(lang, &e, "/admin/users")}
                        <p><a href="/admin/users">{tr(Msg::BackToUsers)}</a></p>
                    }.into_any(),
                    Ok(list) => {
                        let hidden: Vec<String> = list.iter().map(|u| u.id.clone()).collect();
                        view! {
                            <ErrorNote error=Signal::derive(error) testid="revoke-error"/>
                            <section class="card">
                                <p>{tr(Msg::RevokeUsersIntro)}</p>
                                <div class="table-wrap">
                                    <table data-testid="revoke-table">
                                        <thead><tr>
                                            <th scope="col">{tr(Msg::ColLogin)}</th>
                                            <th scope="col">{tr(Msg::ColName)}</th>
                                            <th scope="col">{tr(Msg::ColCertStatus)}</th>
                                            <th scope="col">{tr(Msg::ColExpiry)}</th>
                                        </tr></thead>
                                        <tbody>
                                            {list.into_iter().map(|u| {
                                                let s = u.status;
                                                view! {
                                                    <tr>
                                                        <td class="mono">{u.login}</td>
                                                        <td>{u.display_name}</td>
                                                        <td><span class=status_class(s)>{move || status_label(lang.get(), s)}</span></td>
                                                        <td>{u.not_after.map(|x| zone.time(x)).unwrap_or_else(|| "-".into())}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                {move || { let hidden = hidden.clone(); view! {
                                <ActionForm action=revoke attr:class="form" attr:data-testid="revoke-form">
                                    {hidden.into_iter().map(|id| view! { <input type="hidden" name="users[]" value=id/> }).collect_view()}
                                    <input type="hidden" name="back" value="/admin/users"/>
                                    <label for="r-reason">{tr(Msg::RevokeReasonLabel)}</label>
                                    <select id="r-reason" name="reason">
                                        {["keyCompromise", "affiliationChanged", "cessationOfOperation", "privilegeWithdrawn", "unspecified"].into_iter().map(|code| view! {
                                            <option value=code>{move || admin_reason_label(lang.get(), code)}</option>
                                        }).collect_view()}
                                    </select>
                                    <label for="r-password">{tr(Msg::ConfirmPasswordField)}</label>
                                    <input id="r-password" name="password" type="password" autocomplete="current-password"/>
                                    <p class="hint">{tr(Msg::ConfirmPasswordHint)}</p>
                                    <super::PasskeyConfirm/>
                                    <div class="row">
                                        <button type="submit" class="danger" data-testid="revoke-execute">{tr(Msg::RevokeExecute)}</button>
                                        <a href="/admin/users">{tr(Msg::BackToUsers)}</a>
                                    </div>
                                </ActionForm>
                                }}}
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// What the weekly digest says, on the admin start page, and the digest opt-in.
#[component]
fn SummaryCard() -> impl IntoView {
    let lang = use_lang();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let query = use_query_map();
    let save = ServerAction::<AdminSetDigest>::new();
    let summary = Resource::new(move || save.version().get(), |_| admin_summary());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let s = summary.await.ok()?;
                let total: i64 = s.expiring_by_department.iter().map(|(_, n)| n).sum();
                let saved = move || save.value().get().is_some_and(|r| r.is_ok()) || query.read().get("digest").is_some();
                Some(view! {
                    <section class="card summary" aria-labelledby="summary-title" data-testid="admin-summary">
                        <h2 id="summary-title">{tr(Msg::SummaryTitle)}</h2>
                        <dl class="facts summary-facts">
                            <dt>{tr(Msg::SummaryExpiring)}</dt>
                            <dd>
                                <span data-testid="summary-expiring">{total}</span>
                                <ul class="hint dept-counts">
                                    {s.expiring_by_department.into_iter().map(|(d, n)| {
                                        let empty = d.is_empty();
                                        view! {
                                            <li>
                                                {move || if empty { t(lang.get(), Msg::NoDepartment).to_string() } else { d.clone() }}
                                                {format!(": {n}")}
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            </dd>
                            <dt>{tr(Msg::SummaryApprovals)}</dt>
                            <dd data-testid="summary-approvals"><a href="/admin/approvals">{s.open_approvals}</a></dd>
                            <dt>{tr(Msg::SummaryWaiting)}</dt>
                            <dd data-testid="summary-waiting">{s.waiting_for_pickup}</dd>
                            <dt>{tr(Msg::SummaryLapsed)}</dt>
                            <dd data-testid="summary-lapsed">{s.lapsed_last_week}</dd>
                        </dl>
                        <ActionForm action=save attr:class="inline-form" attr:data-testid="digest-form">
                            <label class="check">
                                <input type="checkbox" name="digest" value="on" checked=s.digest_opt_in data-testid="digest-opt-in"/>
                                {tr(Msg::DigestOptIn)}
                            </label>
                            <button type="submit" class="secondary">{tr(Msg::Save)}</button>
                            {move || saved().then(|| view! { <span class="success" role="status">{tr(Msg::DigestSaved)}</span> })}
                        </ActionForm>
                        {(!s.mail_configured).then(|| view! { <p class="hint">{tr(Msg::DigestNoMail)}</p> })}
                    </section>
                })
            })}
        </Suspense>
    }
}
