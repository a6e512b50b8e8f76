//! The sled (=0.34.7) store: one embedded database per vault folder.

use super::group::GroupSync;
use super::{AUDIT_HEAD_KEY, AuditBuilder, Store, StoreError, Tree, WriteSet};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, SystemTime};

/// A vault's sled database, with the folder lock that keeps other processes out.
pub struct SledStore {
    db: sled::Db,
    /// The trees of [`Tree::ALL`], in that order, then [`PARTS_TREE`].
    trees: Vec<sled::Tree>,
    data_file: File,
    group: GroupSync,
    group_commit: bool,
    syncs: AtomicU64,
    blobs: BlobSync,
    /// Held shared by every write to sled, exclusively while blob files are listed: no
    /// blob is being written then (see [`BlobSync`]).
    writing: RwLock<()>,
    dir: PathBuf,
    // Held for the life of the store: an exclusive lock on `<vault>/LOCK`.
    _lock: File,
}

const LOCK_FILE: &str = "LOCK";
const DB_DIR: &str = "db";
/// Where sled 0.34 keeps its blobs, inside [`DB_DIR`].
const BLOB_DIR: &str = "blobs";

/// The sled tree (not one of [`Tree::ALL`]: only this store has it) holding the parts of
/// long audit entries; see [`Parts`].
const PARTS_TREE: &str = "audit_parts";
/// An audit entry longer than this is stored in parts of at most this length.
const PART_LEN: usize = 64 * 1024;

/// Long audit entries are stored in parts. sled 0.34 splits a leaf only past 16 entries and
/// loads a leaf whole, every value in it, before it writes to it. An export of a million
/// records appends a 32 MB entry; kept whole in the audit tree, it sits in the leaf the
/// next commits append to, and a commit that finds that leaf out of the cache reads it back
/// from disk first (in a profile of two exports back to back on a 1M vault, 142 of the
/// second export's 397 commit samples were that). So the audit tree holds, for a long
/// entry, a manifest of [`MANIFEST_LEN`] bytes:
///
/// ```text
/// magic (8) | parts u32 BE | length u64 BE | SHA-256 of the whole entry (32)
/// ```
///
/// and [`PARTS_TREE`] holds its parts under `key length (1) | key | part number u32 BE`.
/// A stored entry is never shorter than its three 32-byte links, so a value of the
/// manifest's length that starts with the magic is a manifest. Reads put the parts back
/// together and check the length and hash (a part missing, changed or swapped is reported
/// as corruption); the hash chain and MAC are still what protect the log against an
/// attacker (`audit verify`). A whole long entry written by an earlier build reads as it is.
struct Parts;

const MANIFEST_MAGIC: &[u8; 8] = b"\xffpv-part";
const MANIFEST_LEN: usize = 8 + 4 + 8 + 32;

impl Parts {
    /// The key of part `n` of the entry under `key` (at most 255 bytes: see
    /// [`Parts::write`]).
    fn key(key: &[u8], n: u32) -> Vec<u8> {
        let mut k = Vec::with_capacity(1 + key.len() + 4);
        k.push(key.len() as u8);
        k.extend_from_slice(key);
        k.extend_from_slice(&n.to_be_bytes());
        k
    }

    fn manifest(value: &[u8]) -> Vec<u8> {
        let parts = u32::try_from(value.len().div_ceil(PART_LEN)).expect("an entry under 256 TiB");
        let mut m = Vec::with_capacity(MANIFEST_LEN);
        m.extend_from_slice(MANIFEST_MAGIC);
        m.extend_from_slice(&parts.to_be_bytes());
        m.extend_from_slice(&(value.len() as u64).to_be_bytes());
        m.extend_from_slice(&crate::crypto::sha256(&[value]));
        m
    }

    /// The parts count, length and hash of the manifest stored under `key` in `tree`;
    /// `None` for any other value (only the audit tree has manifests, and only under keys
    /// of at most 255 bytes).
    fn of(tree: Tree, key: &[u8], value: &[u8]) -> Option<(u32, u64, [u8; 32])> {
        if tree != Tree::Audit
            || key.len() > usize::from(u8::MAX)
            || value.len() != MANIFEST_LEN
            || !value.starts_with(MANIFEST_MAGIC)
        {
            return None;
        }
        let parts = u32::from_be_bytes(value[8..12].try_into().expect("4 bytes"));
        let len = u64::from_be_bytes(value[12..20].try_into().expect("8 bytes"));
        Some((parts, len, value[20..].try_into().expect("32 bytes")))
    }

