//! The gate, tested as attacks: plaintext at rest, moved and flipped ciphertexts, the wrong
//! role, the wrong passphrase, a second opener, a failing audit log, the accused unit.

mod common;

use common::*;
use petition_vault::audit::Outcome;
use petition_vault::store::{FaultyStore, Store, Tree, WriteSet};
use petition_vault::{
    Class, Passphrase, Reason, RecordId, RecordView, Vault, VaultError, VaultOptions,
};
use std::sync::Arc;

fn all_values(view: &RecordView) -> String {
    view.fields
        .iter()
        .map(|f| f.value.expose().to_owned())
        .collect::<Vec<_>>()
        .join("|")
}

fn denied_count(f: &Fixture) -> usize {
    let aud = unlock(f, "aud");
    let n = aud.audit_len().unwrap();
    aud.audit_entries(0, n as usize)
        .unwrap()
        .iter()
        .filter(|e| e.entry.outcome == Outcome::Denied)
        .count()
}

fn scan_dir_for(dir: &std::path::Path, needles: &[&str]) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in walk(dir) {
        let bytes = std::fs::read(&entry).unwrap();
        for n in needles {
            if bytes.windows(n.len()).any(|w| w == n.as_bytes()) {
                hits.push(format!(
                    "{} contains needle #{}",
                    entry.display(),
                    needles.iter().position(|x| x == n).unwrap()
                ));
            }
        }
    }
    hits
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn no_plaintext_pii_at_rest() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let mut pids = Vec::new();
    for p in PEOPLE {
        pids.push(reg.add_petitioner(&new_petitioner(p)).unwrap());
    }
    // a unit no user belongs to: user records keep their unit in the clear (staff data,
    // see SECURITY.md), the case's accused unit must not be
    let cid = reg
        .open_case(&new_case(pids.clone(), Some("秦淮区城市管理局"), true))
        .unwrap();
    reg.assign_case(cid, "han").unwrap();
    let sup = unlock(&f, "sup");
    sup.show_petitioner(pids[0], Some(&Reason::new("核实身份").unwrap()))
        .unwrap();
    drop((reg, sup));
    let dir = f.dir.path().to_path_buf();
    drop(f.vault);
    let mut needles: Vec<&str> = Vec::new();
    for p in PEOPLE {
        needles.extend([p.name, p.id_number, p.phone, p.address, p.email]);
        needles.push(&p.id_number[..17]);
        let half = p
            .address
            .char_indices()
            .nth(p.address.chars().count() / 2)
            .unwrap()
            .0;
        needles.push(&p.address[half..]);
    }
    needles.extend([
        "拆迁补偿款长期拖欠",
        "关于拆迁补偿款",
        "足额发放补偿款",
        "秦淮区城市管理局",
        "秣陵街道",
    ]);
    let hits = scan_dir_for(&dir, &needles);
    assert!(hits.is_empty(), "plaintext found at rest: {hits:?}");
    // and the scan would have found them: the files are not empty
    assert!(
        walk(&dir)
            .iter()
            .map(|p| std::fs::metadata(p).unwrap().len())
            .sum::<u64>()
            > 10_000
    );
}

#[test]
fn swapped_records_fail_to_decrypt_and_name_the_record() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let a = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    let b = reg.add_petitioner(&new_petitioner(&PEOPLE[1])).unwrap();
    let store = f.vault.store();
    let ra = store.get(Tree::Petitioners, &a.0).unwrap().unwrap();
    let mut w = WriteSet::new();
    w.put(Tree::Petitioners, b.0.to_vec(), ra);
    store.commit_unaudited(&w).unwrap();
    match reg.show_petitioner(b, None) {
        Err(VaultError::Tampered { id, .. }) => assert_eq!(id, b),
        other => panic!("expected a decrypt error, got {other:?}"),
    }
    let msg = reg.show_petitioner(b, None).unwrap_err().to_string();
    assert!(msg.contains(&b.to_string()), "{msg}");
    for p in PEOPLE {
        assert!(!msg.contains(p.name) && !msg.contains(p.id_number));
    }
    // the untouched record still reads
    assert!(reg.show_petitioner(a, None).is_ok());
}

