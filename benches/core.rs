//! Core benchmarks. Every group pairs a vault operation with a baseline measured in the
//! same run, so results can be quoted as ratios (`vault / baseline`), never as absolute
//! numbers from another machine.
//!
//! Run: `CARGO_BUILD_JOBS=1 cargo bench --bench core`.
//! `PV_BENCH_AUDIT_ENTRIES` sets the audit-log length for `audit_verify` (default 20000).

// The same allocator as `pvault`: see the `mimalloc` feature in Cargo.toml.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use aes_gcm::aead::AeadInOut;
use aes_gcm::{Aes256Gcm, KeyInit};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use petition_vault::crypto::{ClassKey, RecordKey};
use petition_vault::export::{Filters, Format as ExportFormat, Profile};
use petition_vault::import::{self, Format};
use petition_vault::index::{IndexKeys, IndexKind, Query};
use petition_vault::model::synth::{self, Synth, SynthCase, SynthPerson};
use petition_vault::{
    AuditKey, KdfParams, NewPetitioner, Passphrase, RecordId, Role, SecretText, Session, Vault,
    VaultOptions,
};
use sha2::{Digest, Sha256};
use sled::Transactional;
use std::fs::File;
use std::hint::black_box;
use std::time::Duration;
use tempfile::TempDir;

const MEASURE: Duration = Duration::from_secs(3);
const WARM_UP: Duration = Duration::from_secs(1);
const FIELD_32B: &[u8; 32] = b"11010519491231002X / 13812345678";
const PLAIN_VALUE_LEN: usize = 300;
const SHOW_PETITIONERS: usize = 1000;
const DEFAULT_AUDIT_ENTRIES: u64 = 20_000;
const SHA_BUF_LEN: usize = 200;

fn pass(user: &str) -> Passphrase {
    Passphrase::new(format!("bench passphrase for {user}"))
}

/// A vault in its own temporary folder with an admin, a registrar and an analyst.
struct Fixture {
    _dir: TempDir,
    vault: Vault,
    audit_key: AuditKey,
}

fn fixture(options: VaultOptions) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let (vault, audit_key) =
        Vault::create(&dir.path().join("vault"), "admin", &pass("admin"), options)
            .expect("create vault");
    {
        let admin = vault.unlock("admin", &pass("admin")).expect("unlock admin");
        admin
            .add_user("reg", Role::Registrar, Some("信访局"), &pass("reg"))
            .expect("add registrar");
        admin
            .add_user("ana", Role::Analyst, Some("信访局"), &pass("ana"))
            .expect("add analyst");
    }
    Fixture {
        _dir: dir,
        vault,
        audit_key,
    }
}

fn unlock<'v>(f: &'v Fixture, user: &str) -> Session<'v> {
    f.vault.unlock(user, &pass(user)).expect("unlock")
}

/// Synthetic petitioners, generated before any timed loop.
fn petitioners(seed: u64, n: usize) -> Vec<NewPetitioner> {
    let mut synth = Synth::new(seed);
    (0..n)
        .map(|_| {
            let p = synth.person();
            NewPetitioner {
                name: SecretText::from(p.name),
                id_number: SecretText::from(p.id_number),
                phones: vec![SecretText::from(p.phone)],
                address: Some(SecretText::from(p.address)),
                email: p.email.map(SecretText::from),
                ethnicity: Some(SecretText::from(p.ethnicity)),
            }
        })
        .collect()
}

/// The baseline for a durable write: a plain sled tree insert of a ~300-byte value, then
/// `flush` and an `fsync` of the data file — configured like the vault's store.
struct PlainSled {
    _dir: TempDir,
    db: sled::Db,
    trees: Vec<sled::Tree>,
    data_file: File,
    value: Vec<u8>,
    next: u64,
}

