//! The certificate authority: creating a CA (ECDSA P-256), keeping its key encrypted at rest
//! (PKCS#8 PBES2: PBKDF2-SHA256 + AES-256-CBC, readable by `openssl pkcs8`), issuing client
//! certificates as SPEC.md describes, and signing CRLs. Pure computation: no database, no
//! clock (times are parameters).

use super::db::{CaRow, RevokedEntry};
use super::ids;
use crate::domain::lifecycle::RevocationReason;
use crate::domain::policy::KeyAlgorithm;
use pkcs8::der::pem::LineEnding;
use pkcs8::der::Decode;
use rand::RngCore;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    DistinguishedName, DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod,
    KeyPair, KeyUsagePurpose, OtherNameValue, RevokedCertParams, SanType, SerialNumber, SigningKey,
};
use std::fmt;

use super::clock::to_offset;

/// PBKDF2 rounds protecting the CA key (OWASP 2023 guidance for PBKDF2-HMAC-SHA256).
pub const KEY_PBKDF2_ROUNDS: u32 = 600_000;
/// Lifetime of a new CA.
pub const CA_VALIDITY_DAYS: i64 = 3650;
/// OID of the UPN otherName (Microsoft).
pub const UPN_OID: [u64; 10] = [1, 3, 6, 1, 4, 1, 311, 20, 2, 3];
/// OID of the LDAP `uid` attribute, used for the login in the subject.
pub const UID_OID: [u64; 7] = [0, 9, 2342, 19200300, 100, 1, 1];

/// A secret string whose `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("the CA key could not be decrypted: wrong CERTPORTAL_CA_PASSPHRASE or damaged key")]
    WrongPassphrase,
    #[error("key encoding failed: {0}")]
    Encoding(String),
    #[error("RSA-2048 keys are not available in this build; use ECDSA P-256")]
    AlgorithmUnavailable,
    #[error("invalid subject: {0}")]
    InvalidSubject(String),
}

/// Whether this build can make RSA-2048 client keys: rcgen's `ring` backend cannot generate
/// them, so the key is made with the `rsa` crate and handed to rcgen as PKCS#8.
pub const RSA_AVAILABLE: bool = true;

/// A fresh RSA-2048 key (for old clients that cannot use ECDSA).
fn rsa_2048() -> Result<KeyPair, CaError> {
    use rsa::pkcs8::EncodePrivateKey;
    let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048)
        .map_err(|e| CaError::Encoding(e.to_string()))?;
    let der = key
        .to_pkcs8_der()
        .map_err(|e| CaError::Encoding(e.to_string()))?;
    KeyPair::try_from(der.as_bytes()).map_err(|e| CaError::Encoding(e.to_string()))
}

/// An unlocked CA, ready to sign. Holds the private key: `Debug` hides it.
pub struct CaSigner {
    pub id: String,
    pub cert_der: Vec<u8>,
    pub cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl fmt::Debug for CaSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaSigner")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl CaSigner {
    /// Signs `msg` with the CA key (for OCSP responses): the signature algorithm's OID and
    /// the signature (ECDSA: DER `Ecdsa-Sig-Value`).
    pub fn sign_raw(&self, msg: &[u8]) -> Result<(&'static str, Vec<u8>), CaError> {
        let key = self.issuer.key();
        if key.algorithm() != &rcgen::PKCS_ECDSA_P256_SHA256 {
            return Err(CaError::AlgorithmUnavailable);
        }
        Ok(("1.2.840.10045.4.3.2", key.sign(msg)?))
    }
}

/// Encrypts a PKCS#8 private key under `passphrase` (PBES2, PBKDF2-SHA256, AES-256-CBC).
pub fn encrypt_key(pkcs8_der: &[u8], passphrase: &Secret) -> Result<String, CaError> {
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    rand::rng().fill_bytes(&mut iv);
    let params =
        pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(KEY_PBKDF2_ROUNDS, &salt, &iv)
            .map_err(|e| CaError::Encoding(e.to_string()))?;
    let info =
        pkcs8::PrivateKeyInfo::from_der(pkcs8_der).map_err(|e| CaError::Encoding(e.to_string()))?;
    let doc = info
        .encrypt_with_params(params, passphrase.expose().as_bytes())
        .map_err(|e| CaError::Encoding(e.to_string()))?;
    doc.to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
        .map(|z| z.to_string())
        .map_err(|e| CaError::Encoding(e.to_string()))
}

