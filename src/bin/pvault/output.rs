//! Printing: text tables for people, JSON for scripts. Values leave `SecretText` only here.

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use petition_vault::audit::RecordedEntry;
use petition_vault::{CaseSummary, RecordId, RecordView, Role, UserInfo, VerifyReport};
use serde_json::{Map, Value, json};
use std::path::Path;

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(header.to_vec());
    t
}

pub fn init_done(json: bool, dir: &Path, admin: &str, key_out: Option<&Path>) {
    if json {
        println!(
            "{}",
            json!({"vault": dir.display().to_string(), "admin": admin, "audit_key": key_out.map(|p| p.display().to_string())})
        );
    } else {
        println!("created vault {} with admin {admin}", dir.display());
        match key_out {
            Some(p) => println!(
                "audit key for the compliance officer written to {} — hand it over; the vault does not keep it",
                p.display()
            ),
            None => println!(
                "no --audit-key-out given: the audit key was discarded; `audit verify` can check the hash chain but not the MACs"
            ),
        }
    }
}

pub fn db_setup(json: bool, target: &str, applied: &[i32]) {
    if json {
        println!(
            "{}",
            json!({"store": target, "migrations_applied": applied})
        );
    } else if applied.is_empty() {
        println!("{target}: schema already up to date");
    } else {
        println!("{target}: applied schema migration(s) {applied:?}");
    }
}

pub fn migrated(
    json: bool,
    from: &Path,
    to: &str,
    report: &petition_vault::store::CopyReport,
    secs: f64,
    verified: &petition_vault::VerifyReport,
) {
    if json {
        let trees: serde_json::Map<String, serde_json::Value> = report
            .per_tree
            .iter()
            .map(|(t, n)| ((*t).to_owned(), json!(n)))
            .collect();
        println!(
            "{}",
            json!({
                "from": from.display().to_string(),
                "to": to,
                "entries": report.total(),
                "bytes": report.bytes,
                "trees": trees,
                "seconds": secs,
                "audit_entries_verified": verified.entries,
                "macs_checked": verified.macs_checked,
            })
        );
    } else {
        println!(
            "copied {} entries ({} bytes) from {} to {to} in {secs:.1} s, as ciphertext",
            report.total(),
            report.bytes,
            from.display()
        );
        for (t, n) in &report.per_tree {
            println!("  {t:<12} {n}");
        }
        println!(
            "access log on the new store verifies: {} entries{}",
            verified.entries,
            if verified.macs_checked {
                ", MACs checked"
            } else {
                " (hash chain only: pass --audit-key to check the MACs)"
            }
        );
    }
}

pub fn user_added(json: bool, name: &str, role: Role) {
    if json {
        println!("{}", json!({"user": name, "role": role.as_str()}));
    } else {
        println!("added user {name} ({role})");
    }
}

pub fn users(json: bool, users: &[UserInfo]) {
    if json {
        let list: Vec<Value> = users
            .iter()
            .map(|u| json!({"name": u.name, "role": u.role.as_str(), "unit": u.unit}))
            .collect();
        println!("{}", Value::Array(list));
    } else {
        println!("{}", users_table(users));
    }
}

pub fn users_table(users: &[UserInfo]) -> Table {
    let mut t = table(&["user", "role", "unit"]);
    for u in users {
        t.add_row(vec![
            u.name.clone(),
            u.role.to_string(),
            u.unit.clone().unwrap_or_default(),
        ]);
    }
    t
}

pub fn new_id(json: bool, id: &RecordId) {
    if json {
        println!("{}", json!({"id": id.to_string()}));
    } else {
        println!("{id}");
    }
}

pub fn assigned(json: bool, id: &RecordId, to: &str) {
    if json {
        println!("{}", json!({"id": id.to_string(), "assigned_to": to}));
    } else {
        println!("case {id} assigned to {to}");
    }
}

