//! Secret newtypes. Every secret byte string in the vault lives in one of these: they
//! zeroize on drop, their `Debug` prints no bytes, and they implement no `Serialize`.

use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

macro_rules! secret_key_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Zeroize, ZeroizeOnDrop)]
        pub struct $name([u8; 32]);

        impl $name {
            /// Wraps 32 key bytes; the caller's copy should be zeroized by the caller.
            /// (Public for format vectors, fuzzing and benchmarks: a vault's real keys exist
            /// only inside wrapped keyrings, which this does not give access to.)
            pub fn from_bytes(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }

            /// A fresh key from the operating system's random number generator.
            #[allow(dead_code)] // not every key type is generated (a KEK is derived)
            pub(crate) fn generate() -> Result<Self, super::CryptoError> {
                let mut bytes = [0u8; 32];
                super::fill_random(&mut bytes)?;
                let key = Self(bytes);
                bytes.zeroize();
                Ok(key)
            }

            pub(crate) fn expose(&self) -> &[u8; 32] {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret_key_type!(
    /// A class key: one per field class and key version.
    ClassKey
);
secret_key_type!(
    /// A key-encryption key derived from a passphrase; it wraps one user's keyring.
    Kek
);
secret_key_type!(
    /// A key derived for one purpose (record subkey, commitment key, index key, MAC key).
    DerivedKey
);

/// A passphrase typed by an officer. Zeroized on drop; `Debug` prints nothing of it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Passphrase(String);

impl Passphrase {
    /// Wraps a passphrase. The string is moved in and wiped when this value drops.
    pub fn new(passphrase: String) -> Self {
        Self(passphrase)
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// Constant-time comparison (for "type it twice" prompts).
    pub fn matches(&self, other: &Passphrase) -> bool {
        super::ct_eq(self.0.as_bytes(), other.0.as_bytes())
    }

    /// True when the passphrase is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of characters (not bytes), for strength checks.
    pub fn char_len(&self) -> usize {
        self.0.chars().count()
    }
}

impl From<&str> for Passphrase {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase([redacted])")
    }
}

/// A decrypted field value. Zeroized on drop; `Debug` and `Display` print nothing of it —
/// call [`SecretText::expose`] at the one place the value is really shown.
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SecretText(String);

impl SecretText {
    /// Wraps a plaintext value.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The plaintext. Every call site is a place where PII leaves the vault's types.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn from_utf8(bytes: Zeroizing<Vec<u8>>) -> Option<Self> {
        std::str::from_utf8(&bytes).ok().map(|s| Self(s.to_owned()))
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SecretText([redacted, {} chars])",
            self.0.chars().count()
        )
    }
}

impl From<&str> for SecretText {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl From<String> for SecretText {
    fn from(s: String) -> Self {
        Self(s)
    }
}
