//! `/scim/v2`: the HTTP side of SCIM 2.0 (RFC 7644). Every request needs a bearer token an
//! administrator made; bodies are JSON (`application/scim+json` or `application/json`);
//! answers are `application/scim+json`, errors in SCIM's own format with their status. The
//! rules live in `app::ssr::scim`.

use crate::routes::ClientIp;
use crate::AppState;
use app::ssr::audit::Actor;
use app::ssr::scim::{self, Change, ListQuery, ScimError};
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

const SCIM_JSON: &str = "application/scim+json";

fn answer(status: StatusCode, v: &Value) -> Response {
    let mut r = (status, v.to_string()).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn error(e: &ScimError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = answer(status, &e.body());
    if e.status == 401 {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"certportal SCIM\""),
        );
    }
    r
}

fn reply(result: Result<Value, ScimError>) -> Response {
    match result {
        Ok(v) => answer(StatusCode::OK, &v),
        Err(e) => error(&e),
    }
}

/// A new resource: 201 with its `Location`.
fn created(result: Result<Value, ScimError>) -> Response {
    match result {
        Ok(v) => {
            let mut r = answer(StatusCode::CREATED, &v);
            if let Some(loc) = v["meta"]["location"]
                .as_str()
                .and_then(|l| HeaderValue::from_str(l).ok())
            {
                r.headers_mut().insert(header::LOCATION, loc);
            }
            r
        }
        Err(e) => error(&e),
    }
}

fn deleted(result: Result<(), ScimError>) -> Response {
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error(&e),
    }
}

/// The authenticated client, or the 401 to answer.
async fn client(
    st: &AppState,
    headers: &HeaderMap,
    ip: ClientIp,
) -> Result<(app::ssr::Services, Actor), Response> {
    let s = st.services.clone().at_now();
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match scim::authenticate(&s, auth, ip.0).await {
        Ok(actor) => Ok((s, actor)),
        Err(e) => Err(error(&e)),
    }
}

fn json_body(bytes: &Bytes) -> Result<Value, ScimError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ScimError::bad("invalidSyntax", format!("the body is not JSON: {e}")))
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ListParams {
    filter: Option<String>,
    start_index: Option<String>,
    count: Option<String>,
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

fn list_query(p: ListParams) -> Result<ListQuery, ScimError> {
    let num = |name: &str, v: Option<String>| -> Result<Option<i64>, ScimError> {
        v.map(|v| {
            v.trim().parse::<i64>().map_err(|_| {
                ScimError::bad("invalidValue", format!("{name} must be a whole number"))
            })
        })
        .transpose()
    };
    Ok(ListQuery {
        filter: p.filter,
        start_index: num("startIndex", p.start_index)?,
        count: num("count", p.count)?,
        attributes: p.attributes,
        excluded_attributes: p.excluded_attributes,
    })
}

/// The routes under `/scim/v2`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ServiceProviderConfig", get(service_provider_config))
        .route("/.search", axum::routing::post(search))
        .route("/Schemas", get(schemas))
        .route("/Schemas/{id}", get(schema))
        .route("/ResourceTypes", get(resource_types))
        .route("/ResourceTypes/{id}", get(resource_type))
        .route("/Users", get(list_users).post(create_user))
        .route(
            "/Users/{id}",
            get(get_user)
                .put(replace_user)
                .patch(patch_user)
                .delete(delete_user),
        )
        .route("/Groups", get(list_groups).post(create_group))
        .route(
            "/Groups/{id}",
            get(get_group)
                .put(replace_group)
                .patch(patch_group)
                .delete(delete_group),
        )
        .fallback(|| async { error(&ScimError::not_found("resource")) })
}

async fn service_provider_config(
    State(st): State<AppState>,
    headers: HeaderMap,
    ip: ClientIp,
) -> Response {
    match client(&st, &headers, ip).await {
        Ok((s, _)) => answer(StatusCode::OK, &scim::service_provider_config(&s)),
        Err(r) => r,
    }
}

fn listed(items: Vec<Value>) -> Value {
    let n = items.len() as i64;
    scim::json::list(items, n, 1)
}

async fn schemas(State(st): State<AppState>, headers: HeaderMap, ip: ClientIp) -> Response {
    match client(&st, &headers, ip).await {
        Ok((s, _)) => answer(StatusCode::OK, &listed(scim::schemas(&s))),
        Err(r) => r,
    }
}

async fn schema(
    State(st): State<AppState>,
    headers: HeaderMap,
    ip: ClientIp,
    Path(id): Path<String>,
) -> Response {
    match client(&st, &headers, ip).await {
        Ok((s, _)) => reply(
            scim::schemas(&s)
                .into_iter()
                .find(|v| v["id"].as_str() == Some(id.as_str()))
                .ok_or_else(|| ScimError::not_found("schema")),
        ),
        Err(r) => r,
    }
}

async fn resource_types(State(st): State<AppState>, headers: HeaderMap, ip: ClientIp) -> Response {
    match client(&st, &headers, ip).await {
        Ok((s, _)) => answer(StatusCode::OK, &listed(scim::resource_types(&s))),
        Err(r) => r,
    }
}

async fn resource_type(
    State(st): State<AppState>,
    headers: HeaderMap,
    ip: ClientIp,
    Path(id): Path<String>,
) -> Response {
    match client(&st, &headers, ip).await {
        Ok((s, _)) => reply(
            scim::resource_types(&s)
                .into_iter()
                .find(|v| v["id"].as_str() == Some(id.as_str()))
                .ok_or_else(|| ScimError::not_found("resource type")),
        ),
        Err(r) => r,
    }
}

