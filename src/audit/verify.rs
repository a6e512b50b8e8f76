//! `audit verify`: recompute the chain (and the MACs, given the officer's key) and name the
//! first bad entry.

use super::{AuditKey, GENESIS_HASH, RecordedEntry, chain_hash, entry_mac, evolve};
use crate::store::{Store, StoreError, Tree};

/// A log that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries checked.
    pub entries: u64,
    /// Hash of the last entry (the genesis hash for an empty log).
    pub head: [u8; 32],
    /// Whether the MACs were checked (an officer key was given).
    pub macs_checked: bool,
}

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// An entry's bytes do not decode.
    #[error("entry {seq}: does not decode")]
    Undecodable {
        /// Position in the log.
        seq: u64,
    },
    /// A sequence number is missing or out of place.
    #[error("entry {seq}: gap or reorder (found sequence number {found})")]
    Sequence {
        /// Expected sequence number.
        seq: u64,
        /// What the entry says.
        found: u64,
    },
    /// The entry does not link to the previous one.
    #[error(
        "entry {seq}: does not link to the previous entry (deleted, inserted or reordered entry)"
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
    #[error("entry {seq}: MAC mismatch (entry forged or re-written, or wrong audit key)")]
    Mac {
        /// Sequence number.
        seq: u64,
    },
    /// The head does not match the last entry.
    #[error("the audit head does not match the last entry (entries {entries})")]
    Head {
        /// Entries present.
        entries: u64,
    },
    /// Reading failed.
    #[error("could not read the audit log: {0}")]
    Read(String),
}

impl From<StoreError> for VerifyError {
    fn from(e: StoreError) -> Self {
        VerifyError::Read(e.to_string())
    }
}

/// Verifies the whole log in a store.
pub fn verify_log(
    store: &dyn Store,
    officer_key: Option<&AuditKey>,
) -> Result<VerifyReport, VerifyError> {
    let mut prev = GENESIS_HASH;
    let mut mac_key = officer_key.map(|k| *k.bytes());
    let mut expected_seq = 0u64;
    let mut start = 0u64;
    loop {
        let batch = store.range(
            Tree::Audit,
            &start.to_be_bytes(),
            &u64::MAX.to_be_bytes(),
            4096,
        )?;
        if batch.is_empty() {
            break;
        }
        for (key, value) in &batch {
            let key_seq = u64::from_be_bytes(
                key.as_slice()
                    .try_into()
                    .map_err(|_| VerifyError::Undecodable { seq: expected_seq })?,
            );
            let rec: RecordedEntry = postcard::from_bytes(value)
                .map_err(|_| VerifyError::Undecodable { seq: expected_seq })?;
            if key_seq != expected_seq || rec.entry.seq != expected_seq {
                return Err(VerifyError::Sequence {
                    seq: expected_seq,
                    found: if key_seq != expected_seq {
                        key_seq
                    } else {
                        rec.entry.seq
                    },
                });
            }
            if rec.prev != prev {
                return Err(VerifyError::Link { seq: expected_seq });
            }
            if chain_hash(&prev, &rec.entry.canonical()) != rec.hash {
                return Err(VerifyError::Hash { seq: expected_seq });
            }
            if let Some(k) = mac_key.as_mut() {
                if !crate::crypto::ct_eq(&entry_mac(k, &rec.hash), &rec.mac) {
                    return Err(VerifyError::Mac { seq: expected_seq });
                }
                *k = evolve(k);
            }
            prev = rec.hash;
            expected_seq += 1;
        }
        start = expected_seq;
    }
    if let Some(k) = mac_key.as_mut() {
        use zeroize::Zeroize;
        k.zeroize();
    }
    let head = store
        .get(Tree::Meta, crate::store::AUDIT_HEAD_KEY)?
        .and_then(|h| postcard::from_bytes::<super::Head>(&h).ok())
        .ok_or(VerifyError::Head {
            entries: expected_seq,
        })?;
    if head.next_seq != expected_seq || head.hash != prev {
        return Err(VerifyError::Head {
            entries: expected_seq,
        });
    }
    Ok(VerifyReport {
        entries: expected_seq,
        head: prev,
        macs_checked: officer_key.is_some(),
    })
}
