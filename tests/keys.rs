//! Key lifecycle: rotation and an interrupted, resumed re-encryption; revocation against a
//! kept keyring copy; M-of-N recovery; backups that refuse corruption; integrity check;
//! erasure that leaves no trace after compaction.

mod common;

use common::*;
use petition_vault::store::{Tree, WriteSet};
use petition_vault::{Class, Passphrase, Reason, RecordId, Vault, VaultError, VaultOptions};
use std::path::{Path, PathBuf};

fn walk(dir: &Path) -> Vec<PathBuf> {
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

/// Which of `needles` occur anywhere in the files under `dir`.
fn on_disk(dir: &Path, needles: &[Vec<u8>]) -> Vec<usize> {
    let mut hits = Vec::new();
    for f in walk(dir) {
        let bytes = std::fs::read(&f).unwrap();
        for (i, n) in needles.iter().enumerate() {
            if !hits.contains(&i) && bytes.windows(n.len()).any(|w| w == n.as_slice()) {
                hits.push(i);
            }
        }
    }
    hits
}

fn fields_at(status: &petition_vault::keys::KeyStatus, class: Class) -> Vec<(u32, u64)> {
    status
        .classes
        .iter()
        .find(|c| c.class == class.as_str())
        .unwrap()
        .fields
        .iter()
        .map(|(v, n)| (*v, *n))
        .collect()
}

// ---- rotation, then a re-encryption killed mid-way and resumed (the real binary) ----------

fn cli_pass(user: &str) -> Passphrase {
    Passphrase::new(format!("passphrase of {user}"))
}

fn pvault(dir: &Path, user: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("pvault"));
    cmd.env_clear()
        .env("PVAULT_INSECURE_TEST_KDF", "1")
        .env("PVAULT_DIR", dir)
        .env("PVAULT_USER", user)
        .env("PVAULT_PASSPHRASE", format!("passphrase of {user}"))
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd
}

fn synthetic_vault(dir: &Path, people: usize) -> Vec<(RecordId, RecordId, String)> {
    let (vault, _) = Vault::create(
        dir,
        "admin",
        &cli_pass("admin"),
        VaultOptions::insecure_for_tests(),
    )
    .unwrap();
    let admin = vault.unlock("admin", &cli_pass("admin")).unwrap();
    admin
        .add_user(
            "reg",
            petition_vault::Role::Registrar,
            None,
            &cli_pass("reg"),
        )
        .unwrap();
    let reg = vault.unlock("reg", &cli_pass("reg")).unwrap();
    let mut synth = petition_vault::model::synth::Synth::new(7);
    let mut out = Vec::new();
    for _ in 0..people {
        let p = synth.person();
        let pid = reg
            .add_petitioner(&petition_vault::NewPetitioner {
                name: p.name.as_str().into(),
                id_number: p.id_number.as_str().into(),
                phones: vec![p.phone.as_str().into()],
                address: Some(p.address.as_str().into()),
                email: None,
                ethnicity: None,
            })
            .unwrap();
        let cid = reg
            .open_case(&new_case(vec![pid], Some(ACCUSED_UNIT), true))
            .unwrap();
        out.push((pid, cid, p.name.clone()));
    }
    out
}

