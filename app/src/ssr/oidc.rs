//! Sign-in through the company's OpenID provider (OpenID Connect, authorization code flow
//! with PKCE, through the `openidconnect` crate): discovery from the issuer URL, the ID token's
//! signature, `iss`, `aud`, `exp` (on the portal's own clock), `nonce` and `azp` checked; `state`
//! bound to the browser by a cookie naming a flow kept server-side and used once. Users are
//! found by the provider's subject, else by the login claim (then linked), else created when the
//! settings allow; their name, e-mail, UPN, department and — when admin groups are configured —
//! role follow the claims at every sign-in, audited when they change. The same flow with
//! `prompt=login` and `max_age=0` confirms an administrator for rule 8 (a fresh `auth_time`).

use super::audit::{self, action, Actor};
use super::auth::{open_session, Client, NewSession};
use super::ca::Secret;
use super::db::{self, Conn};
use super::ids;
use super::Services;
use crate::domain::error_code::ErrorCode;
use crate::domain::validate::{DisplayName, Email, Login, Upn};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    reqwest, AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenClaims,
    IdTokenFields, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::time::Duration;

/// How long a begun sign-in may take at the provider.
pub const FLOW_SECS: i64 = 600;
/// At most this many begun, unfinished sign-ins are kept (anonymous requests make them).
pub const MAX_OPEN_FLOWS: i64 = 5_000;
/// Clock difference allowed between the portal and the provider.
const SKEW: i64 = 60;
/// The provider's keys and endpoints are looked up again after this long.
const DISCOVERY_SECS: i64 = 3600;

/// The settings (`oidc_*`).
#[derive(Debug, Clone)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// The provider's name on the button ("Sign in with …").
    pub display_name: String,
    pub scopes: Vec<String>,
    /// The claim that names the login; `None`: `preferred_username`, else `email`.
    pub login_claim: Option<String>,
    pub groups_claim: String,
    pub admin_groups: Vec<String>,
    pub name_claim: String,
    pub email_claim: String,
    pub upn_claim: String,
    pub department_claim: String,
    /// Create a user at their first sign-in (else only existing users are matched).
    pub create_users: bool,
    /// Whether local passwords still sign in (passkeys always do).
    pub local_passwords: bool,
}

/// Every claim the provider sent that is not a standard one, by name.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct OtherClaims(HashMap<String, serde_json::Value>);
impl AdditionalClaims for OtherClaims {}

type TokenFields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type OidcTokenResponse = StandardTokenResponse<TokenFields, CoreTokenType>;
type OidcClient = openidconnect::Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    OidcTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;
type Claims = IdTokenClaims<OtherClaims, CoreGenderClaim>;

/// Why a sign-in through the provider did not happen. The browser gets the code; the log the
/// reason (never a token or a response body).
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the identity provider cannot be reached: {0}")]
    Unavailable(&'static str),
    #[error("the identity provider's answer was refused: {0}")]
    Refused(&'static str),
    #[error("no account matches this sign-in and accounts are not created automatically")]
    NoAccount,
    #[error("this user's account is deactivated")]
    Inactive,
    #[error("too many sign-ins are under way")]
    Throttled,
    #[error("sign in first")]
    NotSignedIn,
    #[error(transparent)]
    Db(#[from] db::DbError),
}

impl From<sqlx::Error> for OidcError {
    fn from(e: sqlx::Error) -> Self {
        OidcError::Db(e.into())
    }
}

impl From<super::auth::AuthError> for OidcError {
    fn from(e: super::auth::AuthError) -> Self {
        match e {
            super::auth::AuthError::Db(d) => OidcError::Db(d),
            _ => OidcError::Refused("session"),
        }
    }
}

impl OidcError {
    pub fn code(&self) -> ErrorCode {
        match self {
            OidcError::Unavailable(_) => ErrorCode::SsoUnavailable,
            OidcError::Refused(_) => ErrorCode::SsoRefused,
            OidcError::NoAccount => ErrorCode::SsoNoAccount,
            OidcError::Inactive => ErrorCode::UserInactive,
            OidcError::Throttled => ErrorCode::Throttled,
            OidcError::NotSignedIn => ErrorCode::NotSignedIn,
            OidcError::Db(_) => ErrorCode::Internal,
        }
    }
}

/// The configured provider: settings, an HTTP client that follows no redirects, and the
/// discovered metadata (looked up at first use and again hourly or when a key is unknown).
pub struct Oidc {
    pub settings: OidcSettings,
    http: reqwest::Client,
    client: tokio::sync::RwLock<Option<(OidcClient, i64)>>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("issuer", &self.settings.issuer)
            .finish_non_exhaustive()
    }
}

impl Oidc {
    pub fn new(settings: OidcSettings) -> Result<Oidc, String> {
        let https = settings.issuer.starts_with("https://");
        let http = reqwest::Client::builder()
            // Never follow a redirect (SSRF), and only HTTPS unless the issuer itself is
            // plain HTTP (a provider on loopback).
            .redirect(reqwest::redirect::Policy::none())
            .https_only(https)
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Oidc {
            settings,
            http,
            client: tokio::sync::RwLock::new(None),
        })
    }

    async fn client(&self, now: i64, fresh: bool) -> Result<OidcClient, OidcError> {
        if !fresh {
            if let Some((c, at)) = &*self.client.read().await {
                if now - at < DISCOVERY_SECS {
                    return Ok(c.clone());
                }
            }
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone())
            .map_err(|_| OidcError::Unavailable("issuer URL"))?;
        let meta = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| {
                tracing::warn!(
                    error = discovery_reason(&e),
                    "OpenID provider discovery failed"
                );
                OidcError::Unavailable("discovery")
            })?;
        let c = OidcClient::from_provider_metadata(
            meta,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(
                self.settings.client_secret.expose().to_string(),
            )),
        );
        *self.client.write().await = Some((c.clone(), now));
        Ok(c)
    }
}

