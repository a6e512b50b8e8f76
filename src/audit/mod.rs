//! The access log: every look at a record leaves an entry that is committed before any
//! plaintext is returned, in the same transaction as any write it describes.
//!
//! Integrity has three layers:
//! - a hash chain: `hash_i = SHA-256("pv-audit-v1" | hash_{i-1} | canonical(entry_i))`;
//! - a forward-secure MAC: `mac_i = HMAC-SHA256(k_i, "pv-audit-mac" | hash_i)`,
//!   `k_{i+1} = SHA-256("pv-audit-evolve" | k_i)`. `k_0` is handed to the compliance officer
//!   at `init` and not kept; the vault keeps only the current key, so an intruder who reads
//!   it cannot re-MAC earlier entries;
//! - Ed25519-signed [`Checkpoint`]s of (size, head hash), made automatically every N entries
//!   or minutes and on demand, and exported outside the vault.
//!
//! Entries hold ids and codes only — never a name, ID number, phone, address or text.

mod bundle;
mod checkpoint;
mod entry;
pub mod report;
mod verify;

pub use bundle::{Bundle, read_bundle, write_bundle};
pub use checkpoint::Checkpoint;
pub use entry::{Entry, Outcome, RecordedEntry};
pub use verify::{VerifyError, VerifyReport, verify_bundle, verify_log};

use crate::crypto::{self, DerivedKey};
use crate::model::RecordId;
use crate::policy::Action;
use crate::store::{AUDIT_HEAD_KEY, AuditAppend, Store, StoreError, Tree, WriteSet};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Proof that an audit entry describing an access is durably committed. Only the audit
/// commit makes one; the gate's decrypt functions take it as an argument, so a read
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

/// The chain head: next sequence number, last hash, current forward-secure MAC key, and
/// when the last automatic checkpoint was made.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub(crate) struct Head {
    pub next_seq: u64,
    pub hash: [u8; 32],
    pub mac_key: [u8; 32],
    pub last_checkpoint_size: u64,
    pub last_checkpoint_ms: i64,
}

impl Head {
    pub(crate) fn read(store: &dyn Store) -> Result<Head, StoreError> {
        let bytes = store
            .get(Tree::Meta, AUDIT_HEAD_KEY)?
            .ok_or_else(|| StoreError::Audit("the audit head is missing".into()))?;
        postcard::from_bytes(&bytes)
            .map_err(|_| StoreError::Audit("the audit head is unreadable".into()))
    }
}

/// The hash that precedes the first entry.
pub const GENESIS_HASH: [u8; 32] = [0u8; 32];

/// The compliance officer's audit key: the first MAC key `k_0`, the vault's checkpoint
/// public key (pinned, so a replaced key in the vault is noticed) and the vault id.
pub struct AuditKey {
    mac_key: DerivedKey,
    /// The vault's Ed25519 checkpoint public key.
    pub public_key: [u8; 32],
    /// The vault id.
    pub vault_id: [u8; 16],
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditKey")
            .field("mac_key", &"[redacted]")
            .field("vault_id", &hex::encode(self.vault_id))
            .finish()
    }
}

const KEY_FILE_TAG: &str = "petition-vault audit key v1";

impl AuditKey {
    pub(crate) fn new(mac_key: DerivedKey, public_key: [u8; 32], vault_id: [u8; 16]) -> AuditKey {
        AuditKey {
            mac_key,
            public_key,
            vault_id,
        }
    }

    /// The key file's text (keep it away from the vault machine).
    pub fn to_text(&self) -> zeroize::Zeroizing<String> {
        zeroize::Zeroizing::new(format!(
            "{KEY_FILE_TAG}\nvault {}\nmac-key {}\npublic-key {}\n",
            hex::encode(self.vault_id),
            hex::encode(self.mac_key.expose()),
            hex::encode(self.public_key)
        ))
    }

