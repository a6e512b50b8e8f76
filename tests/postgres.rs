//! One behavioural suite, two stores: every shared behaviour runs on sled and on
//! PostgreSQL (`sled::…` and `pg::…`). Then what only PostgreSQL has: many client
//! processes at once, a client killed mid-transaction, the append-only grants, TLS,
//! schema migrations and moving a sled vault onto PostgreSQL.
//!
//! PostgreSQL tests need PVAULT_TEST_PG and PVAULT_TEST_PG_APP (see tests/common/backends.rs);
//! under CI their absence fails the run.

mod common;

use common::backends::{BackendFixture, PgSchema, pg_fixture, raw_client, sled_fixture};
use common::*;
use petition_vault::audit::{self, Outcome};
use petition_vault::model::synth::Synth;
use petition_vault::store::{
    AuditAppend, FaultyStore, PgStore, SledStore, Store, StoreError, Tree, WriteSet,
};
use petition_vault::{
    Class, NewPetitioner, Reason, RecordId, SecretText, Vault, VaultError, VaultOptions,
};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// The shared behaviours: each takes a fixture (one user per role) on some store.

fn values_of(view: &petition_vault::RecordView) -> String {
    view.fields
        .iter()
        .map(|f| f.value.expose().to_owned())
        .collect::<Vec<_>>()
        .join("|")
}

fn person_values(p: &Person) -> [&'static str; 5] {
    [p.name, p.id_number, p.phone, p.address, p.email]
}

fn users_roles_and_records(f: &Fixture) {
    let admin = unlock(f, "admin");
    let users = admin.list_users().unwrap();
    for (name, role, _) in USERS {
        assert!(
            users.iter().any(|u| u.name == *name && u.role == *role),
            "{name} missing"
        );
    }
    // the key custodian reads no record through the gate
    let reg = unlock(f, "reg");
    let pid = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    assert!(matches!(
        admin.show_petitioner(pid, None),
        Err(VaultError::Denied(_))
    ));
    let view = reg.show_petitioner(pid, None).unwrap();
    assert_eq!(view.get("name").unwrap().value.expose(), PEOPLE[0].name);
    assert_eq!(
        view.get("id_number").unwrap().value.expose(),
        PEOPLE[0].id_number
    );
    let cid = reg.open_case(&new_case(vec![pid], None, false)).unwrap();
    reg.assign_case(cid, "han").unwrap();
    let han = unlock(f, "han");
    let case = han.show_case(cid).unwrap();
    assert!(case.get("content").is_some_and(|c| !c.masked));
    let other = reg.open_case(&new_case(vec![pid], None, false)).unwrap();
    assert!(matches!(han.show_case(other), Err(VaultError::Denied(_))));
}

fn analyst_and_auditor_see_no_pii(f: &Fixture) {
    let reg = unlock(f, "reg");
    let pid = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    let cid = reg.open_case(&new_case(vec![pid], None, false)).unwrap();
    for user in ["ana", "aud"] {
        let s = unlock(f, user);
        assert!(!s.held_classes().contains(&Class::Identity));
        assert!(!s.held_classes().contains(&Class::Contact));
        for view in [
            s.show_petitioner(pid, None).unwrap(),
            s.show_case(cid).unwrap(),
        ] {
            let values = values_of(&view);
            for v in person_values(&PEOPLE[0]) {
                assert!(!values.contains(v), "{user} saw a full value");
            }
        }
        assert!(matches!(
            s.show_petitioner(pid, Some(&Reason::new("核实").unwrap())),
            Err(VaultError::Denied(_))
        ));
    }
    let aud = unlock(f, "aud");
    let n = aud.audit_len().unwrap();
    let log = format!("{:?}", aud.audit_entries(0, n as usize).unwrap());
    for v in person_values(&PEOPLE[0]) {
        assert!(!log.contains(v), "audit log holds PII");
    }
}

fn accused_unit_firewall(f: &Fixture) {
    let reg = unlock(f, "reg");
    let pid = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    let cid = reg
        .open_case(&new_case(vec![pid], Some(ACCUSED_UNIT), true))
        .unwrap();
    assert!(matches!(
        reg.assign_case(cid, "accused"),
        Err(VaultError::Denied(_))
    ));
    let acc = unlock(f, "accused");
    assert!(matches!(acc.show_case(cid), Err(VaultError::NotFound(id)) if id == cid));
    assert!(matches!(
        acc.show_petitioner(pid, None),
        Err(VaultError::NotFound(_))
    ));
    assert!(acc.list_cases().unwrap().is_empty());
    let aud = unlock(f, "aud");
    let n = aud.audit_len().unwrap();
    let denied = aud
        .audit_entries(0, n as usize)
        .unwrap()
        .iter()
        .filter(|e| e.entry.outcome == Outcome::Denied && e.entry.actor == "accused")
        .count();
    assert_eq!(denied, 2);
}

