//! Bad input, one row each: a clear message that says what to do, a documented non-zero
//! exit code, nothing half-written, and no value echoed back.

use assert_cmd::Command;
use petition_vault::store::Tree;
use std::path::{Path, PathBuf};

const SECRET_ID: &str = "110105194912310021"; // bad check digit
const NAME: &str = "欧阳娜娜";

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

fn setup() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("vault");
    pvault(&dir, None)
        .args(["init", "--admin", "admin"])
        .env("PVAULT_NEW_PASSPHRASE", "passphrase of admin")
        .assert()
        .success();
    pvault(&dir, Some("admin"))
        .args(["user", "add", "reg", "--role", "registrar"])
        .env("PVAULT_NEW_PASSPHRASE", "passphrase of reg")
        .assert()
        .success();
    (tmp, dir)
}

fn counts(dir: &Path) -> (usize, usize) {
    let v = petition_vault::Vault::open(dir, petition_vault::VaultOptions::insecure_for_tests())
        .unwrap();
    let s = v.store();
    (
        s.scan_prefix(Tree::Petitioners, b"").unwrap().len(),
        s.scan_prefix(Tree::Cases, b"").unwrap().len(),
    )
}

struct Row {
    what: &'static str,
    args: Vec<String>,
    user: Option<&'static str>,
    passphrase: Option<&'static str>,
    code: i32,
    says: &'static str,
    never: &'static [&'static str],
}

fn row(what: &'static str, args: &[&str], code: i32, says: &'static str) -> Row {
    Row {
        what,
        args: args.iter().map(|s| s.to_string()).collect(),
        user: Some("reg"),
        passphrase: None,
        code,
        says,
        never: &[],
    }
}

#[test]
fn bad_input_table() {
    let (tmp, dir) = setup();
    let big = tmp.path().join("big.txt");
    std::fs::write(&big, "诉".repeat(10 * 1024 * 1024 / 3)).unwrap();
    let garbage = tmp.path().join("garbage.bin");
    std::fs::write(
        &garbage,
        [0xff, 0xfe, 0x00, 0x81, 0x30, 0xc0, 0xff, 0x00, 0x9f, 0xee].repeat(100),
    )
    .unwrap();
    let big = big.to_str().unwrap().to_owned();
    let garbage = garbage.to_str().unwrap().to_owned();
    let pid = "00".repeat(16);
    let rows = vec![
        Row {
            never: &[SECRET_ID, "11010519491231"],
            ..row(
                "invalid ID checksum",
                &[
                    "petitioner",
                    "add",
                    "--name",
                    NAME,
                    "--id-number",
                    SECRET_ID,
                ],
                8,
                "check digit",
            )
        },
        row(
            "empty name",
            &[
                "petitioner",
                "add",
                "--name",
                " ",
                "--id-number",
                "11010519491231002X",
            ],
            8,
            "invalid name",
        ),
        Row {
            never: &[NAME],
            ..row(
                "name of 1000 characters",
                &[
                    "petitioner",
                    "add",
                    "--name",
                    &"欧".repeat(1000),
                    "--id-number",
                    "11010519491231002X",
                ],
                8,
                "invalid name",
            )
        },
        row(
            "bad phone",
            &[
                "petitioner",
                "add",
                "--name",
                NAME,
                "--id-number",
                "11010519491231002X",
                "--phone",
                "12345",
            ],
            8,
            "invalid phone",
        ),
        row(
            "10 MB complaint",
            &[
                "case",
                "open",
                "--petitioner",
                &pid,
                "--title",
                "t",
                "--category",
                "c",
                "--channel",
                "letter",
                "--content-file",
                &big,
            ],
            8,
            "at most 100000 characters",
        ),
        row(
            "binary garbage as content",
            &[
                "case",
                "open",
                "--petitioner",
                &pid,
                "--title",
                "t",
                "--category",
                "c",
                "--channel",
                "letter",
                "--content-file",
                &garbage,
            ],
            8,
            "not UTF-8",
        ),
        row(
            "binary garbage as an import",
            &["import", "--format", "csv", &garbage],
            8,
            "header row",
        ),
        row(
            "unknown petitioner on a case",
            &[
                "case",
                "open",
                "--petitioner",
                &pid,
                "--title",
                "t",
                "--category",
                "c",
                "--channel",
                "letter",
                "--content",
                "x",
            ],
            5,
            "no such record",
        ),
        row(
            "malformed record id",
            &["case", "show", "xyz"],
            8,
            "32 hexadecimal digits",
        ),
        row(
            "unknown role",
            &["user", "add", "x", "--role", "boss"],
            2,
            "invalid value",
        ),
        row(
            "unknown channel",
            &[
                "case",
                "open",
                "--petitioner",
                &pid,
                "--title",
                "t",
                "--category",
                "c",
                "--channel",
                "fax",
                "--content",
                "x",
            ],
            2,
            "invalid value",
        ),
        Row {
            passphrase: Some("not the passphrase"),
            ..row(
                "wrong passphrase",
                &["case", "list"],
                3,
                "wrong user name or passphrase",
            )
        },
        Row {
            user: None,
            ..row("no user", &["case", "list"], 8, "--user")
        },
        row(
            "reveal without a reason",
            &["petitioner", "show", &pid, "--reveal"],
            2,
            "--reason",
        ),
        row(
            "unknown time",
            &[
                "export",
                "--profile",
                "redacted",
                "--format",
                "csv",
                "--out",
                "/nonexistent/x.csv",
                "--since",
                "someday",
            ],
            8,
            "bad time",
        ),
    ];
    let before = counts(&dir);
    for r in rows {
        let mut cmd = pvault(&dir, r.user);
        if let Some(p) = r.passphrase {
            cmd.env("PVAULT_PASSPHRASE", p);
        }
        let out = cmd.args(&r.args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(r.code), "{}: {stderr}", r.what);
        assert!(
            stderr.contains(r.says),
            "{}: message lacks {:?}: {stderr}",
            r.what,
            r.says
        );
        for v in r.never {
            assert!(
                !stderr.contains(v) && !String::from_utf8_lossy(&out.stdout).contains(v),
                "{}: echoed a value",
                r.what
            );
        }
        assert!(!stderr.contains("panicked"), "{}: panic", r.what);
    }
    assert_eq!(counts(&dir), before, "nothing half-written");
}

