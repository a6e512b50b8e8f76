//! Side-by-side comparison: (a) plaintext sled, (b) raw AES-256-GCM, (c) SQLCipher,
//! (d) petition-vault and (e) a vault-shaped plaintext sled (the vault's storage work without
//! the vault: the floor of what the vault could reach on sled with its data layout), over one
//! deterministic synthetic dataset, in one run.
//!
//! ```text
//! CARGO_BUILD_JOBS=1 cargo bench --bench compare -- --records 100000
//! CARGO_BUILD_JOBS=1 cargo bench --bench compare -- --quick          # < 1 minute
//! ```
//!
//! Options: `--records N`, `--quick`, `--seed S`, `--cache-mib M` (sled page cache of (a)
//! and (d); default: `VaultOptions::default().cache_bytes`), `--lookups K`, `--writes K`,
//! `--reads K`, `--keep DIR` (leave the databases in DIR), `--systems a,d` (run only some of
//! the systems; the others' columns stay empty), `--rss-trace` (each child prints its VmRSS and
//! VmHWM to stderr after every command), `--import-rows K` (the vault parses and imports each
//! chunk in calls of at most K rows; default: one call per chunk of N/20 rows).
//!
//! Each system runs in its own child process (this binary, re-executed with `--child`), so
//! peak RSS (`VmHWM`) is per system. The parent drives the children one at a time and
//! interleaves them: the import goes in chunks (chunk 1 to a, b, c, d, then chunk 2 …), and
//! the single-operation rows in rounds, so that load from other work on the machine falls on
//! all systems alike. Every child generates the same records from `Synth::new(seed)`; data
//! generation and CSV parsing are outside the timed sections. BENCHMARKS.md explains each row.

// The same allocator as `pvault`: see the `mimalloc` feature in Cargo.toml.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use aes_gcm::aead::AeadInOut;
use aes_gcm::{Aes256Gcm, KeyInit};
use petition_vault::export::{Filters, Format as ExportFormat, Profile};
use petition_vault::import::{self, Format};
use petition_vault::index::Query;
use petition_vault::model::synth::{self, Synth, SynthCase, SynthPerson};
use petition_vault::store::Tree as StoreTree;
use petition_vault::{
    AuditKey, KdfParams, NewPetitioner, Passphrase, RecordId, Role, SecretText, Session, Vault,
    VaultError, VaultOptions,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sled::Transactional;
use std::collections::BTreeMap;
use std::fs::File;
use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BATCH: usize = 1000;
/// Size of the stored audit entry and head the sled baseline writes for an audited read
/// (the vault's, as `benches/core.rs` measured them).
const ENTRY_LEN: usize = 250;
const HEAD_LEN: usize = 80;
/// Seed offset of the records written one by one (not in the imported set).
const WRITE_SEED_XOR: u64 = 0x5EED_F00D;
/// Ciphertexts the AES-GCM child keeps for its lookup and export rows.
const AES_KEEP: usize = 20_000;
/// ID numbers per call in the batched-lookup row.
const LOOKUP_BATCH: usize = 100;
/// Seed offset of the records the vault-shaped system (e) measures the vault's shape on.
const PROBE_SEED_XOR: u64 = 0x0005_4A9E;

// ---- arguments -------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Args {
    records: usize,
    quick: bool,
    seed: u64,
    cache_mib: u64,
    lookups: usize,
    writes: usize,
    reads: usize,
    rounds: usize,
    child: Option<String>,
    dir: Option<PathBuf>,
    keep: Option<PathBuf>,
    /// Which of `SYSTEMS` run (by position).
    systems: [bool; 5],
    rss_trace: bool,
    /// (d): most rows per CSV parse and `Session::import` call (0: the whole chunk).
    import_rows: usize,
    /// Re-runs only the export row on systems (a) and (d) kept by an earlier `--keep DIR`.
    export_only: Option<PathBuf>,
}

fn parse_args() -> Args {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let quick = argv.iter().any(|a| a == "--quick");
    let default_cache = VaultOptions::default().cache_bytes / (1024 * 1024);
    let mut a = Args {
        records: if quick { 10_000 } else { 100_000 },
        quick,
        seed: 20_261_128,
        cache_mib: default_cache,
        lookups: if quick { 300 } else { 3000 },
        writes: if quick { 60 } else { 600 },
        reads: if quick { 150 } else { 1500 },
        rounds: 3,
        child: None,
        dir: None,
        keep: None,
        systems: [true; 5],
        rss_trace: false,
        import_rows: 0,
        export_only: None,
    };
    let mut it = argv.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().unwrap_or_default();
        match arg.as_str() {
            "--records" => a.records = value().parse().expect("--records N"),
            "--seed" => a.seed = value().parse().expect("--seed S"),
            "--cache-mib" => a.cache_mib = value().parse().expect("--cache-mib M"),
            "--lookups" => a.lookups = value().parse().expect("--lookups K"),
            "--writes" => a.writes = value().parse().expect("--writes K"),
            "--reads" => a.reads = value().parse().expect("--reads K"),
            "--child" => a.child = Some(value()),
            "--dir" => a.dir = Some(PathBuf::from(value())),
            "--keep" => a.keep = Some(PathBuf::from(value())),
            "--systems" => {
                a.systems = [false; 5];
                for name in value().split(',') {
                    let i = match name.trim() {
                        "a" | "sled" => 0,
                        "b" | "aes" => 1,
                        "c" | "sqlcipher" => 2,
                        "d" | "vault" => 3,
                        "e" | "shaped" => 4,
                        other => panic!("--systems: unknown system {other} (a, b, c, d, e)"),
                    };
                    a.systems[i] = true;
                }
            }
            "--rss-trace" => a.rss_trace = true,
            "--import-rows" => a.import_rows = value().parse().expect("--import-rows K"),
            "--export-only" => a.export_only = Some(PathBuf::from(value())),
            "--rounds" => a.rounds = value().parse().expect("--rounds N"),
            // `cargo bench` passes `--bench`; criterion-style filters are ignored too.
            _ => {}
        }
    }
    a.records = a.records.max(BATCH);
    a.lookups = a.lookups.max(a.rounds);
    a.writes = a.writes.max(a.rounds);
    a.reads = a.reads.max(a.rounds);
    a
}

// ---- the dataset -----------------------------------------------------------------------

struct Rec {
    person: SynthPerson,
    case: SynthCase,
}

/// The imported records, in order, from one seed; every child walks the same stream.
struct Dataset {
    synth: Synth,
    produced: usize,
    stride: usize,
    /// Every `stride`-th record's ID number: the lookup keys.
    samples: Vec<String>,
}

impl Dataset {
    fn new(args: &Args) -> Dataset {
        Dataset {
            synth: Synth::new(args.seed),
            produced: 0,
            stride: (args.records / args.lookups.max(1)).max(1),
            samples: Vec::new(),
        }
    }

    fn take(&mut self, n: usize) -> Vec<Rec> {
        (0..n)
            .map(|_| {
                let person = self.synth.person();
                let case = self.synth.case_for(&person);
                if self.produced % self.stride == self.stride / 2 {
                    self.samples.push(person.id_number.clone());
                }
                self.produced += 1;
                Rec { person, case }
            })
            .collect()
    }
}

/// The records written one at a time (another seed).
fn write_people(seed: u64) -> Synth {
    Synth::new(seed ^ WRITE_SEED_XOR)
}

/// A record without crypto, as (a) stores it and (b) encrypts it.
#[derive(Serialize, Deserialize)]
struct PlainPetitioner {
    name: String,
    id_number: String,
    phones: Vec<String>,
    address: String,
    email: Option<String>,
    ethnicity: String,
    created_at: i64,
    case_ids: Vec<[u8; 16]>,
}

#[derive(Serialize, Deserialize)]
struct PlainCase {
    petitioner_id: [u8; 16],
    case_no: String,
    title: String,
    category: String,
    channel: String,
    content: String,
    demands: String,
    accused_unit: Option<String>,
    is_accusation: bool,
    status: String,
    received_at: i64,
}

fn plain_petitioner(p: &SynthPerson, case_ids: Vec<[u8; 16]>) -> PlainPetitioner {
    PlainPetitioner {
        name: p.name.clone(),
        id_number: p.id_number.clone(),
        phones: vec![p.phone.clone()],
        address: p.address.clone(),
        email: p.email.clone(),
        ethnicity: p.ethnicity.clone(),
        created_at: 1_764_000_000_000,
        case_ids,
    }
}

fn plain_case(c: &SynthCase, pid: [u8; 16], n: u64) -> PlainCase {
    PlainCase {
        petitioner_id: pid,
        case_no: format!("XF2026-{n:06}"),
        title: c.title.clone(),
        category: c.category.clone(),
        channel: c.channel.to_owned(),
        content: c.content.clone(),
        demands: c.demands.clone(),
        accused_unit: c.accused_unit.clone(),
        is_accusation: c.is_accusation,
        status: "registered".into(),
        received_at: 1_764_000_000_000,
    }
}

/// A 16-byte id spread over the key space, like the vault's random record ids.
fn spread_id(n: u64) -> [u8; 16] {
    u128::from(n)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)
        .to_be_bytes()
}

// ---- process facts ---------------------------------------------------------------------

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0), so a later read is the peak of a phase.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Bytes allocated on disk under `dir`.
fn disk_bytes(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let Ok(m) = e.metadata() else { continue };
            if m.is_dir() {
                total += disk_bytes(&e.path());
            } else {
                total += m.blocks() * 512;
            }
        }
    }
    total
}

