//! Plain HTTP routes outside the Leptos app: health, the CA certificates and the CRLs.
//! Handlers only extract, call and map errors; failures are logged and answered generically.

use crate::AppState;
use app::ssr::{ca, db};
use axum::extract::{ConnectInfo, Form, FromRequestParts, Path, Query, State};
use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

fn internal(e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "request failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

fn body(content_type: &'static str, bytes: Vec<u8>) -> Response {
    let mut r = (StatusCode::OK, bytes).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    r
}

/// `GET /healthz`: 200 when the database answers.
pub async fn healthz(State(st): State<AppState>) -> Response {
    match st.services.db.ping().await {
        Ok(()) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            "{\"status\":\"ok\"}\n",
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "application/json")],
                "{\"status\":\"unavailable\"}\n",
            )
                .into_response()
        }
    }
}

/// Resolves `current` to the current CA's id.
async fn resolve_ca(st: &AppState, id: &str) -> Result<Option<db::CaRow>, Response> {
    let mut c = st.services.conn().await.map_err(|e| internal(&e))?;
    let id = if id == "current" {
        match db::current_ca_id(&mut c).await.map_err(|e| internal(&e))? {
            Some(id) => id,
            None => return Ok(None),
        }
    } else {
        id.to_string()
    };
    db::ca_by_id(&mut c, &id).await.map_err(|e| internal(&e))
}

/// `GET /ca.pem`: the current CA certificate.
pub async fn ca_pem(State(st): State<AppState>) -> Response {
    ca_file(State(st), Path("current.pem".to_string())).await
}

/// `GET /ca/{id}.pem` (or `.crt`, DER): one CA certificate, `current` for the current one.
pub async fn ca_file(State(st): State<AppState>, Path(file): Path<String>) -> Response {
    let (id, pem) = match (file.strip_suffix(".pem"), file.strip_suffix(".crt")) {
        (Some(id), _) => (id, true),
        (None, Some(id)) => (id, false),
        _ => return not_found(),
    };
    match resolve_ca(&st, id).await {
        Err(r) => r,
        Ok(None) => not_found(),
        Ok(Some(row)) if pem => body("application/x-pem-file", row.cert_pem.into_bytes()),
        Ok(Some(row)) => match ca::der_of_pem(&row.cert_pem) {
            Ok(der) => body("application/pkix-cert", der),
            Err(e) => internal(&e),
        },
    }
}

/// `GET /crl/{id}.crl` (DER) and `/crl/{id}.pem`: the CA's latest signed CRL.
pub async fn crl(State(st): State<AppState>, Path(file): Path<String>) -> Response {
    let (id, pem) = match (file.strip_suffix(".crl"), file.strip_suffix(".pem")) {
        (Some(id), _) => (id, false),
        (None, Some(id)) => (id, true),
        _ => return not_found(),
    };
    match resolve_ca(&st, id).await {
        Err(r) => r,
        Ok(None) => not_found(),
        Ok(Some(row)) => match row.crl_der {
            None => not_found(),
            Some(der) if pem => body(
                "application/x-pem-file",
                ca::pem("X509 CRL", &der).into_bytes(),
            ),
            Some(der) => body("application/pkix-crl", der),
        },
    }
}