    /// Parses a key file.
    pub fn from_text(text: &str) -> Result<AuditKey, String> {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        if lines.next() != Some(KEY_FILE_TAG) {
            return Err(format!(
                "not an audit key file (first line must be \"{KEY_FILE_TAG}\")"
            ));
        }
        let mut vault_id = None;
        let mut mac = None;
        let mut public = None;
        for line in lines {
            let (k, v) = line
                .split_once(' ')
                .ok_or("malformed audit key file line")?;
            match k {
                "vault" => vault_id = Some(decode_hex::<16>(v)?),
                "mac-key" => mac = Some(decode_hex::<32>(v)?),
                "public-key" => public = Some(decode_hex::<32>(v)?),
                _ => return Err("unknown line in the audit key file".into()),
            }
        }
        match (vault_id, mac, public) {
            (Some(vault_id), Some(mut mac), Some(public_key)) => {
                let key = DerivedKey::from_bytes(mac);
                mac.zeroize();
                Ok(AuditKey::new(key, public_key, vault_id))
            }
            _ => Err("the audit key file lacks the vault, mac-key or public-key line".into()),
        }
    }

    pub(crate) fn mac_bytes(&self) -> &[u8; 32] {
        self.mac_key.expose()
    }
}

fn decode_hex<const N: usize>(s: &str) -> Result<[u8; N], String> {
    let mut out = [0u8; N];
    hex::decode_to_slice(s.trim(), &mut out)
        .map_err(|_| format!("expected {} hex digits", 2 * N))?;
    Ok(out)
}

pub(crate) fn evolve(key: &[u8; 32]) -> [u8; 32] {
    crypto::sha256(&[b"pv-audit-evolve", key])
}

/// Domain of the chain hash.
const CHAIN_DOMAIN: &[u8] = b"pv-audit-v1";

pub(crate) fn chain_hash(prev: &[u8; 32], canonical: &[u8]) -> [u8; 32] {
    crypto::sha256(&[CHAIN_DOMAIN, prev, canonical])
}

pub(crate) fn entry_mac(key: &[u8; 32], hash: &[u8; 32]) -> [u8; 32] {
    crypto::hmac_sha256(key, &[b"pv-audit-mac", hash])
}

/// The writes that start an empty log with the officer's first MAC key.
pub(crate) fn genesis_writes(k0: &AuditKey, writes: &mut WriteSet) {
    let head = Head {
        next_seq: 0,
        hash: GENESIS_HASH,
        mac_key: *k0.mac_bytes(),
        last_checkpoint_size: 0,
        last_checkpoint_ms: 0,
    };
    writes.put(
        Tree::Meta,
        AUDIT_HEAD_KEY,
        postcard::to_stdvec(&head).expect("head serialises"),
    );
}

/// When automatic checkpoints are made.
#[derive(Debug, Clone, Copy)]
pub struct CheckpointPolicy {
    /// After this many entries since the last one.
    pub every_entries: u64,
    /// Or after this many milliseconds.
    pub every_ms: i64,
}

impl Default for CheckpointPolicy {
    fn default() -> Self {
        CheckpointPolicy {
            every_entries: 1000,
            every_ms: 10 * 60 * 1000,
        }
    }
}

/// What a session lends the commit to sign automatic checkpoints.
pub(crate) struct Signer<'a> {
    pub key: &'a ed25519_dalek::SigningKey,
    pub vault_id: [u8; 16],
    pub policy: CheckpointPolicy,
    /// Force a checkpoint on this commit (on-demand `audit checkpoint`).
    pub force: bool,
}

/// Key prefix of the checkpoints kept in the vault (`Tree::Meta`).
pub(crate) const CHECKPOINT_PREFIX: &[u8] = b"checkpoint/";

/// An entry naming more records than this (an import batch, an export, a long case list)
/// is indexed in buckets instead of once per record: one key per first byte of the record
/// ids it names, `b | first byte | seq`, whose value is those ids, sorted. A query by
/// record scans its bucket prefix — one small value per bulk entry — and looks the id up
/// there. One key per exported record made a 100k-record export commit 200k keys in one
/// transaction (2.2 s, ~590 MB resident); one per imported record made the audit index a
/// fifth of an import batch's keys (2,001 of ~10,000), against at most 257 in buckets.
/// Entries written under an earlier limit keep their keys; queries read both kinds.
pub(crate) const BULK_TARGETS: usize = 256;
const BULK_PREFIX: u8 = b'b';

/// Whether `ids` (16-byte ids, concatenated, sorted) contains `id`.
fn sorted_ids_contain(ids: &[u8], id: &[u8; 16]) -> bool {
    let (mut lo, mut hi) = (0, ids.len() / 16);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match ids[mid * 16..mid * 16 + 16].cmp(&id[..]) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// The audit-index entries of `entry` (committed as `seq`): (key, value).
fn index_entries(entry: &Entry, seq: u64) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut keys = index_prefixes(entry);
    for (k, _) in &mut keys {
        k.extend_from_slice(&seq.to_be_bytes());
    }
    keys
}

