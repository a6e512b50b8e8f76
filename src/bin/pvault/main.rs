//! `pvault` — the records officer's and compliance officer's command line. It parses,
//! calls the `petition_vault` library (the same gate every application uses), and prints.

#![forbid(unsafe_code)]

// See the `mimalloc` feature in Cargo.toml.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cli;
mod demo;
mod output;

use anyhow::{Context, Result, anyhow};
use clap::Parser;
use cli::{
    AuditCmd, CanaryCmd, CaseCmd, Cli, Command, KeysCmd, PetitionerCmd, RecoveryCmd, UserCmd,
};
use petition_vault::store::{PgStore, SledStore, Store, is_postgres_url, redact_url};
use petition_vault::{
    Action, AuditKey, Channel, Class, NewCase, NewPetitioner, Passphrase, Reason, RecordId, Role,
    SecretText, Vault, VaultError, VaultOptions,
};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

/// Exit codes (documented in README.md).
pub mod exit {
    /// Something else failed (I/O, bad file).
    pub const FAILURE: u8 = 1;
    /// Wrong user name or passphrase.
    pub const AUTH: u8 = 3;
    /// Denied by policy (and logged).
    pub const DENIED: u8 = 4;
    /// No such record or user.
    pub const NOT_FOUND: u8 = 5;
    /// The vault is in use by another process.
    pub const IN_USE: u8 = 6;
    /// Integrity failure: tampered ciphertext, corrupt vault, audit log does not verify.
    pub const INTEGRITY: u8 = 7;
    /// Invalid input.
    pub const INVALID: u8 = 8;
    /// `petitioner add`: a petitioner with this ID number is already registered (the
    /// existing id and case counts are printed).
    pub const DUPLICATE: u8 = 10;
    /// The access log could not be written, so nothing was done.
    pub const AUDIT_UNAVAILABLE: u8 = 9;
}

/// `pvault import FILE`. A regular file is read as a stream, up to four times: its
/// encoding (when `--encoding` does not say; twice when it is not UTF-8), its header, its
/// rows counted with the structure checked (so that a broken file is refused before
/// anything is written), then the import itself; the file is never held whole. A pipe or
/// other stream, which can be read only once, is read into memory first.
fn import_file(
    session: &petition_vault::Session<'_>,
    args: &cli::ImportArgs,
    json: bool,
) -> anyhow::Result<()> {
    let path = args.file.display().to_string();
    let reading = || format!("reading {path}");
    let is_file = std::fs::metadata(&args.file)
        .with_context(reading)?
        .is_file();
    if is_file {
        let open = || {
            std::fs::File::open(&args.file)
                .map(std::io::BufReader::new)
                .with_context(reading)
        };
        import_from(session, args, json, &path, &open)
    } else {
        // the whole stream, plaintext: zeroized when the import is done
        let bytes = zeroize::Zeroizing::new(std::fs::read(&args.file).with_context(reading)?);
        import_from(session, args, json, &path, &|| {
            Ok(std::io::Cursor::new(bytes.as_slice()))
        })
    }
}

fn import_from<R: std::io::Read + std::io::Seek>(
    session: &petition_vault::Session<'_>,
    args: &cli::ImportArgs,
    json: bool,
    path: &str,
    open: &dyn Fn() -> anyhow::Result<R>,
) -> anyhow::Result<()> {
    use petition_vault::import::{self, ImportError, RowReader};
    let format = match args.format {
        cli::ImportFormat::Csv => import::Format::Csv,
        cli::ImportFormat::Jsonl => import::Format::Jsonl,
    };
    let encoding = match args.encoding {
        Some(cli::ImportEncoding::Utf8) => import::Encoding::Utf8,
        Some(cli::ImportEncoding::Gbk | cli::ImportEncoding::Gb18030) => import::Encoding::Gb18030,
        None => import::detect_encoding_in(open()?).with_context(|| format!("reading {path}"))?,
    };
    let refused = |e: ImportError| -> anyhow::Error {
        match e {
            ImportError::Read(e) => anyhow::Error::new(e).context(format!("reading {path}")),
            e => UsageError(format!("{path}: {e}")).into(),
        }
    };
    let mut rows = RowReader::new(open()?, format, encoding).map_err(refused)?;
    let total = import::count_rows(open()?, format).map_err(refused)?;
    let bar = output::progress_bar(json);
    let report = session.import_rows(
        &mut rows,
        total,
        args.dry_run,
        args.batch,
        &mut |done, total| {
            if let Some(b) = &bar {
                b.set_length(total as u64);
                b.set_position(done as u64);
            }
        },
    );
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let report = report.map_err(|e| match e {
        // The file changed or failed after it was checked: the batches before the fault
        // are committed (unless a dry run), and a re-run skips them.
        VaultError::ImportFile(e) if args.dry_run => {
            refused(e).context("the dry run stopped part-way; nothing was imported")
        }
        VaultError::ImportFile(e) => refused(e).context(
            "the import stopped part-way: the batches before this point were imported; \
             fix the file and run the import again (rows already imported are skipped)",
        ),
        e => e.into(),
    })?;
    output::import_report(
        json,
        &report,
        rows.encoding().as_str(),
        rows.unknown_columns(),
    );
    if !report.rejected.is_empty() {
        return Err(UsageError(format!(
            "{} row(s) rejected (listed above); the other rows were {}",
            report.rejected.len(),
            if report.dry_run {
                "checked"
            } else {
                "imported"
            }
        ))
        .into());
    }
    Ok(())
}

