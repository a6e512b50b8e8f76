//! Cryptography: the field envelope, passphrase key slots, per-record subkeys, blind
//! indexes and the secret types they use. Nothing above this module touches a cipher.
//!
//! All primitives come from RustCrypto (aes-gcm, argon2, hkdf, hmac, sha2); this module
//! only decides how they are combined, and pins that with known-answer tests.

mod envelope;
mod kdf;
mod secret;

pub use envelope::{
    ENVELOPE_OVERHEAD, ENVELOPE_VERSION, EnvelopeHeader, FieldAad, RecordKey, SubkeyDeriver,
};
pub(crate) use kdf::derive_kek;
pub use kdf::{KdfParams, SlotError};
pub use secret::{ClassKey, DerivedKey, Kek, Passphrase, SecretText};

use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

/// Why a cryptographic operation failed. Deliberately coarse: a failed open says nothing
/// that would help an attacker tell a wrong key from a tampered ciphertext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The bytes are not an envelope of a version this build understands.
    #[error("malformed envelope ({0})")]
    Malformed(&'static str),
    /// The commitment or the AEAD tag did not verify: tampered, moved, or the wrong key.
    #[error("could not be decrypted (tampered, moved, or wrong key)")]
    Open,
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    Rng,
}

/// Fills `buf` from the operating system's CSPRNG.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), CryptoError> {
    use rand::TryRng;
    rand::rngs::SysRng
        .try_fill_bytes(buf)
        .map_err(|_| CryptoError::Rng)
}

/// `N` random bytes (ids, salts, nonces).
pub(crate) fn random_array<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    fill_random(&mut out)?;
    Ok(out)
}

/// HMAC-SHA256 (its states are wiped on drop: hmac's `zeroize` feature).
pub(crate) type HmacSha256 = hmac::Hmac<Sha256>;

/// HMAC-SHA256 over the concatenation of `parts`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac =
        <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// Constant-time equality of two MACs.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// SHA-256 over the concatenation of `parts`.
pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4231 test case 2.
    #[test]
    fn hmac_sha256_rfc4231_case2() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn sha256_known_answer() {
        assert_eq!(
            hex::encode(sha256(&[b"ab", b"c"])),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn random_arrays_differ() {
        let a: [u8; 16] = random_array().unwrap();
        let b: [u8; 16] = random_array().unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn debug_of_secrets_prints_no_bytes() {
        let k = ClassKey::from_bytes([0xAB; 32]);
        let dbg = format!("{k:?}");
        assert!(!dbg.to_lowercase().contains("ab, ") && !dbg.contains("171"));
        assert!(!dbg.to_lowercase().contains("abab"));
        assert_eq!(dbg, "ClassKey([redacted])");
        let p = Passphrase::from("correct horse");
        assert!(!format!("{p:?}").contains("horse"));
        let t = SecretText::from("张三");
        assert!(!format!("{t:?}").contains("张三"));
    }
}