fn discovery_reason<E: std::error::Error + 'static>(
    e: &openidconnect::DiscoveryError<E>,
) -> &'static str {
    use openidconnect::DiscoveryError as D;
    match e {
        D::Request(_) => "request",
        D::Response(..) => "response status",
        D::Parse(_) => "parse",
        D::UrlParse(_) => "url",
        D::Validation(_) => "validation (issuer mismatch?)",
        _ => "other",
    }
}

/// `<public URL>/auth/oidc/callback`
pub fn redirect_uri(s: &Services) -> String {
    format!("{}/auth/oidc/callback", s.public_url)
}

/// What a begun flow is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Login,
    /// Rule 8: a fresh sign-in at the provider confirms this session's administrator.
    Confirm,
}

impl Purpose {
    fn code(self) -> &'static str {
        match self {
            Purpose::Login => "login",
            Purpose::Confirm => "confirm",
        }
    }
}

/// Begins a flow: returns the provider's authorization URL and the flow's token (for the
/// browser's cookie; only its SHA-256 is stored). `session_token`: the session a
/// confirmation is for; `ip`: the client's address (flows are limited per address, as
/// anonymous passkey sign-ins are, then to [`MAX_OPEN_FLOWS`] in all).
pub async fn begin(
    s: &Services,
    purpose: Purpose,
    next: &str,
    session_token: Option<&str>,
    ip: Option<&str>,
) -> Result<(String, String), OidcError> {
    let oidc = s
        .oidc
        .as_ref()
        .ok_or(OidcError::Unavailable("not configured"))?;
    let now = s.now();
    if let Some(ip) = ip {
        let scope = format!("oidc:{}", super::client_addr::throttle_scope(ip));
        if !s.passkey_starts.allow(&scope, now) {
            return Err(OidcError::Throttled);
        }
    }
    let session_hash = match purpose {
        Purpose::Login => None,
        Purpose::Confirm => {
            let t = session_token.ok_or(OidcError::NotSignedIn)?;
            super::auth::session_user(s, t, None)
                .await?
                .ok_or(OidcError::NotSignedIn)?;
            Some(ids::token_hash(t))
        }
    };
    let client = oidc.client(now, false).await?.set_redirect_uri(
        RedirectUrl::new(redirect_uri(s)).map_err(|_| OidcError::Unavailable("public URL"))?,
    );
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut req = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in oidc.settings.scopes.iter().filter(|s| *s != "openid") {
        req = req.add_scope(Scope::new(scope.clone()));
    }
    if purpose == Purpose::Confirm {
        req = req
            .add_prompt(CoreAuthPrompt::Login)
            .set_max_age(Duration::ZERO);
    }
    let (url, state, nonce) = req.url();
    let token = ids::new_token();
    let mut tx = s.db.begin().await?;
    sqlx::query("DELETE FROM oidc_flows WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let open = sqlx::query("SELECT COUNT(*) AS n FROM oidc_flows")
        .fetch_one(&mut *tx)
        .await?;
    if db::get_i64(&open, "n")? >= MAX_OPEN_FLOWS {
        return Err(OidcError::Throttled);
    }
    sqlx::query(
        "INSERT INTO oidc_flows (id_hash, state, nonce, pkce_verifier, purpose, session_hash, \
         next_path, created_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
    )
    .bind(ids::token_hash(&token))
    .bind(state.secret())
    .bind(nonce.secret())
    .bind(verifier.secret())
    .bind(purpose.code())
    .bind(session_hash)
    .bind(crate::web::safe_next(Some(next)))
    .bind(now)
    .bind(now + FLOW_SECS)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((url.to_string(), token))
}

/// What the provider's redirect back carried.
#[derive(Debug, Clone, Default)]
pub struct Callback {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
}

/// A finished flow: where the browser goes next, and the new session of a sign-in.
#[derive(Debug)]
pub struct Finished {
    pub next: String,
    pub session: Option<NewSession>,
}

struct Flow {
    state: String,
    nonce: String,
    verifier: String,
    purpose: String,
    session_hash: Option<String>,
    next: String,
    created_at: i64,
}

/// Takes the flow named by the browser's cookie: it works once, whatever the outcome.
async fn take_flow(s: &Services, token: &str, now: i64) -> Result<Option<Flow>, OidcError> {
    let hash = ids::token_hash(token);
    let mut tx = s.db.begin().await?;
    let row = sqlx::query(
        "SELECT state, nonce, pkce_verifier, purpose, session_hash, next_path, created_at, \
         expires_at FROM oidc_flows WHERE id_hash = $1",
    )
    .bind(&hash)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(r) = row else { return Ok(None) };
    sqlx::query("DELETE FROM oidc_flows WHERE id_hash = $1")
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    if db::get_i64(&r, "expires_at")? <= now {
        return Ok(None);
    }
    Ok(Some(Flow {
        state: db::get_str(&r, "state")?,
        nonce: db::get_str(&r, "nonce")?,
        verifier: db::get_str(&r, "pkce_verifier")?,
        purpose: db::get_str(&r, "purpose")?,
        session_hash: db::get_opt_str(&r, "session_hash")?,
        next: db::get_str(&r, "next_path")?,
        created_at: db::get_i64(&r, "created_at")?,
    }))
}

fn at(unix: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(unix, 0).unwrap_or_default()
}

/// Finishes the flow the browser's cookie names with what the provider sent back.
pub async fn finish(
    s: &Services,
    flow_token: Option<&str>,
    back: &Callback,
    client: &Client,
    session_token: Option<&str>,
) -> Result<Finished, OidcError> {
    let oidc = s
        .oidc
        .as_ref()
        .ok_or(OidcError::Unavailable("not configured"))?;
    let now = s.now();
    let flow = match flow_token {
        Some(t) => take_flow(s, t, now).await?,
        None => None,
    }
    .ok_or(OidcError::Refused(
        "no such flow (used, expired, or another browser)",
    ))?;
    let returned = back.state.as_deref().unwrap_or_default();
    if Sha256::digest(returned.as_bytes()) != Sha256::digest(flow.state.as_bytes()) {
        return Err(OidcError::Refused("state"));
    }
    if back.error.is_some() {
        return Err(OidcError::Refused("the provider answered with an error"));
    }
    let code = back.code.clone().ok_or(OidcError::Refused("no code"))?;
    let claims = exchange(oidc, s, &flow, code, now).await?;
    match flow.purpose.as_str() {
        "confirm" => {
            confirm(s, &flow, &claims, session_token, client, now).await?;
            Ok(Finished {
                next: flow.next,
                session: None,
            })
        }
        _ => {
            let session = sign_in(s, oidc, &claims, client, session_token, now).await?;
            Ok(Finished {
                next: flow.next,
                session: Some(session),
            })
        }
    }
}

/// The code for tokens (with the PKCE verifier), and the ID token verified: signature, `iss`,
/// `aud` (this client only), `exp` on the portal's clock, `iat` and `auth_time` not before the
/// flow began, `nonce`, `azp`.
async fn exchange(
    oidc: &Oidc,
    s: &Services,
    flow: &Flow,
    code: String,
    now: i64,
) -> Result<Claims, OidcError> {
    let redirect =
        RedirectUrl::new(redirect_uri(s)).map_err(|_| OidcError::Unavailable("public URL"))?;
    let client = oidc
        .client(now, false)
        .await?
        .set_redirect_uri(redirect.clone());
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|_| OidcError::Unavailable("no token endpoint"))?
        .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier.clone()))
        .request_async(&oidc.http)
        .await
        .map_err(|e| match e {
            RequestTokenError::Request(_) => OidcError::Unavailable("token request"),
            RequestTokenError::ServerResponse(_) => {
                OidcError::Refused("token endpoint refused the code")
            }
            RequestTokenError::Parse(..) => OidcError::Refused("token response"),
            _ => OidcError::Refused("token request"),
        })?;
    let id_token = token.id_token().ok_or(OidcError::Refused("no ID token"))?;
    let started = flow.created_at;
    let confirm = flow.purpose == "confirm";
    let verify = |c: &OidcClient| -> Result<Claims, openidconnect::ClaimsVerificationError> {
        let verifier = c
            .id_token_verifier()
            .set_time_fn(move || at(now))
            .set_issue_time_verifier_fn(move |iat| {
                let iat = iat.timestamp();
                if iat < started - SKEW || iat > now + SKEW {
                    Err("iat outside the flow".into())
                } else {
                    Ok(())
                }
            })
            .set_auth_time_verifier_fn(move |t| match (t.map(|t| t.timestamp()), confirm) {
                (None, true) => Err("auth_time missing".into()),
                (Some(t), true) if t < started - 1 || t > now + SKEW => {
                    Err("not a fresh sign-in".into())
                }
                _ => Ok(()),
            });
        id_token
            .claims(&verifier, &Nonce::new(flow.nonce.clone()))
            .cloned()
    };
    let claims = match verify(&client) {
        Ok(c) => c,
        // A key the provider rotated in since discovery: look again, once.
        Err(openidconnect::ClaimsVerificationError::SignatureVerification(
            openidconnect::SignatureVerificationError::NoMatchingKey,
        )) => verify(&oidc.client(now, true).await?).map_err(|e| refused(&e))?,
        Err(e) => return Err(refused(&e)),
    };
    if let Some(azp) = claims.authorized_party() {
        if azp.as_str() != oidc.settings.client_id {
            return Err(OidcError::Refused("azp"));
        }
    }
    Ok(claims)
}