#[test]
fn flipped_bytes_in_a_record_fail_cleanly() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let a = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    let store = f.vault.store();
    let original = store.get(Tree::Petitioners, &a.0).unwrap().unwrap();
    let mut failures = 0;
    for i in (0..original.len()).step_by(7) {
        let mut bad = original.clone();
        bad[i] ^= 0x40;
        let mut w = WriteSet::new();
        w.put(Tree::Petitioners, a.0.to_vec(), bad);
        store.commit_unaudited(&w).unwrap();
        match reg.show_petitioner(a, None) {
            Err(VaultError::Tampered { id, .. }) => {
                assert_eq!(id, a);
                failures += 1;
            }
            Err(other) => panic!("byte {i}: unexpected error {other}"),
            Ok(view) => panic!(
                "byte {i}: a flipped record still opened: {:?} {:?}",
                view.fields.iter().map(|f| f.name).collect::<Vec<_>>(),
                &original[i.saturating_sub(12)..i + 4]
            ),
        }
    }
    assert!(failures > 10);
}

#[test]
fn flipped_bytes_on_disk_never_panic_or_leak() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let a = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    drop(reg);
    let dir = f.dir.path().join("vault");
    drop(f.vault);
    let db_file = dir.join("db").join("db");
    let original = std::fs::read(&db_file).unwrap();
    for i in (0..original.len()).step_by(original.len() / 40 + 1) {
        let mut bad = original.clone();
        bad[i] ^= 0xFF;
        std::fs::write(&db_file, &bad).unwrap();
        let result = std::panic::catch_unwind(|| -> Result<String, String> {
            let v =
                Vault::open(&dir, VaultOptions::insecure_for_tests()).map_err(|e| e.to_string())?;
            let s = v.unlock("reg", &pass("reg")).map_err(|e| e.to_string())?;
            let view = s.show_petitioner(a, None).map_err(|e| e.to_string())?;
            Ok(view
                .get("name")
                .map(|f| f.value.expose().to_owned())
                .unwrap_or_default())
        });
        match result {
            Ok(Ok(name)) => assert_eq!(name, PEOPLE[0].name, "byte {i}: wrong plaintext"),
            Ok(Err(msg)) => {
                assert!(!msg.contains(PEOPLE[0].name) && !msg.contains(PEOPLE[0].id_number))
            }
            Err(_) => panic!("byte {i}: flipping a byte on disk panicked"),
        }
    }
    std::fs::write(&db_file, &original).unwrap();
}

#[test]
fn analyst_gets_no_identity_or_contact_by_any_call() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let pid = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    let cid = reg.open_case(&new_case(vec![pid], None, false)).unwrap();
    let ana = unlock(&f, "ana");
    let held = ana.held_classes();
    assert!(
        !held.contains(&Class::Identity)
            && !held.contains(&Class::Contact)
            && !held.contains(&Class::Content)
    );
    let p = PEOPLE[0].clone_values();
    let view = ana.show_petitioner(pid, None).unwrap();
    let values = all_values(&view);
    for v in &p {
        assert!(!values.contains(v.as_str()), "analyst saw a full value");
    }
    assert!(
        view.fields
            .iter()
            .filter(|f| f.class != Class::Meta)
            .all(|f| f.masked)
    );
    assert_eq!(view.get("name").unwrap().value.expose(), "欧阳**");
    let before = denied_count(&f);
    let err = ana
        .show_petitioner(pid, Some(&Reason::new("看看").unwrap()))
        .unwrap_err();
    assert!(matches!(err, VaultError::Denied(_)), "{err}");
    assert_eq!(denied_count(&f), before + 1);
    let case = all_values(&ana.show_case(cid).unwrap());
    // the analyst sees the PII-scrubbed content, never the petitioner's own values in it
    assert!(case.contains("拆迁补偿款长期拖欠"));
    assert!(!case.contains(PEOPLE[0].phone) && !case.contains(PEOPLE[0].name));
    assert!(ana.add_petitioner(&new_petitioner(&PEOPLE[1])).is_err());
}

