//! Key grants: how a keyring that the admin cannot open receives a new class-key version
//! (rotation) or loses a retired one.
//!
//! The admin (key custodian) holds a custodian key `K_c`. Every keyring holds its own grant
//! key `G_u = HMAC-SHA256(K_c, "pv1/grant-key" | user id)`; the admin derives any `G_u` from
//! `K_c` without storing it. A grant is a list of operations ("add class C version v with
//! this key", "remove class C version v") sealed under `G_u` (the field envelope, table
//! `grant`, AAD bound to the vault and the grant id) and stored in the meta tree under
//! `grant/ | user id | time | random`. At the user's next unlock the session opens its
//! grants, applies them, rewraps its keyring under its KEK and deletes them — in the same
//! transaction as the unlock's audit entry.
//!
//! A revoked user's id is never addressed again, and their `G_u` opens nothing addressed
//! to anyone else, so an old copy of their keyring learns no key made after the revocation.

use crate::crypto::{self, ClassKey, CryptoError, Kek, RecordKey};
use crate::error::VaultError;
use crate::keyring::Keyring;
use crate::policy::{Class, Role};
use crate::store::{Tree, WriteSet};
use crate::vault::{UserRecord, Vault, now_ms};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Key prefix of pending grants in [`Tree::Meta`].
pub(crate) const GRANT_PREFIX: &[u8] = b"grant/";
/// The slot id of the recovery copy of the custodian keyring (it receives grants too).
pub(crate) const RECOVERY_SLOT_ID: [u8; 16] = *b"pv1/recovery-key";
const GRANT_TABLE: &str = "grant";
const GRANT_FIELD: &str = "grant";

