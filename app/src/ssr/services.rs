//! The services every request and command needs, built once at start-up and handed to
//! server functions (Leptos context) and plain routes (axum state): the database, the clock,
//! the certificate authority, the policy and the public URL. A dependency container only:
//! the CA's own work lives in [`Authority`].

pub use super::authority::{create_private_dir, publish_crl, write_private, Authority};
use super::ca::{CaError, Secret};
use super::clock::{Clock, FixedClock};
use super::db::{Conn, Db, DbError};
use crate::domain::policy::Policy;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Ca(#[from] CaError),
    #[error("could not write {path}: {cause}")]
    Io { path: String, cause: String },
    #[error("no current CA: the database has none and none could be created")]
    NoCa,
    #[error("unknown CA {0:?}")]
    UnknownCa(String),
    #[error("stored policy is invalid: {0}")]
    BadPolicy(String),
    #[error("the public URL cannot be used for passkeys: {0}")]
    BadPublicUrl(String),
    #[error("another change of the CA happened at the same time; nothing was changed")]
    Conflict,
    #[error("the PIN key is not loaded")]
    NoPinKey,
    #[error(transparent)]
    Scep(#[from] super::scep::ScepError),
}

/// What start-up needs to build the services.
#[derive(Debug, Clone)]
pub struct ServicesConfig {
    pub database_url: String,
    /// The database pool's size; `None`: the default
    /// ([`super::db::default_max_connections`]).
    pub database_max_connections: Option<u32>,
    pub data_dir: PathBuf,
    pub public_url: String,
    pub ca_passphrase: Secret,
    pub ca_common_name: String,
}

/// What every use case needs: the clock, and everything else of the running portal behind
/// one `Arc` ([`Shared`], reached through `Deref`), so handing the services to each request
/// and server function is two reference counts, not a copy of every setting.
#[derive(Clone)]
pub struct Services {
    pub clock: Arc<dyn Clock>,
    shared: Arc<Shared>,
}

impl std::ops::Deref for Services {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.shared
    }
}

