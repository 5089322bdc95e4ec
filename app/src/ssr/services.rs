//! The services every request and command needs, built once at start-up and handed to
//! server functions (Leptos context) and plain routes (axum state): the database, the clock,
//! the unlocked CAs, the policy and the public URL.

use super::audit::{self, action, Actor};
use super::ca::{self, CaError, CaSigner, Secret};
use super::clock::Clock;
use super::db::{self, Conn, Db, DbError};
use crate::domain::policy::Policy;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

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
}

/// What start-up needs to build the services.
#[derive(Debug, Clone)]
pub struct ServicesConfig {
    pub database_url: String,
    pub data_dir: PathBuf,
    pub public_url: String,
    pub ca_passphrase: Secret,
    pub ca_common_name: String,
}

#[derive(Clone)]
pub struct Services {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub public_url: String,
    pub data_dir: PathBuf,
    /// Bounds concurrent argon2 hashes (each takes 19 MiB and a core for ~20 ms).
    pub hash_permits: Arc<tokio::sync::Semaphore>,
    /// A real argon2id hash of a random password: unknown accounts are verified against it
    /// so they take as long as known ones.
    pub dummy_hash: String,
    pub webauthn: Arc<webauthn_rs::Webauthn>,
    /// What the OCSP responder answered since start (per process).
    pub ocsp_stats: Arc<super::ocsp::OcspStats>,
    passphrase: Secret,
    signers: Arc<RwLock<HashMap<String, Arc<CaSigner>>>>,
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
        let db = Db::connect(&cfg.database_url).await?;
        db.migrate().await?;
        let public_url = cfg.public_url.trim_end_matches('/').to_string();
        let webauthn = Arc::new(webauthn_for(&public_url)?);
        let dummy_hash = tokio::task::spawn_blocking(|| {
            super::auth::hash_password_blocking(&super::ids::new_token())
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
            db,
            clock,
            public_url,
            hash_permits: Arc::new(tokio::sync::Semaphore::new(permits)),
            dummy_hash,
            webauthn,
            data_dir: cfg.data_dir.clone(),
            passphrase: cfg.ca_passphrase.clone(),
            signers: Arc::new(RwLock::new(HashMap::new())),
            ocsp_stats: Arc::default(),
        };
        services.ensure_ca(&cfg.ca_common_name).await?;
        Ok(services)
    }

    /// Rule 5: the bundle PIN of a one-time link, derived from the link token with a key only
    /// the portal instances hold (HMAC-SHA256 keyed by the CA passphrase). It is never stored;
    /// the database and a photo of the QR code alone do not give it.
    pub fn pin_for_token(&self, token: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as hmac::digest::KeyInit>::new_from_slice(
            self.passphrase.expose().as_bytes(),
        )
        .unwrap_or_else(|_| {
            // HMAC accepts keys of any length; this branch cannot be taken.
            <Hmac<sha2::Sha256> as hmac::digest::KeyInit>::new(&Default::default())
        });
        mac.update(b"certportal/link-pin/v1\0");
        mac.update(token.as_bytes());
        let d = mac.finalize().into_bytes();
        crate::domain::pin::pin_from_array([d[0], d[1], d[2], d[3], d[4]])
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
        match db::get_setting(c, "policy").await? {
            None => Ok(Policy::default()),
            Some(json) => {
                let p: Policy = serde_json::from_str(&json)
                    .map_err(|e| ServiceError::BadPolicy(e.to_string()))?;
                p.validate()
                    .map_err(|e| ServiceError::BadPolicy(e.to_string()))?;
                Ok(p)
            }
        }
    }

    /// Creates the first CA if there is none. Several instances may race here: the insert of
    /// the `current_ca_id` setting elects one winner and the others load its CA.
    async fn ensure_ca(&self, common_name: &str) -> Result<(), ServiceError> {
        let mut c = self.conn().await?;
        if let Some(id) = db::current_ca_id(&mut c).await? {
            drop(c);
            self.signer(&id).await?;
            return Ok(());
        }
        drop(c);
        let now = self.now();
        let (row, signer) = ca::generate_ca(common_name, now, &self.passphrase)?;
        let mut tx = self.db.begin().await?;
        if !db::insert_setting_if_absent(&mut tx, db::CURRENT_CA_KEY, &row.id).await? {
            tx.rollback().await.map_err(DbError::from)?;
            let mut c = self.conn().await?;
            let id = db::current_ca_id(&mut c).await?.ok_or(ServiceError::NoCa)?;
            drop(c);
            self.signer(&id).await?;
            return Ok(());
        }
        db::insert_ca(&mut tx, &row).await?;
        audit::record(
            &mut tx,
            now,
            &Actor::system(),
            action::CA_CREATE,
            None,
            None,
            None,
            &row.subject,
        )
        .await?;
        let signer = Arc::new(signer);
        let policy = self.policy(&mut tx).await?;
        publish_crl(&mut tx, &signer, now, policy.crl_next_update_days).await?;
        tx.commit().await.map_err(DbError::from)?;
        self.write_key_backup(&row)?;
        self.cache(signer);
        Ok(())
    }

