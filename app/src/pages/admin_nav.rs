//! What every admin page shares: the section navigation and the directory status labels.

use super::use_lang;
use crate::domain::directory::UserCertStatus;
use crate::i18n::{t, Lang, Msg};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The admin sections, shown at the top of every admin page.
#[component]
pub fn AdminNav() -> impl IntoView {
    let lang = use_lang();
    let path = use_location().pathname;
    let items = [
        ("/admin/users", Msg::NavUsers),
        ("/admin/approvals", Msg::NavApprovals),
        ("/admin/history", Msg::NavHistory),
        ("/admin/settings", Msg::NavSettings),
        ("/admin/ca", Msg::NavCa),
    ];
    view! {
        <nav class="admin-nav" aria-label=move || t(lang.get(), Msg::NavAdmin)>
            {items.into_iter().map(|(href, m)| {
                let current = move || path.get().starts_with(href).then_some("page");
                view! { <a href=href aria-current=current>{move || t(lang.get(), m)}</a> }
            }).collect_view()}
        </nav>
    }
}

/// The label of a directory status (SPEC.md's labels).
pub fn status_label(lang: Lang, s: UserCertStatus) -> &'static str {
    t(
        lang,
        match s {
            UserCertStatus::NotIssued => Msg::StateNotIssued,
            UserCertStatus::AwaitingApproval => Msg::StatePending,
            UserCertStatus::Ready => Msg::StateReady,
            UserCertStatus::Issued => Msg::StateIssued,
            UserCertStatus::Renewed => Msg::StateSuperseded,
            UserCertStatus::Expired => Msg::StateExpired,
            UserCertStatus::Revoked => Msg::StateRevoked,
        },
    )
}
