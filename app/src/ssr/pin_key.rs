//! The PIN key (SPEC rule 5): a random 256-bit key of its own, made once and stored in the
//! database sealed with AES-256-GCM under a key derived from the CA passphrase
//! (PBKDF2-HMAC-SHA256, 600,000 rounds, random salt), so every instance that knows the
//! passphrase shares it. A link's PIN is HMAC-SHA256(PIN key, token): it is never derived from
//! the passphrase itself, so a (link, PIN) pair tells nothing about the passphrase, and
//! guessing the passphrase offline costs the full PBKDF2 work per guess.

use super::ca::{CaError, Secret, KEY_PBKDF2_ROUNDS};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use std::num::NonZeroU32;

/// The setting the sealed key is stored under.
pub const SETTING: &str = "pin_key";
const VERSION: &str = "v1";
const SALT_LEN: usize = 16;
/// Binds the ciphertext to its purpose.
const AAD: &[u8] = b"certportal/pin-key/v1";

/// The key PINs are derived with. `Debug` hides it.
#[derive(Clone)]
pub struct PinKey([u8; 32]);

impl std::fmt::Debug for PinKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PinKey(<redacted>)")
    }
}

fn sealing_key(passphrase: &Secret, salt: &[u8]) -> Result<LessSafeKey, CaError> {
    let mut k = [0u8; 32];
    let rounds = NonZeroU32::new(KEY_PBKDF2_ROUNDS).ok_or(CaError::Encoding("rounds".into()))?;
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        rounds,
        salt,
        passphrase.expose().as_bytes(),
        &mut k,
    );
    let key =
        UnboundKey::new(&AES_256_GCM, &k).map_err(|_| CaError::Encoding("aead key".into()))?;
    Ok(LessSafeKey::new(key))
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Result<Vec<u8>, CaError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(text)
        .map_err(|_| CaError::WrongPassphrase)
}

impl PinKey {
    /// A new random key.
    pub fn generate() -> Result<PinKey, CaError> {
        let mut k = [0u8; 32];
        SystemRandom::new()
            .fill(&mut k)
            .map_err(|_| CaError::Encoding("no randomness".into()))?;
        Ok(PinKey(k))
    }

    /// `v1:<salt>:<nonce>:<ciphertext and tag>` (base64), for the database. Slow (PBKDF2).
    pub fn seal(&self, passphrase: &Secret) -> Result<String, CaError> {
        let rng = SystemRandom::new();
        let mut salt = [0u8; SALT_LEN];
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut salt)
            .and_then(|_| rng.fill(&mut nonce))
            .map_err(|_| CaError::Encoding("no randomness".into()))?;
        let mut data = self.0.to_vec();
        sealing_key(passphrase, &salt)?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(AAD),
                &mut data,
            )
            .map_err(|_| CaError::Encoding("sealing the PIN key failed".into()))?;
        Ok(format!(
            "{VERSION}:{}:{}:{}",
            b64(&salt),
            b64(&nonce),
            b64(&data)
        ))
    }

    /// Opens a sealed key; a wrong passphrase or a changed value is an error. Slow (PBKDF2).
    pub fn open(sealed: &str, passphrase: &Secret) -> Result<PinKey, CaError> {
        let bad = || CaError::WrongPassphrase;
        let mut parts = sealed.split(':');
        if parts.next() != Some(VERSION) {
            return Err(bad());
        }
        let salt = unb64(parts.next().ok_or_else(bad)?)?;
        let nonce = unb64(parts.next().ok_or_else(bad)?)?;
        let mut data = unb64(parts.next().ok_or_else(bad)?)?;
        let nonce = Nonce::try_assume_unique_for_key(&nonce).map_err(|_| bad())?;
        let plain = sealing_key(passphrase, &salt)?
            .open_in_place(nonce, Aad::from(AAD), &mut data)
            .map_err(|_| bad())?;
        let key: [u8; 32] = plain.try_into().map_err(|_| bad())?;
        Ok(PinKey(key))
    }

    /// The PIN of a one-time link: HMAC-SHA256(key, label ‖ token), 40 bits in the PIN
    /// alphabet.
    pub fn pin(&self, token: &str) -> String {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.0);
        let mut ctx = ring::hmac::Context::with_key(&key);
        ctx.update(b"certportal/link-pin/v2\0");
        ctx.update(token.as_bytes());
        let tag = ctx.sign();
        let d = tag.as_ref();
        crate::domain::pin::pin_from_array([d[0], d[1], d[2], d[3], d[4]])
    }

    /// The PIN of a "Create & Download" bundle, from its enrollment's id: nothing is stored,
    /// so the PIN list can be a second download (handed over apart from the bundles).
    pub fn handover_pin(&self, enrollment_id: &str) -> String {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.0);
        let mut ctx = ring::hmac::Context::with_key(&key);
        ctx.update(b"certportal/handover-pin/v1\0");
        ctx.update(enrollment_id.as_bytes());
        let tag = ctx.sign();
        let d = tag.as_ref();
        crate::domain::pin::pin_from_array([d[0], d[1], d[2], d[3], d[4]])
    }
}