/// The vault's trees, in its order (meta first, audit last).
const TREES: [&str; 6] = ["meta", "users", "petitioners", "cases", "index", "audit"];
/// Stored sizes seen in a run (printed by `bench_audit`): petitioner record, audit entry,
/// audit head.
const RECORD_LEN: usize = 960;
const ENTRY_LEN: usize = 250;
const HEAD_LEN: usize = 80;

impl PlainSled {
    fn new(cache_bytes: u64) -> PlainSled {
        let dir = tempfile::tempdir().expect("tempdir");
        let db_path = dir.path().join("db");
        let db = sled::Config::new()
            .path(&db_path)
            .cache_capacity(cache_bytes)
            .mode(sled::Mode::LowSpace)
            .open()
            .expect("open sled");
        let trees = TREES
            .iter()
            .map(|t| db.open_tree(t).expect("open tree"))
            .collect();
        let data_file = File::open(db_path.join("db")).expect("open sled data file");
        PlainSled {
            _dir: dir,
            db,
            trees,
            data_file,
            value: (0..RECORD_LEN).map(|i| i as u8).collect(),
            next: 0,
        }
    }

    /// A 16-byte key spread over the key space, like the vault's random record ids.
    fn next_key(&mut self) -> [u8; 16] {
        self.next += 1;
        u128::from(self.next)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)
            .to_be_bytes()
    }

    fn make_durable(&self) {
        self.db.flush().expect("flush");
        self.data_file.sync_all().expect("fsync");
    }

    /// One ~300-byte insert, made durable.
    fn durable_write(&mut self) {
        let key = self.next_key();
        self.trees[2]
            .insert(key, &self.value[..PLAIN_VALUE_LEN])
            .expect("insert");
        self.make_durable();
    }

    /// The storage shape of a vault commit without its crypto or policy: one sled
    /// transaction over all six trees that reads the audit head, appends an audit-sized
    /// entry, rewrites the head and (with `record`) inserts a record-sized value; then made
    /// durable.
    fn vault_shaped_write(&mut self, record: bool) {
        let key = self.next_key();
        let seq = self.next.to_be_bytes();
        let value = &self.value;
        let refs: Vec<&sled::Tree> = self.trees.iter().collect();
        let result: sled::transaction::TransactionResult<()> = refs[..].transaction(|txs| {
            let head = txs[0].get(b"audit_head")?;
            black_box(head);
            if record {
                txs[2].insert(&key[..], &value[..RECORD_LEN])?;
            }
            txs[5].insert(&seq[..], &value[..ENTRY_LEN])?;
            txs[0].insert(&b"audit_head"[..], &value[..HEAD_LEN])?;
            Ok(())
        });
        result.expect("transaction");
        self.make_durable();
    }
}

// ---- 1. envelope ---------------------------------------------------------------------

fn bench_envelope(c: &mut Criterion) {
    let class_key = ClassKey::from_bytes([7; 32]);
    let vault_id = [1u8; 16];
    let record_id = [2u8; 16];
    let key = RecordKey::derive(&class_key, &vault_id, "petitioner", &record_id, 2, 1);
    let envelope = key.seal("phone", FIELD_32B).expect("seal");

    let cipher = Aes256Gcm::new_from_slice(&[9u8; 32]).expect("32-byte key");
    let nonce = [3u8; 12];
    let mut sealed = *FIELD_32B;
    let tag = cipher
        .encrypt_inout_detached(&nonce.into(), b"", (&mut sealed[..]).into())
        .expect("encrypt");

    let mut g = c.benchmark_group("envelope");
    g.sample_size(30)
        .measurement_time(MEASURE)
        .warm_up_time(WARM_UP);
    g.bench_function("derive_seal_32B", |b| {
        b.iter(|| {
            let k = RecordKey::derive(
                black_box(&class_key),
                &vault_id,
                "petitioner",
                black_box(&record_id),
                2,
                1,
            );
            k.seal("phone", black_box(FIELD_32B)).expect("seal")
        })
    });
    g.bench_function("open_32B", |b| {
        b.iter(|| key.open("phone", black_box(&envelope)).expect("open"))
    });
    g.bench_function("baseline_aes256gcm_encrypt_32B", |b| {
        b.iter(|| {
            let mut buf = *black_box(FIELD_32B);
            let tag = cipher
                .encrypt_inout_detached(&nonce.into(), b"", (&mut buf[..]).into())
                .expect("encrypt");
            (buf, tag)
        })
    });
    g.bench_function("baseline_aes256gcm_decrypt_32B", |b| {
        b.iter(|| {
            let mut buf = *black_box(&sealed);
            cipher
                .decrypt_inout_detached(&nonce.into(), b"", (&mut buf[..]).into(), &tag)
                .expect("decrypt");
            buf
        })
    });
    g.finish();
}

