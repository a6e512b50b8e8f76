//! Throughput on PostgreSQL with 1, 4 and 8 client processes against one sled process, in
//! the same run. One operation is one audited write (register a petitioner) or one audited
//! read (show that petitioner), each durable before it returns: sled flushes and fsyncs,
//! PostgreSQL commits with `synchronous_commit = on`.
//!
//! Needs a PostgreSQL owner and application role (as `.ci/postgres.sh` makes):
//!
//! ```text
//! source .ci/postgres.sh && pg_test_start
//! cargo run --release --example pg_bench -- 10      # seconds per configuration
//! ```
//!
//! Reads PVAULT_TEST_PG (owner URL) and PVAULT_TEST_PG_APP (application URL). Each
//! configuration gets a fresh schema, dropped afterwards.

use petition_vault::model::synth::Synth;
use petition_vault::store::{PgStore, Store};
use petition_vault::{NewPetitioner, Passphrase, Role, SecretText, Vault, VaultOptions};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn pass(user: &str) -> Passphrase {
    Passphrase::new(format!("bench passphrase of {user}"))
}

/// An ID number unique to (worker, i), with its check digit.
fn id_number(worker: u32, i: u32) -> String {
    const REGIONS: [&str; 9] = [
        "110101", "110102", "110105", "110106", "110107", "110108", "110109", "110111", "110112",
    ];
    let day = time::Date::from_calendar_date(1950, time::Month::January, 1).unwrap()
        + time::Duration::days(i64::from(i / 900));
    let body = format!(
        "{}{:04}{:02}{:02}{:03}",
        REGIONS[worker as usize % REGIONS.len()],
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
    format!("{body}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

/// Registers and reads back petitioners for `secs`; returns the operations done.
fn work(vault: &Vault, worker: u32, secs: f64) -> u64 {
    let user = format!("reg{worker}");
    let session = vault.unlock(&user, &pass(&user)).expect("unlock");
    let mut synth = Synth::new(u64::from(worker) + 7);
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let (mut ops, mut i) = (0u64, 0u32);
    while Instant::now() < deadline {
        let person = synth.person();
        let p = NewPetitioner {
            name: person.name.into(),
            id_number: id_number(worker, i).into(),
            phones: vec![person.phone.into()],
            address: Some(person.address.into()),
            email: None,
            ethnicity: Some(SecretText::from(person.ethnicity)),
        };
        i += 1;
        let pid = session.add_petitioner(&p).expect("add");
        session.show_petitioner(pid, None).expect("show");
        ops += 2;
    }
    ops
}

fn setup(store: Arc<dyn Store>, workers: u32) -> Vault {
    let (vault, _officer_key) =
        Vault::create_on(store, "admin", &pass("admin"), VaultOptions::default()).unwrap();
    {
        let admin = vault.unlock("admin", &pass("admin")).unwrap();
        for w in 0..workers {
            let name = format!("reg{w}");
            admin
                .add_user(&name, Role::Registrar, Some("信访局"), &pass(&name))
                .unwrap();
        }
    }
    vault
}

fn with_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}schema={schema}")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("worker") {
        let (url, worker, secs) = (&args[2], args[3].parse().unwrap(), args[4].parse().unwrap());
        let store = Arc::new(PgStore::connect(url).expect("connect"));
        let vault = Vault::open_store(store, None, VaultOptions::default()).unwrap();
        println!("OPS {}", work(&vault, worker, secs));
        return;
    }
    let secs: f64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10.0);
    let owner = std::env::var("PVAULT_TEST_PG").expect("PVAULT_TEST_PG (owner URL)");
    let app = std::env::var("PVAULT_TEST_PG_APP").expect("PVAULT_TEST_PG_APP (app URL)");

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("vault");
    let (vault, _) = Vault::create(&dir, "admin", &pass("admin"), VaultOptions::default()).unwrap();
    {
        let admin = vault.unlock("admin", &pass("admin")).unwrap();
        admin
            .add_user("reg0", Role::Registrar, Some("信访局"), &pass("reg0"))
            .unwrap();
    }
    let sled_ops = work(&vault, 0, secs);
    drop(vault);
    let mut rows = vec![("sled, 1 process".to_owned(), sled_ops)];

    for clients in [1u32, 4, 8] {
        let schema = format!("pvb_{}_{clients}", std::process::id());
        let owner_url = with_schema(&owner, &schema);
        let app_url = with_schema(&app, &schema);
        PgStore::migrate(&owner_url, "pvault_app").unwrap();
        drop(setup(
            Arc::new(PgStore::connect(&app_url).unwrap()),
            clients,
        ));
        let children: Vec<_> = (0..clients)
            .map(|w| {
                Command::new(std::env::current_exe().unwrap())
                    .args(["worker", &app_url, &w.to_string(), &secs.to_string()])
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut total = 0;
        for c in children {
            let out = c.wait_with_output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            total += text
                .lines()
                .find_map(|l| l.strip_prefix("OPS "))
                .and_then(|n| n.parse::<u64>().ok())
                .expect("a worker failed");
        }
        rows.push((format!("PostgreSQL, {clients} client process(es)"), total));
        let mut c = postgres::Client::connect(&owner, postgres::NoTls).unwrap();
        c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .unwrap();
    }
    println!("| store | operations in {secs} s | operations/s |");
    println!("|---|---:|---:|");
    for (what, ops) in rows {
        println!("| {what} | {ops} | {:.0} |", ops as f64 / secs);
    }
}