// ---- the systems -----------------------------------------------------------------------

/// What each child does. Timing of single operations is done by the caller, around each
/// call; `import` and `export` time themselves (their set-up is not part of the row).
trait System {
    fn import(&mut self, recs: &[Rec]) -> Duration;
    fn durable_write(&mut self, p: &SynthPerson) -> bool;
    /// Looks up by ID number; remembers the hit for `audited_read`.
    fn lookup(&mut self, id_number: &str) -> bool;
    /// Looks up several ID numbers at once (the vault: one `find_any` call, one audit
    /// entry); returns how many were found. Elsewhere one lookup after another.
    fn lookup_batch(&mut self, id_numbers: &[String]) -> usize {
        id_numbers.iter().filter(|id| self.lookup(id)).count()
    }
    /// Reads the `i`-th looked-up record with an audit entry (or the baseline's equivalent).
    fn audited_read(&mut self, i: usize) -> bool;
    fn export(&mut self) -> (usize, Duration);
    /// Audit verification: (entries, best time of several runs); `hint` is the vault's log
    /// length, for the baseline.
    fn verify(&mut self, hint: u64) -> Option<(u64, Duration)>;
    fn settle(&mut self) {}
    /// Bytes of the audit log verified (the vault only).
    fn log_bytes(&self) -> u64 {
        0
    }
    fn dir(&self) -> &Path;
    fn reopen(&mut self) -> Option<Duration>;
    /// True when the child's loop, which owns the database, reopens it.
    fn reopened_by_owner(&self) -> bool {
        false
    }
}

// (a) plaintext sled ----------------------------------------------------------------------

struct PlainSled {
    dir: PathBuf,
    cache: u64,
    db: Option<sled::Db>,
    trees: Vec<sled::Tree>,
    data_file: Option<File>,
    next: u64,
    cases: u64,
    hits: Vec<[u8; 16]>,
    audit_seq: u64,
    entry: Vec<u8>,
}

const P: usize = 0;
const C: usize = 1;
const IX: usize = 2;
const META: usize = 3;
const AUDIT: usize = 4;

fn open_sled(dir: &Path, cache: u64) -> (sled::Db, Vec<sled::Tree>, File) {
    let db_path = dir.join("db");
    let db = sled::Config::new()
        .path(&db_path)
        .cache_capacity(cache)
        .mode(sled::Mode::LowSpace)
        .open()
        .expect("open sled");
    let trees = ["petitioners", "cases", "index", "meta", "audit"]
        .iter()
        .map(|t| db.open_tree(t).expect("tree"))
        .collect();
    let file = File::open(db_path.join("db")).expect("sled data file");
    (db, trees, file)
}

impl PlainSled {
    fn new(dir: &Path, cache: u64) -> PlainSled {
        let (db, trees, file) = open_sled(dir, cache);
        PlainSled {
            dir: dir.to_path_buf(),
            cache,
            db: Some(db),
            trees,
            data_file: Some(file),
            next: 0,
            cases: 0,
            hits: Vec::new(),
            audit_seq: 0,
            entry: (0..ENTRY_LEN).map(|i| i as u8).collect(),
        }
    }

    /// The vault's durability: sled flush, then fsync of the data file.
    fn make_durable(&self) {
        self.db.as_ref().expect("open").flush().expect("flush");
        self.data_file
            .as_ref()
            .expect("open")
            .sync_all()
            .expect("fsync");
    }

    fn next_id(&mut self) -> [u8; 16] {
        self.next += 1;
        spread_id(self.next)
    }

    /// Petitioner value and its two index entries (ID number unique → id; phone + id → ∅).
    fn petitioner_writes(
        &mut self,
        p: &SynthPerson,
        case_ids: Vec<[u8; 16]>,
    ) -> ([u8; 16], Vec<u8>, Vec<Kv>) {
        let pid = self.next_id();
        let value = postcard::to_stdvec(&plain_petitioner(p, case_ids)).expect("ser");
        let mut id_key = b"i".to_vec();
        id_key.extend_from_slice(p.id_number.as_bytes());
        let mut phone_key = b"p".to_vec();
        phone_key.extend_from_slice(p.phone.as_bytes());
        phone_key.extend_from_slice(&pid);
        (
            pid,
            value,
            vec![(id_key, pid.to_vec()), (phone_key, Vec::new())],
        )
    }
}

type Kv = (Vec<u8>, Vec<u8>);

impl System for PlainSled {
    fn import(&mut self, recs: &[Rec]) -> Duration {
        let start = Instant::now();
        for batch in recs.chunks(BATCH) {
            let mut ps: Vec<Kv> = Vec::with_capacity(batch.len());
            let mut cs: Vec<Kv> = Vec::with_capacity(batch.len());
            let mut ix: Vec<Kv> = Vec::with_capacity(2 * batch.len());
            for r in batch {
                self.cases += 1;
                let cid = spread_id(u64::MAX - self.cases);
                let (pid, value, index) = self.petitioner_writes(&r.person, vec![cid]);
                ps.push((pid.to_vec(), value));
                ix.extend(index);
                let case = plain_case(&r.case, pid, self.cases);
                cs.push((cid.to_vec(), postcard::to_stdvec(&case).expect("ser")));
            }
            let t = &self.trees;
            let res: sled::transaction::TransactionResult<()> =
                (&t[P], &t[C], &t[IX]).transaction(|(tp, tc, ti)| {
                    for (k, v) in &ps {
                        tp.insert(k.as_slice(), v.as_slice())?;
                    }
                    for (k, v) in &cs {
                        tc.insert(k.as_slice(), v.as_slice())?;
                    }
                    for (k, v) in &ix {
                        ti.insert(k.as_slice(), v.as_slice())?;
                    }
                    Ok(())
                });
            res.expect("transaction");
            self.make_durable();
        }
        start.elapsed()
    }

    fn durable_write(&mut self, p: &SynthPerson) -> bool {
        let (pid, value, index) = self.petitioner_writes(p, vec![]);
        let t = &self.trees;
        let res: sled::transaction::TransactionResult<()> =
            (&t[P], &t[IX]).transaction(|(tp, ti)| {
                tp.insert(&pid[..], value.as_slice())?;
                for (k, v) in &index {
                    ti.insert(k.as_slice(), v.as_slice())?;
                }
                Ok(())
            });
        res.expect("transaction");
        self.make_durable();
        true
    }

    fn lookup(&mut self, id_number: &str) -> bool {
        let mut key = b"i".to_vec();
        key.extend_from_slice(id_number.as_bytes());
        let Some(pid) = self.trees[IX].get(&key).expect("get") else {
            return false;
        };
        let value = self.trees[P].get(&pid).expect("get").expect("record");
        let rec: PlainPetitioner = postcard::from_bytes(&value).expect("de");
        black_box(&rec);
        self.hits.push(pid.as_ref().try_into().expect("16 bytes"));
        true
    }

    /// The baseline of an audited read: one durable sled write of an audit entry and the new
    /// head, in one transaction (the vault's commit without crypto or policy).
    fn audited_read(&mut self, _i: usize) -> bool {
        self.audit_seq += 1;
        let seq = self.audit_seq.to_be_bytes();
        let entry = &self.entry;
        let t = &self.trees;
        let res: sled::transaction::TransactionResult<()> =
            (&t[META], &t[AUDIT]).transaction(|(tm, ta)| {
                black_box(tm.get(b"audit_head")?);
                ta.insert(&seq[..], entry.as_slice())?;
                tm.insert(&b"audit_head"[..], &entry[..HEAD_LEN])?;
                Ok(())
            });
        res.expect("transaction");
        self.make_durable();
        true
    }

    /// The baseline of a redacted export: a full scan of both trees, decoding every record.
    fn export(&mut self) -> (usize, Duration) {
        let start = Instant::now();
        let mut n = 0;
        for item in self.trees[P].iter() {
            let (_, v) = item.expect("scan");
            black_box(postcard::from_bytes::<PlainPetitioner>(&v).expect("de"));
        }
        for item in self.trees[C].iter() {
            let (_, v) = item.expect("scan");
            black_box(postcard::from_bytes::<PlainCase>(&v).expect("de"));
            n += 1;
        }
        (n, start.elapsed())
    }

    /// The baseline of audit verification: a scan of an equally long log of audit-sized
    /// values, hash-chained with SHA-256.
    fn verify(&mut self, hint: u64) -> Option<(u64, Duration)> {
        let have = self.trees[AUDIT].len() as u64;
        let mut seq = self.audit_seq;
        for chunk in (have..hint).collect::<Vec<_>>().chunks(10_000) {
            let mut b = sled::Batch::default();
            for _ in chunk {
                seq += 1;
                b.insert(&seq.to_be_bytes(), self.entry.as_slice());
            }
            self.trees[AUDIT].apply_batch(b).expect("batch");
        }
        self.audit_seq = seq;
        let n = self.trees[AUDIT].len() as u64;
        let best = (0..5)
            .map(|_| {
                let start = Instant::now();
                let mut prev = [0u8; 32];
                for item in self.trees[AUDIT].iter() {
                    let (_, v) = item.expect("scan");
                    let mut h = Sha256::new();
                    h.update(prev);
                    h.update(&v);
                    prev = h.finalize().into();
                }
                black_box(prev);
                start.elapsed()
            })
            .min()
            .expect("5 runs");
        Some((n, best))
    }

    fn settle(&mut self) {
        self.make_durable();
    }