fn exit_code_for(err: &anyhow::Error) -> u8 {
    if let Some(e) = err.downcast_ref::<VaultError>() {
        return match e {
            VaultError::BadCredentials => exit::AUTH,
            VaultError::Denied(_) => exit::DENIED,
            VaultError::NotFound(_) | VaultError::UnknownUser | VaultError::NotAVault(_) => {
                exit::NOT_FOUND
            }
            VaultError::InUse => exit::IN_USE,
            VaultError::Tampered { .. }
            | VaultError::Corrupt(_)
            | VaultError::AuditInvalid(_)
            | VaultError::Store(petition_vault::store::StoreError::Corrupt(_)) => exit::INTEGRITY,
            VaultError::Invalid(_)
            | VaultError::WeakPassphrase(_)
            | VaultError::BadUserName
            | VaultError::UserExists
            | VaultError::AlreadyExists(_)
            | VaultError::StoreNotEmpty
            | VaultError::ImportFile(_) => exit::INVALID,
            VaultError::AuditFailed(_) => exit::AUDIT_UNAVAILABLE,
            VaultError::Duplicate { .. } => exit::DUPLICATE,
            VaultError::Kdf(_) | VaultError::Workflow(_) | VaultError::KeyLifecycle(_) => {
                exit::INVALID
            }
            _ => exit::FAILURE,
        };
    }
    if err.downcast_ref::<petition_vault::VerifyError>().is_some() {
        return exit::INTEGRITY;
    }
    if err.downcast_ref::<IntegrityError>().is_some() {
        return exit::INTEGRITY;
    }
    if err.downcast_ref::<UsageError>().is_some() {
        return exit::INVALID;
    }
    exit::FAILURE
}

/// A file that fails an integrity check (exit code 7).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct IntegrityError(pub String);

fn parse_time(s: &str) -> Result<i64> {
    petition_vault::audit::parse_time(s).map_err(|e| UsageError(format!("bad time: {e}")).into())
}

/// Input the CLI itself rejects.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn main() -> ExitCode {
    // Before anything is unlocked: no core dumps of keys or plaintext, private files only.
    petition_vault::hardening::harden_process();
    petition_vault::hardening::private_umask();
    let cli = Cli::parse();
    if let Some(mib) = cache_mib_for(&cli.command, cli.cache_mib) {
        CACHE_BYTES.get_or_init(|| mib * 1024 * 1024);
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(exit_code_for(&err))
        }
    }
}

/// The page cache of `audit verify` when none is asked for, in MiB. Verification walks the
/// whole log once; when the log does not fit in the cache the walk is bound by the
/// database re-reading pages (BENCHMARKS.md, "Audit log": 0.78 M entries/s with 64 MiB,
/// 1.42 M/s with the log in the cache). It is a cap, not an allocation: a small log uses
/// what it needs, and the command exits when done.
const VERIFY_CACHE_MIB: u64 = 512;

/// The page cache a command runs with, in MiB: what `--cache-mib` / `PVAULT_CACHE_MIB`
/// asked for, else [`VERIFY_CACHE_MIB`] for `audit verify`, else the library's default
/// (None).
fn cache_mib_for(command: &Command, asked: Option<u64>) -> Option<u64> {
    match (asked, command) {
        (Some(mib), _) => Some(mib),
        (None, Command::Audit(AuditCmd::Verify { .. })) => Some(VERIFY_CACHE_MIB),
        (None, _) => None,
    }
}

/// The page cache `--cache-mib` / `PVAULT_CACHE_MIB` asked for, set once at start.
static CACHE_BYTES: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// Vault options: real Argon2 parameters, unless this is a test build and the test
/// environment asks for the test-only ones; the page cache the command line asked for.
pub fn vault_options() -> VaultOptions {
    let options = base_options();
    match CACHE_BYTES.get() {
        Some(&cache_bytes) => VaultOptions {
            cache_bytes,
            ..options
        },
        None => options,
    }
}

fn base_options() -> VaultOptions {
    #[cfg(feature = "insecure-test-kdf")]
    if std::env::var_os("PVAULT_INSECURE_TEST_KDF").is_some() {
        return VaultOptions::insecure_for_tests();
    }
    VaultOptions::default()
}

fn env_passphrase(var: &str) -> Option<Passphrase> {
    std::env::var(var).ok().map(Passphrase::new)
}

/// The passphrase of the user unlocking: PVAULT_PASSPHRASE, else a no-echo prompt.
fn read_passphrase(user: &str) -> Result<Passphrase> {
    if let Some(p) = env_passphrase("PVAULT_PASSPHRASE") {
        return Ok(p);
    }
    let p = rpassword::prompt_password(format!("Passphrase for {user}: ")).map_err(|_| {
        UsageError(
            "no passphrase: set PVAULT_PASSPHRASE or run in a terminal to be prompted".into(),
        )
    })?;
    Ok(Passphrase::new(p))
}

/// A new passphrase: PVAULT_NEW_PASSPHRASE, else prompted twice.
fn read_new_passphrase(for_whom: &str) -> Result<Passphrase> {
    if let Some(p) = env_passphrase("PVAULT_NEW_PASSPHRASE") {
        return Ok(p);
    }
    let first =
        rpassword::prompt_password(format!("New passphrase for {for_whom}: ")).map_err(|_| {
            UsageError(
                "no new passphrase: set PVAULT_NEW_PASSPHRASE or run in a terminal to be prompted"
                    .into(),
            )
        })?;
    let first = Passphrase::new(first);
    let second = Passphrase::new(
        rpassword::prompt_password("Repeat it: ")
            .map_err(|_| UsageError("could not read the passphrase".into()))?,
    );
    if !first.matches(&second) {
        return Err(UsageError("the two passphrases differ; nothing was changed".into()).into());
    }
    Ok(first)
}