#[test]
fn rotation_then_reencryption_killed_midway_resumes_and_old_version_retires() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("vault");
    let records = synthetic_vault(&dir, 40);
    for class in ["contact", "meta"] {
        let out = pvault(&dir, "admin")
            .args(["keys", "rotate", "--class", class])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Slow batches of 2 records; kill the process after a few.
    let mut child = pvault(&dir, "admin")
        .args(["keys", "reencrypt", "--class", "contact", "--batch", "2"])
        .env("PVAULT_TEST_BATCH_DELAY_MS", "150")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    child.kill().unwrap();
    child.wait().unwrap();
    {
        let vault = Vault::open(&dir, VaultOptions::insecure_for_tests()).unwrap();
        let admin = vault.unlock("admin", &cli_pass("admin")).unwrap();
        let st = admin.key_status().unwrap();
        let contact = fields_at(&st, Class::Contact);
        assert_eq!(
            contact.len(),
            2,
            "mid-way: both versions in use {contact:?}"
        );
        let p = admin.reencrypt_progress(Class::Contact).unwrap().unwrap();
        assert!(p.batches > 0 && p.table < 2, "killed mid-way: {p:?}");
    }
    // Resume: every class, to the end.
    let out = pvault(&dir, "admin")
        .args(["keys", "reencrypt", "--batch", "7"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (class, v) in [("contact", "1"), ("meta", "1")] {
        let out = pvault(&dir, "admin")
            .args(["keys", "retire", "--class", class, "--version", v])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let vault = Vault::open(&dir, VaultOptions::insecure_for_tests()).unwrap();
    let admin = vault.unlock("admin", &cli_pass("admin")).unwrap();
    let st = admin.key_status().unwrap();
    assert_eq!(fields_at(&st, Class::Contact).len(), 1);
    assert_eq!(fields_at(&st, Class::Contact)[0].0, 2);
    assert_eq!(fields_at(&st, Class::Meta)[0].0, 2);
    assert_eq!(fields_at(&st, Class::Meta).len(), 1);
    // Nothing lost or doubled: every record opens with the registrar's keyring (which got
    // v2 and lost v1 through grants), with its original values.
    let reg = vault.unlock("reg", &cli_pass("reg")).unwrap();
    assert_eq!(reg.held_versions(Class::Contact), vec![2]);
    for (pid, cid, name) in &records {
        let v = reg.show_petitioner(*pid, None).unwrap();
        assert_eq!(v.get("name").unwrap().value.expose(), name);
        let c = reg.show_case(*cid).unwrap();
        assert!(c.get("title").is_some());
    }
    assert_eq!(reg.list_cases().unwrap().len(), records.len());
    // The accused-unit firewall still holds after meta v1 was retired (tags re-made).
    let sup = vault.unlock("admin", &cli_pass("admin")).unwrap();
    sup.add_user(
        "acc",
        petition_vault::Role::Handler,
        Some(ACCUSED_UNIT),
        &cli_pass("acc"),
    )
    .unwrap();
    let acc = vault.unlock("acc", &cli_pass("acc")).unwrap();
    assert!(acc.list_cases().unwrap().is_empty());
    let report = admin.check().unwrap();
    assert!(report.ok(), "{:?}", report.problems);
}

// ---- revocation ---------------------------------------------------------------------------

#[test]
fn revoked_user_and_kept_keyring_copy_cannot_read_after_rotation() {
    let f = fixture();
    // The registrar keeps a copy of their wrapped keyring (their user record) before revocation.
    let kept = f.vault.store().get(Tree::Users, b"reg").unwrap().unwrap();
    {
        let mut admin = unlock(&f, "admin");
        let r = admin.revoke_user("reg", true).unwrap();
        assert!(
            r.rotated
                .iter()
                .any(|x| x.class == Class::Identity && x.version == 2)
        );
    }
    // Old passphrase: the slot is gone.
    assert!(matches!(
        f.vault.unlock("reg", &pass("reg")),
        Err(VaultError::BadCredentials)
    ));
    // Written after rotation by another registrar-class user (the supervisor can't add; use
    // a new registrar).
    unlock(&f, "admin")
        .add_user("reg2", petition_vault::Role::Registrar, None, &pass("reg2"))
        .unwrap();
    let reg2 = unlock(&f, "reg2");
    let pid = reg2.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    let cid = reg2.open_case(&new_case(vec![pid], None, false)).unwrap();
    drop(reg2);
    // The supervisor got the new versions through grants and reads it.
    let sup = unlock(&f, "sup");
    assert_eq!(sup.held_versions(Class::Contact), vec![1, 2]);
    assert!(sup.show_petitioner(pid, None).is_ok());
    // The attacker puts the kept keyring back: it unlocks, but opens nothing new.
    let mut w = WriteSet::new();
    w.put(Tree::Users, b"reg".to_vec(), kept);
    f.vault.store().commit_unaudited(&w).unwrap();
    let old = f.vault.unlock("reg", &pass("reg")).unwrap();
    assert_eq!(old.held_versions(Class::Contact), vec![1]);
    assert!(matches!(
        old.show_petitioner(pid, None),
        Err(VaultError::Tampered { .. })
    ));
    assert!(old.show_case(cid).is_err());
}

// ---- passphrase change --------------------------------------------------------------------

#[test]
fn passwd_replaces_the_slot_and_can_raise_parameters() {
    let f = fixture();
    let han = unlock(&f, "han");
    let mut kdf = han.kdf_params();
    kdf.t += 1;
    let new = Passphrase::from("a brand new passphrase");
    assert!(
        han.change_passphrase(&new, Some(petition_vault::KdfParams { t: 0, ..kdf }))
            .is_err(),
        "parameters cannot be lowered"
    );
    han.change_passphrase(&new, Some(kdf)).unwrap();
    assert!(matches!(
        f.vault.unlock("han", &pass("han")),
        Err(VaultError::BadCredentials)
    ));
    let again = f.vault.unlock("han", &new).unwrap();
    assert_eq!(again.kdf_params().t, kdf.t);
}

// ---- recovery -----------------------------------------------------------------------------

#[test]
fn recovery_with_threshold_shares_works_and_one_fewer_fails() {
    let f = fixture();
    let shares = unlock(&f, "admin").recovery_split(5, 3).unwrap();
    assert_eq!(shares.len(), 5);
    // A rotation after the split reaches the recovery copy through a grant.
    unlock(&f, "admin").rotate(Class::Content).unwrap();
    let texts: Vec<zeroize::Zeroizing<String>> = shares.iter().map(|s| s.text.clone()).collect();
    let new = Passphrase::from("recovered admin passphrase");
    for two in [&texts[..2], &texts[3..5], &texts[1..3]] {
        assert!(f.vault.recover_admin(two, "admin", &new).is_err());
    }
    // the same share twice is still one share
    let dup = vec![texts[0].clone(), texts[0].clone(), texts[1].clone()];
    assert!(f.vault.recover_admin(&dup, "admin", &new).is_err());
    assert!(f.vault.unlock("admin", &new).is_err());
    f.vault
        .recover_admin(
            &[texts[4].clone(), texts[0].clone(), texts[2].clone()],
            "admin",
            &new,
        )
        .unwrap();
    assert!(f.vault.unlock("admin", &pass("admin")).is_err());
    let admin = f.vault.unlock("admin", &new).unwrap();
    assert_eq!(admin.held_versions(Class::Content), vec![1, 2]);
    admin
        .add_user("x", petition_vault::Role::Analyst, None, &pass("x"))
        .unwrap();
    // Both attempts are in the log.
    let aud = unlock(&f, "aud");
    let n = aud.audit_len().unwrap();
    let log = aud.audit_entries(0, n as usize).unwrap();
    let rec: Vec<_> = log
        .iter()
        .filter(|e| e.entry.action == petition_vault::Action::RecoveryUnlock)
        .collect();
    assert_eq!(rec.len(), 5);
    assert!(f.vault.verify_audit(Some(&f.audit_key), &[]).is_ok());
}

// ---- backup and restore -------------------------------------------------------------------

#[test]
fn backup_with_a_flipped_byte_or_truncated_is_refused_and_a_good_one_restores() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let pid = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    reg.open_case(&new_case(vec![pid], None, false)).unwrap();
    let (manifest, bytes) = unlock(&f, "admin").backup().unwrap();
    assert!(manifest.trees["petitioners"] == 1);
    let target = f.dir.path().join("restored");
    for pos in [
        3,
        12,
        40,
        bytes.len() / 2,
        bytes.len() - 40,
        bytes.len() - 1,
    ] {
        let mut bad = bytes.clone();
        bad[pos] ^= 0x01;
        let err = petition_vault::backup::restore(&bad, &target).unwrap_err();
        assert!(
            !target.exists(),
            "byte {pos}: nothing may be created ({err})"
        );
    }
    let err = petition_vault::backup::restore(&bytes[..bytes.len() - 100], &target).unwrap_err();
    assert!(err.to_string().contains("corrupted or truncated"), "{err}");
    assert!(!target.exists());
    // A folder that exists and is not empty is refused and kept.
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("keep.txt"), b"x").unwrap();
    assert!(petition_vault::backup::restore(&bytes, &target).is_err());
    assert!(target.join("keep.txt").exists());
    let good = f.dir.path().join("restored2");
    petition_vault::backup::restore(&bytes, &good).unwrap();
    let v = Vault::open(&good, VaultOptions::insecure_for_tests()).unwrap();
    v.verify_audit(Some(&f.audit_key), &[]).unwrap();
    let admin = v.unlock("admin", &pass("admin")).unwrap();
    let report = admin.check().unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.checked["identity"], 4);
    let reg = v.unlock("reg", &pass("reg")).unwrap();
    assert!(reg.show_petitioner(pid, None).is_ok());
}

