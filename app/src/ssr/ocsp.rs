//! OCSP responder (RFC 6960). Every CA the portal ever had answers for its own
//! certificates: the response is signed by that CA's key (no delegated responder is needed,
//! so a TLS server trusting the CA trusts the answer). Requests come by POST
//! (`application/ocsp-request`) or by GET (`/ocsp/<base64 of the DER request>`).
//!
//! The answer for a serial comes straight from the certificates table, so a revocation is
//! visible to OCSP the moment its transaction commits. Responses are produced per request
//! (the nonce is echoed) and are valid for [`RESPONSE_TTL`] seconds.
//!
//! Malformed input never panics: it gets a `malformedRequest` response; a request for an
//! issuer the portal does not know gets `unauthorized`; a database failure `internalError`.

use super::authority::Authority;
use super::ca::{CaError, CaSigner};
use super::db::{self, CertificateRow};
use crate::domain::lifecycle::{RevocationReason, State};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;
use x509_cert::der::asn1::{BitString, GeneralizedTime, ObjectIdentifier, OctetString};
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::CrlReason;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse,
    OcspResponseStatus, ResponderId, ResponseData, RevokedInfo, SingleResponse, Version,
};

/// How long a response may be relied on (its `nextUpdate`). Short, because TLS servers that
/// cache responses (nginx `ssl_ocsp_cache`) would accept a revoked certificate until then.
pub const RESPONSE_TTL: i64 = 3600;

/// Largest request accepted (a request for one certificate is about 80 bytes).
pub const MAX_REQUEST: usize = 16 * 1024;
/// Most certificates asked about in one request (clients ask about one); more is a
/// malformed request, so a request's cost stays bounded.
pub const MAX_CERT_IDS: usize = 16;
/// How long the parsed CA list is reused before it is read again (a `CertID` naming no
/// known CA reads it again at once, so a CA made by another instance is found).
pub const ISSUER_CACHE_SECS: i64 = 60;

const ID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_PKIX_OCSP_NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");

/// The status of one certificate as the responder states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertAnswer {
    Good,
    Revoked {
        at: i64,
        reason: Option<RevocationReason>,
    },
    Unknown,
}

impl CertAnswer {
    /// The answer for a stored certificate: issued (even if expired) is good; renewed and
    /// revoked are revoked with their RFC 5280 reason.
    pub fn of(row: &CertificateRow) -> CertAnswer {
        match row.state {
            State::Superseded | State::Revoked => CertAnswer::Revoked {
                at: row.revoked_at.unwrap_or(row.created_at),
                reason: row
                    .revocation_reason
                    .as_deref()
                    .and_then(|r| RevocationReason::parse(r).ok()),
            },
            _ => CertAnswer::Good,
        }
    }
}

/// A CA as the responder matches it: the hashes of its name and key (RFC 6960 `CertID`).
#[derive(Debug, Clone)]
pub struct IssuerKey {
    pub ca_id: String,
    name_der: Vec<u8>,
    key_bits: Vec<u8>,
}

impl IssuerKey {
    /// From a CA certificate (DER).
    pub fn from_cert(ca_id: &str, cert_der: &[u8]) -> Result<IssuerKey, CaError> {
        let (_, x) = x509_parser::parse_x509_certificate(cert_der)
            .map_err(|e| CaError::Encoding(e.to_string()))?;
        Ok(IssuerKey {
            ca_id: ca_id.to_string(),
            name_der: x.tbs_certificate.subject.as_raw().to_vec(),
            key_bits: x.public_key().subject_public_key.data.to_vec(),
        })
    }

    /// SHA-1 of the public key bits: the responder id (`byKey`).
    fn key_sha1(&self) -> Vec<u8> {
        Sha1::digest(&self.key_bits).to_vec()
    }

    /// Whether `id` names this CA (SHA-1 or SHA-256 `CertID`; other hashes never match).
    pub fn matches(&self, id: &CertId) -> bool {
        let (name, key): (Vec<u8>, Vec<u8>) = if id.hash_algorithm.oid == ID_SHA1 {
            (
                Sha1::digest(&self.name_der).to_vec(),
                Sha1::digest(&self.key_bits).to_vec(),
            )
        } else if id.hash_algorithm.oid == ID_SHA256 {
            (
                Sha256::digest(&self.name_der).to_vec(),
                Sha256::digest(&self.key_bits).to_vec(),
            )
        } else {
            return false;
        };
        id.issuer_name_hash.as_bytes() == name.as_slice()
            && id.issuer_key_hash.as_bytes() == key.as_slice()
    }
}