trait CloneValues {
    fn clone_values(&self) -> Vec<String>;
}
impl CloneValues for Person {
    fn clone_values(&self) -> Vec<String> {
        [
            self.name,
            self.id_number,
            self.phone,
            self.address,
            self.email,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }
}

#[test]
fn auditor_gets_no_pii() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let pid = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    let cid = reg.open_case(&new_case(vec![pid], None, false)).unwrap();
    let aud = unlock(&f, "aud");
    assert_eq!(aud.held_classes(), vec![Class::Meta]);
    for view in [
        aud.show_petitioner(pid, None).unwrap(),
        aud.show_case(cid).unwrap(),
    ] {
        let values = all_values(&view);
        for v in PEOPLE[0].clone_values() {
            assert!(!values.contains(v.as_str()));
        }
        assert!(view.fields.iter().all(|f| f.class == Class::Meta));
        assert!(!values.contains("拆迁补偿款长期拖欠"));
    }
    // the log itself holds ids and codes only
    let n = aud.audit_len().unwrap();
    let log = format!("{:?}", aud.audit_entries(0, n as usize).unwrap());
    for v in PEOPLE[0].clone_values() {
        assert!(!log.contains(v.as_str()), "audit log contains PII");
    }
}

#[test]
fn handler_sees_only_assigned_cases_and_denials_are_logged() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let pid = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    let pid2 = reg.add_petitioner(&new_petitioner(&PEOPLE[1])).unwrap();
    let mine = reg.open_case(&new_case(vec![pid], None, false)).unwrap();
    let other = reg.open_case(&new_case(vec![pid2], None, false)).unwrap();
    reg.assign_case(mine, "han").unwrap();
    reg.assign_case(other, "han2").unwrap();
    let han = unlock(&f, "han");
    let view = han.show_case(mine).unwrap();
    assert!(view.get("content").is_some_and(|c| !c.masked));
    let before = denied_count(&f);
    assert!(matches!(han.show_case(other), Err(VaultError::Denied(_))));
    assert!(matches!(
        han.show_petitioner(pid2, None),
        Err(VaultError::Denied(_))
    ));
    assert_eq!(denied_count(&f), before + 2);
    // their own petitioner: contact in full, identity masked (a handler holds no identity key)
    let p = han.show_petitioner(pid, None).unwrap();
    assert_eq!(p.get("name").unwrap().value.expose(), PEOPLE[0].name);
    let id = p.get("id_number").unwrap();
    assert!(id.masked && id.value.expose() != PEOPLE[0].id_number);
    assert!(!han.held_classes().contains(&Class::Identity));
    let listed: Vec<RecordId> = han.list_cases().unwrap().iter().map(|c| c.id).collect();
    assert_eq!(listed, vec![mine]);
}

#[test]
fn accused_unit_sees_nothing_of_the_case() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let pid = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    let cid = reg
        .open_case(&new_case(vec![pid], Some(ACCUSED_UNIT), true))
        .unwrap();
    // cannot be assigned to the accused unit
    assert!(matches!(
        reg.assign_case(cid, "accused"),
        Err(VaultError::Denied(_))
    ));
    let acc = unlock(&f, "accused");
    let before = denied_count(&f);
    assert!(matches!(acc.show_case(cid), Err(VaultError::NotFound(id)) if id == cid));
    assert!(matches!(
        acc.show_petitioner(pid, None),
        Err(VaultError::NotFound(_))
    ));
    assert!(acc.list_cases().unwrap().is_empty());
    assert_eq!(denied_count(&f), before + 2);
    // same "not found" as a case that does not exist
    let missing = RecordId([9; 16]);
    assert_eq!(
        acc.show_case(cid)
            .unwrap_err()
            .to_string()
            .replace(&cid.to_string(), "X"),
        acc.show_case(missing)
            .unwrap_err()
            .to_string()
            .replace(&missing.to_string(), "X")
    );
}

