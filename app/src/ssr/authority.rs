//! The certificate authority: the unlocked CA keys of this process, creating the first CA,
//! rolling it (rule 13), publishing CRLs, the encrypted key backups and the PIN key. Separate
//! from the [`Services`](super::services::Services) container so that the CA's secrets sit
//! behind one small type that depends on nothing but the database.

use super::audit::{self, action, Actor};
use super::ca::{self, CaSigner, Secret};
use super::db::{self, Conn, Db, DbError};
use super::pin_key::{self, PinKey};
use super::scep::Ra;
use super::services::ServiceError;
use crate::domain::policy::Policy;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// The CA side of the portal. Cheap to clone (shared state behind `Arc`s).
#[derive(Clone)]
pub struct Authority {
    db: Db,
    data_dir: PathBuf,
    passphrase: Secret,
    signers: Arc<RwLock<HashMap<String, Arc<CaSigner>>>>,
    pin_key: Arc<std::sync::OnceLock<PinKey>>,
    ras: Arc<RwLock<HashMap<String, Arc<Ra>>>>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority").finish_non_exhaustive()
    }
}

/// The policy in force (defaults until an administrator changes something).
pub async fn load_policy(c: &mut Conn) -> Result<Policy, ServiceError> {
    match db::get_setting(c, "policy").await? {
        None => Ok(Policy::default()),
        Some(json) => {
            let p: Policy =
                serde_json::from_str(&json).map_err(|e| ServiceError::BadPolicy(e.to_string()))?;
            p.validate()
                .map_err(|e| ServiceError::BadPolicy(e.to_string()))?;
            Ok(p)
        }
    }
}

impl Authority {
    pub fn new(db: Db, data_dir: PathBuf, passphrase: Secret) -> Authority {
        Authority {
            db,
            data_dir,
            passphrase,
            signers: Arc::new(RwLock::new(HashMap::new())),
            pin_key: Arc::default(),
            ras: Arc::default(),
        }
    }

    pub(crate) async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, DbError> {
        Ok(self.db.pool().acquire().await?)
    }

    /// Rule 5: the PIN of a one-time link, HMAC-SHA256 of the token under the portal's own
    /// PIN key (see [`super::pin_key`]), never under the CA passphrase. Never stored; neither
    /// the database nor a photo of the QR code alone gives it.
    pub fn pin_for_token(&self, token: &str) -> Result<String, ServiceError> {
        self.pin_key
            .get()
            .map(|k| k.pin(token))
            .ok_or(ServiceError::NoPinKey)
    }

    /// The PIN of a "Create & Download" bundle (see [`PinKey::handover_pin`]).
    pub fn pin_for_handover(&self, enrollment_id: &str) -> Result<String, ServiceError> {
        self.pin_key
            .get()
            .map(|k| k.handover_pin(enrollment_id))
            .ok_or(ServiceError::NoPinKey)
    }

    /// The SCEP challenge of a link's profile (see [`PinKey::scep_challenge`]).
    pub fn scep_challenge(&self, link_id: &str) -> Result<String, ServiceError> {
        self.pin_key
            .get()
            .map(|k| k.scep_challenge(link_id))
            .ok_or(ServiceError::NoPinKey)
    }

    /// The SCEP registration authority of a CA: loaded from the database, or made (an RSA-2048
    /// certificate the CA issues) and stored the first time, its key sealed under the
    /// portal's secret key. Several instances may race: the first insert wins and everyone
    /// reads that one back. A rotated CA gets its own RA.
    pub async fn scep_ra(&self, ca_id: &str, now: i64) -> Result<Arc<Ra>, ServiceError> {
        if let Some(ra) = self.ras.read().ok().and_then(|m| m.get(ca_id).cloned()) {
            return Ok(ra);
        }
        let key = self.pin_key.get().cloned().ok_or(ServiceError::NoPinKey)?;
        let purpose = format!("scep-ra:{ca_id}");
        let mut c = self.conn().await?;
        let stored = db::scep_ra(&mut c, ca_id).await?;
        let ca_row = db::ca_by_id(&mut c, ca_id)
            .await?
            .ok_or_else(|| ServiceError::UnknownCa(ca_id.to_string()))?;
        drop(c);
        let (cert_der, sealed) = match stored {
            Some(found) => found,
            None => {
                let signer = self.signer(ca_id).await?;
                let (cert_der, key_der) = tokio::task::spawn_blocking(move || {
                    ca::issue_ra(&signer, now, ca_row.not_after)
                })
                .await
                .map_err(|e| ServiceError::Io {
                    path: "scep ra".into(),
                    cause: e.to_string(),
                })??;
                let sealed = key.seal_blob(&purpose, &key_der)?;
                let mut c = self.conn().await?;
                db::insert_scep_ra(&mut c, ca_id, &cert_der, &sealed, now).await?;
                db::scep_ra(&mut c, ca_id)
                    .await?
                    .ok_or_else(|| ServiceError::UnknownCa(ca_id.to_string()))?
            }
        };
        let key_der = key.open_blob(&purpose, &sealed)?;
        let ra = Arc::new(Ra::new(&cert_der, &key_der)?);
        if let Ok(mut m) = self.ras.write() {
            m.insert(ca_id.to_string(), ra.clone());
        }
        Ok(ra)
    }

