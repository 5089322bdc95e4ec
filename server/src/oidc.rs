//! `/auth/oidc/*`: the browser's side of signing in through the company's OpenID provider.
//! `start` and `confirm` send the browser to the provider with a flow cookie; `callback`
//! finishes the flow and sends the browser on (signed in, or confirmed for rule 8), or back to
//! the sign-in page with the error's code. The rules live in `app::ssr::oidc`.

use crate::routes::ClientIp;
use crate::AppState;
use app::ssr::oidc::{self, Callback, Purpose};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The cookie naming the flow (only its hash is stored). `SameSite=Lax`: the provider's
/// redirect back is a cross-site top-level GET that must carry it.
const FLOW_COOKIE: &str = "certportal-oidc";

#[derive(serde::Deserialize, Default)]
pub struct Next {
    next: Option<String>,
}

fn see_other(to: &str, cookies: &[HeaderValue]) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&app::web::header_safe(to)) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for c in cookies {
        r.headers_mut().append(header::SET_COOKIE, c.clone());
    }
    r
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| app::web::cookie_value(h, name).map(str::to_string))
}

fn client_of(headers: &HeaderMap, ip: Option<String>) -> app::ssr::auth::Client {
    let text = |h: header::HeaderName| headers.get(h).and_then(|v| v.to_str().ok());
    app::ssr::auth::Client {
        ip,
        user_agent: text(header::USER_AGENT).map(str::to_string),
        lang: Some(app::i18n::Lang::for_request(
            text(header::COOKIE),
            text(header::ACCEPT_LANGUAGE),
        )),
    }
}

async fn begin(
    st: &AppState,
    headers: &HeaderMap,
    ip: ClientIp,
    purpose: Purpose,
    next: &str,
) -> Response {
    let s = st.services.clone().at_now();
    let session = cookie(headers, app::api::auth::session::cookie_name(&s));
    let failed = match purpose {
        Purpose::Login => "/login",
        Purpose::Confirm => next,
    };
    match oidc::begin(&s, purpose, next, session.as_deref(), ip.0.as_deref()).await {
        Ok((url, token)) => {
            let flow =
                app::web::cookie_header(s.is_https(), FLOW_COOKIE, &token, "Lax", oidc::FLOW_SECS);
            see_other(&url, &flow.into_iter().collect::<Vec<_>>())
        }
        Err(e) => {
            tracing::warn!(error = %e, "OpenID sign-in could not begin");
            see_other(&app::web::with_error_code(failed, e.code()), &[])
        }
    }
}

/// `GET /auth/oidc/start?next=/path`: "Sign in with <provider>".
pub async fn start(
    State(st): State<AppState>,
    headers: HeaderMap,
    ip: ClientIp,
    Query(q): Query<Next>,
) -> Response {
    let next = app::web::safe_next(q.next.as_deref());
    begin(&st, &headers, ip, Purpose::Login, &next).await
}

/// `GET /auth/oidc/confirm?next=/path`: rule 8's confirmation by a fresh sign-in at the
/// provider (`prompt=login`, `max_age=0`), for the signed-in administrator.
pub async fn confirm(
    State(st): State<AppState>,
    headers: HeaderMap,
    ip: ClientIp,
    Query(q): Query<Next>,
) -> Response {
    let next = app::web::safe_next(q.next.as_deref());
    begin(&st, &headers, ip, Purpose::Confirm, &next).await
}

#[derive(serde::Deserialize, Default)]
pub struct Back {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
}

/// `GET /auth/oidc/callback?code=…&state=…` (or `?error=…&state=…`).
pub async fn callback(
    State(st): State<AppState>,
    headers: HeaderMap,
    ip: ClientIp,
    Query(q): Query<Back>,
) -> Response {
    let s = st.services.clone().at_now();
    let flow = cookie(&headers, FLOW_COOKIE);
    let session = cookie(&headers, app::api::auth::session::cookie_name(&s));
    let back = Callback {
        state: q.state,
        code: q.code,
        error: q.error,
    };
    let client = client_of(&headers, ip.0);
    // The flow cookie is spent whatever happens.
    let mut cookies: Vec<HeaderValue> =
        app::web::cookie_header(s.is_https(), FLOW_COOKIE, "", "Lax", 0)
            .into_iter()
            .collect();
    match oidc::finish(&s, flow.as_deref(), &back, &client, session.as_deref()).await {
        Ok(done) => {
            if let Some(n) = &done.session {
                cookies.extend(app::web::cookie_header(
                    s.is_https(),
                    app::api::auth::session::cookie_name(&s),
                    &n.token,
                    "Lax",
                    app::ssr::auth::SESSION_ABSOLUTE_SECS,
                ));
                app::ssr::auth::count_sign_in(&s, "oidc", &Ok::<(), app::ssr::auth::AuthError>(()));
            }
            see_other(&done.next, &cookies)
        }
        Err(e) => {
            tracing::warn!(error = %e, "OpenID sign-in refused");
            see_other(&app::web::with_error_code("/login", e.code()), &cookies)
        }
    }
}