#[test]
fn supervisor_needs_a_reveal_for_identity() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let pid = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    let sup = unlock(&f, "sup");
    let plain = sup.show_petitioner(pid, None).unwrap();
    assert!(plain.get("id_number").unwrap().masked);
    let shown = sup
        .show_petitioner(pid, Some(&Reason::new("核实身份 13812345678").unwrap()))
        .unwrap();
    assert_eq!(
        shown.get("id_number").unwrap().value.expose(),
        PEOPLE[0].id_number
    );
    assert_eq!(
        shown.get("birth_date").unwrap().value.expose(),
        "1949-12-31"
    );
    assert_eq!(shown.get("gender").unwrap().value.expose(), "female");
    let aud = unlock(&f, "aud");
    let n = aud.audit_len().unwrap();
    let entries = aud.audit_entries(0, n as usize).unwrap();
    let reveal = entries
        .iter()
        .find(|e| e.entry.action.as_str() == "petitioner_reveal")
        .unwrap();
    assert_eq!(reveal.entry.targets, vec![pid]);
    let reason = reveal.entry.reason.as_deref().unwrap();
    assert!(
        reason.contains("核实身份") && !reason.contains("13812345678"),
        "reason not scrubbed"
    );
    assert!(Reason::new(" ").is_err());
}

#[test]
fn wrong_passphrase_is_refused_logged_and_touches_no_key() {
    let f = fixture();
    let store = f.vault.store();
    let before = store.get(Tree::Users, b"reg").unwrap().unwrap();
    let err = f
        .vault
        .unlock("reg", &Passphrase::from("not the passphrase"))
        .unwrap_err();
    assert!(matches!(err, VaultError::BadCredentials));
    assert!(err.to_string().contains("wrong user name or passphrase"));
    let err = f
        .vault
        .unlock("nobody", &Passphrase::from("not the passphrase"))
        .unwrap_err();
    assert!(matches!(err, VaultError::BadCredentials));
    assert_eq!(store.get(Tree::Users, b"reg").unwrap().unwrap(), before);
    let aud = unlock(&f, "aud");
    let n = aud.audit_len().unwrap();
    let entries = aud.audit_entries(0, n as usize).unwrap();
    let failed: Vec<_> = entries
        .iter()
        .filter(|e| e.entry.action.as_str() == "unlock" && e.entry.outcome == Outcome::Denied)
        .map(|e| (e.entry.actor.clone(), e.entry.detail.clone().unwrap()))
        .collect();
    assert_eq!(
        failed,
        vec![
            ("reg".to_string(), "bad_passphrase".to_string()),
            ("nobody".to_string(), "unknown_user".to_string())
        ]
    );
}

#[test]
fn second_opener_gets_in_use() {
    let f = fixture();
    let dir = f.dir.path().join("vault");
    let err = Vault::open(&dir, VaultOptions::insecure_for_tests()).unwrap_err();
    assert!(matches!(err, VaultError::InUse), "{err}");
    assert!(err.to_string().contains("in use by another process"));
    drop(f.vault);
    assert!(Vault::open(&dir, VaultOptions::insecure_for_tests()).is_ok());
}

#[test]
fn audit_failure_returns_nothing() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let pid = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    drop(reg);
    let faulty = Arc::new(FaultyStore::new(f.vault.store()));
    let vault =
        Vault::open_store(faulty.clone(), None, VaultOptions::insecure_for_tests()).unwrap();
    let reg = vault.unlock("reg", &pass("reg")).unwrap();
    let entries_before = petition_vault::audit::log_len(faulty.as_ref()).unwrap();
    faulty.fail_commits(true);
    let err = reg.show_petitioner(pid, None).unwrap_err();
    assert!(matches!(err, VaultError::AuditFailed(_)), "{err}");
    assert!(reg.add_petitioner(&new_petitioner(&PEOPLE[1])).is_err());
    assert!(vault.unlock("reg", &pass("reg")).is_err());
    faulty.fail_commits(false);
    assert_eq!(
        petition_vault::audit::log_len(faulty.as_ref()).unwrap(),
        entries_before
    );
    // nothing half-written: only the first petitioner exists
    assert_eq!(faulty.scan_prefix(Tree::Petitioners, b"").unwrap().len(), 1);
    assert!(reg.show_petitioner(pid, None).is_ok());
    assert!(vault.verify_audit(Some(&f.audit_key), &[]).is_ok());
}