/// [`index_entries`] before the entry's place in the log is known: every key ends with the
/// sequence number, which is left off here.
fn index_prefixes(entry: &Entry) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut keys = Vec::new();
    if entry.targets.len() > BULK_TARGETS {
        let mut ids: Vec<&[u8; 16]> = entry.targets.iter().map(|t| &t.0).collect();
        // A stable sort: it merges sorted runs in linear time, and an export names its
        // cases and then its petitioners, each list sorted.
        ids.sort();
        ids.dedup();
        for bucket in ids.chunk_by(|a, b| a[0] == b[0]) {
            let value: Vec<u8> = bucket.iter().flat_map(|id| id.iter().copied()).collect();
            keys.push((vec![BULK_PREFIX, bucket[0][0]], value));
        }
    } else {
        for t in &entry.targets {
            let mut k = Vec::with_capacity(25);
            k.push(b'r');
            k.extend_from_slice(&t.0);
            keys.push((k, Vec::new()));
        }
    }
    let mut k = Vec::with_capacity(entry.actor.len() + 10);
    k.push(b'a');
    k.extend_from_slice(entry.actor.as_bytes());
    k.push(0);
    keys.push((k, Vec::new()));
    keys
}

/// The audit-index keys a committed entry has (`entry.seq` is its place in the log): one
/// per record it names, or one per bucket when it names more than 256 records
/// (`BULK_TARGETS`), and one for its actor. For integrity checks of a vault: an entry in the log
/// without all of them was not committed atomically.
pub fn index_keys(entry: &Entry) -> Vec<Vec<u8>> {
    index_entries(entry, entry.seq)
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

/// Appends `entry` (its `seq` is assigned here) together with `writes`, atomically and
/// durably, with its index entries and, when due, a signed checkpoint. On any failure
/// nothing is written and no proof is returned: the caller must not return plaintext.
pub(crate) fn commit(
    store: &dyn Store,
    writes: &WriteSet,
    entry: &Entry,
    signer: Option<&Signer<'_>>,
) -> Result<(AuditCommitted, Option<Checkpoint>), StoreError> {
    let out = std::cell::RefCell::new((0u64, None::<Checkpoint>));
    // What does not depend on the entry's place in the log is worked out once, outside the
    // store's transaction (which may call `build` again): the canonical bytes after the
    // sequence number (the first field, a varint) and the index entries. For an export's
    // entry naming millions of records these are most of the commit's work, done on two
    // threads.
    let (canonical, index) = if entry.targets.len() > BULK_TARGETS {
        rayon::join(|| entry.canonical(), || index_prefixes(entry))
    } else {
        (entry.canonical(), index_prefixes(entry))
    };
    let seq_len = postcard::to_stdvec(&entry.seq)
        .expect("a u64 serialises")
        .len();
    let tail = &canonical[seq_len..];
    let build = |head: Option<&[u8]>| -> Result<AuditAppend, StoreError> {
        let head: Head = head
            .and_then(|h| postcard::from_bytes(h).ok())
            .ok_or_else(|| StoreError::Audit("the audit head is missing or unreadable".into()))?;
        let seq = head.next_seq;
        let seq_bytes = postcard::to_stdvec(&seq).expect("a u64 serialises");
        // chain_hash over `seq_bytes | tail`, the canonical bytes, without joining them.
        let hash = crypto::sha256(&[CHAIN_DOMAIN, &head.hash, &seq_bytes, tail]);
        let mac = entry_mac(&head.mac_key, &hash);
        let size = seq + 1;
        let mut extra: Vec<(Tree, Vec<u8>, Vec<u8>)> = index
            .iter()
            .map(|(prefix, v)| {
                let mut k = Vec::with_capacity(prefix.len() + 8);
                k.extend_from_slice(prefix);
                k.extend_from_slice(&seq.to_be_bytes());
                (Tree::AuditIndex, k, v.clone())
            })
            .collect();
        let mut checkpoint = None;
        let (mut cp_size, mut cp_ms) = (head.last_checkpoint_size, head.last_checkpoint_ms);
        if let Some(s) = signer {
            let due = size - head.last_checkpoint_size >= s.policy.every_entries
                || entry.time_ms - head.last_checkpoint_ms >= s.policy.every_ms;
            if s.force || due {
                let cp = Checkpoint::sign(s.key, s.vault_id, size, hash, entry.time_ms);
                let mut key = CHECKPOINT_PREFIX.to_vec();
                key.extend_from_slice(&size.to_be_bytes());
                extra.push((
                    Tree::Meta,
                    key,
                    postcard::to_stdvec(&cp).expect("checkpoint serialises"),
                ));
                (cp_size, cp_ms) = (size, entry.time_ms);
                checkpoint = Some(cp);
            }
        }
        let new_head = Head {
            next_seq: size,
            hash,
            mac_key: evolve(&head.mac_key),
            last_checkpoint_size: cp_size,
            last_checkpoint_ms: cp_ms,
        };
        *out.borrow_mut() = (seq, checkpoint);
        Ok(AuditAppend {
            key: seq.to_be_bytes().to_vec(),
            entry: RecordedEntry::encode_parts(&head.hash, &hash, &mac, &[&seq_bytes, tail]),
            head: postcard::to_stdvec(&new_head).expect("head serialises"),
            extra,
        })
    };
    store.commit(writes, &build)?;
    let (seq, cp) = out.into_inner();
    Ok((AuditCommitted { seq }, cp))
}

/// Number of entries committed (the head's next sequence number).
pub fn log_len(store: &dyn Store) -> Result<u64, StoreError> {
    Ok(Head::read(store)?.next_seq)
}

fn decode_entry(key: &[u8], value: &[u8]) -> Result<RecordedEntry, StoreError> {
    RecordedEntry::decode(value).ok_or_else(|| {
        StoreError::Corrupt(format!(
            "audit entry at key {} does not decode",
            hex::encode(key)
        ))
    })
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
        .map(|(k, v)| decode_entry(&k, &v))
        .collect()
}

/// The checkpoints kept inside the vault, oldest first.
pub fn stored_checkpoints(store: &dyn Store) -> Result<Vec<Checkpoint>, StoreError> {
    store
        .scan_prefix(Tree::Meta, CHECKPOINT_PREFIX)?
        .into_iter()
        .map(|(_, v)| {
            postcard::from_bytes(&v)
                .map_err(|_| StoreError::Corrupt("a stored checkpoint does not decode".into()))
        })
        .collect()
}

/// A filter for `audit log`.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only this actor.
    pub actor: Option<String>,
    /// Only entries naming this record.
    pub record: Option<RecordId>,
    /// Only this action.
    pub action: Option<Action>,
    /// From this time (unix ms, inclusive).
    pub since_ms: Option<i64>,
    /// Until this time (unix ms, exclusive).
    pub until_ms: Option<i64>,
    /// Only denials.
    pub denied: bool,
    /// At most this many (the newest).
    pub limit: usize,
}

