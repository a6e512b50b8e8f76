//! Backups (still ciphertext), restore, and compaction of a vault folder.
//!
//! Backup file (format 1):
//!
//! ```text
//! "PVBACKUP" | format (1) | manifest length (4, BE) | manifest (JSON) | body | SHA-256 (32)
//! body   = entries, tree by tree in `Tree::ALL` order:
//!          tree index (1) | key length (4, BE) | key | value length (4, BE) | value
//! SHA-256 = over everything before it
//! ```
//!
//! The manifest names the vault, counts entries per tree, and gives the body's length and
//! SHA-256 and the audit head (size and hash) the snapshot ends with. A restore checks all
//! of it before it creates anything. The snapshot is consistent: every write to a vault
//! commits an audit entry in the same transaction, so a dump taken between two reads of an
//! unchanged audit head saw no write (the dump is retried otherwise).

use crate::audit::Head;
use crate::store::{AUDIT_HEAD_KEY, SledStore, Store, StoreError, Tree, WriteSet};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

const MAGIC: &[u8; 8] = b"PVBACKUP";
const FORMAT: u8 = 1;

/// The integrity manifest at the head of a backup file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Backup format.
    pub format: u8,
    /// The vault id (hex).
    pub vault_id: String,
    /// Unix ms the snapshot was taken.
    pub created_at: i64,
    /// Entries per tree.
    pub trees: BTreeMap<String, u64>,
    /// Body length in bytes.
    pub body_len: u64,
    /// SHA-256 of the body (hex).
    pub body_sha256: String,
    /// Audit log size at the snapshot.
    pub audit_size: u64,
    /// Audit head hash at the snapshot (hex).
    pub audit_head: String,
}

/// Why a backup was refused or a restore failed. Messages name files and trees, never
/// values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// Not a backup file, or a format this build does not read.
    #[error("not a petition-vault backup file (or an unknown format version)")]
    NotABackup,
    /// The file is shorter than it says or its checksum does not match.
    #[error("the backup is corrupted or truncated ({0}); nothing was restored — use another copy")]
    Corrupt(&'static str),
    /// The target folder exists and is not empty.
    #[error("{0} exists and is not empty; restore into a new or empty folder")]
    TargetNotEmpty(std::path::PathBuf),
    /// Storage failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// I/O failure.
    #[error("{0}")]
    Io(String),
}

fn io(e: impl std::fmt::Display) -> BackupError {
    BackupError::Io(e.to_string())
}

fn audit_head(store: &dyn Store) -> Result<Option<Vec<u8>>, StoreError> {
    store.get(Tree::Meta, AUDIT_HEAD_KEY)
}

/// Dumps every tree of `store` into a backup file's bytes. Retries (up to 5 times) when a
/// write lands during the dump.
pub(crate) fn snapshot(store: &dyn Store, vault_id: &[u8; 16]) -> Result<Vec<u8>, BackupError> {
    for _ in 0..5 {
        let before = audit_head(store)?;
        let mut body = Vec::new();
        let mut trees = BTreeMap::new();
        for (i, tree) in Tree::ALL.iter().enumerate() {
            let mut n = 0u64;
            store.visit(*tree, b"", &mut |k, v| {
                body.push(i as u8);
                body.extend_from_slice(&(k.len() as u32).to_be_bytes());
                body.extend_from_slice(k);
                body.extend_from_slice(&(v.len() as u32).to_be_bytes());
                body.extend_from_slice(v);
                n += 1;
                true
            })?;
            trees.insert(tree.name().to_owned(), n);
        }
        if audit_head(store)? != before {
            continue;
        }
        let head: Head = before
            .as_deref()
            .and_then(|b| postcard::from_bytes(b).ok())
            .ok_or(StoreError::Audit("the audit head is unreadable".into()))?;
        let manifest = Manifest {
            format: FORMAT,
            vault_id: hex::encode(vault_id),
            created_at: crate::vault::now_ms(),
            trees,
            body_len: body.len() as u64,
            body_sha256: hex::encode(crate::crypto::sha256(&[&body])),
            audit_size: head.next_seq,
            audit_head: hex::encode(head.hash),
        };
        let m = serde_json::to_vec(&manifest).expect("manifest serialises");
        let mut out = Vec::with_capacity(body.len() + m.len() + 64);
        out.extend_from_slice(MAGIC);
        out.push(FORMAT);
        out.extend_from_slice(&(m.len() as u32).to_be_bytes());
        out.extend_from_slice(&m);
        out.extend_from_slice(&body);
        let digest = crate::crypto::sha256(&[&out]);
        out.extend_from_slice(&digest);
        return Ok(out);
    }
    Err(BackupError::Io(
        "the vault kept changing during the backup; retry when it is idle".into(),
    ))
}

