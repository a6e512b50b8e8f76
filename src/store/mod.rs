//! Storage: a `Store` trait and its sled implementation.
//!
//! The store sees only ciphertext envelopes, random ids, keyed blind-index entries,
//! wrapped keyrings and audit entries (ids and codes). It knows nothing of keys or policy;
//! it gives the gate one primitive that matters for the audit log: [`Store::commit`]
//! applies a set of writes *and* appends one audit entry, chained onto the current head,
//! in one atomic, durable step.

mod group;
mod pg_store;
mod sled_store;

pub use pg_store::{
    CopyReport, DEFAULT_APP_ROLE, PgStore, PgTarget, SCHEMA_VERSION, is_postgres_url, redact_url,
};
pub use sled_store::SledStore;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Key/value pairs as a scan returns them, in key order.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// A named keyspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tree {
    /// Vault header and counters.
    Meta,
    /// User records with wrapped keyrings.
    Users,
    /// Petitioner records.
    Petitioners,
    /// Case records.
    Cases,
    /// Blind-index entries.
    Index,
    /// Audit entries by sequence number.
    Audit,
    /// Audit index: by record id and by actor, to sequence numbers.
    AuditIndex,
}

impl Tree {
    /// Every tree.
    pub const ALL: [Tree; 7] = [
        Tree::Meta,
        Tree::Users,
        Tree::Petitioners,
        Tree::Cases,
        Tree::Index,
        Tree::Audit,
        Tree::AuditIndex,
    ];

    /// The tree's name on disk.
    pub fn name(self) -> &'static str {
        match self {
            Tree::Meta => "meta",
            Tree::Users => "users",
            Tree::Petitioners => "petitioners",
            Tree::Cases => "cases",
            Tree::Index => "index",
            Tree::Audit => "audit",
            Tree::AuditIndex => "audit_index",
        }
    }
}

/// Writes to apply together.
#[derive(Debug, Default, Clone)]
pub struct WriteSet {
    pub(crate) ops: Vec<(Tree, Vec<u8>, Option<Vec<u8>>)>,
    /// Keys that must not exist yet (checked inside the transaction).
    pub(crate) absent: Vec<(Tree, Vec<u8>)>,
    /// Keys whose current value must still hash to this (checked inside the transaction):
    /// a read-modify-write of a record fails instead of losing a concurrent update.
    pub(crate) unchanged: Vec<(Tree, Vec<u8>, [u8; 32])>,
}

impl WriteSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts or replaces `key` in `tree`.
    pub fn put(&mut self, tree: Tree, key: impl Into<Vec<u8>>, value: Vec<u8>) {
        self.ops.push((tree, key.into(), Some(value)));
    }

    /// Inserts `key` only if it does not exist yet; if it does, the whole commit fails with
    /// [`StoreError::Exists`] and nothing is written.
    pub fn put_new(&mut self, tree: Tree, key: impl Into<Vec<u8>>, value: Vec<u8>) {
        let key = key.into();
        self.absent.push((tree, key.clone()));
        self.ops.push((tree, key, Some(value)));
    }

    /// Replaces `key` only if its current value still has SHA-256 `previous` (the value the
    /// caller read and modified); otherwise the whole commit fails with
    /// [`StoreError::Conflict`] and nothing is written.
    pub fn put_if_unchanged(
        &mut self,
        tree: Tree,
        key: impl Into<Vec<u8>>,
        previous: [u8; 32],
        value: Vec<u8>,
    ) {
        let key = key.into();
        self.unchanged.push((tree, key.clone(), previous));
        self.ops.push((tree, key, Some(value)));
    }

    /// Appends another set's writes.
    pub fn extend(&mut self, other: WriteSet) {
        self.ops.extend(other.ops);
        self.absent.extend(other.absent);
        self.unchanged.extend(other.unchanged);
    }

    /// Removes `key` from `tree`.
    pub fn delete(&mut self, tree: Tree, key: impl Into<Vec<u8>>) {
        self.ops.push((tree, key.into(), None));
    }

    /// True when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Number of writes.
    pub fn len(&self) -> usize {
        self.ops.len()
    }
}

/// What the audit layer appends: the entry's key in [`Tree::Audit`], its bytes, and the new
/// head (stored under [`AUDIT_HEAD_KEY`] in [`Tree::Meta`]).
#[derive(Debug, Clone)]
pub struct AuditAppend {
    /// Key of the entry in the audit tree (big-endian sequence number).
    pub key: Vec<u8>,
    /// The encoded entry.
    pub entry: Vec<u8>,
    /// The encoded new head.
    pub head: Vec<u8>,
    /// Further writes that belong to the entry (index entries, a checkpoint).
    pub extra: Vec<(Tree, Vec<u8>, Vec<u8>)>,
}

/// The key of the audit head in [`Tree::Meta`].
pub const AUDIT_HEAD_KEY: &[u8] = b"audit_head";

/// Builds the audit entry from the current head (None for an empty log). It may be called
/// more than once (a transaction can be retried), so it must be pure.
pub type AuditBuilder<'a> = dyn Fn(Option<&[u8]>) -> Result<AuditAppend, StoreError> + 'a;