    fn dir(&self) -> &Path {
        &self.dir
    }

    fn reopen(&mut self) -> Option<Duration> {
        self.trees.clear();
        self.data_file = None;
        self.db = None;
        let start = Instant::now();
        let (db, trees, file) = open_sled(&self.dir, self.cache);
        black_box(trees[P].first().expect("first"));
        let took = start.elapsed();
        self.db = Some(db);
        self.trees = trees;
        self.data_file = Some(file);
        Some(took)
    }
}

// (b) raw AES-256-GCM ----------------------------------------------------------------------

struct RawAes {
    dir: PathBuf,
    cipher: Aes256Gcm,
    nonce: u64,
    kept: Vec<([u8; 12], Vec<u8>, [u8; 16])>,
    cases: u64,
}

impl RawAes {
    fn seal(&mut self, plain: &[u8]) -> ([u8; 12], Vec<u8>, [u8; 16]) {
        self.nonce += 1;
        let mut nonce = [0u8; 12];
        nonce[4..].copy_from_slice(&self.nonce.to_be_bytes());
        let mut buf = plain.to_vec();
        let tag = self
            .cipher
            .encrypt_inout_detached(&nonce.into(), b"", (&mut buf[..]).into())
            .expect("encrypt");
        (nonce, buf, tag.into())
    }

    fn open(&self, i: usize) -> Vec<u8> {
        let (nonce, ct, tag) = &self.kept[i % self.kept.len()];
        let mut buf = ct.clone();
        self.cipher
            .decrypt_inout_detached(&(*nonce).into(), b"", (&mut buf[..]).into(), &(*tag).into())
            .expect("decrypt");
        buf
    }
}

impl System for RawAes {
    /// Encrypts the same bytes (a) stores: each record's petitioner and case values.
    fn import(&mut self, recs: &[Rec]) -> Duration {
        let plain: Vec<(Vec<u8>, Vec<u8>)> = recs
            .iter()
            .map(|r| {
                self.cases += 1;
                let pid = spread_id(self.cases);
                (
                    postcard::to_stdvec(&plain_petitioner(&r.person, vec![pid])).expect("ser"),
                    postcard::to_stdvec(&plain_case(&r.case, pid, self.cases)).expect("ser"),
                )
            })
            .collect();
        let start = Instant::now();
        for (p, c) in &plain {
            let sp = self.seal(p);
            let sc = self.seal(c);
            if self.kept.len() < AES_KEEP {
                self.kept.push(sp);
                self.kept.push(sc);
            } else {
                black_box((sp, sc));
            }
        }
        start.elapsed()
    }

    fn durable_write(&mut self, _p: &SynthPerson) -> bool {
        false
    }

    /// Decrypts one kept record (the crypto part of a lookup).
    fn lookup(&mut self, _id_number: &str) -> bool {
        let i = self.nonce as usize;
        self.nonce += 1;
        black_box(self.open(i));
        true
    }

    fn audited_read(&mut self, _i: usize) -> bool {
        false
    }

    /// Decrypts every kept ciphertext (a petitioner and a case per record).
    fn export(&mut self) -> (usize, Duration) {
        let start = Instant::now();
        for i in 0..self.kept.len() {
            black_box(self.open(i));
        }
        (self.kept.len() / 2, start.elapsed())
    }

    fn verify(&mut self, _hint: u64) -> Option<(u64, Duration)> {
        None
    }

    fn dir(&self) -> &Path {
        &self.dir
    }

    fn reopen(&mut self) -> Option<Duration> {
        None
    }
}

// (c) SQLCipher ------------------------------------------------------------------------------

struct SqlCipher {
    dir: PathBuf,
    conn: Option<rusqlite::Connection>,
    hits: Vec<i64>,
}

const SQL_KEY: &str =
    "PRAGMA key = \"x'2b7e151628aed2a6abf7158809cf4f3c2b7e151628aed2a6abf7158809cf4f3c'\"";

fn open_sqlcipher(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("open sqlcipher");
    // A raw 256-bit key: no PBKDF2 at open, like the vault's unlocked class keys.
    conn.execute_batch(SQL_KEY).expect("key");
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
        .expect("wal");
    conn.execute_batch("PRAGMA synchronous = FULL")
        .expect("synchronous");
    conn
}

impl SqlCipher {
    fn new(dir: &Path) -> SqlCipher {
        let conn = open_sqlcipher(&dir.join("db.sqlite"));
        let version: String = conn
            .query_row("PRAGMA cipher_version", [], |r| r.get(0))
            .expect("this SQLite is SQLCipher");
        eprintln!("compare: SQLCipher {version}");
        conn.execute_batch(
            "CREATE TABLE petitioners(
                 id INTEGER PRIMARY KEY, name TEXT NOT NULL, id_number TEXT NOT NULL,
                 phone TEXT, address TEXT, email TEXT, ethnicity TEXT, created_at INTEGER);
             CREATE UNIQUE INDEX petitioners_id_number ON petitioners(id_number);
             CREATE INDEX petitioners_phone ON petitioners(phone);
             CREATE TABLE cases(
                 id INTEGER PRIMARY KEY, petitioner_id INTEGER NOT NULL, case_no TEXT,
                 title TEXT, category TEXT, channel TEXT, content TEXT, demands TEXT,
                 accused_unit TEXT, is_accusation INTEGER, status TEXT, received_at INTEGER);
             CREATE TABLE audit(
                 seq INTEGER PRIMARY KEY, time INTEGER, actor TEXT, action TEXT, target INTEGER);",
        )
        .expect("schema");
        SqlCipher {
            dir: dir.to_path_buf(),
            conn: Some(conn),
            hits: Vec::new(),
        }
    }

    fn conn(&self) -> &rusqlite::Connection {
        self.conn.as_ref().expect("open")
    }
}

const SQL_INSERT_P: &str = "INSERT OR REPLACE INTO petitioners
    (name, id_number, phone, address, email, ethnicity, created_at) VALUES (?1,?2,?3,?4,?5,?6,?7)";
const SQL_INSERT_C: &str = "INSERT INTO cases (petitioner_id, case_no, title, category, channel,
    content, demands, accused_unit, is_accusation, status, received_at)
    VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)";

fn insert_person(stmt: &mut rusqlite::CachedStatement<'_>, p: &SynthPerson) -> i64 {
    stmt.insert(rusqlite::params![
        p.name,
        p.id_number,
        p.phone,
        p.address,
        p.email,
        p.ethnicity,
        1_764_000_000_000i64
    ])
    .expect("insert petitioner")
}

impl System for SqlCipher {
    fn import(&mut self, recs: &[Rec]) -> Duration {
        let start = Instant::now();
        let conn = self.conn.as_mut().expect("open");
        for batch in recs.chunks(BATCH) {
            let tx = conn.transaction().expect("begin");
            {
                let mut ip = tx.prepare_cached(SQL_INSERT_P).expect("prepare");
                let mut ic = tx.prepare_cached(SQL_INSERT_C).expect("prepare");
                for r in batch {
                    let pid = insert_person(&mut ip, &r.person);
                    let c = &r.case;
                    ic.insert(rusqlite::params![
                        pid,
                        format!("XF2026-{pid:06}"),
                        c.title,
                        c.category,
                        c.channel,
                        c.content,
                        c.demands,
                        c.accused_unit,
                        c.is_accusation,
                        "registered",
                        1_764_000_000_000i64
                    ])
                    .expect("insert case");
                }
            }
            tx.commit().expect("commit");
        }
        start.elapsed()
    }

    fn durable_write(&mut self, p: &SynthPerson) -> bool {
        let mut ip = self.conn().prepare_cached(SQL_INSERT_P).expect("prepare");
        insert_person(&mut ip, p);
        true
    }

    fn lookup(&mut self, id_number: &str) -> bool {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT id, name, id_number, phone, address, email, ethnicity, created_at
                 FROM petitioners WHERE id_number = ?1",
            )
            .expect("prepare");
        let hit = stmt
            .query_row([id_number], |r| {
                let row: (i64, String, String, String, String, Option<String>, String) = (
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                );
                Ok(row)
            })
            .ok();
        drop(stmt);
        match hit {
            Some(row) => {
                self.hits.push(row.0);
                black_box(row);
                true
            }
            None => false,
        }
    }

    /// What a team would do on SQLCipher: read the row and insert an audit row, in one
    /// transaction, committed with `synchronous = FULL`.
    fn audited_read(&mut self, i: usize) -> bool {
        let id = self.hits[i % self.hits.len()];
        let conn = self.conn.as_mut().expect("open");
        let tx = conn.transaction().expect("begin");
        {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT name, id_number, phone, address, email, ethnicity
                     FROM petitioners WHERE id = ?1",
                )
                .expect("prepare");
            let row = stmt
                .query_row([id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                })
                .expect("row");
            black_box(row);
            tx.prepare_cached(
                "INSERT INTO audit (time, actor, action, target) VALUES (?1, ?2, ?3, ?4)",
            )
            .expect("prepare")
            .execute(rusqlite::params![1_764_000_000_000i64, "reg", "show", id])
            .expect("audit row");
        }
        tx.commit().expect("commit");
        true
    }

    /// A full join of cases and petitioners, every column read out.
    fn export(&mut self) -> (usize, Duration) {
        let start = Instant::now();
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT c.id, c.case_no, c.category, c.channel, c.status, c.received_at,
                        c.is_accusation, c.title, c.content, c.demands,
                        p.name, p.id_number, p.phone, p.address
                 FROM cases c JOIN petitioners p ON p.id = c.petitioner_id",
            )
            .expect("prepare");
        let mut rows = stmt.query([]).expect("query");
        let mut n = 0;
        while let Some(r) = rows.next().expect("row") {
            let mut fields: Vec<String> = Vec::with_capacity(14);
            for i in 0..14 {
                let v: rusqlite::types::Value = r.get(i).expect("column");
                fields.push(match v {
                    rusqlite::types::Value::Text(s) => s,
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    _ => String::new(),
                });
            }
            black_box(fields);
            n += 1;
        }
        (n, start.elapsed())
    }

    fn verify(&mut self, _hint: u64) -> Option<(u64, Duration)> {
        None
    }

    fn settle(&mut self) {
        self.conn()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .expect("checkpoint");
    }

    fn dir(&self) -> &Path {
        &self.dir
    }

    fn reopen(&mut self) -> Option<Duration> {
        self.conn = None;
        let start = Instant::now();
        let conn = open_sqlcipher(&self.dir.join("db.sqlite"));
        let n: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .expect("first read");
        black_box(n);
        let took = start.elapsed();
        self.conn = Some(conn);
        Some(took)
    }
}

