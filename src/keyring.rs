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
    /// This user's grant key: opens key grants addressed to this keyring (SECURITY.md
    /// "Key grants").
    grant: Option<ClassKey>,
    /// The custodian key (admin only): derives every user's grant key.
    custody: Option<ClassKey>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Which classes, never the bytes.
        let held: Vec<String> = self.keys.keys().map(|(c, v)| format!("{c}@v{v}")).collect();
        f.debug_struct("Keyring")
            .field("holds", &held)
            .field("checkpoint_signing", &self.signing.is_some())
            .field("grant_key", &self.grant.is_some())
            .field("custodian", &self.custody.is_some())
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

/// Format 2 adds the grant key and the custodian key (format 1 keyrings still open).
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct WireKeyringV2 {
    format: u8,
    entries: Vec<WireEntry>,
    signing: Option<[u8; 32]>,
    grant: Option<[u8; 32]>,
    custody: Option<[u8; 32]>,
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
            grant: None,
            custody: Some(ClassKey::generate()?),
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
            // Each user gets their own grant key; only an admin keeps the custodian key.
            grant: None,
            custody: if role == Role::Admin {
                self.custody.clone()
            } else {
                None
            },
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

    /// Every class key held, by class and version.
    pub(crate) fn class_keys(&self) -> impl Iterator<Item = (Class, u32, &ClassKey)> {
        self.keys.iter().map(|((c, v), k)| (*c, *v, k))
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
        let bytes = self.encode();
        wrapping_key(kek, vault_id, user_id).seal(KEYRING_FIELD, &bytes)
    }

    /// The serialised keyring (format 2), in a buffer wiped on drop.
    fn encode(&self) -> Zeroizing<Vec<u8>> {
        let wire = WireKeyringV2 {
            format: 2,
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
            grant: self.grant.as_ref().map(|k| *k.expose()),
            custody: self.custody.as_ref().map(|k| *k.expose()),
        };
        Zeroizing::new(postcard::to_stdvec(&wire).expect("keyring serialises"))
    }

    /// Opens a wrapped keyring; fails for a wrong passphrase, another user's slot, or tampering.
    pub(crate) fn unwrap(
        wrapped: &[u8],
        kek: &Kek,
        vault_id: &[u8; 16],
        user_id: &[u8; 16],
    ) -> Result<Keyring, CryptoError> {
        let bytes = wrapping_key(kek, vault_id, user_id).open(KEYRING_FIELD, wrapped)?;
        Keyring::decode(&bytes)
    }

    fn decode(bytes: &[u8]) -> Result<Keyring, CryptoError> {
        // postcard writes the leading u8 `format` as one byte.
        let wire: WireKeyringV2 = match bytes.first() {
            Some(1) => {
                let v1: WireKeyring =
                    postcard::from_bytes(bytes).map_err(|_| CryptoError::Malformed("keyring"))?;
                WireKeyringV2 {
                    format: 2,
                    entries: v1
                        .entries
                        .iter()
                        .map(|e| WireEntry {
                            class: e.class,
                            version: e.version,
                            key: e.key,
                        })
                        .collect(),
                    signing: v1.signing,
                    grant: None,
                    custody: None,
                }
            }
            Some(2) => {
                postcard::from_bytes(bytes).map_err(|_| CryptoError::Malformed("keyring"))?
            }
            _ => return Err(CryptoError::Malformed("keyring format")),
        };
        let mut keys = BTreeMap::new();
        for e in &wire.entries {
            let class = Class::from_code(e.class).ok_or(CryptoError::Malformed("keyring class"))?;
            keys.insert((class, e.version), ClassKey::from_bytes(e.key));
        }
        Ok(Keyring {
            keys,
            signing: wire.signing.map(ClassKey::from_bytes),
            grant: wire.grant.map(ClassKey::from_bytes),
            custody: wire.custody.map(ClassKey::from_bytes),
        })
    }

    // ---- key lifecycle (rotation, retirement, grants, recovery) -------------------------

    /// Adds (or replaces) one class-key version.
    pub(crate) fn insert(&mut self, class: Class, version: u32, key: ClassKey) {
        self.keys.insert((class, version), key);
    }

    /// Removes one class-key version; true if it was held.
    pub(crate) fn remove(&mut self, class: Class, version: u32) -> bool {
        self.keys.remove(&(class, version)).is_some()
    }

    /// Every version held of `class`, oldest first.
    pub fn versions(&self, class: Class) -> Vec<u32> {
        self.keys
            .range((class, 0)..=(class, u32::MAX))
            .map(|((_, v), _)| *v)
            .collect()
    }

    /// This keyring's grant key, if it has one.
    pub(crate) fn grant_key(&self) -> Option<&ClassKey> {
        self.grant.as_ref()
    }

    /// Sets this keyring's grant key.
    pub(crate) fn set_grant_key(&mut self, key: ClassKey) {
        self.grant = Some(key);
    }

    /// True for a custodian (admin) keyring.
    pub fn is_custodian(&self) -> bool {
        self.custody.is_some()
    }

    /// Gives a keyring made before custodian keys existed (format 1) a fresh one.
    pub(crate) fn ensure_custodian(&mut self) -> Result<bool, CryptoError> {
        if self.custody.is_some() {
            return Ok(false);
        }
        self.custody = Some(ClassKey::generate()?);
        Ok(true)
    }

    /// The grant key of the keyring with id `slot_id`, derived from the custodian key:
    /// `HMAC-SHA256(custodian key, "pv1/grant-key" | slot id)`. Only a custodian can.
    pub(crate) fn derive_grant_key(&self, slot_id: &[u8; 16]) -> Option<ClassKey> {
        self.custody.as_ref().map(|c| {
            ClassKey::from_bytes(crate::crypto::hmac_sha256(
                c.expose(),
                &[b"pv1/grant-key", slot_id],
            ))
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

    /// Key-slot format vector: Argon2id (test parameters) over a fixed passphrase and salt,
    /// then a fixed keyring wrapped with a fixed nonce → fixed bytes. A change here breaks
    /// every existing slot: it needs a new keyring format and a reader for the old one.
    #[cfg(feature = "insecure-test-kdf")]
    #[test]
    fn key_slot_format_vector() {
        use crate::crypto::{KdfParams, Passphrase, derive_kek};
        let kek = derive_kek(
            &Passphrase::from("vector passphrase"),
            &[4; 16],
            &KdfParams::INSECURE_TEST_ONLY,
        )
        .unwrap();
        let mut ring = Keyring::default();
        ring.keys
            .insert((Class::Identity, 1), ClassKey::from_bytes([1; 32]));
        ring.keys
            .insert((Class::Meta, 1), ClassKey::from_bytes([2; 32]));
        ring.signing = Some(ClassKey::from_bytes([3; 32]));
        let wrapped = wrapping_key(&kek, &[6; 16], &[7; 16])
            .seal_with_nonce(KEYRING_FIELD, &ring.encode(), &[5; 12])
            .unwrap();
        let text = format!(
            "kek {}\nslot {}\n",
            hex::encode(kek.expose()),
            hex::encode(&wrapped)
        );
        assert_eq!(text, include_str!("../tests/vectors/keyslot_v2.txt"));
        let back = Keyring::unwrap(&wrapped, &kek, &[6; 16], &[7; 16]).unwrap();
        assert_eq!(back.classes(), vec![Class::Identity, Class::Meta]);
    }

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