#[test]
fn missing_vault_and_concurrent_opener() {
    let (tmp, dir) = setup();
    let out = pvault(&tmp.path().join("nowhere"), Some("reg"))
        .args(["case", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pvault init"));
    let _held =
        petition_vault::Vault::open(&dir, petition_vault::VaultOptions::insecure_for_tests())
            .unwrap();
    let out = pvault(&dir, Some("reg"))
        .args(["case", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&out.stderr).contains("close the other pvault"));
}

#[test]
fn corrupted_vault_file_is_an_integrity_error() {
    let (_tmp, dir) = setup();
    let db = dir.join("db").join("db");
    let len = std::fs::metadata(&db).unwrap().len() as usize;
    std::fs::write(&db, vec![0x5a; len]).unwrap();
    let out = pvault(&dir, Some("reg"))
        .args(["case", "list"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    assert!(stderr.contains("restore"), "says what to do: {stderr}");
}

/// The CLI writes nothing outside the vault but the files it is asked to write: a fresh
/// TMPDIR stays empty through a session of registrations, searches, reveals and exports.
#[test]
fn no_temp_files_outside_the_vault() {
    let (tmp, dir) = setup();
    let tmpdir = tmp.path().join("tmpdir");
    std::fs::create_dir(&tmpdir).unwrap();
    let run = |args: &[&str]| {
        let out = pvault(&dir, Some("reg"))
            .env("TMPDIR", &tmpdir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let id = run(&[
        "petitioner",
        "add",
        "--name",
        NAME,
        "--id-number",
        "11010519491231002X",
        "--phone",
        "13812345678",
    ]);
    run(&[
        "case",
        "open",
        "--petitioner",
        id.trim(),
        "--title",
        "补偿",
        "--category",
        "征地拆迁",
        "--channel",
        "letter",
        "--content",
        "我叫欧阳娜娜，电话13812345678。",
    ]);
    run(&["petitioner", "find", "--phone", "13812345678"]);
    run(&[
        "petitioner",
        "show",
        id.trim(),
        "--reveal",
        "--reason",
        "核实",
    ]);
    let export = tmp.path().join("out.csv");
    run(&[
        "export",
        "--profile",
        "redacted",
        "--format",
        "csv",
        "--out",
        export.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read_dir(&tmpdir).unwrap().count(),
        0,
        "files left in TMPDIR"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&export).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "exports are private to their owner");
    }
}