    /// Writes `value` (or removes the entry, with `None`) under `key` in the audit tree
    /// `audit`, in parts in `parts` when it is long; the parts of what was there go.
    fn write(
        audit: &sled::transaction::TransactionalTree,
        parts: &sled::transaction::TransactionalTree,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<(), sled::transaction::UnabortableTransactionError> {
        if let Some((n, _, _)) = audit
            .get(key)?
            .as_deref()
            .and_then(|v| Parts::of(Tree::Audit, key, v))
        {
            for i in 0..n {
                parts.remove(Parts::key(key, i))?;
            }
        }
        match value {
            // (Audit keys are 8 bytes; a longer key than a part key can name stays whole.)
            Some(v) if v.len() > PART_LEN && key.len() <= usize::from(u8::MAX) => {
                for (i, part) in (0u32..).zip(v.chunks(PART_LEN)) {
                    parts.insert(Parts::key(key, i), part)?;
                }
                audit.insert(key, Parts::manifest(v))?;
            }
            Some(v) => {
                audit.insert(key, v)?;
            }
            None => {
                audit.remove(key)?;
            }
        }
        Ok(())
    }
}

/// sled 0.34.7 writes a log fragment larger than a quarter segment (128 KiB: a large
/// export's audit entry, a page of import entries or audit-index buckets, a long letter)
/// to a file of its own under `db/blobs`, and never fsyncs it: its flush makes the log
/// durable, and the log then names a blob that a power failure can lose (sled's recovery
/// then stops reading the log at that blob, losing every later commit). So every sync
/// also fsyncs the blob files created since the last one, and the folder (their names),
/// and makes each private (0600: sled creates them with the process's umask).
///
/// sled writes a blob inside the transaction that needs it, on that transaction's thread,
/// in several writes. A listing made while another transaction is still writing one would
/// fsync half a file and count it as done; so the store lists only while no transaction
/// runs (`SledStore::writing`).
///
/// Listing the folder costs 0.1–0.3 ms at a few hundred blobs, more than many commits,
/// so it is listed only when its modification time changed, or when the last listing came
/// too soon after that time to be sure a file created later would change it.
struct BlobSync {
    dir: PathBuf,
    state: Mutex<BlobState>,
}

#[derive(Default)]
struct BlobState {
    /// Names fsynced (and still present at the last listing), with their length then.
    synced: HashMap<OsString, u64>,
    /// The folder's modification time at the last listing.
    listed_at_mtime: Option<SystemTime>,
    /// The last listing came well after that time: a later file changes it.
    settled: bool,
    /// Blob files fsynced so far.
    files: u64,
}

/// How long after a folder's modification time a listing must come for a file created
/// later to change that time. File times tick with the kernel's clock (≤ 10 ms) on most
/// filesystems, but in whole seconds on some (ext3, HFS+, some network filesystems) and
/// two seconds on FAT.
const MTIME_SETTLE: Duration = Duration::from_millis(2500);

impl BlobSync {
    fn new(dir: PathBuf) -> BlobSync {
        BlobSync {
            dir,
            state: Mutex::new(BlobState::default()),
        }
    }

    /// Fsyncs every blob file not yet fsynced, then the folder if there was one. Call it
    /// only while no transaction is writing (see [`BlobSync`]).
    fn sync(&self) -> std::io::Result<()> {
        let mtime = match fs::metadata(&self.dir) {
            Ok(m) => m.modified()?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        self.sync_seen(mtime, SystemTime::now())
    }

    /// [`BlobSync::sync`] once the folder's time is known (`mtime`), listing it at `listed`.
    fn sync_seen(&self, mtime: SystemTime, listed: SystemTime) -> std::io::Result<()> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.settled && st.listed_at_mtime == Some(mtime) {
            return Ok(());
        }
        let mut present = HashMap::with_capacity(st.synced.len() + 8);
        let mut new = 0;
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            if let Some(&len) = st.synced.get(&name) {
                present.insert(name, len);
                continue;
            }
            let f = match File::open(entry.path()) {
                Ok(f) => f,
                // removed by sled's blob collection since the listing
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let meta = f.metadata()?;
            make_private(&f, &meta);
            f.sync_data()?;
            present.insert(name, meta.len());
            new += 1;
        }
        if new > 0 {
            sync_dir(&self.dir)?;
        }
        st.synced = present;
        st.listed_at_mtime = Some(mtime);
        st.settled = listed.duration_since(mtime).is_ok_and(|d| d > MTIME_SETTLE);
        st.files += new;
        Ok(())
    }

    fn files_synced(&self) -> u64 {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).files
    }
}

/// Mode 0600 for a file sled created, where it is not already; best effort (a filesystem
/// without modes, or a file of another owner, keeps what it has: the vault folder is 0700).
fn make_private(f: &File, meta: &fs::Metadata) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o777 != 0o600 {
            let _ = f.set_permissions(fs::Permissions::from_mode(0o600));
        }
    }
    #[cfg(not(unix))]
    let _ = (f, meta);
}

/// Fsyncs a folder, so that the names created in it survive a power failure (Unix; other
/// systems make a file's name durable with the file).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn io(e: impl std::fmt::Display) -> StoreError {
    StoreError::Io(e.to_string())
}

fn sled_err(e: sled::Error) -> StoreError {
    match e {
        sled::Error::Corruption { .. } => {
            StoreError::Corrupt("the database file failed its checks".into())
        }
        sled::Error::Io(e) => StoreError::Io(e.to_string()),
        other => StoreError::Io(other.to_string()),
    }
}

