//! SCEP messages (RFC 8894): what an iPhone, iPad or Mac sends when it installs the profile's
//! `com.apple.security.scep` payload, and what the portal answers.
//!
//! A `PKCSReq` is a CMS SignedData, signed by the device with the key of its request (a
//! self-signed certificate carries it), whose content is a CMS EnvelopedData encrypted to the
//! portal's registration authority (RA) and holding the PKCS#10 request with its challenge.
//! The answer (`CertRep`) is signed by the RA; on success it carries the issued certificate
//! in a degenerate SignedData encrypted to the device's certificate.
//!
//! This module only parses, checks and builds messages; whether a challenge may enroll, and
//! what the certificate says, is decided by the lifecycle (`links::scep_enroll`).

use cms::cert::x509::attr::Attribute;
use cms::cert::x509::der::asn1::{ObjectIdentifier as Oid, OctetString, SetOfVec};
use cms::cert::x509::der::{Any, Decode, Encode, Tag, Tagged};
use cms::cert::x509::spki::AlgorithmIdentifierOwned;
use cms::cert::x509::Certificate;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, KeyTransRecipientInfo, RecipientIdentifier, RecipientInfo,
    RecipientInfos,
};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};

const ID_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
const ID_ENVELOPED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.3");
const ATTR_CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
const ATTR_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
const SCEP_MESSAGE_TYPE: Oid = Oid::new_unwrap("2.16.840.1.113733.1.9.2");
const SCEP_PKI_STATUS: Oid = Oid::new_unwrap("2.16.840.1.113733.1.9.3");
const SCEP_FAIL_INFO: Oid = Oid::new_unwrap("2.16.840.1.113733.1.9.4");
const SCEP_SENDER_NONCE: Oid = Oid::new_unwrap("2.16.840.1.113733.1.9.5");
const SCEP_RECIPIENT_NONCE: Oid = Oid::new_unwrap("2.16.840.1.113733.1.9.6");
const SCEP_TRANSACTION_ID: Oid = Oid::new_unwrap("2.16.840.1.113733.1.9.7");
pub(crate) const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
pub(crate) const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
const SHA1_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
const DES_CBC: Oid = Oid::new_unwrap("1.3.14.3.2.7");
const DES_EDE3_CBC: Oid = Oid::new_unwrap("1.2.840.113549.3.7");
const AES128_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.2");
const AES192_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.22");
const AES256_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.42");

/// `messageType` of a certificate request and of the answer.
const PKCS_REQ: &str = "19";
const CERT_REP: &str = "3";

/// Messages larger than this are refused before parsing.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// What `GetCACaps` answers: only what is implemented. `SCEPStandard` stands for AES,
/// POSTPKIOperation and SHA-256 (RFC 8894 section 3.5.2); the others are listed for older
/// clients that look for them one by one.
pub const CAPABILITIES: &str = "POSTPKIOperation\nSHA-256\nSHA-512\nAES\nDES3\nSCEPStandard\n";

/// `failInfo` of a refused request (RFC 8894 section 3.2.1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailInfo {
    /// Unrecognised or unsupported algorithm.
    BadAlg,
    /// The integrity check (signature, digest, encryption) failed.
    BadMessageCheck,
    /// The request is not allowed or not supported (unknown or used challenge, weak key…).
    BadRequest,
    BadTime,
    BadCertId,
}

impl FailInfo {
    pub fn code(self) -> &'static str {
        match self {
            FailInfo::BadAlg => "0",
            FailInfo::BadMessageCheck => "1",
            FailInfo::BadRequest => "2",
            FailInfo::BadTime => "3",
            FailInfo::BadCertId => "4",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FailInfo::BadAlg => "badAlg",
            FailInfo::BadMessageCheck => "badMessageCheck",
            FailInfo::BadRequest => "badRequest",
            FailInfo::BadTime => "badTime",
            FailInfo::BadCertId => "badCertId",
        }
    }
}

/// Why a message could not be handled.
#[derive(Debug, thiserror::Error)]
pub enum ScepError {
    /// Not even a SCEP message to answer (no transaction id or nonce): HTTP 400.
    #[error("not a SCEP message: {0}")]
    Malformed(&'static str),
    /// A message that gets a signed `CertRep` with `pkiStatus` FAILURE.
    #[error("SCEP request refused ({}): {why}", .info.name())]
    Refused {
        info: FailInfo,
        reply: Box<Reply>,
        why: &'static str,
    },
    #[error("SCEP: {0}")]
    Internal(String),
}

/// The symmetric cipher of an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentCipher {
    /// Single DES: decrypted for old clients, used for an answer only to a client that used
    /// it (the answer carries only the public certificate).
    DesCbc,
    Des3Cbc,
    Aes128Cbc,
    Aes192Cbc,
    Aes256Cbc,
}

impl ContentCipher {
    fn from_oid(oid: &Oid) -> Option<ContentCipher> {
        Some(match *oid {
            DES_CBC => ContentCipher::DesCbc,
            DES_EDE3_CBC => ContentCipher::Des3Cbc,
            AES128_CBC => ContentCipher::Aes128Cbc,
            AES192_CBC => ContentCipher::Aes192Cbc,
            AES256_CBC => ContentCipher::Aes256Cbc,
            _ => return None,
        })
    }

    fn oid(self) -> Oid {
        match self {
            ContentCipher::DesCbc => DES_CBC,
            ContentCipher::Des3Cbc => DES_EDE3_CBC,
            ContentCipher::Aes128Cbc => AES128_CBC,
            ContentCipher::Aes192Cbc => AES192_CBC,
            ContentCipher::Aes256Cbc => AES256_CBC,
        }
    }

