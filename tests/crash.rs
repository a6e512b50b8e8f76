//! Crash consistency: a worker process (`examples/crash_worker.rs`) writes and reads through
//! the gate and acknowledges each returned operation in a fsynced log; this harness kills it
//! with SIGKILL at a random moment, reopens the vault and checks that
//!
//! 1. every acknowledged write is present and readable;
//! 2. every acknowledged read has its committed, allowed audit entry by the worker's user
//!    (and the worker's audit entries are exactly its acks plus at most one operation that
//!    committed but was not yet acknowledged when the process died);
//! 3. the audit log verifies with the officer's key, and against a signed checkpoint the
//!    harness took after the previous cycle (so a rollback of earlier entries is caught);
//! 4. records and the log agree: the stored petitioners and cases are exactly those whose
//!    `petitioner_add` / `case_open` entries committed, every case's petitioners exist and
//!    list it (in order), every `case_list` entry named exactly the cases that existed,
//!    case numbers are unique and gap-free, and the audit index has every entry's keys;
//! 5. reopening never panics and never reports corruption.
//!
//! At the end the vault folder is searched for the synthetic values the worker wrote.
//!
//! `PVAULT_CRASH_CYCLES` (default 20) sets the number of kills, `PVAULT_CRASH_SEED` the seed
//! (printed on every run), `PVAULT_CRASH_WORKER` a prebuilt worker binary. A failing run
//! keeps its folder (vault, ack log, worker stderr) and prints where it is; set
//! `PVAULT_CRASH_KEEP=1` to keep it after a passing run too.

use petition_vault::audit::{self, AuditQuery, Checkpoint, Entry, Outcome, RecordedEntry};
use petition_vault::model::synth::Synth;
use petition_vault::store::{Store, Tree};
use petition_vault::{Action, AuditKey, Passphrase, RecordId, Role, Vault, VaultOptions};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The worker's user; the harness reads as `CHECKER` and queries the log as `AUDITOR`, so
/// every entry by `WORKER` is the worker's own.
const WORKER: &str = "reg";
const CHECKER: &str = "check";
const AUDITOR: &str = "aud";
/// Must match `examples/crash_worker.rs`.
const CASE_STREAM: u64 = 0xC45E_5EED_0000_0001;
/// Old acknowledged records re-read through the gate each cycle (all are read at the end).
const SAMPLE: usize = 3;

fn pass_text(user: &str) -> String {
    format!("crash harness passphrase of {user}")
}

fn pass(user: &str) -> Passphrase {
    Passphrase::new(pass_text(user))
}

/// splitmix64.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

// ---- locating the worker -----------------------------------------------------------------

/// The worker binary: `PVAULT_CRASH_WORKER`, else `<target>/<profile>/examples/crash_worker`
/// next to this test's `deps/` folder, (re)built with `cargo build --example crash_worker`
/// in the same profile and target folder (a no-op when it is up to date). `cargo test
/// --test crash` does not build examples by itself.
fn worker_path() -> PathBuf {
    if let Some(p) = std::env::var_os("PVAULT_CRASH_WORKER") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("test binary folder");
    let profile_dir = deps.parent().expect("profile folder");
    let target_dir = profile_dir.parent().expect("target folder");
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev".to_owned(),
        Some(other) => other.to_owned(),
        None => panic!("cannot tell the cargo profile from {}", exe.display()),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "--example", "crash_worker", "--profile"])
        .arg(&profile)
        .arg("--manifest-path")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir)
        .status()
        .expect("running cargo build --example crash_worker");
    assert!(
        status.success(),
        "cargo build --example crash_worker failed"
    );
    let worker = profile_dir
        .join("examples")
        .join(format!("crash_worker{}", std::env::consts::EXE_SUFFIX));
    assert!(worker.exists(), "no worker at {}", worker.display());
    worker
}