fn refused(e: &openidconnect::ClaimsVerificationError) -> OidcError {
    use openidconnect::ClaimsVerificationError as C;
    let why = match e {
        C::Expired(_) => "expired ID token",
        C::InvalidAudience(_) => "ID token for another client (aud)",
        C::InvalidAuthTime(_) => "not a fresh sign-in (auth_time)",
        C::InvalidIssuer(_) => "issuer",
        C::InvalidNonce(_) => "nonce",
        C::SignatureVerification(_) => "signature",
        _ => "ID token",
    };
    tracing::warn!(why, "OpenID sign-in refused");
    OidcError::Refused(why)
}

/// A claim as text: the standard ones through their accessors, any other by name.
fn claim(c: &Claims, name: &str) -> Option<String> {
    let s = match name {
        "sub" => Some(c.subject().as_str().to_string()),
        "preferred_username" => c.preferred_username().map(|u| u.as_str().to_string()),
        "email" => c.email().map(|e| e.as_str().to_string()),
        "name" => c
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_string()),
        "given_name" => c
            .given_name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_string()),
        "family_name" => c
            .family_name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_string()),
        other => match c.additional_claims().0.get(other) {
            Some(serde_json::Value::String(v)) => Some(v.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        },
    };
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// The groups claim: a list of names (or one name).
fn groups(c: &Claims, name: &str) -> Option<Vec<String>> {
    match c.additional_claims().0.get(name)? {
        serde_json::Value::Array(a) => Some(
            a.iter()
                .filter_map(|g| g.as_str().map(str::to_string))
                .collect(),
        ),
        serde_json::Value::String(g) => Some(vec![g.clone()]),
        _ => None,
    }
}