type Entries = Vec<(Tree, Vec<u8>, Vec<u8>)>;

/// Checks a backup file completely (checksum, manifest, body, counts, audit head) and
/// returns its manifest and entries.
pub fn verify(bytes: &[u8]) -> Result<(Manifest, Entries), BackupError> {
    if bytes.len() < MAGIC.len() + 1 || &bytes[..8] != MAGIC || bytes[8] != FORMAT {
        return Err(BackupError::NotABackup);
    }
    if bytes.len() < 8 + 1 + 4 + 32 {
        return Err(BackupError::Corrupt("too short"));
    }
    let (content, digest) = bytes.split_at(bytes.len() - 32);
    if !crate::crypto::ct_eq(&crate::crypto::sha256(&[content]), digest) {
        return Err(BackupError::Corrupt("checksum mismatch"));
    }
    let mlen = u32::from_be_bytes(content[9..13].try_into().expect("4 bytes")) as usize;
    let m_end = 13usize
        .checked_add(mlen)
        .filter(|e| *e <= content.len())
        .ok_or(BackupError::Corrupt("manifest length"))?;
    let manifest: Manifest = serde_json::from_slice(&content[13..m_end])
        .map_err(|_| BackupError::Corrupt("manifest"))?;
    let body = &content[m_end..];
    if body.len() as u64 != manifest.body_len {
        return Err(BackupError::Corrupt("body length"));
    }
    if hex::encode(crate::crypto::sha256(&[body])) != manifest.body_sha256 {
        return Err(BackupError::Corrupt("body checksum"));
    }
    let mut entries = Vec::new();
    let mut counts: BTreeMap<String, u64> =
        Tree::ALL.iter().map(|t| (t.name().to_owned(), 0)).collect();
    let mut at = 0usize;
    let take = |at: &mut usize, n: usize| -> Result<&[u8], BackupError> {
        let end = at
            .checked_add(n)
            .filter(|e| *e <= body.len())
            .ok_or(BackupError::Corrupt("entry length"))?;
        let s = &body[*at..end];
        *at = end;
        Ok(s)
    };
    while at < body.len() {
        let t = take(&mut at, 1)?[0] as usize;
        let tree = *Tree::ALL.get(t).ok_or(BackupError::Corrupt("tree index"))?;
        let kl = u32::from_be_bytes(take(&mut at, 4)?.try_into().expect("4")) as usize;
        let k = take(&mut at, kl)?.to_vec();
        let vl = u32::from_be_bytes(take(&mut at, 4)?.try_into().expect("4")) as usize;
        let v = take(&mut at, vl)?.to_vec();
        *counts.entry(tree.name().to_owned()).or_insert(0) += 1;
        entries.push((tree, k, v));
    }
    if counts != manifest.trees {
        return Err(BackupError::Corrupt("entry counts"));
    }
    let head = entries
        .iter()
        .find(|(t, k, _)| *t == Tree::Meta && k == AUDIT_HEAD_KEY)
        .and_then(|(_, _, v)| postcard::from_bytes::<Head>(v).ok())
        .ok_or(BackupError::Corrupt("audit head"))?;
    if head.next_seq != manifest.audit_size || hex::encode(head.hash) != manifest.audit_head {
        return Err(BackupError::Corrupt("audit head differs from the manifest"));
    }
    Ok((manifest, entries))
}