// ---- acks ----------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Ack {
    AddPetitioner(RecordId),
    OpenCase(RecordId, Vec<RecordId>),
    ShowPetitioner(RecordId),
    ShowCase(RecordId),
    List(usize),
}

fn parse_ack(line: &str) -> Result<Ack, String> {
    let id = |s: &str| RecordId::parse(s).map_err(|e| format!("ack {line:?}: {e}"));
    let parts: Vec<&str> = line.split_whitespace().collect();
    Ok(match parts.as_slice() {
        ["W", "petitioner", p] => Ack::AddPetitioner(id(p)?),
        ["W", "case", c, ps] => Ack::OpenCase(
            id(c)?,
            ps.split(',').map(id).collect::<Result<Vec<_>, _>>()?,
        ),
        ["R", "petitioner", p] => Ack::ShowPetitioner(id(p)?),
        ["R", "case", c] => Ack::ShowCase(id(c)?),
        ["L", n] => Ack::List(n.parse().map_err(|_| format!("ack {line:?}"))?),
        _ => return Err(format!("unknown ack line {line:?}")),
    })
}

/// Whether `e` is the committed entry of the acknowledged operation `ack`.
fn ack_matches(ack: &Ack, e: &Entry) -> bool {
    e.outcome == Outcome::Allowed
        && match ack {
            Ack::AddPetitioner(p) => e.action == Action::PetitionerAdd && e.targets == [*p],
            Ack::OpenCase(c, ps) => {
                e.action == Action::CaseOpen
                    && e.targets.first() == Some(c)
                    && e.targets[1..] == ps[..]
            }
            Ack::ShowPetitioner(p) => e.action == Action::PetitionerShow && e.targets == [*p],
            Ack::ShowCase(c) => e.action == Action::CaseShow && e.targets == [*c],
            Ack::List(n) => e.action == Action::CaseList && e.targets.len() == *n,
        }
}

/// Reads the complete ack lines after `offset`; a torn last line (the kill landed inside
/// the write) is cut off the file so the next worker starts on a clean line.
fn read_new_acks(path: &Path, offset: &mut u64, torn: &mut u64) -> Result<Vec<Ack>, String> {
    let mut bytes = Vec::new();
    match std::fs::File::open(path) {
        Ok(mut f) => {
            f.read_to_end(&mut bytes)
                .map_err(|e| format!("reading acks: {e}"))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(format!("opening acks: {e}")),
    }
    let start = *offset as usize;
    let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    if complete < bytes.len() {
        *torn += 1;
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(complete as u64))
            .map_err(|e| format!("trimming acks: {e}"))?;
    }
    if complete < start {
        return Err("the ack log shrank".into());
    }
    let text = std::str::from_utf8(&bytes[start..complete]).map_err(|e| e.to_string())?;
    *offset = complete as u64;
    text.lines().map(parse_ack).collect()
}

// ---- what the harness knows ----------------------------------------------------------------

#[derive(Default)]
struct Model {
    /// Next audit sequence number to scan.
    audit_pos: u64,
    /// Where this cycle's scan started.
    cycle_start: u64,
    /// How many of `cases` have had their links checked.
    checked_cases: usize,
    /// From committed `petitioner_add` entries.
    petitioners: Vec<RecordId>,
    petitioner_set: HashSet<RecordId>,
    /// From committed `case_open` entries, in order: case → petitioners.
    cases: Vec<RecordId>,
    case_set: HashSet<RecordId>,
    case_petitioners: HashMap<RecordId, Vec<RecordId>>,
    /// petitioner → the cases that name it, in commit order.
    petitioner_cases: HashMap<RecordId, Vec<RecordId>>,
    /// Acknowledged writes (all cycles).
    acked_petitioners: Vec<RecordId>,
    acked_cases: Vec<(RecordId, Vec<RecordId>)>,
    /// Per worker run: seed, acknowledged petitioner and case writes.
    runs: Vec<(u64, usize, usize)>,
    /// Checkpoints the harness signed after each cycle, kept "outside the vault".
    checkpoints: Vec<Checkpoint>,
    acks_offset: u64,
    torn_acks: u64,
    acked_reads: u64,
    acked_lists: u64,
    unacked_committed: u64,
    idle_runs: u64,
    early_kills: u64,
    entries_verified: u64,
}

