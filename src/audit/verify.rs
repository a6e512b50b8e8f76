//! `audit verify`: recompute the chain, the forward-secure MACs (with the officer's key) and
//! the signed checkpoints, and name the first bad entry.

use super::entry::RawEntry;
use super::{AuditKey, Checkpoint, GENESIS_HASH, Head, chain_hash, entry_mac, evolve};
use crate::store::{Store, StoreError, Tree};
use std::collections::BTreeMap;

/// A log that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries checked.
    pub entries: u64,
    /// Hash of the last entry (the genesis hash for an empty log).
    pub head: [u8; 32],
    /// Whether the MACs were checked (an officer key was given).
    pub macs_checked: bool,
    /// Checkpoints checked (stored in the vault and given by the caller).
    pub checkpoints_checked: usize,
    /// Whether the checkpoint public key was pinned by the officer's key file.
    pub key_pinned: bool,
}

/// The first problem found. Each names the entry (sequence number) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// An entry's bytes do not decode.
    #[error("entry {seq}: does not decode (corrupted)")]
    Undecodable {
        /// Position in the log.
        seq: u64,
    },
    /// An entry is missing.
    #[error("entry {seq}: gap (entry missing; the next present is {found})")]
    Gap {
        /// First missing sequence number.
        seq: u64,
        /// The next one present.
        found: u64,
    },
    /// An entry is out of place.
    #[error("entry {seq}: reorder (position {seq} holds entry {found})")]
    Reorder {
        /// Position.
        seq: u64,
        /// The sequence number the entry carries.
        found: u64,
    },
    /// The entry does not link to the previous one.
    #[error(
        "entry {seq}: does not link to the previous entry (entry deleted, inserted or replaced)"
    )]
    Link {
        /// Sequence number.
        seq: u64,
    },
    /// The entry's content does not match its hash.
    #[error("entry {seq}: hash mismatch (entry modified)")]
    Hash {
        /// Sequence number.
        seq: u64,
    },
    /// The MAC does not verify under the officer's key chain.
    #[error(
        "entry {seq}: MAC mismatch (entry forged or rewritten, MAC key replaced, or wrong audit key)"
    )]
    Mac {
        /// Sequence number.
        seq: u64,
    },
    /// The head does not match the last entry.
    #[error(
        "head: does not match the last entry (log has {entries} entries; truncated or head replaced)"
    )]
    Head {
        /// Entries present.
        entries: u64,
    },
    /// A checkpoint's signature does not verify.
    #[error(
        "checkpoint at size {size}: signature does not verify (forged checkpoint or replaced signing key)"
    )]
    Signature {
        /// The checkpoint's size.
        size: u64,
    },
    /// The log is shorter than a checkpoint says it was.
    #[error(
        "log has {entries} entries, shorter than the checkpoint's {size} (truncated or rolled back)"
    )]
    ShorterThanCheckpoint {
        /// Entries present.
        entries: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// The entry at a checkpoint's position differs from the signed one.
    #[error("entry {seq}: fork (differs from the entry the checkpoint at size {size} signed)")]
    Fork {
        /// The entry at size - 1.
        seq: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// A checkpoint or key of another vault.
    #[error("the checkpoint or audit key belongs to another vault")]
    WrongVault,
    /// Reading failed.
    #[error("could not read the audit log: {0}")]
    Read(String),
}

impl VerifyError {
    /// The sequence number of the first bad entry, where there is one.
    pub fn seq(&self) -> Option<u64> {
        match self {
            VerifyError::Undecodable { seq }
            | VerifyError::Gap { seq, .. }
            | VerifyError::Reorder { seq, .. }
            | VerifyError::Link { seq }
            | VerifyError::Hash { seq }
            | VerifyError::Mac { seq }
            | VerifyError::Fork { seq, .. } => Some(*seq),
            _ => None,
        }
    }
}

impl From<StoreError> for VerifyError {
    fn from(e: StoreError) -> Self {
        VerifyError::Read(e.to_string())
    }
}

/// The chain walk shared by the vault and bundle paths.
struct Walker<'k> {
    prev: [u8; 32],
    mac_key: Option<[u8; 32]>,
    next: u64,
    wanted: BTreeMap<u64, Option<[u8; 32]>>,
    _key: Option<&'k AuditKey>,
}

impl Walker<'_> {
    fn step(&mut self, key_seq: u64, bytes: &[u8]) -> Result<(), VerifyError> {
        let expected = self.next;
        if key_seq > expected {
            return Err(VerifyError::Gap {
                seq: expected,
                found: key_seq,
            });
        }
        if key_seq < expected {
            return Err(VerifyError::Reorder {
                seq: expected,
                found: key_seq,
            });
        }
        let rec = RawEntry::parse(bytes).ok_or(VerifyError::Undecodable { seq: expected })?;
        let found = rec
            .seq()
            .ok_or(VerifyError::Undecodable { seq: expected })?;
        if found != expected {
            return Err(VerifyError::Reorder {
                seq: expected,
                found,
            });
        }
        if *rec.prev != self.prev {
            return Err(VerifyError::Link { seq: expected });
        }
        if chain_hash(&self.prev, rec.canonical) != *rec.hash {
            return Err(VerifyError::Hash { seq: expected });
        }
        if let Some(k) = self.mac_key.as_mut() {
            if !crate::crypto::ct_eq(&entry_mac(k, rec.hash), rec.mac) {
                return Err(VerifyError::Mac { seq: expected });
            }
            *k = evolve(k);
        }
        if let Some(slot) = self.wanted.get_mut(&(expected + 1)) {
            *slot = Some(*rec.hash);
        }
        self.prev = *rec.hash;
        self.next += 1;
        Ok(())
    }

    fn check_checkpoints(
        &self,
        checkpoints: &[Checkpoint],
        public_key: &[u8; 32],
        vault_id: &[u8; 16],
    ) -> Result<(), VerifyError> {
        for cp in checkpoints {
            if &cp.vault_id != vault_id {
                return Err(VerifyError::WrongVault);
            }
            if !cp.signature_valid(public_key) {
                return Err(VerifyError::Signature { size: cp.size });
            }
            if cp.size > self.next {
                return Err(VerifyError::ShorterThanCheckpoint {
                    entries: self.next,
                    size: cp.size,
                });
            }
            let at = if cp.size == 0 {
                Some(GENESIS_HASH)
            } else {
                self.wanted.get(&cp.size).copied().flatten()
            };
            if at != Some(cp.head) {
                return Err(VerifyError::Fork {
                    seq: cp.size.saturating_sub(1),
                    size: cp.size,
                });
            }
        }
        Ok(())
    }
}