// ---- 2. unlock -------------------------------------------------------------------------

fn raw_argon2id(params: &KdfParams, passphrase: &[u8]) -> [u8; 32] {
    let p = argon2::Params::new(params.m_kib, params.t, params.p, Some(32)).expect("params");
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, p);
    let mut out = [0u8; 32];
    argon
        .hash_password_into(passphrase, &[5u8; 16], &mut out)
        .expect("argon2");
    out
}

fn bench_unlock(c: &mut Criterion, group: &str, options: VaultOptions, slow: bool) {
    let kdf = options.kdf;
    let f = fixture(options);
    let admin_pass = pass("admin");
    let mut g = c.benchmark_group(group);
    g.measurement_time(MEASURE).warm_up_time(WARM_UP);
    if slow {
        // ~hundreds of ms per call: a flat 10 × 1 iteration instead of criterion's 1..=10 ramp.
        g.sample_size(10).sampling_mode(SamplingMode::Flat);
    } else {
        g.sample_size(30);
    }
    g.bench_function("vault_unlock", |b| {
        b.iter(|| f.vault.unlock("admin", &admin_pass).expect("unlock"))
    });
    g.bench_function("baseline_argon2id_raw", |b| {
        b.iter(|| raw_argon2id(&kdf, black_box(b"bench passphrase for admin")))
    });
    g.finish();
}

fn bench_unlock_default(c: &mut Criterion) {
    bench_unlock(c, "unlock_default_params", VaultOptions::default(), true);
}

fn bench_unlock_test(c: &mut Criterion) {
    bench_unlock(
        c,
        "unlock_test_params",
        VaultOptions::insecure_for_tests(),
        false,
    );
}

// ---- 3. durable_write ------------------------------------------------------------------

fn bench_durable_write(c: &mut Criterion) {
    let options = VaultOptions::insecure_for_tests();
    let cache = options.cache_bytes;
    let f = fixture(options);
    let reg = unlock(&f, "reg");
    // More than the iterations criterion can run in its time (each is a new registration:
    // a repeated ID number is refused as a duplicate).
    let people = petitioners(42, 40_000);
    let mut plain = PlainSled::new(cache);
    let mut shaped = PlainSled::new(cache);

    let mut g = c.benchmark_group("durable_write");
    g.sample_size(20)
        .measurement_time(MEASURE)
        .warm_up_time(WARM_UP);
    let mut i = 0usize;
    g.bench_function("add_petitioner", |b| {
        b.iter(|| {
            let p = people.get(i).expect("more people than iterations");
            i += 1;
            reg.add_petitioner(p).expect("add")
        })
    });
    g.bench_function("baseline_sled_insert_flush_fsync_300B", |b| {
        b.iter(|| plain.durable_write())
    });
    g.bench_function("baseline_sled_tx_record_entry_head_flush_fsync", |b| {
        b.iter(|| shaped.vault_shaped_write(true))
    });
    g.finish();
}

// ---- 4. audited_show and 5. audit_verify -----------------------------------------------