pub fn view_json(view: &RecordView) -> Value {
    let mut fields = Map::new();
    let mut masked = Vec::new();
    for f in &view.fields {
        fields.insert(
            f.name.to_owned(),
            Value::String(f.value.expose().to_owned()),
        );
        if f.masked {
            masked.push(Value::String(f.name.to_owned()));
        }
    }
    json!({
        "id": view.id.to_string(),
        "table": view.table.as_str(),
        "fields": fields,
        "masked": masked,
        "withheld": view.withheld,
    })
}

pub fn view(json: bool, view: &RecordView) {
    if json {
        println!("{}", view_json(view));
        return;
    }
    let mut t = table(&["field", "value", ""]);
    for f in &view.fields {
        t.add_row(vec![
            f.name.to_owned(),
            f.value.expose().to_owned(),
            if f.masked {
                "masked".into()
            } else {
                String::new()
            },
        ]);
    }
    println!("{} {}", view.table.as_str(), view.id);
    println!("{t}");
    if !view.withheld.is_empty() {
        println!(
            "withheld (your role may not see): {}",
            view.withheld.join(", ")
        );
    }
}

pub fn entry_json(r: &RecordedEntry) -> Value {
    let e = &r.entry;
    json!({
        "seq": e.seq, "time": petition_vault::audit::format_time(e.time_ms), "actor": e.actor,
        "role": e.role.map(|r| r.as_str()), "action": e.action.as_str(),
        "targets": e.targets.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
        "requested": e.requested, "returned": e.returned, "reason": e.reason,
        "outcome": e.outcome.as_str(), "detail": e.detail, "flags": e.flags,
        "purpose": e.purpose, "case_ref": e.case_ref.map(|c| c.to_string()),
        "session": hex::encode(e.session), "hash": hex::encode(r.hash),
    })
}

pub fn audit_entries(json: bool, entries: &[RecordedEntry]) {
    if json {
        println!("{}", Value::Array(entries.iter().map(entry_json).collect()));
        return;
    }
    println!("{}", audit_table(entries));
}

pub fn audit_table(entries: &[RecordedEntry]) -> Table {
    let mut t = table(&[
        "seq",
        "time",
        "actor",
        "role",
        "action",
        "targets",
        "outcome",
        "detail / reason",
    ]);
    for r in entries {
        let e = &r.entry;
        let targets: Vec<String> = e
            .targets
            .iter()
            .map(|t| t.to_string()[..8].to_owned())
            .collect();
        let targets = if targets.len() > 3 {
            format!("{} … ({} ids)", targets[..3].join(","), targets.len())
        } else {
            targets.join(",")
        };
        t.add_row(vec![
            e.seq.to_string(),
            petition_vault::audit::format_time(e.time_ms),
            e.actor.clone(),
            e.role.map(|r| r.as_str().to_owned()).unwrap_or_default(),
            e.action.as_str().to_owned(),
            targets,
            e.outcome.as_str().to_owned(),
            [e.detail.clone(), e.reason.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" / "),
        ]);
    }
    t
}

pub fn verify_ok(json: bool, r: &VerifyReport) {
    if json {
        println!(
            "{}",
            json!({"ok": true, "entries": r.entries, "head": hex::encode(r.head),
                   "macs_checked": r.macs_checked, "checkpoints_checked": r.checkpoints_checked,
                   "key_pinned": r.key_pinned})
        );
    } else {
        println!("ok: {} entries, head {}", r.entries, hex::encode(r.head));
        println!(
            "checked: hash chain, {} checkpoint(s){}",
            r.checkpoints_checked,
            if r.macs_checked {
                ", forward-secure MACs, pinned checkpoint key"
            } else {
                ""
            }
        );
        if !r.macs_checked {
            println!(
                "(pass --audit-key FILE to check the MACs and pin the checkpoint key; without it a rewritten log with re-signed checkpoints is not caught)"
            );
        }
    }
}

pub fn checkpoint_written(json: bool, cp: &petition_vault::audit::Checkpoint, out: &Path) {
    if json {
        println!(
            "{}",
            json!({"file": out.display().to_string(), "size": cp.size, "head": hex::encode(cp.head)})
        );
    } else {
        println!(
            "checkpoint of {} entries (head {}) written to {}; keep it outside the vault",
            cp.size,
            hex::encode(cp.head),
            out.display()
        );
    }
}