    fn key_len(self) -> usize {
        match self {
            ContentCipher::DesCbc => 8,
            ContentCipher::Des3Cbc | ContentCipher::Aes192Cbc => 24,
            ContentCipher::Aes128Cbc => 16,
            ContentCipher::Aes256Cbc => 32,
        }
    }

    fn iv_len(self) -> usize {
        match self {
            ContentCipher::DesCbc | ContentCipher::Des3Cbc => 8,
            _ => 16,
        }
    }

    fn decrypt(self, key: &[u8], iv: &[u8], data: &[u8]) -> Option<Vec<u8>> {
        use cbc::cipher::block_padding::Pkcs7;
        use cbc::cipher::{BlockModeDecrypt, KeyIvInit};
        fn run<C>(key: &[u8], iv: &[u8], data: &[u8]) -> Option<Vec<u8>>
        where
            cbc::Decryptor<C>: KeyIvInit + BlockModeDecrypt,
            C: cbc::cipher::BlockCipherDecrypt,
        {
            cbc::Decryptor::<C>::new_from_slices(key, iv)
                .ok()?
                .decrypt_padded_vec::<Pkcs7>(data)
                .ok()
        }
        match self {
            ContentCipher::DesCbc => run::<des::Des>(key, iv, data),
            ContentCipher::Des3Cbc => run::<des::TdesEde3>(key, iv, data),
            ContentCipher::Aes128Cbc => run::<aes_cbc::Aes128>(key, iv, data),
            ContentCipher::Aes192Cbc => run::<aes_cbc::Aes192>(key, iv, data),
            ContentCipher::Aes256Cbc => run::<aes_cbc::Aes256>(key, iv, data),
        }
    }

    fn encrypt(self, key: &[u8], iv: &[u8], data: &[u8]) -> Option<Vec<u8>> {
        use cbc::cipher::block_padding::Pkcs7;
        use cbc::cipher::{BlockModeEncrypt, KeyIvInit};
        fn run<C>(key: &[u8], iv: &[u8], data: &[u8]) -> Option<Vec<u8>>
        where
            cbc::Encryptor<C>: KeyIvInit + BlockModeEncrypt,
            C: cbc::cipher::BlockCipherEncrypt,
        {
            Some(
                cbc::Encryptor::<C>::new_from_slices(key, iv)
                    .ok()?
                    .encrypt_padded_vec::<Pkcs7>(data),
            )
        }
        match self {
            ContentCipher::DesCbc => run::<des::Des>(key, iv, data),
            ContentCipher::Des3Cbc => run::<des::TdesEde3>(key, iv, data),
            ContentCipher::Aes128Cbc => run::<aes_cbc::Aes128>(key, iv, data),
            ContentCipher::Aes192Cbc => run::<aes_cbc::Aes192>(key, iv, data),
            ContentCipher::Aes256Cbc => run::<aes_cbc::Aes256>(key, iv, data),
        }
    }
}

/// What an answer needs from the request it answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub transaction_id: String,
    sender_nonce: Vec<u8>,
    /// The device's (self-signed) certificate, to encrypt the issued certificate to.
    requester: Option<Certificate>,
    cipher: ContentCipher,
}

/// A checked `PKCSReq`: signature, digest and envelope verified, the request's own signature
/// verified, its key acceptable.
#[derive(Debug, Clone)]
pub struct PkcsReq {
    pub reply: Reply,
    /// The challenge password of the PKCS#10 request, if any.
    pub challenge: Option<String>,
    /// The SubjectPublicKeyInfo (DER) of the device's key.
    pub public_key: Vec<u8>,
}

/// The portal's registration authority, unlocked.
pub struct Ra {
    cert_der: Vec<u8>,
    cert: Certificate,
    key: rsa::RsaPrivateKey,
    signer: ring::signature::RsaKeyPair,
}

impl std::fmt::Debug for Ra {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ra").finish_non_exhaustive()
    }
}

fn internal(e: impl std::fmt::Display) -> ScepError {
    ScepError::Internal(e.to_string())
}

impl Ra {
    pub fn new(cert_der: &[u8], key_pkcs8: &[u8]) -> Result<Ra, ScepError> {
        use rsa::pkcs8::DecodePrivateKey;
        Ok(Ra {
            cert_der: cert_der.to_vec(),
            cert: Certificate::from_der(cert_der).map_err(internal)?,
            key: rsa::RsaPrivateKey::from_pkcs8_der(key_pkcs8).map_err(internal)?,
            signer: ring::signature::RsaKeyPair::from_pkcs8(key_pkcs8).map_err(internal)?,
        })
    }

    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    fn id(&self) -> IssuerAndSerialNumber {
        issuer_and_serial(&self.cert)
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, ScepError> {
        let mut sig = vec![0u8; self.signer.public().modulus_len()];
        self.signer
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                msg,
                &mut sig,
            )
            .map_err(internal)?;
        Ok(sig)
    }
}

fn issuer_and_serial(c: &Certificate) -> IssuerAndSerialNumber {
    IssuerAndSerialNumber {
        issuer: c.tbs_certificate().issuer().clone(),
        serial_number: c.tbs_certificate().serial_number().clone(),
    }
}

/// DER first; BER (indefinite lengths, as some devices send) when DER does not parse.
fn decode<'a, T: Decode<'a>>(bytes: &'a [u8]) -> Option<T> {
    T::from_der(bytes).ok().or_else(|| T::from_ber(bytes).ok())
}

fn content_of(ci: &ContentInfo, oid: Oid) -> Option<Vec<u8>> {
    (ci.content_type == oid).then(|| ci.content.to_der().ok())?
}

fn attr(attrs: &SetOfVec<Attribute>, oid: Oid) -> Option<&Any> {
    attrs
        .iter()
        .find(|a| a.oid == oid)
        .and_then(|a| a.values.iter().next())
}