fn audit_len(f: &Fixture) -> u64 {
    f.vault
        .verify_audit(Some(&f.audit_key), &[])
        .expect("log verifies")
        .entries
}

/// Mean stored size of the values in `tree` (for the report: what the baselines model).
fn mean_value_len(vault: &Vault, tree: petition_vault::store::Tree) -> usize {
    let values = vault.store().scan_prefix(tree, b"").expect("scan");
    values.iter().map(|(_, v)| v.len()).sum::<usize>() / values.len().max(1)
}

fn audit_target() -> u64 {
    std::env::var("PV_BENCH_AUDIT_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_AUDIT_ENTRIES)
}

fn bench_audit(c: &mut Criterion) {
    let options = VaultOptions::insecure_for_tests();
    let cache = options.cache_bytes;
    let f = fixture(options);
    let reg = unlock(&f, "reg");
    let ana = unlock(&f, "ana");
    let ids: Vec<RecordId> = petitioners(7, SHOW_PETITIONERS)
        .iter()
        .map(|p| reg.add_petitioner(p).expect("add"))
        .collect();
    let mut plain = PlainSled::new(cache);
    let mut shaped = PlainSled::new(cache);

    let mut g = c.benchmark_group("audited_show");
    g.sample_size(20)
        .measurement_time(MEASURE)
        .warm_up_time(WARM_UP);
    let mut i = 0usize;
    g.bench_function("show_petitioner_registrar", |b| {
        b.iter(|| {
            i += 1;
            reg.show_petitioner(ids[i % ids.len()], None).expect("show")
        })
    });
    g.bench_function("show_petitioner_analyst", |b| {
        b.iter(|| {
            i += 1;
            ana.show_petitioner(ids[i % ids.len()], None).expect("show")
        })
    });
    g.bench_function("baseline_sled_insert_flush_fsync_300B", |b| {
        b.iter(|| plain.durable_write())
    });
    g.bench_function("baseline_sled_tx_entry_head_flush_fsync", |b| {
        b.iter(|| shaped.vault_shaped_write(false))
    });
    g.finish();

    // Top the log up to the target length with more audited reads.
    let target = audit_target();
    let mut n = audit_len(&f);
    while n < target {
        i += 1;
        ana.show_petitioner(ids[i % ids.len()], None).expect("show");
        n += 1;
    }
    let n = audit_len(&f);
    eprintln!(
        "audit_verify: {n} entries; mean stored audit entry {} B, petitioner record {} B",
        mean_value_len(&f.vault, petition_vault::store::Tree::Audit),
        mean_value_len(&f.vault, petition_vault::store::Tree::Petitioners),
    );
    let bufs: Vec<u8> = (0..n as usize * SHA_BUF_LEN).map(|i| i as u8).collect();

    let mut g = c.benchmark_group("audit_verify");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(MEASURE)
        .warm_up_time(WARM_UP)
        .throughput(Throughput::Elements(n));
    g.bench_function("verify_audit_with_key", |b| {
        b.iter(|| {
            let report = f
                .vault
                .verify_audit(Some(&f.audit_key), &[])
                .expect("verify");
            assert_eq!(report.entries, n);
            report
        })
    });
    g.bench_function("baseline_sha256_200B_each", |b| {
        b.iter(|| {
            for chunk in black_box(&bufs).chunks_exact(SHA_BUF_LEN) {
                black_box(Sha256::digest(chunk));
            }
        })
    });
    g.finish();
}

/// Audited reads from several sessions of one process at once, with and without group
/// commit (same run): with it, reads that commit at the same time share one flush + fsync.
fn bench_concurrent_reads(c: &mut Criterion) {
    let mut g = c.benchmark_group("concurrent_audited_show");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(MEASURE)
        .warm_up_time(WARM_UP)
        .throughput(Throughput::Elements(1));
    for group_commit in [true, false] {
        let f = fixture(VaultOptions {
            group_commit,
            ..VaultOptions::insecure_for_tests()
        });
        let ids: Vec<RecordId> = {
            let reg = unlock(&f, "reg");
            petitioners(11, 200)
                .iter()
                .map(|p| reg.add_petitioner(p).expect("add"))
                .collect()
        };
        for threads in [1usize, 4, 8] {
            let sessions: Vec<Session<'_>> = (0..threads).map(|_| unlock(&f, "reg")).collect();
            let name = format!(
                "{}_{threads}_threads",
                if group_commit {
                    "group_commit"
                } else {
                    "sync_each"
                }
            );
            g.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    let per = iters.div_ceil(threads as u64) as usize;
                    let start = std::time::Instant::now();
                    std::thread::scope(|s| {
                        for (t, session) in sessions.iter().enumerate() {
                            let ids = &ids;
                            s.spawn(move || {
                                for k in 0..per {
                                    let id = ids[(t * 31 + k) % ids.len()];
                                    black_box(session.show_petitioner(id, None).expect("show"));
                                }
                            });
                        }
                    });
                    // Time per read: all threads' reads over the wall time.
                    start
                        .elapsed()
                        .mul_f64(iters as f64 / (per * threads) as f64)
                })
            });
        }
    }
    g.finish();
}