/// Parses a DER `OCSPRequest`. Trailing bytes, an empty request list and anything that is
/// not DER are refused.
pub fn parse_request(der: &[u8]) -> Option<OcspRequest> {
    if der.len() > MAX_REQUEST {
        return None;
    }
    let req = OcspRequest::from_der(der).ok()?;
    let n = req.tbs_request.request_list.len();
    if n == 0 || n > MAX_CERT_IDS {
        return None;
    }
    Some(req)
}

/// The serial of a `CertID` in the portal's notation (upper-case hex, no leading zero byte).
pub fn serial_hex(id: &CertId) -> String {
    let bytes = id.serial_number.as_bytes();
    let trimmed = match bytes {
        [0, rest @ ..] if !rest.is_empty() => rest,
        b => b,
    };
    hex::encode_upper(trimmed)
}

/// A DER `OCSPRequest` for one serial of the CA `issuer` (SHA-1 `CertID`, as `openssl ocsp`
/// sends it; no nonce): for monitoring probes, tests and benchmarks.
pub fn request_for(issuer: &IssuerKey, serial_hex: &str) -> Result<Vec<u8>, CaError> {
    let serial = hex::decode(serial_hex).map_err(|e| CaError::Encoding(e.to_string()))?;
    let req = OcspRequest {
        tbs_request: x509_ocsp::TbsRequest {
            version: Version::V1,
            requestor_name: None,
            request_list: vec![x509_ocsp::Request {
                req_cert: CertId {
                    hash_algorithm: AlgorithmIdentifierOwned {
                        oid: ID_SHA1,
                        parameters: None,
                    },
                    issuer_name_hash: OctetString::new(Sha1::digest(&issuer.name_der).to_vec())
                        .map_err(der_err)?,
                    issuer_key_hash: OctetString::new(issuer.key_sha1()).map_err(der_err)?,
                    serial_number: x509_cert::serial_number::SerialNumber::new(&serial)
                        .map_err(der_err)?,
                },
                single_request_extensions: None,
            }],
            request_extensions: None,
        },
        optional_signature: None,
    };
    req.to_der().map_err(der_err)
}

/// The status in a successful DER response's first entry (`None` for error responses or
/// anything undecodable). Does not check the signature: that is `openssl ocsp`'s job in the
/// tests.
pub fn first_status(response_der: &[u8]) -> Option<CertAnswer> {
    let r = OcspResponse::from_der(response_der).ok()?;
    let bytes = r.response_bytes?;
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).ok()?;
    let single = basic.tbs_response_data.responses.first()?;
    Some(match single.cert_status {
        CertStatus::Good(_) => CertAnswer::Good,
        CertStatus::Unknown(_) => CertAnswer::Unknown,
        CertStatus::Revoked(info) => CertAnswer::Revoked {
            at: i64::try_from(info.revocation_time.0.to_unix_duration().as_secs()).unwrap_or(0),
            reason: None,
        },
    })
}

/// An unsuccessful response (`malformedRequest`, `internalError`, `unauthorized`, ...).
pub fn error_response(status: OcspResponseStatus) -> Vec<u8> {
    let r = OcspResponse {
        response_status: status,
        response_bytes: None,
    };
    // Encoding two fixed bytes cannot fail; the fallback is the same DER written out.
    r.to_der()
        .unwrap_or_else(|_| vec![0x30, 0x03, 0x0a, 0x01, status as u8])
}

fn gtime(unix: i64) -> Result<OcspGeneralizedTime, CaError> {
    let secs = u64::try_from(unix.max(0)).unwrap_or(0);
    GeneralizedTime::from_unix_duration(Duration::from_secs(secs))
        .map(OcspGeneralizedTime)
        .map_err(|e| CaError::Encoding(e.to_string()))
}

fn crl_reason(r: RevocationReason) -> CrlReason {
    match r {
        RevocationReason::Unspecified => CrlReason::Unspecified,
        RevocationReason::KeyCompromise => CrlReason::KeyCompromise,
        RevocationReason::CaCompromise => CrlReason::CaCompromise,
        RevocationReason::AffiliationChanged => CrlReason::AffiliationChanged,
        RevocationReason::Superseded => CrlReason::Superseded,
        RevocationReason::CessationOfOperation => CrlReason::CessationOfOperation,
        RevocationReason::PrivilegeWithdrawn => CrlReason::PrivilegeWithdrawn,
        RevocationReason::AaCompromise => CrlReason::AaCompromise,
    }
}

fn der_err(e: x509_cert::der::Error) -> CaError {
    CaError::Encoding(e.to_string())
}