struct Run<'a> {
    dir: &'a Path,
    acks: &'a Path,
    audit_key: &'a AuditKey,
    mix: Mix,
}

fn fail<T>(what: impl std::fmt::Display) -> Result<T, String> {
    Err(what.to_string())
}

impl Model {
    /// Scans the audit entries committed since the last cycle: updates the record model,
    /// checks every `case_list`, the audit index and the worker's entries against `acks`.
    /// `acks` is `None` when no worker ran since the last scan.
    fn scan_log(&mut self, store: &dyn Store, acks: Option<&[Ack]>) -> Result<(), String> {
        self.cycle_start = self.audit_pos;
        let new = audit::read_entries(store, self.audit_pos, usize::MAX)
            .map_err(|e| format!("reading the audit log: {e}"))?;
        let mut worker: Vec<&RecordedEntry> = Vec::new();
        for (i, r) in new.iter().enumerate() {
            let e = &r.entry;
            if e.seq != self.audit_pos + i as u64 {
                return fail(format!(
                    "audit entry {} found where {} was expected",
                    e.seq,
                    self.audit_pos + i as u64
                ));
            }
            for key in audit::index_keys(e) {
                if store
                    .get(Tree::AuditIndex, &key)
                    .map_err(|e| e.to_string())?
                    .is_none()
                {
                    return fail(format!("audit index lacks a key of entry {}", e.seq));
                }
            }
            if e.actor == WORKER {
                worker.push(r);
            }
            if e.outcome != Outcome::Allowed {
                return fail(format!(
                    "entry {}: unexpected denial of {} for {} ({:?})",
                    e.seq,
                    e.action.as_str(),
                    e.actor,
                    e.detail
                ));
            }
            match e.action {
                Action::PetitionerAdd | Action::CaseOpen if e.actor != WORKER => {
                    return fail(format!("entry {}: a write by {}", e.seq, e.actor));
                }
                Action::PetitionerAdd => {
                    let p = e.targets[0];
                    if !self.petitioner_set.insert(p) {
                        return fail(format!("entry {}: petitioner {p} added twice", e.seq));
                    }
                    self.petitioners.push(p);
                }
                Action::CaseOpen => {
                    let c = e.targets[0];
                    let ps = e.targets[1..].to_vec();
                    if !self.case_set.insert(c) {
                        return fail(format!("entry {}: case {c} opened twice", e.seq));
                    }
                    for p in &ps {
                        if !self.petitioner_set.contains(p) {
                            return fail(format!(
                                "entry {}: case {c} opened for petitioner {p} that was never added",
                                e.seq
                            ));
                        }
                        self.petitioner_cases.entry(*p).or_default().push(c);
                    }
                    self.cases.push(c);
                    self.case_petitioners.insert(c, ps);
                }
                Action::CaseList => {
                    let listed: HashSet<RecordId> = e.targets.iter().copied().collect();
                    if listed.len() != e.targets.len() || listed != self.case_set {
                        return fail(format!(
                            "entry {}: case_list by {} named {} cases while {} had been opened",
                            e.seq,
                            e.actor,
                            e.targets.len(),
                            self.case_set.len()
                        ));
                    }
                }
                _ => {}
            }
        }
        self.audit_pos += new.len() as u64;
        let Some(acks) = acks else {
            return match worker.first() {
                Some(r) => fail(format!(
                    "entry {}: by the worker, which was not running",
                    r.entry.seq
                )),
                None => Ok(()),
            };
        };

        // The worker's entries of this run: its unlock, then exactly its acknowledged
        // operations in order, then at most one that committed before the kill.
        let Some((unlock, ops)) = worker.split_first() else {
            if !acks.is_empty() {
                return fail(format!("{} acks but no entry by the worker", acks.len()));
            }
            self.idle_runs += 1;
            return Ok(());
        };
        if unlock.entry.action != Action::Unlock {
            return fail(format!(
                "entry {}: the worker's first entry is {}, not its unlock",
                unlock.entry.seq,
                unlock.entry.action.as_str()
            ));
        }
        if let Some(o) = ops.iter().find(|o| o.entry.session != unlock.entry.session) {
            return fail(format!(
                "entry {}: a second worker session in one run",
                o.entry.seq
            ));
        }
        if ops.len() < acks.len() {
            return fail(format!(
                "lost acknowledged operations: {} acks, {} committed entries by the worker \
                 (first missing ack: {:?})",
                acks.len(),
                ops.len(),
                acks[ops.len()]
            ));
        }
        if ops.len() > acks.len() + 1 {
            return fail(format!(
                "{} committed operations but only {} acks: more than the one in flight",
                ops.len(),
                acks.len()
            ));
        }
        for (ack, op) in acks.iter().zip(ops.iter()) {
            if !ack_matches(ack, &op.entry) {
                return fail(format!(
                    "ack {ack:?} does not match entry {} ({} {:?})",
                    op.entry.seq,
                    op.entry.action.as_str(),
                    op.entry.targets
                ));
            }
        }
        self.unacked_committed += (ops.len() - acks.len()) as u64;
        Ok(())
    }
}