// ---- 6. blind index, batched import, lookup by ID, redacted export ----------------------

fn bench_blind_index(c: &mut Criterion) {
    use hmac::Mac;
    let keys = IndexKeys::new(&ClassKey::from_bytes([5; 32]));
    let id_number = "11010519491231002X";
    let mut g = c.benchmark_group("blind_index");
    g.sample_size(30)
        .measurement_time(MEASURE)
        .warm_up_time(WARM_UP);
    g.bench_function("tag_id_number", |b| {
        b.iter(|| keys.tag(IndexKind::IdNumber, black_box(id_number)))
    });
    g.bench_function("query_normalise_id_number", |b| {
        b.iter(|| {
            Query::id_number(black_box("１１０１０５１９４９１２３１００２ｘ")).expect("valid")
        })
    });
    // one HMAC-SHA256 of the same value under a fixed key: the tag is two (per-kind key, tag)
    g.bench_function("baseline_hmac_sha256_18B", |b| {
        b.iter(|| {
            let mut m = <hmac::Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&[6; 32])
                .expect("any key length");
            m.update(black_box(id_number).as_bytes());
            m.finalize().into_bytes()
        })
    });
    g.finish();
}

/// `n` synthetic records (a petitioner and one case each) from `seed`.
fn records(seed: u64, n: usize) -> Vec<(SynthPerson, SynthCase)> {
    Synth::new(seed).records(n)
}

fn import_csv(recs: &[(SynthPerson, SynthCase)]) -> Vec<u8> {
    synth::import_csv(recs.iter().map(|(p, c)| (p, c)))
}

/// The plaintext a baseline stores for a record: the import row's petitioner cells and
/// case cells, each joined into one value.
fn plain_record(p: &SynthPerson, c: &SynthCase) -> (Vec<u8>, Vec<u8>) {
    let row = synth::import_row(p, c);
    (
        row[..6].join("\u{1f}").into_bytes(),
        row[6..].join("\u{1f}").into_bytes(),
    )
}