pub fn bundle_written(json: bool, entries: usize, out: &Path) {
    if json {
        println!(
            "{}",
            json!({"file": out.display().to_string(), "entries": entries})
        );
    } else {
        println!(
            "{entries} entries exported to {}; verify offline with `pvault audit verify --bundle {} --audit-key KEY`",
            out.display(),
            out.display()
        );
    }
}

pub fn canary_added(json: bool, petitioner: &RecordId, case: &RecordId) {
    if json {
        println!(
            "{}",
            json!({"petitioner": petitioner.to_string(), "case": case.to_string()})
        );
    } else {
        println!(
            "canary petitioner {petitioner} and case {case} planted; any touch is flagged in `pvault audit report`"
        );
    }
}

pub fn duplicate(json: bool, existing: &RecordId, open: usize, closed: usize) {
    if json {
        println!(
            "{}",
            json!({"duplicate_of": existing.to_string(), "open_cases": open, "closed_cases": closed})
        );
    } else {
        println!(
            "already registered: petitioner {existing} ({open} open, {closed} closed case(s)) — repeat petition (重复信访); open the new case on that record"
        );
    }
}

pub fn found(json: bool, views: &[RecordView]) {
    if json {
        println!("{}", Value::Array(views.iter().map(view_json).collect()));
        return;
    }
    if views.is_empty() {
        println!("no petitioner found");
        return;
    }
    for v in views {
        view(false, v);
    }
    println!("{} petitioner(s) found", views.len());
}

fn case_rows(cases: &[&CaseSummary], extra: &[String]) -> Table {
    let mut t = table(&[
        "id",
        "case no",
        "category",
        "status",
        "received",
        "assigned to",
        "",
    ]);
    for (i, c) in cases.iter().enumerate() {
        t.add_row(vec![
            c.id.to_string(),
            c.meta.case_no.clone(),
            c.meta.category.clone(),
            c.meta.status.as_str().to_owned(),
            petition_vault::audit::format_time(c.meta.received_at)
                .chars()
                .take(10)
                .collect(),
            c.meta.assigned_to.clone().unwrap_or_default(),
            extra.get(i).cloned().unwrap_or_default(),
        ]);
    }
    t
}

fn summary_json(c: &CaseSummary) -> Value {
    json!({"id": c.id.to_string(), "case_no": c.meta.case_no, "category": c.meta.category,
           "channel": c.meta.channel.as_str(), "status": c.meta.status,
           "received_at": petition_vault::audit::format_time(c.meta.received_at),
           "assigned_to": c.meta.assigned_to, "petitioners": c.meta.petitioner_ids.len()})
}

pub fn opened(json: bool, id: &RecordId, earlier: &[CaseSummary]) {
    if json {
        println!(
            "{}",
            json!({"id": id.to_string(), "earlier_cases": earlier.iter().map(summary_json).collect::<Vec<_>>()})
        );
        return;
    }
    println!("{id}");
    if !earlier.is_empty() {
        eprintln!(
            "note: {} earlier case(s) of this petitioner in the same category within 90 days (重复信访):",
            earlier.len()
        );
        eprintln!("{}", case_rows(&earlier.iter().collect::<Vec<_>>(), &[]));
    }
}

pub fn related(json: bool, related: &[(CaseSummary, petition_vault::Relation)]) {
    if json {
        let list: Vec<Value> = related
            .iter()
            .map(|(c, r)| {
                let mut v = summary_json(c);
                v["relation"] = Value::String(r.as_str().into());
                v
            })
            .collect();
        println!("{}", Value::Array(list));
        return;
    }
    let cases: Vec<&CaseSummary> = related.iter().map(|(c, _)| c).collect();
    let reasons: Vec<String> = related.iter().map(|(_, r)| r.as_str().to_owned()).collect();
    println!("{}", case_rows(&cases, &reasons));
    println!("{} related case(s)", related.len());
}

pub fn progress_bar(json: bool) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if json || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(bar)
}

