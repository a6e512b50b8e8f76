//! The access log under attack: each tampering is detected by `verify` and named with the
//! first bad entry and what is wrong.

mod common;

use common::*;
use petition_vault::audit::{Checkpoint, RecordedEntry, VerifyError};
use petition_vault::store::{Store, Tree, WriteSet};
use petition_vault::{Vault, VaultOptions};
use std::sync::Arc;

/// A fixture with a few dozen entries.
fn busy() -> Fixture {
    let f = fixture();
    {
        let reg = unlock(&f, "reg");
        let pid = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
        let cid = reg.open_case(&new_case(vec![pid], None, false)).unwrap();
        reg.assign_case(cid, "han").unwrap();
        for _ in 0..5 {
            reg.show_petitioner(pid, None).unwrap();
        }
        let han = unlock(&f, "han");
        han.show_case(cid).unwrap();
    }
    f
}

fn entry_bytes(store: &Arc<dyn Store>, seq: u64) -> Vec<u8> {
    store.get(Tree::Audit, &seq.to_be_bytes()).unwrap().unwrap()
}

fn put_raw(store: &Arc<dyn Store>, tree: Tree, key: Vec<u8>, value: Option<Vec<u8>>) {
    let mut w = WriteSet::new();
    match value {
        Some(v) => w.put(tree, key, v),
        None => w.delete(tree, key),
    }
    store.commit_unaudited(&w).unwrap();
}

fn len(f: &Fixture) -> u64 {
    petition_vault::audit::log_len(f.vault.store().as_ref()).unwrap()
}

fn verify(
    f: &Fixture,
    external: &[Checkpoint],
) -> Result<petition_vault::VerifyReport, VerifyError> {
    f.vault.verify_audit(Some(&f.audit_key), external)
}

#[test]
fn intact_log_verifies_with_and_without_the_key() {
    let f = busy();
    let r = verify(&f, &[]).unwrap();
    assert_eq!(r.entries, len(&f));
    assert!(r.macs_checked && r.key_pinned);
    assert!(f.vault.verify_audit(None, &[]).is_ok());
}

#[test]
fn modified_entry_field_is_a_hash_mismatch() {
    let f = busy();
    let store = f.vault.store();
    let mut rec = RecordedEntry::decode(&entry_bytes(&store, 12)).unwrap();
    rec.entry.actor = "someone.else".into();
    put_raw(
        &store,
        Tree::Audit,
        12u64.to_be_bytes().to_vec(),
        Some(rec.encode()),
    );
    let err = verify(&f, &[]).unwrap_err();
    assert_eq!(err, VerifyError::Hash { seq: 12 });
    assert!(err.to_string().contains("entry 12") && err.to_string().contains("hash mismatch"));
}

#[test]
fn deleted_middle_entry_is_a_gap() {
    let f = busy();
    let store = f.vault.store();
    put_raw(&store, Tree::Audit, 10u64.to_be_bytes().to_vec(), None);
    let err = verify(&f, &[]).unwrap_err();
    assert_eq!(err, VerifyError::Gap { seq: 10, found: 11 });
}

#[test]
fn swapped_entries_are_a_reorder() {
    let f = busy();
    let store = f.vault.store();
    let a = entry_bytes(&store, 8);
    let b = entry_bytes(&store, 9);
    put_raw(&store, Tree::Audit, 8u64.to_be_bytes().to_vec(), Some(b));
    put_raw(&store, Tree::Audit, 9u64.to_be_bytes().to_vec(), Some(a));
    let err = verify(&f, &[]).unwrap_err();
    assert_eq!(err, VerifyError::Reorder { seq: 8, found: 9 });
}

