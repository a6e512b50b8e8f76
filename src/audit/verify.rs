//! `audit verify`: recompute the chain, the forward-secure MACs (with the officer's key) and
//! the signed checkpoints, and name the first bad entry.

use super::entry::RawEntry;
use super::{AuditKey, Checkpoint, GENESIS_HASH, Head, chain_hash, entry_mac, evolve};
use crate::store::{Store, StoreError, Tree};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use zeroize::{Zeroize, Zeroizing};

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
        if let Some(k) = self.mac_key.as_mut() {
            k.zeroize();
        }
    }
}

/// Entries per chunk when the log is walked on several threads: a few chunks per thread,
/// from `MIN_CHUNK_ENTRIES` to `MAX_CHUNK_ENTRIES`. Each chunk is checked on its own —
/// keys, sequence numbers, hashes, the links inside it, and the MACs from the chunk's first
/// key — and the chunks are then joined in order, checking the link across each boundary.
/// A chunk that is not perfect is walked again one entry at a time from its start, so the
/// error named is always the first one, exactly as a single walk finds it.
const MAX_CHUNK_ENTRIES: u64 = 8192;
const MIN_CHUNK_ENTRIES: u64 = 16;
const CHUNKS_PER_THREAD: u64 = 4;
/// Shorter logs are walked (still in chunks) on the calling thread alone: starting helper
/// threads costs more than it saves there, and much more on a busy machine.
const MIN_PARALLEL_ENTRIES: u64 = 4096;

fn chunk_entries(log_len: u64, threads: usize) -> u64 {
    let per_thread = (threads as u64).saturating_mul(CHUNKS_PER_THREAD).max(1);
    log_len
        .div_ceil(per_thread)
        .clamp(MIN_CHUNK_ENTRIES, MAX_CHUNK_ENTRIES)
}

/// At most this many threads walk one log.
const MAX_THREADS: usize = 8;

fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_THREADS)
}

/// Verifies the whole log of a vault: the chain, the MACs (with the officer's key), the head,
/// the checkpoints stored in the vault and any `external` ones (e.g. the officer's file).
/// The checkpoint public key is the officer's pinned one when a key is given, else the
/// vault header's (`vault_public_key`).
///
/// The log is read in chunks on all cores; the result, and the error named, are those of a
/// single walk from the first entry to the last.
pub fn verify_log(
    store: &dyn Store,
    vault_id: &[u8; 16],
    vault_public_key: &[u8; 32],
    officer_key: Option<&AuditKey>,
    external: &[Checkpoint],
) -> Result<VerifyReport, VerifyError> {
    verify_log_walking(
        store,
        vault_id,
        vault_public_key,
        officer_key,
        external,
        Walk::Auto {
            threads: default_threads(),
        },
    )
}

/// How the log is walked.
#[derive(Debug, Clone, Copy)]
enum Walk {
    /// One entry at a time from the first: what the chunked walk must agree with.
    #[cfg_attr(not(test), allow(dead_code))]
    Single,
    /// In chunks sized for the log on up to `threads` threads.
    Auto { threads: usize },
    /// In chunks of `chunk` entries on up to `threads` threads.
    #[cfg_attr(not(test), allow(dead_code))]
    Chunks { chunk: u64, threads: usize },
}

