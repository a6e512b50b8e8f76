//! Worker process of the crash-consistency harness (`tests/crash.rs`).
//!
//! Opens an existing vault, unlocks it as a registrar and loops forever over a random mix
//! of audited operations: `add_petitioner`, `open_case`, `show_petitioner`, `show_case`
//! and `list_cases`. After each operation *returns*, it appends one line to an
//! acknowledgement log outside the vault and fsyncs it, so an ack is durable before the
//! next operation starts. The harness kills the process with SIGKILL at a random moment
//! and checks that everything acknowledged survived.
//!
//! Ack lines hold ids and counts only, never a value:
//!
//! ```text
//! W petitioner <id>
//! W case <id> <petitioner id>[,<petitioner id>]
//! R petitioner <id>
//! R case <id>
//! L <number of cases listed>
//! ```
//!
//! Synthetic data comes from two deterministic [`Synth`] streams seeded from `<seed>`:
//! stream `seed` gives the petitioners, in order; stream `seed ^ CASE_STREAM` gives one
//! (unused) person then one case per `open_case`. The harness regenerates both to search
//! the vault folder for plaintext.
//!
//! Prints `ready` on stdout once the vault is open, the session unlocked and the PII
//! scanner loaded.
//!
//! Usage: `crash_worker <vault dir> <ack log> <seed> [user]`; the passphrase is read from
//! `PVAULT_CRASH_PASSPHRASE`. Built with the `insecure-test-kdf` feature (the crate's
//! dev-dependency on itself turns it on for examples): the vault must have been created with
//! `VaultOptions::insecure_for_tests()`.

use petition_vault::model::synth::Synth;
use petition_vault::{
    Channel, NewCase, NewPetitioner, Passphrase, RecordId, SecretText, Vault, VaultOptions,
};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// XORed into the seed for the case stream (the harness uses the same constant).
const CASE_STREAM: u64 = 0xC45E_5EED_0000_0001;

/// splitmix64: a small deterministic generator for the operation mix.
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

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crash_worker: {e}");
            ExitCode::from(2)
        }
    }
}

/// Ids the worker may read: those already acknowledged (from the ack log) and those it
/// creates or lists in this run.
#[derive(Default)]
struct Known {
    petitioners: Vec<RecordId>,
    cases: Vec<RecordId>,
}

impl Known {
    fn add_petitioner(&mut self, id: RecordId) {
        if !self.petitioners.contains(&id) {
            self.petitioners.push(id);
        }
    }
    fn add_case(&mut self, id: RecordId) {
        if !self.cases.contains(&id) {
            self.cases.push(id);
        }
    }
}