/// What a request reads.
enum Read {
    Users,
    User(String),
    Groups,
    Group(String),
}

async fn read(
    st: &AppState,
    headers: &HeaderMap,
    ip: ClientIp,
    params: Result<Query<ListParams>, QueryRejection>,
    what: Read,
) -> Response {
    let (s, _) = match client(st, headers, ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let q = match params {
        Ok(Query(p)) => list_query(p),
        Err(_) => Err(ScimError::bad(
            "invalidValue",
            "the query string cannot be read",
        )),
    };
    let q = match q {
        Ok(q) => q,
        Err(e) => return error(&e),
    };
    reply(match what {
        Read::Users => scim::list_users(&s, &q).await,
        Read::Groups => scim::list_groups(&s, &q).await,
        Read::User(id) => scim::get_user(&s, &id).await.and_then(|v| q.project(v)),
        Read::Group(id) => scim::get_group(&s, &id).await.and_then(|v| q.project(v)),
    })
}

/// PUT or PATCH.
#[derive(Clone, Copy)]
enum How {
    Replace,
    Patch,
}

impl How {
    fn change(self, v: &Value) -> Change<'_> {
        match self {
            How::Replace => Change::Replace(v),
            How::Patch => Change::Patch(v),
        }
    }
}

/// What a request with a body changes.
enum Write {
    CreateUser,
    User(String, How),
    CreateGroup,
    Group(String, How),
    Search,
}

async fn write(
    st: &AppState,
    headers: &HeaderMap,
    ip: ClientIp,
    body: Bytes,
    what: Write,
) -> Response {
    let (s, actor) = match client(st, headers, ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let v = match json_body(&body) {
        Ok(v) => v,
        Err(e) => return error(&e),
    };
    match what {
        Write::CreateUser => created(scim::create_user(&s, &actor, &v).await),
        Write::CreateGroup => created(scim::create_group(&s, &actor, &v).await),
        Write::User(id, how) => reply(scim::change_user(&s, &actor, &id, how.change(&v)).await),
        Write::Group(id, how) => reply(scim::change_group(&s, &actor, &id, how.change(&v)).await),
        Write::Search => reply(scim::search(&s, &v).await),
    }
}

type Params = Result<Query<ListParams>, QueryRejection>;

async fn list_users(State(st): State<AppState>, h: HeaderMap, ip: ClientIp, q: Params) -> Response {
    read(&st, &h, ip, q, Read::Users).await
}

async fn get_user(
    State(st): State<AppState>,
    h: HeaderMap,
    ip: ClientIp,
    Path(id): Path<String>,
    q: Params,
) -> Response {
    read(&st, &h, ip, q, Read::User(id)).await
}

async fn list_groups(
    State(st): State<AppState>,
    h: HeaderMap,
    ip: ClientIp,
    q: Params,
) -> Response {
    read(&st, &h, ip, q, Read::Groups).await
}

async fn get_group(
    State(st): State<AppState>,
    h: HeaderMap,
    ip: ClientIp,
    Path(id): Path<String>,
    q: Params,
) -> Response {
    read(&st, &h, ip, q, Read::Group(id)).await
}

async fn search(State(st): State<AppState>, h: HeaderMap, ip: ClientIp, body: Bytes) -> Response {
    write(&st, &h, ip, body, Write::Search).await
}

async fn create_user(
    State(st): State<AppState>,
    h: HeaderMap,
    ip: ClientIp,
    body: Bytes,
) -> Response {
    write(&st, &h, ip, body, Write::CreateUser).await
}

async fn replace_user(
    State(st): State<AppState>,
    h: HeaderMap,
    ip: ClientIp,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    write(&st, &h, ip, body, Write::User(id, How::Replace)).await
}

async fn patch_user(
    State(st): State<AppState>,
    h: HeaderMap,
    ip: ClientIp,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    write(&st, &h, ip, body, Write::User(id, How::Patch)).await
}

async fn delete_user(
    State(st): State<AppState>,
    h: HeaderMap,
    ip: ClientIp,
    Path(id): Path<String>,
) -> Response {
    match client(&st, &h, ip).await {
        Ok((s, actor)) => deleted(scim::delete_user(&s, &actor, &id).await),
        Err(r) => r,
    }
}

async fn create_group(
    State(st): State<AppState>,
    h: HeaderMap,
    ip: ClientIp,
    body: Bytes,
) -> Response {
    write(&st, &h, ip, body, Write::CreateGroup).await
}

async fn replace_group(
    State(st): State<AppState>,
    h: HeaderMap,
    ip: ClientIp,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    write(&st, &h, ip, body, Write::Group(id, How::Replace)).await
}

async fn patch_group(
    State(st): State<AppState>,
    h: HeaderMap,
    ip: ClientIp,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    write(&st, &h, ip, body, Write::Group(id, How::Patch)).await
}

async fn delete_group(
    State(st): State<AppState>,
    h: HeaderMap,
    ip: ClientIp,
    Path(id): Path<String>,
) -> Response {
    match client(&st, &h, ip).await {
        Ok((s, actor)) => deleted(scim::delete_group(&s, &actor, &id).await),
        Err(r) => r,
    }
}