/// Decrypts a key made by [`encrypt_key`]; a wrong passphrase is [`CaError::WrongPassphrase`].
pub fn decrypt_key(pem: &str, passphrase: &Secret) -> Result<KeyPair, CaError> {
    let (label, doc) =
        pkcs8::der::SecretDocument::from_pem(pem).map_err(|_| CaError::WrongPassphrase)?;
    if label != "ENCRYPTED PRIVATE KEY" {
        return Err(CaError::WrongPassphrase);
    }
    let enc = pkcs8::EncryptedPrivateKeyInfo::from_der(doc.as_bytes())
        .map_err(|_| CaError::WrongPassphrase)?;
    let plain = enc
        .decrypt(passphrase.expose().as_bytes())
        .map_err(|_| CaError::WrongPassphrase)?;
    KeyPair::try_from(plain.as_bytes()).map_err(|_| CaError::WrongPassphrase)
}

/// PEM text of DER bytes.
pub fn pem(label: &str, der: &[u8]) -> String {
    use pkcs8::der::pem::encode_string;
    encode_string(label, LineEnding::LF, der).unwrap_or_default()
}

/// Creates a new self-signed CA at `now`. Returns the row to store (key encrypted) and the
/// unlocked signer.
pub fn generate_ca(
    common_name: &str,
    now: i64,
    passphrase: &Secret,
) -> Result<(CaRow, CaSigner), CaError> {
    let key = KeyPair::generate()?;
    let id = ids::new_id()[..16].to_string();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, "certportal");
    let mut params = CertificateParams::default();
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    // Client authentication only: a relying party that trusts this CA for client
    // certificates (OpenSSL, Go, webpki/rustls, Windows and Apple all chain EKUs) does not
    // accept a TLS server certificate from it, even if someone had the key sign one.
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.not_before = to_offset(now - 3600);
    params.not_after = to_offset(now + CA_VALIDITY_DAYS * 86_400);
    params.serial_number = Some(SerialNumber::from_slice(&ids::new_serial()));
    params.key_identifier_method = KeyIdMethod::Sha256;
    let cert = params.self_signed(&key)?;
    let der = cert.der().to_vec();
    let row = CaRow {
        id: id.clone(),
        subject: format!("CN={common_name}, O=certportal"),
        cert_pem: cert.pem(),
        key_pem_encrypted: encrypt_key(&key.serialize_der(), passphrase)?,
        fingerprint_sha256: ids::fingerprint(&der),
        not_before: now - 3600,
        not_after: now + CA_VALIDITY_DAYS * 86_400,
        created_at: now,
        retired_at: None,
        crl_number: 0,
        crl_der: None,
        crl_this_update: None,
        crl_next_update: None,
    };
    let issuer = Issuer::new(params, key);
    Ok((
        row.clone(),
        CaSigner {
            id,
            cert_der: der,
            cert_pem: row.cert_pem,
            issuer,
        },
    ))
}

/// Unlocks a stored CA with the passphrase.
pub fn unlock(row: &CaRow, passphrase: &Secret) -> Result<CaSigner, CaError> {
    let key = decrypt_key(&row.key_pem_encrypted, passphrase)?;
    let issuer = Issuer::from_ca_cert_pem(&row.cert_pem, key)?;
    let (_, doc) = pkcs8::der::Document::from_pem(&row.cert_pem)
        .map_err(|e| CaError::Encoding(e.to_string()))?;
    Ok(CaSigner {
        id: row.id.clone(),
        cert_der: doc.as_bytes().to_vec(),
        cert_pem: row.cert_pem.clone(),
        issuer,
    })
}