pub fn import_report(
    json: bool,
    r: &petition_vault::ImportReport,
    encoding: &str,
    unknown: &[String],
) {
    if json {
        println!(
            "{}",
            json!({"dry_run": r.dry_run, "encoding": encoding, "rows": r.rows,
                   "petitioners_created": r.petitioners_created, "petitioners_merged": r.petitioners_merged,
                   "cases_created": r.cases_created, "cases_skipped": r.cases_skipped, "batches": r.batches,
                   "unknown_columns": unknown,
                   "rejected": r.rejected.iter().map(|x| json!({"line": x.line, "reason": x.reason})).collect::<Vec<_>>()})
        );
        return;
    }
    println!(
        "{}{} rows ({encoding}): {} petitioner(s) registered, {} merged by ID number, {} case(s) opened, {} already imported, {} rejected",
        if r.dry_run {
            "dry run — nothing written. "
        } else {
            ""
        },
        r.rows,
        r.petitioners_created,
        r.petitioners_merged,
        r.cases_created,
        r.cases_skipped,
        r.rejected.len()
    );
    if !unknown.is_empty() {
        println!("ignored columns: {}", unknown.join(", "));
    }
    for x in &r.rejected {
        println!("line {}: {}", x.line, x.reason);
    }
}

pub fn exported(json: bool, m: &petition_vault::export::Manifest, out: &Path, manifest: &Path) {
    if json {
        println!(
            "{}",
            json!({"file": out.display().to_string(), "manifest": manifest.display().to_string(),
                             "export_id": m.export_id, "count": m.count, "sha256": m.sha256})
        );
    } else {
        println!(
            "{} {} case(s) exported to {} (export {}, sha256 {}); manifest {}",
            m.count,
            m.profile.as_str(),
            out.display(),
            m.export_id,
            m.sha256,
            manifest.display()
        );
    }
}

pub fn stats(json: bool, s: &petition_vault::export::Stats) {
    if json {
        println!("{}", serde_json::to_string(s).unwrap_or_default());
        return;
    }
    println!("{}", stats_table(s));
    println!(
        "counts below {} are shown as <{} (small-cell suppression)",
        s.min_cell, s.min_cell
    );
}

pub fn cases_with_warnings(
    json: bool,
    cases: &[(CaseSummary, Vec<petition_vault::workflow::Warning>)],
) {
    let cal = petition_vault::workflow::deadline::Calendar::builtin();
    if json {
        let list: Vec<Value> = cases
            .iter()
            .map(|(c, w)| {
                let mut v = summary_json(c);
                v["warnings"] = json!(w.iter().map(|x| x.code()).collect::<Vec<_>>());
                v["risk"] = json!(c.meta.risk.as_ref().map(|r| r.level().as_str()));
                v["due"] = json!(
                    petition_vault::casework::next_due(&c.meta, cal)
                        .map(|(k, d)| json!({"kind": k.as_str(), "date": d.to_string()}))
                );
                v
            })
            .collect();
        println!("{}", Value::Array(list));
        return;
    }
    let mut t = table(&[
        "id",
        "case no",
        "category",
        "status",
        "assigned to",
        "next deadline",
        "risk",
        "warnings",
    ]);
    for (c, w) in cases {
        t.add_row(vec![
            c.id.to_string(),
            c.meta.case_no.clone(),
            c.meta.category.clone(),
            c.meta.status.label_zh().to_owned(),
            c.meta.assigned_to.clone().unwrap_or_default(),
            petition_vault::casework::next_due(&c.meta, cal)
                .map(|(k, d)| format!("{} {}", d, k.label_zh()))
                .unwrap_or_default(),
            c.meta
                .risk
                .as_ref()
                .map(|r| r.level().label_zh().to_owned())
                .unwrap_or_default(),
            w.iter()
                .map(|x| x.label_zh())
                .collect::<Vec<_>>()
                .join("、"),
        ]);
    }
    println!("{t}");
    println!("{} case(s)", cases.len());
}

pub fn transitioned(json: bool, id: &RecordId, to: petition_vault::workflow::Status) {
    if json {
        println!("{}", json!({"id": id.to_string(), "status": to.as_str()}));
    } else {
        println!("case {id} is now {} ({})", to.as_str(), to.label_zh());
    }
}

