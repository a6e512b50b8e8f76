//! Audit-log benchmarks at scale: verify throughput and `audit log --record` latency on a
//! large log, and the cost of one durable append.
//!
//! The large log is built through the public `Store` API with the documented chain
//! formulas (SECURITY.md "Access log"), so building it takes seconds instead of a million
//! fsyncs; what is timed is the real `verify_log` and `query` code on that log.
//!
//! `cargo bench --bench audit` (PV_BENCH_LOG_ENTRIES overrides the size, default 1,000,000;
//! PV_BENCH_CACHE_MIB the page cache the large log is verified with, default the vault
//! default of 64 MiB).

// The same allocator as `pvault`: see the `mimalloc` feature in Cargo.toml.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hmac::{KeyInit, Mac};
use petition_vault::audit::{self, AuditQuery, Entry, Outcome, RecordedEntry};
use petition_vault::model::RecordId;
use petition_vault::store::{AUDIT_HEAD_KEY, SledStore, Store, Tree, WriteSet};
use petition_vault::{Action, Role, Vault, VaultOptions};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

fn sha(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn mac(key: &[u8; 32], hash: &[u8; 32]) -> [u8; 32] {
    let mut m = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    m.update(b"pv-audit-mac");
    m.update(hash);
    m.finalize().into_bytes().into()
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Builds a vault whose log holds `n` entries (1000 distinct records, each entry naming one),
/// with their record and actor index entries. Returns the vault and the officer key.
fn big_log(n: u64) -> (tempfile::TempDir, Vault, audit::AuditKey) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v");
    let (vault, key) = Vault::create(
        &dir,
        "admin",
        &"bench passphrase".into(),
        VaultOptions::insecure_for_tests(),
    )
    .unwrap();
    drop(vault);
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&dir, 256 << 20).unwrap());
    // Start a fresh chain from the officer key (replacing the init entry).
    let mut mac_key: [u8; 32] = {
        let text = key.to_text();
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("mac-key "))
            .unwrap()
            .to_owned();
        let mut k = [0u8; 32];
        hex::decode_to_slice(line, &mut k).unwrap();
        k
    };
    let mut prev = [0u8; 32];
    let mut batch = WriteSet::new();
    for seq in 0..n {
        let record = RecordId([
            (seq % 1000) as u8,
            (seq % 1000 / 256) as u8,
            7,
            7,
            7,
            7,
            7,
            7,
            7,
            7,
            7,
            7,
            7,
            7,
            7,
            7,
        ]);
        let e = Entry {
            seq,
            time_ms: 1_764_000_000_000 + seq as i64,
            session: [1; 8],
            actor: format!("officer{}", seq % 20),
            role: Some(Role::Registrar),
            action: Action::PetitionerShow,
            targets: vec![record],
            requested: vec!["name".into(), "id_number".into(), "phones".into()],
            returned: vec![
                "class:contact".into(),
                "class:masked".into(),
                "class:meta".into(),
            ],
            purpose: None,
            case_ref: None,
            reason: None,
            outcome: Outcome::Allowed,
            detail: None,
            flags: vec![],
        };
        let hash = sha(&[b"pv-audit-v1", &prev, &e.canonical()]);
        let rec = RecordedEntry {
            mac: mac(&mac_key, &hash),
            entry: e,
            prev,
            hash,
        };
        mac_key = sha(&[b"pv-audit-evolve", &mac_key]);
        let mut rkey = vec![b'r'];
        rkey.extend_from_slice(&record.0);
        rkey.extend_from_slice(&seq.to_be_bytes());
        batch.put(Tree::AuditIndex, rkey, vec![]);
        let mut akey = vec![b'a'];
        akey.extend_from_slice(rec.entry.actor.as_bytes());
        akey.push(0);
        akey.extend_from_slice(&seq.to_be_bytes());
        batch.put(Tree::AuditIndex, akey, vec![]);
        batch.put(Tree::Audit, seq.to_be_bytes().to_vec(), rec.encode());
        prev = hash;
        if batch.len() >= 30_000 {
            store.commit_unaudited(&std::mem::take(&mut batch)).unwrap();
        }
    }
    // the head: next_seq, hash, current MAC key, no checkpoint yet
    let mut head = Vec::new();
    varint(n, &mut head);
    head.extend_from_slice(&prev);
    head.extend_from_slice(&mac_key);
    head.extend_from_slice(&[0, 0]);
    batch.put(Tree::Meta, AUDIT_HEAD_KEY.to_vec(), head);
    // drop stored checkpoints of the replaced chain
    for (k, _) in store.scan_prefix(Tree::Meta, b"checkpoint/").unwrap() {
        batch.delete(Tree::Meta, k);
    }
    store.commit_unaudited(&batch).unwrap();
    drop(store);
    // The page cache of a real vault (default 64 MiB), not the tests' 8 MiB; a compliance
    // officer verifying a long log can give more (`pvault --cache-mib`).
    let cache_mib: u64 = std::env::var("PV_BENCH_CACHE_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(VaultOptions::default().cache_bytes >> 20);
    let options = VaultOptions {
        cache_bytes: cache_mib << 20,
        ..VaultOptions::insecure_for_tests()
    };
    let vault = Vault::open(&dir, options).unwrap();
    (tmp, vault, key)
}

