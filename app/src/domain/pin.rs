//! The bundle PIN (SPEC.md rule 5): at least 8 characters from an alphabet without look-alike
//! characters, about 40 bits, easy to type on a phone. Pure formatting of bytes the server
//! derives from the link token with its key; no randomness here.

/// 32 symbols (5 bits each): digits 2–9 and upper-case letters without I and O, so no
/// 0/O or 1/I pair can be confused, and one keyboard layer suffices on a phone.
pub const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// Length of a PIN: 8 × 5 bits = 40 bits.
pub const PIN_LEN: usize = 8;

/// Turns (at least 5) pseudo-random bytes into a PIN. Uses the first 40 bits.
pub fn pin_from_bytes(bytes: &[u8]) -> Option<String> {
    let five: [u8; 5] = bytes.get(..5)?.try_into().ok()?;
    Some(pin_from_array(five))
}

/// Turns 40 pseudo-random bits into a PIN.
pub fn pin_from_array(bytes: [u8; 5]) -> String {
    let mut v: u64 = 0;
    for b in bytes {
        v = (v << 8) | u64::from(b);
    }
    let mut out = String::with_capacity(PIN_LEN);
    for i in 0..PIN_LEN {
        let idx = ((v >> (5 * (PIN_LEN - 1 - i))) & 0x1f) as usize;
        out.push(char::from(ALPHABET[idx]));
    }
    out
}

/// True when `s` could be a PIN (right length and alphabet) — for input checks.
pub fn looks_like_pin(s: &str) -> bool {
    s.len() == PIN_LEN && s.bytes().all(|b| ALPHABET.contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphabet_is_unambiguous_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for b in ALPHABET {
            assert!(seen.insert(*b));
            assert!(!b"01OI".contains(b), "ambiguous {}", char::from(*b));
            assert!(!b.is_ascii_lowercase());
        }
        assert_eq!(seen.len(), 32);
    }

    #[test]
    fn pins_use_40_bits() {
        assert_eq!(
            pin_from_bytes(&[0, 0, 0, 0, 0]).as_deref(),
            Some("22222222")
        );
        assert_eq!(pin_from_bytes(&[0xff; 5]).as_deref(), Some("ZZZZZZZZ"));
        assert_eq!(pin_from_bytes(&[1, 2, 3]), None);
        // Every bit matters: flipping the lowest bit changes the last character.
        let a = pin_from_bytes(&[9, 8, 7, 6, 4]);
        let b = pin_from_bytes(&[9, 8, 7, 6, 5]);
        assert_ne!(a, b);
        let p = pin_from_bytes(&[0x12, 0x34, 0x56, 0x78, 0x9a]).unwrap_or_default();
        assert!(looks_like_pin(&p));
        assert!(!looks_like_pin("short"));
        assert!(!looks_like_pin("OOOOOOOO"));
    }
}
