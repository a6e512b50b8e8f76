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
    /// A plain allowed entry for tests.
    #[cfg(test)]
    pub(crate) fn sample(seq: u64, time_ms: i64, actor: &str, action: Action) -> Entry {
        Entry {
            seq,
            time_ms,
            session: [1; 8],
            actor: actor.into(),
            role: None,
            action,
            targets: vec![],
            requested: vec![],
            returned: vec![],
            purpose: None,
            case_ref: None,
            reason: None,
            outcome: Outcome::Allowed,
            detail: None,
            flags: vec![],
        }
    }

    /// The canonical bytes that are hashed.
    pub fn canonical(&self) -> Vec<u8> {
        let most = self.most_canonical_len();
        let bytes = postcard::serialize_with_flavor(self, Reserved(Vec::with_capacity(most)))
            .expect("entry serialises");
        debug_assert!(bytes.len() <= most, "the canonical bound is short");
        bytes
    }

    /// The most bytes [`Entry::canonical`] can take: ten for every varint (lengths, tags,
    /// integers), sixteen for every record id, and the strings' bytes. An export's entry
    /// names millions of records; serialised into a vector grown by doubling, it would be
    /// copied, and its memory first touched, about twice over.
    fn most_canonical_len(&self) -> usize {
        const VARINT: usize = 10;
        let text = |s: &str| VARINT + s.len();
        let texts = |v: &[String]| VARINT + v.iter().map(|s| text(s)).sum::<usize>();
        let maybe = |s: &Option<String>| 1 + s.as_deref().map_or(0, text);
        // seq, time, role (its option tag and variant), action, outcome: one varint each at
        // most; session: 8 bytes; case_ref: an option tag and 16 bytes.
        5 * VARINT
            + 8
            + 17
            + text(&self.actor)
            + VARINT
            + 16 * self.targets.len()
            + texts(&self.requested)
            + texts(&self.returned)
            + maybe(&self.purpose)
            + maybe(&self.reason)
            + maybe(&self.detail)
            + texts(&self.flags)
    }
}

/// postcard output into a vector reserved up front (see [`Entry::most_canonical_len`]).
struct Reserved(Vec<u8>);

impl postcard::ser_flavors::Flavor for Reserved {
    type Output = Vec<u8>;

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(data);
        Ok(())
    }

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.push(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<Vec<u8>> {
        Ok(self.0)
    }
}

/// An entry as stored: with its chain links and MAC.
///
/// Stored bytes: `prev (32) | hash (32) | mac (32) | canonical entry`. Verification hashes
/// the canonical bytes as stored, without decoding and re-encoding them.
#[derive(Debug, Clone, PartialEq, Eq)]
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

const LINKS: usize = 96;

impl RecordedEntry {
    /// The stored bytes.
    pub fn encode(&self) -> Vec<u8> {
        Self::encode_parts(
            &self.prev,
            &self.hash,
            &self.mac,
            &[&self.entry.canonical()],
        )
    }

    /// The stored bytes of an entry whose canonical bytes are `canonical`, concatenated.
    pub(crate) fn encode_parts(
        prev: &[u8; 32],
        hash: &[u8; 32],
        mac: &[u8; 32],
        canonical: &[&[u8]],
    ) -> Vec<u8> {
        let len = canonical.iter().map(|p| p.len()).sum::<usize>();
        let mut out = Vec::with_capacity(LINKS + len);
        out.extend_from_slice(prev);
        out.extend_from_slice(hash);
        out.extend_from_slice(mac);
        for part in canonical {
            out.extend_from_slice(part);
        }
        out
    }

    /// Decodes stored bytes.
    pub fn decode(bytes: &[u8]) -> Option<RecordedEntry> {
        let raw = RawEntry::parse(bytes)?;
        Some(RecordedEntry {
            entry: postcard::from_bytes(raw.canonical).ok()?,
            prev: *raw.prev,
            hash: *raw.hash,
            mac: *raw.mac,
        })
    }
}

/// A stored entry seen without decoding it.
pub(crate) struct RawEntry<'a> {
    pub prev: &'a [u8; 32],
    pub hash: &'a [u8; 32],
    pub mac: &'a [u8; 32],
    pub canonical: &'a [u8],
}

