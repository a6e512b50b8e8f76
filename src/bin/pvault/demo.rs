//! `pvault demo`: a demo vault with synthetic records, walked through role by role.
//! Uses the real Argon2 parameters (each unlock takes about a tenth of a second).

use crate::cli::DemoArgs;
use crate::output;
use anyhow::{Context, Result, bail};
use petition_vault::audit::AuditQuery;
use petition_vault::audit::report::ReportOptions;
use petition_vault::casework;
use petition_vault::export::{self, Filters, Profile, StatsBy};
use petition_vault::index::Query;
use petition_vault::model::synth::Synth;
use petition_vault::workflow::Status;
use petition_vault::workflow::deadline::Calendar;
use petition_vault::{
    Channel, NewCase, NewPetitioner, Passphrase, Reason, RecordId, Role, SecretText, Vault,
    VaultError,
};
use std::path::Path;

const MARKER: &str = "PVAULT_DEMO";
const DEMO_UNIT: &str = "江宁区住房和城乡建设局";

fn section(title: &str) {
    println!("\n━━ {title}");
}

fn prepare_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        if !dir.join(MARKER).exists() {
            bail!(
                "{} exists and is not a demo vault; pass --dir with a new folder",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("removing the old demo vault {}", dir.display()))?;
    }
    Ok(())
}