// (d) petition-vault -------------------------------------------------------------------------

fn pass(user: &str) -> Passphrase {
    Passphrase::new(format!("compare passphrase for {user}"))
}

fn vault_options(cache_mib: u64) -> VaultOptions {
    VaultOptions {
        // Unlock is not a row here: test KDF parameters keep set-up fast.
        kdf: KdfParams::INSECURE_TEST_ONLY,
        cache_bytes: cache_mib * 1024 * 1024,
        ..VaultOptions::default()
    }
}

fn to_csv(recs: &[Rec]) -> Vec<u8> {
    synth::import_csv(recs.iter().map(|r| (&r.person, &r.case)))
}

fn new_petitioner(p: &SynthPerson) -> NewPetitioner {
    NewPetitioner {
        name: SecretText::from(p.name.clone()),
        id_number: SecretText::from(p.id_number.clone()),
        phones: vec![SecretText::from(p.phone.clone())],
        address: Some(SecretText::from(p.address.clone())),
        email: p.email.clone().map(SecretText::from),
        ethnicity: Some(SecretText::from(p.ethnicity.clone())),
    }
}

struct VaultSys {
    dir: PathBuf,
    options: VaultOptions,
    audit_key: AuditKey,
    hits: Vec<RecordId>,
    imported: usize,
    duplicates: usize,
    /// Bytes of the audit log at the last `verify` (entries vary from ~250 B to ~32 KB).
    log_bytes: u64,
    /// Most rows per CSV parse and `Session::import` call (0: a whole import chunk).
    import_rows: usize,
}

impl VaultSys {
    fn create(dir: &Path, cache_mib: u64, import_rows: usize) -> (VaultSys, Vault) {
        let options = vault_options(cache_mib);
        let vdir = dir.join("vault");
        let (vault, audit_key) =
            Vault::create(&vdir, "admin", &pass("admin"), options.clone()).expect("create");
        {
            let admin = vault.unlock("admin", &pass("admin")).expect("unlock");
            admin
                .add_user("reg", Role::Registrar, Some("信访局"), &pass("reg"))
                .expect("registrar");
            admin
                .add_user("ana", Role::Analyst, Some("信访局"), &pass("ana"))
                .expect("analyst");
        }
        (
            VaultSys {
                dir: vdir,
                options,
                audit_key,
                hits: Vec::new(),
                imported: 0,
                duplicates: 0,
                log_bytes: 0,
                import_rows,
            },
            vault,
        )
    }
}

/// The analyst's redacted export, streamed as CSV into a sink (encoded and hashed for the
/// manifest, as the CLI does, but not stored): rows and time taken.
fn analyst_export(ana: &Session<'_>) -> (usize, Duration) {
    let start = Instant::now();
    let manifest = ana
        .export_to(
            Profile::Redacted,
            Filters::default(),
            None,
            ExportFormat::Csv { bom: false },
            &mut std::io::sink(),
        )
        .expect("export");
    (manifest.count, start.elapsed())
}

/// The vault's `System`: borrows the open vault and its two sessions.
struct VaultRun<'a, 'v> {
    sys: &'a mut VaultSys,
    vault: &'v Vault,
    reg: Session<'v>,
    ana: Session<'v>,
}

impl System for VaultRun<'_, '_> {
    fn import(&mut self, recs: &[Rec]) -> Duration {
        let per_call = match self.sys.import_rows {
            0 => recs.len(),
            n => n,
        };
        let mut took = Duration::ZERO;
        for part in recs.chunks(per_call.max(1)) {
            let parsed = import::parse(&to_csv(part), Format::Csv, None).expect("parse");
            let start = Instant::now();
            let report = self
                .reg
                .import(parsed, false, BATCH, &mut |_, _| {})
                .expect("import");
            took += start.elapsed();
            assert!(
                report.rejected.is_empty(),
                "synthetic rows are valid: {:?}",
                &report.rejected[..report.rejected.len().min(3)]
            );
            self.sys.imported += report.petitioners_created;
        }
        took
    }

    fn durable_write(&mut self, p: &SynthPerson) -> bool {
        match self.reg.add_petitioner(&new_petitioner(p)) {
            Ok(id) => {
                black_box(id);
                true
            }
            Err(VaultError::Duplicate { .. }) => {
                self.sys.duplicates += 1;
                true
            }
            Err(e) => panic!("add_petitioner: {e}"),
        }
    }

    fn lookup_batch(&mut self, id_numbers: &[String]) -> usize {
        let queries: Vec<Query> = id_numbers
            .iter()
            .map(|id| Query::id_number(id).expect("valid ID"))
            .collect();
        let found = self.reg.find_any(&queries).expect("find_any");
        black_box(&found);
        found.len()
    }
    fn lookup(&mut self, id_number: &str) -> bool {
        let query = Query::id_number(id_number).expect("valid ID");
        let found = self.reg.find(&query).expect("find");
        match found.first() {
            Some(view) => {
                self.sys.hits.push(view.id);
                black_box(&found);
                true
            }
            None => false,
        }
    }

    fn audited_read(&mut self, i: usize) -> bool {
        let id = self.sys.hits[i % self.sys.hits.len()];
        black_box(self.reg.show_petitioner(id, None).expect("show"));
        true
    }

    fn export(&mut self) -> (usize, Duration) {
        analyst_export(&self.ana)
    }

    fn verify(&mut self, _hint: u64) -> Option<(u64, Duration)> {
        let mut entries = 0;
        let best = (0..5)
            .map(|_| {
                let start = Instant::now();
                let report = self
                    .vault
                    .verify_audit(Some(&self.sys.audit_key), &[])
                    .expect("log verifies");
                entries = report.entries;
                start.elapsed()
            })
            .min()
            .expect("5 runs");
        let mut bytes = 0u64;
        self.vault
            .store()
            .visit(StoreTree::Audit, b"", &mut |_, v| {
                bytes += v.len() as u64;
                true
            })
            .expect("log size");
        self.sys.log_bytes = bytes;
        Some((entries, best))
    }

    fn dir(&self) -> &Path {
        &self.sys.dir
    }

    fn reopen(&mut self) -> Option<Duration> {
        None
    }

    fn reopened_by_owner(&self) -> bool {
        true
    }

    fn log_bytes(&self) -> u64 {
        self.sys.log_bytes
    }
}

// (e) vault-shaped plaintext sled: the storage floor ------------------------------------

/// What the vault stores per record and per operation, measured on a small probe vault at
/// start-up (so it follows the vault's format): value sizes, key counts and key sizes.
#[derive(Debug, Clone, Copy)]
struct Shape {
    /// Stored petitioner and case values (mean bytes).
    p_val: usize,
    c_val: usize,
    /// Blind-index keys per imported record, their mean size, and how many of them are
    /// insert-if-absent (read inside the transaction first). One holds the record id; the
    /// others have empty values, as in the vault.
    ix_keys: usize,
    ix_key: usize,
    ix_unique: usize,
    /// Audit-index keys per imported record, their mean key and value sizes (bulk entries
    /// are indexed in buckets whose values list ids).
    ai_keys: f64,
    ai_key: usize,
    ai_val: usize,
    /// One import batch's audit entry (bytes per record of the batch), the head.
    import_entry_per_rec: usize,
    head: usize,
    /// Per single operation: its audit entry, and the index / audit-index keys it adds.
    write_entry: usize,
    write_ix: usize,
    write_ai: usize,
    lookup_entry: usize,
    lookup_ai: usize,
    read_entry: usize,
    read_ai: usize,
    /// A lookup of `LOOKUP_BATCH` ID numbers in one call (`find_any`: one entry).
    batch_entry: usize,
    batch_ai: usize,
}

/// (key count, key bytes, value bytes) of a tree.
fn tree_stats(store: &dyn petition_vault::store::Store, tree: StoreTree) -> (usize, usize, usize) {
    let (mut n, mut kb, mut vb) = (0, 0, 0);
    store
        .visit(tree, b"", &mut |k, v| {
            n += 1;
            kb += k.len();
            vb += v.len();
            true
        })
        .expect("probe scan");
    (n, kb, vb)
}

/// The newest audit entry's stored size.
fn last_entry_len(store: &dyn petition_vault::store::Store) -> usize {
    let mut last = 0;
    store
        .visit(StoreTree::Audit, b"", &mut |_, v| {
            last = v.len();
            true
        })
        .expect("probe scan");
    last
}