/// The audit-index keys of an entry (as `src/audit/mod.rs` writes them).
fn keys_of(store: &dyn Store, tree: Tree) -> Result<HashSet<RecordId>, String> {
    store
        .scan_prefix(tree, b"")
        .map_err(|e| format!("scanning {}: {e}", tree.name()))?
        .into_iter()
        .map(|(k, _)| {
            k.as_slice()
                .try_into()
                .map(RecordId)
                .map_err(|_| format!("a {} key of {} bytes", tree.name(), k.len()))
        })
        .collect()
}

fn ids_field(view: &petition_vault::RecordView, name: &str) -> Result<Vec<RecordId>, String> {
    let f = view
        .get(name)
        .ok_or_else(|| format!("{} {}: no {name} field", view.table.as_str(), view.id))?;
    f.value
        .expose()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| RecordId::parse(s).map_err(|e| e.to_string()))
        .collect()
}

/// Reopens the vault after a kill and checks it (see the module comment). `all` re-reads
/// every record instead of this cycle's and a sample.
fn check(run: &mut Run<'_>, m: &mut Model, acks: Option<&[Ack]>) -> Result<(), String> {
    let all = acks.is_none();
    let vault = Vault::open(run.dir, VaultOptions::insecure_for_tests())
        .map_err(|e| format!("reopen: {e}"))?;
    let store = vault.store();
    m.scan_log(store.as_ref(), acks)?;
    let acks = acks.unwrap_or_default();

    // Stored records are exactly those whose entries committed.
    let stored_p = keys_of(store.as_ref(), Tree::Petitioners)?;
    let stored_c = keys_of(store.as_ref(), Tree::Cases)?;
    if stored_p != m.petitioner_set {
        return fail(format!(
            "{} petitioners stored, {} petitioner_add entries committed",
            stored_p.len(),
            m.petitioner_set.len()
        ));
    }
    if stored_c != m.case_set {
        return fail(format!(
            "{} cases stored, {} case_open entries committed",
            stored_c.len(),
            m.case_set.len()
        ));
    }

    // 1. Acknowledged writes are present (all of them) and readable (new ones + a sample).
    let mut fresh_p = Vec::new();
    let mut fresh_c = Vec::new();
    let mut reads: HashMap<(Action, RecordId), usize> = HashMap::new();
    for a in acks {
        match a {
            Ack::AddPetitioner(p) => {
                m.acked_petitioners.push(*p);
                fresh_p.push(*p);
            }
            Ack::OpenCase(c, ps) => {
                if m.case_petitioners.get(c) != Some(ps) {
                    return fail(format!(
                        "acked case {c}: committed petitioners {:?}, acked {ps:?}",
                        m.case_petitioners.get(c)
                    ));
                }
                m.acked_cases.push((*c, ps.clone()));
                fresh_c.push(*c);
            }
            Ack::ShowPetitioner(p) => {
                *reads.entry((Action::PetitionerShow, *p)).or_default() += 1;
                m.acked_reads += 1;
            }
            Ack::ShowCase(c) => {
                *reads.entry((Action::CaseShow, *c)).or_default() += 1;
                m.acked_reads += 1;
            }
            Ack::List(_) => m.acked_lists += 1,
        }
    }
    if let Some(p) = m.acked_petitioners.iter().find(|p| !stored_p.contains(p)) {
        return fail(format!("acknowledged petitioner {p} is missing"));
    }
    if let Some((c, _)) = m.acked_cases.iter().find(|(c, _)| !stored_c.contains(c)) {
        return fail(format!("acknowledged case {c} is missing"));
    }
    let (read_p, read_c): (Vec<RecordId>, Vec<RecordId>) = if all {
        (m.petitioners.clone(), m.cases.clone())
    } else {
        let mut p = fresh_p;
        let mut c = fresh_c;
        for _ in 0..SAMPLE {
            if !m.acked_petitioners.is_empty() {
                p.push(m.acked_petitioners[run.mix.below(m.acked_petitioners.len())]);
            }
            if !m.acked_cases.is_empty() {
                c.push(m.acked_cases[run.mix.below(m.acked_cases.len())].0);
            }
        }
        // 4. Links of the cases opened since the last cycle (acked or not).
        let since = m.checked_cases;
        c.extend_from_slice(&m.cases[since..]);
        for case in &m.cases[since..] {
            p.extend_from_slice(&m.case_petitioners[case]);
        }
        (p, c)
    };
    let checker = vault
        .unlock(CHECKER, &pass(CHECKER))
        .map_err(|e| format!("unlock {CHECKER}: {e}"))?;
    let mut seen = HashSet::new();
    for p in read_p {
        if !seen.insert(p) {
            continue;
        }
        let view = checker
            .show_petitioner(p, None)
            .map_err(|e| format!("show petitioner {p}: {e}"))?;
        for field in ["name", "id_number", "phones", "address"] {
            if view
                .get(field)
                .is_none_or(|f| f.masked || f.value.expose().is_empty())
            {
                return fail(format!("petitioner {p}: {field} not readable"));
            }
        }
        let listed = ids_field(&view, "case_ids")?;
        let expected = m.petitioner_cases.get(&p).cloned().unwrap_or_default();
        if listed != expected {
            return fail(format!(
                "petitioner {p} lists cases {listed:?}; committed case_open entries name it in {expected:?}"
            ));
        }
    }
    for c in read_c {
        if !seen.insert(c) {
            continue;
        }
        let view = checker
            .show_case(c)
            .map_err(|e| format!("show case {c}: {e}"))?;
        for field in ["title", "content"] {
            if view
                .get(field)
                .is_none_or(|f| f.masked || f.value.expose().is_empty())
            {
                return fail(format!("case {c}: {field} not readable"));
            }
        }
        let listed = ids_field(&view, "petitioner_ids")?;
        if Some(&listed) != m.case_petitioners.get(&c) {
            return fail(format!(
                "case {c} names petitioners {listed:?}; its case_open entry {:?}",
                m.case_petitioners.get(&c)
            ));
        }
        for p in &listed {
            if !stored_p.contains(p) {
                return fail(format!("case {c} names missing petitioner {p}"));
            }
        }
    }
    m.checked_cases = m.cases.len();

    // 4. list_cases works, names every case once, numbers them 1..=N.
    let list = checker
        .list_cases()
        .map_err(|e| format!("list_cases: {e}"))?;
    let listed: HashSet<RecordId> = list.iter().map(|c| c.id).collect();
    if listed != m.case_set || list.len() != m.case_set.len() {
        return fail(format!(
            "list_cases gave {} cases, {} committed",
            list.len(),
            m.case_set.len()
        ));
    }
    let mut numbers: Vec<u64> = list
        .iter()
        .map(|c| {
            c.meta
                .case_no
                .rsplit('-')
                .next()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("case {}: odd case number", c.id))
        })
        .collect::<Result<_, _>>()?;
    // Case numbers come from an atomic counter reserved before the case's transaction (the
    // PostgreSQL store needs that under concurrency), so a killed commit may leave a gap;
    // they must never repeat.
    numbers.sort_unstable();
    if numbers.windows(2).any(|w| w[0] == w[1]) || numbers.first().is_some_and(|n| *n == 0) {
        return fail(format!("case numbers repeat or start at 0: {numbers:?}"));
    }
    for c in &list {
        if Some(&c.meta.petitioner_ids) != m.case_petitioners.get(&c.id) {
            return fail(format!(
                "case {}: listed petitioners disagree with its case_open entry",
                c.id
            ));
        }
    }
    drop(checker);

    // 2. Each acknowledged read has its allowed entry by the worker, found by record.
    let auditor = vault
        .unlock(AUDITOR, &pass(AUDITOR))
        .map_err(|e| format!("unlock {AUDITOR}: {e}"))?;
    let cycle_start = m.cycle_start;
    for ((action, id), n) in &reads {
        let found = auditor
            .audit_query(&AuditQuery {
                record: Some(*id),
                ..Default::default()
            })
            .map_err(|e| format!("audit_query: {e}"))?
            .into_iter()
            .filter(|r| {
                r.entry.seq >= cycle_start
                    && r.entry.action == *action
                    && r.entry.actor == WORKER
                    && r.entry.outcome == Outcome::Allowed
                    && r.entry.targets == [*id]
            })
            .count();
        if found < *n {
            return fail(format!(
                "{n} acked {} of {id} but {found} audit entries",
                action.as_str()
            ));
        }
    }

    // 3. The log verifies: chain, head, MACs from k_0, stored checkpoints; then also
    // against the checkpoints signed after earlier cycles (catches a rollback).
    let report = vault
        .verify_audit(Some(run.audit_key), &[])
        .map_err(|e| format!("verify_audit: {e}"))?;
    if !report.macs_checked || report.entries < m.audit_pos {
        return fail(format!(
            "verify_audit checked {} entries (log at {}), macs {}",
            report.entries, m.audit_pos, report.macs_checked
        ));
    }
    vault
        .verify_audit(Some(run.audit_key), &m.checkpoints)
        .map_err(|e| format!("verify_audit against the harness's checkpoints: {e}"))?;
    m.entries_verified = report.entries;
    let cp = auditor
        .audit_checkpoint()
        .map_err(|e| format!("audit_checkpoint: {e}"))?;
    m.checkpoints.push(cp);
    drop(auditor);
    Ok(())
}