pub fn run(args: &DemoArgs, json: bool) -> Result<()> {
    let _ = json;
    prepare_dir(&args.dir)?;
    let options = crate::vault_options();
    let pass = |user: &str| Passphrase::new(format!("demo-only passphrase of {user}"));

    section("1. The admin (key custodian) creates the vault and the officers' accounts");
    let (vault, audit_key) = Vault::create(&args.dir, "admin", &pass("admin"), options)?;
    std::fs::write(
        args.dir.join(MARKER),
        "synthetic demo vault; safe to delete\n",
    )?;
    let key_file = args.dir.join("..").join(format!(
        "{}.audit-key",
        args.dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("demo-vault")
    ));
    let _ = std::fs::remove_file(&key_file);
    crate::write_private(&key_file, audit_key.to_text().as_bytes())?;
    println!(
        "vault {} created; compliance officer's audit key → {}",
        args.dir.display(),
        key_file.display()
    );
    let users: [(&str, Role, Option<&str>); 7] = [
        ("li.registrar", Role::Registrar, Some("区信访局")),
        ("wang.handler", Role::Handler, Some("区信访局")),
        ("zhao.handler", Role::Handler, Some(DEMO_UNIT)),
        ("chen.supervisor", Role::Supervisor, Some("区信访局")),
        ("sun.auditor", Role::Auditor, Some("区纪委监委")),
        ("zhou.analyst", Role::Analyst, Some("区信访局")),
        ("backup.admin", Role::Admin, None),
    ];
    {
        let admin = vault.unlock("admin", &pass("admin"))?;
        for (name, role, unit) in users {
            admin.add_user(name, role, unit, &pass(name))?;
        }
        println!("{}", crate::output::users_table(&admin.list_users()?));
        match admin.show_case(RecordId([0; 16])) {
            Err(VaultError::Denied(d)) => println!("admin tries to read a record → denied: {d}"),
            other => bail!("admin read should be denied, got {other:?}"),
        }
    }

    section(&format!(
        "2. Registrar li.registrar registers {} synthetic petitioners and their cases",
        args.records
    ));
    let registrar = vault.unlock("li.registrar", &pass("li.registrar"))?;
    let mut synth = Synth::new(2026);
    let mut petitioners = Vec::new();
    let mut cases = Vec::new();
    let mut accusation_case = None;
    let mut first_person = None;
    for i in 0..args.records {
        let person = synth.person();
        let pid = registrar.add_petitioner(&NewPetitioner {
            name: person.name.as_str().into(),
            id_number: person.id_number.as_str().into(),
            phones: vec![person.phone.as_str().into()],
            address: Some(person.address.as_str().into()),
            email: person.email.as_deref().map(SecretText::from),
            ethnicity: Some(person.ethnicity.as_str().into()),
        })?;
        let sc = synth.case_for(&person);
        // The first case accuses the demo unit, to show the firewall.
        let (accused, is_accusation) = if i == 0 {
            (Some(DEMO_UNIT.to_owned()), true)
        } else {
            (sc.accused_unit.clone(), sc.is_accusation)
        };
        let cid = registrar.open_case(&NewCase {
            petitioners: vec![pid],
            title: sc.title.as_str().into(),
            category: sc.category.clone(),
            channel: Channel::parse(sc.channel)?,
            content: sc.content.as_str().into(),
            demands: Some(sc.demands.as_str().into()),
            accused_unit: accused,
            is_accusation,
        })?;
        if i == 0 {
            accusation_case = Some(cid);
            first_person = Some(person.clone());
        }
        petitioners.push(pid);
        cases.push(cid);
    }
    let first_case = cases[0];
    let second_case = cases.get(1).copied().unwrap_or(first_case);
    registrar.assign_case(first_case, "wang.handler")?;
    if second_case != first_case {
        registrar.assign_case(second_case, "wang.handler")?;
    }
    println!(
        "registered {} petitioners and {} cases; cases {} and {} assigned to wang.handler",
        petitioners.len(),
        cases.len(),
        &first_case.to_string()[..8],
        &second_case.to_string()[..8]
    );
    println!(
        "\nregistrar sees the full record of petitioner {}:",
        &petitioners[0].to_string()[..8]
    );
    output::view(false, &registrar.show_petitioner(petitioners[0], None)?);
    let first = first_person.expect("at least one record");
    let again = NewPetitioner {
        name: first.name.as_str().into(),
        id_number: first.id_number.to_lowercase().as_str().into(),
        phones: vec![],
        address: None,
        email: None,
        ethnicity: None,
    };
    match registrar.add_petitioner(&again) {
        Err(e @ VaultError::Duplicate { .. }) => {
            println!("registering the same ID number again → {e}")
        }
        other => bail!("a duplicate registration was not detected: {other:?}"),
    }
    registrar.transition(first_case, Status::Accepted, Some("符合受理条件"))?;
    let due = registrar.due_cases(30, casework::today(), Calendar::builtin())?;
    println!(
        "accepted case {}; {} case(s) have a statutory deadline within 30 days (case due)",
        &first_case.to_string()[..8],
        due.len()
    );

    section("3. Handler wang.handler: contact and case content, identity only masked");
    let handler = vault.unlock("wang.handler", &pass("wang.handler"))?;
    let phone = format!(
        "+86 {} {} {}",
        &first.phone[..3],
        &first.phone[3..7],
        &first.phone[7..]
    );
    let found = handler.find(&Query::phone(&phone)?)?;
    println!(
        "wang.handler searches by phone (blind index, any format) → {} match(es):",
        found.len()
    );
    for v in &found {
        output::view(false, v);
    }
    if let Some(&other) = cases.get(2) {
        match handler.show_case(other) {
            Err(e) => println!("wang.handler opens an unassigned case → {e}"),
            Ok(_) => bail!("an unassigned case was readable by a handler"),
        }
    }

    section("4. The accused unit's own handler (zhao.handler) cannot see the case that accuses it");
    let accused = vault.unlock("zhao.handler", &pass("zhao.handler"))?;
    if let Some(cid) = accusation_case {
        match accused.show_case(cid) {
            Err(e) => println!(
                "zhao.handler ({DEMO_UNIT}) opens case {} → {e}",
                &cid.to_string()[..8]
            ),
            Ok(_) => bail!("the accused unit could read the accusation"),
        }
        match registrar.assign_case(cid, "zhao.handler") {
            Err(e) => println!("assigning it to zhao.handler → {e}"),
            Ok(()) => bail!("a case was assigned to its accused unit"),
        }
    }

    section("5. Supervisor chen.supervisor: identity only by an explicit reveal with a reason");
    let supervisor = vault.unlock("chen.supervisor", &pass("chen.supervisor"))?;
    let plain = supervisor.show_petitioner(petitioners[0], None)?;
    println!(
        "without reveal, id_number is {}",
        plain
            .get("id_number")
            .map(|f| f.value.expose())
            .unwrap_or("-")
    );
    let revealed = supervisor.show_petitioner(
        petitioners[0],
        Some(&Reason::new("核实重复信访身份 (demo)")?),
    )?;
    println!(
        "with --reveal --reason, id_number is {} (full value; the reveal and its reason are logged)",
        if revealed.get("id_number").is_some_and(|f| !f.masked) {
            "shown in full"
        } else {
            "still masked"
        }
    );

    section("6. Analyst zhou.analyst: masked renderings and meta only — a redacted export");
    let analyst = vault.unlock("zhou.analyst", &pass("zhou.analyst"))?;
    println!("analyst's keyring holds: {:?}", analyst.held_classes());
    let exp = analyst.export(Profile::Redacted, Filters::default(), None)?;
    let mut bytes = Vec::new();
    export::write_csv(&exp, &mut bytes, true)?;
    let exports = args.dir.join("exports");
    std::fs::create_dir_all(&exports)?;
    let file = exports.join("redacted-cases.csv");
    crate::write_private(&file, &bytes)?;
    let manifest = export::Manifest::of(&exp, "csv", &bytes);
    crate::write_private(
        &exports.join("redacted-cases.csv.manifest.json"),
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    println!(
        "{} cases exported to {} (sha256 {}…); the first rows:",
        exp.rows.len(),
        file.display(),
        &manifest.sha256[..16]
    );
    let text = String::from_utf8_lossy(&bytes[3..]).into_owned();
    for line in text.lines().take(3) {
        let short: String = line.chars().take(160).collect();
        println!(
            "  {short}{}",
            if line.chars().count() > 160 {
                "…"
            } else {
                ""
            }
        );
    }
    println!(
        "{}",
        output::stats_table(&analyst.stats(StatsBy::Category, 5, &Filters::default())?)
    );
    match analyst.show_petitioner(petitioners[0], Some(&Reason::new("curious")?)) {
        Err(e) => println!("analyst tries to reveal identity → {e}"),
        Ok(_) => bail!("analyst revealed identity"),
    }

    section("7. Auditor sun.auditor: the access trail, then verification");
    let auditor = vault.unlock("sun.auditor", &pass("sun.auditor"))?;
    let who = auditor.audit_query(&AuditQuery {
        record: Some(petitioners[0]),
        ..Default::default()
    })?;
    println!(
        "who looked at petitioner {}? (audit log --record)",
        &petitioners[0].to_string()[..8]
    );
    println!("{}", output::audit_table(&who));
    let report = auditor.audit_report(&ReportOptions::default())?;
    println!("compliance report findings (audit report):");
    for f in report.findings.iter().take(6) {
        println!("  [{}] {}: {}", f.severity.as_str(), f.user, f.message);
    }
    let checkpoint = auditor.audit_checkpoint()?;
    let cp_file = args.dir.with_extension("checkpoint.json");
    let _ = std::fs::remove_file(&cp_file);
    crate::write_private(&cp_file, checkpoint.to_json().as_bytes())?;
    let report = vault.verify_audit(Some(&audit_key), std::slice::from_ref(&checkpoint))?;
    println!(
        "audit verify: ok, {} entries, head {} (hash chain, forward-secure MACs and signed checkpoints checked)",
        report.entries,
        hex::encode(report.head)
    );
    println!(
        "\nTry it yourself:  PVAULT_DIR={} PVAULT_USER=sun.auditor PVAULT_PASSPHRASE='demo-only passphrase of sun.auditor' pvault audit log",
        args.dir.display()
    );
    Ok(())
}