impl Shape {
    /// Imports `2 × BATCH` records (another seed than the dataset's) into a throwaway vault,
    /// then does one write, one lookup and one read, and measures what each stored.
    fn probe(dir: &Path, seed: u64) -> Shape {
        let (mut sys, vault) = VaultSys::create(dir, 16, 0);
        let store = vault.store();
        let st = store.as_ref();
        let mut synth = Synth::new(seed ^ PROBE_SEED_XOR);
        let recs: Vec<Rec> = (0..2 * BATCH)
            .map(|_| {
                let person = synth.person();
                let case = synth.case_for(&person);
                Rec { person, case }
            })
            .collect();
        let reg = vault.unlock("reg", &pass("reg")).expect("unlock");
        let ana = vault.unlock("ana", &pass("ana")).expect("unlock");
        let ix0 = tree_stats(st, StoreTree::Index);
        let ai0 = tree_stats(st, StoreTree::AuditIndex);
        let mut run = VaultRun {
            sys: &mut sys,
            vault: &vault,
            reg,
            ana,
        };
        run.import(&recs);
        let n = recs.len();
        let (pn, _, pv) = tree_stats(st, StoreTree::Petitioners);
        let (cn, _, cv) = tree_stats(st, StoreTree::Cases);
        let ix1 = tree_stats(st, StoreTree::Index);
        let ai1 = tree_stats(st, StoreTree::AuditIndex);
        let import_entry = last_entry_len(st);
        let head = st
            .get(StoreTree::Meta, petition_vault::store::AUDIT_HEAD_KEY)
            .expect("head")
            .map_or(0, |h| h.len());
        let person = synth.person();
        run.durable_write(&person);
        let ix2 = tree_stats(st, StoreTree::Index);
        let ai2 = tree_stats(st, StoreTree::AuditIndex);
        let write_entry = last_entry_len(st);
        assert!(run.lookup(&recs[0].person.id_number), "probe lookup");
        let ai3 = tree_stats(st, StoreTree::AuditIndex);
        let lookup_entry = last_entry_len(st);
        run.audited_read(0);
        let ai4 = tree_stats(st, StoreTree::AuditIndex);
        let read_entry = last_entry_len(st);
        let ids: Vec<String> = recs[..LOOKUP_BATCH]
            .iter()
            .map(|r| r.person.id_number.clone())
            .collect();
        assert_eq!(run.lookup_batch(&ids), LOOKUP_BATCH, "probe batch lookup");
        let ai5 = tree_stats(st, StoreTree::AuditIndex);
        let batch_entry = last_entry_len(st);
        let ix_keys = ix1.0 - ix0.0;
        let shape = Shape {
            p_val: pv / pn.max(1),
            c_val: cv / cn.max(1),
            ix_keys: ix_keys.div_ceil(n),
            ix_key: (ix1.1 - ix0.1) / ix_keys.max(1),
            // the unique ID entry and the import-row fingerprint
            ix_unique: 2,
            ai_keys: (ai1.0 - ai0.0) as f64 / n as f64,
            ai_key: (ai1.1 - ai0.1) / (ai1.0 - ai0.0).max(1),
            ai_val: (ai1.2 - ai0.2) / (ai1.0 - ai0.0).max(1),
            import_entry_per_rec: import_entry / BATCH,
            head,
            write_entry,
            write_ix: ix2.0 - ix1.0,
            write_ai: ai2.0 - ai1.0,
            lookup_entry,
            lookup_ai: ai3.0 - ai2.0,
            read_entry,
            read_ai: ai4.0 - ai3.0,
            batch_entry,
            batch_ai: ai5.0 - ai4.0,
        };
        drop(run);
        drop(vault);
        let _ = std::fs::remove_dir_all(dir);
        eprintln!("compare: vault shape per record / operation: {shape:?}");
        shape
    }
}

/// A write into one of (a)'s trees (`P`, `C` or `IX`).
type TreeKv = (usize, Vec<u8>, Vec<u8>);

/// The vault's storage work without the vault: per operation, the keys and value sizes the
/// vault writes (random bytes; sled does not compress), in the same transactions, made
/// durable the same way (flush + `fdatasync`). No crypto, policy, validation or scanning:
/// what this row reaches is the most the vault could reach on sled with its data layout.
struct ShapedSled {
    plain: PlainSled,
    shape: Shape,
    ai_tree: sled::Tree,
    next_key: u64,
    seq: u64,
    records: u64,
}

impl ShapedSled {
    fn new(dir: &Path, cache: u64, seed: u64) -> ShapedSled {
        let shape = Shape::probe(&dir.join("probe"), seed);
        let plain = PlainSled::new(dir, cache);
        let ai_tree = plain
            .db
            .as_ref()
            .expect("open")
            .open_tree("audit_index")
            .expect("tree");
        ShapedSled {
            plain,
            shape,
            ai_tree,
            next_key: 0,
            seq: 0,
            records: 0,
        }
    }

    /// `len` bytes that look random to sled (and to any compressor).
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        self.next_key += 1;
        let mut x = spread_id(self.next_key);
        let mut out = Vec::with_capacity(len + 16);
        while out.len() < len {
            out.extend_from_slice(&x);
            x = spread_id(u128::from_be_bytes(x) as u64 ^ self.next_key);
        }
        out.truncate(len);
        out
    }

    fn durable(&self) {
        let p = &self.plain;
        p.db.as_ref().expect("open").flush().expect("flush");
        p.data_file
            .as_ref()
            .expect("open")
            .sync_data()
            .expect("fdatasync");
    }

    /// One transaction: `writes` (tree, key, value), `absent` keys read first, an audit
    /// entry of `entry` bytes with `ai` audit-index keys of `ai_val`-byte values (bulk
    /// entries' buckets list ids; per-record keys are empty), and the head read and
    /// rewritten; then durable.
    fn commit(
        &mut self,
        writes: &[TreeKv],
        absent: &[Vec<u8>],
        entry: usize,
        (ai, ai_val): (usize, usize),
    ) {
        self.seq += 1;
        let seq = self.seq.to_be_bytes();
        let entry = self.bytes(entry);
        let head = self.bytes(self.shape.head);
        let ai_keys: Vec<Kv> = (0..ai)
            .map(|_| (self.bytes(self.shape.ai_key), self.bytes(ai_val)))
            .collect();
        let t = &self.plain.trees;
        let res: sled::transaction::TransactionResult<()> =
            (&t[P], &t[C], &t[IX], &t[META], &t[AUDIT], &self.ai_tree).transaction(
                |(tp, tc, ti, tm, ta, tai)| {
                    for k in absent {
                        black_box(ti.get(k.as_slice())?);
                    }
                    for (tree, k, v) in writes {
                        let tx = match *tree {
                            P => tp,
                            C => tc,
                            _ => ti,
                        };
                        tx.insert(k.as_slice(), v.as_slice())?;
                    }
                    black_box(tm.get(b"audit_head")?);
                    ta.insert(&seq[..], entry.as_slice())?;
                    tm.insert(&b"audit_head"[..], head.as_slice())?;
                    for (k, v) in &ai_keys {
                        tai.insert(k.as_slice(), v.as_slice())?;
                    }
                    Ok(())
                },
            );
        res.expect("transaction");
        self.durable();
    }

    /// A petitioner's writes: the record and `ix` index keys, the first of them `unique_key`
    /// holding the id (the unique ID-number entry); the first `unique` keys are
    /// insert-if-absent, as the vault's unique ID entry and import-row fingerprint are.
    fn petitioner(
        &mut self,
        unique_key: Vec<u8>,
        ix: usize,
        unique: usize,
    ) -> (Vec<TreeKv>, Vec<Vec<u8>>) {
        self.records += 1;
        let pid = spread_id(self.records).to_vec();
        let mut w = vec![(P, pid.clone(), self.bytes(self.shape.p_val))];
        let mut keys = vec![unique_key];
        while keys.len() < ix.max(1) {
            keys.push(self.bytes(self.shape.ix_key));
        }
        let absent = keys[..unique.min(keys.len())].to_vec();
        for (i, key) in keys.into_iter().enumerate() {
            let value = if i == 0 { pid.clone() } else { Vec::new() };
            w.push((IX, key, value));
        }
        (w, absent)
    }

    fn lookup_key(&self, id_number: &str) -> Vec<u8> {
        let mut key = b"i".to_vec();
        key.extend_from_slice(id_number.as_bytes());
        key
    }
}

impl System for ShapedSled {
    fn import(&mut self, recs: &[Rec]) -> Duration {
        let start = Instant::now();
        for batch in recs.chunks(BATCH) {
            let mut writes = Vec::with_capacity(batch.len() * (2 + self.shape.ix_keys));
            let mut absent = Vec::with_capacity(batch.len() * self.shape.ix_unique);
            for r in batch {
                // the unique entry is keyed by the ID number itself, so the lookup row finds it
                let key = self.lookup_key(&r.person.id_number);
                let (w, a) = self.petitioner(key, self.shape.ix_keys, self.shape.ix_unique);
                writes.extend(w);
                absent.extend(a);
                let cid = spread_id(u64::MAX - self.records).to_vec();
                let cv = self.bytes(self.shape.c_val);
                writes.push((C, cid, cv));
            }
            let entry = self.shape.import_entry_per_rec * batch.len();
            let ai = (self.shape.ai_keys * batch.len() as f64).round() as usize;
            self.commit(&writes, &absent, entry, (ai, self.shape.ai_val));
        }
        start.elapsed()
    }