/// Restores a backup into `dir` (new, or an empty folder). The file is checked completely
/// first; if writing fails, what this call created is removed (a folder that existed
/// before is kept).
pub fn restore(bytes: &[u8], dir: &Path) -> Result<Manifest, BackupError> {
    let (manifest, entries) = verify(bytes)?;
    let existed = dir.exists();
    if existed && std::fs::read_dir(dir).map_err(io)?.next().is_some() {
        return Err(BackupError::TargetNotEmpty(dir.to_path_buf()));
    }
    let result = (|| -> Result<(), BackupError> {
        create_private_dir(dir)?;
        write_store(
            dir,
            &entries,
            &|tree| manifest.trees.get(tree.name()).copied(),
            "restored counts differ",
        )?;
        wait_until_closed(dir);
        crate::vault::tighten_permissions(dir).map_err(io)
    })();
    if let Err(e) = result {
        if existed {
            let _ = std::fs::remove_dir_all(dir.join("db"));
            let _ = std::fs::remove_file(dir.join("LOCK"));
        } else {
            let _ = std::fs::remove_dir_all(dir);
        }
        return Err(e);
    }
    Ok(manifest)
}

/// sled releases its lock on the data file from a background thread shortly after the last
/// handle drops; wait (up to ~2 s) so that an open right after this call does not see the
/// vault as in use.
fn wait_until_closed(dir: &Path) {
    let data = dir.join("db").join("db");
    for _ in 0..100 {
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&data)
        {
            Ok(f) if f.try_lock().is_ok() => return,
            Err(_) => return,
            _ => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    }
}

/// Writes `entries` into a new store in the folder `dir` through the store's own commits
/// (so that it is laid out as the store writes — long audit entries in parts — and each
/// batch is durable, blob files included), then checks that each tree holds `count(tree)`
/// entries; `differ` is the error when one does not. The store is closed on return.
fn write_store(
    dir: &Path,
    entries: &[(Tree, Vec<u8>, Vec<u8>)],
    count: &dyn Fn(Tree) -> Option<u64>,
    differ: &'static str,
) -> Result<(), BackupError> {
    let store = SledStore::open(dir, 8 * 1024 * 1024)?;
    for chunk in entries.chunks(1000) {
        let mut writes = WriteSet::new();
        for (t, k, v) in chunk {
            writes.put(*t, k.clone(), v.clone());
        }
        store.commit_unaudited(&writes)?;
    }
    for tree in Tree::ALL {
        let mut n = 0u64;
        store.visit(tree, b"", &mut |_, _| {
            n += 1;
            true
        })?;
        if count(tree) != Some(n) {
            return Err(BackupError::Corrupt(differ));
        }
    }
    Ok(())
}

fn create_private_dir(dir: &Path) -> Result<(), BackupError> {
    std::fs::create_dir_all(dir).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    Ok(())
}

/// What a compaction did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compaction {
    /// Bytes of the database folder before.
    pub bytes_before: u64,
    /// Bytes after.
    pub bytes_after: u64,
    /// Live entries copied.
    pub entries: u64,
}

fn dir_size(dir: &Path) -> u64 {
    let mut n = 0;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            match e.file_type() {
                Ok(ft) if ft.is_dir() => n += dir_size(&e.path()),
                Ok(_) => n += e.metadata().map(|m| m.len()).unwrap_or(0),
                Err(_) => {}
            }
        }
    }
    n
}