/// The portal's services apart from the clock (see [`Services`]).
#[derive(Clone)]
pub struct Shared {
    pub db: Db,
    pub public_url: String,
    pub data_dir: PathBuf,
    /// One per core: bounds the CPU-heavy jobs run on blocking threads — argon2 hashes (each
    /// 19 MiB and a core for ~20 ms, so hashing never holds more than cores × 19 MiB) and the
    /// key, signature and PKCS#12 of each pickup.
    pub cpu_permits: Arc<tokio::sync::Semaphore>,
    /// argon2 work areas (19 MiB each) kept for reuse: at most one per permit, made when
    /// first needed (none at start).
    pub work_areas: Arc<std::sync::Mutex<Vec<super::passwords::WorkArea>>>,
    /// A real argon2id hash of a random password: unknown accounts are verified against it
    /// so they take as long as known ones.
    pub dummy_hash: String,
    pub webauthn: Arc<webauthn_rs::Webauthn>,
    /// What the OCSP responder answered since start (per process).
    pub ocsp_stats: Arc<super::ocsp::OcspStats>,
    /// The CA: signers, rotation, CRLs, PINs.
    pub authority: Authority,
    /// Faults tests arm to prove atomicity (inert without the `test-hooks` feature).
    pub faults: super::faults::Faults,
    /// Signs `.mobileconfig` profiles when a certificate and key are configured.
    pub profile_signer: Option<Arc<super::profile_sign::ProfileSigner>>,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` headers are believed.
    pub trusted_proxies: Arc<super::client_addr::TrustedProxies>,
    /// Anonymous passkey sign-in starts per address (see `auth::StartLimiter`).
    pub passkey_starts: Arc<super::auth::StartLimiter>,
    /// What `/metrics` shows (per process).
    pub metrics: Arc<super::metrics::Metrics>,
    /// Reminder thresholds; the first also marks certificates as "expiring" in the portal.
    pub thresholds: crate::domain::reminders::Thresholds,
    /// The SMTP sender, when `smtp_host` is set (reminders are off without it).
    pub mailer: Option<Arc<super::mail::Mailer>>,
    /// When set, `/metrics` needs `Authorization: Bearer <this>`.
    pub metrics_token: Option<Secret>,
    /// The zone times are shown in when neither the user nor their browser chose one.
    pub time_zone: crate::zone::Zone,
    /// Set once an active administrator is known to exist. It never goes back: the last
    /// active administrator can be neither demoted nor deactivated. Spares the anonymous
    /// start page a count over the users on every request.
    pub admin_seen: Arc<std::sync::atomic::AtomicBool>,
    /// Which of the directory's SCIM groups carry the administrator role or renewal.
    pub scim: Arc<super::scim::ScimConfig>,
    /// The company's OpenID provider, when `oidc_issuer` is set.
    pub oidc: Option<Arc<super::oidc::Oidc>>,
    /// What the admin directory shows beside each page, read again only when something
    /// changed ([`super::db::Kept`]): the department paths, the policy for the default end
    /// date, and the weekly digest's numbers on the admin start page.
    pub shown: Arc<Shown>,
}

/// See [`Services::shown`].
#[derive(Default)]
pub struct Shown {
    pub departments: super::db::Kept<Vec<String>>,
    pub policy: super::db::Kept<crate::domain::policy::Policy>,
    pub digest: super::db::Kept<super::db::DigestCounts>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

/// The WebAuthn relying party for a public URL: its host is the RP id, the URL the origin.
pub fn webauthn_for(public_url: &str) -> Result<webauthn_rs::Webauthn, ServiceError> {
    let url = url::Url::parse(public_url).map_err(|e| ServiceError::BadPublicUrl(e.to_string()))?;
    let host = url
        .host_str()
        .ok_or_else(|| ServiceError::BadPublicUrl("no host".into()))?
        .to_string();
    webauthn_rs::WebauthnBuilder::new(&host, &url)
        .and_then(|b| b.rp_name("certportal").build())
        .map_err(|e| ServiceError::BadPublicUrl(e.to_string()))
}

impl Services {
    /// Connects, migrates (a failure stops start-up), and makes sure a CA exists.
    pub async fn start(
        cfg: &ServicesConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Services, ServiceError> {
        let db = Db::connect_with_pool(&cfg.database_url, cfg.database_max_connections).await?;
        db.migrate().await?;
        let db2 = db.clone();
        let public_url = cfg.public_url.trim_end_matches('/').to_string();
        let webauthn = Arc::new(webauthn_for(&public_url)?);
        let dummy_hash = tokio::task::spawn_blocking(|| {
            super::passwords::hash_blocking(&super::ids::new_token())
        })
        .await
        .map_err(|e| ServiceError::Io {
            path: "argon2".into(),
            cause: e.to_string(),
        })?
        .map_err(|e| ServiceError::Io {
            path: "argon2".into(),
            cause: e.to_string(),
        })?;
        let permits = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let services = Services {
            clock,
            shared: Arc::new(Shared {
                db,
                public_url,
                cpu_permits: Arc::new(tokio::sync::Semaphore::new(permits)),
                work_areas: Arc::default(),
                dummy_hash,
                webauthn,
                data_dir: cfg.data_dir.clone(),
                authority: Authority::new(db2, cfg.data_dir.clone(), cfg.ca_passphrase.clone()),
                ocsp_stats: Arc::default(),
                faults: Default::default(),
                profile_signer: None,
                trusted_proxies: Arc::default(),
                passkey_starts: Arc::default(),
                metrics: Arc::default(),
                thresholds: Default::default(),
                time_zone: Default::default(),
                admin_seen: Default::default(),
                scim: Default::default(),
                oidc: None,
                mailer: None,
                metrics_token: None,
                shown: Arc::default(),
            }),
        };
        services
            .authority
            .ensure_ca(&cfg.ca_common_name, services.now())
            .await?;
        services.authority.ensure_pin_key(services.now()).await?;
        Ok(services)
    }

    /// These services with the clock read once: every use case of one request or command
    /// sees the same instant (STYLE: one clock reading per request, at the edge).
    pub fn at_now(self) -> Services {
        Services {
            clock: Arc::new(FixedClock(self.clock.now())),
            ..self
        }
    }

    /// The services' settings, to change at start-up, before the services are shared (a
    /// change made later is made to a copy, which only this handle sees).
    pub fn settings_mut(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.shared)
    }

    /// Whether first-run setup is still needed (no active administrator). Counted until an
    /// administrator exists, then answered from memory.
    pub async fn setup_needed(&self) -> Result<bool, super::db::DbError> {
        use std::sync::atomic::Ordering;
        if self.admin_seen.load(Ordering::Acquire) {
            return Ok(false);
        }
        let mut c = self.conn().await?;
        let none = super::db::count_admins(&mut c).await? == 0;
        if !none {
            self.admin_seen.store(true, Ordering::Release);
        }
        Ok(none)
    }

    /// Whether the portal is served over HTTPS (cookies get `Secure` and `__Host-`).
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// A pooled connection for reads.
    pub async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, DbError> {
        Ok(self.db.pool().acquire().await?)
    }

    /// The policy in force (defaults until an administrator changes something).
    pub async fn policy(&self, c: &mut Conn) -> Result<Policy, ServiceError> {
        super::authority::load_policy(c).await
    }

    /// The unlocked signer of a CA.
    pub async fn signer(&self, ca_id: &str) -> Result<Arc<super::ca::CaSigner>, ServiceError> {
        self.authority.signer(ca_id).await
    }

    /// A CA's signer, read on the caller's connection if not unlocked yet (see
    /// [`Authority::signer_in`]): what code holding a transaction uses.
    pub async fn signer_in(
        &self,
        c: &mut Conn,
        ca_id: &str,
    ) -> Result<Arc<super::ca::CaSigner>, ServiceError> {
        self.authority.signer_in(c, ca_id).await
    }

    /// The id of the CA that signs new certificates.
    pub async fn current_ca_id(&self, c: &mut Conn) -> Result<String, ServiceError> {
        self.authority.current_ca_id(c).await
    }

    /// Rule 13 at this request's time (see [`Authority::rotate`]).
    pub async fn rotate_ca(
        &self,
        actor: &super::audit::Actor,
        common_name: Option<&crate::domain::validate::CaName>,
    ) -> Result<super::db::CaRow, ServiceError> {
        self.authority.rotate(actor, common_name, self.now()).await
    }

    /// Rule 5: the PIN of a one-time link (see [`Authority::pin_for_token`]).
    pub fn pin_for_token(&self, token: &str) -> Result<String, ServiceError> {
        self.authority.pin_for_token(token)
    }
}