fn attr_str(attrs: &SetOfVec<Attribute>, oid: Oid) -> Option<String> {
    attr(attrs, oid).and_then(|v| String::from_utf8(v.value().to_vec()).ok())
}

fn hash(alg: &Oid, data: &[u8]) -> Option<Vec<u8>> {
    use sha2::Digest;
    Some(match *alg {
        SHA1 => sha1::Sha1::digest(data).to_vec(),
        SHA256 => sha2::Sha256::digest(data).to_vec(),
        SHA512 => sha2::Sha512::digest(data).to_vec(),
        _ => return None,
    })
}

fn rsa_verification(
    digest: &Oid,
    sig_alg: &Oid,
) -> Option<&'static ring::signature::RsaParameters> {
    use ring::signature as s;
    match (*digest, *sig_alg) {
        (SHA1, RSA_ENCRYPTION | SHA1_WITH_RSA) => {
            Some(&s::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY)
        }
        (SHA256, RSA_ENCRYPTION | SHA256_WITH_RSA) => Some(&s::RSA_PKCS1_2048_8192_SHA256),
        (SHA512, RSA_ENCRYPTION | SHA512_WITH_RSA) => Some(&s::RSA_PKCS1_2048_8192_SHA512),
        _ => None,
    }
}

/// Parses and checks a `PKCSReq`. Everything that can be answered gets a [`ScepError::Refused`]
/// with the reply to send; nothing here changes any state.
pub fn parse_pkcs_req(ra: &Ra, msg: &[u8]) -> Result<PkcsReq, ScepError> {
    if msg.len() > MAX_MESSAGE {
        return Err(ScepError::Malformed("message too large"));
    }
    let outer: ContentInfo = decode(msg).ok_or(ScepError::Malformed("not CMS"))?;
    let sd_der =
        content_of(&outer, ID_SIGNED_DATA).ok_or(ScepError::Malformed("not SignedData"))?;
    let sd: SignedData = decode(&sd_der).ok_or(ScepError::Malformed("bad SignedData"))?;
    let si = match sd.signer_infos.0.iter().collect::<Vec<_>>().as_slice() {
        [one] => (*one).clone(),
        _ => return Err(ScepError::Malformed("one signer expected")),
    };
    let attrs = si
        .signed_attrs
        .clone()
        .ok_or(ScepError::Malformed("no signed attributes"))?;
    let transaction_id = attr_str(&attrs, SCEP_TRANSACTION_ID)
        .filter(|t| !t.is_empty() && t.len() <= 128)
        .ok_or(ScepError::Malformed("no transactionID"))?;
    let sender_nonce = attr(&attrs, SCEP_SENDER_NONCE)
        .map(|v| v.value().to_vec())
        .filter(|n| !n.is_empty() && n.len() <= 64)
        .ok_or(ScepError::Malformed("no senderNonce"))?;
    let mut reply = Reply {
        transaction_id,
        sender_nonce,
        requester: None,
        cipher: ContentCipher::Aes128Cbc,
    };
    let refuse = |reply: &Reply, info: FailInfo, why: &'static str| ScepError::Refused {
        info,
        reply: Box::new(reply.clone()),
        why,
    };
    // The signer's certificate, named by issuer and serial in the SignerInfo.
    let SignerIdentifier::IssuerAndSerialNumber(sid) = &si.sid else {
        return Err(refuse(
            &reply,
            FailInfo::BadMessageCheck,
            "signer by key id",
        ));
    };
    let signer = sd
        .certificates
        .as_ref()
        .and_then(|set| {
            set.0.iter().find_map(|c| match c {
                CertificateChoices::Certificate(c) if issuer_and_serial(c) == *sid => {
                    Some(c.clone())
                }
                _ => None,
            })
        })
        .ok_or_else(|| refuse(&reply, FailInfo::BadMessageCheck, "no signer certificate"))?;
    // The content, its digest in the signed attributes, and the signature over them.
    let content = sd
        .encap_content_info
        .econtent
        .as_ref()
        .filter(|c| c.tag() == Tag::OctetString)
        .map(|c| c.value().to_vec())
        .ok_or_else(|| refuse(&reply, FailInfo::BadMessageCheck, "no content"))?;
    let digest = hash(&si.digest_alg.oid, &content)
        .ok_or_else(|| refuse(&reply, FailInfo::BadAlg, "digest algorithm"))?;
    let stated = attr(&attrs, ATTR_MESSAGE_DIGEST).map(|v| v.value().to_vec());
    if stated.as_deref() != Some(digest.as_slice()) {
        return Err(refuse(&reply, FailInfo::BadMessageCheck, "message digest"));
    }
    let params = rsa_verification(&si.digest_alg.oid, &si.signature_algorithm.oid)
        .ok_or_else(|| refuse(&reply, FailInfo::BadAlg, "signature algorithm"))?;
    let spki = signer.tbs_certificate().subject_public_key_info();
    if spki.algorithm.oid != RSA_ENCRYPTION {
        return Err(refuse(&reply, FailInfo::BadAlg, "signer key is not RSA"));
    }
    // The message is signed with the requested key (checked below): a key below the policy
    // is a refused request, whatever its signature says.
    if rsa_bits(spki.subject_public_key.raw_bytes()).is_none_or(|b| b < 2048) {
        return Err(refuse(&reply, FailInfo::BadRequest, "key too weak"));
    }
    let signed = attrs
        .to_der()
        .map_err(|_| refuse(&reply, FailInfo::BadMessageCheck, "attributes"))?;
    ring::signature::UnparsedPublicKey::new(params, spki.subject_public_key.raw_bytes())
        .verify(&signed, si.signature.as_bytes())
        .map_err(|_| refuse(&reply, FailInfo::BadMessageCheck, "signature"))?;
    reply.requester = Some(signer.clone());
    if attr_str(&attrs, SCEP_MESSAGE_TYPE).as_deref() != Some(PKCS_REQ) {
        return Err(refuse(
            &reply,
            FailInfo::BadRequest,
            "only PKCSReq is served",
        ));
    }
    // The envelope, encrypted to the RA.
    let env_ci: ContentInfo =
        decode(&content).ok_or_else(|| refuse(&reply, FailInfo::BadMessageCheck, "envelope"))?;
    let env_der = content_of(&env_ci, ID_ENVELOPED_DATA)
        .ok_or_else(|| refuse(&reply, FailInfo::BadMessageCheck, "not EnvelopedData"))?;
    let env = read_envelope(&env_der)
        .ok_or_else(|| refuse(&reply, FailInfo::BadMessageCheck, "bad EnvelopedData"))?;
    let ra_id = ra.id();
    let ktri = env
        .recipients
        .into_iter()
        .find_map(|r| match r {
            RecipientInfo::Ktri(k) => match &k.rid {
                RecipientIdentifier::IssuerAndSerialNumber(id) if *id == ra_id => Some(k),
                _ => None,
            },
            _ => None,
        })
        .ok_or_else(|| refuse(&reply, FailInfo::BadMessageCheck, "not encrypted to the RA"))?;
    let cipher = ContentCipher::from_oid(&env.algorithm.oid)
        .ok_or_else(|| refuse(&reply, FailInfo::BadAlg, "content cipher"))?;
    reply.cipher = cipher;
    let iv = env
        .algorithm
        .parameters
        .as_ref()
        .filter(|p| p.tag() == Tag::OctetString)
        .map(|p| p.value().to_vec())
        .filter(|iv| iv.len() == cipher.iv_len())
        .ok_or_else(|| refuse(&reply, FailInfo::BadAlg, "content cipher IV"))?;
    let ciphertext = env.ciphertext;
    // PKCS#1 v1.5 key transport, as every SCEP client uses. A wrong key length is treated
    // like a failed decryption, with the same answer.
    let plain = ra
        .key
        .decrypt(rsa::Pkcs1v15Encrypt, ktri.enc_key.as_bytes())
        .ok()
        .filter(|k| k.len() == cipher.key_len())
        .and_then(|k| cipher.decrypt(&k, &iv, &ciphertext))
        .ok_or_else(|| refuse(&reply, FailInfo::BadMessageCheck, "decryption"))?;
    // The PKCS#10 request: its own signature (proof of possession), its key, its challenge.
    let (challenge, public_key) =
        read_csr(&plain).map_err(|why| refuse(&reply, FailInfo::BadRequest, why))?;
    let signer_spki = spki
        .to_der()
        .map_err(|_| refuse(&reply, FailInfo::BadMessageCheck, "signer key"))?;
    if signer_spki != public_key {
        return Err(refuse(
            &reply,
            FailInfo::BadMessageCheck,
            "the message is not signed with the requested key",
        ));
    }
    Ok(PkcsReq {
        reply,
        challenge,
        public_key,
    })
}