    fn durable_write(&mut self, _p: &SynthPerson) -> bool {
        let key = self.bytes(self.shape.ix_key);
        let (w, a) = self.petitioner(key, self.shape.write_ix, 1);
        let (entry, ai) = (self.shape.write_entry, self.shape.write_ai);
        self.commit(&w, &a, entry, (ai, 0));
        true
    }

    fn lookup(&mut self, id_number: &str) -> bool {
        let key = self.lookup_key(id_number);
        let Some(pid) = self.plain.trees[IX].get(&key).expect("get") else {
            return false;
        };
        black_box(self.plain.trees[P].get(&pid).expect("get").expect("record"));
        self.plain
            .hits
            .push(pid.as_ref().try_into().expect("16 bytes"));
        let (entry, ai) = (self.shape.lookup_entry, self.shape.lookup_ai);
        self.commit(&[], &[], entry, (ai, 0));
        true
    }

    /// The gets of every lookup, then one durable audit entry for the call (`find_any`).
    fn lookup_batch(&mut self, id_numbers: &[String]) -> usize {
        let mut found = 0;
        for id_number in id_numbers {
            let key = self.lookup_key(id_number);
            if let Some(pid) = self.plain.trees[IX].get(&key).expect("get") {
                black_box(self.plain.trees[P].get(&pid).expect("get").expect("record"));
                found += 1;
            }
        }
        let (entry, ai) = (self.shape.batch_entry, self.shape.batch_ai);
        self.commit(&[], &[], entry, (ai, 0));
        found
    }

    fn audited_read(&mut self, i: usize) -> bool {
        let pid = self.plain.hits[i % self.plain.hits.len()];
        black_box(self.plain.trees[P].get(pid).expect("get").expect("record"));
        let (entry, ai) = (self.shape.read_entry, self.shape.read_ai);
        self.commit(&[], &[], entry, (ai, 0));
        true
    }

    /// A full scan of both record trees, then the export's audit entry (every id).
    fn export(&mut self) -> (usize, Duration) {
        let start = Instant::now();
        let mut n = 0;
        for item in self.plain.trees[P].iter() {
            black_box(item.expect("scan"));
        }
        for item in self.plain.trees[C].iter() {
            black_box(item.expect("scan"));
            n += 1;
        }
        let ids = self.plain.trees[P].len() + n;
        self.commit(&[], &[], 16 * ids, (256, 16 * ids / 256));
        (n, start.elapsed())
    }

    fn verify(&mut self, _hint: u64) -> Option<(u64, Duration)> {
        None
    }

    fn settle(&mut self) {
        self.durable();
    }

    fn dir(&self) -> &Path {
        self.plain.dir()
    }

    fn reopen(&mut self) -> Option<Duration> {
        None
    }
}

// ---- the child side ----------------------------------------------------------------------

enum Next {
    Quit,
    Reopen,
}

/// Serves commands from the parent, one line each, one reply line each.
fn serve(
    sys: &mut dyn System,
    data: &mut Dataset,
    writes: &mut Synth,
    lines: &mut dyn Iterator<Item = String>,
    trace: Option<&str>,
) -> Next {
    let mut lookup_next = 0usize;
    let mut read_next = 0usize;
    let mut out = std::io::stdout().lock();
    for line in lines {
        let mut words = line.split_whitespace();
        let cmd = words.next().unwrap_or("");
        let arg: u64 = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
        let reply = match cmd {
            "import" => {
                let recs = data.take(arg as usize);
                let took = sys.import(&recs);
                drop(recs);
                format!("secs={} n={arg}", took.as_secs_f64())
            }
            "settle" => {
                sys.settle();
                format!(
                    "disk={} hwm_kib={}",
                    disk_bytes(sys.dir()),
                    status_kib("VmHWM:")
                )
            }
            "write" => {
                let people: Vec<SynthPerson> = (0..arg).map(|_| writes.person()).collect();
                let mut total = Duration::ZERO;
                let mut n = 0;
                for p in &people {
                    let start = Instant::now();
                    let ok = sys.durable_write(p);
                    total += start.elapsed();
                    n += usize::from(ok);
                }
                format!("secs={} n={n}", total.as_secs_f64())
            }
            "lookup" => {
                let mut lat = Vec::with_capacity(arg as usize);
                for _ in 0..arg {
                    let key = data.samples[lookup_next % data.samples.len()].clone();
                    lookup_next += 1;
                    let start = Instant::now();
                    let hit = sys.lookup(&key);
                    let took = start.elapsed();
                    assert!(hit, "every sampled record is found");
                    lat.push(format!("{:.2}", took.as_secs_f64() * 1e6));
                }
                format!("lat_us={}", lat.join(","))
            }
            "lookup_batch" => {
                let keys: Vec<String> = (0..arg)
                    .map(|_| {
                        lookup_next += 1;
                        data.samples[(lookup_next - 1) % data.samples.len()].clone()
                    })
                    .collect();
                let start = Instant::now();
                let mut n = 0;
                for chunk in keys.chunks(LOOKUP_BATCH) {
                    let found = sys.lookup_batch(chunk);
                    assert_eq!(found, chunk.len(), "every sampled record is found");
                    n += found;
                }
                format!("secs={} n={n}", start.elapsed().as_secs_f64())
            }
            "read" => {
                let mut total = Duration::ZERO;
                let mut n = 0;
                for _ in 0..arg {
                    let start = Instant::now();
                    let ok = sys.audited_read(read_next);
                    total += start.elapsed();
                    read_next += 1;
                    n += usize::from(ok);
                }
                format!("secs={} n={n}", total.as_secs_f64())
            }
            "verify" => match sys.verify(arg) {
                Some((n, took)) => format!(
                    "secs={} n={n} bytes={}",
                    took.as_secs_f64(),
                    sys.log_bytes()
                ),
                None => "na=1".into(),
            },
            "export" => {
                reset_peak_rss();
                let base = status_kib("VmRSS:");
                let (n, took) = sys.export();
                format!(
                    "secs={} n={n} hwm_kib={} base_kib={base}",
                    took.as_secs_f64(),
                    status_kib("VmHWM:")
                )
            }
            "reopen" if sys.reopened_by_owner() => return Next::Reopen,
            "reopen" => match sys.reopen() {
                Some(took) => format!("secs={}", took.as_secs_f64()),
                None => "na=1".into(),
            },
            "quit" | "" => return Next::Quit,
            other => panic!("unknown command {other}"),
        };
        if let Some(name) = trace {
            eprintln!(
                "rss-trace {name} after {cmd} {arg}: imported={} VmRSS={} KiB VmHWM={} KiB RssAnon={} KiB RssFile={} KiB",
                data.produced,
                status_kib("VmRSS:"),
                status_kib("VmHWM:"),
                status_kib("RssAnon:"),
                status_kib("RssFile:")
            );
        }
        writeln!(out, "{reply}").expect("reply");
        out.flush().expect("flush");
    }
    Next::Quit
}

fn run_child(kind: &str, args: &Args) {
    let dir = args.dir.clone().expect("--dir");
    std::fs::create_dir_all(&dir).expect("child dir");
    let mut data = Dataset::new(args);
    let mut writes = write_people(args.seed);
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines().map(|l| l.expect("stdin"));
    let cache = args.cache_mib * 1024 * 1024;
    let trace = args.rss_trace.then_some(kind);
    if let Some(name) = trace {
        eprintln!(
            "rss-trace {name} at start: VmRSS={} KiB VmHWM={} KiB",
            status_kib("VmRSS:"),
            status_kib("VmHWM:")
        );
    }
    match kind {
        "sled" => {
            let mut s = PlainSled::new(&dir, cache);
            serve(&mut s, &mut data, &mut writes, &mut lines, trace);
        }
        "aes" => {
            let mut s = RawAes {
                dir: dir.clone(),
                cipher: Aes256Gcm::new_from_slice(&[0x42; 32]).expect("key"),
                nonce: 0,
                kept: Vec::new(),
                cases: 0,
            };
            serve(&mut s, &mut data, &mut writes, &mut lines, trace);
        }
        "sqlcipher" => {
            let mut s = SqlCipher::new(&dir);
            serve(&mut s, &mut data, &mut writes, &mut lines, trace);
        }
        "vault" => {
            let (mut sys, vault) = VaultSys::create(&dir, args.cache_mib, args.import_rows);
            let mut vault = Some(vault);
            loop {
                let v = vault.take().expect("an open vault");
                let next = {
                    let reg = v.unlock("reg", &pass("reg")).expect("unlock");
                    let ana = v.unlock("ana", &pass("ana")).expect("unlock");
                    let mut run = VaultRun {
                        sys: &mut sys,
                        vault: &v,
                        reg,
                        ana,
                    };
                    serve(&mut run, &mut data, &mut writes, &mut lines, trace)
                };
                drop(v);
                match next {
                    Next::Quit => break,
                    Next::Reopen => {
                        let start = Instant::now();
                        let v = Vault::open(&sys.dir, sys.options.clone()).expect("reopen");
                        let session = v.unlock("reg", &pass("reg")).expect("unlock");
                        black_box(&session);
                        drop(session);
                        let took = start.elapsed();
                        println!("secs={}", took.as_secs_f64());
                        vault = Some(v);
                    }
                }
            }
            if sys.duplicates > 0 {
                eprintln!(
                    "compare: vault: {} single writes hit an existing ID number",
                    sys.duplicates
                );
            }
        }
        "shaped" => {
            let mut s = ShapedSled::new(&dir, cache, args.seed);
            serve(&mut s, &mut data, &mut writes, &mut lines, trace);
        }
        other => panic!("unknown system {other}"),
    }
}

