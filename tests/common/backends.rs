//! Vault fixtures on either store, so one behavioural suite runs on sled and on PostgreSQL.
//!
//! PostgreSQL tests need `PVAULT_TEST_PG` (the owner role's URL) and `PVAULT_TEST_PG_APP`
//! (the application role's URL); `.ci/postgres.sh` starts a cluster and sets both. Each
//! fixture gets a schema of its own, dropped when the fixture is. Without the variables the
//! tests say loudly that they were skipped — except under CI (`CI=true`), where a missing
//! database is a failure.

use super::{Fixture, USERS, pass};
use petition_vault::store::{PgStore, Store};
use petition_vault::{Vault, VaultOptions};
use std::sync::Arc;

/// The owner and application URLs of the test database, or None (after a loud message)
/// when there is none outside CI.
pub fn pg_urls() -> Option<(String, String)> {
    let owner = std::env::var("PVAULT_TEST_PG").ok();
    let app = std::env::var("PVAULT_TEST_PG_APP").ok();
    match (owner, app) {
        (Some(o), Some(a)) => Some((o, a)),
        (o, a) => {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true");
            assert!(
                !ci,
                "CI=true but PVAULT_TEST_PG{} unset: .ci/run must start PostgreSQL (.ci/postgres.sh)",
                if o.is_none() { "" } else { "_APP" }
            );
            let _ = a;
            // Straight to the stderr handle: libtest captures eprintln! of passing tests.
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED: PostgreSQL tests not run — set PVAULT_TEST_PG and \
                     PVAULT_TEST_PG_APP (source .ci/postgres.sh && pg_test_start)"
                );
            });
            None
        }
    }
}

/// `url` with one more query parameter.
pub fn with_param(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{key}={value}")
}

/// A schema of its own in the test database, migrated; dropped on drop.
pub struct PgSchema {
    pub name: String,
    /// Owner role URL with `schema=` (for migrations and raw SQL as the owner).
    pub owner_url: String,
    /// Application role URL with `schema=`.
    pub app_url: String,
    owner_base: String,
}

impl PgSchema {
    pub fn new() -> Option<PgSchema> {
        let (owner, app) = pg_urls()?;
        let name = format!("pvt_{}", hex_random());
        let owner_url = with_param(&owner, "schema", &name);
        let app_url = with_param(&app, "schema", &name);
        PgStore::migrate(&owner_url, "pvault_app").expect("migrating a test schema");
        Some(PgSchema {
            name,
            owner_url,
            app_url,
            owner_base: owner,
        })
    }

    /// A store on this schema as the application role.
    pub fn store(&self) -> PgStore {
        PgStore::connect(&self.app_url).expect("connecting as the application role")
    }

    /// A raw client as the owner role (for checks below the Store trait).
    pub fn owner_client(&self) -> postgres::Client {
        raw_client(&self.owner_base, &self.name)
    }
}

/// A plain `postgres` client on `url`, with `schema` first on the search path.
pub fn raw_client(url: &str, schema: &str) -> postgres::Client {
    let mut c = postgres::Client::connect(url, postgres::NoTls).expect("raw connection");
    c.batch_execute(&format!("SET search_path TO \"{schema}\""))
        .unwrap();
    c
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.owner_base, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name));
        }
    }
}

fn hex_random() -> String {
    let mut b = [0u8; 6];
    getrandom_fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn getrandom_fill(buf: &mut [u8]) {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(buf))
        .expect("reading /dev/urandom");
}

/// A fixture and, for PostgreSQL, the schema it lives in (dropped after the vault).
pub struct BackendFixture {
    pub f: Fixture,
    pub pg: Option<PgSchema>,
}

impl std::ops::Deref for BackendFixture {
    type Target = Fixture;
    fn deref(&self) -> &Fixture {
        &self.f
    }
}

/// The standard fixture (one user per role) created on `store`.
pub fn fixture_on(store: Arc<dyn Store>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (vault, audit_key) = Vault::create_on(
        store,
        "admin",
        &pass("admin"),
        VaultOptions::insecure_for_tests(),
    )
    .unwrap();
    {
        let admin = vault.unlock("admin", &pass("admin")).unwrap();
        for (name, role, unit) in USERS {
            admin.add_user(name, *role, *unit, &pass(name)).unwrap();
        }
    }
    Fixture {
        dir,
        vault,
        audit_key,
    }
}

/// The standard fixture on sled.
pub fn sled_fixture() -> BackendFixture {
    BackendFixture {
        f: super::fixture(),
        pg: None,
    }
}

/// The standard fixture on a fresh PostgreSQL schema, or None when there is no database
/// (outside CI).
pub fn pg_fixture() -> Option<BackendFixture> {
    let schema = PgSchema::new()?;
    let f = fixture_on(Arc::new(schema.store()));
    Some(BackendFixture {
        f,
        pg: Some(schema),
    })
}