impl<'a> RawEntry<'a> {
    pub fn parse(bytes: &'a [u8]) -> Option<RawEntry<'a>> {
        if bytes.len() <= LINKS {
            return None;
        }
        Some(RawEntry {
            prev: bytes[0..32].try_into().ok()?,
            hash: bytes[32..64].try_into().ok()?,
            mac: bytes[64..96].try_into().ok()?,
            canonical: &bytes[LINKS..],
        })
    }

    /// The sequence number: the first field of the canonical encoding (a postcard varint).
    pub fn seq(&self) -> Option<u64> {
        let mut value = 0u64;
        for (i, b) in self.canonical.iter().take(10).enumerate() {
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The canonical bytes are postcard's, whatever room was reserved for them: for a bulk
    /// entry with every option set and long multi-byte strings, and for an empty one; and
    /// they fit the bound reserved for them.
    #[test]
    fn canonical_bytes_are_postcards_within_the_reserved_room() {
        let mut bulk = Entry::sample(u64::MAX, i64::MIN, &"审计员".repeat(40), Action::Export);
        bulk.role = Some(Role::Supervisor);
        bulk.targets = (0..3000u32)
            .map(|i| {
                let mut id = [0xff; 16];
                id[..4].copy_from_slice(&i.to_be_bytes());
                RecordId(id)
            })
            .collect();
        bulk.requested = vec!["字段".repeat(100); 20];
        bulk.returned = vec!["class:identity".into(); 300];
        bulk.purpose = Some("export:full".repeat(50));
        bulk.case_ref = Some(RecordId([0x80; 16]));
        bulk.reason = Some("理由".repeat(500));
        bulk.outcome = Outcome::Denied;
        bulk.detail = Some("export_id:".repeat(30));
        bulk.flags = vec!["canary".into(); 200];
        let empty = Entry::sample(0, 0, "", Action::Export);
        let mut ids_only = Entry::sample(1 << 40, 1_764_000_000_000, "e", Action::Export);
        ids_only.targets = vec![RecordId([0x42; 16]); 100_000];
        for e in [bulk, empty, ids_only] {
            let bytes = e.canonical();
            assert_eq!(bytes, postcard::to_stdvec(&e).unwrap());
            assert!(bytes.len() <= e.most_canonical_len());
        }
        // Sixteen bytes an id, not more: the room is the size, not a multiple of it.
        let mut e = Entry::sample(0, 0, "e", Action::Export);
        e.targets = vec![RecordId([1; 16]); 100_000];
        assert!(e.most_canonical_len() - e.canonical().len() < 256);
    }

    /// Format vector: a fixed entry → fixed stored bytes. A change here changes every
    /// hash in every log: it needs a new format number and a reader for format 1.
    #[test]
    fn audit_entry_format_vector() {
        let e = Entry {
            seq: 42,
            time_ms: 1_764_000_000_000,
            session: [7; 8],
            actor: "sun.auditor".into(),
            role: Some(Role::Supervisor),
            action: Action::PetitionerReveal,
            targets: vec![RecordId([0xab; 16])],
            requested: vec!["id_number".into()],
            returned: vec!["class:identity".into()],
            purpose: Some("verify_identity".into()),
            case_ref: Some(RecordId([0xcd; 16])),
            reason: Some("核实身份".into()),
            outcome: Outcome::Allowed,
            detail: None,
            flags: vec!["unassigned_case".into()],
        };
        let r = RecordedEntry {
            entry: e,
            prev: [1; 32],
            hash: [2; 32],
            mac: [3; 32],
        };
        let expected = include_str!("../../tests/vectors/audit_entry_v1.hex").trim();
        assert_eq!(hex::encode(r.encode()), expected);
        let hash = super::super::chain_hash(&[1; 32], &r.entry.canonical());
        assert_eq!(
            hex::encode(hash),
            include_str!("../../tests/vectors/audit_entry_v1.hash").trim()
        );
    }

    #[test]
    fn raw_seq_reads_the_varint() {
        for seq in [0u64, 1, 127, 128, 300, 1 << 40, u64::MAX] {
            let e = Entry::sample(seq, 1, "a", Action::Unlock);
            let r = RecordedEntry {
                entry: e,
                prev: [1; 32],
                hash: [2; 32],
                mac: [3; 32],
            };
            let bytes = r.encode();
            assert_eq!(RawEntry::parse(&bytes).unwrap().seq(), Some(seq));
            assert_eq!(RecordedEntry::decode(&bytes).unwrap(), r);
        }
    }
}