fn duplicate_id_number_is_refused(f: &Fixture) {
    let reg = unlock(f, "reg");
    let pid = reg.add_petitioner(&new_petitioner(&PEOPLE[1])).unwrap();
    let err = reg.add_petitioner(&new_petitioner(&PEOPLE[1])).unwrap_err();
    assert!(
        matches!(err, VaultError::Duplicate { existing, .. } if existing == pid),
        "{err}"
    );
    assert_eq!(
        f.vault
            .store()
            .scan_prefix(Tree::Petitioners, b"")
            .unwrap()
            .len(),
        1
    );
    // put_new below the gate: the whole write set fails, nothing of it lands
    let store = f.vault.store();
    let mut w = WriteSet::new();
    w.put_new(Tree::Index, b"pv-test-unique".to_vec(), vec![1]);
    store.commit_unaudited(&w).unwrap();
    let mut w = WriteSet::new();
    w.put(Tree::Index, b"pv-test-other".to_vec(), vec![2]);
    w.put_new(Tree::Index, b"pv-test-unique".to_vec(), vec![3]);
    let err = store.commit_unaudited(&w).unwrap_err();
    assert!(
        matches!(err, StoreError::Exists { tree: "index", .. }),
        "{err}"
    );
    assert_eq!(
        store.get(Tree::Index, b"pv-test-unique").unwrap(),
        Some(vec![1])
    );
    assert_eq!(store.get(Tree::Index, b"pv-test-other").unwrap(), None);
}

fn fail_closed_when_the_log_cannot_be_written(f: &Fixture) {
    let reg = unlock(f, "reg");
    let pid = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    drop(reg);
    let faulty = Arc::new(FaultyStore::new(f.vault.store()));
    let vault =
        Vault::open_store(faulty.clone(), None, VaultOptions::insecure_for_tests()).unwrap();
    let reg = vault.unlock("reg", &pass("reg")).unwrap();
    let before = audit::log_len(faulty.as_ref()).unwrap();
    faulty.fail_commits(true);
    assert!(matches!(
        reg.show_petitioner(pid, None),
        Err(VaultError::AuditFailed(_))
    ));
    assert!(reg.add_petitioner(&new_petitioner(&PEOPLE[1])).is_err());
    assert!(reg.open_case(&new_case(vec![pid], None, false)).is_err());
    assert!(vault.unlock("reg", &pass("reg")).is_err());
    faulty.fail_commits(false);
    assert_eq!(audit::log_len(faulty.as_ref()).unwrap(), before);
    assert_eq!(faulty.scan_prefix(Tree::Petitioners, b"").unwrap().len(), 1);
    assert!(faulty.scan_prefix(Tree::Cases, b"").unwrap().is_empty());
    assert!(reg.show_petitioner(pid, None).is_ok());
    assert!(vault.verify_audit(Some(&f.audit_key), &[]).is_ok());
}

fn audit_log_verifies_and_detects_a_wrong_key(f: &Fixture) {
    let reg = unlock(f, "reg");
    let pid = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    reg.show_petitioner(pid, None).unwrap();
    let report = f.vault.verify_audit(Some(&f.audit_key), &[]).unwrap();
    assert!(report.entries >= 10 && report.macs_checked);
    assert_eq!(
        report.entries,
        audit::log_len(f.vault.store().as_ref()).unwrap()
    );
    let mac_hex = f
        .audit_key
        .to_text()
        .lines()
        .find_map(|l| l.strip_prefix("mac-key ").map(str::to_owned))
        .unwrap();
    let wrong = petition_vault::AuditKey::from_text(
        &f.audit_key.to_text().replace(&mac_hex, &"11".repeat(32)),
    )
    .unwrap();
    assert!(matches!(
        f.vault.verify_audit(Some(&wrong), &[]),
        Err(petition_vault::VerifyError::Mac { seq: 0 })
    ));
}

