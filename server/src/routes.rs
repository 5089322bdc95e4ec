//! Plain HTTP routes outside the Leptos app: health, the CA certificates and the CRLs.
//! Handlers only extract, call and map errors; failures are logged and answered generically.

use crate::AppState;
use app::ssr::{ca, db};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

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