/// Opens the vault the command line names: `--store URL` (PVAULT_STORE) when given, else
/// the `--vault` folder.
fn open_vault(cli_store: Option<&str>, dir: &Path) -> Result<Vault> {
    if let Some(url) = cli_store {
        let store = open_pg(url)?;
        return Ok(Vault::open_store(Arc::new(store), None, vault_options())?);
    }
    let vault = Vault::open(dir, vault_options())?;
    for warning in vault.loose_permissions_at_open() {
        eprintln!("warning: {warning} (fixed: set to owner-only)");
    }
    Ok(vault)
}

fn open_pg(url: &str) -> Result<PgStore> {
    if !is_postgres_url(url) {
        return Err(UsageError(
            "--store / PVAULT_STORE must be a postgres://user:password@host/dbname URL".into(),
        )
        .into());
    }
    Ok(PgStore::connect(url).map_err(VaultError::Store)?)
}

fn read_audit_key(path: Option<&Path>) -> Result<Option<AuditKey>> {
    let Some(path) = path else { return Ok(None) };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Some(AuditKey::from_text(&text).map_err(|e| {
        UsageError(format!("{}: {e}", path.display()))
    })?))
}

fn require_user(cli_user: &Option<String>) -> Result<String> {
    cli_user
        .clone()
        .ok_or_else(|| UsageError("no user: pass --user NAME or set PVAULT_USER".into()).into())
}

fn parse_id(s: &str) -> Result<RecordId> {
    Ok(RecordId::parse(s).map_err(VaultError::Invalid)?)
}