fn case_numbers_are_unique_and_consecutive(f: &Fixture) {
    let reg = unlock(f, "reg");
    let pid = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    for _ in 0..5 {
        reg.open_case(&new_case(vec![pid], None, false)).unwrap();
    }
    let mut numbers: Vec<String> = reg
        .list_cases()
        .unwrap()
        .into_iter()
        .map(|c| c.meta.case_no)
        .collect();
    numbers.sort();
    let suffixes: Vec<u32> = numbers
        .iter()
        .map(|n| n.rsplit('-').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(suffixes, vec![1, 2, 3, 4, 5]);
}

/// The store primitives the layers above rely on, with awkward keys (0x00, 0xff, prefixes
/// of each other): both engines must order and bound them the same way.
fn store_primitives_agree(f: &Fixture) {
    let store = f.vault.store();
    let p = [0xfe, 0xfd];
    let keys: Vec<Vec<u8>> = vec![
        [&p[..], b""].concat(),
        [&p[..], &[0x00]].concat(),
        [&p[..], &[0x00, 0x00]].concat(),
        [&p[..], &[0x01]].concat(),
        [&p[..], &[0x7f, 0xff]].concat(),
        [&p[..], &[0xff]].concat(),
        [&p[..], &[0xff, 0xff, 0x00]].concat(),
        vec![0xfe, 0xfe],
        vec![0xff],
        vec![0xff, 0xff],
    ];
    let mut w = WriteSet::new();
    for (i, k) in keys.iter().enumerate() {
        w.put(Tree::Index, k.clone(), vec![i as u8; i]);
    }
    // a later write to a key wins, and a delete after a put removes it
    w.put(Tree::Index, keys[3].clone(), b"second".to_vec());
    w.put(Tree::Index, b"pv-gone".to_vec(), vec![1]);
    w.delete(Tree::Index, b"pv-gone".to_vec());
    store.commit_unaudited(&w).unwrap();
    assert_eq!(
        store.get(Tree::Index, &keys[3]).unwrap().unwrap(),
        b"second"
    );
    assert_eq!(store.get(Tree::Index, b"pv-gone").unwrap(), None);
    let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    for (i, k) in keys.iter().enumerate() {
        model.insert(k.clone(), vec![i as u8; i]);
    }
    model.insert(keys[3].clone(), b"second".to_vec());
    let ours: Vec<(Vec<u8>, Vec<u8>)> = store
        .scan_prefix(Tree::Index, &[0xfe])
        .unwrap()
        .into_iter()
        .chain(store.scan_prefix(Tree::Index, &[0xff]).unwrap())
        .collect();
    let all: Vec<(Vec<u8>, Vec<u8>)> = model.clone().into_iter().collect();
    assert_eq!(ours, all);
    let pre: Vec<_> = all
        .iter()
        .filter(|(k, _)| k.starts_with(&p))
        .cloned()
        .collect();
    assert_eq!(store.scan_prefix(Tree::Index, &p).unwrap(), pre);
    let ff: Vec<_> = all.iter().filter(|(k, _)| k[0] == 0xff).cloned().collect();
    assert_eq!(
        store.scan_prefix(Tree::Index, &[0xff, 0xff]).unwrap(),
        ff[1..]
    );
    let (s, e) = (keys[1].clone(), keys[5].clone());
    let inrange: Vec<_> = all
        .iter()
        .filter(|(k, _)| *k >= s && *k < e)
        .cloned()
        .collect();
    assert_eq!(store.range(Tree::Index, &s, &e, 100).unwrap(), inrange);
    assert_eq!(store.range(Tree::Index, &s, &e, 2).unwrap(), inrange[..2]);
    let mut rev = inrange.clone();
    rev.reverse();
    assert_eq!(store.range_rev(Tree::Index, &s, &e, 100).unwrap(), rev);
    assert_eq!(store.range_rev(Tree::Index, &s, &e, 3).unwrap(), rev[..3]);
    let mut seen = Vec::new();
    store
        .visit(Tree::Index, &keys[4], &mut |k, _| {
            seen.push(k.to_vec());
            seen.len() < 4
        })
        .unwrap();
    let expect: Vec<Vec<u8>> = all
        .iter()
        .map(|(k, _)| k.clone())
        .filter(|k| *k >= keys[4])
        .take(4)
        .collect();
    assert_eq!(seen, expect);
    // a bounded visit: exactly [start, end), nothing when end ≤ start, stoppable
    let visited = |start: &[u8], end: Option<&[u8]>, most: usize| {
        let mut seen = Vec::new();
        store
            .visit_range(Tree::Index, start, end, &mut |k, v| {
                seen.push((k.to_vec(), v.to_vec()));
                seen.len() < most
            })
            .unwrap();
        seen
    };
    assert_eq!(visited(&s, Some(&e), usize::MAX), inrange);
    assert_eq!(visited(&s, Some(&e), 2), inrange[..2]);
    assert_eq!(visited(&e, Some(&s), usize::MAX), vec![]);
    assert_eq!(visited(&s, Some(&s), usize::MAX), vec![]);
    let from_s: Vec<_> = all.iter().filter(|(k, _)| *k >= s).cloned().collect();
    assert_eq!(visited(&s, None, usize::MAX), from_s);
    // a bounded visit longer than one page of the PostgreSQL store (1,000 rows), ending
    // inside the next page: every key once, in order, none past the end
    let mut w = WriteSet::new();
    let many: Vec<Vec<u8>> = (0..2500u32)
        .map(|i| [&[0xfcu8][..], &i.to_be_bytes()].concat())
        .collect();
    for k in &many {
        w.put(Tree::Index, k.clone(), k[1..].to_vec());
    }
    store.commit_unaudited(&w).unwrap();
    let got = visited(&many[3], Some(&many[2203]), usize::MAX);
    let want: Vec<_> = many[3..2203]
        .iter()
        .map(|k| (k.clone(), k[1..].to_vec()))
        .collect();
    assert!(got == want, "2,200 keys over three pages");
    // the counter behind case numbers
    assert_eq!(store.reserve(Tree::Meta, b"pv-test-counter", 3).unwrap(), 0);
    assert_eq!(store.reserve(Tree::Meta, b"pv-test-counter", 1).unwrap(), 3);
    assert_eq!(
        store.get(Tree::Meta, b"pv-test-counter").unwrap().unwrap(),
        4u64.to_be_bytes()
    );
}

macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sled {
            $(#[test]
            fn $name() {
                super::$name(&super::sled_fixture());
            })*
        }
        mod pg {
            $(#[test]
            fn $name() {
                if let Some(f) = super::pg_fixture() {
                    super::$name(&f);
                }
            })*
        }
    };
}