// ---- check --------------------------------------------------------------------------------

#[test]
fn check_names_a_tampered_record_by_id_and_skips_classes_without_key() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let pids: Vec<RecordId> = PEOPLE
        .iter()
        .map(|p| reg.add_petitioner(&new_petitioner(p)).unwrap())
        .collect();
    assert!(unlock(&f, "admin").check().unwrap().ok());
    let ana = unlock(&f, "ana").check().unwrap();
    assert!(ana.ok());
    assert!(ana.skipped["identity"] > 0 && ana.checked["masked"] == 2);
    // Flip one ciphertext byte of the second petitioner on disk.
    let store = f.vault.store();
    let mut bytes = store.get(Tree::Petitioners, &pids[1].0).unwrap().unwrap();
    let n = bytes.len();
    bytes[n / 3] ^= 0x40;
    let mut w = WriteSet::new();
    w.put(Tree::Petitioners, pids[1].0.to_vec(), bytes);
    store.commit_unaudited(&w).unwrap();
    // And an index entry pointing at nothing.
    let mut w = WriteSet::new();
    let mut k = vec![b'n'];
    k.extend_from_slice(&[7; 16]);
    k.extend_from_slice(&[9; 16]);
    w.put(Tree::Index, k, vec![]);
    store.commit_unaudited(&w).unwrap();
    let r = unlock(&f, "admin").check().unwrap();
    assert!(!r.ok());
    let text = format!("{:?}", r.problems);
    assert!(text.contains(&pids[1].to_string()), "{text}");
    assert!(text.contains(&RecordId([9; 16]).to_string()), "{text}");
    assert!(!text.contains(&pids[0].to_string()), "{text}");
    for p in PEOPLE {
        assert!(!text.contains(p.name) && !text.contains(p.phone));
    }
}