pub fn extended(json: bool, id: &RecordId, days: u32, due: time::Date) {
    if json {
        println!(
            "{}",
            json!({"id": id.to_string(), "days": days, "due": due.to_string()})
        );
    } else {
        println!("case {id}: handling period extended by {days} day(s); now due {due}");
    }
}

pub fn due(json: bool, items: &[petition_vault::casework::DueItem]) {
    if json {
        let list: Vec<Value> = items
            .iter()
            .map(|d| {
                let mut v = summary_json(&d.case);
                v["kind"] = json!(d.kind.as_str());
                v["due"] = json!(d.due.to_string());
                v["days_left"] = json!(d.days_left);
                v
            })
            .collect();
        println!("{}", Value::Array(list));
        return;
    }
    let mut t = table(&["id", "case no", "status", "due", "what", "days left"]);
    for d in items {
        t.add_row(vec![
            d.case.id.to_string(),
            d.case.meta.case_no.clone(),
            d.case.meta.status.label_zh().to_owned(),
            d.due.to_string(),
            d.kind.label_zh().to_owned(),
            if d.days_left < 0 {
                format!("overdue {}", -d.days_left)
            } else {
                d.days_left.to_string()
            },
        ]);
    }
    println!("{t}");
}

pub fn forwarded(json: bool, p: &petition_vault::casework::ForwardPackage, out: &Path) {
    if json {
        println!(
            "{}",
            json!({"file": out.display().to_string(), "to_unit": p.to_unit, "identity_included": p.identity_included})
        );
    } else {
        println!(
            "case {} forwarded to {}; package written to {} ({})",
            p.case_no,
            p.to_unit,
            out.display(),
            if p.identity_included {
                "with the petitioner's name and phone"
            } else {
                "petitioner identity removed"
            }
        );
    }
}

pub fn assessed(json: bool, level: petition_vault::workflow::risk::RiskLevel, reasons: &[String]) {
    if json {
        println!("{}", json!({"level": level.as_str(), "reasons": reasons}));
    } else {
        println!(
            "risk: {} ({}) — {}",
            level.as_str(),
            level.label_zh(),
            reasons.join("; ")
        );
    }
}

pub fn stats_table(s: &petition_vault::export::Stats) -> Table {
    let mut t = table(&[s.by.as_str(), "cases"]);
    for c in &s.cells {
        t.add_row(vec![c.key.clone(), c.shown.clone()]);
    }
    t.add_row(vec!["total".to_owned(), s.total.clone()]);
    t
}

// ---- key lifecycle -------------------------------------------------------------------------

pub fn passwd_done(json: bool, user: &str, kdf: &petition_vault::KdfParams) {
    if json {
        println!(
            "{}",
            json!({"user": user, "m_kib": kdf.m_kib, "t": kdf.t, "p": kdf.p})
        );
    } else {
        println!(
            "passphrase of {user} changed (Argon2id m = {} KiB, t = {}); the old one no longer opens the vault",
            kdf.m_kib, kdf.t
        );
    }
}

fn rotation_json(r: &petition_vault::keys::Rotation) -> Value {
    json!({"class": r.class.as_str(), "version": r.version, "granted_to": r.granted_to})
}

pub fn rotated(json: bool, r: &petition_vault::keys::Rotation) {
    if json {
        println!("{}", rotation_json(r));
    } else {
        println!(
            "{} key version {} created; new writes use it. {} user(s) receive it at their next unlock: {}",
            r.class,
            r.version,
            r.granted_to.len(),
            r.granted_to.join(", ")
        );
        println!(
            "next: `pvault keys reencrypt --class {}`, then `pvault keys retire --class {} --version {}`",
            r.class,
            r.class,
            r.version - 1
        );
    }
}