/// Inserts a forged entry at `at`, renumbers the rest and rebuilds the whole chain and the
/// head, as an intruder who knows the format but not the officer's key would. Returns the
/// new log length.
fn insert_forged(f: &Fixture, at: u64) -> u64 {
    let store = f.vault.store();
    let n = len(f);
    let mut entries: Vec<RecordedEntry> = (0..n)
        .map(|s| RecordedEntry::decode(&entry_bytes(&store, s)).unwrap())
        .collect();
    let mut forged = entries[at as usize].clone();
    forged.entry.actor = "ghost".into();
    entries.insert(at as usize, forged);
    let mut prev = [0u8; 32];
    for (i, e) in entries.iter_mut().enumerate() {
        e.entry.seq = i as u64;
        e.prev = prev;
        e.hash = sha256_of(&[b"pv-audit-v1".as_slice(), &prev, &e.entry.canonical()]);
        prev = e.hash;
        put_raw(
            &store,
            Tree::Audit,
            (i as u64).to_be_bytes().to_vec(),
            Some(e.encode()),
        );
    }
    // the head: next_seq varint, hash, then the rest unchanged
    let head = store.get(Tree::Meta, b"audit_head").unwrap().unwrap();
    let old_len = varint_len(&head);
    let mut new_head = varint(entries.len() as u64);
    new_head.extend_from_slice(&prev);
    new_head.extend_from_slice(&head[old_len + 32..]);
    put_raw(&store, Tree::Meta, b"audit_head".to_vec(), Some(new_head));
    entries.len() as u64
}

fn sha256_of(parts: &[&[u8]]) -> [u8; 32] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

fn varint_len(bytes: &[u8]) -> usize {
    bytes.iter().position(|b| b & 0x80 == 0).unwrap() + 1
}

#[test]
fn inserted_forged_entry_fails_the_mac_and_forks_from_a_checkpoint() {
    let f = busy();
    let cp = unlock(&f, "aud").audit_checkpoint().unwrap();
    let n = insert_forged(&f, 7);
    assert_eq!(n, cp.size + 1);
    // the rebuilt chain is self-consistent; the vault's own stored checkpoints (signed before
    // the forgery) already disagree, and the MAC and the officer's checkpoint catch it too
    assert!(matches!(
        f.vault.verify_audit(None, &[]),
        Err(VerifyError::Fork { .. })
    ));
    assert_eq!(verify(&f, &[]).unwrap_err(), VerifyError::Mac { seq: 7 });
    let err = f
        .vault
        .verify_audit(None, std::slice::from_ref(&cp))
        .unwrap_err();
    assert!(
        matches!(err, VerifyError::Fork { size, .. } if size == cp.size),
        "{err}"
    );
}

#[test]
fn truncated_tail_is_caught_with_a_checkpoint() {
    let f = busy();
    let cp = unlock(&f, "aud").audit_checkpoint().unwrap();
    let store = f.vault.store();
    let n = len(&f);
    // drop the last 3 entries and rewind the head to the new last entry
    let keep = n - 3;
    let last = RecordedEntry::decode(&entry_bytes(&store, keep - 1)).unwrap();
    for s in keep..n {
        put_raw(&store, Tree::Audit, s.to_be_bytes().to_vec(), None);
    }
    let head = store.get(Tree::Meta, b"audit_head").unwrap().unwrap();
    let mut new_head = varint(keep);
    new_head.extend_from_slice(&last.hash);
    new_head.extend_from_slice(&head[varint_len(&head) + 32..]);
    put_raw(&store, Tree::Meta, b"audit_head".to_vec(), Some(new_head));
    // the stored checkpoints the intruder can delete too
    for (k, _) in store.scan_prefix(Tree::Meta, b"checkpoint/").unwrap() {
        put_raw(&store, Tree::Meta, k, None);
    }
    let err = verify(&f, std::slice::from_ref(&cp)).unwrap_err();
    assert_eq!(
        err,
        VerifyError::ShorterThanCheckpoint {
            entries: keep,
            size: cp.size
        }
    );
    assert!(err.to_string().contains("truncated or rolled back"));
}