impl PinKey {
    fn derived(&self, label: &[u8], data: &[u8]) -> ring::hmac::Tag {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.0);
        let mut ctx = ring::hmac::Context::with_key(&key);
        ctx.update(label);
        ctx.update(data);
        ctx.sign()
    }

    /// The SCEP challenge of a link's profile (RFC 8894 section 2.3): HMAC of the link's id,
    /// so every profile of one link carries the same challenge and the database keeps only
    /// its hash. 256 bits, base64url.
    pub fn scep_challenge(&self, link_id: &str) -> String {
        use base64::Engine;
        let tag = self.derived(b"certportal/scep-challenge/v1\0", link_id.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref())
    }

    fn blob_key(&self, purpose: &str) -> Result<LessSafeKey, CaError> {
        let tag = self.derived(b"certportal/blob-key/v1\0", purpose.as_bytes());
        let key = UnboundKey::new(&AES_256_GCM, tag.as_ref())
            .map_err(|_| CaError::Encoding("aead key".into()))?;
        Ok(LessSafeKey::new(key))
    }

    /// Seals a secret kept in the database (the SCEP RA key) under a key derived from this
    /// one: `v1:<nonce>:<ciphertext and tag>`, bound to `purpose`. Fast (no PBKDF2).
    pub fn seal_blob(&self, purpose: &str, plain: &[u8]) -> Result<String, CaError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| CaError::Encoding("no randomness".into()))?;
        let mut data = plain.to_vec();
        self.blob_key(purpose)?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(purpose.as_bytes()),
                &mut data,
            )
            .map_err(|_| CaError::Encoding("sealing failed".into()))?;
        Ok(format!("{VERSION}:{}:{}", b64(&nonce), b64(&data)))
    }

    /// Opens what [`PinKey::seal_blob`] sealed for the same `purpose`.
    pub fn open_blob(&self, purpose: &str, sealed: &str) -> Result<Vec<u8>, CaError> {
        let bad = || CaError::WrongPassphrase;
        let mut parts = sealed.split(':');
        if parts.next() != Some(VERSION) {
            return Err(bad());
        }
        let nonce = unb64(parts.next().ok_or_else(bad)?)?;
        let mut data = unb64(parts.next().ok_or_else(bad)?)?;
        let nonce = Nonce::try_assume_unique_for_key(&nonce).map_err(|_| bad())?;
        let plain = self
            .blob_key(purpose)?
            .open_in_place(nonce, Aad::from(purpose.as_bytes()), &mut data)
            .map_err(|_| bad())?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_the_passphrase_and_unchanged() {
        let pass = Secret::new("correct passphrase");
        let k = PinKey::generate().unwrap();
        let sealed = k.seal(&pass).unwrap();
        assert!(sealed.starts_with("v1:"));
        let again = PinKey::open(&sealed, &pass).unwrap();
        assert_eq!(again.pin("token"), k.pin("token"));
        assert!(PinKey::open(&sealed, &Secret::new("wrong passphrase")).is_err());
        // A changed ciphertext is refused (AEAD), not silently a different key.
        let mut tampered: Vec<char> = sealed.chars().collect();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == 'A' { 'B' } else { 'A' };
        let tampered: String = tampered.into_iter().collect();
        assert!(PinKey::open(&tampered, &pass).is_err());
        assert!(PinKey::open("v0:x:y:z", &pass).is_err());
        // The key itself never shows in the sealed text or in Debug.
        assert!(!format!("{k:?}").contains(&format!("{:?}", k.0)));
    }

    #[test]
    fn pins_depend_on_the_key_not_only_on_the_token() {
        let a = PinKey::generate().unwrap();
        let b = PinKey::generate().unwrap();
        assert_eq!(a.pin("t1"), a.pin("t1"));
        assert_ne!(a.pin("t1"), a.pin("t2"));
        assert_ne!(a.pin("t1"), b.pin("t1"));
        assert_eq!(a.pin("t1").len(), 8);
    }

    #[test]
    fn challenges_and_sealed_blobs_belong_to_one_key_and_purpose() {
        let a = PinKey::generate().unwrap();
        let b = PinKey::generate().unwrap();
        assert_eq!(a.scep_challenge("l1"), a.scep_challenge("l1"));
        assert_ne!(a.scep_challenge("l1"), a.scep_challenge("l2"));
        assert_ne!(a.scep_challenge("l1"), b.scep_challenge("l1"));
        assert_eq!(a.scep_challenge("l1").len(), 43);
        let sealed = a.seal_blob("ra:ca1", b"secret key").unwrap();
        assert_eq!(a.open_blob("ra:ca1", &sealed).unwrap(), b"secret key");
        assert!(a.open_blob("ra:ca2", &sealed).is_err());
        assert!(b.open_blob("ra:ca1", &sealed).is_err());
        assert!(!sealed.contains("secret"));
    }
}
