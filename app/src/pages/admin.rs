//! Administrators' user directory (first part of the admin console): create users, who get a
//! one-time activation link, and see every account's role and state.

use super::auth::app_error_text;
use super::use_lang;
use crate::api::auth::{admin_list_users, AdminCreateUser};
use crate::api::AppError;
use crate::i18n::{t, Msg};
use leptos::prelude::*;

#[component]
pub fn UsersPage() -> impl IntoView {
    let lang = use_lang();
    let tr = move |m: Msg| move || t(lang.get(), m);
    let create = ServerAction::<AdminCreateUser>::new();
    let users = Resource::new(move || create.version().get(), |_| admin_list_users());
    view! {
        <Suspense fallback=move || view! { <p>{tr(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Err(AppError::NotSignedIn) => view! {
                        <section class="card narrow"><p>{tr(Msg::PleaseSignIn)}</p><p><a href="/login?next=/admin/users">{tr(Msg::NavSignIn)}</a></p></section>
                    }.into_any(),
                    Err(AppError::Forbidden) => view! { <section class="card narrow"><p class="error" role="alert">{tr(Msg::AdminOnly)}</p></section> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    Ok(list) => view! {
                        <section class="card" aria-labelledby="new-user-title">
                            <h1 id="new-user-title">{tr(Msg::CreateUserTitle)}</h1>
                            {move || match create.value().get() {
                                Some(Ok(link)) => Some(view! {
                                    <div class="success" role="status">
                                        <p>{tr(Msg::ActivationLinkIntro)}</p>
                                        <p class="mono" data-testid="activation-link">{link}</p>
                                    </div>
                                }.into_any()),
                                Some(Err(e)) => Some(view! { <p class="error" role="alert">{app_error_text(lang.get(), &e)}</p> }.into_any()),
                                None => None,
                            }}
                            <ActionForm action=create attr:class="form">
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
                        </section>
                        <section class="card" aria-labelledby="users-title">
                            <h2 id="users-title">{tr(Msg::UsersTitle)}</h2>
                            <div class="table-wrap">
                                <table data-testid="user-table">
                                    <thead><tr>
                                        <th scope="col">{tr(Msg::ColLogin)}</th>
                                        <th scope="col">{tr(Msg::ColName)}</th>
                                        <th scope="col">{tr(Msg::ColEmail)}</th>
                                        <th scope="col">{tr(Msg::ColRole)}</th>
                                        <th scope="col">{tr(Msg::ColStatus)}</th>
                                    </tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|u| {
                                            let role = if u.is_admin { Msg::RoleAdmin } else { Msg::RoleUser };
                                            let status = if !u.active { Msg::StatusDeactivated } else if u.activated { Msg::StatusActive } else { Msg::StatusNotActivated };
                                            view! {
                                                <tr>
                                                    <td>{u.login}</td>
                                                    <td>{u.display_name}</td>
                                                    <td>{u.email}</td>
                                                    <td>{tr(role)}</td>
                                                    <td>{tr(status)}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
