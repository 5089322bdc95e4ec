//! Plain HTTP routes outside the Leptos app: health, the CA certificates and the CRLs.
//! Handlers only extract, call and map errors; failures are logged and answered generically.

use crate::AppState;
use app::ssr::{ca, db};
use axum::extract::{Form, FromRequestParts, Path, Query, State};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

fn internal(e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "request failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

/// A 200 with a content type and a caching rule.
fn body_with(content_type: &'static str, cache: &'static str, bytes: Vec<u8>) -> Response {
    let mut r = (StatusCode::OK, bytes).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}

/// A file to save: `no-store`, with `Content-Disposition: attachment; filename="<name>"`.
fn attachment(content_type: &'static str, name: &str, bytes: Vec<u8>) -> Response {
    let mut r = body_with(content_type, "no-store", bytes);
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

fn body(content_type: &'static str, bytes: Vec<u8>) -> Response {
    body_with(content_type, "public, max-age=60", bytes)
}

/// `GET /metrics`: the Prometheus text format; with `metrics_token_file` set, only for
/// `Authorization: Bearer <token>` (compared in constant time).
pub async fn metrics(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let s = &st.services;
    if let Some(token) = &s.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !app::ssr::metrics::token_matches(token, given) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "a bearer token is required\n",
            )
                .into_response();
        }
    }
    match s.metrics.render(s).await {
        Ok(text) => (
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    "text/plain; version=0.0.4; charset=utf-8",
                ),
                (header::CACHE_CONTROL, "no-store"),
            ],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "metrics failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
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

/// Tokens are 64 hex digits; anything else is refused before touching the database.
fn plausible_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The form of the landing page's PIN step.
#[derive(serde::Deserialize)]
pub struct PinForm {
    #[serde(default)]
    pin: String,
    #[serde(default)]
    platform: Option<String>,
}