/// One BER element: its tag byte, its contents, and all its bytes.
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    raw: &'a [u8],
}

/// Reads one element (low tag numbers only, as CMS uses), in DER or BER with definite or
/// indefinite lengths. Returns it and what follows.
fn read_tlv(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let tag = *input.first()?;
    let first = *input.get(1)?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    if first == 0x80 {
        // Indefinite length: constructed contents up to the end-of-contents octets.
        if tag & 0x20 == 0 {
            return None;
        }
        let mut rest = &input[2..];
        let start = 2;
        loop {
            if rest.starts_with(&[0, 0]) {
                let end = input.len() - rest.len();
                return Some((
                    Tlv {
                        tag,
                        content: &input[start..end],
                        raw: &input[..end + 2],
                    },
                    &rest[2..],
                ));
            }
            let (_, next) = read_tlv(rest)?;
            rest = next;
        }
    }
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for b in input.get(2..2 + n)? {
            len = (len << 8) | usize::from(*b);
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    let content = input.get(header..end)?;
    Some((
        Tlv {
            tag,
            content,
            raw: &input[..end],
        },
        &input[end..],
    ))
}

fn children(content: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (t, next) = read_tlv(rest)?;
        out.push(t);
        rest = next;
    }
    Some(out)
}

/// The octets of an OCTET STRING (or an implicitly tagged one), primitive or constructed
/// from segments (BER, as some SCEP clients write `encryptedContent`).
fn octets(t: &Tlv<'_>) -> Option<Vec<u8>> {
    if t.tag & 0x20 == 0 {
        return Some(t.content.to_vec());
    }
    let mut out = Vec::new();
    for c in children(t.content)? {
        out.extend(octets(&c)?);
    }
    Some(out)
}

/// What an EnvelopedData holds for decryption.
struct Envelope {
    recipients: Vec<RecipientInfo>,
    algorithm: AlgorithmIdentifierOwned,
    ciphertext: Vec<u8>,
}

/// Reads an EnvelopedData (RFC 5652 section 6.1) leniently: clients write the encrypted
/// content as a constructed `[0]` and may use indefinite lengths, which strict DER decoding
/// refuses. The recipient infos and the algorithm are decoded with the CMS types.
fn read_envelope(der: &[u8]) -> Option<Envelope> {
    let (seq, _) = read_tlv(der)?;
    if seq.tag != 0x30 {
        return None;
    }
    let kids = children(seq.content)?;
    let mut it = kids.iter().peekable();
    let version = it.next()?;
    if version.tag != 0x02 {
        return None;
    }
    if it.peek().is_some_and(|t| t.tag == 0xa0) {
        it.next();
    }
    let set = it.next()?;
    if set.tag != 0x31 {
        return None;
    }
    let mut recipients = Vec::new();
    for r in children(set.content)? {
        if let Some(ri) = decode::<RecipientInfo>(r.raw) {
            recipients.push(ri);
        }
    }
    let eci = it.next()?;
    if eci.tag != 0x30 {
        return None;
    }
    let parts = children(eci.content)?;
    let alg = parts.get(1)?;
    let algorithm = decode::<AlgorithmIdentifierOwned>(alg.raw)?;
    let enc = parts.get(2).filter(|t| t.tag & 0xdf == 0x80)?;
    let ciphertext = octets(enc)?;
    Some(Envelope {
        recipients,
        algorithm,
        ciphertext,
    })
}