on_both_stores!(
    users_roles_and_records,
    analyst_and_auditor_see_no_pii,
    accused_unit_firewall,
    duplicate_id_number_is_refused,
    fail_closed_when_the_log_cannot_be_written,
    audit_log_verifies_and_detects_a_wrong_key,
    case_numbers_are_unique_and_consecutive,
    store_primitives_agree,
);

// ---------------------------------------------------------------------------------------
// PostgreSQL only: the database's own defences.

fn db_code(e: &postgres::Error) -> String {
    e.code().map(|c| c.code().to_owned()).unwrap_or_default()
}

#[test]
fn audit_tables_reject_update_and_delete_from_the_app_role() {
    let Some(f) = pg_fixture() else { return };
    let schema = f.pg.as_ref().unwrap();
    let app_base = std::env::var("PVAULT_TEST_PG_APP").unwrap();
    let mut app = raw_client(&app_base, &schema.name);
    let entries: i64 = app
        .query_one("SELECT count(*) FROM pv_audit", &[])
        .unwrap()
        .get(0);
    assert!(entries > 5);
    for sql in [
        "UPDATE pv_audit SET value = value",
        "DELETE FROM pv_audit",
        "TRUNCATE pv_audit",
        "UPDATE pv_audit_index SET value = value",
        "DELETE FROM pv_audit_index",
        "DROP TABLE pv_audit",
        "ALTER TABLE pv_audit DISABLE TRIGGER ALL",
        "CREATE TABLE pv_sneaky (x int)",
        "DELETE FROM schema_version",
    ] {
        let err = app.batch_execute(sql).unwrap_err();
        assert_eq!(db_code(&err), "42501", "{sql}: {err}");
    }
    // the application role may append, and may change record tables
    app.batch_execute("INSERT INTO pv_audit_index (key, value) VALUES ('\\x00ff', '')")
        .unwrap();
    app.batch_execute("UPDATE pv_users SET value = value")
        .unwrap();
    // even the owner meets the trigger (it would have to drop it first, which is logged
    // by PostgreSQL's DDL logging where enabled)
    let mut owner = schema.owner_client();
    for sql in ["UPDATE pv_audit SET value = value", "DELETE FROM pv_audit"] {
        let err = owner.batch_execute(sql).unwrap_err();
        assert_eq!(db_code(&err), "42501", "{sql}: {err}");
    }
    let after: i64 = app
        .query_one("SELECT count(*) FROM pv_audit", &[])
        .unwrap()
        .get(0);
    assert_eq!(after, entries);
    assert!(f.vault.verify_audit(Some(&f.audit_key), &[]).is_ok());
}

#[test]
fn schema_migrations_are_versioned_and_owner_only() {
    let Some(schema) = PgSchema::new() else {
        return;
    };
    assert_eq!(
        PgStore::migrate(&schema.owner_url, "pvault_app").unwrap(),
        Vec::<i32>::new(),
        "a second run applies nothing"
    );
    let store = schema.store();
    assert_eq!(store.schema_version().unwrap(), 1);
    // the application role can neither migrate nor connect to an unmigrated schema
    let err = PgStore::migrate(&schema.app_url, "pvault_app").unwrap_err();
    assert!(err.to_string().contains("owner role"), "{err}");
    let (owner, app) = common::backends::pg_urls().unwrap();
    let fresh = format!("pvt_unmigrated_{}", std::process::id());
    let mut c = postgres::Client::connect(&owner, postgres::NoTls).unwrap();
    c.batch_execute(&format!(
        "CREATE SCHEMA {fresh}; GRANT USAGE ON SCHEMA {fresh} TO pvault_app"
    ))
    .unwrap();
    let err = PgStore::connect(&common::backends::with_param(&app, "schema", &fresh)).unwrap_err();
    c.batch_execute(&format!("DROP SCHEMA {fresh} CASCADE"))
        .unwrap();
    assert!(err.to_string().contains("pvault db setup"), "{err}");
    // an unknown application role is named, not half-migrated
    let err = PgStore::migrate(
        &common::backends::with_param(&owner, "schema", "pvt_never"),
        "no_such_role_x",
    )
    .unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
}

