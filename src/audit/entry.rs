//! The audit entry and its canonical encoding.
//!
//! Canonical encoding (frozen, format 1): the postcard serialisation of [`Entry`] with its
//! fields in declaration order — varint integers (zigzag for `time_ms`), length-prefixed
//! UTF-8 strings and sequences, one varint tag for enums (`Role`, `Action`, `Outcome`: the
//! declaration index) and options. postcard's wire format is stable (1.0). New `Action`
//! variants are only ever appended, so old entries keep their encoding. The test vector in
//! `tests/vectors/audit_entry_v1.hex` pins it.

use crate::model::RecordId;
use crate::policy::{Action, Role};
use serde::{Deserialize, Serialize};

/// Allowed or denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The action went ahead.
    Allowed,
    /// Policy, authentication or an error stopped it.
    Denied,
}

impl Outcome {
    /// "allowed" or "denied".
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
        }
    }
}

/// One access, as ids and codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Sequence number, from 0, gap-free.
    pub seq: u64,
    /// Unix time in milliseconds.
    pub time_ms: i64,
    /// Random id of the session that acted (zero for failed unlocks).
    pub session: [u8; 8],
    /// The user name that acted (or tried to).
    pub actor: String,
    /// The actor's role, when known.
    pub role: Option<Role>,
    /// What was asked.
    pub action: Action,
    /// The records touched (ids only).
    pub targets: Vec<RecordId>,
    /// The field classes/names asked for.
    pub requested: Vec<String>,
    /// The field classes/names returned.
    pub returned: Vec<String>,
    /// Purpose code (e.g. `verify_identity`, `handle_case`), for reveals and exports.
    pub purpose: Option<String>,
    /// The case the access was for, when one was named.
    pub case_ref: Option<RecordId>,
    /// The stated reason (already scrubbed of PII), for reveals and exports.
    pub reason: Option<String>,
    /// Allowed or denied.
    pub outcome: Outcome,
    /// A short code saying why (e.g. `not_assigned`, `bad_passphrase`).
    pub detail: Option<String>,
    /// Codes the compliance report looks for: `canary` (a honey record was touched),
    /// `unassigned_case` (a case read by someone it is not assigned to).
    pub flags: Vec<String>,
}

impl Entry {
    /// The canonical bytes that are hashed.
    pub fn canonical(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("entry serialises")
    }
}

/// An entry as stored: with its chain links and MAC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedEntry {
    /// The entry.
    pub entry: Entry,
    /// The previous entry's hash.
    pub prev: [u8; 32],
    /// This entry's hash.
    pub hash: [u8; 32],
    /// The forward-secure MAC of `hash`.
    pub mac: [u8; 32],
}