    /// Loads the PIN key, or makes it on the first start: a random key sealed under the
    /// passphrase, stored in the database so every instance shares it. Several instances may
    /// race; the insert elects one key. Links made before the key existed (an upgrade) are
    /// voided in the same transaction, since their PINs would no longer match.
    pub async fn ensure_pin_key(&self, now: i64) -> Result<(), ServiceError> {
        let mut c = self.conn().await?;
        let stored = db::get_setting(&mut c, pin_key::SETTING).await?;
        drop(c);
        let key = match stored {
            Some(sealed) => self.open_pin_key(sealed).await?,
            None => {
                let pass = self.passphrase.clone();
                let (key, sealed) = tokio::task::spawn_blocking(move || {
                    let k = PinKey::generate()?;
                    let sealed = k.seal(&pass)?;
                    Ok::<_, super::ca::CaError>((k, sealed))
                })
                .await
                .map_err(|e| ServiceError::Io {
                    path: "pin key".into(),
                    cause: e.to_string(),
                })??;
                let mut tx = self.db.begin().await?;
                if db::insert_setting_if_absent(&mut tx, pin_key::SETTING, &sealed).await? {
                    let voided = db::link_rows::void_all_open_links(&mut tx, now).await?;
                    audit::record(
                        &mut tx,
                        now,
                        &Actor::system(),
                        action::PIN_KEY_CREATE,
                        None,
                        None,
                        None,
                        &format!("links_voided={voided}"),
                    )
                    .await?;
                    tx.commit().await.map_err(DbError::from)?;
                    key
                } else {
                    tx.rollback().await.map_err(DbError::from)?;
                    let mut c = self.conn().await?;
                    let sealed = db::get_setting(&mut c, pin_key::SETTING)
                        .await?
                        .ok_or(ServiceError::NoPinKey)?;
                    drop(c);
                    self.open_pin_key(sealed).await?
                }
            }
        };
        // Set once per process; a second call (none today) keeps the first key.
        let _ = self.pin_key.set(key);
        Ok(())
    }

    async fn open_pin_key(&self, sealed: String) -> Result<PinKey, ServiceError> {
        let pass = self.passphrase.clone();
        // PBKDF2 with 600k rounds: keep it off the async worker threads.
        Ok(
            tokio::task::spawn_blocking(move || PinKey::open(&sealed, &pass))
                .await
                .map_err(|e| ServiceError::Io {
                    path: "pin key".into(),
                    cause: e.to_string(),
                })??,
        )
    }

    /// Creates the first CA if there is none. Several instances may race here: the insert of
    /// the `current_ca_id` setting elects one winner and the others load its CA.
    pub async fn ensure_ca(&self, common_name: &str, now: i64) -> Result<(), ServiceError> {
        let mut c = self.conn().await?;
        if let Some(id) = db::current_ca_id(&mut c).await? {
            drop(c);
            self.signer(&id).await?;
            return Ok(());
        }
        drop(c);
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
        let policy = load_policy(&mut tx).await?;
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
    pub async fn rotate(
        &self,
        actor: &Actor,
        common_name: Option<&crate::domain::validate::CaName>,
        now: i64,
    ) -> Result<db::CaRow, ServiceError> {
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
        let policy = load_policy(&mut tx).await?;
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

    /// The unlocked signer of a CA (decrypting its key once per process). Inside a
    /// transaction use [`Authority::signer_in`]: this one takes a pooled connection of its own
    /// the first time.
    pub async fn signer(&self, ca_id: &str) -> Result<Arc<CaSigner>, ServiceError> {
        if let Some(s) = self.cached(ca_id) {
            return Ok(s);
        }
        let mut c = self.conn().await?;
        self.signer_in(&mut c, ca_id).await
    }

    /// The unlocked signer of a CA, its key read on the caller's connection (its transaction)
    /// the first time: a transaction that needs a CA this process has not unlocked yet (one
    /// retired before a restart, one another instance made current) asks for no second
    /// connection while it holds its own (with a small pool, a few of them at once had waited
    /// on each other until the pool's timeout).
    pub async fn signer_in(
        &self,
        c: &mut Conn,
        ca_id: &str,
    ) -> Result<Arc<CaSigner>, ServiceError> {
        if let Some(s) = self.cached(ca_id) {
            return Ok(s);
        }
        let row = db::ca_by_id(c, ca_id)
            .await?
            .ok_or_else(|| ServiceError::UnknownCa(ca_id.to_string()))?;
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

    fn cached(&self, ca_id: &str) -> Option<Arc<CaSigner>> {
        self.signers.read().ok().and_then(|m| m.get(ca_id).cloned())
    }

    /// The id of the CA that signs new certificates.
    pub async fn current_ca_id(&self, c: &mut Conn) -> Result<String, ServiceError> {
        db::current_ca_id(c).await?.ok_or(ServiceError::NoCa)
    }
}

/// Signs and stores a new CRL for `signer`'s CA with the next CRL number, inside the
/// caller's transaction, and records it in the history. Returns how many entries it lists.
pub async fn publish_crl(
    c: &mut Conn,
    signer: &CaSigner,
    now: i64,
    next_update_days: i64,
) -> Result<usize, ServiceError> {
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
    Ok(entries.len())
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