#[test]
fn tls_connections_encrypt_and_verify_the_server() {
    let Some(schema) = PgSchema::new() else {
        return;
    };
    let app = std::env::var("PVAULT_TEST_PG_APP").unwrap();
    let with = |url: &str, extra: &str| {
        format!(
            "{}&schema={}",
            url.replace("sslmode=disable", extra),
            schema.name
        )
    };
    // require: encrypted (the server's certificate is self-signed, libpq semantics)
    let store = PgStore::connect(&with(&app, "sslmode=require")).unwrap();
    assert!(store.tls_in_use().unwrap());
    let plain = PgStore::connect(&with(&app, "sslmode=disable")).unwrap();
    assert!(!plain.tls_in_use().unwrap());
    match std::env::var("PVAULT_TEST_PG_TLS") {
        Ok(tls) => {
            // verify-full with the test CA on the certificate's name: accepted
            let store =
                PgStore::connect(&common::backends::with_param(&tls, "schema", &schema.name))
                    .unwrap();
            assert!(store.tls_in_use().unwrap());
            // the same CA but an address the certificate does not name: refused
            let wrong_host = tls.replace("@localhost:", "@127.0.0.1:");
            let err = PgStore::connect(&common::backends::with_param(
                &wrong_host,
                "schema",
                &schema.name,
            ))
            .unwrap_err();
            assert!(!err.to_string().contains("app-test-pw"), "{err}");
            // verify-full without the CA: the system roots do not know a self-signed cert
            let no_ca = tls.split("&sslrootcert").next().unwrap().to_owned();
            assert!(
                PgStore::connect(&common::backends::with_param(
                    &no_ca,
                    "schema",
                    &schema.name
                ))
                .is_err()
            );
        }
        Err(_) => eprintln!("SKIPPED part: PVAULT_TEST_PG_TLS unset, verify-full not tried"),
    }
}

#[test]
fn a_second_vault_on_one_store_is_refused() {
    let Some(f) = pg_fixture() else { return };
    let schema = f.pg.as_ref().unwrap();
    let err = Vault::create_on(
        Arc::new(schema.store()),
        "admin2",
        &pass("admin2"),
        VaultOptions::insecure_for_tests(),
    )
    .unwrap_err();
    assert!(matches!(err, VaultError::StoreNotEmpty), "{err}");
    // the first vault is untouched
    assert!(f.vault.verify_audit(Some(&f.audit_key), &[]).is_ok());
    assert!(f.vault.unlock("admin", &pass("admin")).is_ok());
}

#[test]
fn wrong_password_errors_do_not_show_it() {
    let Some((_, app)) = common::backends::pg_urls() else {
        return;
    };
    let bad = app.replace("app-test-pw", "not-the-pw-4711");
    let err = PgStore::connect(&bad).unwrap_err().to_string();
    assert!(!err.contains("not-the-pw-4711"), "{err}");
    assert!(err.contains("***"), "{err}");
    assert!(err.contains("password authentication failed"), "{err}");
}

// ---------------------------------------------------------------------------------------
// Many client processes at once. The test binary runs itself as a worker: the ignored
// test `pg_worker_process` does the work when PVAULT_PG_WORKER is set.

/// An ID number no other worker makes: Beijing district by worker, birth date and
/// sequence number by counter, and the ISO 7064 check digit.
fn unique_id_number(worker: u32, i: u32) -> String {
    const REGIONS: [&str; 12] = [
        "110101", "110102", "110105", "110106", "110107", "110108", "110109", "110111", "110112",
        "110113", "110114", "110115",
    ];
    let region = REGIONS[worker as usize % REGIONS.len()];
    let day = time::Date::from_calendar_date(1950, time::Month::January, 1).unwrap()
        + time::Duration::days(i64::from(i / 900));
    let body = format!(
        "{region}{:04}{:02}{:02}{:03}",
        day.year(),
        u8::from(day.month()),
        day.day(),
        100 + i % 900
    );
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(W)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

fn worker_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

#[test]
#[ignore = "a worker process spawned by the concurrency tests"]
fn pg_worker_process() {
    let Some(mode) = worker_env("PVAULT_PG_WORKER") else {
        return;
    };
    let url = worker_env("PVAULT_PG_WORKER_URL").unwrap();
    let store = Arc::new(PgStore::connect(&url).unwrap());
    let ack = |line: String| {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "ACK {line}").unwrap();
        out.flush().unwrap();
    };
    if mode == "hang" {
        // Start a transaction that writes a record and an index entry, and never finish it.
        let mut w = WriteSet::new();
        w.put(Tree::Petitioners, b"pv-half-written".to_vec(), vec![1; 64]);
        w.put_new(Tree::Index, b"pv-half-written-index".to_vec(), vec![2]);
        let build = |head: Option<&[u8]>| -> Result<AuditAppend, StoreError> {
            assert!(head.is_some());
            ack("in-transaction".into());
            std::thread::sleep(Duration::from_secs(120));
            Err(StoreError::Audit("not reached".into()))
        };
        let _ = store.commit(&w, &build);
        return;
    }
    let worker: u32 = worker_env("PVAULT_PG_WORKER_INDEX")
        .unwrap()
        .parse()
        .unwrap();
    let secs: u64 = worker_env("PVAULT_PG_WORKER_SECS")
        .unwrap()
        .parse()
        .unwrap();
    let vault = Vault::open_store(store, None, VaultOptions::insecure_for_tests()).unwrap();
    let user = format!("reg{worker}");
    let session = vault.unlock(&user, &pass(&user)).unwrap();
    ack("unlock".into());
    let mut synth = Synth::new(u64::from(worker) + 1);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut i = 0;
    while Instant::now() < deadline {
        let person = synth.person();
        let p = NewPetitioner {
            name: person.name.into(),
            id_number: unique_id_number(worker, i).into(),
            phones: vec![person.phone.into()],
            address: Some(person.address.into()),
            email: None,
            ethnicity: Some(SecretText::from(person.ethnicity)),
        };
        i += 1;
        let pid = session.add_petitioner(&p).unwrap();
        ack(format!("add {pid}"));
        let view = session.show_petitioner(pid, None).unwrap();
        assert!(view.get("id_number").is_some());
        ack("show".into());
        if i % 3 == 0 {
            let cid = session
                .open_case(&new_case(vec![pid], None, false))
                .unwrap();
            ack(format!("case {cid}"));
            session.show_case(cid).unwrap();
            ack("show-case".into());
        }
    }
}

