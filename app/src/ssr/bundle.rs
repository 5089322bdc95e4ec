//! PKCS#12 bundles: the legacy form (PBE-SHA1-3DES, SHA-1 MAC) that iOS, macOS, older
//! Android and Windows accept, and the modern form (PBES2 AES-256-CBC, PBKDF2-SHA256,
//! SHA-256 MAC). Every bundle is parsed back with its PIN before it is handed out.

use crate::domain::policy::P12Form;
use p12_keystore::{
    Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, Pkcs12ImportPolicy,
    PrivateKey, PrivateKeyChain,
};
use sha2::{Digest, Sha256};

/// Key-derivation rounds for the legacy form (what OpenSSL used by default for years).
pub const LEGACY_ROUNDS: u32 = 2048;
/// Key-derivation rounds for the modern form.
pub const MODERN_ROUNDS: u32 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("an empty bundle password is never allowed")]
    EmptyPassword,
    #[error("PKCS#12 encoding failed: {0}")]
    Encode(String),
    #[error("the bundle did not read back correctly: {0}")]
    ParseBack(String),
}

/// Builds a PKCS#12 with the key, the leaf certificate and the CA certificate, then parses
/// it back with `password` and checks that it holds exactly that key and certificate.
pub fn build_p12(
    form: P12Form,
    password: &str,
    key_pkcs8: &[u8],
    cert_der: &[u8],
    ca_der: &[u8],
    friendly_name: &str,
) -> Result<Vec<u8>, BundleError> {
    if password.is_empty() {
        return Err(BundleError::EmptyPassword);
    }
    let enc = |e: p12_keystore::error::Error| BundleError::Encode(e.to_string());
    let leaf = Certificate::from_der(cert_der).map_err(enc)?;
    let ca = Certificate::from_der(ca_der).map_err(enc)?;
    let key = PrivateKey::from_der(key_pkcs8).map_err(enc)?;
    let local_key_id: Vec<u8> = Sha256::digest(cert_der)[..20].to_vec();
    let chain = PrivateKeyChain::new(local_key_id, key, [leaf, ca]);
    let mut ks = KeyStore::new();
    ks.add_entry(friendly_name, KeyStoreEntry::PrivateKeyChain(chain));
    let writer = ks.writer(password);
    let writer = match form {
        P12Form::Legacy => writer
            .encryption_algorithm(EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc)
            .encryption_iterations(LEGACY_ROUNDS)
            .mac_algorithm(MacAlgorithm::HmacSha1)
            .mac_iterations(LEGACY_ROUNDS),
        P12Form::Modern => writer
            .encryption_algorithm(EncryptionAlgorithm::PbeWithHmacSha256AndAes256)
            .encryption_iterations(MODERN_ROUNDS)
            .mac_algorithm(MacAlgorithm::HmacSha256)
            .mac_iterations(MODERN_ROUNDS),
    };
    let bytes = writer.write().map_err(enc)?;
    check_p12(&bytes, password, cert_der, key_pkcs8)?;
    Ok(bytes)
}

/// Opens a bundle with `password` and checks it carries `cert_der` with `key_pkcs8`.
pub fn check_p12(
    bytes: &[u8],
    password: &str,
    cert_der: &[u8],
    key_pkcs8: &[u8],
) -> Result<(), BundleError> {
    let ks = KeyStore::from_pkcs12(bytes, password, Pkcs12ImportPolicy::Strict)
        .map_err(|e| BundleError::ParseBack(e.to_string()))?;
    let (_, chain) = ks
        .private_key_chain()
        .ok_or_else(|| BundleError::ParseBack("no private key".into()))?;
    let leaf = chain
        .certs()
        .first()
        .ok_or_else(|| BundleError::ParseBack("no certificate".into()))?;
    if leaf.as_der() != cert_der {
        return Err(BundleError::ParseBack("wrong certificate".into()));
    }
    if chain.key().as_der() != key_pkcs8 {
        return Err(BundleError::ParseBack("wrong key".into()));
    }
    Ok(())
}
