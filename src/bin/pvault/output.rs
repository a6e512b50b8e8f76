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

pub fn cases(json: bool, cases: &[CaseSummary]) {
    if json {
        let list: Vec<Value> = cases
            .iter()
            .map(|c| {
                json!({"id": c.id.to_string(), "case_no": c.meta.case_no, "category": c.meta.category,
                       "channel": c.meta.channel.as_str(), "status": c.meta.status,
                       "assigned_to": c.meta.assigned_to, "petitioners": c.meta.petitioner_ids.len()})
            })
            .collect();
        println!("{}", Value::Array(list));
        return;
    }
    let mut t = table(&[
        "id",
        "case no",
        "category",
        "channel",
        "status",
        "assigned to",
    ]);
    for c in cases {
        t.add_row(vec![
            c.id.to_string(),
            c.meta.case_no.clone(),
            c.meta.category.clone(),
            c.meta.channel.as_str().to_owned(),
            c.meta.status.clone(),
            c.meta.assigned_to.clone().unwrap_or_default(),
        ]);
    }
    println!("{t}");
    println!("{} case(s)", cases.len());
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
            c.meta.status.clone(),
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
    let mut t = table(&[s.by.as_str(), "cases"]);
    for c in &s.cells {
        t.add_row(vec![c.key.clone(), c.shown.clone()]);
    }
    t.add_row(vec!["total".to_owned(), s.total.clone()]);
    println!("{t}");
    println!(
        "counts below {} are shown as <{} (small-cell suppression)",
        s.min_cell, s.min_cell
    );
}