/// Who a client certificate is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSubject {
    pub display_name: String,
    pub login: String,
    pub email: String,
    pub upn: Option<String>,
}

/// A freshly signed client certificate and its private key (PKCS#8). The key must not be
/// stored: it lives only until the bundle is built.
pub struct IssuedCert {
    pub cert_der: Vec<u8>,
    /// The key made here (`None` when the device made its own).
    /// Wiped from memory when dropped.
    pub key_pkcs8: Option<zeroize::Zeroizing<Vec<u8>>>,
    pub serial_hex: String,
    pub fingerprint_sha256: String,
    pub subject: String,
    pub not_before: i64,
    pub not_after: i64,
}

impl fmt::Debug for IssuedCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedCert")
            .field("serial_hex", &self.serial_hex)
            .field("subject", &self.subject)
            .field("key_pkcs8", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// The CRL URL a certificate of `ca_id` points at.
pub fn crl_url(public_url: &str, ca_id: &str) -> String {
    format!("{}/crl/{ca_id}.crl", public_url.trim_end_matches('/'))
}

/// The OCSP responder URL certificates point at (Authority Information Access).
pub fn ocsp_url(public_url: &str) -> String {
    format!("{}/ocsp", public_url.trim_end_matches('/'))
}

/// The Authority Information Access extension (RFC 5280 4.2.2.1) naming the portal's OCSP
/// responder.
fn aia_ocsp(public_url: &str) -> Result<rcgen::CustomExtension, CaError> {
    use x509_cert::der::asn1::{Ia5String, ObjectIdentifier};
    use x509_cert::der::Encode;
    use x509_cert::ext::pkix::name::GeneralName;
    use x509_cert::ext::pkix::{AccessDescription, AuthorityInfoAccessSyntax};
    let enc = |e: x509_cert::der::Error| CaError::Encoding(e.to_string());
    let aia = AuthorityInfoAccessSyntax(vec![AccessDescription {
        access_method: ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1"),
        access_location: GeneralName::UniformResourceIdentifier(
            Ia5String::new(&ocsp_url(public_url)).map_err(enc)?,
        ),
    }]);
    Ok(rcgen::CustomExtension::from_oid_content(
        &[1, 3, 6, 1, 5, 5, 7, 1, 1],
        aia.to_der().map_err(enc)?,
    ))
}

/// Where a client certificate's key comes from.
pub enum ClientKey<'a> {
    /// Made here for this pickup (PKCS#12); returned once in [`IssuedCert::key_pkcs8`].
    Generate(KeyAlgorithm),
    /// Made on the device (SCEP): its SubjectPublicKeyInfo, DER. The server never sees the
    /// private key.
    Device(&'a [u8]),
}

/// Signs a client certificate (EKU clientAuth, e-mail and optional UPN SAN, random serial,
/// CRL distribution point, OCSP responder in AIA) for a key made here or on the device. The
/// subject always comes from `subject`, whatever a device's request asked for.
pub fn issue_client(
    ca: &CaSigner,
    subject: &ClientSubject,
    key: ClientKey<'_>,
    not_before: i64,
    not_after: i64,
    public_url: &str,
) -> Result<IssuedCert, CaError> {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, subject.display_name.as_str());
    dn.push(
        DnType::CustomDnType(UID_OID.to_vec()),
        DnValue::Utf8String(subject.login.clone()),
    );
    let mut params = CertificateParams::default();
    params.distinguished_name = dn;
    // A user the directory gave no e-mail address gets no rfc822Name.
    if !subject.email.is_empty() {
        let email = subject
            .email
            .clone()
            .try_into()
            .map_err(|_| CaError::InvalidSubject("e-mail must be ASCII".into()))?;
        params.subject_alt_names = vec![SanType::Rfc822Name(email)];
    }
    if let Some(upn) = &subject.upn {
        params.subject_alt_names.push(SanType::OtherName((
            UPN_OID.to_vec(),
            OtherNameValue::Utf8String(upn.clone()),
        )));
    }
    params.is_ca = IsCa::ExplicitNoCa;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.crl_distribution_points = vec![CrlDistributionPoint {
        uris: vec![crl_url(public_url, &ca.id)],
    }];
    params.custom_extensions = vec![aia_ocsp(public_url)?];
    params.use_authority_key_identifier_extension = true;
    params.not_before = to_offset(not_before);
    params.not_after = to_offset(not_after);
    let serial = ids::new_serial();
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    let (cert, key_pkcs8) = match key {
        ClientKey::Generate(algorithm) => {
            let key = match algorithm {
                KeyAlgorithm::EcdsaP256 => KeyPair::generate()?,
                KeyAlgorithm::Rsa2048 => rsa_2048()?,
            };
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            (
                params.signed_by(&key, &ca.issuer)?,
                Some(zeroize::Zeroizing::new(key.serialize_der())),
            )
        }
        ClientKey::Device(spki_der) => {
            let public = rcgen::SubjectPublicKeyInfo::from_der(spki_der)?;
            // An RSA key also decrypts (TLS 1.2 RSA key exchange, Wi-Fi EAP-TLS on old
            // devices); an EC key only signs.
            params.key_usages = if is_rsa_spki(spki_der) {
                vec![
                    KeyUsagePurpose::DigitalSignature,
                    KeyUsagePurpose::KeyEncipherment,
                ]
            } else {
                vec![KeyUsagePurpose::DigitalSignature]
            };
            (params.signed_by(&public, &ca.issuer)?, None)
        }
    };
    let der = cert.der().to_vec();
    Ok(IssuedCert {
        fingerprint_sha256: ids::fingerprint(&der),
        cert_der: der,
        key_pkcs8,
        serial_hex: hex::encode_upper(serial),
        subject: format!("CN={}, UID={}", subject.display_name, subject.login),
        not_before,
        not_after,
    })
}

