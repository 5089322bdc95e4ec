//! How pages show errors: one component, [`ErrorNote`], renders every error through the
//! catalogue in the page's language, whether it came back from a server function (with
//! JavaScript) or as `?error=<code>` after a no-JavaScript form post.

use super::use_lang;
use crate::api::AppError;
use crate::domain::error_code::ErrorCode;
use crate::i18n::error_text;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The error a no-JavaScript form post came back with (`?error=<code>`). An unknown code
/// (an old bookmark, a typo) shows the generic message rather than nothing.
pub fn query_error() -> impl Fn() -> Option<AppError> + Copy + Send + Sync + 'static {
    let query = use_query_map();
    move || {
        query
            .read()
            .get("error")
            .filter(|c| !c.is_empty())
            .map(|c| AppError::new(ErrorCode::parse(&c).unwrap_or(ErrorCode::Internal)))
    }
}

/// The error of an action's last call, else the one in the query.
pub fn action_error<I, O>(
    action: ServerAction<I>,
) -> impl Fn() -> Option<AppError> + Copy + Send + Sync + 'static
where
    I: leptos::server_fn::ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    value_error(action.value())
}

/// The error of a result signal (an action's value), else the one in the query.
pub fn value_error<T: Clone + Send + Sync + 'static>(
    value: impl Get<Value = Option<Result<T, AppError>>> + Copy + Send + Sync + 'static,
) -> impl Fn() -> Option<AppError> + Copy + Send + Sync + 'static {
    let from_query = query_error();
    move || match value.get() {
        Some(Err(e)) => Some(e),
        Some(Ok(_)) => None,
        None => from_query(),
    }
}

/// Shows an error (or nothing): the catalogue text for its code, as an alert. `data-code`
/// carries the stable code for tests and support.
#[component]
pub fn ErrorNote(
    #[prop(into)] error: Signal<Option<AppError>>,
    #[prop(optional)] testid: Option<&'static str>,
) -> impl IntoView {
    move || error.get().map(|e| note(e.code, testid))
}

/// [`ErrorNote`] for an error known when the view is built.
#[component]
pub fn ErrorText(error: AppError, #[prop(optional)] testid: Option<&'static str>) -> impl IntoView {
    note(error.code, testid)
}

fn note(code: ErrorCode, testid: Option<&'static str>) -> impl IntoView {
    let lang = use_lang();
    view! {
        <p class="error" role="alert" data-testid=testid data-code=code.as_str()>
            {move || error_text(lang.get(), code)}
        </p>
    }
}

/// What an admin page shows instead of its content: sign in, admins only, or the error.
pub fn denied(lang: RwSignal<crate::i18n::Lang>, e: &AppError, next: &str) -> AnyView {
    use crate::i18n::{t, Msg};
    let tr = move |m: Msg| move || t(lang.get(), m);
    match e.code {
        ErrorCode::NotSignedIn => view! {
            <section class="card narrow"><p>{tr(Msg::PleaseSignIn)}</p><p><a href=format!("/login?next={next}")>{tr(Msg::NavSignIn)}</a></p></section>
        }
        .into_any(),
        ErrorCode::Forbidden => view! { <section class="card narrow"><p class="error" role="alert" data-code="forbidden">{tr(Msg::AdminOnly)}</p></section> }.into_any(),
        _ => view! { <ErrorText error=e.clone()/> }.into_any(),
    }
}