fn spawn_worker(mode: &str, url: &str, index: u32, secs: u64) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "pg_worker_process",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("PVAULT_PG_WORKER", mode)
        .env("PVAULT_PG_WORKER_URL", url)
        .env("PVAULT_PG_WORKER_INDEX", index.to_string())
        .env("PVAULT_PG_WORKER_SECS", secs.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

#[derive(Default, Debug)]
struct Acks {
    total: u64,
    petitioners: Vec<RecordId>,
    cases: Vec<RecordId>,
}

fn read_acks(out: std::process::ChildStdout) -> Acks {
    let mut acks = Acks::default();
    for line in BufReader::new(out).lines() {
        let Ok(line) = line else { break };
        // libtest may print "test pg_worker_process ... " on the same line as the first ACK
        let Some(rest) = line.find("ACK ").map(|at| &line[at + 4..]) else {
            continue;
        };
        acks.total += 1;
        if let Some(id) = rest.strip_prefix("add ") {
            acks.petitioners.push(RecordId::parse(id).unwrap());
        } else if let Some(id) = rest.strip_prefix("case ") {
            acks.cases.push(RecordId::parse(id).unwrap());
        }
    }
    acks
}

/// Users reg0..regN-1 (registrars), for the workers.
fn add_registrars(f: &BackendFixture, n: u32) {
    let admin = unlock(f, "admin");
    for i in 0..n {
        let name = format!("reg{i}");
        admin
            .add_user(
                &name,
                petition_vault::Role::Registrar,
                Some("信访局"),
                &pass(&name),
            )
            .unwrap();
    }
}

/// Nothing half-written: each record has the audit entry of its write, each unique index
/// entry points at a record, and the head agrees with the log.
fn assert_consistent(f: &BackendFixture) {
    let store = f.vault.store();
    let report = f.vault.verify_audit(Some(&f.audit_key), &[]).unwrap();
    let rows = store
        .range(Tree::Audit, &[], &[0xff; 9], usize::MAX)
        .unwrap()
        .len() as u64;
    assert_eq!(report.entries, rows);
    assert_eq!(audit::log_len(store.as_ref()).unwrap(), rows);
    for (key, _) in store.scan_prefix(Tree::Petitioners, b"").unwrap() {
        let mut prefix = vec![b'r'];
        prefix.extend_from_slice(&key);
        assert!(
            !store
                .scan_prefix(Tree::AuditIndex, &prefix)
                .unwrap()
                .is_empty(),
            "a petitioner without its audit entry"
        );
    }
    let petitioners: BTreeSet<Vec<u8>> = store
        .scan_prefix(Tree::Petitioners, b"")
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let uniques = store
        // `U | tag` → record id: the one-petitioner-per-ID-number entries (src/index.rs)
        .scan_prefix(Tree::Index, b"U")
        .unwrap();
    assert_eq!(uniques.len(), petitioners.len());
    for (_, v) in uniques {
        assert!(
            petitioners.contains(&v),
            "a unique index entry without its record"
        );
    }
}

#[test]
fn eight_clients_at_once_keep_one_linear_chain() {
    let Some(f) = pg_fixture() else { return };
    let schema = f.pg.as_ref().unwrap();
    let clients: u32 = std::env::var("PVAULT_PG_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let secs: u64 = std::env::var("PVAULT_PG_SOAK_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    add_registrars(&f, clients);
    let store = f.vault.store();
    let before = audit::log_len(store.as_ref()).unwrap();
    let started = Instant::now();
    let mut children: Vec<Child> = (0..clients)
        .map(|i| spawn_worker("soak", &schema.app_url, i, secs))
        .collect();
    let readers: Vec<_> = children
        .iter_mut()
        .map(|c| {
            let out = c.stdout.take().unwrap();
            std::thread::spawn(move || read_acks(out))
        })
        .collect();
    let mut acks = Acks::default();
    for r in readers {
        let a = r.join().unwrap();
        acks.total += a.total;
        acks.petitioners.extend(a.petitioners);
        acks.cases.extend(a.cases);
    }
    for c in &mut children {
        assert!(c.wait().unwrap().success(), "a worker failed");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = audit::log_len(store.as_ref()).unwrap();
    eprintln!(
        "concurrency: {clients} client processes, {secs} s, {} acknowledged operations \
         ({} petitioners, {} cases), {} new audit entries, {:.0} ops/s, wall {elapsed:.1} s",
        acks.total,
        acks.petitioners.len(),
        acks.cases.len(),
        after - before,
        acks.total as f64 / elapsed
    );
    assert!(acks.total > u64::from(clients) * 2);
    // one entry per acknowledged operation (each worker's unlock included), no more
    assert_eq!(after - before, acks.total);
    for pid in &acks.petitioners {
        assert!(store.get(Tree::Petitioners, &pid.0).unwrap().is_some());
    }
    for cid in &acks.cases {
        assert!(store.get(Tree::Cases, &cid.0).unwrap().is_some());
    }
    assert_eq!(
        store.scan_prefix(Tree::Petitioners, b"").unwrap().len(),
        acks.petitioners.len()
    );
    // one linear chain: every sequence number once, each entry chained to the one before
    assert_consistent(&f);
    // case numbers: handed out once each across all processes
    let reg = unlock(&f, "reg");
    let numbers: BTreeSet<String> = reg
        .list_cases()
        .unwrap()
        .into_iter()
        .map(|c| c.meta.case_no)
        .collect();
    assert_eq!(numbers.len(), acks.cases.len());
}

#[test]
fn a_client_killed_mid_transaction_leaves_nothing_half_written() {
    let Some(f) = pg_fixture() else { return };
    let schema = f.pg.as_ref().unwrap();
    let store = f.vault.store();
    let before = audit::log_len(store.as_ref()).unwrap();
    // 1. killed while holding the audit-head lock, its writes sent but not committed
    let mut child = spawn_worker("hang", &schema.app_url, 0, 0);
    let out = child.stdout.take().unwrap();
    let first = BufReader::new(out)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.contains("ACK "));
    assert!(
        first.is_some_and(|l| l.ends_with("ACK in-transaction")),
        "the worker did not reach its transaction"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    // the server rolls back and frees the lock: the next commit goes through at once
    let t = Instant::now();
    let reg = unlock(&f, "reg");
    assert!(t.elapsed() < Duration::from_secs(10));
    assert_eq!(
        store.get(Tree::Petitioners, b"pv-half-written").unwrap(),
        None
    );
    assert_eq!(
        store.get(Tree::Index, b"pv-half-written-index").unwrap(),
        None
    );
    assert_eq!(audit::log_len(store.as_ref()).unwrap(), before + 1);
    drop(reg);
    // 2. workers killed at an arbitrary moment of their loop
    add_registrars(&f, 3);
    let mut children: Vec<Child> = (0..3)
        .map(|i| spawn_worker("soak", &schema.app_url, i, 6))
        .collect();
    std::thread::sleep(Duration::from_millis(2500));
    children[0].kill().unwrap();
    std::thread::sleep(Duration::from_millis(700));
    children[1].kill().unwrap();
    for c in &mut children {
        read_acks(c.stdout.take().unwrap());
        c.wait().unwrap();
    }
    assert_consistent(&f);
    // and the vault goes on
    let reg = unlock(&f, "reg");
    reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    assert!(f.vault.verify_audit(Some(&f.audit_key), &[]).is_ok());
}

// ---------------------------------------------------------------------------------------
// Moving a sled vault onto PostgreSQL.

fn tree_contents(store: &dyn Store, t: Tree) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    store
        .visit(t, &[], &mut |k, v| {
            out.push((k.to_vec(), v.to_vec()));
            true
        })
        .unwrap();
    out
}

#[test]
fn a_sled_vault_of_ten_thousand_records_moves_to_postgres() {
    let Some(schema) = PgSchema::new() else {
        return;
    };
    let n: usize = std::env::var("PVAULT_PG_MIGRATE_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let f = fixture();
    let vault_dir = f.dir.path().join("vault");
    let mut synth = Synth::new(42);
    let mut csv = String::from("name,id_number,phone,title,category,channel,content\n");
    let mut seen = BTreeSet::new();
    let mut sample = None;
    while seen.len() < n {
        let p = synth.person();
        if !seen.insert(p.id_number.clone()) {
            continue;
        }
        if seen.len() % 10 == 0 {
            let c = synth.case_for(&p);
            csv.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                p.name,
                p.id_number,
                p.phone,
                c.title.replace(',', "，"),
                c.category,
                c.channel,
                c.content.replace(',', "，").replace('\n', " ")
            ));
        } else {
            csv.push_str(&format!("{},{},{},,,,\n", p.name, p.id_number, p.phone));
        }
        if sample.is_none() && seen.len() == n / 2 {
            sample = Some(p);
        }
    }
    let t = Instant::now();
    {
        let reg = unlock(&f, "reg");
        let parsed = petition_vault::import::parse(
            csv.as_bytes(),
            petition_vault::import::Format::Csv,
            None,
        )
        .unwrap();
        let report = reg.import(parsed, false, 1000, &mut |_, _| {}).unwrap();
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        assert_eq!(report.petitioners_created, n);
    }
    let import_secs = t.elapsed().as_secs_f64();
    let audit_key = f.audit_key;
    drop(f.vault);
    // copy the folder's store, as ciphertext: no vault is opened, no key is used
    let sled = SledStore::open(&vault_dir, 8 << 20).unwrap();
    let pg = schema.store();
    let t = Instant::now();
    let report = pg.copy_from(&sled, &mut |_| {}).unwrap();
    let copy_secs = t.elapsed().as_secs_f64();
    let records =
        tree_contents(&sled, Tree::Petitioners).len() + tree_contents(&sled, Tree::Cases).len();
    eprintln!(
        "migration: {records} records ({} petitioners), {} entries, {} bytes copied in \
         {copy_secs:.1} s (import into sled took {import_secs:.1} s)",
        n,
        report.total(),
        report.bytes
    );
    assert!(records >= 10_000 || n < 10_000);
    for t in Tree::ALL {
        assert_eq!(
            tree_contents(&sled, t),
            tree_contents(&pg, t),
            "tree {} differs after the copy",
            t.name()
        );
    }
    // a second copy into the now non-empty store is refused
    assert!(pg.copy_from(&sled, &mut |_| {}).is_err());
    drop(sled);
    // the vault on PostgreSQL: same keys, chain verifies, and continues
    let vault = Vault::open_store(Arc::new(pg), None, VaultOptions::insecure_for_tests()).unwrap();
    let before = vault.verify_audit(Some(&audit_key), &[]).unwrap();
    let reg = vault.unlock("reg", &pass("reg")).unwrap();
    let sample = sample.unwrap();
    let hits = reg
        .find(&petition_vault::index::Query::id_number(&sample.id_number).unwrap())
        .unwrap();
    assert_eq!(hits.len(), 1);
    let view = reg.show_petitioner(hits[0].id, None).unwrap();
    assert_eq!(view.get("name").unwrap().value.expose(), sample.name);
    let after = vault.verify_audit(Some(&audit_key), &[]).unwrap();
    assert_eq!(after.entries, before.entries + 3);
}

#[test]
fn cli_init_migrate_and_verify_on_postgres() {
    let Some(schema) = PgSchema::new() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("vault");
    let key = tmp.path().join("officer.key");
    let pvault = |store: Option<&str>| {
        let mut cmd = assert_cmd::Command::cargo_bin("pvault").unwrap();
        cmd.env_clear()
            .env("PVAULT_INSECURE_TEST_KDF", "1")
            .env("PVAULT_DIR", &dir)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        if let Some(s) = store {
            cmd.env("PVAULT_STORE", s);
        }
        cmd
    };
    pvault(None)
        .args(["init", "--admin", "admin", "--audit-key-out"])
        .arg(&key)
        .env("PVAULT_NEW_PASSPHRASE", "passphrase of admin")
        .assert()
        .success();
    pvault(None)
        .args(["user", "add", "reg", "--role", "registrar"])
        .env("PVAULT_USER", "admin")
        .env("PVAULT_PASSPHRASE", "passphrase of admin")
        .env("PVAULT_NEW_PASSPHRASE", "passphrase of reg")
        .assert()
        .success();
    let out = pvault(None)
        .args(["--json", "migrate", "--from"])
        .arg(&dir)
        .args(["--to", &schema.app_url, "--audit-key"])
        .arg(&key)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains("app-test-pw"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["macs_checked"], true);
    // on the new store: a write, then the chain still verifies with the officer's key
    pvault(Some(&schema.app_url))
        .args(["petitioner", "add", "--name", PEOPLE[0].name, "--id-number"])
        .arg(PEOPLE[0].id_number)
        .env("PVAULT_USER", "reg")
        .env("PVAULT_PASSPHRASE", "passphrase of reg")
        .assert()
        .success();
    pvault(Some(&schema.app_url))
        .args(["audit", "verify", "--audit-key"])
        .arg(&key)
        .assert()
        .success();
    // a bad password is reported without it
    let bad = schema.app_url.replace("app-test-pw", "wrong-pw-0815");
    let out = pvault(Some(&bad))
        .args(["audit", "verify"])
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(
        !err.contains("wrong-pw-0815") && err.contains("***"),
        "{err}"
    );
}