fn is_rsa_spki(spki_der: &[u8]) -> bool {
    use x509_parser::prelude::FromDer;
    x509_parser::x509::SubjectPublicKeyInfo::from_der(spki_der)
        .map(|(_, k)| k.algorithm.algorithm.to_id_string() == "1.2.840.113549.1.1.1")
        .unwrap_or(false)
}

/// The SCEP registration authority of a CA (RFC 8894 section 2.1): an RSA-2048 certificate
/// the CA issues for decrypting and signing SCEP messages (the CA itself is P-256, which SCEP
/// clients cannot encrypt to). Valid as long as the CA. Returns the certificate and its
/// PKCS#8 key.
pub fn issue_ra(ca: &CaSigner, now: i64, ca_not_after: i64) -> Result<(Vec<u8>, Vec<u8>), CaError> {
    let key = rsa_2048()?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "certportal SCEP RA");
    dn.push(DnType::OrganizationName, "certportal");
    let mut params = CertificateParams::default();
    params.distinguished_name = dn;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.use_authority_key_identifier_extension = true;
    params.not_before = to_offset(now - 300);
    params.not_after = to_offset(ca_not_after);
    params.serial_number = Some(SerialNumber::from_slice(&ids::new_serial()));
    let cert = params.signed_by(&key, &ca.issuer)?;
    Ok((cert.der().to_vec(), key.serialize_der()))
}

fn rcgen_reason(r: RevocationReason) -> rcgen::RevocationReason {
    match r {
        RevocationReason::Unspecified => rcgen::RevocationReason::Unspecified,
        RevocationReason::KeyCompromise => rcgen::RevocationReason::KeyCompromise,
        RevocationReason::CaCompromise => rcgen::RevocationReason::CaCompromise,
        RevocationReason::AffiliationChanged => rcgen::RevocationReason::AffiliationChanged,
        RevocationReason::Superseded => rcgen::RevocationReason::Superseded,
        RevocationReason::CessationOfOperation => rcgen::RevocationReason::CessationOfOperation,
        RevocationReason::PrivilegeWithdrawn => rcgen::RevocationReason::PrivilegeWithdrawn,
        RevocationReason::AaCompromise => rcgen::RevocationReason::AaCompromise,
    }
}

