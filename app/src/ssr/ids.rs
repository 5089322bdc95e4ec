//! Random identifiers, tokens and serial numbers, and the hashes under which secrets are
//! stored. All randomness comes from the operating system's CSPRNG.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new opaque row id: 128 random bits as 32 lower-case hex characters.
pub fn new_id() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// A new secret token for a URL: 256 random bits, URL-safe.
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// How a token is stored: its SHA-256, hex. The token itself is never written anywhere.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A certificate serial: 16 random bytes (127 bits of entropy), positive and with a
/// non-zero first byte so its DER encoding is exactly 16 bytes.
pub fn new_serial() -> [u8; 16] {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    b[0] = (b[0] & 0x7f) | 0x01;
    b
}

/// SHA-256 fingerprint of DER bytes as upper-case hex with colons (as `openssl x509
/// -fingerprint -sha256` prints it).
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_serials_are_random_and_well_formed() {
        assert_ne!(new_id(), new_id());
        assert_eq!(new_id().len(), 32);
        assert_eq!(new_token().len(), 64);
        let s = new_serial();
        assert!(s[0] & 0x80 == 0 && s[0] != 0);
        assert_ne!(new_serial(), new_serial());
        assert_eq!(token_hash("abc").len(), 64);
        assert_ne!(token_hash("abc"), "abc");
        assert_eq!(fingerprint(b"").len(), 32 * 3 - 1);
    }
}