// ---- erasure ------------------------------------------------------------------------------

#[test]
fn erasure_leaves_no_trace_on_disk_after_compaction_and_no_index_hit() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let pid = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    let other = reg.add_petitioner(&new_petitioner(&PEOPLE[1])).unwrap();
    let cid = reg.open_case(&new_case(vec![pid], None, false)).unwrap();
    drop(reg);
    let store = f.vault.store();
    let old_record = store.get(Tree::Petitioners, &pid.0).unwrap().unwrap();
    let old_case = store.get(Tree::Cases, &cid.0).unwrap().unwrap();
    // Windows of the removed envelopes (the meta bundle, last in the record, stays).
    let mut needles: Vec<Vec<u8>> = (0..6)
        .map(|i| old_record[40 + i * 50..40 + i * 50 + 24].to_vec())
        .collect();
    needles.push(old_case[60..84].to_vec());
    let sup = unlock(&f, "sup");
    assert!(
        unlock(&f, "ana")
            .erase_petitioner(pid, &Reason::new("申请删除").unwrap())
            .is_err()
    );
    let e = sup
        .erase_petitioner(pid, &Reason::new("本人申请删除个人信息").unwrap())
        .unwrap();
    assert_eq!(e.cases_scrubbed, vec![cid]);
    assert!(e.index_entries_removed >= 4);
    // the record says it was erased, and shows nothing else of the person
    let shown = sup.show_petitioner(pid, None).unwrap();
    assert_eq!(shown.get("erased_by").unwrap().value.expose(), "sup");
    assert!(shown.get("erased_at").is_some());
    assert!(shown.get("name").is_none() && shown.get("id_number").is_none());
    use petition_vault::index::Query;
    let p = &PEOPLE[0];
    assert!(
        sup.find(&Query::id_number(p.id_number).unwrap())
            .unwrap()
            .is_empty()
    );
    assert!(
        sup.find(&Query::phone(p.phone).unwrap())
            .unwrap()
            .is_empty()
    );
    assert!(sup.find(&Query::name(p.name).unwrap()).unwrap().is_empty());
    assert_eq!(
        sup.find(&Query::name(PEOPLE[1].name).unwrap())
            .unwrap()
            .len(),
        1
    );
    let view = sup.show_petitioner(pid, None).unwrap();
    assert!(view.get("name").is_none() && view.get("phones").is_none());
    let t = sup.tombstone(pid).unwrap().unwrap();
    assert_eq!(t.erased_by, "sup");
    let case = sup.show_case(cid).unwrap();
    let text = case.get("content").unwrap().value.expose().to_owned();
    assert!(!text.contains(p.name) && !text.contains(p.phone), "{text}");
    assert!(sup.show_petitioner(other, None).is_ok());
    let report = sup.check().unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    drop(sup);
    let dir = f.dir.path().join("vault");
    let Fixture {
        dir: tmp,
        vault,
        audit_key,
    } = f;
    drop(store);
    drop(vault);
    let before = on_disk(&dir, &needles);
    eprintln!(
        "before compaction {} of {} erased byte windows were still in the files",
        before.len(),
        needles.len()
    );
    let c = petition_vault::backup::compact(&dir).unwrap();
    assert!(c.entries > 0);
    let after = on_disk(&dir, &needles);
    assert!(
        after.is_empty(),
        "old bytes still on disk: {after:?} (before: {before:?})"
    );
    let plain: Vec<Vec<u8>> = [p.name, p.id_number, p.phone, p.address, p.email]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    assert!(on_disk(&dir, &plain).is_empty());
    let vault = Vault::open(&dir, VaultOptions::insecure_for_tests()).unwrap();
    vault.verify_audit(Some(&audit_key), &[]).unwrap();
    let sup = vault.unlock("sup", &pass("sup")).unwrap();
    assert!(sup.check().unwrap().ok());
    // The ID number can be registered again: the unique entry is gone.
    let reg = vault.unlock("reg", &pass("reg")).unwrap();
    assert!(reg.add_petitioner(&new_petitioner(&PEOPLE[0])).is_ok());
    drop(tmp);
}

