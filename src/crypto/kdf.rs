//! Passphrase key slots: Argon2id with parameters stored per slot.

use super::{Kek, Passphrase};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

/// Argon2id parameters of one key slot, stored beside the slot so they can be raised later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

/// Why a key slot's parameters are not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SlotError {
    /// Weaker than the floor a real vault may use.
    #[error(
        "key-derivation parameters are below the minimum (Argon2id m = 64 MiB, t = 3); raise them"
    )]
    TooWeak,
    /// The slot was made with the test-only parameters, which this build refuses.
    #[error(
        "this vault was created with test-only key-derivation parameters and cannot be opened by a production build"
    )]
    TestOnly,
    /// Argon2 rejected the parameters (e.g. absurd memory).
    #[error("invalid key-derivation parameters")]
    Invalid,
}

impl KdfParams {
    /// The floor for any slot of a real vault: Argon2id m = 64 MiB, t = 3, p = 1.
    pub const MINIMUM: KdfParams = KdfParams {
        m_kib: 64 * 1024,
        t: 3,
        p: 1,
    };

    /// The defaults for new slots (= the floor; raise with `pvault passwd` later).
    pub const DEFAULT: KdfParams = Self::MINIMUM;

    /// Tiny parameters for the test suite only (m = 64 KiB, t = 1). Only compiled with the
    /// `insecure-test-kdf` feature, which `cargo test` enables through the crate's own
    /// dev-dependency; a release build of `pvault` cannot make or open such a slot.
    #[cfg(feature = "insecure-test-kdf")]
    pub const INSECURE_TEST_ONLY: KdfParams = KdfParams {
        m_kib: 64,
        t: 1,
        p: 1,
    };

    /// True for the test-only parameter set (and anything as weak).
    pub fn is_test_only(&self) -> bool {
        self.m_kib < 1024
    }

    /// Refuses parameters a real vault may not use. With the `insecure-test-kdf` feature
    /// the test-only set is also admitted.
    pub fn check(&self) -> Result<(), SlotError> {
        if self.is_test_only() {
            return if cfg!(feature = "insecure-test-kdf") {
                Ok(())
            } else {
                Err(SlotError::TestOnly)
            };
        }
        if self.m_kib < Self::MINIMUM.m_kib || self.t < Self::MINIMUM.t || self.p < 1 {
            return Err(SlotError::TooWeak);
        }
        Ok(())
    }
}

// The design floor, checked at compile time: weakening the defaults does not build.
const _: () = assert!(KdfParams::DEFAULT.m_kib >= 64 * 1024 && KdfParams::DEFAULT.t >= 3);

/// Derives the key-encryption key of a slot. The Argon2 working memory is our own buffer
/// and is zeroized before it is freed (argon2 does not wipe it by itself).
pub(crate) fn derive_kek(
    passphrase: &Passphrase,
    salt: &[u8; 16],
    params: &KdfParams,
) -> Result<Kek, SlotError> {
    params.check()?;
    let argon_params =
        Params::new(params.m_kib, params.t, params.p, Some(32)).map_err(|_| SlotError::Invalid)?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params);
    let mut memory = vec![Block::default(); params.m_kib as usize];
    let mut out = Zeroizing::new([0u8; 32]);
    let result = argon.hash_password_into_with_memory(
        passphrase.as_bytes(),
        salt,
        out.as_mut_slice(),
        &mut memory,
    );
    memory.iter_mut().for_each(Zeroize::zeroize);
    drop(memory);
    result.map_err(|_| SlotError::Invalid)?;
    Ok(Kek::from_bytes(*out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_not_weaker_than_design_floor() {
        assert_eq!(KdfParams::DEFAULT.check(), Ok(()));
        let weak = KdfParams {
            m_kib: 32 * 1024,
            t: 3,
            p: 1,
        };
        assert_eq!(weak.check(), Err(SlotError::TooWeak));
        let weak_t = KdfParams {
            m_kib: 64 * 1024,
            t: 2,
            p: 1,
        };
        assert_eq!(weak_t.check(), Err(SlotError::TooWeak));
    }

    #[test]
    fn test_params_are_refused_without_the_feature() {
        let tiny = KdfParams {
            m_kib: 64,
            t: 1,
            p: 1,
        };
        if cfg!(feature = "insecure-test-kdf") {
            assert_eq!(tiny.check(), Ok(()));
        } else {
            assert_eq!(tiny.check(), Err(SlotError::TestOnly));
        }
    }

    // Argon2id known answer at the tiny parameters (pins parameter plumbing: algorithm,
    // version, output length). Value cross-checked with the argon2 crate's own API.
    #[cfg(feature = "insecure-test-kdf")]
    #[test]
    fn kek_derivation_is_deterministic_and_salted() {
        let p = Passphrase::from("correct horse battery staple");
        let a = derive_kek(&p, &[1; 16], &KdfParams::INSECURE_TEST_ONLY).unwrap();
        let b = derive_kek(&p, &[1; 16], &KdfParams::INSECURE_TEST_ONLY).unwrap();
        let c = derive_kek(&p, &[2; 16], &KdfParams::INSECURE_TEST_ONLY).unwrap();
        assert_eq!(a.expose(), b.expose());
        assert_ne!(a.expose(), c.expose());
        let mut reference = [0u8; 32];
        Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(64, 1, 1, Some(32)).unwrap(),
        )
        .hash_password_into(b"correct horse battery staple", &[1; 16], &mut reference)
        .unwrap();
        assert_eq!(a.expose(), &reference);
    }

    /// Real default parameters: slow on purpose (~0.1-0.3 s), one test only.
    #[test]
    fn default_parameters_derive() {
        let p = Passphrase::from("x");
        let k = derive_kek(&p, &[9; 16], &KdfParams::DEFAULT).unwrap();
        assert_ne!(k.expose(), &[0u8; 32]);
    }
}