// ---- the parent side ---------------------------------------------------------------------

type Reply = BTreeMap<String, String>;

struct Child {
    name: &'static str,
    /// Position in `SYSTEMS` (and in the figures).
    i: usize,
    proc: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Child {
    fn spawn(i: usize, args: &Args, dir: &Path) -> Child {
        let name = SYSTEMS[i];
        let exe = std::env::current_exe().expect("current exe");
        let mut cmd = Command::new(exe);
        cmd.args(["--child", name, "--dir"])
            .arg(dir)
            .args(["--records", &args.records.to_string()])
            .args(["--seed", &args.seed.to_string()])
            .args(["--cache-mib", &args.cache_mib.to_string()])
            .args(["--lookups", &args.lookups.to_string()])
            .args(args.rss_trace.then_some("--rss-trace"))
            .args(["--import-rows", &args.import_rows.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut proc = cmd.spawn().expect("spawn child");
        let stdin = proc.stdin.take().expect("stdin");
        let stdout = BufReader::new(proc.stdout.take().expect("stdout"));
        Child {
            name,
            i,
            proc,
            stdin,
            stdout,
        }
    }

    fn call(&mut self, cmd: &str) -> Reply {
        writeln!(self.stdin, "{cmd}").expect("to child");
        self.stdin.flush().expect("to child");
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("from child");
        assert!(
            !line.is_empty(),
            "child {} exited during `{cmd}`",
            self.name
        );
        line.split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }
}

fn num(r: &Reply, k: &str) -> f64 {
    r.get(k).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
}

/// Per system: the figures of the table (NaN where a row does not apply).
#[derive(Default, Clone)]
struct Figures {
    import_secs: f64,
    import_n: f64,
    write_secs: f64,
    write_n: f64,
    lookups_us: Vec<f64>,
    batch_secs: f64,
    batch_n: f64,
    read_secs: f64,
    read_n: f64,
    export_rate: f64,
    export_hwm_kib: f64,
    verify_rate: f64,
    verify_entries: f64,
    verify_bytes: f64,
    disk: f64,
    hwm_kib: f64,
    reopen_secs: f64,
}

impl Figures {
    fn rate(n: f64, secs: f64) -> f64 {
        if n > 0.0 && secs > 0.0 {
            n / secs
        } else {
            f64::NAN
        }
    }
    fn import_rate(&self) -> f64 {
        Self::rate(self.import_n, self.import_secs)
    }
    fn write_rate(&self) -> f64 {
        Self::rate(self.write_n, self.write_secs)
    }
    /// Mean µs per ID number in the batched-lookup row.
    fn batch_us(&self) -> f64 {
        1e6 / Self::rate(self.batch_n, self.batch_secs)
    }
    fn read_rate(&self) -> f64 {
        Self::rate(self.read_n, self.read_secs)
    }
    fn pct(&self, p: usize) -> f64 {
        percentile(&self.lookups_us, p)
    }
}

/// The `p`-th percentile of `values` (NaN for none).
fn percentile(values: &[f64], p: usize) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[(v.len() * p / 100).min(v.len() - 1)]
}

const SYSTEMS: [&str; 5] = ["sled", "aes", "sqlcipher", "vault", "shaped"];

fn run_parent(args: &Args) {
    let tmp;
    let root = match &args.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir).expect("--keep dir");
            dir.clone()
        }
        None => {
            tmp = tempfile::tempdir().expect("tempdir");
            tmp.path().to_path_buf()
        }
    };
    let wall = Instant::now();
    eprintln!(
        "compare: {} records (seed {}), sled cache {} MiB, {} lookups, {} writes, {} reads, {} rounds",
        args.records, args.seed, args.cache_mib, args.lookups, args.writes, args.reads, args.rounds
    );
    let mut children: Vec<Child> = (0..SYSTEMS.len())
        .filter(|&i| args.systems[i])
        .map(|i| Child::spawn(i, args, &root.join(SYSTEMS[i])))
        .collect();
    let mut fig = vec![Figures::default(); SYSTEMS.len()];

    // Import, in interleaved chunks.
    let chunk = ((args.records / 20).max(BATCH) / BATCH) * BATCH;
    let mut done = 0;
    while done < args.records {
        let n = chunk.min(args.records - done);
        for c in children.iter_mut() {
            let f = &mut fig[c.i];
            let r = c.call(&format!("import {n}"));
            f.import_secs += num(&r, "secs");
            f.import_n += num(&r, "n");
        }
        done += n;
        eprintln!(
            "compare: imported {done}/{} ({:.0} s)",
            args.records,
            wall.elapsed().as_secs_f64()
        );
    }
    for c in children.iter_mut() {
        let f = &mut fig[c.i];
        let r = c.call("settle");
        f.disk = num(&r, "disk");
    }

    // Single operations, in rounds.
    for round in 0..args.rounds {
        let share = |total: usize| total / args.rounds + usize::from(round < total % args.rounds);
        for c in children.iter_mut() {
            let f = &mut fig[c.i];
            let r = c.call(&format!("write {}", share(args.writes)));
            if c.name != "aes" {
                f.write_secs += num(&r, "secs");
                f.write_n += num(&r, "n");
            }
        }
        for c in children.iter_mut() {
            let f = &mut fig[c.i];
            let r = c.call(&format!("lookup {}", share(args.lookups)));
            f.lookups_us.extend(
                r.get("lat_us")
                    .map(String::as_str)
                    .unwrap_or("")
                    .split(',')
                    .filter_map(|v| v.parse::<f64>().ok()),
            );
        }
        for c in children.iter_mut() {
            let f = &mut fig[c.i];
            let r = c.call(&format!("lookup_batch {}", share(args.lookups)));
            f.batch_secs += num(&r, "secs");
            f.batch_n += num(&r, "n");
        }
        for c in children.iter_mut() {
            let f = &mut fig[c.i];
            let r = c.call(&format!("read {}", share(args.reads)));
            if c.name != "aes" {
                f.read_secs += num(&r, "secs");
                f.read_n += num(&r, "n");
            }
        }
        eprintln!(
            "compare: round {}/{} of writes, lookups, reads ({:.0} s)",
            round + 1,
            args.rounds,
            wall.elapsed().as_secs_f64()
        );
    }

    // Audit verification: the vault's log, then a baseline chain of the same length (of
    // 6000 entries, about the vault's at 1M records, when the vault does not run).
    let vault_i = SYSTEMS.iter().position(|s| *s == "vault").expect("vault");
    let mut entries = 6000.0;
    if let Some(c) = children.iter_mut().find(|c| c.i == vault_i) {
        let r = c.call("verify 0");
        entries = num(&r, "n");
        fig[vault_i].verify_entries = entries;
        fig[vault_i].verify_bytes = num(&r, "bytes");
        fig[vault_i].verify_rate = entries / num(&r, "secs");
    }
    for c in children.iter_mut() {
        if c.i == vault_i {
            continue;
        }
        let r = c.call(&format!("verify {}", entries as u64));
        fig[c.i].verify_entries = num(&r, "n");
        fig[c.i].verify_rate = num(&r, "n") / num(&r, "secs");
    }
    for c in children.iter_mut() {
        let f = &mut fig[c.i];
        let r = c.call("settle");
        f.disk = num(&r, "disk");
        // (e) measured the vault's shape on a probe vault in its own process first
        if c.name != "shaped" {
            f.hwm_kib = num(&r, "hwm_kib");
        }
    }
    eprintln!("compare: exports ({:.0} s)", wall.elapsed().as_secs_f64());
    for c in children.iter_mut() {
        let f = &mut fig[c.i];
        let r = c.call("export");
        f.export_rate = num(&r, "n") / num(&r, "secs");
        if c.name != "shaped" {
            f.export_hwm_kib = num(&r, "hwm_kib");
        }
    }
    for c in children.iter_mut() {
        let f = &mut fig[c.i];
        let r = c.call("reopen");
        f.reopen_secs = num(&r, "secs");
    }
    for c in &mut children {
        let _ = writeln!(c.stdin, "quit");
        let _ = c.stdin.flush();
        let status = c.proc.wait().expect("child exit");
        assert!(status.success(), "child {} failed", c.name);
    }
    print_table(args, &fig, wall.elapsed());
}

// ---- the table ---------------------------------------------------------------------------

