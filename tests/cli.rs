//! The `pvault` command line end to end: init → users of every role → petitioner → case →
//! show as each role, in text and JSON; exit codes for the failure paths.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::path::Path;

const ID: &str = "11010519491231002X";
const NAME: &str = "欧阳娜娜";
const PHONE: &str = "13812345678";

fn pvault(dir: &Path, user: Option<&str>) -> Command {
    let mut cmd = Command::cargo_bin("pvault").unwrap();
    cmd.env_clear()
        .env("PVAULT_INSECURE_TEST_KDF", "1")
        .env("PVAULT_DIR", dir)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    if let Some(u) = user {
        cmd.env("PVAULT_USER", u)
            .env("PVAULT_PASSPHRASE", format!("passphrase of {u}"));
    }
    cmd
}

fn json_of(out: &[u8]) -> Value {
    serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(out)))
}

struct Setup {
    _tmp: tempfile::TempDir,
    dir: std::path::PathBuf,
    petitioner: String,
    case: String,
}

fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("vault");
    let key = tmp.path().join("officer.key");
    pvault(&dir, None)
        .args(["init", "--admin", "admin", "--audit-key-out"])
        .arg(&key)
        .env("PVAULT_NEW_PASSPHRASE", "passphrase of admin")
        .assert()
        .success()
        .stdout(predicate::str::contains("created vault"));
    assert!(petition_vault::AuditKey::from_text(&std::fs::read_to_string(&key).unwrap()).is_ok());
    for (user, role, unit) in [
        ("reg", "registrar", "信访局"),
        ("han", "handler", "信访局"),
        ("sup", "supervisor", "信访局"),
        ("aud", "auditor", "纪委"),
        ("ana", "analyst", "信访局"),
        ("acc", "handler", "江宁区住房和城乡建设局"),
    ] {
        pvault(&dir, Some("admin"))
            .args(["user", "add", user, "--role", role, "--unit", unit])
            .env("PVAULT_NEW_PASSPHRASE", format!("passphrase of {user}"))
            .assert()
            .success();
    }
    let out = pvault(&dir, Some("reg"))
        .args([
            "--json",
            "petitioner",
            "add",
            "--name",
            NAME,
            "--id-number",
            ID,
            "--phone",
            "+86 138-1234-5678",
        ])
        .args([
            "--address",
            "江苏省南京市江宁区秣陵街道胜太路88号",
            "--ethnicity",
            "汉族",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let petitioner = json_of(&out)["id"].as_str().unwrap().to_owned();
    assert_eq!(petitioner.len(), 32);
    let out = pvault(&dir, Some("reg"))
        .args([
            "--json",
            "case",
            "open",
            "--petitioner",
            &petitioner,
            "--title",
            "拆迁补偿",
            "--category",
            "征地拆迁",
        ])
        .args([
            "--channel",
            "visit",
            "--content",
            "我叫欧阳娜娜，电话13812345678，补偿款未发放。",
        ])
        .args(["--accused-unit", "江宁区住房和城乡建设局", "--accusation"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let case = json_of(&out)["id"].as_str().unwrap().to_owned();
    pvault(&dir, Some("reg"))
        .args(["case", "assign", &case, "--to", "han"])
        .assert()
        .success();
    Setup {
        _tmp: tmp,
        dir,
        petitioner,
        case,
    }
}

#[test]
fn show_as_each_role_text_and_json() {
    let s = setup();
    // registrar: everything
    let v = json_of(
        &pvault(&s.dir, Some("reg"))
            .args(["--json", "petitioner", "show", &s.petitioner])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(v["fields"]["id_number"], ID);
    assert_eq!(v["fields"]["phones"], PHONE);
    assert_eq!(v["withheld"], Value::Array(vec![]));
    // handler: contact in full, identity masked
    let v = json_of(
        &pvault(&s.dir, Some("han"))
            .args(["--json", "petitioner", "show", &s.petitioner])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(v["fields"]["name"], NAME);
    let masked_id = v["fields"]["id_number"].as_str().unwrap();
    assert_ne!(masked_id, ID);
    assert!(masked_id.starts_with('1') && masked_id.ends_with("2X") && masked_id.contains("***"));
    assert!(
        v["masked"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "id_number")
    );
    // analyst: masked only, text output
    pvault(&s.dir, Some("ana"))
        .args(["petitioner", "show", &s.petitioner])
        .assert()
        .success()
        .stdout(predicate::str::contains("欧阳**"))
        .stdout(predicate::str::contains("138****5678"))
        .stdout(predicate::str::contains(NAME).not())
        .stdout(predicate::str::contains(ID).not())
        .stdout(predicate::str::contains(PHONE).not());
    // auditor: meta only, every PII field withheld
    let v = json_of(
        &pvault(&s.dir, Some("aud"))
            .args(["--json", "petitioner", "show", &s.petitioner])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    let withheld: Vec<&str> = v["withheld"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    for f in ["name", "id_number", "phones", "address"] {
        assert!(withheld.contains(&f), "{f} not withheld for auditor: {v}");
    }
    assert!(!v.to_string().contains(NAME) && !v.to_string().contains(PHONE));
    // supervisor: reveal needs a reason
    pvault(&s.dir, Some("sup"))
        .args(["petitioner", "show", &s.petitioner, "--reveal"])
        .assert()
        .code(2);
    let v = json_of(
        &pvault(&s.dir, Some("sup"))
            .args([
                "--json",
                "petitioner",
                "show",
                &s.petitioner,
                "--reveal",
                "--reason",
                "核实身份",
            ])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(v["fields"]["id_number"], ID);
    // case: handler sees content; accused unit's handler gets "not found"
    pvault(&s.dir, Some("han"))
        .args(["case", "show", &s.case])
        .assert()
        .success()
        .stdout(predicate::str::contains("补偿款未发放"));
    pvault(&s.dir, Some("acc"))
        .args(["case", "show", &s.case])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("no such record"));
    pvault(&s.dir, Some("ana"))
        .args(["--json", "case", "show", &s.case])
        .assert()
        .success()
        .stdout(predicate::str::contains(PHONE).not())
        .stdout(predicate::str::contains(NAME).not());
    let list = json_of(
        &pvault(&s.dir, Some("acc"))
            .args(["--json", "case", "list"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(list, Value::Array(vec![]));
    let list = json_of(
        &pvault(&s.dir, Some("han"))
            .args(["--json", "case", "list"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(list[0]["id"], s.case.as_str());
    assert_eq!(list[0]["assigned_to"], "han");
}

#[test]
fn failures_have_clear_messages_and_exit_codes() {
    let s = setup();
    // wrong passphrase
    pvault(&s.dir, Some("reg"))
        .env("PVAULT_PASSPHRASE", "wrong wrong wrong")
        .args(["case", "list"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("wrong user name or passphrase"));
    // denied
    pvault(&s.dir, Some("ana"))
        .args(["petitioner", "add", "--name", "李四", "--id-number", ID])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("denied"));
    // invalid ID: names the rule, not the value
    pvault(&s.dir, Some("reg"))
        .args([
            "petitioner",
            "add",
            "--name",
            "李四",
            "--id-number",
            "110105194912310021",
        ])
        .assert()
        .code(8)
        .stderr(predicate::str::contains("id_number"))
        .stderr(predicate::str::contains("110105194912310021").not());
    // unknown record id
    pvault(&s.dir, Some("reg"))
        .args(["case", "show", "zz"])
        .assert()
        .code(8)
        .stderr(predicate::str::contains("32 hexadecimal digits"));
    // missing vault
    pvault(&s.dir.join("nope"), Some("reg"))
        .args(["case", "list"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("no vault at"));
    // no passphrase and no terminal
    pvault(&s.dir, None)
        .env("PVAULT_USER", "reg")
        .args(["case", "list"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("PVAULT_PASSPHRASE"));
    // unknown role is a usage error
    pvault(&s.dir, Some("admin"))
        .args(["user", "add", "x", "--role", "boss"])
        .assert()
        .code(2);
    // init over an existing vault
    pvault(&s.dir, None)
        .env("PVAULT_NEW_PASSPHRASE", "another long passphrase")
        .args(["init", "--admin", "admin2"])
        .assert()
        .code(8)
        .stderr(predicate::str::contains("not empty"));
}

#[test]
fn second_process_gets_in_use() {
    let s = setup();
    let _held =
        petition_vault::Vault::open(&s.dir, petition_vault::VaultOptions::insecure_for_tests())
            .unwrap();
    pvault(&s.dir, Some("reg"))
        .args(["case", "list"])
        .assert()
        .code(6)
        .stderr(predicate::str::contains(
            "vault is in use by another process",
        ));
}

#[test]
fn audit_log_and_verify() {
    let s = setup();
    pvault(&s.dir, Some("han"))
        .args(["case", "show", &s.case])
        .assert()
        .success();
    let log = json_of(
        &pvault(&s.dir, Some("aud"))
            .args(["--json", "audit", "log", "--last", "5"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    let entries = log.as_array().unwrap();
    assert_eq!(entries.len(), 5);
    assert!(entries.iter().any(|e| e["action"] == "case_show"
        && e["actor"] == "han"
        && e["targets"][0] == s.case.as_str()));
    assert!(!log.to_string().contains(NAME) && !log.to_string().contains(PHONE));
    pvault(&s.dir, Some("han"))
        .args(["audit", "log"])
        .assert()
        .code(4);
    let key = s.dir.parent().unwrap().join("officer.key");
    pvault(&s.dir, None)
        .args(["audit", "verify", "--audit-key"])
        .arg(&key)
        .assert()
        .success()
        .stdout(predicate::str::starts_with("ok: "));
}

fn log_json(dir: &Path, args: &[&str]) -> Vec<Value> {
    let out = pvault(dir, Some("aud"))
        .args(["--json", "audit", "log"])
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    json_of(&out).as_array().unwrap().clone()
}

/// Every CLI read path leaves exactly the entries expected, in order, and nothing more.
#[test]
fn each_cli_read_path_leaves_exactly_its_entries() {
    let s = setup();
    let before = log_json(&s.dir, &["--last", "1"])[0]["seq"]
        .as_u64()
        .unwrap();
    let run = |user: &str, args: &[&str]| {
        let _ = pvault(&s.dir, Some(user)).args(args).assert();
    };
    run("han", &["case", "show", &s.case]);
    run("han", &["petitioner", "show", &s.petitioner]);
    run("acc", &["case", "show", &s.case]);
    run("ana", &["case", "list"]);
    run(
        "sup",
        &[
            "petitioner",
            "show",
            &s.petitioner,
            "--reveal",
            "--reason",
            "核实身份",
        ],
    );
    let after = log_json(&s.dir, &["--last", "20"]);
    let new: Vec<(String, String, String, String)> = after
        .iter()
        .filter(|e| e["seq"].as_u64().unwrap() > before)
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_owned(),
                e["action"].as_str().unwrap().to_owned(),
                e["outcome"].as_str().unwrap().to_owned(),
                e["targets"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap()[..8].to_owned())
                    .collect::<Vec<_>>()
                    .join(","),
            )
        })
        .collect();
    let c = &s.case[..8];
    let p = &s.petitioner[..8];
    let expect = |a: &str, b: &str, c: &str, d: &str| {
        (a.to_owned(), b.to_owned(), c.to_owned(), d.to_owned())
    };
    assert_eq!(
        new,
        vec![
            // (the first query's own entries come before `before`: a read is logged first)
            expect("han", "unlock", "allowed", ""),
            expect("han", "case_show", "allowed", c),
            expect("han", "unlock", "allowed", ""),
            expect("han", "petitioner_show", "allowed", p),
            expect("acc", "unlock", "allowed", ""),
            expect("acc", "case_show", "denied", c),
            expect("ana", "unlock", "allowed", ""),
            expect("ana", "case_list", "allowed", c),
            expect("sup", "unlock", "allowed", ""),
            expect("sup", "petitioner_reveal", "allowed", p),
            expect("aud", "unlock", "allowed", ""),
            expect("aud", "audit_read", "allowed", ""),
        ]
    );
}

#[test]
fn audit_log_filters_checkpoint_export_and_offline_verify() {
    let s = setup();
    pvault(&s.dir, Some("acc"))
        .args(["case", "show", &s.case])
        .assert()
        .code(5);
    let by_record = log_json(&s.dir, &["--record", &s.case]);
    assert!(by_record.len() >= 3);
    assert!(by_record.iter().all(|e| {
        e["targets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == s.case.as_str())
    }));
    let denied = log_json(&s.dir, &["--denied"]);
    assert!(!denied.is_empty() && denied.iter().all(|e| e["outcome"] == "denied"));
    assert!(
        denied
            .iter()
            .any(|e| e["actor"] == "acc" && e["detail"] == "accused_unit_firewall")
    );
    let by_actor = log_json(&s.dir, &["--actor", "acc", "--action", "case_show"]);
    assert_eq!(by_actor.len(), 1);
    assert!(log_json(&s.dir, &["--since", "2000-01-01", "--until", "2000-01-02"]).is_empty());
    pvault(&s.dir, Some("aud"))
        .args(["audit", "log", "--action", "peek"])
        .assert()
        .code(8)
        .stderr(predicate::str::contains("unknown action"));
    pvault(&s.dir, Some("aud"))
        .args(["audit", "log", "--since", "yesterday"])
        .assert()
        .code(8)
        .stderr(predicate::str::contains("bad time"));

    let tmp = s.dir.parent().unwrap();
    let cp = tmp.join("cp.json");
    let bundle = tmp.join("log.bundle");
    let key = tmp.join("officer.key");
    pvault(&s.dir, Some("aud"))
        .args(["audit", "checkpoint", "--out"])
        .arg(&cp)
        .assert()
        .success();
    pvault(&s.dir, Some("aud"))
        .args(["audit", "export", "--out"])
        .arg(&bundle)
        .assert()
        .success();
    pvault(&s.dir, Some("han"))
        .args(["audit", "export", "--out"])
        .arg(tmp.join("x"))
        .assert()
        .code(4);
    // offline: no vault at all
    pvault(&tmp.join("no-vault-here"), None)
        .args(["audit", "verify", "--bundle"])
        .arg(&bundle)
        .arg("--audit-key")
        .arg(&key)
        .arg("--checkpoint")
        .arg(&cp)
        .assert()
        .success()
        .stdout(predicate::str::starts_with("ok: "));
    // a truncated bundle is refused
    let bytes = std::fs::read(&bundle).unwrap();
    std::fs::write(tmp.join("short.bundle"), &bytes[..bytes.len() - 40]).unwrap();
    pvault(&s.dir, None)
        .args(["audit", "verify", "--bundle"])
        .arg(tmp.join("short.bundle"))
        .assert()
        .code(7)
        .stderr(predicate::str::contains("truncated or corrupted"));
    // the live vault verifies against the checkpoint, with the key
    pvault(&s.dir, None)
        .args(["--json", "audit", "verify", "--audit-key"])
        .arg(&key)
        .arg("--checkpoint")
        .arg(&cp)
        .assert()
        .success()
        .stdout(predicate::str::contains("\"key_pinned\":true"));
}

#[test]
fn verify_names_the_first_bad_entry() {
    let s = setup();
    {
        let vault =
            petition_vault::Vault::open(&s.dir, petition_vault::VaultOptions::insecure_for_tests())
                .unwrap();
        let store = vault.store();
        let mut w = petition_vault::store::WriteSet::new();
        w.delete(
            petition_vault::store::Tree::Audit,
            5u64.to_be_bytes().to_vec(),
        );
        store.commit_unaudited(&w).unwrap();
    }
    pvault(&s.dir, None)
        .args(["audit", "verify"])
        .assert()
        .code(7)
        .stderr(predicate::str::contains("entry 5: gap"));
}

#[test]
fn canary_touch_is_flagged() {
    let s = setup();
    let out = pvault(&s.dir, Some("admin"))
        .args(["--json", "canary", "add"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = json_of(&out);
    let canary = v["petitioner"].as_str().unwrap().to_owned();
    pvault(&s.dir, Some("reg"))
        .args(["petitioner", "show", &canary])
        .assert()
        .success();
    let hits = log_json(&s.dir, &["--record", &canary]);
    let show = hits
        .iter()
        .find(|e| e["action"] == "petitioner_show")
        .unwrap();
    assert_eq!(show["actor"], "reg");
    let entries = log_json(&s.dir, &["--actor", "reg", "--last", "1"]);
    assert_eq!(entries[0]["flags"], serde_json::json!(["canary"]));
    // nothing the registrar sees marks it
    pvault(&s.dir, Some("reg"))
        .args(["--json", "petitioner", "show", &canary])
        .assert()
        .success()
        .stdout(predicate::str::contains("canary").not());
}

#[test]
fn report_flags_reveals_denials_and_canaries() {
    let s = setup();
    let out = pvault(&s.dir, Some("admin"))
        .args(["--json", "canary", "add"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let canary_case = json_of(&out)["case"].as_str().unwrap().to_owned();
    pvault(&s.dir, Some("sup"))
        .args(["case", "show", &canary_case])
        .assert()
        .success();
    pvault(&s.dir, Some("sup"))
        .args([
            "petitioner",
            "show",
            &s.petitioner,
            "--reveal",
            "--reason",
            "核实身份",
        ])
        .assert()
        .success();
    for _ in 0..3 {
        pvault(&s.dir, Some("acc"))
            .args(["case", "show", &s.case])
            .assert()
            .code(5);
    }
    let html = s.dir.parent().unwrap().join("report.html");
    let out = pvault(&s.dir, Some("aud"))
        .args(["--json", "audit", "report", "--html"])
        .arg(&html)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let r = json_of(&out);
    assert_eq!(r["canary"][0]["user"], "sup");
    assert_eq!(r["reveals"][0]["user"], "sup");
    assert_eq!(r["reveals"][0]["reason"], "核实身份");
    assert_eq!(r["repeated_denials"][0]["user"], "acc");
    assert_eq!(r["findings"][0]["severity"], "high");
    assert_eq!(r["findings"][0]["code"], "canary");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && page.contains("sup"));
    assert!(!page.contains(NAME) && !page.contains(PHONE));
    pvault(&s.dir, Some("ana"))
        .args(["audit", "report"])
        .assert()
        .code(4);
}

#[test]
fn find_duplicate_related_and_import() {
    let s = setup();
    // find by ID in lowercase, by phone in another format
    let found = json_of(
        &pvault(&s.dir, Some("reg"))
            .args([
                "--json",
                "petitioner",
                "find",
                "--id-number",
                &ID.to_lowercase(),
            ])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(found[0]["id"], s.petitioner.as_str());
    pvault(&s.dir, Some("han"))
        .args(["petitioner", "find", "--phone", "138 1234 5678"])
        .assert()
        .success()
        .stdout(predicate::str::contains(NAME))
        .stdout(predicate::str::contains(ID).not());
    pvault(&s.dir, Some("reg"))
        .args(["petitioner", "find", "--id-last4", "002X"])
        .assert()
        .success()
        .stdout(predicate::str::contains(NAME));
    pvault(&s.dir, Some("reg"))
        .args(["petitioner", "find"])
        .assert()
        .code(2);
    // duplicate at intake: distinct exit code, the existing id
    let out = pvault(&s.dir, Some("reg"))
        .args([
            "--json",
            "petitioner",
            "add",
            "--name",
            NAME,
            "--id-number",
            ID,
        ])
        .assert()
        .code(10)
        .get_output()
        .stdout
        .clone();
    let v = json_of(&out);
    assert_eq!(v["duplicate_of"], s.petitioner.as_str());
    assert_eq!(v["open_cases"], 1);
    // a second case in the same category shows the earlier one
    let out = pvault(&s.dir, Some("reg"))
        .args([
            "--json",
            "case",
            "open",
            "--petitioner",
            &s.petitioner,
            "--title",
            "再次反映",
            "--category",
            "征地拆迁",
        ])
        .args(["--channel", "letter", "--content", "补偿款仍未发放。"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = json_of(&out);
    assert_eq!(v["earlier_cases"][0]["id"], s.case.as_str());
    let new_case = v["id"].as_str().unwrap().to_owned();
    let rel = json_of(
        &pvault(&s.dir, Some("reg"))
            .args(["--json", "case", "related", &new_case])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(rel[0]["id"], s.case.as_str());
    assert_eq!(rel[0]["relation"], "shared_petitioner");
    // import a GBK file with one bad row: the rest is imported, exit code 8, the line named
    let text = "姓名,身份证号,联系电话\n王芳,110101199003074514,021-62345678\n李四,110105194912310021,13900000000\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    let file = s.dir.parent().unwrap().join("register.csv");
    std::fs::write(&file, &gbk).unwrap();
    pvault(&s.dir, Some("reg"))
        .args(["import", "--format", "csv", "--dry-run"])
        .arg(&file)
        .assert()
        .code(8)
        .stdout(predicate::str::contains("dry run"))
        .stdout(predicate::str::contains("GB18030"));
    let out = pvault(&s.dir, Some("reg"))
        .args(["--json", "import", "--format", "csv"])
        .arg(&file)
        .assert()
        .code(8)
        .get_output()
        .stdout
        .clone();
    let r = json_of(&out);
    assert_eq!(r["petitioners_created"], 1);
    assert_eq!(r["rejected"][0]["line"], 3);
    assert!(!r.to_string().contains("110105194912310021"));
    pvault(&s.dir, Some("reg"))
        .args(["petitioner", "find", "--name", "王芳"])
        .assert()
        .success()
        .stdout(predicate::str::contains("021-62345678"));
    // a stream (here standard input), which can be read only once, imports too
    let out = pvault(&s.dir, Some("reg"))
        .args(["--json", "import", "--format", "jsonl", "/dev/stdin"])
        .write_stdin("{\"姓名\":\"赵敏\",\"身份证号\":\"11010519491231002X\"}\n")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let r = json_of(&out);
    assert_eq!(r["rows"], 1, "{r}");
    assert_eq!(
        r["petitioners_merged"], 1,
        "an ID number already registered: {r}"
    );
    // a folder is named as unreadable, not as a broken file
    pvault(&s.dir, Some("reg"))
        .args(["import", "--format", "csv"])
        .arg(s.dir.parent().unwrap())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("reading"));
}

#[test]
fn redact_command_needs_no_vault() {
    let tmp = tempfile::tempdir().unwrap();
    let letter = "尊敬的领导：我叫欧阳娜娜，电话138 1234 5678，身份证号11010519491231002X，住江苏省南京市江宁区秣陵街道胜太路88号。";
    let mut cmd = pvault(&tmp.path().join("none"), None);
    cmd.arg("redact").write_stdin(letter);
    let out = cmd.assert().success().get_output().stdout.clone();
    let text = String::from_utf8(out).unwrap();
    for v in ["欧阳娜娜", "1234 5678", "11010519491231002X", "胜太路88号"] {
        assert!(!text.contains(v), "{v} survived: {text}");
    }
    assert!(text.contains("尊敬的领导"));
    let file = tmp.path().join("letter.txt");
    let (gbk, _, _) = encoding_rs::GBK.encode(letter);
    std::fs::write(&file, &gbk).unwrap();
    let out = pvault(&tmp.path().join("none"), None)
        .args(["--json", "redact", "--level", "publication"])
        .arg(&file)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = json_of(&out);
    assert!(v["text"].as_str().unwrap().contains("欧阳某"), "{v}");
    let kinds: Vec<&str> = v["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    for k in ["name", "mobile", "id_number", "address"] {
        assert!(kinds.contains(&k), "{k} not among {kinds:?}");
    }
    assert!(v["spans"][0]["start"].is_u64() && v["spans"][0]["end"].is_u64());
}

#[test]
fn export_writes_the_file_and_a_matching_manifest() {
    let s = setup();
    let out = s.dir.parent().unwrap().join("cases.csv");
    let r = json_of(
        &pvault(&s.dir, Some("ana"))
            .args([
                "--json",
                "export",
                "--profile",
                "redacted",
                "--format",
                "csv",
                "--bom",
                "--out",
            ])
            .arg(&out)
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains(NAME) && !text.contains(ID) && !text.contains(PHONE));
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(s.dir.parent().unwrap().join("cases.csv.manifest.json")).unwrap(),
    )
    .unwrap();
    use sha2::Digest;
    assert_eq!(
        manifest["sha256"],
        hex::encode(sha2::Sha256::digest(&bytes))
    );
    assert_eq!(manifest["count"], 1);
    assert_eq!(manifest["actor"], "ana");
    assert_eq!(manifest["export_id"], r["export_id"]);
    // refuses to overwrite; full needs a reason; the export is in the log
    pvault(&s.dir, Some("ana"))
        .args([
            "export",
            "--profile",
            "redacted",
            "--format",
            "csv",
            "--out",
        ])
        .arg(&out)
        .assert()
        .code(8);
    pvault(&s.dir, Some("reg"))
        .args(["export", "--profile", "full", "--format", "jsonl", "--out"])
        .arg(s.dir.parent().unwrap().join("full.jsonl"))
        .assert()
        .code(8)
        .stderr(predicate::str::contains("--reason"));
    let log = log_json(&s.dir, &["--action", "export"]);
    assert_eq!(log.len(), 1);
    assert_eq!(
        log[0]["detail"],
        format!("export_id:{}", r["export_id"].as_str().unwrap())
    );
    // a refused export leaves no file, not even a partial one
    let denied = s.dir.parent().unwrap().join("handler.csv");
    pvault(&s.dir, Some("han"))
        .args([
            "export",
            "--profile",
            "redacted",
            "--format",
            "csv",
            "--out",
        ])
        .arg(&denied)
        .assert()
        .failure();
    let names: Vec<String> = std::fs::read_dir(s.dir.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with("handler.csv")),
        "{names:?}"
    );
    // statistics
    pvault(&s.dir, Some("ana"))
        .args(["stats", "--by", "category"])
        .assert()
        .success()
        .stdout(predicate::str::contains("<5"));
}

#[test]
fn case_workflow_commands() {
    let s = setup();
    pvault(&s.dir, Some("reg"))
        .args(["case", "transition", &s.case, "--to", "handling"])
        .assert()
        .code(8)
        .stderr(predicate::str::contains(
            "allowed next: accepted, not_accepted",
        ));
    pvault(&s.dir, Some("reg"))
        .args([
            "case",
            "transition",
            &s.case,
            "--to",
            "受理",
            "--note",
            "符合受理条件",
        ])
        .assert()
        .success();
    let due = json_of(
        &pvault(&s.dir, Some("reg"))
            .args(["--json", "case", "due", "--within", "90"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(due[0]["kind"], "handling");
    pvault(&s.dir, Some("reg"))
        .args([
            "case", "extend", &s.case, "--days", "40", "--reason", "复杂",
        ])
        .assert()
        .code(8);
    pvault(&s.dir, Some("reg"))
        .args([
            "case",
            "extend",
            &s.case,
            "--days",
            "30",
            "--reason",
            "案情复杂",
        ])
        .assert()
        .success();
    let r = json_of(
        &pvault(&s.dir, Some("sup"))
            .args([
                "--json",
                "case",
                "assess",
                &s.case,
                "--nature",
                "ordinary",
                "--headcount",
                "8",
                "--organisation",
                "loose_group",
                "--impact",
                "local",
            ])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(r["level"], "medium");
    let list = json_of(
        &pvault(&s.dir, Some("reg"))
            .args(["--json", "case", "list", "--warnings"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(list[0]["warnings"], serde_json::json!(["group_visit"]));
    let pkg = s.dir.parent().unwrap().join("forward.json");
    pvault(&s.dir, Some("reg"))
        .args([
            "case",
            "forward",
            &s.case,
            "--to-unit",
            "江宁区住房和城乡建设局",
            "--out",
        ])
        .arg(&pkg)
        .assert()
        .code(4)
        .stderr(predicate::str::contains("30(3)"));
    assert!(!pkg.exists());
    pvault(&s.dir, Some("reg"))
        .args([
            "case",
            "forward",
            &s.case,
            "--to-unit",
            "江宁区人民政府",
            "--out",
        ])
        .arg(&pkg)
        .assert()
        .success();
    let text = std::fs::read_to_string(&pkg).unwrap();
    assert!(!text.contains(NAME) && !text.contains(PHONE) && text.contains("补偿款"));
}

#[test]
fn cache_size_is_a_checked_option() {
    let s = setup();
    pvault(&s.dir, Some("reg"))
        .args(["--cache-mib", "16", "case", "list"])
        .assert()
        .success();
    pvault(&s.dir, Some("reg"))
        .env("PVAULT_CACHE_MIB", "8")
        .args(["case", "list"])
        .assert()
        .success();
    for bad in ["0", "lots", "100000"] {
        pvault(&s.dir, Some("reg"))
            .env("PVAULT_CACHE_MIB", bad)
            .args(["case", "list"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--cache-mib"));
    }
}