impl PlainSled {
    /// Records as plaintext: petitioner and case values, an ID-number index entry and a
    /// phone entry each, in one transaction, made durable (the vault's import batch without
    /// crypto, scanning or audit).
    fn import_batch(&mut self, recs: &[(SynthPerson, SynthCase)]) {
        let mut rows = Vec::with_capacity(recs.len());
        for (p, c) in recs {
            let (pid, cid) = (self.next_key(), self.next_key());
            let (pv, cv) = plain_record(p, c);
            let id_key = [b"i", p.id_number.as_bytes()].concat();
            let phone_key = [b"p", p.phone.as_bytes(), &pid[..]].concat();
            rows.push((pid, pv, cid, cv, id_key, phone_key));
        }
        let t = &self.trees;
        let result: sled::transaction::TransactionResult<()> =
            (&t[2], &t[3], &t[4]).transaction(|(tp, tc, ti)| {
                for (pid, pv, cid, cv, id_key, phone_key) in &rows {
                    tp.insert(&pid[..], pv.as_slice())?;
                    tc.insert(&cid[..], cv.as_slice())?;
                    ti.insert(id_key.as_slice(), &pid[..])?;
                    ti.insert(phone_key.as_slice(), &[][..])?;
                }
                Ok(())
            });
        result.expect("transaction");
        self.make_durable();
    }

    /// Index get, record get: a lookup by ID number without crypto or audit.
    fn lookup(&self, id_number: &str) -> Option<sled::IVec> {
        let key = [b"i", id_number.as_bytes()].concat();
        let pid = self.trees[4].get(key).expect("get")?;
        self.trees[2].get(pid).expect("get")
    }

    /// A full scan of the record trees, every value touched.
    fn scan_records(&self) -> usize {
        let mut n = 0;
        for tree in [&self.trees[2], &self.trees[3]] {
            for item in tree.iter() {
                let (_, v) = item.expect("scan");
                n += usize::from(!black_box(&v).is_empty());
            }
        }
        n
    }
}

const IMPORT_BATCH: usize = 1000;

fn bench_import(c: &mut Criterion) {
    let options = VaultOptions::insecure_for_tests();
    let cache = options.cache_bytes;
    let f = fixture(options);
    let reg = unlock(&f, "reg");
    let mut plain = PlainSled::new(cache);
    let mut seed = 1000u64;
    let mut g = c.benchmark_group("import_batch");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(10))
        .warm_up_time(WARM_UP)
        .throughput(Throughput::Elements(IMPORT_BATCH as u64));
    // New people every batch (a re-run of the same rows creates nothing); the rows are
    // generated and parsed outside the timed part.
    g.bench_function("session_import_1000", |b| {
        b.iter_batched(
            || {
                seed += 1;
                import::parse(&import_csv(&records(seed, IMPORT_BATCH)), Format::Csv, None)
                    .expect("parse")
            },
            |parsed| {
                let report = reg
                    .import(parsed, false, IMPORT_BATCH, &mut |_, _| {})
                    .expect("import");
                assert_eq!(report.rejected.len(), 0);
                report
            },
            criterion::BatchSize::PerIteration,
        )
    });
    g.bench_function("baseline_sled_tx_1000_plain_records", |b| {
        b.iter_batched(
            || {
                seed += 1;
                records(seed, IMPORT_BATCH)
            },
            |recs| plain.import_batch(&recs),
            criterion::BatchSize::PerIteration,
        )
    });
    g.finish();
}

const LOOKUP_RECORDS: usize = 10_000;
const EXPORT_RECORDS: usize = 2_000;