/// After the last cycle: every audit-index key belongs to an entry (each entry's own keys
/// were checked as it was scanned, so equal counts mean no stray keys).
fn check_index(dir: &Path) -> Result<(), String> {
    let vault =
        Vault::open(dir, VaultOptions::insecure_for_tests()).map_err(|e| format!("reopen: {e}"))?;
    let store = vault.store();
    let entries = audit::read_entries(store.as_ref(), 0, usize::MAX).map_err(|e| e.to_string())?;
    let mut expected = 0usize;
    for r in &entries {
        let distinct: HashSet<Vec<u8>> = audit::index_keys(&r.entry).into_iter().collect();
        expected += distinct.len();
    }
    let mut actual = 0usize;
    store
        .visit(Tree::AuditIndex, b"", &mut |_, _| {
            actual += 1;
            true
        })
        .map_err(|e| e.to_string())?;
    if actual != expected {
        return fail(format!(
            "the audit index holds {actual} keys; the {} entries need {expected}",
            entries.len()
        ));
    }
    Ok(())
}

/// The synthetic values each worker run may have written (its acknowledged writes plus the
/// one in flight), regenerated from the run seeds.
fn needles(runs: &[(u64, usize, usize)]) -> Vec<String> {
    let mut out = Vec::new();
    let person = |p: petition_vault::model::synth::SynthPerson, out: &mut Vec<String>| {
        out.extend([p.name, p.id_number, p.phone, p.address]);
        out.extend(p.email);
    };
    for &(seed, petitioners, cases) in runs {
        let mut people = Synth::new(seed);
        for _ in 0..=petitioners {
            person(people.person(), &mut out);
        }
        let mut stream = Synth::new(seed ^ CASE_STREAM);
        for _ in 0..=cases {
            let p = stream.person();
            let c = stream.case_for(&p);
            person(p, &mut out);
            out.extend([c.title, c.content, c.demands]);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Files under `dir` that contain any needle, with the needle's index (never its value).
fn plaintext_hits(dir: &Path, needles: &[String]) -> Vec<String> {
    const K: usize = 6; // every needle is at least 6 bytes (two CJK characters, 11 digits)
    let mut by_prefix: HashMap<&[u8], Vec<usize>> = HashMap::new();
    for (i, n) in needles.iter().enumerate() {
        assert!(n.len() >= K, "needle #{i} is shorter than {K} bytes");
        by_prefix.entry(&n.as_bytes()[..K]).or_default().push(i);
    }
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).expect("read vault file");
            for at in 0..bytes.len().saturating_sub(K - 1) {
                if let Some(cands) = by_prefix.get(&bytes[at..at + K]) {
                    for &i in cands {
                        if bytes[at..].starts_with(needles[i].as_bytes()) {
                            hits.push(format!("{} holds needle #{i}", path.display()));
                        }
                    }
                }
            }
        }
    }
    hits
}

