//! Class keys, key versions and user keyrings.
//!
//! A keyring holds the class keys of one role (and nothing else): an analyst's keyring
//! does not contain the identity key at all. It is serialised, then sealed under the
//! user's passphrase-derived KEK with an envelope bound to the vault id and user id.

use crate::crypto::{ClassKey, CryptoError, Kek, RecordKey};
use crate::policy::{Class, Role};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// The class keys a user holds, by class and version, and the vault's checkpoint signing
/// key (every session may sign the audit checkpoints it triggers).
#[derive(Clone, Default)]
pub struct Keyring {
    keys: BTreeMap<(Class, u32), ClassKey>,
    signing: Option<ClassKey>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Which classes, never the bytes.
        let held: Vec<String> = self.keys.keys().map(|(c, v)| format!("{c}@v{v}")).collect();
        f.debug_struct("Keyring")
            .field("holds", &held)
            .field("checkpoint_signing", &self.signing.is_some())
            .finish()
    }
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct WireEntry {
    class: u8,
    version: u32,
    key: [u8; 32],
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct WireKeyring {
    format: u8,
    entries: Vec<WireEntry>,
    signing: Option<[u8; 32]>,
}

const KEYRING_TABLE: &str = "keyring";
const KEYRING_FIELD: &str = "keyring";

impl Keyring {
    /// A keyring with a fresh version-1 key for every class (the admin's, at `init`).
    pub(crate) fn generate_all() -> Result<Keyring, CryptoError> {
        let mut keys = BTreeMap::new();
        for class in Class::ALL {
            keys.insert((class, 1), ClassKey::generate()?);
        }
        Ok(Keyring {
            keys,
            signing: Some(ClassKey::generate()?),
        })
    }

    /// The Ed25519 checkpoint signing key, if this keyring carries it.
    pub(crate) fn signing_key(&self) -> Option<ed25519_dalek::SigningKey> {
        self.signing
            .as_ref()
            .map(|k| ed25519_dalek::SigningKey::from_bytes(k.expose()))
    }

    /// The subset of this keyring that `role` may hold (all versions of its classes).
    pub(crate) fn for_role(&self, role: Role) -> Keyring {
        let classes = role.key_classes();
        Keyring {
            keys: self
                .keys
                .iter()
                .filter(|((c, _), _)| classes.contains(c))
                .map(|(k, v)| (*k, v.clone()))
                .collect(),
            signing: self.signing.clone(),
        }
    }

    /// Does this keyring hold any key of `class`?
    pub fn holds(&self, class: Class) -> bool {
        self.current_version(class).is_some()
    }

    /// The classes held.
    pub fn classes(&self) -> Vec<Class> {
        let mut out: Vec<Class> = self.keys.keys().map(|(c, _)| *c).collect();
        out.dedup();
        out
    }

    /// The newest version held of `class`.
    pub fn current_version(&self, class: Class) -> Option<u32> {
        self.keys
            .range((class, 0)..=(class, u32::MAX))
            .next_back()
            .map(|((_, v), _)| *v)
    }

    pub(crate) fn key(&self, class: Class, version: u32) -> Option<&ClassKey> {
        self.keys.get(&(class, version))
    }

    /// The newest key of `class` and its version.
    pub(crate) fn current(&self, class: Class) -> Option<(u32, &ClassKey)> {
        let v = self.current_version(class)?;
        Some((v, &self.keys[&(class, v)]))
    }

    /// Seals this keyring under a KEK, bound to the vault and the user.
    pub(crate) fn wrap(
        &self,
        kek: &Kek,
        vault_id: &[u8; 16],
        user_id: &[u8; 16],
    ) -> Result<Vec<u8>, CryptoError> {
        let wire = WireKeyring {
            format: 1,
            entries: self
                .keys
                .iter()
                .map(|((c, v), k)| WireEntry {
                    class: c.code(),
                    version: *v,
                    key: *k.expose(),
                })
                .collect(),
            signing: self.signing.as_ref().map(|k| *k.expose()),
        };
        let bytes = Zeroizing::new(postcard::to_stdvec(&wire).expect("keyring serialises"));
        wrapping_key(kek, vault_id, user_id).seal(KEYRING_FIELD, &bytes)
    }

    /// Opens a wrapped keyring; fails for a wrong passphrase, another user's slot, or tampering.
    pub(crate) fn unwrap(
        wrapped: &[u8],
        kek: &Kek,
        vault_id: &[u8; 16],
        user_id: &[u8; 16],
    ) -> Result<Keyring, CryptoError> {
        let bytes = wrapping_key(kek, vault_id, user_id).open(KEYRING_FIELD, wrapped)?;
        let wire: WireKeyring =
            postcard::from_bytes(&bytes).map_err(|_| CryptoError::Malformed("keyring"))?;
        if wire.format != 1 {
            return Err(CryptoError::Malformed("keyring format"));
        }
        let mut keys = BTreeMap::new();
        for e in &wire.entries {
            let class = Class::from_code(e.class).ok_or(CryptoError::Malformed("keyring class"))?;
            keys.insert((class, e.version), ClassKey::from_bytes(e.key));
        }
        Ok(Keyring {
            keys,
            signing: wire.signing.map(ClassKey::from_bytes),
        })
    }
}

fn wrapping_key(kek: &Kek, vault_id: &[u8; 16], user_id: &[u8; 16]) -> RecordKey {
    // The KEK is used as the input key of the same envelope construction as fields,
    // class code 0 ("keyring"), version 1: AAD = vault id | "keyring" | user id.
    RecordKey::derive(
        &ClassKey::from_bytes(*kek.expose()),
        vault_id,
        KEYRING_TABLE,
        user_id,
        0,
        1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_subset_lacks_other_classes() {
        let all = Keyring::generate_all().unwrap();
        let analyst = all.for_role(Role::Analyst);
        assert!(!analyst.holds(Class::Identity));
        assert!(!analyst.holds(Class::Contact));
        assert!(analyst.holds(Class::Masked));
        assert_eq!(analyst.classes(), vec![Class::Masked, Class::Meta]);
    }

    #[test]
    fn wrap_unwrap_binds_user_and_vault() {
        let ring = Keyring::generate_all().unwrap().for_role(Role::Handler);
        let kek = Kek::from_bytes([5; 32]);
        let w = ring.wrap(&kek, &[1; 16], &[2; 16]).unwrap();
        let back = Keyring::unwrap(&w, &kek, &[1; 16], &[2; 16]).unwrap();
        assert_eq!(back.classes(), ring.classes());
        assert!(Keyring::unwrap(&w, &kek, &[1; 16], &[3; 16]).is_err());
        assert!(Keyring::unwrap(&w, &kek, &[9; 16], &[2; 16]).is_err());
        assert!(Keyring::unwrap(&w, &Kek::from_bytes([6; 32]), &[1; 16], &[2; 16]).is_err());
    }

    #[test]
    fn debug_shows_classes_not_bytes() {
        let ring = Keyring::generate_all().unwrap();
        let (_, key) = ring.current(Class::Identity).unwrap();
        let dbg = format!("{ring:?}");
        assert!(dbg.contains("identity@v1"));
        assert!(!dbg.contains(&hex::encode(key.expose())));
        assert!(!dbg.contains(&format!("{:?}", key.expose())));
    }
}