/// One change to a keyring.
pub(crate) enum GrantOp {
    /// Add class-key version.
    Add(Class, u32, ClassKey),
    /// Remove class-key version.
    Remove(Class, u32),
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct WireOp {
    add: bool,
    class: u8,
    version: u32,
    key: [u8; 32],
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct WireGrant {
    format: u8,
    ops: Vec<WireOp>,
}

fn grant_record_key(grant_key: &ClassKey, vault_id: &[u8; 16], grant_id: &[u8; 16]) -> RecordKey {
    RecordKey::derive(grant_key, vault_id, GRANT_TABLE, grant_id, 0, 1)
}

fn prefix_of(slot_id: &[u8; 16]) -> Vec<u8> {
    [GRANT_PREFIX, slot_id.as_slice()].concat()
}

/// Seals `ops` for the keyring `slot_id` and adds the grant to `writes`.
pub(crate) fn seal_grant(
    writes: &mut WriteSet,
    grant_key: &ClassKey,
    vault_id: &[u8; 16],
    slot_id: &[u8; 16],
    ops: &[GrantOp],
) -> Result<(), CryptoError> {
    let mut grant_id = [0u8; 16];
    grant_id[..8].copy_from_slice(&(now_ms() as u64).to_be_bytes());
    crypto::fill_random(&mut grant_id[8..])?;
    let wire = WireGrant {
        format: 1,
        ops: ops
            .iter()
            .map(|op| match op {
                GrantOp::Add(c, v, k) => WireOp {
                    add: true,
                    class: c.code(),
                    version: *v,
                    key: *k.expose(),
                },
                GrantOp::Remove(c, v) => WireOp {
                    add: false,
                    class: c.code(),
                    version: *v,
                    key: [0; 32],
                },
            })
            .collect(),
    };
    let bytes = Zeroizing::new(postcard::to_stdvec(&wire).expect("grant serialises"));
    let sealed = grant_record_key(grant_key, vault_id, &grant_id).seal(GRANT_FIELD, &bytes)?;
    let mut key = prefix_of(slot_id);
    key.extend_from_slice(&grant_id);
    writes.put(Tree::Meta, key, sealed);
    Ok(())
}

/// Opened grant operations, the store keys of their grants, and how many did not open.
pub(crate) type Pending = (Vec<GrantOp>, Vec<Vec<u8>>, usize);

/// Grants addressed to `slot_id`, opened, oldest first, with their store keys. Grants that
/// do not open (tampered) are counted and left in place.
pub(crate) fn pending(
    vault: &Vault,
    slot_id: &[u8; 16],
    grant_key: &ClassKey,
) -> Result<Pending, VaultError> {
    let mut ops = Vec::new();
    let mut keys = Vec::new();
    let mut unreadable = 0;
    for (key, value) in vault.store.scan_prefix(Tree::Meta, &prefix_of(slot_id))? {
        let Some(grant_id) = key
            .get(key.len().saturating_sub(16)..)
            .and_then(|s| <[u8; 16]>::try_from(s).ok())
        else {
            unreadable += 1;
            continue;
        };
        let opened = grant_record_key(grant_key, &vault.vault_id, &grant_id)
            .open(GRANT_FIELD, &value)
            .ok()
            .and_then(|b| postcard::from_bytes::<WireGrant>(&b).ok());
        let Some(wire) = opened else {
            unreadable += 1;
            continue;
        };
        for op in &wire.ops {
            let Some(class) = Class::from_code(op.class) else {
                continue;
            };
            ops.push(if op.add {
                GrantOp::Add(class, op.version, ClassKey::from_bytes(op.key))
            } else {
                GrantOp::Remove(class, op.version)
            });
        }
        keys.push(key);
    }
    Ok((ops, keys, unreadable))
}

/// Applies grant operations to a keyring.
pub(crate) fn apply(ring: &mut Keyring, ops: Vec<GrantOp>) {
    for op in ops {
        match op {
            GrantOp::Add(c, v, k) => ring.insert(c, v, k),
            GrantOp::Remove(c, v) => {
                ring.remove(c, v);
            }
        }
    }
}

/// At unlock: gives an admin keyring made before custodian keys its custodian key, gives
/// a keyring its grant key when it can be derived, merges pending grants, and returns the
/// writes (rewrapped keyring, grants deleted) for the unlock's audit transaction and the
/// detail to log.
pub(crate) fn merge_at_unlock(
    vault: &Vault,
    record: &mut UserRecord,
    keyring: &mut Keyring,
    kek: &Kek,
) -> Result<(WriteSet, Option<String>), VaultError> {
    let mut writes = WriteSet::new();
    let mut changed = false;
    if record.role == Role::Admin && keyring.ensure_custodian()? {
        changed = true;
    }
    if keyring.grant_key().is_none()
        && let Some(g) = keyring.derive_grant_key(&record.id)
    {
        keyring.set_grant_key(g);
        changed = true;
    }
    let mut detail = None;
    if let Some(g) = keyring.grant_key().cloned() {
        let (ops, keys, unreadable) = pending(vault, &record.id, &g)?;
        if !keys.is_empty() {
            apply(keyring, ops);
            for k in &keys {
                writes.delete(Tree::Meta, k.clone());
            }
            changed = true;
            detail = Some(format!("grants_merged:{}", keys.len()));
        }
        if unreadable > 0 {
            detail = Some(format!(
                "{}grants_unreadable:{unreadable}",
                detail.map(|d| d + ",").unwrap_or_default()
            ));
        }
    }
    if changed {
        record.wrapped = keyring.wrap(kek, &vault.vault_id, &record.id)?;
        writes.put(
            Tree::Users,
            record.name.as_bytes(),
            postcard::to_stdvec(&*record).expect("user serialises"),
        );
    }
    Ok((writes, detail))
}

/// Number of grants waiting for each slot id.
pub(crate) fn pending_counts(
    vault: &Vault,
) -> Result<std::collections::BTreeMap<[u8; 16], usize>, VaultError> {
    let mut out = std::collections::BTreeMap::new();
    for (key, _) in vault.store.scan_prefix(Tree::Meta, GRANT_PREFIX)? {
        if let Some(slot) = key
            .get(GRANT_PREFIX.len()..GRANT_PREFIX.len() + 16)
            .and_then(|s| <[u8; 16]>::try_from(s).ok())
        {
            *out.entry(slot).or_insert(0) += 1;
        }
    }
    Ok(out)
}

/// Deletes every grant addressed to `slot_id` (revocation).
pub(crate) fn delete_all(
    vault: &Vault,
    slot_id: &[u8; 16],
    writes: &mut WriteSet,
) -> Result<usize, VaultError> {
    let found = vault.store.scan_prefix(Tree::Meta, &prefix_of(slot_id))?;
    let n = found.len();
    for (k, _) in found {
        writes.delete(Tree::Meta, k);
    }
    Ok(n)
}