/// What the claims say of a user, checked as the portal's own forms check them.
#[derive(Debug, Clone)]
struct Person {
    login: String,
    display_name: String,
    email: String,
    upn: Option<String>,
    department: Option<String>,
    /// `None`: no admin groups configured, or the provider sent no groups (unknown).
    is_admin: Option<bool>,
}

fn person(set: &OidcSettings, c: &Claims) -> Result<Person, OidcError> {
    let login_text = match &set.login_claim {
        Some(name) => claim(c, name),
        None => claim(c, "preferred_username").or_else(|| claim(c, "email")),
    }
    .ok_or(OidcError::Refused("no login claim"))?;
    let login = Login::parse(&login_text).map_err(|_| OidcError::Refused("login claim"))?;
    let display = claim(c, &set.name_claim)
        .and_then(|n| DisplayName::parse(&n).ok())
        .map(|n| n.as_str().to_string())
        .unwrap_or_else(|| login.as_str().to_string());
    let email = claim(c, &set.email_claim)
        .and_then(|e| Email::parse(&e).ok())
        .map(|e| e.as_str().to_string())
        .or_else(|| {
            Email::parse(login.as_str())
                .ok()
                .map(|e| e.as_str().to_string())
        })
        .unwrap_or_default();
    let upn = claim(c, &set.upn_claim)
        .and_then(|u| Upn::parse(&u).ok())
        .map(|u| u.as_str().to_string());
    let department = claim(c, &set.department_claim)
        .and_then(|d| super::auth::department_path(Some(&d)).ok().flatten());
    let is_admin = if set.admin_groups.is_empty() {
        None
    } else {
        groups(c, &set.groups_claim).map(|gs| {
            gs.iter()
                .any(|g| set.admin_groups.iter().any(|a| a.eq_ignore_ascii_case(g)))
        })
    };
    Ok(Person {
        login: login.as_str().to_string(),
        display_name: display,
        email,
        upn,
        department,
        is_admin,
    })
}