#[test]
fn export_audit_failure_writes_nothing() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let pid = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    reg.open_case(&new_case(vec![pid], None, false)).unwrap();
    drop(reg);
    let faulty = Arc::new(FaultyStore::new(f.vault.store()));
    let vault =
        Vault::open_store(faulty.clone(), None, VaultOptions::insecure_for_tests()).unwrap();
    let ana = vault.unlock("ana", &pass("ana")).unwrap();
    let entries_before = petition_vault::audit::log_len(faulty.as_ref()).unwrap();
    faulty.fail_commits(true);
    for format in [
        petition_vault::export::Format::Csv { bom: true },
        petition_vault::export::Format::Jsonl,
    ] {
        let mut out = Vec::new();
        let err = ana
            .export_to(
                petition_vault::export::Profile::Redacted,
                Default::default(),
                None,
                format,
                &mut out,
            )
            .unwrap_err();
        assert!(matches!(err, VaultError::AuditFailed(_)), "{err}");
        assert!(out.is_empty(), "not even a header or a byte-order mark");
    }
    let err = ana
        .export(
            petition_vault::export::Profile::Redacted,
            Default::default(),
            None,
        )
        .unwrap_err();
    assert!(matches!(err, VaultError::AuditFailed(_)), "{err}");
    faulty.fail_commits(false);
    assert_eq!(
        petition_vault::audit::log_len(faulty.as_ref()).unwrap(),
        entries_before
    );
    let mut out = Vec::new();
    let m = ana
        .export_to(
            petition_vault::export::Profile::Redacted,
            Default::default(),
            None,
            petition_vault::export::Format::Jsonl,
            &mut out,
        )
        .unwrap();
    assert_eq!(m.count, 1);
    assert!(!out.is_empty());
}

#[test]
fn audit_log_verifies_and_detects_a_wrong_key() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let pid = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    reg.show_petitioner(pid, None).unwrap();
    let report = f.vault.verify_audit(Some(&f.audit_key), &[]).unwrap();
    assert!(report.entries >= 10 && report.macs_checked);
    let text = f
        .audit_key
        .to_text()
        .replace(&hex_mac(&f.audit_key), &"11".repeat(32));
    let wrong = petition_vault::AuditKey::from_text(&text).unwrap();
    let err = f.vault.verify_audit(Some(&wrong), &[]).unwrap_err();
    assert!(
        matches!(err, petition_vault::VerifyError::Mac { seq: 0 }),
        "{err}"
    );
}

#[test]
fn debug_output_holds_no_secrets() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let dbg = format!("{reg:?}");
    assert!(dbg.contains("reg") && dbg.contains("identity@v1"));
    assert!(!dbg.contains("key: ["), "{dbg}");
    let pid = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    let view = reg.show_petitioner(pid, None).unwrap();
    let dbg = format!(
        "{view:?} {:?} {:?}",
        new_petitioner(&PEOPLE[0]),
        f.audit_key
    );
    for v in PEOPLE[0].clone_values() {
        assert!(!dbg.contains(v.as_str()), "Debug printed a value");
    }
    assert!(!dbg.contains(&hex_mac(&f.audit_key)));
}

#[test]
fn validation_errors_name_the_rule_not_the_value() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let bad_ids = [
        "110105194912310021",
        "11010519491331002X",
        "990105194912310025",
        "12345",
    ];
    for id in bad_ids {
        let mut p = new_petitioner(&PEOPLE[0]);
        p.id_number = id.into();
        let err = reg.add_petitioner(&p).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, VaultError::Invalid(_)), "{msg}");
        assert!(msg.contains("id_number"), "{msg}");
        assert!(
            !msg.contains(id) && !msg.contains(&id[..5.min(id.len())]),
            "{msg}"
        );
    }
    let mut p = new_petitioner(&PEOPLE[0]);
    p.phones = vec!["12345".into()];
    let msg = reg.add_petitioner(&p).unwrap_err().to_string();
    assert!(msg.contains("phone") && !msg.contains("12345"), "{msg}");
    let mut c = new_case(vec![RecordId([1; 16])], None, false);
    c.content = "".into();
    assert!(
        reg.open_case(&c)
            .unwrap_err()
            .to_string()
            .contains("content")
    );
    // 15-digit legacy IDs are upgraded
    let mut p = new_petitioner(&PEOPLE[1]);
    p.id_number = "110105491231002".into();
    let pid = reg.add_petitioner(&p).unwrap();
    let view = reg.show_petitioner(pid, None).unwrap();
    assert_eq!(view.get("id_number").unwrap().value.expose().len(), 18);
}

fn hex_mac(k: &petition_vault::AuditKey) -> String {
    k.to_text()
        .lines()
        .find_map(|l| l.strip_prefix("mac-key ").map(str::to_owned))
        .unwrap()
}

