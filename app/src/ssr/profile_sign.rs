//! Optional signing of the `.mobileconfig` (SPEC.md "Certificates and bundles"): a CMS
//! SignedData around the profile, signed with a configured certificate and key — for example
//! the portal's public TLS certificate — so that iOS and macOS show the profile as
//! "Verified". Without a configured signer profiles are sent unsigned.

use super::scep::{signed_message, ECDSA_WITH_SHA256, RSA_ENCRYPTION};
use cms::cert::x509::der::Decode;
use cms::cert::x509::Certificate;

enum Key {
    Ecdsa(ring::signature::EcdsaKeyPair),
    Rsa(ring::signature::RsaKeyPair),
}

/// A loaded signing certificate (with its chain) and key. `Debug` hides the key.
pub struct ProfileSigner {
    chain: Vec<Certificate>,
    key: Key,
}

impl std::fmt::Debug for ProfileSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileSigner")
            .field("certificates", &self.chain.len())
            .finish_non_exhaustive()
    }
}

/// Why a signer could not be loaded; `cert` says whether the certificate file is at fault
/// (else the key file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerError {
    pub cert: bool,
    pub reason: String,
}

fn bad(cert: bool, reason: impl Into<String>) -> SignerError {
    SignerError {
        cert,
        reason: reason.into(),
    }
}

impl ProfileSigner {
    /// From PEM: the certificate file holds the signing certificate first, then any
    /// intermediates; the key file a PKCS#8 `PRIVATE KEY` (ECDSA P-256 or RSA) that matches it.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<ProfileSigner, SignerError> {
        let mut chain = Vec::new();
        let mut leaf_spki = None;
        for pem in x509_parser::pem::Pem::iter_from_buffer(cert_pem) {
            let pem = pem.map_err(|e| bad(true, format!("not PEM: {e}")))?;
            if pem.label != "CERTIFICATE" {
                continue;
            }
            let c = Certificate::from_der(&pem.contents)
                .map_err(|e| bad(true, format!("not a certificate: {e}")))?;
            if leaf_spki.is_none() {
                let (_, x) = x509_parser::parse_x509_certificate(&pem.contents)
                    .map_err(|e| bad(true, format!("not a certificate: {e}")))?;
                leaf_spki = Some(x.public_key().subject_public_key.data.to_vec());
            }
            chain.push(c);
        }
        let leaf_key = leaf_spki.ok_or_else(|| bad(true, "no CERTIFICATE in the file"))?;
        let key_der = x509_parser::pem::Pem::iter_from_buffer(key_pem)
            .filter_map(Result::ok)
            .find(|p| p.label == "PRIVATE KEY")
            .ok_or_else(|| {
                bad(
                    false,
                    "no PKCS#8 PRIVATE KEY (convert with `openssl pkcs8 -topk8 -nocrypt`)",
                )
            })?
            .contents;
        let rng = ring::rand::SystemRandom::new();
        use ring::signature::KeyPair;
        let (key, public) = match ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            &key_der,
            &rng,
        ) {
            Ok(k) => {
                let public = k.public_key().as_ref().to_vec();
                (Key::Ecdsa(k), public)
            }
            Err(_) => {
                let k = ring::signature::RsaKeyPair::from_pkcs8(&key_der).map_err(|e| {
                    bad(false, format!("neither an ECDSA P-256 nor an RSA key: {e}"))
                })?;
                let public = k.public().as_ref().to_vec();
                (Key::Rsa(k), public)
            }
        };
        if public != leaf_key {
            return Err(bad(false, "the key does not belong to the certificate"));
        }
        Ok(ProfileSigner { chain, key })
    }

    fn raw_sign(&self, msg: &[u8]) -> Result<Vec<u8>, super::scep::ScepError> {
        let rng = ring::rand::SystemRandom::new();
        let failed = |e: ring::error::Unspecified| super::scep::ScepError::Internal(e.to_string());
        match &self.key {
            Key::Ecdsa(k) => k
                .sign(&rng, msg)
                .map(|s| s.as_ref().to_vec())
                .map_err(failed),
            Key::Rsa(k) => {
                let mut sig = vec![0u8; k.public().modulus_len()];
                k.sign(&ring::signature::RSA_PKCS1_SHA256, &rng, msg, &mut sig)
                    .map_err(failed)?;
                Ok(sig)
            }
        }
    }

    /// The profile wrapped in a SignedData (DER), as iOS and macOS accept it.
    pub fn sign(&self, profile: &[u8]) -> Result<Vec<u8>, super::scep::ScepError> {
        let alg = match self.key {
            Key::Ecdsa(_) => ECDSA_WITH_SHA256,
            Key::Rsa(_) => RSA_ENCRYPTION,
        };
        let chain: Vec<&Certificate> = self.chain.iter().collect();
        signed_message(
            &chain,
            alg,
            &|m| self.raw_sign(m),
            Some(profile.to_vec()),
            Vec::new(),
        )
    }
}