fn walker<'k>(key: Option<&'k AuditKey>, checkpoints: &[Checkpoint]) -> Walker<'k> {
    Walker {
        prev: GENESIS_HASH,
        mac_key: key.map(|k| *k.mac_bytes()),
        next: 0,
        wanted: checkpoints.iter().map(|c| (c.size, None)).collect(),
        _key: key,
    }
}

impl Drop for Walker<'_> {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        if let Some(k) = self.mac_key.as_mut() {
            k.zeroize();
        }
    }
}

/// Verifies the whole log of a vault: the chain, the MACs (with the officer's key), the head,
/// the checkpoints stored in the vault and any `external` ones (e.g. the officer's file).
/// The checkpoint public key is the officer's pinned one when a key is given, else the
/// vault header's (`vault_public_key`).
pub fn verify_log(
    store: &dyn Store,
    vault_id: &[u8; 16],
    vault_public_key: &[u8; 32],
    officer_key: Option<&AuditKey>,
    external: &[Checkpoint],
) -> Result<VerifyReport, VerifyError> {
    if let Some(k) = officer_key
        && &k.vault_id != vault_id
    {
        return Err(VerifyError::WrongVault);
    }
    let mut checkpoints = super::stored_checkpoints(store)?;
    checkpoints.extend_from_slice(external);
    let mut w = walker(officer_key, &checkpoints);
    let mut failure = None;
    store.visit(Tree::Audit, &0u64.to_be_bytes(), &mut |key, value| {
        let step = <[u8; 8]>::try_from(key)
            .map(u64::from_be_bytes)
            .map_err(|_| VerifyError::Undecodable { seq: w.next })
            .and_then(|key_seq| w.step(key_seq, value));
        match step {
            Ok(()) => true,
            Err(e) => {
                failure = Some(e);
                false
            }
        }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    let head = Head::read(store).map_err(|_| VerifyError::Head { entries: w.next })?;
    if head.next_seq != w.next || head.hash != w.prev {
        // A shorter log than a checkpoint says is the more telling diagnosis.
        w.check_checkpoints(
            &checkpoints,
            pinned(officer_key, vault_public_key),
            vault_id,
        )?;
        return Err(VerifyError::Head { entries: w.next });
    }
    w.check_checkpoints(
        &checkpoints,
        pinned(officer_key, vault_public_key),
        vault_id,
    )?;
    Ok(VerifyReport {
        entries: w.next,
        head: w.prev,
        macs_checked: officer_key.is_some(),
        checkpoints_checked: checkpoints.len(),
        key_pinned: officer_key.is_some(),
    })
}

fn pinned<'a>(officer_key: Option<&'a AuditKey>, fallback: &'a [u8; 32]) -> &'a [u8; 32] {
    officer_key.map(|k| &k.public_key).unwrap_or(fallback)
}

/// Verifies an exported bundle offline: no vault, no data key. The public key is the
/// officer's pinned one when given, else the bundle's own (reported as not pinned).
pub fn verify_bundle(
    bundle: &super::Bundle,
    officer_key: Option<&AuditKey>,
    external: &[Checkpoint],
) -> Result<VerifyReport, VerifyError> {
    if let Some(k) = officer_key
        && k.vault_id != bundle.vault_id
    {
        return Err(VerifyError::WrongVault);
    }
    let mut checkpoints = bundle.checkpoints.clone();
    checkpoints.extend_from_slice(external);
    let mut w = walker(officer_key, &checkpoints);
    // A bundle has no keys: an entry out of place is a gap when the missing entry appears
    // nowhere, and a reorder when it appears elsewhere.
    let carried: Vec<Option<u64>> = bundle
        .entries
        .iter()
        .map(|b| RawEntry::parse(b).and_then(|r| r.seq()))
        .collect();
    for (i, bytes) in bundle.entries.iter().enumerate() {
        let position = i as u64;
        if let Some(found) = carried[i]
            && found != position
        {
            return Err(if carried.contains(&Some(position)) {
                VerifyError::Reorder {
                    seq: position,
                    found,
                }
            } else {
                VerifyError::Gap {
                    seq: position,
                    found,
                }
            });
        }
        w.step(position, bytes)?;
    }
    w.check_checkpoints(
        &checkpoints,
        pinned(officer_key, &bundle.public_key),
        &bundle.vault_id,
    )?;
    Ok(VerifyReport {
        entries: w.next,
        head: w.prev,
        macs_checked: officer_key.is_some(),
        checkpoints_checked: checkpoints.len(),
        key_pinned: officer_key.is_some(),
    })
}
