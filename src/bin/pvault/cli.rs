//! Command-line definitions (clap derive). Flags are defined once here; help text comes
//! from these doc comments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// pvault — encrypted records vault for petition (信访) offices.
#[derive(Parser, Debug)]
#[command(name = "pvault", version, about, long_about = None)]
pub struct Cli {
    /// Vault folder.
    #[arg(long, global = true, env = "PVAULT_DIR", default_value = "./vault")]
    pub vault: PathBuf,
    /// Run on a PostgreSQL store instead of a vault folder:
    /// postgres://user:password@host/dbname[?sslmode=require]. Overrides --vault.
    #[arg(long, global = true, env = "PVAULT_STORE", hide_env_values = true)]
    pub store: Option<String>,
    /// User to unlock as.
    #[arg(long, global = true, env = "PVAULT_USER")]
    pub user: Option<String>,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    pub json: bool,
    /// Page cache of the vault's embedded database, in MiB (default 64; 512 for `audit
    /// verify`, which walks the whole log). The main knob of resident memory: see
    /// BENCHMARKS.md.
    #[arg(long, global = true, env = "PVAULT_CACHE_MIB",
          value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub cache_mib: Option<u64>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a new vault with one admin (key custodian).
    Init(InitArgs),
    /// Manage users (admin).
    #[command(subcommand)]
    User(UserCmd),
    /// Register and read petitioners.
    #[command(subcommand)]
    Petitioner(PetitionerCmd),
    /// Cases: open, read, list, assign, move through the workflow, deadlines, forwarding.
    #[command(subcommand)]
    Case(CaseCmd),
    /// Compliance: read and verify the access log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Import an existing register (CSV or JSON Lines; UTF-8 or GBK/GB18030).
    Import(ImportArgs),
    /// Export cases: redacted (masked + meta), pseudonymous (+ a keyed token per petitioner)
    /// or full (with --reason). Writes FILE and FILE.manifest.json.
    Export(ExportArgs),
    /// Case statistics from meta and masked data only, with small-cell suppression.
    Stats {
        /// Group by.
        #[arg(long, value_enum)]
        by: StatsByArg,
        /// Counts below this are shown as "<N".
        #[arg(long, default_value_t = 5)]
        min_cell: usize,
    },
    /// Scrub PII from any text (a letter to be forwarded). No vault needed.
    Redact {
        /// The text file; `-` or nothing reads standard input.
        file: Option<PathBuf>,
        /// Masking level.
        #[arg(long, value_enum, default_value = "standard")]
        level: LevelArg,
    },
    /// Honey records for the compliance officer.
    #[command(subcommand)]
    Canary(CanaryCmd),
    /// Build a demo vault with synthetic records and walk through roles, audit and export.
    Demo(DemoArgs),
    /// Change your own passphrase (new salt; Argon2 parameters can be raised). The new
    /// passphrase comes from PVAULT_NEW_PASSPHRASE or a prompt (twice).
    Passwd {
        /// Argon2id memory in KiB for the new slot (at least the current value).
        #[arg(long)]
        m_kib: Option<u32>,
        /// Argon2id passes for the new slot (at least the current value).
        #[arg(long)]
        t: Option<u32>,
    },
    /// Key lifecycle (admin): status, rotation, re-encryption, retirement.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// M-of-N recovery of the admin (custodian) keyring.
    #[command(subcommand)]
    Recovery(RecoveryCmd),
    /// Write a consistent ciphertext backup with an integrity manifest (admin).
    Backup {
        /// The backup file (must not exist; created 0600).
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a backup into --vault DIR (a new or empty folder). Needs no passphrase;
    /// refuses a corrupted or truncated file and then creates nothing.
    Restore {
        /// The backup file.
        file: PathBuf,
    },
    /// Whole-vault integrity check: envelopes, index, audit chain. Exits 7 when anything
    /// is wrong.
    Check,
    /// List retention candidates: closed cases older than DAYS and their petitioners
    /// (nothing is deleted).
    Retention {
        /// Age in days since the case was closed.
        #[arg(long)]
        older_than: i64,
    },
    /// Rewrite the database with only its live entries, so erased or re-encrypted data
    /// leaves the old log segments. The vault must be closed; needs no passphrase.
    Compact,
    /// PostgreSQL store administration.
    #[command(subcommand)]
    Db(DbCmd),
    /// Copy a sled vault folder into an empty PostgreSQL store, as ciphertext: no key is
    /// needed and nothing is decrypted. Then verifies the access log on the new store.
    Migrate {
        /// The vault folder to copy (no other process may have it open).
        #[arg(long)]
        from: PathBuf,
        /// The PostgreSQL store, as the application role: postgres://…
        #[arg(long)]
        to: String,
        /// The compliance officer's audit key, to check the MACs after the copy too.
        #[arg(long)]
        audit_key: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum DbCmd {
    /// Create or upgrade the tables on --store, connected as the owner role, and grant the
    /// application role what it may do (append-only on the access log).
    Setup {
        /// The role officers' pvault processes connect as.
        #[arg(long, default_value = "pvault_app")]
        app_role: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCmd {
    /// Per class: versions, fields and records per version, holders, re-encryption progress.
    Status,
    /// Add a new version of a class key; every holder gets it at their next unlock.
    Rotate {
        /// The class.
        #[arg(long, value_enum)]
        class: ClassArg,
    },
    /// Move every field to the newest key version, batch by batch (resumable).
    Reencrypt {
        /// Only this class (default: every data class).
        #[arg(long, value_enum)]
        class: Option<ClassArg>,
        /// Records per transaction.
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
    /// Remove a key version that no field uses any more.
    Retire {
        /// The class.
        #[arg(long, value_enum)]
        class: ClassArg,
        /// The version to retire.
        #[arg(long)]
        version: u32,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ClassArg {
    Identity,
    Contact,
    Content,
    Masked,
    Meta,
    Index,
}

#[derive(Subcommand, Debug)]
pub enum RecoveryCmd {
    /// Create a recovery key split into N shares (M rebuild it) and write the share files
    /// (0600) into DIR (admin).
    Split {
        /// Number of shares.
        #[arg(long)]
        shares: u8,
        /// Shares needed to recover.
        #[arg(long)]
        threshold: u8,
        /// Folder for the share files (created 0700 if missing).
        #[arg(long)]
        out_dir: PathBuf,
    },
    /// Rebuild the recovery key from M share files and set a new passphrase for an admin
    /// (from PVAULT_NEW_PASSPHRASE or a prompt). Needs no current passphrase.
    Unlock {
        /// A share file (repeat).
        #[arg(long = "share", required = true)]
        shares: Vec<PathBuf>,
        /// The admin whose passphrase is set.
        #[arg(long)]
        admin: String,
    },
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Name of the admin user.
    #[arg(long)]
    pub admin: String,
    /// Write the compliance officer's audit key here (created 0600; the vault does not keep it).
    #[arg(long)]
    pub audit_key_out: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum UserCmd {
    /// Add a user; the new passphrase comes from PVAULT_NEW_PASSPHRASE or a prompt (twice).
    Add {
        /// Login name (letters, digits, '.', '_', '-').
        name: String,
        /// Role.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The user's unit (单位), used by the accused-unit firewall.
        #[arg(long)]
        unit: Option<String>,
    },
    /// List users.
    List,
    /// Revoke a user: their keyring is deleted. Use --rotate (recommended) to give every
    /// class they held a new key version.
    Revoke {
        /// The user.
        name: String,
        /// Rotate every class the user held.
        #[arg(long)]
        rotate: bool,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum RoleArg {
    Admin,
    Registrar,
    Handler,
    Supervisor,
    Auditor,
    Analyst,
}

#[derive(Subcommand, Debug)]
pub enum PetitionerCmd {
    /// Register a petitioner; prints the new id.
    Add {
        /// Full name.
        #[arg(long)]
        name: String,
        /// Resident ID number (18 digits; 15-digit legacy numbers are upgraded).
        #[arg(long)]
        id_number: String,
        /// Phone number (repeat for several).
        #[arg(long)]
        phone: Vec<String>,
        /// Address.
        #[arg(long)]
        address: Option<String>,
        /// Email.
        #[arg(long)]
        email: Option<String>,
        /// Ethnicity (民族).
        #[arg(long)]
        ethnicity: Option<String>,
    },
    /// Find petitioners by ID number, phone, name, or ID last 4 (+ birth year), through
    /// the blind indexes.
    #[command(group(clap::ArgGroup::new("by").required(true).args(["id_number", "phone", "name", "id_last4"])))]
    Find {
        /// Resident ID number (18 or 15 digits; x/X and full-width digits accepted).
        #[arg(long)]
        id_number: Option<String>,
        /// Phone number (mobile in any common format, or landline with area code).
        #[arg(long)]
        phone: Option<String>,
        /// Exact name.
        #[arg(long)]
        name: Option<String>,
        /// Last 4 characters of the ID number.
        #[arg(long)]
        id_last4: Option<String>,
        /// Birth year, with --id-last4 (without it every year is searched).
        #[arg(long, requires = "id_last4")]
        birth_year: Option<i32>,
    },
    /// Show a petitioner as your role may see it.
    Show {
        /// Petitioner id.
        id: String,
        /// Also show identity fields (supervisor, registrar); needs --reason.
        #[arg(long, requires = "reason")]
        reveal: bool,
        /// Why you need to see the identity fields (recorded in the access log).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Erase a petitioner's personal data (supervisor, admin): fields, masked forms and
    /// index entries go; a tombstone and an audit entry stay.
    Erase {
        /// Petitioner id.
        id: String,
        /// Why (scrubbed, recorded in the tombstone and the access log).
        #[arg(long)]
        reason: String,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ChannelArg {
    Letter,
    Visit,
    Online,
    Phone,
}

#[derive(Subcommand, Debug)]
pub enum CaseCmd {
    /// Open a case; prints the new id.
    Open {
        /// Petitioner id (repeat for a group petition).
        #[arg(long = "petitioner", required = true)]
        petitioners: Vec<String>,
        /// Title.
        #[arg(long)]
        title: String,
        /// Category (e.g. 征地拆迁).
        #[arg(long)]
        category: String,
        /// Channel.
        #[arg(long, value_enum)]
        channel: ChannelArg,
        /// The complaint text.
        #[arg(
            long,
            conflicts_with = "content_file",
            required_unless_present = "content_file"
        )]
        content: Option<String>,
        /// Read the complaint text from a UTF-8 file.
        #[arg(long)]
        content_file: Option<PathBuf>,
        /// What the petitioner asks for.
        #[arg(long)]
        demands: Option<String>,
        /// The unit the case is about (被反映单位).
        #[arg(long)]
        accused_unit: Option<String>,
        /// The case accuses that unit or its staff (检举控告).
        #[arg(long)]
        accusation: bool,
    },
    /// Show a case as your role may see it.
    Show {
        /// Case id.
        id: String,
    },
    /// List the cases you may see.
    List {
        /// Only cases past a statutory deadline.
        #[arg(long)]
        overdue: bool,
        /// Only this status (e.g. handling, 受理).
        #[arg(long)]
        status: Option<String>,
        /// Only cases assigned to this handler.
        #[arg(long)]
        assigned_to: Option<String>,
        /// Only cases assessed at this risk level or higher (low, medium, high, critical).
        #[arg(long)]
        risk: Option<String>,
        /// Only cases with an early warning (group visit, repeat petitioner, overdue, high risk unassigned).
        #[arg(long)]
        warnings: bool,
    },
    /// Move a case to another status (registered → accepted / not_accepted → assigned /
    /// forwarded → handling → replied → closed → review_requested → …).
    Transition {
        /// Case id.
        id: String,
        /// The new status.
        #[arg(long)]
        to: String,
        /// A note kept (encrypted) with the case.
        #[arg(long)]
        note: Option<String>,
    },
    /// Extend the handling period once, by at most 30 days (Art. 34).
    Extend {
        /// Case id.
        id: String,
        /// Days (1-30).
        #[arg(long)]
        days: u32,
        /// Why (recorded with the case and in the access log).
        #[arg(long)]
        reason: String,
    },
    /// Deadlines and follow-ups due within DAYS (overdue first).
    Due {
        /// Window in days.
        #[arg(long, default_value_t = 7)]
        within: i64,
    },
    /// Forward a case to a unit (转送/交办) and write the forwarding package.
    Forward {
        /// Case id.
        id: String,
        /// Receiving unit.
        #[arg(long)]
        to_unit: String,
        /// Where to write the package (JSON).
        #[arg(long)]
        out: PathBuf,
        /// Include the petitioner's name and phone (never for an accusation); needs --reason.
        #[arg(long, requires = "reason")]
        with_identity: bool,
        /// Why identity is included.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Record a risk assessment (风险评估) on its four dimensions.
    Assess {
        /// Case id.
        id: String,
        /// ordinary, religion, ethnicity, territory, or sensitive:LABEL.
        #[arg(long)]
        nature: String,
        /// Number of people involved.
        #[arg(long)]
        headcount: u32,
        /// individual, loose_group, organised.
        #[arg(long)]
        organisation: String,
        /// local, regional, public_opinion.
        #[arg(long)]
        impact: String,
    },
    /// Cases related to a case: sharing a petitioner, or the same accused unit and category
    /// within a window (group-petition early warning).
    Related {
        /// Case id.
        id: String,
        /// Window in days for the same-unit relation.
        #[arg(long, default_value_t = 90)]
        window: i64,
    },
    /// Assign a case to a handler.
    Assign {
        /// Case id.
        id: String,
        /// Handler user name.
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCmd {
    /// Show access-log entries (auditor, admin), newest last.
    Log {
        /// Only entries by this user.
        #[arg(long)]
        actor: Option<String>,
        /// Only entries naming this record id (uses the record index: fast on large logs).
        #[arg(long)]
        record: Option<String>,
        /// Only this action (e.g. petitioner_reveal, case_show, unlock).
        #[arg(long)]
        action: Option<String>,
        /// From this time (2026-11-28, 2026-11-28T09:30 China time, or RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Until this time (exclusive).
        #[arg(long)]
        until: Option<String>,
        /// Only denied attempts.
        #[arg(long)]
        denied: bool,
        /// At most this many of the newest matching entries.
        #[arg(long, default_value_t = 100)]
        last: usize,
    },
    /// Verify the access log: hash chain, MACs (with the officer's key), checkpoints. Needs no
    /// passphrase; with --bundle, needs no vault either.
    Verify {
        /// The compliance officer's audit key file (from `init --audit-key-out`).
        #[arg(long)]
        audit_key: Option<PathBuf>,
        /// A checkpoint file kept outside the vault (repeatable).
        #[arg(long)]
        checkpoint: Vec<PathBuf>,
        /// Verify an exported bundle offline instead of the vault.
        #[arg(long)]
        bundle: Option<PathBuf>,
    },
    /// Sign a checkpoint of the log now and write it to FILE (keep it outside the vault).
    Checkpoint {
        /// Where to write the checkpoint (JSON).
        #[arg(long)]
        out: PathBuf,
    },
    /// Export the whole log as a bundle for offline verification.
    Export {
        /// Where to write the bundle.
        #[arg(long)]
        out: PathBuf,
    },
    /// Compliance report: bulk reads, off-hours access, unassigned reads, reveals, denials,
    /// canary touches.
    Report {
        /// From this time.
        #[arg(long)]
        since: Option<String>,
        /// Until this time (exclusive).
        #[arg(long)]
        until: Option<String>,
        /// Also write an HTML page with charts.
        #[arg(long)]
        html: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// What to include.
    #[arg(long, value_enum)]
    pub profile: ProfileArg,
    /// File format.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Output file (must not exist).
    #[arg(long)]
    pub out: PathBuf,
    /// Why (required for --profile full; recorded in the access log).
    #[arg(long)]
    pub reason: Option<String>,
    /// Only cases with this status.
    #[arg(long)]
    pub status: Option<String>,
    /// Only cases in this category.
    #[arg(long)]
    pub category: Option<String>,
    /// Received from this time.
    #[arg(long)]
    pub since: Option<String>,
    /// Received before this time.
    #[arg(long)]
    pub until: Option<String>,
    /// CSV: start with a UTF-8 byte-order mark (for spreadsheet software).
    #[arg(long)]
    pub bom: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ProfileArg {
    Redacted,
    Pseudonymous,
    Full,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ExportFormat {
    Jsonl,
    Csv,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum StatsByArg {
    Category,
    Month,
    Channel,
    Status,
    Region,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum LevelArg {
    Standard,
    Publication,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Input format.
    #[arg(long, value_enum)]
    pub format: ImportFormat,
    /// The file.
    pub file: PathBuf,
    /// Validate and report only; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Text encoding (default: detect UTF-8, else GB18030/GBK).
    #[arg(long, value_enum)]
    pub encoding: Option<ImportEncoding>,
    /// Rows per transaction.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ImportFormat {
    Csv,
    Jsonl,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ImportEncoding {
    #[value(name = "utf-8")]
    Utf8,
    Gbk,
    Gb18030,
}

#[derive(Subcommand, Debug)]
pub enum CanaryCmd {
    /// Plant a honey petitioner (and case): any touch is flagged in the audit report (admin).
    Add,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Where to build the demo vault (replaced if it is an earlier demo vault).
    #[arg(long, default_value = "./demo-vault")]
    pub dir: PathBuf,
    /// How many synthetic petitioners to register.
    #[arg(long, default_value_t = 24)]
    pub records: usize,
}