/// 405 for methods a route deliberately does not serve.
pub async fn method_not_allowed() -> Response {
    (StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n").into_response()
}

/// `GET /pickup/{token}/download/{format}`: redeems a one-time link (rule 5) and sends the
/// bundle: a `.mobileconfig` for Apple devices, a `.p12`/`.pfx` otherwise. A plain link, so
/// it works without JavaScript. A used, expired, voided or unknown link changes nothing and
/// sends the browser back to the landing page, which says why.
pub async fn pickup_download(
    Request(s): Request,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((token, format)): Path<(String, String)>,
) -> Response {
    use app::domain::platform::Format;
    use app::ssr::links::{self, RedeemError};
    let Some(format) = Format::from_code(&format) else {
        return not_found();
    };
    // Tokens are 64 hex digits; anything else is refused before touching the database.
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return back_to_landing(&token, "link_unknown");
    }
    match links::redeem(&s, &token, format, Some(peer.ip().to_string())).await {
        Ok(d) => {
            tracing::info!(serial = %d.serial_hex, format = format.code(), "link redeemed");
            let mut r = (StatusCode::OK, d.bytes).into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            );
            if let Ok(v) =
                HeaderValue::from_str(&format!("attachment; filename=\"{}\"", d.file_name))
            {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(RedeemError::Link(p)) => back_to_landing(&token, p.code().as_str()),
        Err(RedeemError::Cert(e)) => {
            tracing::error!(error = %e, "pickup failed");
            back_to_landing(&token, "internal")
        }
    }
}

fn back_to_landing(token: &str, code: &str) -> Response {
    let safe: String = token
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(64)
        .collect();
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/pickup/{safe}?error={code}")) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn ocsp_body(der: Vec<u8>) -> Response {
    let mut r = (StatusCode::OK, der).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/ocsp-response"),
    );
    // Answers are made per request from the live database; a cache would hide a revocation.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// `POST /ocsp` (`application/ocsp-request`): RFC 6960 responder.
pub async fn ocsp_post(Request(s): Request, body: axum::body::Bytes) -> Response {
    ocsp_body(app::ssr::ocsp::respond(&s.authority, &s.ocsp_stats, &body, s.now()).await)
}

/// `GET /ocsp/{base64 DER}` (RFC 6960 appendix A.1). The path may hold `/` from the base64
/// alphabet, percent-encoded or not.
pub async fn ocsp_get(Request(s): Request, Path(encoded): Path<String>) -> Response {
    ocsp_body(app::ssr::ocsp::respond_get(&s.authority, &s.ocsp_stats, &encoded, s.now()).await)
}

/// The services of one request, with the clock read once (every step sees one instant).
pub struct Request(pub app::ssr::Services);

impl FromRequestParts<AppState> for Request {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(_: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Request(st.services.clone().at_now()))
    }
}

/// The signed-in administrator of a plain route (rule 11: checked before anything else),
/// with the request's services. Refused with the error of [`Refusal`].
pub struct AdminSession {
    pub services: app::ssr::Services,
    pub admin: app::ssr::auth::Authenticated,
}

/// Why a plain route refused a request: an `AppError`, answered with its status.
pub struct Refusal(pub app::api::AppError);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, format!("{}: {}\n", self.0.code, self.0)).into_response()
    }
}

impl FromRequestParts<AppState> for AdminSession {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Refusal> {
        let services = st.services.clone().at_now();
        let admin = app::api::auth::session::admin_from_headers(&services, &parts.headers)
            .await
            .map_err(Refusal)?;
        Ok(AdminSession { services, admin })
    }
}

/// A redirect back to the directory with the error's code (no-JavaScript forms).
fn back_to_directory(e: &app::api::AppError) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&app::web::with_error("/admin/users", e)) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// `POST /admin/create-download` (form: `users[]`, `not_after`, `remove_existing`): "Create
/// & Download" — a ZIP with a PKCS#12 per user, `PINS.csv` and `RESULTS.csv`. Admins only;
/// errors go back to the directory with `?error=<code>`.
pub async fn create_download(
    session: Result<AdminSession, Refusal>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let AdminSession { services: s, admin } = match session {
        Ok(a) => a,
        Err(Refusal(e)) => return back_to_directory(&e),
    };
    let form = app::api::admin::CreateDownloadForm::from_pairs(pairs);
    match app::api::admin::create_and_download(&s, &admin, form).await {
        Ok(files) => {
            let zip = crate::zip::build(&files);
            let name = format!("certportal-bundles-{}.zip", app::i18n::fmt_date(s.now()));
            let mut r = (StatusCode::OK, zip).into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/zip"),
            );
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => back_to_directory(&e),
    }
}

/// `GET /admin/history.csv?user=&actor=&action=&from=&to=`: the operation history as CSV
/// (admins only; the same filter as the page).
pub async fn history_csv(
    session: AdminSession,
    Query(filter): Query<app::api::admin::HistoryFilter>,
) -> Result<Response, Refusal> {
    let mut c = session
        .services
        .conn()
        .await
        .map_err(|e| Refusal(e.into()))?;
    let csv = app::ssr::read::history_csv(&mut c, &filter)
        .await
        .map_err(Refusal)?;
    let mut r = (StatusCode::OK, csv).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"certportal-history.csv\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}