/// The modulus size of a PKCS#1 RSAPublicKey.
fn rsa_bits(pkcs1: &[u8]) -> Option<usize> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::traits::PublicKeyParts;
    rsa::RsaPublicKey::from_pkcs1_der(pkcs1)
        .ok()
        .map(|k| k.n().bits())
}

/// The challenge and SubjectPublicKeyInfo of a PKCS#10 request whose signature verifies and
/// whose key is at least RSA-2048 or ECDSA P-256/P-384.
fn read_csr(der: &[u8]) -> Result<(Option<String>, Vec<u8>), &'static str> {
    use x509_parser::certification_request::X509CertificationRequest;
    use x509_parser::cri_attributes::ParsedCriAttribute;
    use x509_parser::prelude::FromDer;
    use x509_parser::public_key::PublicKey;
    let (_, csr) = X509CertificationRequest::from_der(der).map_err(|_| "not a PKCS#10 request")?;
    csr.verify_signature()
        .map_err(|_| "the request's signature does not verify")?;
    let info = &csr.certification_request_info;
    match info.subject_pki.parsed() {
        Ok(PublicKey::RSA(k)) if k.key_size() >= 2048 && k.key_size() <= 8192 => {}
        Ok(PublicKey::EC(_)) => {
            let curve = info
                .subject_pki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            if !matches!(
                curve.as_deref(),
                Some("1.2.840.10045.3.1.7" | "1.3.132.0.34")
            ) {
                return Err("unsupported elliptic curve");
            }
        }
        _ => return Err("key too weak or not supported"),
    }
    let challenge = info
        .iter_attributes()
        .find_map(|a| match a.parsed_attribute() {
            ParsedCriAttribute::ChallengePassword(c) => Some(c.0.clone()),
            _ => None,
        });
    Ok((challenge, info.subject_pki.raw.to_vec()))
}

fn any_octets(bytes: &[u8]) -> Result<Any, ScepError> {
    Any::new(Tag::OctetString, bytes.to_vec()).map_err(internal)
}

fn any_printable(s: &str) -> Result<Any, ScepError> {
    Any::new(Tag::PrintableString, s.as_bytes().to_vec()).map_err(internal)
}

fn attribute(oid: Oid, value: Any) -> Result<Attribute, ScepError> {
    let mut values = SetOfVec::new();
    values.insert(value).map_err(internal)?;
    Ok(Attribute { oid, values })
}

fn alg(oid: Oid, null_params: bool) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: null_params.then(Any::null),
    }
}

fn random(n: usize) -> Vec<u8> {
    use rand::RngCore;
    let mut b = vec![0u8; n];
    rand::rng().fill_bytes(&mut b);
    b
}

/// A SignedData over `content` (none for a failure), signed by the RA with `extra` signed
/// attributes, wrapped in a ContentInfo.
fn signed_by_ra(
    ra: &Ra,
    content: Option<Vec<u8>>,
    extra: Vec<Attribute>,
) -> Result<Vec<u8>, ScepError> {
    signed_message(&[&ra.cert], RSA_ENCRYPTION, &|m| ra.sign(m), content, extra)
}

/// Signs the DER of signed attributes with the signer's key.
type Signer<'a> = dyn Fn(&[u8]) -> Result<Vec<u8>, ScepError> + 'a;

/// A SignedData over `content` with SHA-256, signed by the key of `chain[0]` through `sign`
/// (whose algorithm `signature_alg` names), with `extra` signed attributes and the
/// certificates of `chain`, wrapped in a ContentInfo.
pub(crate) fn signed_message(
    chain: &[&Certificate],
    signature_alg: Oid,
    sign: &Signer<'_>,
    content: Option<Vec<u8>>,
    extra: Vec<Attribute>,
) -> Result<Vec<u8>, ScepError> {
    let signer_cert = chain.first().ok_or_else(|| internal("no signer"))?;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(content.as_deref().unwrap_or_default()).to_vec();
    let mut attrs = SetOfVec::new();
    attrs
        .insert(attribute(
            ATTR_CONTENT_TYPE,
            Any::encode_from(&ID_DATA).map_err(internal)?,
        )?)
        .map_err(internal)?;
    attrs
        .insert(attribute(ATTR_MESSAGE_DIGEST, any_octets(&digest)?)?)
        .map_err(internal)?;
    for a in extra {
        attrs.insert(a).map_err(internal)?;
    }
    let signature = sign(&attrs.to_der().map_err(internal)?)?;
    let si = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(issuer_and_serial(signer_cert)),
        digest_alg: alg(SHA256, true),
        signed_attrs: Some(attrs),
        // RSA names its parameters (NULL); ECDSA's algorithm identifiers have none.
        signature_algorithm: alg(signature_alg, signature_alg == RSA_ENCRYPTION),
        signature: OctetString::new(signature).map_err(internal)?,
        unsigned_attrs: None,
    };
    let econtent = match content {
        Some(c) => {
            Some(Any::encode_from(&OctetString::new(c).map_err(internal)?).map_err(internal)?)
        }
        None => None,
    };
    let sd = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![alg(SHA256, true)]).map_err(internal)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent,
        },
        certificates: Some(
            CertificateSet::try_from(
                chain
                    .iter()
                    .map(|c| CertificateChoices::Certificate((*c).clone()))
                    .collect::<Vec<_>>(),
            )
            .map_err(internal)?,
        ),
        crls: None,
        signer_infos: SignerInfos::try_from(vec![si]).map_err(internal)?,
    };
    ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&sd).map_err(internal)?,
    }
    .to_der()
    .map_err(internal)
}