/// Builds and signs a successful response: one `SingleResponse` per request entry, in
/// order, with `answers[i]` for entry `i`; the request's nonce is echoed.
pub fn sign_response(
    signer: &CaSigner,
    issuer: &IssuerKey,
    req: &OcspRequest,
    answers: &[CertAnswer],
    now: i64,
) -> Result<Vec<u8>, CaError> {
    let mut responses = Vec::with_capacity(answers.len());
    for (r, a) in req.tbs_request.request_list.iter().zip(answers) {
        let cert_status = match *a {
            CertAnswer::Good => CertStatus::good(),
            CertAnswer::Unknown => CertStatus::unknown(),
            CertAnswer::Revoked { at, reason } => CertStatus::revoked(RevokedInfo {
                revocation_time: gtime(at)?,
                revocation_reason: reason.map(crl_reason),
            }),
        };
        responses.push(SingleResponse {
            cert_id: r.req_cert.clone(),
            cert_status,
            this_update: gtime(now)?,
            next_update: Some(gtime(now + RESPONSE_TTL)?),
            single_extensions: None,
        });
    }
    let nonce: Vec<_> = req
        .tbs_request
        .request_extensions
        .iter()
        .flatten()
        .filter(|e| e.extn_id == ID_PKIX_OCSP_NONCE)
        .cloned()
        .collect();
    let tbs = ResponseData {
        version: Version::V1,
        responder_id: ResponderId::ByKey(OctetString::new(issuer.key_sha1()).map_err(der_err)?),
        produced_at: gtime(now)?,
        responses,
        response_extensions: (!nonce.is_empty()).then_some(nonce),
    };
    let tbs_der = tbs.to_der().map_err(der_err)?;
    let (alg, sig) = signer.sign_raw(&tbs_der)?;
    let basic = BasicOcspResponse {
        tbs_response_data: tbs,
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: ObjectIdentifier::new(alg).map_err(|e| CaError::Encoding(e.to_string()))?,
            parameters: None,
        },
        signature: BitString::from_bytes(&sig).map_err(der_err)?,
        certs: None,
    };
    OcspResponse::successful(basic)
        .and_then(|r| r.to_der())
        .map_err(der_err)
}

/// Counters of what the responder answered since this process started (shown to admins
/// and on `/metrics`).
#[derive(Debug, Default)]
pub struct OcspStats {
    pub good: AtomicU64,
    pub revoked: AtomicU64,
    pub unknown: AtomicU64,
    pub malformed: AtomicU64,
    pub unauthorized: AtomicU64,
    pub errors: AtomicU64,
    pub last_answer_at: AtomicI64,
    /// The CAs, parsed, and when they were read.
    issuers: std::sync::Mutex<Option<(i64, std::sync::Arc<Vec<IssuerKey>>)>>,
}

/// A snapshot of [`OcspStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OcspCounts {
    pub good: u64,
    pub revoked: u64,
    pub unknown: u64,
    pub malformed: u64,
    pub unauthorized: u64,
    pub errors: u64,
    pub last_answer_at: Option<i64>,
}

impl OcspStats {
    pub fn snapshot(&self) -> OcspCounts {
        let last = self.last_answer_at.load(Ordering::Relaxed);
        OcspCounts {
            good: self.good.load(Ordering::Relaxed),
            revoked: self.revoked.load(Ordering::Relaxed),
            unknown: self.unknown.load(Ordering::Relaxed),
            malformed: self.malformed.load(Ordering::Relaxed),
            unauthorized: self.unauthorized.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            last_answer_at: (last > 0).then_some(last),
        }
    }

    fn count(&self, c: &AtomicU64, now: i64) {
        c.fetch_add(1, Ordering::Relaxed);
        self.last_answer_at.store(now, Ordering::Relaxed);
    }
}

/// Answers one DER request at `now`: the DER `OCSPResponse` to send (always HTTP 200).
pub async fn respond(a: &Authority, stats: &OcspStats, request_der: &[u8], now: i64) -> Vec<u8> {
    let Some(req) = parse_request(request_der) else {
        stats.count(&stats.malformed, now);
        return error_response(OcspResponseStatus::MalformedRequest);
    };
    match answer(a, stats, &req, now).await {
        Ok(Some((der, answers))) => {
            for a in answers {
                let c = match a {
                    CertAnswer::Good => &stats.good,
                    CertAnswer::Revoked { .. } => &stats.revoked,
                    CertAnswer::Unknown => &stats.unknown,
                };
                stats.count(c, now);
            }
            der
        }
        Ok(None) => {
            stats.count(&stats.unauthorized, now);
            error_response(OcspResponseStatus::Unauthorized)
        }
        Err(e) => {
            tracing::error!(error = %e, "OCSP response failed");
            stats.count(&stats.errors, now);
            error_response(OcspResponseStatus::InternalError)
        }
    }
}