fn setup(dir: &Path) -> AuditKey {
    let (vault, audit_key) = Vault::create(
        dir,
        "admin",
        &pass("admin"),
        VaultOptions::insecure_for_tests(),
    )
    .expect("create vault");
    let admin = vault.unlock("admin", &pass("admin")).expect("unlock admin");
    for (user, role, unit) in [
        (WORKER, Role::Registrar, None),
        (CHECKER, Role::Registrar, None),
        (AUDITOR, Role::Auditor, Some("纪委")),
    ] {
        admin
            .add_user(user, role, unit, &pass(user))
            .expect("add user");
    }
    audit_key
}

/// One cycle: start the worker, SIGKILL it after a random 20–300 ms, check the vault. In
/// three cycles out of four the delay runs from the worker's `ready` (vault open, session
/// unlocked), so it is spent on operations; in the others from the spawn, so the kill can
/// land in the worker's recovery, open or unlock.
fn cycle(run: &mut Run<'_>, m: &mut Model, worker: &Path, seed: u64) -> Result<(), String> {
    let stderr_path = run.dir.with_file_name("worker.stderr");
    let stderr = std::fs::File::create(&stderr_path).map_err(|e| e.to_string())?;
    let mut child = Command::new(worker)
        .arg(run.dir)
        .arg(run.acks)
        .arg(seed.to_string())
        .arg(WORKER)
        .env("PVAULT_CRASH_PASSPHRASE", pass_text(WORKER))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("spawning {}: {e}", worker.display()))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let delay = Duration::from_millis(20 + run.mix.below(281) as u64);
    let early = run.mix.below(4) == 0;
    if !early {
        // A thread reads the line so a wedged worker cannot hang the harness.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
            let _ = tx.send(line);
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if line.trim() == "ready" => {}
            other => {
                let _ = child.kill();
                let _ = child.wait();
                let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                return fail(format!(
                    "the worker never became ready ({other:?}): {}",
                    err.trim()
                ));
            }
        }
    } else {
        m.early_kills += 1;
    }
    std::thread::sleep(delay);
    if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
        let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        return fail(format!(
            "the worker exited by itself ({status}): {}",
            err.trim()
        ));
    }
    child.kill().map_err(|e| format!("kill: {e}"))?;
    child.wait().map_err(|e| format!("wait: {e}"))?;
    let acks = read_new_acks(run.acks, &mut m.acks_offset, &mut m.torn_acks)?;
    let writes = |f: fn(&Ack) -> bool| acks.iter().filter(|a| f(a)).count();
    m.runs.push((
        seed,
        writes(|a| matches!(a, Ack::AddPetitioner(_))),
        writes(|a| matches!(a, Ack::OpenCase(..))),
    ));
    check(run, m, Some(&acks))
}