/// Rewrites the vault's database with only its live entries, so that deleted data
/// (erased petitioners, old ciphertexts after re-encryption) no longer sits in old log
/// segments: sled 0.34 keeps superseded pages on disk until their segment is reused. The
/// vault must be closed (the folder lock is taken). The old database is removed only after
/// the new one is complete, durable and counted; see SECURITY.md "Erasure" for what this
/// does and does not guarantee on the physical medium.
pub fn compact(dir: &Path) -> Result<Compaction, BackupError> {
    let bytes_before = dir_size(&dir.join("db"));
    let tmp = dir.join("db.compact");
    let old = dir.join("db.old");
    if tmp.exists() || old.exists() {
        return Err(BackupError::Io(format!(
            "{} or {} exists (an interrupted compaction?); check the folder by hand",
            tmp.display(),
            old.display()
        )));
    }
    let entries = {
        let store = SledStore::open(dir, 8 * 1024 * 1024)?;
        let mut all: Entries = Vec::new();
        for tree in Tree::ALL {
            store.visit(tree, b"", &mut |k, v| {
                all.push((tree, k.to_vec(), v.to_vec()));
                true
            })?;
        }
        // Write the copy while still holding the folder lock, through the store (so that
        // it is laid out as the store writes — long audit entries in parts — and each
        // batch is durable, blob files included), in a folder of its own.
        create_private_dir(&tmp)?;
        write_store(
            &tmp,
            &all,
            &|tree| Some(all.iter().filter(|(x, _, _)| *x == tree).count() as u64),
            "compacted copy counts differ",
        )?;
        // Close the database before moving its folder, then take the folder lock again
        // ourselves for the swap (a process that got in between makes us stop).
        drop(store);
        wait_until_closed(dir);
        let lock = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(dir.join("LOCK"))
            .map_err(io)?;
        if lock.try_lock().is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(BackupError::Store(StoreError::InUse));
        }
        std::fs::rename(dir.join("db"), &old).map_err(io)?;
        std::fs::rename(tmp.join("db"), dir.join("db")).map_err(io)?;
        drop(lock);
        std::fs::remove_dir_all(&tmp).map_err(io)?;
        all.len() as u64
    };
    wait_until_closed(dir);
    std::fs::remove_dir_all(&old).map_err(io)?;
    crate::vault::tighten_permissions(dir).map_err(io)?;
    Ok(Compaction {
        bytes_before,
        bytes_after: dir_size(&dir.join("db")),
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Entry;
    use crate::model::RecordId;
    use crate::policy::Action;
    use crate::{Vault, VaultOptions};

    /// An audit entry naming 10,000 records (160 KB) committed through the audit layer is
    /// stored in parts; the log verifies, and a backup restored elsewhere and a compacted
    /// vault hold it in parts too, with the same bytes, and still verify.
    #[test]
    fn a_long_audit_entry_stays_in_parts_through_backup_restore_and_compaction() {
        let dir = tempfile::tempdir().unwrap();
        let vdir = dir.path().join("v");
        let pass = crate::crypto::Passphrase::new("test passphrase for admin".to_string());
        let (vault, key) =
            Vault::create(&vdir, "admin", &pass, VaultOptions::insecure_for_tests()).unwrap();
        let mut long = Entry::sample(0, 1, "admin", Action::Export);
        long.targets = (0..10_000u32)
            .map(|i| {
                let mut id = [7u8; 16];
                id[..4].copy_from_slice(&i.to_be_bytes());
                RecordId(id)
            })
            .collect();
        let store = vault.store();
        let (proof, _) =
            crate::audit::commit(store.as_ref(), &WriteSet::new(), &long, None).unwrap();
        let k = proof.seq().to_be_bytes();
        let stored = store.get(Tree::Audit, &k).unwrap().unwrap();
        assert!(stored.len() > 160_000);
        vault.verify_audit(Some(&key), &[]).unwrap();
        let snap = snapshot(store.as_ref(), &vault.id()).unwrap();
        drop(store);
        drop(vault);
        let in_parts = |folder: &Path| {
            let s = SledStore::open(folder, 1 << 20).unwrap();
            let (raw, parts) = s.audit_as_stored(&k);
            assert!(raw.unwrap() < 100 && parts == 3, "{raw:?}, {parts} parts");
            assert_eq!(s.get(Tree::Audit, &k).unwrap().unwrap(), stored);
        };
        wait_until_closed(&vdir);
        in_parts(&vdir);

        let rdir = dir.path().join("restored");
        restore(&snap, &rdir).unwrap();
        wait_until_closed(&rdir);
        in_parts(&rdir);

        wait_until_closed(&vdir);
        compact(&vdir).unwrap();
        wait_until_closed(&vdir);
        in_parts(&vdir);
        assert!(!vdir.join("db.compact").exists() && !vdir.join("db.old").exists());
        let vault = Vault::open(&vdir, VaultOptions::insecure_for_tests()).unwrap();
        vault.verify_audit(Some(&key), &[]).unwrap();
    }
}