/// Whether sled failed to open because its own file lock is held. sled 0.34.7 reports that
/// as an `ErrorKind::Other` error whose message starts "could not acquire lock" (the
/// `WouldBlock` is only inside the message), so both forms are recognised.
fn sled_lock_busy(e: &sled::Error) -> bool {
    match e {
        sled::Error::Io(io) => {
            io.kind() == std::io::ErrorKind::WouldBlock
                || io.to_string().starts_with("could not acquire lock")
        }
        _ => false,
    }
}

fn tree_index(t: Tree) -> usize {
    Tree::ALL
        .iter()
        .position(|x| *x == t)
        .expect("every tree is in Tree::ALL")
}

impl SledStore {
    /// Opens (or creates) the store under a vault folder. Takes the folder lock first, so a
    /// second process gets [`StoreError::InUse`] rather than an engine error.
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<SledStore, StoreError> {
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join(LOCK_FILE))
            .map_err(io)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(StoreError::InUse),
            Err(fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        let db_path = dir.join(DB_DIR);
        // Every commit flushes and fsyncs explicitly, so sled's background flusher is off:
        // it is also what kept a dropped database (and its file lock) alive for a moment.
        let config = sled::Config::new()
            .path(&db_path)
            .cache_capacity(cache_bytes)
            .mode(sled::Mode::LowSpace)
            .flush_every_ms(None);
        // Our LOCK file is the authority on "in use": holding it, a lock on sled's own file
        // can only be a handle of this process still shutting down, so wait for it briefly.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        let db = loop {
            match config.open() {
                Ok(db) => break db,
                Err(ref e) if sled_lock_busy(e) => {
                    if std::time::Instant::now() >= deadline {
                        return Err(StoreError::InUse);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(other) => return Err(sled_err(other)),
            }
        };
        let trees = Tree::ALL
            .iter()
            .map(|t| t.name())
            .chain([PARTS_TREE])
            .map(|name| db.open_tree(name).map_err(sled_err))
            .collect::<Result<Vec<_>, _>>()?;
        let data_file = File::open(db_path.join("db")).map_err(io)?;
        let store = SledStore {
            db,
            trees,
            data_file,
            group: GroupSync::default(),
            group_commit: true,
            syncs: AtomicU64::new(0),
            blobs: BlobSync::new(db_path.join(BLOB_DIR)),
            writing: RwLock::new(()),
            dir: dir.to_path_buf(),
            _lock: lock,
        };
        // Blobs an earlier process wrote but did not sync (it stopped mid-commit) are in the
        // log sled just recovered, which the next sync makes durable: sync them first. And
        // the database folder, which holds the blob folder's name.
        store.blobs.sync().map_err(io)?;
        sync_dir(&db_path).map_err(io)?;
        Ok(store)
    }

    fn tree(&self, t: Tree) -> &sled::Tree {
        &self.trees[Tree::ALL
            .iter()
            .position(|x| *x == t)
            .expect("every tree is opened")]
    }

    fn parts(&self) -> &sled::Tree {
        &self.trees[Tree::ALL.len()]
    }

    /// A value as stored in `tree`, with an audit entry stored in parts put back together
    /// (see [`Parts`]).
    fn whole<'a>(
        &self,
        tree: Tree,
        key: &[u8],
        value: &'a [u8],
    ) -> Result<std::borrow::Cow<'a, [u8]>, StoreError> {
        let Some((n, len, hash)) = Parts::of(tree, key, value) else {
            return Ok(std::borrow::Cow::Borrowed(value));
        };
        let unfit = || {
            let entry = <[u8; 8]>::try_from(key)
                .map_or_else(|_| hex::encode(key), |k| u64::from_be_bytes(k).to_string());
            StoreError::Corrupt(format!(
                "audit entry {entry} is stored in parts that do not fit together \
                 (a part is missing, changed or out of place)"
            ))
        };
        // The manifest must describe what `Parts::write` makes: more than one part's
        // length, in full parts but the last. Checked before any memory is reserved for it.
        let len = usize::try_from(len).map_err(|_| unfit())?;
        if len <= PART_LEN || u64::from(n) != len.div_ceil(PART_LEN) as u64 {
            return Err(unfit());
        }
        let mut whole = Vec::new();
        whole.try_reserve_exact(len).map_err(|_| unfit())?;
        for i in 0..n {
            let part = self
                .parts()
                .get(Parts::key(key, i))
                .map_err(sled_err)?
                .ok_or_else(unfit)?;
            let expected = if i + 1 < n {
                PART_LEN
            } else {
                len - whole.len()
            };
            if part.len() != expected {
                return Err(unfit());
            }
            whole.extend_from_slice(&part);
        }
        if crate::crypto::sha256(&[&whole]) != hash {
            return Err(unfit());
        }
        Ok(std::borrow::Cow::Owned(whole))
    }

    /// [`SledStore::whole`] of each entry read, as owned entries.
    fn entries(
        &self,
        tree: Tree,
        items: impl Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
    ) -> Result<super::Entries, StoreError> {
        items
            .map(|r| {
                let (k, v) = r.map_err(sled_err)?;
                let v = self.whole(tree, &k, &v)?.into_owned();
                Ok((k.to_vec(), v))
            })
            .collect()
    }

    /// The length of the value stored under `key` in the audit tree as it is stored (a
    /// manifest's for an entry kept in parts), and the number of parts stored: for tests.
    #[cfg(test)]
    pub(crate) fn audit_as_stored(&self, key: &[u8]) -> (Option<usize>, usize) {
        let stored = self.tree(Tree::Audit).get(key).unwrap().map(|v| v.len());
        (stored, self.parts().len())
    }

    /// The vault folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether sessions committing at the same time share one flush + fsync (group
    /// commit, the default). Off, every commit syncs on its own: that only serves to
    /// measure what group commit buys (`benches/core.rs`).
    pub fn with_group_commit(mut self, on: bool) -> SledStore {
        self.group_commit = on;
        self
    }

    /// Flush + fsync calls made so far (with group commit, fewer than durable commits when
    /// sessions commit at the same time).
    pub fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }

    /// Makes everything written so far durable: sled's flush writes and `sync_file_range`s
    /// its log; we add an `fdatasync` of the data file, which also flushes the drive's
    /// cache and the file's size (the metadata needed to read the data back).
    fn sync_now(&self) -> Result<(), StoreError> {
        self.syncs.fetch_add(1, Ordering::Relaxed);
        // Blobs first, so that the log that names them is made durable after them; listed
        // while no transaction is writing one.
        {
            let _no_writes = self.writing.write().unwrap_or_else(|p| p.into_inner());
            self.blobs.sync().map_err(io)?;
        }
        self.db.flush().map_err(sled_err)?;
        self.data_file.sync_data().map_err(io)
    }

    /// Blob files (see [`BlobSync`]) fsynced so far.
    pub fn blob_files_synced(&self) -> u64 {
        self.blobs.files_synced()
    }

    /// Returns once everything this thread committed is durable. With group commit, a
    /// commit arriving while another's sync runs waits for the next sync, which covers
    /// every commit that arrived meanwhile (see `store::group`).
    fn make_durable(&self) -> Result<(), StoreError> {
        if self.group_commit {
            self.group.sync(|| self.sync_now())
        } else {
            self.sync_now()
        }
    }

    fn apply(&self, writes: &WriteSet, audit: Option<&AuditBuilder<'_>>) -> Result<(), StoreError> {
        let writing = self.writing.read().unwrap_or_else(|p| p.into_inner());
        let refs: Vec<&sled::Tree> = self.trees.iter().collect();
        let result = refs[..].transaction(|txs| {
            for (tree, key, previous) in &writes.unchanged {
                let current = txs[tree_index(*tree)].get(key.as_slice())?;
                // A long audit entry's hash is in its manifest (see `Parts`).
                let hash = current.map(|v| match Parts::of(*tree, key, &v) {
                    Some((_, _, whole)) => whole,
                    None => crate::crypto::sha256(&[&v]),
                });
                if hash.as_ref() != Some(previous) {
                    return Err(ConflictableTransactionError::Abort(StoreError::Conflict {
                        tree: tree.name(),
                        key: key.clone(),
                    }));
                }
            }
            for (tree, key) in &writes.absent {
                if txs[tree_index(*tree)].get(key.as_slice())?.is_some() {
                    return Err(ConflictableTransactionError::Abort(StoreError::Exists {
                        tree: tree.name(),
                        key: key.clone(),
                    }));
                }
            }
            let parts = &txs[Tree::ALL.len()];
            for (tree, key, value) in &writes.ops {
                let tx = &txs[tree_index(*tree)];
                match value {
                    Some(v) if *tree == Tree::Audit => {
                        Parts::write(tx, parts, key, Some(v))?;
                    }
                    None if *tree == Tree::Audit => Parts::write(tx, parts, key, None)?,
                    Some(v) => {
                        tx.insert(key.as_slice(), v.as_slice())?;
                    }
                    None => {
                        tx.remove(key.as_slice())?;
                    }
                }
            }
            if let Some(build) = audit {
                let meta = &txs[tree_index(Tree::Meta)];
                let head = meta.get(AUDIT_HEAD_KEY)?;
                let append = build(head.as_deref()).map_err(ConflictableTransactionError::Abort)?;
                Parts::write(
                    &txs[tree_index(Tree::Audit)],
                    parts,
                    &append.key,
                    Some(&append.entry),
                )?;
                meta.insert(AUDIT_HEAD_KEY, append.head.as_slice())?;
                for (tree, key, value) in &append.extra {
                    txs[tree_index(*tree)].insert(key.as_slice(), value.as_slice())?;
                }
            }
            Ok(())
        });
        match result {
            Ok(()) => {}
            Err(TransactionError::Abort(e)) => return Err(e),
            Err(TransactionError::Storage(e)) => return Err(sled_err(e)),
        }
        drop(writing); // before the sync, which waits for every writer
        self.make_durable()
    }
}