fn run(cli: Cli) -> Result<()> {
    let json = cli.json;
    match cli.command {
        Command::Init(args) => {
            let pass = match env_passphrase("PVAULT_NEW_PASSPHRASE") {
                Some(p) => p,
                None => match env_passphrase("PVAULT_PASSPHRASE") {
                    Some(p) => p,
                    None => read_new_passphrase(&args.admin)?,
                },
            };
            if let Some(out) = &args.audit_key_out
                && out.exists()
            {
                return Err(UsageError(format!(
                    "{} exists; choose a new file for the audit key",
                    out.display()
                ))
                .into());
            }
            let (k0, shown) = match &cli.store {
                Some(url) => {
                    let store = open_pg(url)?;
                    let (_vault, k0) =
                        Vault::create_on(Arc::new(store), &args.admin, &pass, vault_options())?;
                    (k0, std::path::PathBuf::from(redact_url(url)))
                }
                None => {
                    let (_vault, k0) =
                        Vault::create(&cli.vault, &args.admin, &pass, vault_options())?;
                    (k0, cli.vault.clone())
                }
            };
            if let Some(out) = &args.audit_key_out {
                write_private(out, k0.to_text().as_bytes())
                    .with_context(|| format!("writing {}", out.display()))?;
            }
            output::init_done(json, &shown, &args.admin, args.audit_key_out.as_deref());
            Ok(())
        }
        Command::Db(cli::DbCmd::Setup { app_role }) => {
            let url = cli.store.as_deref().ok_or_else(|| {
                UsageError(
                    "db setup needs --store postgres://OWNER@HOST/DB (or PVAULT_STORE)".into(),
                )
            })?;
            let applied = PgStore::migrate(url, &app_role).map_err(VaultError::Store)?;
            output::db_setup(json, &redact_url(url), &applied);
            Ok(())
        }
        Command::Migrate {
            from,
            to,
            audit_key,
        } => {
            let key = read_audit_key(audit_key.as_deref())?;
            if !from.join("db").exists() {
                return Err(VaultError::NotAVault(from.clone()).into());
            }
            let source: Arc<dyn Store> = Arc::new(
                SledStore::open(&from, vault_options().cache_bytes).map_err(VaultError::from)?,
            );
            // refuse to copy something that is not a vault (the header must parse)
            drop(Vault::open_store(
                source.clone(),
                Some(from.clone()),
                vault_options(),
            )?);
            let target = open_pg(&to)?;
            let started = std::time::Instant::now();
            let report = target
                .copy_from(source.as_ref(), &mut |_| {})
                .map_err(VaultError::Store)?;
            let copy_secs = started.elapsed().as_secs_f64();
            let vault = Vault::open_store(Arc::new(target), None, vault_options())?;
            let verified = vault.verify_audit(key.as_ref(), &[])?;
            output::migrated(json, &from, &redact_url(&to), &report, copy_secs, &verified);
            Ok(())
        }
        Command::Demo(args) => demo::run(&args, json),
        Command::Redact { file, level } => {
            let text = match file.as_deref() {
                None => read_stdin()?,
                Some(p) if p == Path::new("-") => read_stdin()?,
                Some(p) => {
                    let bytes =
                        std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
                    decode_text(bytes).map_err(|e| UsageError(format!("{}: {e}", p.display())))?
                }
            };
            let level = match level {
                cli::LevelArg::Standard => petition_vault::redact::Level::Standard,
                cli::LevelArg::Publication => petition_vault::redact::Level::Publication,
            };
            let out = petition_vault::redact::Scanner::global().redact(
                &text,
                level,
                &petition_vault::redact::KnownEntities::default(),
            );
            if json {
                println!("{}", serde_json::to_string(&out)?);
            } else {
                print!("{}", out.text);
                if !out.text.ends_with('\n') {
                    println!();
                }
            }
            Ok(())
        }
        Command::Audit(AuditCmd::Verify {
            audit_key,
            checkpoint,
            bundle,
        }) => {
            let key = match &audit_key {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    Some(
                        AuditKey::from_text(&text)
                            .map_err(|e| UsageError(format!("{}: {e}", path.display())))?,
                    )
                }
                None => None,
            };
            let mut checkpoints = Vec::new();
            for path in &checkpoint {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                checkpoints.push(
                    petition_vault::audit::Checkpoint::from_json(&text)
                        .map_err(|e| UsageError(format!("{}: {e}", path.display())))?,
                );
            }
            let report = match &bundle {
                Some(path) => {
                    let mut f = std::fs::File::open(path)
                        .with_context(|| format!("opening {}", path.display()))?;
                    let b = petition_vault::audit::read_bundle(&mut f)
                        .map_err(|e| IntegrityError(format!("{}: {e}", path.display())))?;
                    petition_vault::audit::verify_bundle(&b, key.as_ref(), &checkpoints)?
                }
                None => open_vault(cli.store.as_deref(), &cli.vault)?
                    .verify_audit(key.as_ref(), &checkpoints)?,
            };
            output::verify_ok(json, &report);
            Ok(())
        }
        Command::Restore { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let manifest = petition_vault::backup::restore(&bytes, &cli.vault)
                .map_err(|e| lifecycle_error(e, &file))?;
            output::restored(json, &manifest, &cli.vault);
            Ok(())
        }
        Command::Compact => {
            if !cli.vault.join("db").exists() {
                return Err(VaultError::NotAVault(cli.vault.clone()).into());
            }
            let c = petition_vault::backup::compact(&cli.vault).map_err(|e| match e {
                petition_vault::backup::BackupError::Store(s) => {
                    anyhow::Error::from(VaultError::from(s))
                }
                other => anyhow!(other),
            })?;
            output::compacted(json, &c);
            Ok(())
        }
        Command::Recovery(RecoveryCmd::Unlock { shares, admin }) => {
            let vault = open_vault(cli.store.as_deref(), &cli.vault)?;
            let mut texts = Vec::new();
            for path in &shares {
                texts.push(zeroize::Zeroizing::new(
                    std::fs::read_to_string(path)
                        .with_context(|| format!("reading {}", path.display()))?,
                ));
            }
            let pass = read_new_passphrase(&admin)?;
            vault.recover_admin(&texts, &admin, &pass)?;
            output::recovered(json, &admin, shares.len());
            Ok(())
        }
        command => {
            let user = require_user(&cli.user)?;
            let vault = open_vault(cli.store.as_deref(), &cli.vault)?;
            let pass = read_passphrase(&user)?;
            let mut session = vault.unlock(&user, &pass)?;
            drop(pass);
            match command {
                Command::User(UserCmd::Add { name, role, unit }) => {
                    let role =
                        Role::parse(&format!("{role:?}")).map_err(|e| UsageError(e.to_string()))?;
                    let pass = read_new_passphrase(&name)?;
                    session.add_user(&name, role, unit.as_deref(), &pass)?;
                    output::user_added(json, &name, role);
                }
                Command::User(UserCmd::List) => output::users(json, &session.list_users()?),
                Command::Petitioner(PetitionerCmd::Add {
                    name,
                    id_number,
                    phone,
                    address,
                    email,
                    ethnicity,
                }) => {
                    let p = NewPetitioner {
                        name: name.into(),
                        id_number: id_number.into(),
                        phones: phone.into_iter().map(SecretText::from).collect(),
                        address: address.map(SecretText::from),
                        email: email.map(SecretText::from),
                        ethnicity: ethnicity.map(SecretText::from),
                    };
                    match session.add_petitioner(&p) {
                        Ok(id) => output::new_id(json, &id),
                        Err(
                            e @ VaultError::Duplicate {
                                existing,
                                open_cases,
                                closed_cases,
                            },
                        ) => {
                            output::duplicate(json, &existing, open_cases, closed_cases);
                            return Err(e.into());
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                Command::Petitioner(PetitionerCmd::Find {
                    id_number,
                    phone,
                    name,
                    id_last4,
                    birth_year,
                }) => {
                    use petition_vault::index::Query;
                    let mut views = Vec::new();
                    let queries: Vec<Query> = match (id_number, phone, name, id_last4) {
                        (Some(x), _, _, _) => {
                            vec![Query::id_number(&x).map_err(VaultError::Invalid)?]
                        }
                        (_, Some(x), _, _) => vec![Query::phone(&x).map_err(VaultError::Invalid)?],
                        (_, _, Some(x), _) => vec![Query::name(&x).map_err(VaultError::Invalid)?],
                        (_, _, _, Some(l4)) => match birth_year {
                            Some(y) => vec![Query::id_last4(&l4, y).map_err(VaultError::Invalid)?],
                            None => {
                                let this_year = time::OffsetDateTime::now_utc().year();
                                (1900..=this_year)
                                    .map(|y| Query::id_last4(&l4, y))
                                    .collect::<Result<_, _>>()
                                    .map_err(VaultError::Invalid)?
                            }
                        },
                        _ => {
                            return Err(UsageError(
                                "give --id-number, --phone, --name or --id-last4".into(),
                            )
                            .into());
                        }
                    };
                    if queries.len() == 1 {
                        views = session.find(&queries[0])?;
                    } else {
                        views.extend(session.find_any(&queries)?);
                    }
                    output::found(json, &views);
                }
                Command::Petitioner(PetitionerCmd::Show { id, reveal, reason }) => {
                    let id = parse_id(&id)?;
                    let reason = match (reveal, reason) {
                        (true, Some(r)) => Some(Reason::new(&r)?),
                        (true, None) => {
                            return Err(UsageError("--reveal needs --reason TEXT".into()).into());
                        }
                        (false, Some(_)) => {
                            return Err(UsageError("--reason goes with --reveal".into()).into());
                        }
                        (false, None) => None,
                    };
                    output::view(json, &session.show_petitioner(id, reason.as_ref())?);
                }
                Command::Case(CaseCmd::Open {
                    petitioners,
                    title,
                    category,
                    channel,
                    content,
                    content_file,
                    demands,
                    accused_unit,
                    accusation,
                }) => {
                    let content = match (content, content_file) {
                        (Some(c), None) => c,
                        (None, Some(path)) => {
                            let bytes = std::fs::read(&path)
                                .with_context(|| format!("reading {}", path.display()))?;
                            String::from_utf8(bytes).map_err(|_| {
                                UsageError(format!("{} is not UTF-8 text; convert it (e.g. iconv -f GB18030 -t UTF-8)", path.display()))
                            })?
                        }
                        _ => {
                            return Err(UsageError(
                                "give exactly one of --content or --content-file".into(),
                            )
                            .into());
                        }
                    };
                    let c = NewCase {
                        petitioners: petitioners
                            .iter()
                            .map(|p| parse_id(p))
                            .collect::<Result<_>>()?,
                        title: title.into(),
                        category,
                        channel: Channel::parse(&format!("{channel:?}").to_lowercase())
                            .map_err(VaultError::Invalid)?,
                        content: content.into(),
                        demands: demands.map(SecretText::from),
                        accused_unit,
                        is_accusation: accusation,
                    };
                    let id = session.open_case(&c)?;
                    let earlier =
                        session.earlier_cases(&c.petitioners, &c.category, 90, Some(id))?;
                    output::opened(json, &id, &earlier);
                }
                Command::Case(CaseCmd::Related { id, window }) => {
                    let related = session.related_cases(parse_id(&id)?, window)?;
                    output::related(json, &related);
                }
                Command::Import(args) => import_file(&session, &args, json)?,
                Command::Case(CaseCmd::Show { id }) => {
                    output::view(json, &session.show_case(parse_id(&id)?)?)
                }
                Command::Case(CaseCmd::List {
                    overdue,
                    status,
                    assigned_to,
                    risk,
                    warnings,
                }) => {
                    use petition_vault::casework::{self, CaseFilter};
                    use petition_vault::workflow::{Status, risk::RiskLevel};
                    let filter = CaseFilter {
                        overdue,
                        status: status
                            .as_deref()
                            .map(Status::parse)
                            .transpose()
                            .map_err(|e| UsageError(e.to_string()))?,
                        assigned_to,
                        risk: risk
                            .as_deref()
                            .map(RiskLevel::parse)
                            .transpose()
                            .map_err(|e| UsageError(e.to_string()))?,
                        warnings,
                    };
                    let cases =
                        session.list_cases_where(&filter, casework::today(), &calendar()?)?;
                    output::cases_with_warnings(json, &cases);
                }
                Command::Case(CaseCmd::Transition { id, to, note }) => {
                    let to = petition_vault::workflow::Status::parse(&to)
                        .map_err(|e| UsageError(e.to_string()))?;
                    let id = parse_id(&id)?;
                    session.transition(id, to, note.as_deref())?;
                    output::transitioned(json, &id, to);
                }
                Command::Case(CaseCmd::Extend { id, days, reason }) => {
                    let id = parse_id(&id)?;
                    let due = session.extend_case(id, days, &Reason::new(&reason)?)?;
                    output::extended(json, &id, days, due);
                }
                Command::Case(CaseCmd::Due { within }) => {
                    let items = session.due_cases(
                        within,
                        petition_vault::casework::today(),
                        &calendar()?,
                    )?;
                    output::due(json, &items);
                }
                Command::Case(CaseCmd::Forward {
                    id,
                    to_unit,
                    out,
                    with_identity,
                    reason,
                }) => {
                    if out.exists() {
                        return Err(UsageError(format!(
                            "{} exists; choose a new file",
                            out.display()
                        ))
                        .into());
                    }
                    let reason = match (with_identity, reason) {
                        (true, Some(r)) => Some(Reason::new(&r)?),
                        _ => None,
                    };
                    let package =
                        session.forward_case(parse_id(&id)?, &to_unit, reason.as_ref())?;
                    write_private(&out, serde_json::to_string_pretty(&package)?.as_bytes())
                        .with_context(|| format!("writing {}", out.display()))?;
                    output::forwarded(json, &package, &out);
                }
                Command::Case(CaseCmd::Assess {
                    id,
                    nature,
                    headcount,
                    organisation,
                    impact,
                }) => {
                    use petition_vault::workflow::risk::{
                        Assessment, Impact, Nature, Organisation,
                    };
                    let usage =
                        |e: petition_vault::workflow::WorkflowError| UsageError(e.to_string());
                    let a = Assessment {
                        nature: Nature::parse(&nature).map_err(usage)?,
                        headcount,
                        organisation: Organisation::parse(&organisation).map_err(usage)?,
                        impact: Impact::parse(&impact).map_err(usage)?,
                    };
                    let reasons: Vec<String> = a.reasons().iter().map(|r| r.to_string()).collect();
                    let level = session.assess_case(parse_id(&id)?, a)?;
                    output::assessed(json, level, &reasons);
                }
                Command::Case(CaseCmd::Assign { id, to }) => {
                    let id = parse_id(&id)?;
                    session.assign_case(id, &to)?;
                    output::assigned(json, &id, &to);
                }
                Command::Audit(AuditCmd::Log {
                    actor,
                    record,
                    action,
                    since,
                    until,
                    denied,
                    last,
                }) => {
                    let q = petition_vault::audit::AuditQuery {
                        actor,
                        record: record.as_deref().map(parse_id).transpose()?,
                        action: match action.as_deref() {
                            Some(a) => Some(Action::parse(a).ok_or_else(|| {
                                UsageError(format!(
                                    "unknown action; use one of: {}",
                                    Action::ALL.map(|a| a.as_str()).join(", ")
                                ))
                            })?),
                            None => None,
                        },
                        since_ms: since.as_deref().map(parse_time).transpose()?,
                        until_ms: until.as_deref().map(parse_time).transpose()?,
                        denied,
                        limit: last,
                    };
                    output::audit_entries(json, &session.audit_query(&q)?);
                }
                Command::Audit(AuditCmd::Checkpoint { out }) => {
                    if out.exists() {
                        return Err(UsageError(format!(
                            "{} exists; choose a new file",
                            out.display()
                        ))
                        .into());
                    }
                    let cp = session.audit_checkpoint()?;
                    write_private(&out, cp.to_json().as_bytes())
                        .with_context(|| format!("writing {}", out.display()))?;
                    output::checkpoint_written(json, &cp, &out);
                }
                Command::Audit(AuditCmd::Export { out }) => {
                    if out.exists() {
                        return Err(UsageError(format!(
                            "{} exists; choose a new file",
                            out.display()
                        ))
                        .into());
                    }
                    let bundle = session.audit_bundle()?;
                    let mut bytes = Vec::new();
                    petition_vault::audit::write_bundle(&bundle, &mut bytes)?;
                    write_private(&out, &bytes)
                        .with_context(|| format!("writing {}", out.display()))?;
                    output::bundle_written(json, bundle.entries.len(), &out);
                }
                Command::Audit(AuditCmd::Report { since, until, html }) => {
                    let opts = petition_vault::audit::report::ReportOptions {
                        since_ms: since.as_deref().map(parse_time).transpose()?,
                        until_ms: until.as_deref().map(parse_time).transpose()?,
                        ..Default::default()
                    };
                    if let Err(e) = vault.verify_audit(None, &[]) {
                        eprintln!(
                            "warning: the access log does not verify ({e}); the report below may be built on a tampered log. Run `pvault audit verify --audit-key FILE`."
                        );
                    }
                    let report = session.audit_report(&opts)?;
                    if let Some(path) = &html {
                        std::fs::write(path, petition_vault::audit::report::render_html(&report))
                            .with_context(|| format!("writing {}", path.display()))?;
                    }
                    if json {
                        println!("{}", serde_json::to_string_pretty(&report)?);
                    } else {
                        print!("{}", petition_vault::audit::report::render_text(&report));
                        if let Some(path) = &html {
                            println!("HTML report written to {}", path.display());
                        }
                    }
                }
                Command::Export(args) => {
                    use petition_vault::export::{self, Profile};
                    if args.out.exists() {
                        return Err(UsageError(format!(
                            "{} exists; choose a new file",
                            args.out.display()
                        ))
                        .into());
                    }
                    let profile = match args.profile {
                        cli::ProfileArg::Redacted => Profile::Redacted,
                        cli::ProfileArg::Pseudonymous => Profile::Pseudonymous,
                        cli::ProfileArg::Full => Profile::Full,
                    };
                    let filters = export::Filters {
                        status: args.status,
                        category: args.category,
                        since_ms: args.since.as_deref().map(parse_time).transpose()?,
                        until_ms: args.until.as_deref().map(parse_time).transpose()?,
                    };
                    let reason = args.reason.as_deref().map(Reason::new).transpose()?;
                    let format = match args.format {
                        cli::ExportFormat::Jsonl => export::Format::Jsonl,
                        cli::ExportFormat::Csv => export::Format::Csv { bom: args.bom },
                    };
                    let bar = output::progress_bar(json);
                    let manifest = write_export(&args.out, |out| {
                        session.export_to_with_progress(
                            profile,
                            filters,
                            reason.as_ref(),
                            format,
                            out,
                            &mut |done, total| {
                                if let Some(b) = &bar {
                                    b.set_length(total as u64);
                                    b.set_position(done as u64);
                                }
                            },
                        )
                    })?;
                    if let Some(b) = bar {
                        b.finish_and_clear();
                    }
                    let manifest_path = manifest_path(&args.out);
                    write_private(
                        &manifest_path,
                        serde_json::to_string_pretty(&manifest)?.as_bytes(),
                    )
                    .with_context(|| format!("writing {}", manifest_path.display()))?;
                    output::exported(json, &manifest, &args.out, &manifest_path);
                }
                Command::Stats { by, min_cell } => {
                    use petition_vault::export::StatsBy;
                    let by = match by {
                        cli::StatsByArg::Category => StatsBy::Category,
                        cli::StatsByArg::Month => StatsBy::Month,
                        cli::StatsByArg::Channel => StatsBy::Channel,
                        cli::StatsByArg::Status => StatsBy::Status,
                        cli::StatsByArg::Region => StatsBy::Region,
                    };
                    let stats = session.stats(by, min_cell, &Default::default())?;
                    output::stats(json, &stats);
                }
                Command::Canary(CanaryCmd::Add) => {
                    let (petitioner, case) = session.add_canary()?;
                    output::canary_added(json, &petitioner, &case);
                }
                Command::Passwd { m_kib, t } => {
                    let current = session.kdf_params();
                    let kdf = petition_vault::KdfParams {
                        m_kib: m_kib.unwrap_or(current.m_kib),
                        t: t.unwrap_or(current.t),
                        p: current.p,
                    };
                    let new = read_new_passphrase(&user)?;
                    session.change_passphrase(&new, Some(kdf))?;
                    output::passwd_done(json, &user, &kdf);
                }
                Command::User(UserCmd::Revoke { name, rotate }) => {
                    let r = session.revoke_user(&name, rotate)?;
                    output::revoked(json, &r);
                }
                Command::Keys(KeysCmd::Status) => output::key_status(json, &session.key_status()?),
                Command::Keys(KeysCmd::Rotate { class }) => {
                    let r = session.rotate(class_of(class))?;
                    output::rotated(json, &r);
                }
                Command::Keys(KeysCmd::Reencrypt { class, batch }) => {
                    let classes: Vec<Class> = match class {
                        Some(c) => vec![class_of(c)],
                        None => vec![
                            Class::Identity,
                            Class::Contact,
                            Class::Content,
                            Class::Masked,
                            Class::Meta,
                        ],
                    };
                    let total = session.record_count()?;
                    let mut report = Vec::new();
                    for c in classes {
                        let started = std::time::Instant::now();
                        let bar = output::progress_bar(json);
                        if let Some(b) = &bar {
                            b.set_length(total);
                            b.set_message(c.as_str());
                        }
                        let (mut batches, mut moved, mut scanned) = (0u64, 0u64, 0u64);
                        while let Some(b) = session.reencrypt_batch(c, batch)? {
                            batches += 1;
                            moved += b.moved as u64;
                            scanned += b.scanned as u64;
                            if let Some(bar) = &bar {
                                bar.inc(b.scanned as u64);
                            }
                            test_batch_delay();
                        }
                        if let Some(b) = bar {
                            b.finish_and_clear();
                        }
                        report.push((c, batches, scanned, moved, started.elapsed()));
                    }
                    output::reencrypted(json, &report);
                }
                Command::Keys(KeysCmd::Retire { class, version }) => {
                    session.retire(class_of(class), version)?;
                    output::retired(json, class_of(class), version);
                }
                Command::Recovery(RecoveryCmd::Split {
                    shares,
                    threshold,
                    out_dir,
                }) => {
                    let files: Vec<std::path::PathBuf> = (1..=shares)
                        .map(|i| out_dir.join(format!("recovery-share-{i}.txt")))
                        .collect();
                    if let Some(f) = files.iter().find(|f| f.exists()) {
                        return Err(UsageError(format!(
                            "{} exists; choose an empty folder for the shares",
                            f.display()
                        ))
                        .into());
                    }
                    let dealt = session.recovery_split(shares, threshold)?;
                    create_private_dir(&out_dir)?;
                    for (share, path) in dealt.iter().zip(&files) {
                        write_private(path, share.text.as_bytes())
                            .with_context(|| format!("writing {}", path.display()))?;
                    }
                    output::recovery_split(json, threshold, &files);
                }
                Command::Backup { out } => {
                    if out.exists() {
                        return Err(UsageError(format!(
                            "{} exists; choose a new file",
                            out.display()
                        ))
                        .into());
                    }
                    let (manifest, bytes) = session.backup()?;
                    write_private(&out, &bytes)
                        .with_context(|| format!("writing {}", out.display()))?;
                    output::backed_up(json, &manifest, bytes.len(), &out);
                }
                Command::Check => {
                    let report = session.check()?;
                    output::check_report(json, &report);
                    if !report.ok() {
                        return Err(IntegrityError(format!(
                            "{} problem(s) found",
                            report.problems.len()
                        ))
                        .into());
                    }
                }
                Command::Retention { older_than } => {
                    output::retention(json, &session.retention_candidates(older_than)?);
                }
                Command::Petitioner(PetitionerCmd::Erase { id, reason }) => {
                    let r = session.erase_petitioner(parse_id(&id)?, &Reason::new(&reason)?)?;
                    output::erased(json, &r);
                }
                Command::Init(_)
                | Command::Demo(_)
                | Command::Db(_)
                | Command::Migrate { .. }
                | Command::Redact { .. }
                | Command::Restore { .. }
                | Command::Compact
                | Command::Recovery(RecoveryCmd::Unlock { .. })
                | Command::Audit(AuditCmd::Verify { .. }) => {
                    return Err(anyhow!("unreachable command dispatch"));
                }
            }
            Ok(())
        }
    }
}

/// The holiday calendar: PVAULT_CALENDAR (a file in the documented format) or the one
/// shipped for the current year.
fn calendar() -> Result<petition_vault::workflow::deadline::Calendar> {
    match std::env::var_os("PVAULT_CALENDAR") {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.to_string_lossy()))?;
            Ok(petition_vault::workflow::deadline::Calendar::parse(&text)
                .map_err(|e| UsageError(format!("{}: {e}", path.to_string_lossy())))?)
        }
        None => Ok(petition_vault::workflow::deadline::Calendar::builtin().clone()),
    }
}