fn guarded(f: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            Err(format!("panic: {msg}"))
        }
    }
}

#[test]
fn sigkill_loses_no_acknowledged_operation() {
    let cycles: usize = std::env::var("PVAULT_CRASH_CYCLES")
        .ok()
        .map(|v| v.parse().expect("PVAULT_CRASH_CYCLES is a number"))
        .unwrap_or(20);
    let seed: u64 = std::env::var("PVAULT_CRASH_SEED")
        .ok()
        .map(|v| v.parse().expect("PVAULT_CRASH_SEED is a u64"))
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    eprintln!("crash: seed {seed} (PVAULT_CRASH_SEED={seed} to reuse it), {cycles} cycles");
    let worker = worker_path();
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("vault");
    let acks = tmp.path().join("acks.log");
    let audit_key = setup(&dir);
    let mut run = Run {
        dir: &dir,
        acks: &acks,
        audit_key: &audit_key,
        mix: Mix(seed),
    };
    let mut m = Model::default();
    let mut result = Ok(());
    for i in 0..cycles {
        let worker_seed = Mix(seed ^ (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D)).next();
        result = guarded(|| cycle(&mut run, &mut m, &worker, worker_seed))
            .map_err(|e| format!("cycle {i} (worker seed {worker_seed}): {e}"));
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() {
        result = guarded(|| check(&mut run, &mut m, None))
            .and_then(|()| guarded(|| check_index(&dir)))
            .map_err(|e| format!("final check: {e}"));
    }
    if result.is_ok() {
        let hits = plaintext_hits(&dir, &needles(&m.runs));
        if !hits.is_empty() {
            result = Err(format!("plaintext in the vault folder: {hits:?}"));
        }
    }
    if let Err(e) = result {
        let kept = tmp.keep();
        panic!(
            "crash harness failed (seed {seed}): {e}\nvault, acks.log and worker.stderr kept in {}",
            kept.display()
        );
    }
    if std::env::var_os("PVAULT_CRASH_KEEP").is_some() {
        eprintln!("crash: kept {}", tmp.keep().display());
    }
    let writes = m.acked_petitioners.len() + m.acked_cases.len();
    println!(
        "crash: {cycles} cycles in {:.1}s (seed {seed}): acked {writes} writes ({} petitioners, \
         {} cases), {} reads, {} lists; {} committed-unacked, {} torn acks, {} kills timed from \
         spawn, {} before any entry; {} audit entries verified, {} checkpoints",
        started.elapsed().as_secs_f64(),
        m.acked_petitioners.len(),
        m.acked_cases.len(),
        m.acked_reads,
        m.acked_lists,
        m.unacked_committed,
        m.torn_acks,
        m.early_kills,
        m.idle_runs,
        m.entries_verified,
        m.checkpoints.len(),
    );
}