async fn user_by_subject(c: &mut Conn, sub: &str) -> Result<Option<db::UserRow>, OidcError> {
    let row = sqlx::query("SELECT id FROM users WHERE oidc_subject = $1")
        .bind(sub)
        .fetch_optional(&mut *c)
        .await?;
    match row {
        Some(r) => Ok(db::user_by_id(c, &db::get_str(&r, "id")?).await?),
        None => Ok(None),
    }
}

/// Signs the claims' user in (found, linked or created), their fields following the claims.
async fn sign_in(
    s: &Services,
    oidc: &Oidc,
    c: &Claims,
    client: &Client,
    previous: Option<&str>,
    now: i64,
) -> Result<NewSession, OidcError> {
    let set = &oidc.settings;
    let p = person(set, c)?;
    let sub = c.subject().as_str().to_string();
    let actor = Actor {
        user_id: None,
        label: format!("oidc:{}", set.display_name),
        is_admin: true,
        ip: client.ip.clone(),
    };
    let mut tx = s.db.begin().await?;
    // A role may change: the `admins` lock first, as every use case takes it.
    db::lock_named(&mut tx, "admins").await?;
    let by_subject = user_by_subject(&mut tx, &sub).await?;
    let linking = by_subject.is_none();
    let mut user = match by_subject {
        Some(u) => u,
        None => match db::user_by_login(&mut tx, &p.login).await? {
            Some(u) => {
                let linked = sqlx::query("SELECT oidc_subject FROM users WHERE id = $1")
                    .bind(&u.id)
                    .fetch_one(&mut *tx)
                    .await?;
                if db::get_opt_str(&linked, "oidc_subject")?.is_some() {
                    // The login belongs to another subject of the provider.
                    return Err(OidcError::Refused("the login is linked to another subject"));
                }
                u
            }
            None if set.create_users => {
                let dept = match &p.department {
                    Some(d) => db::users::department_id(&mut tx, d).await?,
                    None => None,
                };
                let u = db::insert_user(
                    &mut tx,
                    &ids::new_id(),
                    &db::NewUser {
                        login: p.login.clone(),
                        display_name: p.display_name.clone(),
                        email: p.email.clone(),
                        upn: p.upn.clone(),
                        department_id: dept,
                        is_admin: p.is_admin == Some(true),
                        password_hash: None,
                    },
                    now,
                )
                .await?;
                audit::record(
                    &mut tx,
                    now,
                    &actor,
                    action::USER_CREATE,
                    Some(&u.id),
                    None,
                    None,
                    &format!("login={} admin={} via=oidc", u.login, u.is_admin),
                )
                .await?;
                u
            }
            None => {
                audit::record_result(
                    &mut tx,
                    now,
                    &Actor::anonymous(client.ip.clone()),
                    action::LOGIN_FAILED,
                    None,
                    "refused",
                    "via=oidc no matching account",
                )
                .await?;
                tx.commit().await?;
                return Err(OidcError::NoAccount);
            }
        },
    };
    db::lock_user(&mut tx, &user.id).await?;
    if !user.active {
        return Err(OidcError::Inactive);
    }
    // The claims decide the name, addresses, department and (with admin groups) the role.
    let dept = match &p.department {
        Some(d) => db::users::department_id(&mut tx, d).await?,
        None => user.department_id.clone(),
    };
    let mut is_admin = p.is_admin.unwrap_or(user.is_admin);
    if user.is_admin && !is_admin && db::admin_rows::count_active_admins(&mut tx).await? <= 1 {
        // Never the last administrator away (they stay one; the history says why).
        is_admin = true;
    }
    let mut changed = Vec::new();
    if user.display_name != p.display_name {
        changed.push(format!("display_name={}", p.display_name));
    }
    if !p.email.is_empty() && user.email != p.email {
        changed.push(format!("email={}", p.email));
    }
    if p.upn.is_some() && user.upn != p.upn {
        changed.push(format!("upn={}", p.upn.clone().unwrap_or_default()));
    }
    if user.department_id != dept {
        changed.push(format!(
            "department={}",
            p.department.clone().unwrap_or_default()
        ));
    }
    if user.is_admin != is_admin {
        changed.push(format!("is_admin={is_admin}"));
    }
    if p.is_admin == Some(false) && is_admin {
        changed.push("is_admin kept: the last active administrator".into());
    }
    if linking {
        changed.push("linked to the provider's subject".into());
    }
    sqlx::query(
        "UPDATE users SET display_name = $2, email = $3, upn = $4, department_id = $5, \
         is_admin = $6, oidc_subject = $7, updated_at = $8 WHERE id = $1",
    )
    .bind(&user.id)
    .bind(&p.display_name)
    .bind(if p.email.is_empty() {
        &user.email
    } else {
        &p.email
    })
    .bind(p.upn.clone().or(user.upn.clone()))
    .bind(dept)
    .bind(i64::from(is_admin))
    .bind(&sub)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if !changed.is_empty() {
        changed.push("via=oidc".into());
        audit::record(
            &mut tx,
            now,
            &actor,
            action::USER_UPDATE,
            Some(&user.id),
            None,
            None,
            &changed.join(" "),
        )
        .await?;
    }
    user = db::user_by_id(&mut tx, &user.id)
        .await?
        .ok_or(OidcError::Refused("user vanished"))?;
    let session = open_session(&mut tx, s, &user, client, previous, "oidc").await?;
    // The provider may have signed them in from its own session, without asking for anything:
    // that is no confirmation for rule 8 (a password is; a fresh provider sign-in is).
    sqlx::query("UPDATE sessions SET reauth_at = NULL WHERE id_hash = $1")
        .bind(ids::token_hash(&session.token))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    if user.is_admin && user.active {
        s.admin_seen
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
    Ok(session)
}

/// Rule 8 through the provider: a fresh sign-in (checked by `auth_time`) of the same user as
/// the session the flow began in marks that session confirmed now.
async fn confirm(
    s: &Services,
    flow: &Flow,
    c: &Claims,
    session_token: Option<&str>,
    client: &Client,
    now: i64,
) -> Result<(), OidcError> {
    let token = session_token.ok_or(OidcError::NotSignedIn)?;
    if flow.session_hash.as_deref() != Some(ids::token_hash(token).as_str()) {
        return Err(OidcError::Refused(
            "the confirmation began in another session",
        ));
    }
    let a = super::auth::session_user(s, token, client.ip.clone())
        .await?
        .ok_or(OidcError::NotSignedIn)?;
    let mut tx = s.db.begin().await?;
    let linked = user_by_subject(&mut tx, c.subject().as_str()).await?;
    if linked.map(|u| u.id) != Some(a.user.id.clone()) {
        return Err(OidcError::Refused("the provider signed in someone else"));
    }
    db::auth_rows::set_reauth(&mut tx, &a.session.id_hash, now).await?;
    audit::record(
        &mut tx,
        now,
        &a.actor(),
        action::REAUTH,
        Some(&a.user.id),
        None,
        None,
        "via=oidc",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether this user signs in through the provider (they confirm there too).
pub async fn is_linked(c: &mut Conn, user_id: &str) -> Result<bool, OidcError> {
    let row = sqlx::query("SELECT oidc_subject FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(match row {
        Some(r) => db::get_opt_str(&r, "oidc_subject")?.is_some(),
        None => false,
    })
}