/// `POST /pickup/{token}/unlock` (form: `pin`): the phone proves the PIN (SPEC rule 5). A
/// correct PIN sets the grant cookie and goes back to the landing page, which then offers the
/// installer; a wrong one says how many attempts are left; the fifth locks the link. Works
/// without JavaScript (a plain form).
pub async fn pickup_unlock(
    Request(s): Request,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    Form(form): Form<PinForm>,
) -> Response {
    use app::ssr::links::{self, UnlockError};
    let platform = form
        .platform
        .filter(|p| p.len() <= 16 && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
    let back = |query: String| {
        let mut q = query;
        if let Some(p) = &platform {
            q.push_str(&format!("&platform={p}"));
        }
        back_to_landing(&token, &q)
    };
    if !plausible_token(&token) {
        return back("error=link_unknown".into());
    }
    if form.pin.len() > 64 {
        return back("error=pin_wrong".into());
    }
    let outcome = links::unlock(&s, &token, &form.pin, ip).await;
    s.metrics.pickup(match &outcome {
        Ok(_) => "unlocked",
        Err(UnlockError::WrongPin { .. }) => "wrong_pin",
        Err(UnlockError::Throttled(_)) => "throttled",
        Err(UnlockError::Link(_)) => "link_refused",
        Err(UnlockError::Cert(_)) => "error",
    });
    if matches!(outcome, Err(UnlockError::Throttled(_))) {
        s.metrics.throttled("pin");
    }
    match outcome {
        Ok(grant) => {
            let mut r = back("unlocked=1".into());
            if let Some(v) = app::web::cookie_header(
                s.is_https(),
                app::web::grant_cookie_name(s.is_https()),
                &grant.token,
                "Strict",
                grant.expires_at - s.now(),
            ) {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            r
        }
        Err(UnlockError::WrongPin { left }) => back(format!("error=pin_wrong&left={left}")),
        Err(UnlockError::Throttled(_)) => back("error=throttled".into()),
        Err(UnlockError::Link(p)) => back(format!("error={}", p.code().as_str())),
        Err(UnlockError::Cert(e)) => {
            tracing::error!(error = %e, "PIN check failed");
            back("error=internal".into())
        }
    }
}

/// The form of the landing page's install step.
#[derive(serde::Deserialize)]
pub struct DownloadForm {
    #[serde(default)]
    format: String,
}

/// `POST /pickup/{token}/download` (form: `format`; the grant cookie): releases what the grant
/// allows — a SCEP profile for Apple devices, or a `.p12`/`.pfx` signed now — and sends it.
/// Never a GET: a link scanner or a preview cannot reach a bundle. Without a live grant, or
/// with a used, expired or voided link, nothing changes and the browser goes back to the
/// landing page, which says why.
pub async fn pickup_download(
    Request(s): Request,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    headers: axum::http::HeaderMap,
    Form(form): Form<DownloadForm>,
) -> Response {
    use app::domain::platform::Format;
    use app::ssr::links::{self, RedeemError};
    let Some(format) = Format::from_code(&form.format) else {
        return back_to_landing(&token, "error=invalid_choice");
    };
    if !plausible_token(&token) {
        return back_to_landing(&token, "error=link_unknown");
    }
    let Some(grant) = app::web::request_cookie(&headers, app::web::grant_cookie_name(s.is_https()))
    else {
        return back_to_landing(&token, "error=pin_required");
    };
    let started = std::time::Instant::now();
    // The profile's descriptions speak the phone's language.
    let h = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let lang = app::i18n::Lang::for_request(h(header::COOKIE), h(header::ACCEPT_LANGUAGE));
    let outcome = links::redeem(&s, &token, &grant, format, ip, lang).await;
    match &outcome {
        Ok(d) if d.serial_hex.is_some() => {
            s.metrics.pickup("issued");
            s.metrics.issued_in(started.elapsed().as_secs_f64());
        }
        Ok(_) => s.metrics.pickup("profile"),
        Err(RedeemError::Link(_)) => s.metrics.pickup("link_refused"),
        Err(RedeemError::Cert(_)) => s.metrics.pickup("error"),
    }
    match outcome {
        Ok(d) => {
            tracing::info!(serial = ?d.serial_hex, format = format.code(), "link redeemed");
            attachment(format.content_type(), &d.file_name, d.bytes)
        }
        Err(RedeemError::Link(p)) => {
            back_to_landing(&token, &format!("error={}", p.code().as_str()))
        }
        Err(RedeemError::Cert(e)) => {
            tracing::error!(error = %e, "pickup failed");
            back_to_landing(&token, "error=internal")
        }
    }
}

/// `GET /pickup/{token}/download/{format}` (the address of earlier versions): changes
/// nothing and sends the browser to the landing page, which asks for the PIN.
pub async fn pickup_download_get(Path((token, _)): Path<(String, String)>) -> Response {
    back_to_landing(&token, "error=pin_required")
}

/// The query of a SCEP request (RFC 8894 section 4.1).
#[derive(serde::Deserialize)]
pub struct ScepQuery {
    #[serde(default)]
    operation: String,
    #[serde(default)]
    message: Option<String>,
}

fn scep_body(content_type: &'static str, bytes: Vec<u8>) -> Response {
    body_with(content_type, "no-store", bytes)
}

/// `GET /scep`: `GetCACaps`, `GetCACert` (the CA and the RA as a degenerate PKCS#7), and
/// `PKIOperation` with a base64 `message` (standard or URL-safe alphabet).
pub async fn scep_get(
    Request(s): Request,
    ClientIp(ip): ClientIp,
    Query(q): Query<ScepQuery>,
) -> Response {
    match q.operation.as_str() {
        "GetCACaps" => scep_body(
            "text/plain",
            app::ssr::scep::CAPABILITIES.as_bytes().to_vec(),
        ),
        "GetCACert" => {
            let now = s.now();
            let certs = async {
                let mut c = s.conn().await?;
                let ca_id = s.current_ca_id(&mut c).await?;
                drop(c);
                let signer = s.signer(&ca_id).await?;
                let ra = s.authority.scep_ra(&ca_id, now).await?;
                Ok::<_, app::ssr::services::ServiceError>(app::ssr::scep::certs_only(&[
                    ra.cert_der(),
                    &signer.cert_der,
                ])?)
            }
            .await;
            match certs {
                Ok(der) => scep_body("application/x-x509-ca-ra-cert", der),
                Err(e) => internal(&e),
            }
        }
        "PKIOperation" => {
            use base64::Engine;
            let text: String = q
                .message
                .unwrap_or_default()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            let engines = [
                base64::engine::general_purpose::STANDARD,
                base64::engine::general_purpose::URL_SAFE,
            ];
            let Some(msg) = engines.iter().find_map(|e| e.decode(&text).ok()) else {
                return (StatusCode::BAD_REQUEST, "message is not base64\n").into_response();
            };
            scep_pki_operation(&s, &msg, ip).await
        }
        _ => (StatusCode::BAD_REQUEST, "unknown SCEP operation\n").into_response(),
    }
}

/// `POST /scep?operation=PKIOperation` with the DER message as the body.
pub async fn scep_post(
    Request(s): Request,
    ClientIp(ip): ClientIp,
    Query(q): Query<ScepQuery>,
    body: axum::body::Bytes,
) -> Response {
    if q.operation != "PKIOperation" {
        return (StatusCode::BAD_REQUEST, "unknown SCEP operation\n").into_response();
    }
    scep_pki_operation(&s, &body, ip).await
}

async fn scep_pki_operation(s: &app::ssr::Services, msg: &[u8], ip: Option<String>) -> Response {
    use app::ssr::scep::ScepError;
    match app::ssr::links::scep_operation(s, msg, ip).await {
        Ok(der) => scep_body("application/x-pki-message", der),
        Err(ScepError::Malformed(why)) => {
            tracing::info!(why, "SCEP message refused");
            (StatusCode::BAD_REQUEST, "not a SCEP message\n").into_response()
        }
        Err(e) => internal(&e),
    }
}

fn back_to_landing(token: &str, query: &str) -> Response {
    let safe: String = token
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(64)
        .collect();
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/pickup/{safe}?{query}")) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn ocsp_body(der: Vec<u8>) -> Response {
    // Answers are made per request from the live database; a cache would hide a revocation.
    body_with("application/ocsp-response", "no-cache", der)
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

/// The client's address of a plain route's request (see `app::web::client_of`).
pub struct ClientIp(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(app::web::client_of(&parts.extensions)))
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
        let admin = app::api::auth::session::admin_from_parts(&services, parts)
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

/// `POST /admin/create-download` (form: `users[]`, `not_after`, `remove_existing`,
/// `password`): "Create & Download" — a ZIP with a PKCS#12 per user and `RESULTS.csv` (the
/// PINs are the second download, [`handover_pins`]). Admins only, after rule 8's
/// confirmation; errors go back to the directory with `?error=<code>`.
pub async fn create_download(
    session: Result<AdminSession, Refusal>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let AdminSession {
        services: s,
        mut admin,
    } = match session {
        Ok(a) => a,
        Err(Refusal(e)) => return back_to_directory(&e),
    };
    let form = app::api::admin::CreateDownloadForm::from_pairs(pairs);
    match app::api::admin::create_and_download(&s, &mut admin, form).await {
        Ok(files) => {
            let made = files.iter().filter(|(n, _)| n.ends_with(".p12")).count();
            let mut r = attachment(
                "application/zip",
                &format!("certportal-bundles-{}.zip", app::i18n::fmt_date(s.now())),
                crate::zip::build(&files),
            );
            // The directory page (with JavaScript) waits for this to say the download
            // happened and to show the new states; not a secret, so readable by the script.
            if let Ok(v) = HeaderValue::from_str(&format!(
                "bulk_downloaded={made}; Path=/admin; Max-Age=300; SameSite=Strict"
            )) {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            r
        }
        Err(e) => back_to_directory(&e),
    }
}

/// `POST /admin/handover-pins.csv` (form: `password`): the second download of "Create &
/// Download" — the PINs of the bundles this administrator made in the last hour, after
/// rule 8's confirmation (with the bundles they are the keys). Errors go back to the
/// directory with `?error=<code>`.
pub async fn handover_pins(
    session: Result<AdminSession, Refusal>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let AdminSession {
        services: s,
        mut admin,
    } = match session {
        Ok(a) => a,
        Err(Refusal(e)) => return back_to_directory(&e),
    };
    let password = pairs
        .into_iter()
        .find(|(k, _)| k == "password")
        .map(|(_, v)| v);
    if let Err(e) = app::api::admin::confirm_admin(&s, &mut admin, password).await {
        return back_to_directory(&e);
    }
    match app::ssr::admin::handover_pins(&s, &admin.actor()).await {
        Ok(csv) => attachment(
            "text/csv; charset=utf-8",
            &format!("certportal-pins-{}.csv", app::i18n::fmt_date(s.now())),
            csv.into_bytes(),
        ),
        Err(e) => back_to_directory(&e.into()),
    }
}

/// `POST /admin/revoke` (the directory's bulk form, "Revoke"): carries the selected users to
/// the revocation page (`GET /admin/revoke`), and nothing else — the form's other fields,
/// such as a confirmation password typed for "Create", never reach an address bar.
pub async fn revoke_selection(Form(pairs): Form<Vec<(String, String)>>) -> Response {
    use app::web::percent_encode as enc;
    let query: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "users[]" || k == "users")
        .take(500)
        .map(|(_, v)| format!("users[]={}", enc(v)))
        .collect();
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/admin/revoke?{}", query.join("&"))) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
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
    Ok(attachment(
        "text/csv; charset=utf-8",
        "certportal-history.csv",
        csv.into_bytes(),
    ))
}