fn bench_large_log(c: &mut Criterion) {
    let n: u64 = std::env::var("PV_BENCH_LOG_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let (_tmp, vault, key) = big_log(n);
    let store = vault.store();
    let report = vault
        .verify_audit(Some(&key), &[])
        .expect("the generated log verifies");
    assert_eq!(report.entries, n);

    let mut g = c.benchmark_group("audit_verify_large");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(n));
    g.bench_function("chain_only", |b| {
        b.iter(|| vault.verify_audit(None, &[]).unwrap())
    });
    g.bench_function("chain_and_macs", |b| {
        b.iter(|| vault.verify_audit(Some(&key), &[]).unwrap())
    });
    // baseline: SHA-256 over each stored entry's bytes, read the same way
    g.bench_function("baseline_sha256_per_entry", |b| {
        b.iter(|| {
            let mut acc = [0u8; 32];
            store
                .visit(Tree::Audit, &0u64.to_be_bytes(), &mut |_, v| {
                    acc = sha(&[&acc, v]);
                    true
                })
                .unwrap();
            acc
        })
    });
    // floor: the same scan touching each entry's bytes, no hashing
    g.bench_function("baseline_scan_only", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            store
                .visit(Tree::Audit, &0u64.to_be_bytes(), &mut |k, v| {
                    acc = acc.wrapping_add(u64::from(k[7]) + u64::from(v[v.len() - 1]));
                    true
                })
                .unwrap();
            acc
        })
    });
    g.finish();

    let mut g = c.benchmark_group("audit_log_by_record");
    g.sample_size(20);
    let record = RecordId([42, 0, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7]);
    g.bench_function("query_record_newest_100", |b| {
        b.iter(|| {
            let q = AuditQuery {
                record: Some(record),
                limit: 100,
                ..Default::default()
            };
            audit::query(store.as_ref(), &q).unwrap()
        })
    });
    g.bench_function("query_record_all", |b| {
        b.iter(|| {
            let q = AuditQuery {
                record: Some(record),
                ..Default::default()
            };
            audit::query(store.as_ref(), &q).unwrap()
        })
    });
    g.finish();
}

fn bench_append(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let (vault, _) = Vault::create(
        &tmp.path().join("v"),
        "admin",
        &"bench passphrase".into(),
        VaultOptions::insecure_for_tests(),
    )
    .unwrap();
    let admin = vault.unlock("admin", &"bench passphrase".into()).unwrap();
    let store = vault.store();
    let mut g = c.benchmark_group("audit_append");
    g.sample_size(30);
    // an audited no-op read: one entry + its index keys, durably
    g.bench_function("durable_append_user_list", |b| {
        b.iter(|| admin.list_users().unwrap())
    });
    // baseline: a durable empty transaction (flush + fsync) on the same store
    g.bench_function("baseline_durable_empty_commit", |b| {
        b.iter(|| {
            let mut w = WriteSet::new();
            w.put(Tree::Meta, b"bench".to_vec(), vec![1; 200]);
            store.commit_unaudited(&w).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench_append, bench_large_log);
criterion_main!(benches);