impl AuditQuery {
    fn matches(&self, e: &Entry) -> bool {
        self.actor.as_ref().is_none_or(|a| &e.actor == a)
            && self.record.as_ref().is_none_or(|r| e.targets.contains(r))
            && self.action.is_none_or(|a| e.action == a)
            && self.since_ms.is_none_or(|t| e.time_ms >= t)
            && self.until_ms.is_none_or(|t| e.time_ms < t)
            && (!self.denied || e.outcome == Outcome::Denied)
    }
}

/// Runs a query: by the record or actor index when one is given (so `--record` stays fast
/// on a log of millions of entries), else newest-first over the log.
pub fn query(store: &dyn Store, q: &AuditQuery) -> Result<Vec<RecordedEntry>, StoreError> {
    let limit = if q.limit == 0 { usize::MAX } else { q.limit };
    let prefix = match (&q.record, &q.actor) {
        (Some(r), _) => Some([&[b'r'][..], &r.0].concat()),
        (None, Some(a)) => Some([&[b'a'][..], a.as_bytes(), &[0]].concat()),
        _ => None,
    };
    let mut out = Vec::new();
    match prefix {
        Some(prefix) => {
            let seq_of = |k: &[u8]| -> Option<u64> {
                k.get(k.len().checked_sub(8)?..)
                    .and_then(|s| s.try_into().ok())
                    .map(u64::from_be_bytes)
            };
            let mut seqs: Vec<u64> = store
                .scan_prefix(Tree::AuditIndex, &prefix)?
                .into_iter()
                .filter_map(|(k, _)| seq_of(&k))
                .collect();
            if let Some(r) = &q.record {
                // Bulk entries that name this record: its bucket in each, searched.
                let bucket = store.scan_prefix(Tree::AuditIndex, &[BULK_PREFIX, r.0[0]])?;
                let before = seqs.len();
                seqs.extend(
                    bucket
                        .iter()
                        .filter(|(_, ids)| sorted_ids_contain(ids, &r.0))
                        .filter_map(|(k, _)| seq_of(k)),
                );
                if seqs.len() > before {
                    seqs.sort_unstable();
                    seqs.dedup();
                }
            }
            for seq in seqs.into_iter().rev() {
                let Some(v) = store.get(Tree::Audit, &seq.to_be_bytes())? else {
                    continue;
                };
                let e = decode_entry(&seq.to_be_bytes(), &v)?;
                if q.matches(&e.entry) {
                    out.push(e);
                    if out.len() >= limit {
                        break;
                    }
                }
            }
        }
        None => {
            let mut end = u64::MAX;
            'outer: loop {
                let batch =
                    store.range_rev(Tree::Audit, &0u64.to_be_bytes(), &end.to_be_bytes(), 4096)?;
                if batch.is_empty() {
                    break;
                }
                for (k, v) in &batch {
                    let e = decode_entry(k, v)?;
                    if q.since_ms.is_some_and(|t| e.entry.time_ms < t - 60_000) {
                        // Entries are in time order, give or take clock steps: stop a minute
                        // past `since`.
                        break 'outer;
                    }
                    end = e.entry.seq;
                    if q.matches(&e.entry) {
                        out.push(e);
                        if out.len() >= limit {
                            break 'outer;
                        }
                    }
                }
                if end == 0 {
                    break;
                }
            }
        }
    }
    out.reverse();
    Ok(out)
}