/// Answers a GET request: `encoded` is the base64 of the DER request (already
/// percent-decoded); anything that does not decode is a malformed request.
pub async fn respond_get(a: &Authority, stats: &OcspStats, encoded: &str, now: i64) -> Vec<u8> {
    use base64::Engine;
    let cleaned: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
    match base64::engine::general_purpose::STANDARD.decode(cleaned.as_bytes()) {
        Ok(der) => respond(a, stats, &der, now).await,
        Err(_) => {
            stats.count(&stats.malformed, now);
            error_response(OcspResponseStatus::MalformedRequest)
        }
    }
}

/// The signed response, or `None` when no entry names a CA of this portal. One response is
/// signed by one CA: the CA of the first entry the portal knows; entries naming another CA
/// are answered `unknown`.
async fn answer(
    a: &Authority,
    stats: &OcspStats,
    req: &OcspRequest,
    now: i64,
) -> Result<Option<(Vec<u8>, Vec<CertAnswer>)>, Box<dyn std::error::Error + Send + Sync>> {
    let mut c = a.conn().await?;
    let knows_all = |issuers: &[IssuerKey]| {
        req.tbs_request
            .request_list
            .iter()
            .all(|r| issuers.iter().any(|i| i.matches(&r.req_cert)))
    };
    let cached = stats
        .issuers
        .lock()
        .ok()
        .and_then(|g| g.clone())
        .filter(|(at, list)| now - at < ISSUER_CACHE_SECS && now >= *at && knows_all(list))
        .map(|(_, list)| list);
    let issuers = match cached {
        Some(list) => list,
        None => {
            let list = std::sync::Arc::new(
                db::list_cas(&mut c)
                    .await?
                    .iter()
                    .map(|ca| {
                        let der = super::ca::der_of_pem(&ca.cert_pem)?;
                        IssuerKey::from_cert(&ca.id, &der)
                    })
                    .collect::<Result<Vec<_>, CaError>>()?,
            );
            if let Ok(mut g) = stats.issuers.lock() {
                *g = Some((now, list.clone()));
            }
            list
        }
    };
    let Some(issuer) = req
        .tbs_request
        .request_list
        .iter()
        .find_map(|r| issuers.iter().find(|i| i.matches(&r.req_cert)))
    else {
        return Ok(None);
    };
    let mut answers = Vec::with_capacity(req.tbs_request.request_list.len());
    for r in &req.tbs_request.request_list {
        let a = if issuer.matches(&r.req_cert) {
            match db::certificate_by_serial(&mut c, &serial_hex(&r.req_cert)).await? {
                Some(row) if row.ca_id == issuer.ca_id => CertAnswer::of(&row),
                _ => CertAnswer::Unknown,
            }
        } else {
            CertAnswer::Unknown
        };
        answers.push(a);
    }
    drop(c);
    let signer = a.signer(&issuer.ca_id).await?;
    let der = sign_response(&signer, issuer, req, &answers, now)?;
    Ok(Some((der, answers)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssr::ca::{self, Secret};

    #[test]
    fn garbage_is_a_malformed_request_not_a_panic() {
        for bad in [
            &b""[..],
            b"\x30",
            b"\x30\x00",
            b"\x30\x03\x30\x01\x30",
            b"not der at all",
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
        ] {
            assert!(parse_request(bad).is_none(), "{bad:?}");
        }
        assert!(parse_request(&vec![0x30; MAX_REQUEST + 1]).is_none());
        let der = error_response(OcspResponseStatus::MalformedRequest);
        assert_eq!(der, vec![0x30, 0x03, 0x0a, 0x01, 0x01]);
        let back = OcspResponse::from_der(&der).unwrap();
        assert_eq!(back.response_status, OcspResponseStatus::MalformedRequest);
    }

    /// Bounded fuzzing of the parser: random bytes and a real request with bytes flipped,
    /// cut or inserted never panic.
    #[test]
    fn mutated_requests_never_panic() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};
        let pass = Secret::new("test passphrase 123");
        let (row, _) = ca::generate_ca("OCSP CA", 1_700_000_000, &pass).unwrap();
        let der = ca::der_of_pem(&row.cert_pem).unwrap();
        let issuer = IssuerKey::from_cert(&row.id, &der).unwrap();
        let req = request_for(&issuer, "0A").unwrap();
        let n = req.len();
        let mut runner = TestRunner::new(Config {
            cases: 2000,
            ..Config::default()
        });
        runner
            .run(
                &(
                    proptest::collection::vec(any::<u8>(), 0..300),
                    0..n,
                    any::<u8>(),
                    0u8..3,
                ),
                |(random, at, byte, how)| {
                    let _ = parse_request(&random);
                    let mut m = req.clone();
                    match how {
                        0 => m[at] ^= byte | 1,
                        1 => m.truncate(at),
                        _ => m.insert(at, byte),
                    }
                    if let Some(r) = parse_request(&m) {
                        let _ = serial_hex(&r.tbs_request.request_list[0].req_cert);
                    }
                    Ok(())
                },
            )
            .expect("no panic");
    }

    #[test]
    fn a_request_asks_about_a_bounded_number_of_certificates() {
        let pass = Secret::new("test passphrase 123");
        let (row, _) = ca::generate_ca("OCSP CA", 1_700_000_000, &pass).unwrap();
        let der = ca::der_of_pem(&row.cert_pem).unwrap();
        let issuer = IssuerKey::from_cert(&row.id, &der).unwrap();
        let mut req = OcspRequest::from_der(&request_for(&issuer, "0A").unwrap()).unwrap();
        let one = req.tbs_request.request_list[0].clone();
        req.tbs_request.request_list = vec![one.clone(); MAX_CERT_IDS];
        assert!(parse_request(&req.to_der().unwrap()).is_some());
        req.tbs_request.request_list.push(one);
        assert!(
            parse_request(&req.to_der().unwrap()).is_none(),
            "one too many"
        );
    }

    #[test]
    fn signs_a_response_that_decodes_back_with_the_right_statuses() {
        let pass = Secret::new("test passphrase 123");
        let (row, signer) = ca::generate_ca("OCSP CA", 1_700_000_000, &pass).unwrap();
        let der = ca::der_of_pem(&row.cert_pem).unwrap();
        let issuer = IssuerKey::from_cert(&row.id, &der).unwrap();
        let name_hash = OctetString::new(Sha1::digest(&issuer.name_der).to_vec()).unwrap();
        let key_hash = OctetString::new(Sha1::digest(&issuer.key_bits).to_vec()).unwrap();
        let id = |serial: &[u8]| CertId {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: ID_SHA1,
                parameters: None,
            },
            issuer_name_hash: name_hash.clone(),
            issuer_key_hash: key_hash.clone(),
            serial_number: x509_cert::serial_number::SerialNumber::new(serial).unwrap(),
        };
        assert!(issuer.matches(&id(&[1])));
        let mut other = id(&[1]);
        other.issuer_key_hash = OctetString::new(vec![0u8; 20]).unwrap();
        assert!(!issuer.matches(&other));
        assert_eq!(serial_hex(&id(&[0x7f, 0x01])), "7F01");
        let req = OcspRequest {
            tbs_request: x509_ocsp::TbsRequest {
                version: Version::V1,
                requestor_name: None,
                request_list: vec![
                    x509_ocsp::Request {
                        req_cert: id(&[1]),
                        single_request_extensions: None,
                    },
                    x509_ocsp::Request {
                        req_cert: id(&[2]),
                        single_request_extensions: None,
                    },
                ],
                request_extensions: Some(vec![x509_cert::ext::Extension {
                    extn_id: ID_PKIX_OCSP_NONCE,
                    critical: false,
                    extn_value: OctetString::new(vec![4, 2, 0xab, 0xcd]).unwrap(),
                }]),
            },
            optional_signature: None,
        };
        let req = parse_request(&req.to_der().unwrap()).unwrap();
        let answers = [
            CertAnswer::Good,
            CertAnswer::Revoked {
                at: 1_700_000_100,
                reason: Some(RevocationReason::KeyCompromise),
            },
        ];
        let der = sign_response(&signer, &issuer, &req, &answers, 1_700_000_200).unwrap();
        let resp = OcspResponse::from_der(&der).unwrap();
        assert_eq!(resp.response_status, OcspResponseStatus::Successful);
        let bytes = resp.response_bytes.unwrap();
        let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).unwrap();
        let rs = &basic.tbs_response_data.responses;
        assert_eq!(rs[0].cert_status, CertStatus::good());
        match rs[1].cert_status {
            CertStatus::Revoked(info) => {
                assert_eq!(info.revocation_reason, Some(CrlReason::KeyCompromise))
            }
            s => panic!("{s:?}"),
        }
        assert_eq!(
            basic.tbs_response_data.response_extensions.unwrap()[0].extn_value,
            OctetString::new(vec![4, 2, 0xab, 0xcd]).unwrap()
        );
        assert!(!basic.signature.raw_bytes().is_empty());
    }
}