fn si(v: f64) -> String {
    if v.is_nan() {
        "—".into()
    } else if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if v >= 1e3 {
        format!("{:.2}k", v / 1e3)
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn mib(bytes: f64) -> String {
    if bytes.is_nan() || bytes == 0.0 {
        "—".into()
    } else {
        format!("{:.1} MiB", bytes / (1024.0 * 1024.0))
    }
}

fn ratio(v: f64, base: f64) -> String {
    if v.is_nan() || base.is_nan() || base == 0.0 || v == 0.0 {
        String::new()
    } else {
        format!(" ({:.2}×)", v / base)
    }
}

fn print_table(args: &Args, fig: &[Figures], wall: Duration) {
    let row = |name: &str, unit: &str, f: &dyn Fn(&Figures) -> f64, fmt: &dyn Fn(f64) -> String| {
        let base = f(&fig[0]);
        let cells: Vec<String> = fig
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let v = f(x);
                let shown = fmt(v);
                if i == 0 || shown == "—" {
                    shown
                } else {
                    format!("{shown}{}", ratio(v, base))
                }
            })
            .collect();
        println!("| {name} | {unit} | {} |", cells.join(" | "));
    };
    let nan_if_zero = |v: f64| if v == 0.0 { f64::NAN } else { v };
    println!();
    println!(
        "{} records, seed {}, sled cache {} MiB{}; {} writes, {} lookups, {} reads in {} interleaved rounds; run took {:.0} s",
        args.records,
        args.seed,
        args.cache_mib,
        if args.quick { ", --quick" } else { "" },
        args.writes,
        args.lookups,
        args.reads,
        args.rounds,
        wall.as_secs_f64()
    );
    println!();
    println!(
        "| row | unit | (a) plaintext sled | (b) raw AES-256-GCM | (c) SQLCipher | (d) petition-vault | (e) vault-shaped sled (floor) |"
    );
    println!("|---|---|---|---|---|---|---|");
    row(
        "bulk import (batches of 1000, fsync each)",
        "records/s",
        &|x| x.import_rate(),
        &si,
    );
    row(
        "durable single write (flush+fsync each)",
        "records/s",
        &|x| x.write_rate(),
        &si,
    );
    row("lookup by ID number, p50", "µs", &|x| x.pct(50), &si);
    row("lookup by ID number, p99", "µs", &|x| x.pct(99), &si);
    row(
        "lookup by ID number, 100 per call (d: one find_any, one audit entry), mean per ID",
        "µs",
        &|x| x.batch_us(),
        &si,
    );
    row(
        "audited read (a: durable sled write of entry+head)",
        "reads/s",
        &|x| x.read_rate(),
        &si,
    );
    row(
        "redacted export (a: full scan of both trees)",
        "records/s",
        &|x| nan_if_zero(x.export_rate),
        &si,
    );
    row(
        "audit verify (a: SHA-256 chain over a sled scan)",
        "entries/s",
        &|x| nan_if_zero(x.verify_rate),
        &si,
    );
    row(
        "disk after the run",
        "bytes",
        &|x| nan_if_zero(x.disk),
        &mib,
    );
    row(
        "peak RSS, all but export (VmHWM, per process)",
        "bytes",
        &|x| x.hwm_kib * 1024.0,
        &mib,
    );
    row(
        "peak RSS during export",
        "bytes",
        &|x| x.export_hwm_kib * 1024.0,
        &mib,
    );
    row(
        "reopen (d: open + unlock)",
        "ms",
        &|x| x.reopen_secs * 1e3,
        &si,
    );
    println!();
    let d = &fig[3];
    println!(
        "audit log verified: {} entries, {:.1} MiB ({:.0} B per entry; {:.0} MB/s)",
        d.verify_entries as u64,
        d.verify_bytes / (1024.0 * 1024.0),
        d.verify_bytes / d.verify_entries,
        d.verify_bytes * d.verify_rate / d.verify_entries / 1e6
    );
    goals(fig);
}

fn goals(fig: &[Figures]) {
    let (a, c, d) = (&fig[0], &fig[2], &fig[3]);
    let check = |name: &str, value: String, ok: bool| {
        println!(
            "| {name} | {value} | {} |",
            if ok { "met" } else { "**not met**" }
        );
    };
    println!();
    println!("| goal (issue 7) | this run | |");
    println!("|---|---|---|");
    let imp = d.import_rate() / a.import_rate();
    let imp_c = d.import_rate() / c.import_rate();
    check(
        "bulk import ≥ 0.75× (a) and ≥ 1.5× (c)",
        format!("{imp:.2}× (a), {imp_c:.2}× (c)"),
        imp >= 0.75 && imp_c >= 1.5,
    );
    let w = d.write_rate() / a.write_rate();
    let w_c = d.write_rate() / c.write_rate();
    check(
        "durable audited write ≥ 0.8× (a) and ≥ 1× (c)",
        format!("{w:.2}× (a), {w_c:.2}× (c)"),
        w >= 0.8 && w_c >= 1.0,
    );
    let r = d.read_rate() / a.read_rate();
    check(
        "audited read ≥ 0.8× a durable sled write",
        format!("{r:.2}×"),
        r >= 0.8,
    );
    let l = d.pct(50) / a.pct(50);
    let l_c = c.pct(50) / d.pct(50);
    check(
        "lookup p50 ≤ 1.5× (a) and ≥ 3× faster than (c) (goal at 1M)",
        format!("{l:.2}× (a); (c) is {l_c:.2}× (d)"),
        l <= 1.5 && l_c >= 3.0,
    );
    let e = d.export_rate / a.export_rate;
    check(
        "redacted export ≥ 0.5× a plaintext full scan",
        format!("{e:.2}×"),
        e >= 0.5,
    );
    check(
        "audit verify ≥ 1M entries/s",
        format!("{:.2}M/s", d.verify_rate / 1e6),
        d.verify_rate >= 1e6,
    );
    let s = d.disk / a.disk;
    check("disk ≤ 1.6× (a)", format!("{s:.2}×"), s <= 1.6);
    let m = d.hwm_kib.max(d.export_hwm_kib) / 1024.0;
    check(
        "resident memory ≤ 256 MiB (goal at 1M; peak incl. export)",
        format!("{m:.0} MiB"),
        m <= 256.0,
    );
    floor(fig);
}

/// How much of each row the vault's storage layout alone allows: (e) writes and reads what
/// the vault does, without crypto, policy, validation or scanning.
fn floor(fig: &[Figures]) {
    let (a, d, e) = (&fig[0], &fig[3], &fig[4]);
    println!();
    if a.disk == 0.0 || d.disk == 0.0 || e.disk == 0.0 {
        println!("(no floor table: it needs systems a, d and e)");
        return;
    }
    println!("| row | (e) floor vs (a) | (d) vault vs (e) floor | goal vs (a) |");
    println!("|---|---|---|---|");
    let line = |name: &str, f: &dyn Fn(&Figures) -> f64, higher_is_better: bool, goal: &str| {
        let (fa, fd, fe) = (f(a), f(d), f(e));
        let (ea, de) = if higher_is_better {
            (fe / fa, fd / fe)
        } else {
            (fa / fe, fe / fd)
        };
        println!("| {name} | {ea:.2}× | {de:.2}× | {goal} |");
    };
    line("bulk import", &|x| x.import_rate(), true, "≥ 0.75×");
    line("durable single write", &|x| x.write_rate(), true, "≥ 0.8×");
    line(
        "lookup by ID, p50 (speed)",
        &|x| x.pct(50),
        false,
        "≥ 0.67× (latency ≤ 1.5×)",
    );
    line("audited read", &|x| x.read_rate(), true, "≥ 0.8×");
    line("redacted export", &|x| x.export_rate, true, "≥ 0.5×");
    line(
        "disk (compactness)",
        &|x| x.disk,
        false,
        "≥ 0.63× (size ≤ 1.6×)",
    );
}

/// This process's CPU time (user + system), from /proc/self/stat.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|t| t.parse().ok())
        .collect();
    ticks.iter().sum::<f64>() / 100.0
}

/// `--export-only DIR`: the export row again, (a) then (d) alternately, on the systems an
/// earlier `--keep DIR` run left, with wall and CPU time. For work on the export at 1M,
/// where a full run takes twenty minutes.
fn run_export_only(dir: &Path, args: &Args) {
    let cache = args.cache_mib * 1024 * 1024;
    let mut sled = PlainSled::new(&dir.join("sled"), cache);
    let options = vault_options(args.cache_mib);
    let vault = Vault::open(&dir.join("vault").join("vault"), options).expect("open vault");
    let ana = vault.unlock("ana", &pass("ana")).expect("unlock");
    let (mut plain_rates, mut vault_rates) = (Vec::new(), Vec::new());
    for round in 0..args.rounds {
        let cpu = cpu_secs();
        let (n, took) = sled.export();
        let sled_cpu = cpu_secs() - cpu;
        reset_peak_rss();
        let base_kib = status_kib("VmRSS:");
        let cpu = cpu_secs();
        let (count, vault_took) = analyst_export(&ana);
        let vault_cpu = cpu_secs() - cpu;
        let peak_kib = status_kib("VmHWM:");
        let (a, d) = (
            n as f64 / took.as_secs_f64(),
            count as f64 / vault_took.as_secs_f64(),
        );
        println!(
            "round {round}: (a) {n} in {:.2} s ({:.1}k/s, cpu {sled_cpu:.2} s) | (d) {} in {:.2} s ({:.1}k/s, cpu {vault_cpu:.2} s, RSS {} → peak {} MiB) | {:.2}×",
            took.as_secs_f64(),
            a / 1e3,
            count,
            vault_took.as_secs_f64(),
            d / 1e3,
            base_kib / 1024,
            peak_kib / 1024,
            d / a
        );
        plain_rates.push(a);
        vault_rates.push(d);
    }
    // (a)'s scan varies between rounds of one process; medians are the fairer pair.
    let (a, d) = (percentile(&plain_rates, 50), percentile(&vault_rates, 50));
    println!(
        "median of {} rounds: (a) {:.1}k/s | (d) {:.1}k/s | {:.2}×",
        args.rounds,
        a / 1e3,
        d / 1e3,
        d / a
    );
}

fn main() {
    let args = parse_args();
    if let Some(dir) = args.export_only.clone() {
        return run_export_only(&dir, &args);
    }
    match args.child.clone() {
        Some(kind) => run_child(&kind, &args),
        None => run_parent(&args),
    }
}