/// Signs a CRL (DER) listing `entries`.
pub fn sign_crl(
    ca: &CaSigner,
    entries: &[RevokedEntry],
    crl_number: i64,
    this_update: i64,
    next_update: i64,
) -> Result<Vec<u8>, CaError> {
    let revoked_certs = entries
        .iter()
        .map(|e| {
            let serial =
                hex::decode(&e.serial_hex).map_err(|e| CaError::Encoding(e.to_string()))?;
            Ok(RevokedCertParams {
                serial_number: SerialNumber::from_slice(&serial),
                revocation_time: to_offset(e.revoked_at),
                reason_code: e.reason.map(rcgen_reason),
                invalidity_date: None,
            })
        })
        .collect::<Result<Vec<_>, CaError>>()?;
    let params = CertificateRevocationListParams {
        this_update: to_offset(this_update),
        next_update: to_offset(next_update),
        crl_number: SerialNumber::from_slice(&crl_number.to_be_bytes()),
        issuing_distribution_point: None,
        revoked_certs,
        key_identifier_method: KeyIdMethod::Sha256,
    };
    Ok(params.signed_by(&ca.issuer)?.der().to_vec())
}

/// DER of a PEM certificate (for parsing and bundles).
pub fn der_of_pem(pem_text: &str) -> Result<Vec<u8>, CaError> {
    let (_, doc) =
        pkcs8::der::Document::from_pem(pem_text).map_err(|e| CaError::Encoding(e.to_string()))?;
    Ok(doc.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_round_trips_only_with_the_passphrase() {
        let key = KeyPair::generate().unwrap();
        let pass = Secret::new("correct horse battery staple");
        let pem = encrypt_key(&key.serialize_der(), &pass).unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        let back = decrypt_key(&pem, &pass).unwrap();
        assert_eq!(back.public_key_raw(), key.public_key_raw());
        assert!(matches!(
            decrypt_key(&pem, &Secret::new("wrong passphrase!")),
            Err(CaError::WrongPassphrase)
        ));
        assert!(!format!("{pass:?}").contains("horse"));
    }

    #[test]
    fn issues_a_client_certificate_with_the_spec_fields() {
        let pass = Secret::new("test passphrase 123");
        let (row, ca) = generate_ca("Test CA", 1_700_000_000, &pass).unwrap();
        let again = unlock(&row, &pass).unwrap();
        let subj = ClientSubject {
            display_name: "Yamada Taro".into(),
            login: "yamada".into(),
            email: "yamada@example.com".into(),
            upn: Some("yamada@corp.example".into()),
        };
        let c = issue_client(
            &again,
            &subj,
            ClientKey::Generate(KeyAlgorithm::EcdsaP256),
            1_700_000_000,
            1_731_536_000,
            "https://p.example",
        )
        .unwrap();
        let (_, x) = x509_parser::parse_x509_certificate(&c.cert_der).unwrap();
        assert_eq!(x.issuer().to_string(), "CN=Test CA, O=certportal");
        assert!(x.subject().to_string().contains("CN=Yamada Taro"));
        assert!(x.raw_serial().len() >= 8);
        assert_eq!(hex::encode_upper(x.raw_serial()), c.serial_hex);
        let eku = x.extended_key_usage().unwrap().unwrap();
        assert!(eku.value.client_auth && !eku.value.server_auth);
        assert_eq!(x.validity().not_after.timestamp(), 1_731_536_000);
        assert_eq!(ca.id, row.id);
        // RSA-2048 for old clients: the subject key is RSA, the CA (P-256) signs.
        let r = issue_client(
            &again,
            &subj,
            ClientKey::Generate(KeyAlgorithm::Rsa2048),
            1_700_000_000,
            1_731_536_000,
            "https://p.example",
        )
        .unwrap();
        let (_, x) = x509_parser::parse_x509_certificate(&r.cert_der).unwrap();
        match x.public_key().parsed().unwrap() {
            x509_parser::public_key::PublicKey::RSA(k) => assert_eq!(k.key_size(), 2048),
            other => panic!("{other:?}"),
        }
    }
}
