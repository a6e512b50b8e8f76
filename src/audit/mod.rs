//! The access log: every look at a record leaves an entry that is committed before any
//! plaintext is returned, in the same transaction as any write it describes.
//!
//! Integrity has two layers here (signed checkpoints come with the audit issue):
//! - a hash chain: `hash_i = SHA-256("pv-audit-v1" | hash_{i-1} | canonical(entry_i))`;
//! - a forward-secure MAC: `mac_i = HMAC-SHA256(k_i, hash_i)`, `k_{i+1} = SHA-256("pv-audit-evolve" | k_i)`.
//!   `k_0` is handed to the compliance officer at `init` and not kept; the vault keeps
//!   only the current key, so an intruder who reads it cannot re-MAC earlier entries.
//!
//! Entries hold ids and codes only — never a name, ID number, phone, address or text.

mod entry;
mod verify;

pub use entry::{Entry, Outcome, RecordedEntry};
pub use verify::{VerifyError, VerifyReport, verify_log};

use crate::crypto::{self, DerivedKey};
use crate::store::{AUDIT_HEAD_KEY, AuditAppend, Store, StoreError, Tree, WriteSet};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Proof that an audit entry describing an access is durably committed. Only
/// [`commit`] makes one; the gate's decrypt functions take it as an argument, so a read
/// path that skips the log does not compile.
#[derive(Debug)]
pub struct AuditCommitted {
    seq: u64,
}

impl AuditCommitted {
    /// The sequence number of the committed entry.
    pub fn seq(&self) -> u64 {
        self.seq
    }
}

/// The chain head: next sequence number, last hash, current forward-secure MAC key.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub(crate) struct Head {
    pub next_seq: u64,
    pub hash: [u8; 32],
    pub mac_key: [u8; 32],
}

/// The hash that precedes the first entry.
pub const GENESIS_HASH: [u8; 32] = [0u8; 32];

/// The compliance officer's audit key `k_0`: verifies the forward-secure MACs.
pub struct AuditKey(DerivedKey);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey([redacted])")
    }
}

impl AuditKey {
    pub(crate) fn generate() -> Result<AuditKey, crypto::CryptoError> {
        Ok(AuditKey(DerivedKey::generate()?))
    }

    /// Hex text for the officer's key file.
    pub fn to_hex(&self) -> zeroize::Zeroizing<String> {
        zeroize::Zeroizing::new(hex::encode(self.0.expose()))
    }

    /// Parses a key file's text (64 hex digits).
    pub fn from_hex(text: &str) -> Option<AuditKey> {
        let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text.trim(), bytes.as_mut_slice()).ok()?;
        Some(AuditKey(DerivedKey::from_bytes(*bytes)))
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        self.0.expose()
    }
}

pub(crate) fn evolve(key: &[u8; 32]) -> [u8; 32] {
    crypto::sha256(&[b"pv-audit-evolve", key])
}

pub(crate) fn chain_hash(prev: &[u8; 32], canonical: &[u8]) -> [u8; 32] {
    crypto::sha256(&[b"pv-audit-v1", prev, canonical])
}

pub(crate) fn entry_mac(key: &[u8; 32], hash: &[u8; 32]) -> [u8; 32] {
    crypto::hmac_sha256(key, &[b"pv-audit-mac", hash])
}

/// The writes that start an empty log with officer key `k_0`.
pub(crate) fn genesis_writes(k0: &AuditKey, writes: &mut WriteSet) {
    let head = Head {
        next_seq: 0,
        hash: GENESIS_HASH,
        mac_key: *k0.bytes(),
    };
    writes.put(
        Tree::Meta,
        AUDIT_HEAD_KEY,
        postcard::to_stdvec(&head).expect("head serialises"),
    );
}

/// Appends `entry` (its `seq` is assigned here) together with `writes`, atomically and
/// durably. On any failure nothing is written and no proof is returned: the caller must
/// not return plaintext (fail closed).
pub(crate) fn commit(
    store: &dyn Store,
    writes: &WriteSet,
    entry: &Entry,
) -> Result<AuditCommitted, StoreError> {
    let seq_cell = std::cell::Cell::new(0u64);
    let build = |head: Option<&[u8]>| -> Result<AuditAppend, StoreError> {
        let head: Head = head
            .and_then(|h| postcard::from_bytes(h).ok())
            .ok_or_else(|| StoreError::Audit("the audit head is missing or unreadable".into()))?;
        let mut e = entry.clone();
        e.seq = head.next_seq;
        let canonical = e.canonical();
        let hash = chain_hash(&head.hash, &canonical);
        let mac = entry_mac(&head.mac_key, &hash);
        let recorded = RecordedEntry {
            entry: e,
            prev: head.hash,
            hash,
            mac,
        };
        let new_head = Head {
            next_seq: head.next_seq + 1,
            hash,
            mac_key: evolve(&head.mac_key),
        };
        seq_cell.set(head.next_seq);
        Ok(AuditAppend {
            key: head.next_seq.to_be_bytes().to_vec(),
            entry: postcard::to_stdvec(&recorded).expect("entry serialises"),
            head: postcard::to_stdvec(&new_head).expect("head serialises"),
        })
    };
    store.commit(writes, &build)?;
    Ok(AuditCommitted {
        seq: seq_cell.get(),
    })
}

/// Formats an entry time (unix ms) as RFC 3339 UTC.
pub fn format_time(ms: i64) -> String {
    crate::session::format_ms(ms)
}

/// Number of entries committed (the head's next sequence number).
pub fn log_len(store: &dyn Store) -> Result<u64, StoreError> {
    let head = store
        .get(Tree::Meta, AUDIT_HEAD_KEY)?
        .ok_or_else(|| StoreError::Audit("the audit head is missing".into()))?;
    let head: Head = postcard::from_bytes(&head)
        .map_err(|_| StoreError::Audit("the audit head is unreadable".into()))?;
    Ok(head.next_seq)
}

/// Reads entries `[from, from + limit)` in order.
pub fn read_entries(
    store: &dyn Store,
    from: u64,
    limit: usize,
) -> Result<Vec<RecordedEntry>, StoreError> {
    store
        .range(
            Tree::Audit,
            &from.to_be_bytes(),
            &u64::MAX.to_be_bytes(),
            limit,
        )?
        .into_iter()
        .map(|(k, v)| {
            postcard::from_bytes(&v).map_err(|_| {
                StoreError::Corrupt(format!(
                    "audit entry at key {} does not decode",
                    hex::encode(k)
                ))
            })
        })
        .collect()
}