/// Parses a time for filters: RFC 3339, or `YYYY-MM-DD` / `YYYY-MM-DDTHH:MM` read in
/// China Standard Time (UTC+8), the offices' clock.
pub fn parse_time(s: &str) -> Result<i64, String> {
    use time::format_description::well_known::Rfc3339;
    let s = s.trim();
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Ok((t.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    let cst = time::UtcOffset::from_hms(8, 0, 0).expect("valid offset");
    let date_fmt = time::macros::format_description!("[year]-[month]-[day]");
    let dt_fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    if let Ok(d) = time::Date::parse(s, &date_fmt) {
        return Ok(d.midnight().assume_offset(cst).unix_timestamp() * 1000);
    }
    if let Ok(dt) = time::PrimitiveDateTime::parse(s, &dt_fmt) {
        return Ok(dt.assume_offset(cst).unix_timestamp() * 1000);
    }
    Err("use a date like 2026-11-28, 2026-11-28T09:30 (China time) or RFC 3339".into())
}

/// Formats an entry time (unix ms) as RFC 3339 UTC.
pub fn format_time(ms: i64) -> String {
    crate::session::format_ms(ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SledStore;

    fn entry(actor: &str, targets: Vec<RecordId>) -> Entry {
        Entry {
            targets,
            ..Entry::sample(0, 1_700_000_000_000, actor, Action::Export)
        }
    }

    /// Distinct ids spread over every first byte.
    fn id(n: u32) -> RecordId {
        let mut b = [0u8; 16];
        b[..4].copy_from_slice(&n.wrapping_mul(2_654_435_761).to_be_bytes());
        b[4..8].copy_from_slice(&n.to_be_bytes());
        RecordId(b)
    }

    /// A store holding an empty audit log, and the officer's first key.
    fn empty_log() -> (tempfile::TempDir, SledStore, AuditKey) {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path(), 8 << 20).unwrap();
        let k0 = AuditKey::new(DerivedKey::from_bytes([7; 32]), [0; 32], [0; 16]);
        let mut w = WriteSet::new();
        genesis_writes(&k0, &mut w);
        store.commit_unaudited(&w).unwrap();
        (dir, store, k0)
    }

    /// The commit works out an entry's canonical bytes without its sequence number once,
    /// then puts the number in front: what it stores must be exactly the entry encoded at
    /// its place in the log, whatever `seq` the caller left in it, for one- two- and
    /// three-byte sequence numbers, small and bulk entries.
    #[test]
    fn a_commit_stores_the_entry_encoded_at_its_place_in_the_log() {
        let (_dir, store, k0) = empty_log();
        let none = WriteSet::new();
        let many: Vec<RecordId> = (0..BULK_TARGETS as u32 * 3).map(id).collect();
        // The caller's seq is ignored, and its encoded length differs from the real one.
        let cases = [
            (0u64, vec![id(1)]),
            (70_000, many.clone()),
            (u64::MAX, vec![id(2), id(3)]),
        ];
        let mut prev = GENESIS_HASH;
        for n in 0u64..135 {
            let (caller_seq, targets) = &cases[(n % 3) as usize];
            let mut e = entry(&format!("officer{n}"), targets.clone());
            e.seq = *caller_seq;
            let (proof, _) = commit(&store, &none, &e, None).unwrap();
            assert_eq!(proof.seq, n);

            let stored = store.get(Tree::Audit, &n.to_be_bytes()).unwrap().unwrap();
            e.seq = n;
            let hash = chain_hash(&prev, &e.canonical());
            let rec = RecordedEntry::decode(&stored).expect("the stored entry decodes");
            assert_eq!(rec.entry, e);
            assert_eq!((rec.prev, rec.hash), (prev, hash));
            assert_eq!(
                rec.encode(),
                stored,
                "stored bytes are the canonical encoding"
            );
            for key in index_keys(&e) {
                assert!(
                    store.get(Tree::AuditIndex, &key).unwrap().is_some(),
                    "entry {n}: index key {} is missing",
                    hex::encode(&key)
                );
            }
            prev = hash;
        }
        let report = verify::verify_log(&store, &[0; 16], &[0; 32], Some(&k0), &[]).unwrap();
        assert_eq!(report.entries, 135);
    }

    #[test]
    fn a_bulk_entry_is_indexed_once_and_still_found_by_record() {
        let (_dir, store, _) = empty_log();
        let many: Vec<RecordId> = (0..BULK_TARGETS as u32 + 1).map(id).collect();
        let (a, b, outside) = (id(17), id(BULK_TARGETS as u32), id(u32::MAX));
        let none = WriteSet::new();
        commit(&store, &none, &entry("small", vec![a]), None).unwrap(); // seq 0
        commit(&store, &none, &entry("bulk", many.clone()), None).unwrap(); // seq 1
        commit(
            &store,
            &none,
            &entry("exactly", many[..BULK_TARGETS].to_vec()),
            None,
        )
        .unwrap(); // seq 2
        commit(&store, &none, &entry("small", vec![outside]), None).unwrap(); // seq 3

        // The bulk entry has one key per first byte of its ids, each holding those ids; the
        // entry at the limit has one key per record.
        let bulk_keys = store.scan_prefix(Tree::AuditIndex, b"b").unwrap();
        let firsts: std::collections::BTreeSet<u8> = many.iter().map(|r| r.0[0]).collect();
        assert_eq!(bulk_keys.len(), firsts.len());
        assert!(firsts.len() > 200, "ids spread over the buckets");
        let mut listed = 0;
        for (k, v) in &bulk_keys {
            assert_eq!(k[2..], 1u64.to_be_bytes());
            assert!(v.chunks_exact(16).all(|id| id[0] == k[1]));
            assert!(v.chunks_exact(16).is_sorted());
            listed += v.len() / 16;
        }
        assert_eq!(listed, many.len());
        let per_record = store.scan_prefix(Tree::AuditIndex, b"r").unwrap().len();
        assert_eq!(per_record, 1 + BULK_TARGETS + 1);

        let seqs = |r: RecordId, limit: usize| -> Vec<u64> {
            let q = AuditQuery {
                record: Some(r),
                limit,
                ..AuditQuery::default()
            };
            query(&store, &q)
                .unwrap()
                .iter()
                .map(|e| e.entry.seq)
                .collect()
        };
        assert_eq!(
            seqs(a, 0),
            vec![0, 1, 2],
            "indexed and bulk entries, in order"
        );
        assert_eq!(seqs(a, 2), vec![1, 2], "the newest two");
        assert_eq!(
            seqs(b, 0),
            vec![1],
            "only the bulk entry names the last record"
        );
        assert_eq!(
            seqs(outside, 0),
            vec![3],
            "a bulk entry not naming it is left out"
        );
        assert!(seqs(id(u32::MAX - 1), 0).is_empty());
        // By actor, the bulk entry is indexed as any other.
        let q = AuditQuery {
            actor: Some("bulk".into()),
            ..AuditQuery::default()
        };
        assert_eq!(query(&store, &q).unwrap().len(), 1);
    }
}