/// A storage failure. Messages name trees and operations, never values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another process holds the vault.
    #[error("vault is in use by another process")]
    InUse,
    /// I/O or engine failure.
    #[error("storage failure: {0}")]
    Io(String),
    /// Data on disk is not what the engine wrote.
    #[error(
        "storage is corrupted: {0}; nothing was changed — restore the vault folder from a backup (do not delete files to recover)"
    )]
    Corrupt(String),
    /// A key that had to be new exists (e.g. an ID number registered concurrently).
    #[error("a unique key already exists in {tree}")]
    Exists {
        /// The tree.
        tree: &'static str,
        /// The key (an id or keyed tag, never a value).
        key: Vec<u8>,
    },
    /// A record changed between being read and being written back (another officer's
    /// update); nothing was written.
    #[error(
        "a record in {tree} changed while it was being updated; nothing was written — try again"
    )]
    Conflict {
        /// The tree.
        tree: &'static str,
        /// The key (a random record id).
        key: Vec<u8>,
    },
    /// A fault injected by a test.
    #[error("storage failure: injected fault ({0})")]
    Injected(&'static str),
    /// The audit builder refused (e.g. the head did not parse).
    #[error("audit log cannot be extended: {0}")]
    Audit(String),
}

/// The storage engine under a vault.
pub trait Store: Send + Sync {
    /// Reads one value.
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// All entries of a tree whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Entries, StoreError>;

    /// Entries with key in `[start, end)`, in key order, at most `limit`.
    fn range(
        &self,
        tree: Tree,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Entries, StoreError>;

    /// Calls `f` on every entry with key ≥ `start`, in key order, without copying, until it
    /// returns false.
    fn visit(
        &self,
        tree: Tree,
        start: &[u8],
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        self.visit_range(tree, start, None, f)
    }

    /// [`Store::visit`], stopping before `end` when there is one: the entries with key in
    /// `[start, end)`. Several threads may visit different ranges of a tree at once.
    fn visit_range(
        &self,
        tree: Tree,
        start: &[u8],
        end: Option<&[u8]>,
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError>;

    /// Entries with key in `[start, end)`, in descending key order, at most `limit`.
    fn range_rev(
        &self,
        tree: Tree,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Entries, StoreError>;

    /// Applies `writes` and appends the entry built by `audit` from the current head, in one
    /// atomic transaction, and returns only once that is durable (flushed and fsynced).
    fn commit(&self, writes: &WriteSet, audit: &AuditBuilder<'_>) -> Result<(), StoreError>;

    /// Applies writes that carry no audit entry (only vault creation uses this).
    fn commit_unaudited(&self, writes: &WriteSet) -> Result<(), StoreError>;

    /// Atomically adds `n` to the big-endian `u64` counter under `key` (absent counts as
    /// 0), durably, and returns its value before. Numbers handed out are never handed out
    /// again, not even to another process on the same database; a commit that fails after
    /// reserving leaves a gap.
    fn reserve(&self, tree: Tree, key: &[u8], n: u64) -> Result<u64, StoreError>;
}

/// A store that forwards to another and fails on command: the fault injection the
/// fail-closed tests use. Public so integrating applications can test their own error
/// handling the same way.
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    fail_commits: AtomicBool,
}

impl FaultyStore {
    /// Wraps `inner`; nothing fails until [`FaultyStore::fail_commits`] is set.
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            fail_commits: AtomicBool::new(false),
        }
    }

    /// From now on every commit fails (as a full disk would), or succeeds again.
    pub fn fail_commits(&self, fail: bool) {
        self.fail_commits.store(fail, Ordering::SeqCst);
    }
}

impl Store for FaultyStore {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(tree, key)
    }
    fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Entries, StoreError> {
        self.inner.scan_prefix(tree, prefix)
    }
    fn range(
        &self,
        tree: Tree,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Entries, StoreError> {
        self.inner.range(tree, start, end, limit)
    }
    fn range_rev(
        &self,
        tree: Tree,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Entries, StoreError> {
        self.inner.range_rev(tree, start, end, limit)
    }
    fn visit_range(
        &self,
        tree: Tree,
        start: &[u8],
        end: Option<&[u8]>,
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        self.inner.visit_range(tree, start, end, f)
    }
    fn commit(&self, writes: &WriteSet, audit: &AuditBuilder<'_>) -> Result<(), StoreError> {
        if self.fail_commits.load(Ordering::SeqCst) {
            return Err(StoreError::Injected("commit"));
        }
        self.inner.commit(writes, audit)
    }
    fn commit_unaudited(&self, writes: &WriteSet) -> Result<(), StoreError> {
        if self.fail_commits.load(Ordering::SeqCst) {
            return Err(StoreError::Injected("commit"));
        }
        self.inner.commit_unaudited(writes)
    }
    fn reserve(&self, tree: Tree, key: &[u8], n: u64) -> Result<u64, StoreError> {
        if self.fail_commits.load(Ordering::SeqCst) {
            return Err(StoreError::Injected("reserve"));
        }
        self.inner.reserve(tree, key, n)
    }
}