fn read_stdin() -> Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .context("reading standard input")?;
    Ok(decode_text(bytes).map_err(|e| UsageError(format!("standard input: {e}")))?)
}

/// Text from UTF-8, or GBK/GB18030 when it is not UTF-8.
fn decode_text(bytes: Vec<u8>) -> Result<String, String> {
    match petition_vault::import::detect_encoding(&bytes) {
        petition_vault::import::Encoding::Utf8 => String::from_utf8(bytes)
            .map(|s| s.trim_start_matches('\u{feff}').to_owned())
            .map_err(|_| "not UTF-8 or GBK/GB18030 text".to_owned()),
        petition_vault::import::Encoding::Gb18030 => {
            Ok(encoding_rs::GB18030.decode(&bytes).0.into_owned())
        }
    }
}

fn manifest_path(out: &Path) -> std::path::PathBuf {
    let mut name = out
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".manifest.json");
    out.with_file_name(name)
}

/// Streams an export into a private (0600) temporary file beside `out` and moves it to
/// `out` only when the export succeeded: a refused or failed export (the audit entry could
/// not be committed, a write failed) leaves no file behind.
fn write_export(
    out: &Path,
    export: impl FnOnce(&mut dyn std::io::Write) -> Result<petition_vault::export::Manifest, VaultError>,
) -> anyhow::Result<petition_vault::export::Manifest> {
    let name = out
        .file_name()
        .ok_or_else(|| UsageError(format!("{} is not a file name", out.display())))?;
    let mut partial = name.to_os_string();
    partial.push(format!(".{}.partial", std::process::id()));
    let tmp = out.with_file_name(partial);
    let file = private_file(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
    let written = (|| -> anyhow::Result<petition_vault::export::Manifest> {
        let mut w = std::io::BufWriter::with_capacity(256 * 1024, file);
        let manifest = export(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        // A hard link does not replace an existing file (unlike a rename); where the file
        // system has no hard links, rename, having checked that `out` is still free.
        match std::fs::hard_link(&tmp, out) {
            Ok(()) => {}
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists && !out.exists() => {
                std::fs::rename(&tmp, out).with_context(|| format!("writing {}", out.display()))?;
            }
            Err(e) => return Err(e).with_context(|| format!("writing {}", out.display())),
        }
        Ok(manifest)
    })();
    let _ = std::fs::remove_file(&tmp);
    written
}

fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

/// Writes a file readable only by its owner; refuses to overwrite.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = private_file(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

// ---- key lifecycle helpers ---------------------------------------------------------------

fn class_of(c: cli::ClassArg) -> Class {
    match c {
        cli::ClassArg::Identity => Class::Identity,
        cli::ClassArg::Contact => Class::Contact,
        cli::ClassArg::Content => Class::Content,
        cli::ClassArg::Masked => Class::Masked,
        cli::ClassArg::Meta => Class::Meta,
        cli::ClassArg::Index => Class::Index,
    }
}

/// A refused backup or restore: corruption is an integrity failure (exit 7).
fn lifecycle_error(e: petition_vault::backup::BackupError, file: &Path) -> anyhow::Error {
    use petition_vault::backup::BackupError;
    match e {
        BackupError::Corrupt(_) | BackupError::NotABackup => {
            IntegrityError(format!("{}: {e}", file.display())).into()
        }
        BackupError::TargetNotEmpty(_) => UsageError(e.to_string()).into(),
        other => anyhow!(other),
    }
}

fn create_private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Test builds only: PVAULT_TEST_BATCH_DELAY_MS slows re-encryption down so that a test can
/// kill the process between batches.
fn test_batch_delay() {
    #[cfg(feature = "insecure-test-kdf")]
    if let Some(ms) = std::env::var("PVAULT_TEST_BATCH_DELAY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache_of(args: &[&str]) -> Option<u64> {
        let cli = Cli::try_parse_from(args).expect("the arguments parse");
        cache_mib_for(&cli.command, cli.cache_mib)
    }

    /// `audit verify` gets a cache that holds a large log unless one is asked for; other
    /// commands keep the library's default; an explicit `--cache-mib` always wins.
    #[test]
    fn audit_verify_defaults_to_a_larger_cache() {
        // PVAULT_CACHE_MIB in this test's environment is an explicit ask, like the flag
        let from_env: Option<u64> = std::env::var("PVAULT_CACHE_MIB")
            .ok()
            .map(|v| v.parse().expect("PVAULT_CACHE_MIB is a number"));
        assert_eq!(
            cache_of(&["pvault", "audit", "verify"]),
            Some(from_env.unwrap_or(VERIFY_CACHE_MIB))
        );
        assert_eq!(
            cache_of(&["pvault", "--cache-mib", "32", "audit", "verify"]),
            Some(32)
        );
        assert_eq!(
            cache_of(&["pvault", "audit", "verify", "--cache-mib", "8"]),
            Some(8)
        );
        assert_eq!(cache_of(&["pvault", "demo"]), from_env);
        assert_eq!(cache_of(&["pvault", "--cache-mib", "16", "demo"]), Some(16));
    }
}