fn verify_log_walking(
    store: &dyn Store,
    vault_id: &[u8; 16],
    vault_public_key: &[u8; 32],
    officer_key: Option<&AuditKey>,
    external: &[Checkpoint],
    walk: Walk,
) -> Result<VerifyReport, VerifyError> {
    if let Some(k) = officer_key
        && &k.vault_id != vault_id
    {
        return Err(VerifyError::WrongVault);
    }
    let mut checkpoints = super::stored_checkpoints(store)?;
    checkpoints.extend_from_slice(external);
    let mut w = walker(officer_key, &checkpoints);
    // The head only says where to split the log; it is checked after the walk.
    let hint = match walk {
        Walk::Single => 0,
        _ => Head::read(store).map_or(0, |h| h.next_seq),
    };
    let chunking = match walk {
        Walk::Single => None,
        Walk::Auto { threads } => {
            let threads = if hint < MIN_PARALLEL_ENTRIES {
                1
            } else {
                threads
            };
            Some((chunk_entries(hint, threads), threads))
        }
        Walk::Chunks { chunk, threads } => Some((chunk.max(1), threads)),
    };
    let resume = match chunking {
        None => Some(0),
        Some((chunk, threads)) => {
            let keys = KeySchedule::new(officer_key, chunk);
            walk_clean_chunks(store, &mut w, &keys, hint, chunk, threads)
        }
    };
    if let Some(from) = resume {
        // Something is wrong at or after `from` (or could not be read there): walk on one
        // entry at a time, which names the first bad entry and what is wrong with it.
        let mut failure = None;
        store.visit(Tree::Audit, &from.to_be_bytes(), &mut |key, value| {
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

/// The forward-secure MAC key at the start of each chunk, evolved from `k_0` as far as the
/// chunks taken so far need (chunks are taken in order, so each step is done once).
struct KeySchedule {
    chunk: u64,
    /// `keys[j]` is the key of entry `j * chunk`; empty when no officer key was given.
    keys: Mutex<Vec<[u8; 32]>>,
}

impl KeySchedule {
    fn new(officer_key: Option<&AuditKey>, chunk: u64) -> KeySchedule {
        KeySchedule {
            chunk,
            keys: Mutex::new(officer_key.map(|k| *k.mac_bytes()).into_iter().collect()),
        }
    }

    fn key_at(&self, j: u64) -> Option<Zeroizing<[u8; 32]>> {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        let mut k = Zeroizing::new(*keys.last()?);
        while (keys.len() as u64) <= j {
            for _ in 0..self.chunk {
                *k = evolve(&k);
            }
            keys.push(*k);
        }
        Some(Zeroizing::new(keys[j as usize]))
    }
}

impl Drop for KeySchedule {
    fn drop(&mut self) {
        self.keys
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .zeroize();
    }
}

/// A chunk whose every entry checked out.
struct CleanChunk {
    /// The `prev` of its first entry (None when it holds none): the link to check against
    /// the previous chunk's last hash.
    first_prev: Option<[u8; 32]>,
    /// One past its last entry.
    end: u64,
    /// Hash of its last entry.
    last_hash: [u8; 32],
    /// (checkpoint size, hash of entry size - 1) for the checkpoint sizes that end in it.
    heads: Vec<(u64, [u8; 32])>,
}

/// Walks the log in chunks on up to `threads` threads and advances `w` over the leading
/// chunks that are clean and link to each other. Returns where a single walk must resume
/// (the start of the first chunk that is not), or None when the whole log was walked.
fn walk_clean_chunks(
    store: &dyn Store,
    w: &mut Walker<'_>,
    keys: &KeySchedule,
    hint: u64,
    chunk: u64,
    threads: usize,
) -> Option<u64> {
    // The last chunk runs to the end of the tree, however long the log really is.
    let chunks = hint.div_ceil(chunk).max(1);
    let sizes: Vec<u64> = w.wanted.keys().copied().collect();
    let next_chunk = AtomicU64::new(0);
    // The lowest chunk found not clean: chunks after it need not be walked.
    let first_unclean = AtomicU64::new(u64::MAX);
    let work = || {
        let mut done = Vec::new();
        loop {
            let j = next_chunk.fetch_add(1, Ordering::Relaxed);
            if j >= chunks || j > first_unclean.load(Ordering::Relaxed) {
                return done;
            }
            let start = j * chunk;
            let end = (j + 1 < chunks).then(|| start + chunk);
            let outcome = walk_chunk(store, start, end, keys.key_at(j), &sizes);
            if outcome.is_none() {
                first_unclean.fetch_min(j, Ordering::Relaxed);
            }
            done.push((j, outcome));
        }
    };
    let threads = threads.clamp(1, usize::try_from(chunks).unwrap_or(usize::MAX));
    let mut outcomes = if threads == 1 {
        work()
    } else {
        // This thread walks too: on a busy machine a helper may start late, and then
        // this thread simply takes more of the chunks.
        std::thread::scope(|s| {
            let helpers: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
            let mut done = work();
            for h in helpers {
                done.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            }
            done
        })
    };
    outcomes.sort_unstable_by_key(|(j, _)| *j);
    let mut outcomes = outcomes.into_iter();
    for j in 0..chunks {
        let clean = match outcomes.next() {
            Some((at, Some(c))) if at == j && c.first_prev.is_none_or(|p| p == w.prev) => c,
            _ => {
                w.next = j * chunk;
                if let Some(k) = w.mac_key.as_mut() {
                    *k = *keys
                        .key_at(j)
                        .expect("a key schedule when there is an officer key");
                }
                return Some(w.next);
            }
        };
        if clean.first_prev.is_some() {
            w.prev = clean.last_hash;
            w.next = clean.end;
        }
        for (size, hash) in clean.heads {
            if let Some(slot) = w.wanted.get_mut(&size) {
                *slot = Some(hash);
            }
        }
    }
    None
}

/// Checks the entries with keys in `[start, end)` (to the end of the tree when `end` is
/// None): they must be exactly `start, start + 1, …` (all of `[start, end)` when bounded),
/// each decoding, carrying its position, linking to the one before it (the first one's
/// link is the caller's to check), matching its hash and, with `mac_key` (the key of entry
/// `start`), its MAC. None when anything is wrong or could not be read: the caller then
/// walks from `start` one entry at a time to say what.
fn walk_chunk(
    store: &dyn Store,
    start: u64,
    end: Option<u64>,
    mut mac_key: Option<Zeroizing<[u8; 32]>>,
    sizes: &[u64],
) -> Option<CleanChunk> {
    let end_key = end.map(u64::to_be_bytes);
    let mut next = start;
    let mut prev = [0u8; 32];
    let mut first_prev = None;
    let mut heads = Vec::new();
    // the first checkpoint size an entry of this chunk can end (entry s ends size s + 1)
    let mut want = sizes.partition_point(|&s| s <= start);
    let mut clean = true;
    let read = store.visit(Tree::Audit, &start.to_be_bytes(), &mut |key, value| {
        if let Some(end) = &end_key
            && key >= &end[..]
        {
            return false;
        }
        let ok = key == next.to_be_bytes()
            && RawEntry::parse(value).is_some_and(|rec| {
                let linked = if next == start {
                    first_prev = Some(*rec.prev);
                    true
                } else {
                    *rec.prev == prev
                };
                let ok = linked
                    && rec.seq() == Some(next)
                    && chain_hash(rec.prev, rec.canonical) == *rec.hash
                    && mac_key.as_mut().is_none_or(|k| {
                        let ok = crate::crypto::ct_eq(&entry_mac(k, rec.hash), rec.mac);
                        **k = evolve(k);
                        ok
                    });
                prev = *rec.hash;
                ok
            });
        if !ok {
            clean = false;
            return false;
        }
        if sizes.get(want) == Some(&(next + 1)) {
            heads.push((next + 1, prev));
            want += 1;
        }
        next += 1;
        true
    });
    let complete = end.is_none_or(|end| next == end);
    (read.is_ok() && clean && complete).then_some(CleanChunk {
        first_prev,
        end: next,
        last_hash: prev,
        heads,
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

#[cfg(test)]
mod tests {
    //! The chunked walk against the single walk: for every tampering, at and around chunk
    //! boundaries, with and without the MAC key, on one and several threads, both must
    //! name the same first bad entry and the same fault.

    use super::*;
    use crate::audit::{Entry, RecordedEntry, entry_mac};
    use crate::crypto::DerivedKey;
    use crate::policy::Action;
    use crate::store::{AUDIT_HEAD_KEY, SledStore, WriteSet};
    use ed25519_dalek::SigningKey;

    const VAULT: [u8; 16] = [5; 16];

    struct TestLog {
        store: SledStore,
        key: AuditKey,
        signing: SigningKey,
        hashes: Vec<[u8; 32]>,
        _dir: tempfile::TempDir,
    }

    fn entry(seq: u64) -> Entry {
        Entry::sample(
            seq,
            1_764_000_000_000 + seq as i64,
            &format!("officer{}", seq % 3),
            Action::Unlock,
        )
    }

    /// A log of `n` entries built with the chain formulas, its head, and no checkpoints.
    fn test_log(n: u64) -> TestLog {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path(), 4 << 20).unwrap();
        let k0 = [3u8; 32];
        let signing = SigningKey::from_bytes(&[9; 32]);
        let key = AuditKey::new(
            DerivedKey::from_bytes(k0),
            signing.verifying_key().to_bytes(),
            VAULT,
        );
        let mut writes = WriteSet::new();
        let (mut prev, mut k) = (GENESIS_HASH, k0);
        let mut hashes = Vec::new();
        for seq in 0..n {
            let e = entry(seq);
            let hash = chain_hash(&prev, &e.canonical());
            let rec = RecordedEntry {
                mac: entry_mac(&k, &hash),
                entry: e,
                prev,
                hash,
            };
            writes.put(Tree::Audit, seq.to_be_bytes().to_vec(), rec.encode());
            (prev, k) = (hash, evolve(&k));
            hashes.push(hash);
        }
        let head = Head {
            next_seq: n,
            hash: prev,
            mac_key: k,
            last_checkpoint_size: 0,
            last_checkpoint_ms: 0,
        };
        writes.put(
            Tree::Meta,
            AUDIT_HEAD_KEY,
            postcard::to_stdvec(&head).unwrap(),
        );
        store.commit_unaudited(&writes).unwrap();
        TestLog {
            store,
            key,
            signing,
            hashes,
            _dir: dir,
        }
    }

    impl TestLog {
        fn put(&self, key: Vec<u8>, value: Option<Vec<u8>>) {
            let mut w = WriteSet::new();
            match value {
                Some(v) => w.put(Tree::Audit, key, v),
                None => w.delete(Tree::Audit, key),
            }
            self.store.commit_unaudited(&w).unwrap();
        }

        fn raw(&self, seq: u64) -> Vec<u8> {
            self.store
                .get(Tree::Audit, &seq.to_be_bytes())
                .unwrap()
                .unwrap()
        }

        fn rewrite(&self, seq: u64, edit: impl FnOnce(&mut RecordedEntry)) {
            let mut rec = RecordedEntry::decode(&self.raw(seq)).unwrap();
            edit(&mut rec);
            self.put(seq.to_be_bytes().to_vec(), Some(rec.encode()));
        }

        fn checkpoint(&self, size: u64) -> Checkpoint {
            let head = match size {
                0 => GENESIS_HASH,
                s => self.hashes[s as usize - 1],
            };
            Checkpoint::sign(&self.signing, VAULT, size, head, 1)
        }

        fn verify(
            &self,
            with_key: bool,
            external: &[Checkpoint],
            walk: Walk,
        ) -> Result<VerifyReport, VerifyError> {
            verify_log_walking(
                &self.store,
                &VAULT,
                &self.key.public_key,
                with_key.then_some(&self.key),
                external,
                walk,
            )
        }

        /// Verifies every way and checks that all agree with the single walk; returns that.
        fn verify_all_ways(&self, external: &[Checkpoint]) -> Result<VerifyReport, VerifyError> {
            let mut with_key = None;
            for key in [false, true] {
                let single = self.verify(key, external, Walk::Single);
                let auto = [1, 2, 4].map(|threads| Walk::Auto { threads });
                for walk in [0, 1, 2, 3, 4, 5, 8, 13, 16, 24, 64]
                    .into_iter()
                    .flat_map(|chunk| [1, 2, 3].map(|threads| Walk::Chunks { chunk, threads }))
                    .chain(auto)
                {
                    assert_eq!(
                        self.verify(key, external, walk),
                        single,
                        "{walk:?}, with key: {key}"
                    );
                }
                if key {
                    with_key = Some(single);
                }
            }
            with_key.unwrap()
        }
    }

    const N: u64 = 24;

    /// Injects a fault at `seq`; returns the error the single walk names with the MAC key
    /// (None: `Mac { seq }`; `Mac { seq: u64::MAX }`: none, the log still verifies).
    fn tamper(log: &TestLog, fault: usize, seq: u64) -> Option<VerifyError> {
        let key = seq.to_be_bytes().to_vec();
        Some(match fault {
            0 => {
                log.rewrite(seq, |r| r.entry.actor = "someone.else".into());
                VerifyError::Hash { seq }
            }
            1 => {
                log.put(key, None);
                if seq + 1 == N {
                    VerifyError::Head { entries: seq }
                } else {
                    VerifyError::Gap {
                        seq,
                        found: seq + 1,
                    }
                }
            }
            2 => {
                // replaced by a re-hashed entry (an intruder without the MAC key): without
                // the key, the next entry's link (or the head) names it
                log.rewrite(seq, |r| {
                    r.entry.actor = "ghost".into();
                    r.hash = chain_hash(&r.prev, &r.entry.canonical());
                });
                VerifyError::Mac { seq }
            }
            3 => {
                log.rewrite(seq, |r| r.mac[0] ^= 1);
                return None; // a MAC fault without the key is no fault
            }
            4 => {
                log.put(key, Some(vec![7; 50]));
                VerifyError::Undecodable { seq }
            }
            5 => {
                // the entry carries another position
                log.rewrite(seq, |r| r.entry.seq = seq + 100);
                VerifyError::Reorder {
                    seq,
                    found: seq + 100,
                }
            }
            6 => {
                // a key that is not a sequence number, just before the entry
                let mut odd = seq.to_be_bytes().to_vec();
                odd.pop();
                odd.push(seq.to_be_bytes()[7].wrapping_sub(1));
                odd.push(0xff);
                if seq == 0 {
                    // sorts before every entry's key, where no walk starts
                    odd = vec![0, 0, 0, 0, 0, 0, 0];
                }
                log.put(odd, Some(log.raw(seq)));
                if seq == 0 {
                    return Some(VerifyError::Mac { seq: u64::MAX }); // marker: intact
                }
                VerifyError::Undecodable { seq }
            }
            7 => {
                // swapped with the next entry
                let other = (seq + 1) % N;
                let (a, b) = (log.raw(seq), log.raw(other));
                log.put(key, Some(b));
                log.put(other.to_be_bytes().to_vec(), Some(a));
                VerifyError::Reorder {
                    seq: seq.min(other),
                    found: seq.max(other),
                }
            }
            _ => unreachable!(),
        })
    }

    #[test]
    fn every_fault_at_every_chunk_position_is_named_as_the_single_walk_names_it() {
        // positions at, before and after the boundaries of chunks of 4, 5, 8 and 16
        for seq in [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 22, 23] {
            for fault in 0..8 {
                let log = test_log(N);
                let expected = tamper(&log, fault, seq);
                let got = log.verify_all_ways(&[]);
                match expected {
                    Some(VerifyError::Mac { seq: u64::MAX }) => {
                        assert!(got.is_ok(), "fault {fault} at {seq}: {got:?}")
                    }
                    Some(e) => assert_eq!(got, Err(e), "fault {fault} at {seq}"),
                    None => assert_eq!(got, Err(VerifyError::Mac { seq })),
                }
            }
        }
    }

    #[test]
    fn of_two_faults_in_different_chunks_the_lower_is_named() {
        for (low, high) in [(3, 17), (8, 16), (7, 8), (0, 23), (15, 16)] {
            for (f_low, f_high) in [(0, 3), (3, 0), (4, 1), (1, 4), (2, 5)] {
                let log = test_log(N);
                let expected = tamper(&log, f_low, low);
                tamper(&log, f_high, high);
                let got = log.verify_all_ways(&[]);
                let expected = expected.unwrap_or(VerifyError::Mac { seq: low });
                assert_eq!(got, Err(expected), "faults {f_low}@{low}, {f_high}@{high}");
            }
        }
    }

    #[test]
    fn empty_short_and_exact_logs_verify_every_way() {
        for n in [0, 1, 2, 3, 4, 5, 8, 15, 16, 17] {
            let log = test_log(n);
            let r = log.verify_all_ways(&[log.checkpoint(n)]).unwrap();
            assert_eq!(r.entries, n);
            assert_eq!(r.head, log.hashes.last().copied().unwrap_or(GENESIS_HASH));
            assert!(r.macs_checked);
        }
    }

    #[test]
    fn checkpoints_at_chunk_boundaries_are_checked_every_way() {
        let log = test_log(N);
        let cps: Vec<Checkpoint> = [0, 1, 4, 5, 8, 16, 23, 24]
            .into_iter()
            .map(|s| log.checkpoint(s))
            .collect();
        let r = log.verify_all_ways(&cps).unwrap();
        assert_eq!(r.checkpoints_checked, cps.len());
        // a checkpoint of a log that forked at a boundary
        let mut forked = log.checkpoint(16);
        forked.head[0] ^= 1;
        forked = Checkpoint::sign(&log.signing, VAULT, 16, forked.head, 1);
        assert_eq!(
            log.verify_all_ways(&[forked]),
            Err(VerifyError::Fork { seq: 15, size: 16 })
        );
        // and one of a longer log
        let mut longer = log.checkpoint(N);
        longer.size = N + 1;
        let longer = Checkpoint::sign(&log.signing, VAULT, N + 1, longer.head, 1);
        assert_eq!(
            log.verify_all_ways(&[longer]),
            Err(VerifyError::ShorterThanCheckpoint {
                entries: N,
                size: N + 1
            })
        );
    }

    #[test]
    fn a_log_longer_or_shorter_than_its_head_is_named_every_way() {
        // truncated at a chunk boundary, head left as it was
        let log = test_log(N);
        for seq in 16..N {
            log.put(seq.to_be_bytes().to_vec(), None);
        }
        assert_eq!(
            log.verify_all_ways(&[log.checkpoint(N)]),
            Err(VerifyError::ShorterThanCheckpoint {
                entries: 16,
                size: N
            })
        );
        assert_eq!(
            log.verify_all_ways(&[]),
            Err(VerifyError::Head { entries: 16 })
        );
        // an entry appended past the head (chained, MACed with a wrong key)
        let log = test_log(N);
        let e = entry(N);
        let prev = log.hashes[N as usize - 1];
        let hash = chain_hash(&prev, &e.canonical());
        let rec = RecordedEntry {
            mac: [0; 32],
            entry: e,
            prev,
            hash,
        };
        log.put(N.to_be_bytes().to_vec(), Some(rec.encode()));
        assert_eq!(log.verify_all_ways(&[]), Err(VerifyError::Mac { seq: N }));
        // and a head that claims more entries than there are
        let log = test_log(N);
        let mut head = Head::read(&log.store).unwrap();
        head.next_seq = u64::MAX;
        let mut w = WriteSet::new();
        w.put(
            Tree::Meta,
            AUDIT_HEAD_KEY,
            postcard::to_stdvec(&head).unwrap(),
        );
        log.store.commit_unaudited(&w).unwrap();
        assert_eq!(
            log.verify_all_ways(&[]),
            Err(VerifyError::Head { entries: N })
        );
    }
}