// ---- the same through the command line ----------------------------------------------------

#[test]
fn cli_backup_restore_check_recovery_and_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("vault");
    synthetic_vault(&dir, 3);
    let run = |args: &[&str], user: &str| pvault(&dir, user).args(args).output().unwrap();
    let bak = tmp.path().join("v.pvbak");
    let out = run(&["backup", "--out", bak.to_str().unwrap()], "admin");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut bytes = std::fs::read(&bak).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x10;
    let bad = tmp.path().join("bad.pvbak");
    std::fs::write(&bad, &bytes).unwrap();
    let target = tmp.path().join("restored");
    let out = pvault(&target, "admin")
        .args(["restore", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7));
    assert!(String::from_utf8_lossy(&out.stderr).contains("corrupted or truncated"));
    assert!(!target.exists());
    let out = pvault(&target, "admin")
        .args(["restore", bak.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for user in ["admin", "reg"] {
        let out = pvault(&target, user).args(["check"]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let out = pvault(&target, "admin")
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Recovery through the CLI: 2 of 3 shares.
    let shares = tmp.path().join("shares");
    let out = run(
        &[
            "recovery",
            "split",
            "--shares",
            "3",
            "--threshold",
            "2",
            "--out-dir",
            shares.to_str().unwrap(),
        ],
        "admin",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let share = |i: u8| shares.join(format!("recovery-share-{i}.txt"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(share(1)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let unlock_with = |files: &[PathBuf]| {
        let mut cmd = pvault(&dir, "admin");
        cmd.args(["recovery", "unlock", "--admin", "admin"])
            .env("PVAULT_NEW_PASSPHRASE", "passphrase of admin, recovered");
        for f in files {
            cmd.arg("--share").arg(f);
        }
        cmd.output().unwrap()
    };
    assert!(!unlock_with(&[share(2)]).status.success());
    let out = unlock_with(&[share(3), share(1)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = pvault(&dir, "admin")
        .env("PVAULT_PASSPHRASE", "passphrase of admin, recovered")
        .args(["keys", "status", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["recovery_configured"], true);
    // Retiring the only version is refused with a clear message.
    let out = pvault(&dir, "admin")
        .env("PVAULT_PASSPHRASE", "passphrase of admin, recovered")
        .args(["keys", "retire", "--class", "contact", "--version", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(8));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rotate first"));
    // The index class rotates too; retiring its old version waits for the re-index pass.
    let out = pvault(&dir, "admin")
        .env("PVAULT_PASSPHRASE", "passphrase of admin, recovered")
        .args(["keys", "rotate", "--class", "index"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = pvault(&dir, "admin")
        .env("PVAULT_PASSPHRASE", "passphrase of admin, recovered")
        .args(["keys", "retire", "--class", "index", "--version", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(8));
}

/// Rotating the index class re-indexes every petitioner and imported case under the new
/// version and removes the old entries; search, duplicate detection and import idempotence
/// keep working, and the old version retires.
#[test]
fn index_rotation_reindexes_and_the_old_version_retires() {
    use petition_vault::import::{self, Format};
    use petition_vault::index::Query;
    let f = fixture();
    let reg = unlock(&f, "reg");
    let a = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    let file = "姓名,身份证号,联系电话,标题,内容,类别\n王芳,110101199003074514,021-62345678,工资,拖欠工资,劳动社保\n";
    let run_import = |reg: &petition_vault::Session<'_>| {
        let parsed = import::parse(file.as_bytes(), Format::Csv, None).unwrap();
        reg.import(parsed, false, 100, &mut |_, _| {}).unwrap()
    };
    assert_eq!(run_import(&reg).cases_created, 1);
    drop(reg);
    let entries = |f: &Fixture| f.vault.store().scan_prefix(Tree::Index, b"").unwrap().len();
    let before = entries(&f);
    {
        let mut admin = unlock(&f, "admin");
        admin.rotate(Class::Index).unwrap();
        assert!(
            admin.retire(Class::Index, 1).is_err(),
            "not before the re-index pass"
        );
        let mut batches = 0;
        while admin.reencrypt_batch(Class::Index, 1).unwrap().is_some() {
            batches += 1;
        }
        assert!(batches >= 2);
        admin.retire(Class::Index, 1).unwrap();
    }
    assert_eq!(entries(&f), before, "entries moved, not duplicated");
    let reg = unlock(&f, "reg");
    assert_eq!(reg.held_versions(Class::Index), vec![2]);
    for q in [
        Query::id_number(PEOPLE[0].id_number).unwrap(),
        Query::phone(PEOPLE[0].phone).unwrap(),
        Query::name(PEOPLE[0].name).unwrap(),
        Query::id_last4(&PEOPLE[0].id_number[14..], 1949).unwrap(),
    ] {
        let hits = reg.find(&q).unwrap();
        assert_eq!(
            hits.iter().map(|v| v.id).collect::<Vec<_>>(),
            vec![a],
            "{q:?}"
        );
    }
    assert!(matches!(
        reg.add_petitioner(&new_petitioner(&PEOPLE[0])),
        Err(VaultError::Duplicate { existing, .. }) if existing == a
    ));
    let again = run_import(&reg);
    assert_eq!(
        (
            again.petitioners_created,
            again.cases_created,
            again.cases_skipped
        ),
        (0, 0, 1)
    );
    assert_eq!(
        reg.find(&Query::phone("021-62345678").unwrap())
            .unwrap()
            .len(),
        1
    );
}