pub fn revoked(json: bool, r: &petition_vault::keys::Revocation) {
    if json {
        println!(
            "{}",
            json!({
                "user": r.user,
                "rotated": r.rotated.iter().map(rotation_json).collect::<Vec<_>>(),
                "not_rotated": r.not_rotated.iter().map(|(c, why)| json!({"class": c.as_str(), "why": why})).collect::<Vec<_>>(),
            })
        );
        return;
    }
    println!("revoked {}: keyring deleted", r.user);
    for rot in &r.rotated {
        println!("  {} rotated to version {}", rot.class, rot.version);
    }
    for (c, why) in &r.not_rotated {
        println!("  {c} not rotated: {why}");
    }
    if r.rotated.is_empty() {
        println!(
            "recommended: rotate the classes {} held (`pvault user revoke NAME --rotate`, or `pvault keys rotate --class C`): a copy of their keyring still opens everything written before rotation",
            r.user
        );
    } else {
        println!("next: `pvault keys reencrypt`, then retire the old versions");
    }
}

pub fn key_status(json: bool, s: &petition_vault::keys::KeyStatus) {
    if json {
        println!("{}", serde_json::to_string_pretty(s).unwrap_or_default());
        return;
    }
    let mut t = table(&[
        "class",
        "current",
        "held",
        "fields per version",
        "records per version",
        "holders",
        "reencrypt",
    ]);
    let fmt = |m: &std::collections::BTreeMap<u32, u64>| {
        m.iter()
            .map(|(v, n)| format!("v{v}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for c in &s.classes {
        t.add_row(vec![
            c.class.clone(),
            c.current.map(|v| format!("v{v}")).unwrap_or_default(),
            c.held
                .iter()
                .map(|v| format!("v{v}"))
                .collect::<Vec<_>>()
                .join(","),
            fmt(&c.fields),
            fmt(&c.records),
            c.holders.to_string(),
            match &c.reencrypt {
                Some(p) if p.table >= 2 => format!("done to v{} ({} moved)", p.target, p.moved),
                Some(p) => format!("to v{}: {} batches, {} moved", p.target, p.batches, p.moved),
                None => String::new(),
            },
        ]);
    }
    println!("{t}");
    for (user, n) in &s.pending_grants {
        println!("{n} key grant(s) waiting for {user}'s next unlock");
    }
    println!(
        "recovery key: {}",
        if s.recovery_configured {
            "configured"
        } else {
            "none (`pvault recovery split`)"
        }
    );
}

pub fn reencrypted(
    json: bool,
    report: &[(petition_vault::Class, u64, u64, u64, std::time::Duration)],
) {
    if json {
        let list: Vec<Value> = report
            .iter()
            .map(|(c, b, s, m, d)| {
                json!({"class": c.as_str(), "batches": b, "records_scanned": s, "fields_moved": m, "seconds": d.as_secs_f64()})
            })
            .collect();
        println!("{}", Value::Array(list));
        return;
    }
    let mut t = table(&[
        "class",
        "batches",
        "records scanned",
        "fields moved",
        "fields/s",
    ]);
    for (c, b, s, m, d) in report {
        let rate = if d.as_secs_f64() > 0.0 {
            format!("{:.0}", *m as f64 / d.as_secs_f64())
        } else {
            "-".into()
        };
        t.add_row(vec![
            c.to_string(),
            b.to_string(),
            s.to_string(),
            m.to_string(),
            rate,
        ]);
    }
    println!("{t}");
    println!("every field of these classes is on the newest version; old versions can be retired");
}

pub fn retired(json: bool, class: petition_vault::Class, version: u32) {
    if json {
        println!("{}", json!({"class": class.as_str(), "retired": version}));
    } else {
        println!(
            "{class} version {version} retired: removed from your keyring now, from the others at their next unlock"
        );
    }
}

pub fn recovery_split(json: bool, threshold: u8, files: &[std::path::PathBuf]) {
    if json {
        println!(
            "{}",
            json!({"threshold": threshold, "shares": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>()})
        );
    } else {
        println!(
            "recovery key split into {} shares; any {threshold} of them set a new admin passphrase:",
            files.len()
        );
        for f in files {
            println!("  {}", f.display());
        }
        println!("give each share to a different custodian and delete it from this machine");
    }
}

pub fn recovered(json: bool, admin: &str, shares: usize) {
    if json {
        println!("{}", json!({"admin": admin, "shares_used": shares}));
    } else {
        println!("recovered: {admin} has a new passphrase ({shares} shares used)");
    }
}

pub fn backed_up(json: bool, m: &petition_vault::backup::Manifest, bytes: usize, out: &Path) {
    if json {
        println!(
            "{}",
            json!({"file": out.display().to_string(), "bytes": bytes, "manifest": m})
        );
    } else {
        let total: u64 = m.trees.values().sum();
        println!(
            "backup written to {} ({bytes} bytes, {total} entries, audit log size {}, sha256 {})",
            out.display(),
            m.audit_size,
            m.body_sha256
        );
    }
}

pub fn restored(json: bool, m: &petition_vault::backup::Manifest, dir: &Path) {
    if json {
        println!(
            "{}",
            json!({"vault": dir.display().to_string(), "manifest": m})
        );
    } else {
        println!(
            "restored vault {} into {} (audit log size {}); run `pvault check` and `pvault audit verify`",
            m.vault_id,
            dir.display(),
            m.audit_size
        );
    }
}

pub fn compacted(json: bool, c: &petition_vault::backup::Compaction) {
    if json {
        println!(
            "{}",
            json!({"bytes_before": c.bytes_before, "bytes_after": c.bytes_after, "entries": c.entries})
        );
    } else {
        println!(
            "compacted: {} live entries, {} → {} bytes",
            c.entries, c.bytes_before, c.bytes_after
        );
    }
}

pub fn check_report(json: bool, r: &petition_vault::lifecycle::CheckReport) {
    if json {
        println!("{}", serde_json::to_string_pretty(r).unwrap_or_default());
        return;
    }
    let mut t = table(&["class", "opened and verified", "skipped (no key)"]);
    for c in petition_vault::Class::ALL {
        let get = |m: &std::collections::BTreeMap<String, u64>| {
            m.get(c.as_str()).copied().unwrap_or(0).to_string()
        };
        t.add_row(vec![c.to_string(), get(&r.checked), get(&r.skipped)]);
    }
    println!("{t}");
    println!(
        "records: {}; index: {} petitioners checked, {} entries; audit: {} entries verified",
        r.records
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", "),
        r.index_checked,
        r.index_entries,
        r.audit_entries
    );
    if r.problems.is_empty() {
        println!("no problems found");
    } else {
        for p in &r.problems {
            println!(
                "PROBLEM {} {}: {}",
                p.area,
                p.record.as_deref().unwrap_or("-"),
                p.what
            );
        }
    }
}

pub fn retention(json: bool, list: &[petition_vault::lifecycle::RetentionCandidate]) {
    if json {
        println!("{}", serde_json::to_string(list).unwrap_or_default());
        return;
    }
    let mut t = table(&["case", "case no", "status", "since", "petitioners"]);
    for c in list {
        t.add_row(vec![
            c.case.clone(),
            c.case_no.clone(),
            c.status.clone(),
            c.since.clone(),
            c.petitioners
                .iter()
                .map(|(p, erased)| {
                    if *erased {
                        format!("{p} (erased)")
                    } else {
                        p.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(", "),
        ]);
    }
    println!("{t}");
    println!(
        "{} candidate case(s); nothing was deleted (archive rules may require keeping records)",
        list.len()
    );
}

pub fn erased(json: bool, e: &petition_vault::lifecycle::Erasure) {
    if json {
        println!(
            "{}",
            json!({
                "petitioner": e.petitioner.to_string(),
                "fields_removed": e.fields_removed,
                "index_entries_removed": e.index_entries_removed,
                "cases_scrubbed": e.cases_scrubbed.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
            })
        );
    } else {
        println!(
            "petitioner {} erased: {} field(s) and {} index entr(ies) removed, {} linked case(s) re-scrubbed; a tombstone remains",
            e.petitioner,
            e.fields_removed,
            e.index_entries_removed,
            e.cases_scrubbed.len()
        );
        println!("run `pvault compact` (vault closed) so the old bytes leave the database files");
    }
}