fn bench_lookup_and_export(c: &mut Criterion) {
    let options = VaultOptions::insecure_for_tests();
    let cache = options.cache_bytes;
    let f = fixture(options);
    let reg = unlock(&f, "reg");
    let recs = records(77, LOOKUP_RECORDS);
    let parsed = import::parse(&import_csv(&recs), Format::Csv, None).expect("parse");
    reg.import(parsed, false, IMPORT_BATCH, &mut |_, _| {})
        .expect("import");
    let mut plain = PlainSled::new(cache);
    for chunk in recs.chunks(IMPORT_BATCH) {
        plain.import_batch(chunk);
    }
    let ids: Vec<&str> = recs
        .iter()
        .step_by(LOOKUP_RECORDS / 500)
        .map(|(p, _)| p.id_number.as_str())
        .collect();

    // `case list` (every case's meta read, warnings worked out) at two vault sizes, per
    // case: a cost per case that grows with the vault's size is a pass that is not linear.
    let small_vault = fixture(VaultOptions::insecure_for_tests());
    let small_reg = unlock(&small_vault, "reg");
    let parsed =
        import::parse(&import_csv(&recs[..EXPORT_RECORDS]), Format::Csv, None).expect("parse");
    small_reg
        .import(parsed, false, IMPORT_BATCH, &mut |_, _| {})
        .expect("import");
    let calendar = petition_vault::workflow::deadline::Calendar::builtin().clone();
    let mut g = c.benchmark_group("case_list");
    g.sample_size(10)
        .measurement_time(MEASURE)
        .warm_up_time(WARM_UP);
    for (name, session, n) in [
        ("list_cases_where_per_case_2k", &small_reg, EXPORT_RECORDS),
        ("list_cases_where_per_case_10k", &reg, LOOKUP_RECORDS),
    ] {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                let listed = session
                    .list_cases_where(
                        &petition_vault::casework::CaseFilter::default(),
                        petition_vault::casework::today(),
                        &calendar,
                    )
                    .expect("list");
                assert_eq!(listed.len(), n);
                listed
            })
        });
    }
    g.throughput(Throughput::Elements(LOOKUP_RECORDS as u64));
    g.bench_function("baseline_sled_scan_both_trees_10k", |b| {
        b.iter(|| {
            let n = plain.scan_records();
            assert_eq!(n, 2 * LOOKUP_RECORDS);
            n
        })
    });
    g.finish();

    let mut g = c.benchmark_group("lookup_by_id");
    g.sample_size(20)
        .measurement_time(MEASURE)
        .warm_up_time(WARM_UP);
    let mut i = 0usize;
    g.bench_function("find_id_number_audited", |b| {
        b.iter(|| {
            i += 1;
            let q = Query::id_number(ids[i % ids.len()]).expect("valid");
            let found = reg.find(&q).expect("find");
            assert_eq!(found.len(), 1);
            found
        })
    });
    g.bench_function("baseline_sled_index_get_record_get", |b| {
        b.iter(|| {
            i += 1;
            plain.lookup(ids[i % ids.len()]).expect("found")
        })
    });
    g.finish();

    // The export on a vault of its own size: every record of it is exported.
    let small = fixture(VaultOptions::insecure_for_tests());
    let ana = unlock(&small, "ana");
    let recs = records(78, EXPORT_RECORDS);
    let parsed = import::parse(&import_csv(&recs), Format::Csv, None).expect("parse");
    unlock(&small, "reg")
        .import(parsed, false, IMPORT_BATCH, &mut |_, _| {})
        .expect("import");
    let mut plain = PlainSled::new(cache);
    for chunk in recs.chunks(IMPORT_BATCH) {
        plain.import_batch(chunk);
    }
    let mut g = c.benchmark_group("redacted_export");
    g.sample_size(10)
        .measurement_time(MEASURE)
        .warm_up_time(WARM_UP)
        .throughput(Throughput::Elements(EXPORT_RECORDS as u64));
    g.bench_function("export_to_redacted_csv_per_record", |b| {
        b.iter(|| {
            let manifest = ana
                .export_to(
                    Profile::Redacted,
                    Filters::default(),
                    None,
                    ExportFormat::Csv { bom: false },
                    &mut std::io::sink(),
                )
                .expect("export");
            assert_eq!(manifest.count, EXPORT_RECORDS);
            manifest
        })
    });
    g.bench_function("baseline_sled_scan_both_trees", |b| {
        b.iter(|| {
            let n = plain.scan_records();
            assert_eq!(n, 2 * EXPORT_RECORDS);
            n
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    bench_concurrent_reads,
    bench_envelope,
    bench_unlock_default,
    bench_unlock_test,
    bench_durable_write,
    bench_audit,
    bench_blind_index,
    bench_import,
    bench_lookup_and_export
);
criterion_main!(benches);