/// A degenerate ("certs-only") SignedData: no content, no signers (RFC 8894 section 3.4).
pub fn certs_only(certs: &[&[u8]]) -> Result<Vec<u8>, ScepError> {
    let mut set = Vec::new();
    for der in certs {
        set.push(CertificateChoices::Certificate(
            Certificate::from_der(der).map_err(internal)?,
        ));
    }
    let sd = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::new(),
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet::try_from(set).map_err(internal)?),
        crls: None,
        signer_infos: SignerInfos::try_from(Vec::new()).map_err(internal)?,
    };
    ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&sd).map_err(internal)?,
    }
    .to_der()
    .map_err(internal)
}

/// `content` encrypted to `recipient` (PKCS#1 v1.5 key transport) with `cipher`.
fn envelope(
    recipient: &Certificate,
    cipher: ContentCipher,
    content: &[u8],
) -> Result<Vec<u8>, ScepError> {
    use rsa::pkcs8::DecodePublicKey;
    let spki = recipient
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(internal)?;
    let public = rsa::RsaPublicKey::from_public_key_der(&spki).map_err(internal)?;
    let key = random(cipher.key_len());
    let iv = random(cipher.iv_len());
    let encrypted_key = public
        .encrypt(&mut rand_core::OsRng, rsa::Pkcs1v15Encrypt, &key)
        .map_err(internal)?;
    let ciphertext = cipher
        .encrypt(&key, &iv, content)
        .ok_or_else(|| internal("content encryption"))?;
    let env = EnvelopedData {
        version: CmsVersion::V0,
        originator_info: None,
        recip_infos: RecipientInfos::try_from(vec![RecipientInfo::Ktri(KeyTransRecipientInfo {
            version: CmsVersion::V0,
            rid: RecipientIdentifier::IssuerAndSerialNumber(issuer_and_serial(recipient)),
            key_enc_alg: alg(RSA_ENCRYPTION, true),
            enc_key: OctetString::new(encrypted_key).map_err(internal)?,
        })])
        .map_err(internal)?,
        encrypted_content: EncryptedContentInfo {
            content_type: ID_DATA,
            content_enc_alg: AlgorithmIdentifierOwned {
                oid: cipher.oid(),
                parameters: Some(any_octets(&iv)?),
            },
            encrypted_content: Some(OctetString::new(ciphertext).map_err(internal)?),
        },
        unprotected_attrs: None,
    };
    ContentInfo {
        content_type: ID_ENVELOPED_DATA,
        content: Any::encode_from(&env).map_err(internal)?,
    }
    .to_der()
    .map_err(internal)
}

/// The `CertRep` answering `reply`: SUCCESS with `issued` (DER) encrypted to the device, or
/// FAILURE with `failInfo`.
pub fn cert_rep(
    ra: &Ra,
    reply: &Reply,
    outcome: Result<&[u8], FailInfo>,
) -> Result<Vec<u8>, ScepError> {
    let mut attrs = vec![
        attribute(SCEP_MESSAGE_TYPE, any_printable(CERT_REP)?)?,
        attribute(SCEP_TRANSACTION_ID, any_printable(&reply.transaction_id)?)?,
        attribute(SCEP_SENDER_NONCE, any_octets(&random(16))?)?,
        attribute(SCEP_RECIPIENT_NONCE, any_octets(&reply.sender_nonce)?)?,
    ];
    let content = match outcome {
        Ok(issued) => {
            let requester = reply
                .requester
                .as_ref()
                .ok_or_else(|| internal("no requester to encrypt to"))?;
            attrs.push(attribute(SCEP_PKI_STATUS, any_printable("0")?)?);
            // Only the issued certificate: clients take the first one of the set.
            let inner = certs_only(&[issued])?;
            Some(envelope(requester, reply.cipher, &inner)?)
        }
        Err(info) => {
            attrs.push(attribute(SCEP_PKI_STATUS, any_printable("2")?)?);
            attrs.push(attribute(SCEP_FAIL_INFO, any_printable(info.code())?)?);
            None
        }
    };
    signed_by_ra(ra, content, attrs)
}

/// A SCEP client, for the portal's own tests and benchmarks only: it builds a `PKCSReq` the
/// way a device does (its own RSA key, a self-signed certificate for it, the PKCS#10 request
/// with the challenge, enveloped to the RA) and reads the `CertRep`. The interoperability
/// proof is the independent `scepclient` in the integration tests; this one can also send
/// what a well-behaved client never sends (tampered signatures, wrong recipients).
#[cfg(any(test, feature = "test-hooks"))]
#[allow(clippy::expect_used)] // test support: a broken fixture should stop the test at once
pub mod client {
    use super::*;

    /// An RSA key of any size signing through the `rsa` crate (ring refuses keys below 2048
    /// bits, and a test needs a weak device too).
    struct DeviceKey {
        key: rsa::RsaPrivateKey,
        public_pkcs1: Vec<u8>,
    }

    impl rcgen::PublicKeyData for DeviceKey {
        fn der_bytes(&self) -> &[u8] {
            &self.public_pkcs1
        }

        fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
            &rcgen::PKCS_RSA_SHA256
        }
    }

    impl rcgen::SigningKey for DeviceKey {
        fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
            use sha2::Digest;
            // DigestInfo for SHA-256 (RFC 8017 section 9.2), then the hash.
            let mut info = vec![
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x01, 0x05, 0x00, 0x04, 0x20,
            ];
            info.extend(sha2::Sha256::digest(msg));
            self.key
                .sign(rsa::Pkcs1v15Sign::new_unprefixed(), &info)
                .map_err(|_| rcgen::Error::RemoteKeyError)
        }
    }

    pub struct Device {
        key: DeviceKey,
        cert: Certificate,
    }

    impl Device {
        /// A device with a fresh RSA key of `bits`.
        pub fn new(bits: usize) -> Device {
            use rsa::pkcs1::EncodeRsaPublicKey;
            let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, bits).expect("rsa key");
            let public_pkcs1 = key
                .to_public_key()
                .to_pkcs1_der()
                .expect("public key")
                .into_vec();
            let key = DeviceKey { key, public_pkcs1 };
            let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, "device");
            let cert = params.self_signed(&key).expect("self-signed");
            Device {
                key,
                cert: Certificate::from_der(cert.der()).expect("certificate"),
            }
        }

        fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, ScepError> {
            rcgen::SigningKey::sign(&self.key, msg).map_err(internal)
        }

        /// The PKCS#10 request for this device's key, with `challenge` when given.
        pub fn csr(&self, challenge: Option<&str>) -> Vec<u8> {
            let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, "asked for by the device");
            let mut attrs = Vec::new();
            if let Some(c) = challenge {
                let value = Any::new(Tag::Utf8String, c.as_bytes().to_vec()).expect("utf8");
                let mut set = SetOfVec::new();
                set.insert(value).expect("set");
                attrs.push(rcgen::Attribute {
                    oid: &[1, 2, 840, 113549, 1, 9, 7],
                    values: set.to_der().expect("der"),
                });
            }
            params
                .serialize_request_with_attributes(&self.key, attrs)
                .expect("csr")
                .der()
                .to_vec()
        }

        /// A `PKCSReq` carrying `csr`, enveloped to `ra_der` with `cipher`, signed by this device.
        pub fn pkcs_req(&self, ra_der: &[u8], csr: &[u8], cipher: ContentCipher) -> Vec<u8> {
            let ra = Certificate::from_der(ra_der).expect("ra certificate");
            let env = envelope(&ra, cipher, csr).expect("envelope");
            let attrs = vec![
                attribute(SCEP_MESSAGE_TYPE, any_printable(PKCS_REQ).expect("type")).expect("a"),
                attribute(SCEP_TRANSACTION_ID, any_printable("tx-1").expect("id")).expect("a"),
                attribute(SCEP_SENDER_NONCE, any_octets(&random(16)).expect("n")).expect("a"),
            ];
            signed_message(
                &[&self.cert],
                RSA_ENCRYPTION,
                &|m| self.sign(m),
                Some(env),
                attrs,
            )
            .expect("signed")
        }

        /// Reads a `CertRep`: the issued certificate, or the `failInfo` name.
        pub fn read_cert_rep(&self, der: &[u8]) -> Result<Vec<u8>, String> {
            let outer: ContentInfo = decode(der).ok_or("not CMS")?;
            let sd: SignedData =
                decode(&content_of(&outer, ID_SIGNED_DATA).ok_or("not SignedData")?)
                    .ok_or("bad SignedData")?;
            let si = sd.signer_infos.0.iter().next().ok_or("no signer")?.clone();
            let attrs = si.signed_attrs.ok_or("no attributes")?;
            match attr_str(&attrs, SCEP_PKI_STATUS).as_deref() {
                Some("0") => {}
                Some("2") => {
                    let code = attr_str(&attrs, SCEP_FAIL_INFO).unwrap_or_default();
                    return Err(match code.as_str() {
                        "0" => "badAlg",
                        "1" => "badMessageCheck",
                        "2" => "badRequest",
                        "3" => "badTime",
                        "4" => "badCertId",
                        _ => "unknown",
                    }
                    .to_string());
                }
                other => return Err(format!("pkiStatus {other:?}")),
            }
            let content = sd
                .encap_content_info
                .econtent
                .map(|c| c.value().to_vec())
                .ok_or("no content")?;
            let env_ci: ContentInfo = decode(&content).ok_or("envelope")?;
            let env =
                read_envelope(&content_of(&env_ci, ID_ENVELOPED_DATA).ok_or("not EnvelopedData")?)
                    .ok_or("bad EnvelopedData")?;
            let ktri = env
                .recipients
                .into_iter()
                .find_map(|r| match r {
                    RecipientInfo::Ktri(k) => Some(k),
                    _ => None,
                })
                .ok_or("no recipient")?;
            let cipher =
                ContentCipher::from_oid(&env.algorithm.oid).ok_or("unknown content cipher")?;
            let iv = env
                .algorithm
                .parameters
                .map(|p| p.value().to_vec())
                .ok_or("no IV")?;
            let plain = self
                .key
                .key
                .decrypt(rsa::Pkcs1v15Encrypt, ktri.enc_key.as_bytes())
                .ok()
                .and_then(|k| cipher.decrypt(&k, &iv, &env.ciphertext))
                .ok_or("decryption")?;
            let inner: ContentInfo = decode(&plain).ok_or("inner")?;
            let certs: SignedData =
                decode(&content_of(&inner, ID_SIGNED_DATA).ok_or("inner type")?)
                    .ok_or("inner SignedData")?;
            let first = certs
                .certificates
                .and_then(|set| set.0.iter().next().cloned())
                .ok_or("no certificate")?;
            match first {
                CertificateChoices::Certificate(c) => c.to_der().map_err(|e| e.to_string()),
                _ => Err("not a certificate".into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::client::Device;
    use super::*;
    use crate::ssr::ca::{self, Secret};

    fn new_ra() -> (Ra, Vec<u8>) {
        let (_, signer) =
            ca::generate_ca("Test CA", 1_700_000_000, &Secret::new("test pass 12345")).expect("ca");
        let (cert, key) = ca::issue_ra(&signer, 1_700_000_000, 1_900_000_000).expect("ra");
        (Ra::new(&cert, &key).expect("ra"), signer.cert_der.clone())
    }

    fn refused(r: Result<PkcsReq, ScepError>) -> (FailInfo, &'static str) {
        match r {
            Err(ScepError::Refused { info, why, .. }) => (info, why),
            Err(e) => panic!("not a refusal: {e}"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn a_device_request_is_checked_and_answered_with_its_certificate() {
        let (ra, ca_der) = new_ra();
        let device = Device::new(2048);
        for cipher in [
            ContentCipher::Aes128Cbc,
            ContentCipher::Aes256Cbc,
            ContentCipher::Des3Cbc,
            ContentCipher::DesCbc,
        ] {
            let msg = device.pkcs_req(ra.cert_der(), &device.csr(Some("c-1")), cipher);
            let req = parse_pkcs_req(&ra, &msg).expect("accepted");
            assert_eq!(req.challenge.as_deref(), Some("c-1"));
            assert_eq!(req.reply.cipher, cipher);
            // The answer is readable only by the device and carries the certificate.
            let rep = cert_rep(&ra, &req.reply, Ok(&ca_der)).expect("rep");
            assert_eq!(device.read_cert_rep(&rep).expect("cert"), ca_der);
            let other = Device::new(2048);
            assert!(other.read_cert_rep(&rep).is_err());
            let fail = cert_rep(&ra, &req.reply, Err(FailInfo::BadRequest)).expect("rep");
            assert_eq!(device.read_cert_rep(&fail), Err("badRequest".into()));
        }
    }

    /// Bounded fuzzing: random bytes, and a real request with bytes flipped, cut or
    /// inserted anywhere, are refused with an error — never a panic, never accepted.
    #[test]
    fn mutated_messages_never_panic() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};
        let (ra, _) = new_ra();
        let device = Device::new(2048);
        let msg = device.pkcs_req(
            ra.cert_der(),
            &device.csr(Some("c")),
            ContentCipher::Aes128Cbc,
        );
        let mut runner = TestRunner::new(Config {
            cases: 300,
            ..Config::default()
        });
        let n = msg.len();
        let strategy = (
            proptest::collection::vec(any::<u8>(), 0..600),
            0..n,
            any::<u8>(),
            0u8..4,
        );
        runner
            .run(&strategy, |(random, at, byte, how)| {
                prop_assert!(parse_pkcs_req(&ra, &random).is_err());
                let mut m = msg.clone();
                match how {
                    0 => m[at] ^= byte | 1,
                    1 => m.truncate(at),
                    2 => m.insert(at, byte),
                    _ => m[at..].reverse(),
                }
                // Whatever it yields, it must not panic; a changed message is refused
                // (the signature covers the content; headers may survive a no-op change).
                let _ = parse_pkcs_req(&ra, &m);
                Ok(())
            })
            .expect("no panic");
    }

    #[test]
    fn tampered_misaddressed_weak_and_garbage_requests_are_refused() {
        let (ra, _) = new_ra();
        let device = Device::new(2048);
        let msg = device.pkcs_req(
            ra.cert_der(),
            &device.csr(Some("c")),
            ContentCipher::Aes128Cbc,
        );
        // A flipped byte in the signature (the last bytes of the message).
        let mut bad = msg.clone();
        let n = bad.len() - 3;
        bad[n] ^= 1;
        assert_eq!(
            refused(parse_pkcs_req(&ra, &bad)).0,
            FailInfo::BadMessageCheck
        );
        // Encrypted to another portal's RA.
        let (other, _) = new_ra();
        let foreign = device.pkcs_req(
            other.cert_der(),
            &device.csr(Some("c")),
            ContentCipher::Aes128Cbc,
        );
        assert_eq!(
            refused(parse_pkcs_req(&ra, &foreign)),
            (FailInfo::BadMessageCheck, "not encrypted to the RA")
        );
        // A request for another key than the one that signs the message.
        let stranger = Device::new(2048);
        let swapped = device.pkcs_req(
            ra.cert_der(),
            &stranger.csr(Some("c")),
            ContentCipher::Aes128Cbc,
        );
        assert_eq!(
            refused(parse_pkcs_req(&ra, &swapped)).0,
            FailInfo::BadMessageCheck
        );
        // A key below the policy.
        let weak = Device::new(1024);
        let small = weak.pkcs_req(
            ra.cert_der(),
            &weak.csr(Some("c")),
            ContentCipher::Aes128Cbc,
        );
        assert_eq!(
            refused(parse_pkcs_req(&ra, &small)),
            (FailInfo::BadRequest, "key too weak")
        );
        // Not a SCEP message at all: nothing to answer.
        for junk in [&b""[..], b"garbage", &msg[..msg.len() / 2]] {
            assert!(matches!(
                parse_pkcs_req(&ra, junk),
                Err(ScepError::Malformed(_))
            ));
        }
    }

    #[test]
    fn ber_with_indefinite_lengths_and_segmented_octets_is_read() {
        // [0] constructed, indefinite length, two OCTET STRING segments.
        let ber = [
            0xa0, 0x80, 0x04, 0x02, 1, 2, 0x04, 0x01, 3, 0x00, 0x00, 0xff,
        ];
        let (t, rest) = read_tlv(&ber).expect("tlv");
        assert_eq!(octets(&t).expect("octets"), vec![1, 2, 3]);
        assert_eq!(rest, &[0xff]);
        assert!(read_tlv(&[0x04, 0x05, 1]).is_none(), "truncated");
    }
}