fn load_known(acks: &std::path::Path) -> Result<Known, String> {
    let mut known = Known::default();
    let text = match std::fs::read_to_string(acks) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(known),
        Err(e) => return Err(format!("reading the ack log: {e}")),
    };
    // Only complete lines count (the harness trims a torn last line before a new run).
    for line in text.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
        let parts: Vec<&str> = line.split_whitespace().collect();
        match parts.as_slice() {
            ["W", "petitioner", id, ..] => {
                known.add_petitioner(RecordId::parse(id).map_err(|e| e.to_string())?)
            }
            ["W", "case", id, ..] => {
                known.add_case(RecordId::parse(id).map_err(|e| e.to_string())?)
            }
            _ => {}
        }
    }
    Ok(known)
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        return Err("usage: crash_worker <vault dir> <ack log> <seed> [user]".into());
    }
    let dir = PathBuf::from(&args[1]);
    let acks_path = PathBuf::from(&args[2]);
    let seed: u64 = args[3].parse().map_err(|_| "seed must be a u64")?;
    let user = args.get(4).map(String::as_str).unwrap_or("reg");
    let pass = Passphrase::new(
        std::env::var("PVAULT_CRASH_PASSPHRASE")
            .map_err(|_| "set PVAULT_CRASH_PASSPHRASE to the registrar's passphrase")?,
    );

    let mut known = load_known(&acks_path)?;
    let mut acks = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&acks_path)
        .map_err(|e| format!("opening the ack log: {e}"))?;

    let vault =
        Vault::open(&dir, VaultOptions::insecure_for_tests()).map_err(|e| format!("open: {e}"))?;
    let session = vault
        .unlock(user, &pass)
        .map_err(|e| format!("unlock: {e}"))?;

    // Load the PII scanner (jieba's dictionary: most of a second in a debug build) before
    // telling the harness we are ready, so its kill delay is spent on operations.
    petition_vault::redact::Scanner::global();
    println!("ready");
    std::io::stdout()
        .flush()
        .map_err(|e| format!("stdout: {e}"))?;

    let mut people = Synth::new(seed);
    let mut cases = Synth::new(seed ^ CASE_STREAM);
    let mut mix = Mix(seed);

    // One ack per returned operation: a single write(2) of the whole line, then fsync.
    let mut ack = |line: String| -> Result<(), String> {
        acks.write_all(line.as_bytes())
            .and_then(|()| acks.sync_data())
            .map_err(|e| format!("writing the ack log: {e}"))
    };

    loop {
        let roll = mix.below(100);
        match roll {
            // add_petitioner
            0..=29 => {
                let p = people.person();
                let new = NewPetitioner {
                    name: p.name.as_str().into(),
                    id_number: p.id_number.as_str().into(),
                    phones: vec![p.phone.as_str().into()],
                    address: Some(p.address.as_str().into()),
                    email: p.email.as_deref().map(SecretText::from),
                    ethnicity: Some(p.ethnicity.as_str().into()),
                };
                let id = session
                    .add_petitioner(&new)
                    .map_err(|e| format!("add_petitioner: {e}"))?;
                ack(format!("W petitioner {id}\n"))?;
                known.add_petitioner(id);
            }
            // open_case, for one petitioner or (one time in five) a group of two
            30..=49 if !known.petitioners.is_empty() => {
                let person = cases.person();
                let c = cases.case_for(&person);
                let mut pids = vec![known.petitioners[mix.below(known.petitioners.len())]];
                if known.petitioners.len() > 1 && mix.below(5) == 0 {
                    let other = known.petitioners[mix.below(known.petitioners.len())];
                    if other != pids[0] {
                        pids.push(other);
                    }
                }
                // One letter in eight is long (~140 KB): its record is larger than sled's
                // log takes inline, so it is written to a blob file, which the store must
                // fsync itself.
                let content = if mix.below(8) == 0 {
                    c.content
                        .repeat(45_000 / c.content.chars().count().max(1) + 1)
                } else {
                    c.content.clone()
                };
                let new = NewCase {
                    petitioners: pids.clone(),
                    title: c.title.as_str().into(),
                    category: c.category.clone(),
                    channel: Channel::parse(c.channel).map_err(|e| e.to_string())?,
                    content: content.as_str().into(),
                    demands: Some(c.demands.as_str().into()),
                    accused_unit: c.accused_unit.clone(),
                    is_accusation: c.is_accusation,
                };
                let id = session
                    .open_case(&new)
                    .map_err(|e| format!("open_case: {e}"))?;
                let list: Vec<String> = pids.iter().map(ToString::to_string).collect();
                ack(format!("W case {id} {}\n", list.join(",")))?;
                known.add_case(id);
            }
            // show_petitioner
            50..=69 if !known.petitioners.is_empty() => {
                let id = known.petitioners[mix.below(known.petitioners.len())];
                let view = session
                    .show_petitioner(id, None)
                    .map_err(|e| format!("show_petitioner: {e}"))?;
                if view.get("name").is_none() {
                    return Err("show_petitioner returned no name to a registrar".into());
                }
                ack(format!("R petitioner {id}\n"))?;
            }
            // show_case
            70..=84 if !known.cases.is_empty() => {
                let id = known.cases[mix.below(known.cases.len())];
                let view = session
                    .show_case(id)
                    .map_err(|e| format!("show_case: {e}"))?;
                if view.get("title").is_none() {
                    return Err("show_case returned no title to a registrar".into());
                }
                ack(format!("R case {id}\n"))?;
            }
            // list_cases
            85..=99 => {
                let list = session
                    .list_cases()
                    .map_err(|e| format!("list_cases: {e}"))?;
                ack(format!("L {}\n", list.len()))?;
                for c in &list {
                    known.add_case(c.id);
                    for p in &c.meta.petitioner_ids {
                        known.add_petitioner(*p);
                    }
                }
            }
            // A read or a case drawn before anything exists: try again.
            _ => {}
        }
    }
}