impl Store for SledStore {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self.tree(tree).get(key).map_err(sled_err)? {
            Some(v) => Ok(Some(self.whole(tree, key, &v)?.into_owned())),
            None => Ok(None),
        }
    }

    fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<super::Entries, StoreError> {
        self.entries(tree, self.tree(tree).scan_prefix(prefix))
    }

    fn range(
        &self,
        tree: Tree,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<super::Entries, StoreError> {
        self.entries(tree, self.tree(tree).range(start..end).take(limit))
    }

    fn range_rev(
        &self,
        tree: Tree,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<super::Entries, StoreError> {
        self.entries(tree, self.tree(tree).range(start..end).rev().take(limit))
    }

    fn visit_range(
        &self,
        tree: Tree,
        start: &[u8],
        end: Option<&[u8]>,
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        let items = match end {
            Some(end) if end <= start => return Ok(()),
            Some(end) => self.tree(tree).range(start..end),
            None => self.tree(tree).range(start..),
        };
        for item in items {
            let (k, v) = item.map_err(sled_err)?;
            if !f(&k, &self.whole(tree, &k, &v)?) {
                break;
            }
        }
        Ok(())
    }

    fn commit(&self, writes: &WriteSet, audit: &AuditBuilder<'_>) -> Result<(), StoreError> {
        self.apply(writes, Some(audit))
    }

    fn commit_unaudited(&self, writes: &WriteSet) -> Result<(), StoreError> {
        self.apply(writes, None)
    }

    fn reserve(&self, tree: Tree, key: &[u8], n: u64) -> Result<u64, StoreError> {
        let parse = |v: Option<&[u8]>| -> Option<u64> {
            match v {
                None => Some(0),
                Some(b) => <[u8; 8]>::try_from(b).ok().map(u64::from_be_bytes),
            }
        };
        let writing = self.writing.read().unwrap_or_else(|p| p.into_inner());
        let before = self
            .tree(tree)
            .fetch_and_update(key, |old| match parse(old) {
                Some(current) => Some(current.saturating_add(n).to_be_bytes().to_vec()),
                // leave a malformed counter as it is; the caller gets an error below
                None => old.map(<[u8]>::to_vec),
            })
            .map_err(sled_err)?;
        drop(writing);
        let before = parse(before.as_deref()).ok_or_else(|| {
            StoreError::Corrupt(format!("a counter in {} is not 8 bytes", tree.name()))
        })?;
        // No fsync of its own: the commit that uses the numbers flushes the whole database,
        // this update included. A crash before that commit may forget the reservation, and
        // then the numbers are handed out again — never to two committed records.
        Ok(before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dropped store's sled handle can outlive it for a moment (sled's threads hold the
    /// file); reopening in that window waits for the lock instead of failing. Here the
    /// lingering handle is simulated by holding sled's file lock for 300 ms.
    #[test]
    fn reopening_waits_for_a_lingering_sled_lock() {
        let dir = tempfile::tempdir().unwrap();
        drop(SledStore::open(dir.path(), 1 << 20).unwrap());
        let db_file = File::open(dir.path().join(DB_DIR).join("db")).unwrap();
        db_file.try_lock().unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(db_file);
        });
        let started = std::time::Instant::now();
        let store = SledStore::open(dir.path(), 1 << 20);
        release.join().unwrap();
        assert!(store.is_ok(), "{:?}", store.err());
        assert!(started.elapsed() >= std::time::Duration::from_millis(250));
    }

    /// A value too large for sled's log goes to a blob file, which sled does not fsync: the
    /// commit that wrote it fsyncs it (and every blob file present is then synced); a small
    /// commit after it lists nothing new.
    #[test]
    fn a_commit_fsyncs_the_blob_files_it_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path(), 1 << 20).unwrap();
        let blob_dir = dir.path().join(DB_DIR).join(BLOB_DIR);
        let files = |d: &Path| -> std::collections::HashSet<OsString> {
            fs::read_dir(d)
                .map(|r| r.map(|e| e.unwrap().file_name()).collect())
                .unwrap_or_default()
        };
        let mut w = WriteSet::new();
        w.put(Tree::Meta, b"small".to_vec(), vec![1; 100]);
        store.commit_unaudited(&w).unwrap();
        assert_eq!(store.blob_files_synced(), 0);
        assert!(files(&blob_dir).is_empty());

        let mut w = WriteSet::new();
        w.put(Tree::Meta, b"large".to_vec(), vec![7; 600 * 1024]);
        store.commit_unaudited(&w).unwrap();
        let present = files(&blob_dir);
        assert!(!present.is_empty(), "sled wrote the large value as a blob");
        assert!(store.blob_files_synced() >= present.len() as u64);
        let st = store.blobs.state.lock().unwrap();
        assert!(present.iter().all(|f| st.synced.contains_key(f)));
        drop(st);
        #[cfg(unix)]
        for f in &present {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(blob_dir.join(f)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "blob files are private");
        }

        let before = store.blob_files_synced();
        let mut w = WriteSet::new();
        w.put(Tree::Meta, b"small".to_vec(), vec![2; 100]);
        store.commit_unaudited(&w).unwrap();
        assert_eq!(store.blob_files_synced(), before);
        assert_eq!(
            store.get(Tree::Meta, b"large").unwrap().unwrap(),
            vec![7; 600 * 1024]
        );
    }

    /// Files created one after another are each found by the next sync; a sync with
    /// nothing new fsyncs nothing; a file gone since is forgotten.
    #[test]
    fn every_new_blob_file_is_found_by_the_next_sync() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobSync::new(dir.path().join("blobs"));
        blobs.sync().unwrap(); // no folder yet
        fs::create_dir(dir.path().join("blobs")).unwrap();
        for round in 0..50u64 {
            fs::write(dir.path().join("blobs").join(round.to_string()), b"x").unwrap();
            blobs.sync().unwrap();
            assert_eq!(blobs.files_synced(), round + 1);
        }
        blobs.sync().unwrap();
        assert_eq!(blobs.files_synced(), 50);
        fs::remove_file(dir.path().join("blobs").join("0")).unwrap();
        blobs.sync().unwrap();
        assert_eq!(blobs.state.lock().unwrap().synced.len(), 49);
        fs::write(dir.path().join("blobs").join("late"), b"y").unwrap();
        blobs.sync().unwrap();
        assert_eq!(blobs.files_synced(), 51);
    }

    /// On a filesystem whose file times tick coarsely, a file created in the same tick as
    /// the last listing leaves the folder's time unchanged. A listing that came within
    /// `MTIME_SETTLE` of that time is therefore repeated; only one that came well after it
    /// lets an unchanged time skip the listing. (Simulated times: this machine's kernel
    /// gives fine-grained times once they have been read.)
    #[test]
    fn a_blob_created_in_the_same_clock_tick_is_not_missed() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("blobs");
        fs::create_dir(&d).unwrap();
        let blobs = BlobSync::new(d.clone());
        // a filesystem with whole-second times: every file time is on the second
        let second = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let at = |ms: u64| second + Duration::from_millis(ms);
        fs::write(d.join("a"), b"x").unwrap();
        blobs.sync_seen(second, at(500)).unwrap();
        assert_eq!(blobs.files_synced(), 1);
        // created at .700 of the same second: the folder's time is unchanged
        fs::write(d.join("b"), b"x").unwrap();
        blobs.sync_seen(second, at(1900)).unwrap();
        assert_eq!(blobs.files_synced(), 2, "listed again: too soon to be sure");
        // a listing well after the folder's time settles it: the next is skipped
        blobs.sync_seen(second, at(2600)).unwrap();
        assert!(blobs.state.lock().unwrap().settled);
        fs::write(d.join("c"), b"x").unwrap();
        blobs.sync_seen(second, at(2700)).unwrap();
        assert_eq!(
            blobs.files_synced(),
            2,
            "an unchanged, settled folder is not listed"
        );
        // (a file created after a settled listing has a later time, even in whole seconds)
        blobs.sync_seen(at(2000), at(2800)).unwrap();
        assert_eq!(blobs.files_synced(), 3);
    }

    /// sled writes a blob inside a transaction, in several writes, on the transaction's
    /// thread. A sync that starts while one is half-written waits for the transaction, so
    /// it fsyncs the whole file, never half of it (here a writer holds the store's write
    /// lock, as `apply` does, across a pause between its two writes).
    #[test]
    fn a_sync_waits_for_a_blob_being_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(SledStore::open(dir.path(), 1 << 20).unwrap());
        let blob_dir = dir.path().join(DB_DIR).join(BLOB_DIR);
        fs::create_dir_all(&blob_dir).unwrap();
        let (started_tx, started) = std::sync::mpsc::channel();
        let writer = {
            let store = store.clone();
            let path = blob_dir.join("424242");
            std::thread::spawn(move || {
                let _tx = store.writing.read().unwrap();
                use std::io::Write;
                let mut f = File::create(&path).unwrap();
                f.write_all(&[1; 5]).unwrap();
                started_tx.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(300));
                f.write_all(&[2; 100_000]).unwrap();
            })
        };
        started.recv().unwrap();
        let mut w = WriteSet::new();
        w.put(Tree::Meta, b"k".to_vec(), vec![0; 10]);
        store.commit_unaudited(&w).unwrap(); // its sync lists the blobs
        writer.join().unwrap();
        let st = store.blobs.state.lock().unwrap();
        assert_eq!(
            st.synced.get(std::ffi::OsStr::new("424242")),
            Some(&100_005),
            "the whole blob was fsynced"
        );
    }

    /// Another holder of the vault's own LOCK file is another process (or store) using the
    /// vault: that is refused at once, not waited for.
    #[test]
    fn a_held_vault_lock_is_in_use_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let first = SledStore::open(dir.path(), 1 << 20).unwrap();
        let started = std::time::Instant::now();
        assert!(matches!(
            SledStore::open(dir.path(), 1 << 20),
            Err(StoreError::InUse)
        ));
        assert!(started.elapsed() < std::time::Duration::from_millis(200));
        drop(first);
        assert!(SledStore::open(dir.path(), 1 << 20).is_ok());
    }

    fn audit_key(seq: u64) -> Vec<u8> {
        seq.to_be_bytes().to_vec()
    }

    fn put_audit(store: &SledStore, seq: u64, value: Option<Vec<u8>>) {
        let mut w = WriteSet::new();
        match value {
            Some(v) => w.put(Tree::Audit, audit_key(seq), v),
            None => w.delete(Tree::Audit, audit_key(seq)),
        }
        store.commit_unaudited(&w).unwrap();
    }

    /// Bytes that differ from part to part, so that a part out of place changes the whole.
    fn long_value(len: usize, salt: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8) ^ ((i / PART_LEN) as u8).wrapping_mul(31) ^ salt)
            .collect()
    }

    /// Every way the store reads a tree, as owned entries, for the audit tree.
    fn every_read(store: &SledStore) -> Vec<super::super::Entries> {
        let (from, to) = (audit_key(0), audit_key(u64::MAX));
        let mut visited = Vec::new();
        store
            .visit(Tree::Audit, &from, &mut |k, v| {
                visited.push((k.to_vec(), v.to_vec()));
                true
            })
            .unwrap();
        let mut bounded = Vec::new();
        store
            .visit_range(Tree::Audit, &from, Some(&to), &mut |k, v| {
                bounded.push((k.to_vec(), v.to_vec()));
                true
            })
            .unwrap();
        let mut reversed = store.range_rev(Tree::Audit, &from, &to, 100).unwrap();
        reversed.reverse();
        let got: super::super::Entries = visited
            .iter()
            .map(|(k, _)| (k.clone(), store.get(Tree::Audit, k).unwrap().unwrap()))
            .collect();
        vec![
            visited,
            bounded,
            reversed,
            store.range(Tree::Audit, &from, &to, 100).unwrap(),
            store.scan_prefix(Tree::Audit, &[]).unwrap(),
            got,
        ]
    }

    /// An audit entry longer than a part is stored as a short manifest in the audit tree
    /// and parts in their own tree, so that the leaf later commits append to stays small;
    /// every read gives it back whole, also after reopening. Written again shorter, or
    /// removed, its parts go. An entry of exactly one part's length is kept whole.
    #[test]
    fn a_long_audit_entry_is_stored_in_parts_and_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path(), 1 << 20).unwrap();
        let exact = long_value(PART_LEN, 1);
        let long = long_value(3 * PART_LEN + 17, 2);
        put_audit(&store, 1, Some(exact.clone()));
        put_audit(&store, 2, Some(long.clone()));
        put_audit(&store, 3, Some(b"short".to_vec()));
        let want = vec![
            (audit_key(1), exact.clone()),
            (audit_key(2), long.clone()),
            (audit_key(3), b"short".to_vec()),
        ];
        let raw = |s: &SledStore, seq: u64| {
            s.tree(Tree::Audit)
                .get(audit_key(seq))
                .unwrap()
                .map(|v| v.len())
        };
        assert_eq!(raw(&store, 1), Some(PART_LEN));
        assert_eq!(raw(&store, 2), Some(MANIFEST_LEN));
        assert_eq!(store.parts().len(), 4);
        for read in every_read(&store) {
            assert_eq!(read, want);
        }
        drop(store);
        let store = SledStore::open(dir.path(), 1 << 20).unwrap();
        for read in every_read(&store) {
            assert_eq!(read, want);
        }

        let shorter = long_value(2 * PART_LEN, 3);
        put_audit(&store, 2, Some(shorter.clone()));
        assert_eq!(store.parts().len(), 2);
        assert_eq!(
            store.get(Tree::Audit, &audit_key(2)).unwrap(),
            Some(shorter)
        );
        put_audit(&store, 2, Some(b"whole again".to_vec()));
        assert_eq!(store.parts().len(), 0);
        put_audit(&store, 2, Some(long.clone()));
        put_audit(&store, 2, None);
        assert_eq!(store.parts().len(), 0);
        assert_eq!(store.get(Tree::Audit, &audit_key(2)).unwrap(), None);
        // A write conditional on a long entry being unchanged compares the whole entry.
        put_audit(&store, 5, Some(long.clone()));
        let mut w = WriteSet::new();
        let seen = crate::crypto::sha256(&[&long]);
        w.put_if_unchanged(Tree::Audit, audit_key(5), seen, b"next".to_vec());
        store.commit_unaudited(&w).unwrap();
        let mut w = WriteSet::new();
        w.put_if_unchanged(Tree::Audit, audit_key(5), seen, b"again".to_vec());
        assert!(matches!(
            store.commit_unaudited(&w),
            Err(StoreError::Conflict { .. })
        ));
        // A long entry written whole by an earlier build reads as it is.
        store
            .tree(Tree::Audit)
            .insert(audit_key(4), long.as_slice())
            .unwrap();
        assert_eq!(store.get(Tree::Audit, &audit_key(4)).unwrap(), Some(long));
    }

    /// Swaps part `a.1` of entry `a.0` with part `b.1` of entry `b.0`.
    fn swap_parts(s: &SledStore, a: (u64, u32), b: (u64, u32)) {
        let (a, b) = (
            Parts::key(&audit_key(a.0), a.1),
            Parts::key(&audit_key(b.0), b.1),
        );
        let va = s.parts().get(&a).unwrap().unwrap();
        let vb = s.parts().get(&b).unwrap().unwrap();
        s.parts().insert(a, vb).unwrap();
        s.parts().insert(b, va).unwrap();
    }

    /// A long entry whose parts were removed, changed, swapped with another entry's or
    /// cut short, or whose manifest was edited, is refused by every read with an error
    /// naming its key; nothing is read past it.
    #[test]
    fn audit_parts_that_do_not_fit_together_are_refused() {
        type Edit = fn(&SledStore);
        let part = |seq: u64, n: u32| Parts::key(&audit_key(seq), n);
        let edits: [(&str, Edit); 8] = [
            ("part removed", |s| {
                s.parts().remove(Parts::key(&audit_key(1), 1)).unwrap();
            }),
            ("byte flipped", |s| {
                let k = Parts::key(&audit_key(1), 2);
                let mut v = s.parts().get(&k).unwrap().unwrap().to_vec();
                v[5] ^= 1;
                s.parts().insert(k, v).unwrap();
            }),
            ("parts swapped between entries", |s| {
                swap_parts(s, (1, 0), (2, 0))
            }),
            ("parts swapped within an entry", |s| {
                swap_parts(s, (1, 0), (1, 1))
            }),
            ("last part cut short", |s| {
                let k = Parts::key(&audit_key(1), 2);
                let v = s.parts().get(&k).unwrap().unwrap();
                s.parts().insert(k, &v[..v.len() - 1]).unwrap();
            }),
            ("manifest counts one part less", |s| {
                let k = audit_key(1);
                let mut m = s.tree(Tree::Audit).get(&k).unwrap().unwrap().to_vec();
                m[11] -= 1;
                s.tree(Tree::Audit).insert(k, m).unwrap();
            }),
            // Refused before any memory is reserved for it.
            ("manifest claims a terabyte", |s| {
                let k = audit_key(1);
                let mut m = s.tree(Tree::Audit).get(&k).unwrap().unwrap().to_vec();
                m[12..20].copy_from_slice(&(1u64 << 40).to_be_bytes());
                s.tree(Tree::Audit).insert(k, m).unwrap();
            }),
            // A consistent manifest (right length and hash) of one part as long as the
            // entry: not what the store writes.
            ("one long part", |s| {
                let whole = s.get(Tree::Audit, &audit_key(1)).unwrap().unwrap();
                for i in 0..3 {
                    s.parts().remove(Parts::key(&audit_key(1), i)).unwrap();
                }
                s.parts()
                    .insert(Parts::key(&audit_key(1), 0), whole.as_slice())
                    .unwrap();
                let mut m = Parts::manifest(&whole);
                m[8..12].copy_from_slice(&1u32.to_be_bytes());
                s.tree(Tree::Audit).insert(audit_key(1), m).unwrap();
            }),
        ];
        for (what, edit) in edits {
            let dir = tempfile::tempdir().unwrap();
            let store = SledStore::open(dir.path(), 1 << 20).unwrap();
            put_audit(&store, 1, Some(long_value(2 * PART_LEN + 9, 1)));
            put_audit(&store, 2, Some(long_value(2 * PART_LEN + 9, 2)));
            assert!(store.parts().get(part(1, 2)).unwrap().is_some());
            edit(&store);
            let refused = |r: Result<(), StoreError>| match r {
                Err(StoreError::Corrupt(m)) => assert!(
                    m.contains("audit entry 1 is stored in parts that do not fit together"),
                    "{what}: {m}"
                ),
                other => panic!("{what}: {other:?}"),
            };
            refused(store.get(Tree::Audit, &audit_key(1)).map(|_| ()));
            refused(store.range(Tree::Audit, &[], &[0xff; 8], 10).map(|_| ()));
            refused(store.scan_prefix(Tree::Audit, &[]).map(|_| ()));
            let mut after = 0;
            refused(store.visit(Tree::Audit, &[], &mut |k, _| {
                after += usize::from(k > audit_key(1).as_slice());
                true
            }));
            assert_eq!(after, 0, "{what}: read past the entry that failed");
        }
    }
}