    /// Rule 13: rolls the CA. A new CA (same common name as the current one unless one is
    /// given) becomes current in one transaction with its first CRL and the audit record; the
    /// old CA is marked retired but keeps its CRL, stays on OCSP and can still revoke the
    /// certificates it signed. New bundles carry the new CA.
    pub async fn rotate_ca(
        &self,
        actor: &Actor,
        common_name: Option<&crate::domain::validate::CaName>,
    ) -> Result<db::CaRow, ServiceError> {
        let now = self.now();
        let mut c = self.conn().await?;
        let old_id = self.current_ca_id(&mut c).await?;
        let old = db::ca_by_id(&mut c, &old_id)
            .await?
            .ok_or(ServiceError::NoCa)?;
        drop(c);
        let cn = match common_name {
            Some(n) => n.as_str().to_string(),
            None => old
                .subject
                .strip_prefix("CN=")
                .and_then(|r| r.split(", O=").next())
                .unwrap_or("certportal CA")
                .to_string(),
        };
        let (row, signer) = ca::generate_ca(&cn, now, &self.passphrase)?;
        let mut tx = self.db.begin().await?;
        // Compare-and-set on the current id: of two rotations at once, one wins.
        if !db::swap_current_ca(&mut tx, &old_id, &row.id).await? {
            return Err(ServiceError::Conflict);
        }
        db::insert_ca(&mut tx, &row).await?;
        db::retire_ca(&mut tx, &old_id, now).await?;
        audit::record(
            &mut tx,
            now,
            actor,
            action::CA_ROTATE,
            None,
            None,
            None,
            &format!("old={old_id} new={} subject={}", row.id, row.subject),
        )
        .await?;
        let signer = Arc::new(signer);
        let policy = self.policy(&mut tx).await?;
        publish_crl(&mut tx, &signer, now, policy.crl_next_update_days).await?;
        tx.commit().await.map_err(DbError::from)?;
        self.write_key_backup(&row)?;
        self.cache(signer);
        Ok(row)
    }

    /// Writes the encrypted CA key and certificate to the data directory (mode 0600), so an
    /// operator has a file to back up beside the database.
    fn write_key_backup(&self, row: &db::CaRow) -> Result<(), ServiceError> {
        let dir = self.data_dir.join("ca");
        create_private_dir(&dir)?;
        write_private(
            &dir.join(format!("{}.key.pem", row.id)),
            row.key_pem_encrypted.as_bytes(),
        )?;
        write_private(
            &dir.join(format!("{}.crt.pem", row.id)),
            row.cert_pem.as_bytes(),
        )?;
        Ok(())
    }

    fn cache(&self, signer: Arc<CaSigner>) {
        if let Ok(mut map) = self.signers.write() {
            map.insert(signer.id.clone(), signer);
        }
    }

    /// The unlocked signer of a CA (decrypting its key once per process).
    pub async fn signer(&self, ca_id: &str) -> Result<Arc<CaSigner>, ServiceError> {
        if let Some(s) = self.signers.read().ok().and_then(|m| m.get(ca_id).cloned()) {
            return Ok(s);
        }
        let mut c = self.conn().await?;
        let row = db::ca_by_id(&mut c, ca_id)
            .await?
            .ok_or_else(|| ServiceError::UnknownCa(ca_id.to_string()))?;
        drop(c);
        let pass = self.passphrase.clone();
        // PBKDF2 with 600k rounds: keep it off the async worker threads.
        let signer = tokio::task::spawn_blocking(move || ca::unlock(&row, &pass))
            .await
            .map_err(|e| ServiceError::Io {
                path: "ca".into(),
                cause: e.to_string(),
            })??;
        let signer = Arc::new(signer);
        self.cache(signer.clone());
        Ok(signer)
    }

    /// The id of the CA that signs new certificates.
    pub async fn current_ca_id(&self, c: &mut Conn) -> Result<String, ServiceError> {
        db::current_ca_id(c).await?.ok_or(ServiceError::NoCa)
    }
}

/// Signs and stores a new CRL for `signer`'s CA with the next CRL number, inside the
/// caller's transaction, and records it in the history.
pub async fn publish_crl(
    c: &mut Conn,
    signer: &CaSigner,
    now: i64,
    next_update_days: i64,
) -> Result<Vec<u8>, ServiceError> {
    let number = db::next_crl_number(c, &signer.id).await?;
    let entries = db::revoked_for_ca(c, &signer.id, now).await?;
    let next_update = now + next_update_days * 86_400;
    let der = ca::sign_crl(signer, &entries, number, now, next_update)?;
    db::store_crl(c, &signer.id, &der, now, next_update).await?;
    audit::record(
        c,
        now,
        &Actor::system(),
        action::CRL_PUBLISH,
        None,
        None,
        None,
        &format!("ca={} number={number} entries={}", signer.id, entries.len()),
    )
    .await?;
    Ok(der)
}

/// Creates a directory readable only by the owner.
pub fn create_private_dir(dir: &Path) -> Result<(), ServiceError> {
    let io = |e: std::io::Error| ServiceError::Io {
        path: dir.display().to_string(),
        cause: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    Ok(())
}

/// Writes a file with mode 0600 (created that way, never world-readable for a moment).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ServiceError> {
    use std::io::Write;
    let io = |e: std::io::Error| ServiceError::Io {
        path: path.display().to_string(),
        cause: e.to_string(),
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    Ok(())
}