#[test]
fn rolled_back_vault_is_caught_with_a_checkpoint() {
    let f = busy();
    let dir = f.dir.path().join("vault");
    let copy = f.dir.path().join("old-copy");
    let Fixture {
        dir: tmp,
        vault,
        audit_key,
    } = f;
    drop(vault);
    copy_dir(&dir, &copy);
    let vault = Vault::open(&dir, VaultOptions::insecure_for_tests()).unwrap();
    {
        let reg = vault.unlock("reg", &pass("reg")).unwrap();
        reg.list_cases().unwrap();
    }
    let cp = vault
        .unlock("aud", &pass("aud"))
        .unwrap()
        .audit_checkpoint()
        .unwrap();
    drop(vault);
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::rename(&copy, &dir).unwrap();
    let vault = Vault::open(&dir, VaultOptions::insecure_for_tests()).unwrap();
    // on its own the old copy is a perfectly valid, shorter log
    assert!(vault.verify_audit(Some(&audit_key), &[]).is_ok());
    let err = vault.verify_audit(Some(&audit_key), &[cp]).unwrap_err();
    assert!(
        matches!(err, VerifyError::ShorterThanCheckpoint { .. }),
        "{err}"
    );
    drop(tmp);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn replaced_mac_key_is_caught() {
    let f = busy();
    let store = f.vault.store();
    let n = len(&f);
    let head = store.get(Tree::Meta, b"audit_head").unwrap().unwrap();
    let at = varint_len(&head) + 32;
    let mut new_head = head.clone();
    new_head[at..at + 32].copy_from_slice(&[0x42; 32]);
    put_raw(&store, Tree::Meta, b"audit_head".to_vec(), Some(new_head));
    // the vault keeps appending, now MACed with the intruder's key
    unlock(&f, "reg").list_cases().unwrap();
    assert!(
        f.vault.verify_audit(None, &[]).is_ok(),
        "the chain alone cannot see it"
    );
    assert_eq!(verify(&f, &[]).unwrap_err(), VerifyError::Mac { seq: n });
}

#[test]
fn forged_checkpoints_are_refused() {
    let f = busy();
    let cp = unlock(&f, "aud").audit_checkpoint().unwrap();
    assert!(verify(&f, std::slice::from_ref(&cp)).is_ok());
    // edited size
    let mut edited = cp.clone();
    edited.size += 5;
    assert_eq!(
        verify(&f, &[edited]).unwrap_err(),
        VerifyError::Signature { size: cp.size + 5 }
    );
    // re-signed with the intruder's own key (and their public key embedded)
    let mut json: serde_json::Value = serde_json::from_str(&cp.to_json()).unwrap();
    json["signature"] = serde_json::Value::String("00".repeat(64));
    let zeroed = Checkpoint::from_json(&json.to_string()).unwrap();
    assert!(matches!(
        verify(&f, &[zeroed]),
        Err(VerifyError::Signature { .. })
    ));
    // a checkpoint of another vault
    let other = fixture();
    let foreign = unlock(&other, "aud").audit_checkpoint().unwrap();
    assert_eq!(verify(&f, &[foreign]).unwrap_err(), VerifyError::WrongVault);
}

#[test]
fn stored_checkpoints_are_made_automatically_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = VaultOptions::insecure_for_tests();
    opts.checkpoints.every_entries = 5;
    let (vault, key) = Vault::create(&dir.path().join("v"), "admin", &pass("admin"), opts).unwrap();
    let admin = vault.unlock("admin", &pass("admin")).unwrap();
    for _ in 0..12 {
        admin.list_users().unwrap();
    }
    let stored = petition_vault::audit::stored_checkpoints(vault.store().as_ref()).unwrap();
    assert!(stored.len() >= 2, "{}", stored.len());
    let r = vault.verify_audit(Some(&key), &[]).unwrap();
    assert_eq!(r.checkpoints_checked, stored.len());
    // a stored checkpoint whose head was altered (and left unsigned) is refused
    let store = vault.store();
    let (k, v) = store
        .scan_prefix(Tree::Meta, b"checkpoint/")
        .unwrap()
        .remove(0);
    let mut cp: Checkpoint = postcard::from_bytes(&v).unwrap();
    cp.head[0] ^= 1;
    put_raw(
        &store,
        Tree::Meta,
        k,
        Some(postcard::to_stdvec(&cp).unwrap()),
    );
    assert_eq!(
        vault.verify_audit(Some(&key), &[]).unwrap_err(),
        VerifyError::Signature { size: cp.size }
    );
}