#[cfg(unix)]
#[test]
fn loose_permissions_are_reported_and_fixed_on_open() {
    use std::os::unix::fs::PermissionsExt;
    let f = fixture();
    let dir = f.dir.path().join("vault");
    drop(f.vault);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    for file in walk(&dir) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    let db = dir.join("db").join("db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let v = Vault::open(&dir, VaultOptions::insecure_for_tests()).unwrap();
    let warned = v.loose_permissions_at_open();
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(warned[0].contains("mode 644"));
    assert_eq!(mode(&db), 0o600);
    assert!(v.permission_warnings().is_empty());
}

/// Regression (found in review of the PostgreSQL work): opening a case rewrites the
/// petitioner's record (its case list); two sessions doing that at once lost one link. A
/// record is now written back only if unchanged since it was read, and the operation retries.
#[test]
fn concurrent_case_opens_lose_no_link() {
    let f = fixture();
    let pid = unlock(&f, "reg")
        .add_petitioner(&new_petitioner(&PEOPLE[0]))
        .unwrap();
    let opened: Vec<RecordId> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let reg = unlock(&f, "reg");
                    (0..5)
                        .map(|_| reg.open_case(&new_case(vec![pid], None, false)).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(opened.len(), 20);
    let view = unlock(&f, "reg").show_petitioner(pid, None).unwrap();
    let linked = view
        .get("case_ids")
        .unwrap()
        .value
        .expose()
        .split(',')
        .count();
    assert_eq!(linked, 20, "every case is linked to the petitioner");
}

/// Sessions reading at the same time share flushes and fsyncs (group commit): every read
/// still gets its own audit entry, in one unbroken chain, before it returns.
#[test]
fn concurrent_reads_each_commit_their_own_entry() {
    let f = fixture();
    let pid = unlock(&f, "reg")
        .add_petitioner(&new_petitioner(&PEOPLE[0]))
        .unwrap();
    let readers: Vec<_> = (0..4).map(|_| unlock(&f, "reg")).collect();
    let aud = unlock(&f, "aud");
    let before = aud.audit_len().unwrap();
    std::thread::scope(|s| {
        for reader in &readers {
            s.spawn(move || {
                for _ in 0..25 {
                    reader.show_petitioner(pid, None).unwrap();
                }
            });
        }
    });
    let after = aud.audit_len().unwrap();
    assert_eq!(after - before, 100, "one entry per read");
    let reads = aud
        .audit_entries(before, 100)
        .unwrap()
        .iter()
        .filter(|e| e.entry.targets.contains(&pid) && e.entry.outcome == Outcome::Allowed)
        .count();
    assert_eq!(reads, 100);
    let report = f.vault.verify_audit(Some(&f.audit_key), &[]).unwrap();
    assert_eq!(report.entries, aud.audit_len().unwrap());
}

#[test]
fn a_changed_record_is_not_overwritten() {
    let f = fixture();
    let store = f.vault.store();
    let mut w = WriteSet::new();
    w.put(Tree::Meta, b"k".to_vec(), b"v1".to_vec());
    store.commit_unaudited(&w).unwrap();
    let stale = sha2_of(b"v0");
    let mut w = WriteSet::new();
    w.put_if_unchanged(Tree::Meta, b"k".to_vec(), stale, b"v2".to_vec());
    w.put(Tree::Meta, b"other".to_vec(), b"x".to_vec());
    let err = store.commit_unaudited(&w).unwrap_err();
    assert!(
        matches!(err, petition_vault::store::StoreError::Conflict { .. }),
        "{err}"
    );
    assert_eq!(store.get(Tree::Meta, b"k").unwrap().unwrap(), b"v1");
    assert!(
        store.get(Tree::Meta, b"other").unwrap().is_none(),
        "nothing half-written"
    );
    let mut w = WriteSet::new();
    w.put_if_unchanged(Tree::Meta, b"k".to_vec(), sha2_of(b"v1"), b"v2".to_vec());
    store.commit_unaudited(&w).unwrap();
    assert_eq!(store.get(Tree::Meta, b"k").unwrap().unwrap(), b"v2");
}

fn sha2_of(b: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(b).into()
}
