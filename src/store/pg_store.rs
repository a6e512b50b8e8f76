//! The PostgreSQL store: many officers' processes on one vault at once.
//!
//! The database sees exactly what the [`Store`] trait hands it — ciphertext envelopes,
//! random ids, keyed blind-index tags, keyrings wrapped under passphrases and audit entries
//! of ids and codes. Keys and plaintext never leave the client.
//!
//! # Schema
//!
//! One table per [`Tree`] (`pv_meta`, `pv_users`, … each `key BYTEA PRIMARY KEY, value
//! BYTEA NOT NULL`) rather than one table keyed by `(tree, key)`: privileges in PostgreSQL
//! are granted per table, so the append-only rule for the access log is a plain `GRANT
//! SELECT, INSERT` on `pv_audit` and `pv_audit_index` instead of row-level security over a
//! shared table. `bytea` compares bytewise, so key order is sled's order. The audit head
//! (`audit_head` in `pv_meta`) must change on every entry, so it lives outside the
//! append-only tables. Migrations are numbered and recorded in `schema_version`; only the
//! owner role runs them ([`PgStore::migrate`]), and the application role cannot.
//!
//! # Concurrency
//!
//! Every audited commit is one READ COMMITTED transaction that writes the records, then
//! takes a row lock on the audit head (`SELECT … FOR UPDATE`), builds the entry from the
//! head and appends it. Audited commits are thereby serialised at the log: the builder
//! always sees the latest head and the chain stays linear, while the lock is held only for
//! the append and the COMMIT. `put_new` keys are inserted with `ON CONFLICT DO NOTHING`,
//! which waits for a concurrent insert of the same key and then reports it. A
//! serialisation failure or deadlock rolls back and retries, calling the builder again. `COMMIT` returns after the
//! WAL is flushed: the connection sets `synchronous_commit = on` whatever the server's
//! default.
//!
//! # Connection strings
//!
//! `postgres://user:password@host:port/dbname?sslmode=require`. Besides the parameters the
//! `postgres` crate knows, three are handled here: `sslmode=verify-full` (TLS with the
//! server certificate checked against the system roots or `sslrootcert`), `sslrootcert=FILE`
//! (a CA certificate; given with `require`, the certificate is checked too) and
//! `schema=NAME` (several vaults in one database). `prefer` and `require` without a root
//! certificate encrypt without authenticating the server, as libpq does. A [`PgTarget`]
//! displays with its password replaced by `***`; no error from this module contains one.

use super::{AUDIT_HEAD_KEY, AuditBuilder, Entries, Store, StoreError, Tree, WriteSet};
use postgres::error::SqlState;
use postgres::{Client, Config, Statement};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Mutex;
use zeroize::Zeroizing;

/// The schema version this build writes and expects.
pub const SCHEMA_VERSION: i32 = 1;

/// The database role the application connects as by default (see [`PgStore::migrate`]).
pub const DEFAULT_APP_ROLE: &str = "pvault_app";

/// Attempts of one commit on serialisation failure or deadlock.
const MAX_ATTEMPTS: u32 = 20;

/// Rows per statement when copying a whole vault.
const COPY_BATCH: usize = 1000;

fn table(t: Tree) -> &'static str {
    match t {
        Tree::Meta => "pv_meta",
        Tree::Users => "pv_users",
        Tree::Petitioners => "pv_petitioners",
        Tree::Cases => "pv_cases",
        Tree::Index => "pv_index",
        Tree::Audit => "pv_audit",
        Tree::AuditIndex => "pv_audit_index",
    }
}

/// Trees the application role may only append to.
fn append_only(t: Tree) -> bool {
    matches!(t, Tree::Audit | Tree::AuditIndex)
}

/// A parsed connection string. Holds the password; shows it to nobody.
#[derive(Clone)]
pub struct PgTarget {
    config: Config,
    /// The URL as given, for display after redaction.
    redacted: String,
    password: Option<Zeroizing<String>>,
    root_cert: Option<PathBuf>,
    verify: bool,
    schema: Option<String>,
}

impl std::fmt::Display for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgTarget({})", self.redacted)
    }
}

/// True when `s` names a PostgreSQL store rather than a folder.
pub fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// `s` with any password replaced by `***`: the user-info password of a URL and any
/// `password=` parameter. Safe to print or log.
pub fn redact_url(s: &str) -> String {
    let mut out = s.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let rest = &out[rest_start..];
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@')
            && let Some(colon) = rest[..at].find(':')
        {
            out.replace_range(rest_start + colon + 1..rest_start + at, "***");
        }
    }
    // `password=…` in a query string or a key=value connection string
    let mut result = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(pos) = rest.find("password=") {
        let boundary_ok = pos == 0 || matches!(rest.as_bytes()[pos - 1], b'?' | b'&' | b' ');
        result.push_str(&rest[..pos + "password=".len()]);
        rest = &rest[pos + "password=".len()..];
        if boundary_ok {
            let end = rest.find(['&', ' ']).unwrap_or(rest.len());
            result.push_str("***");
            rest = &rest[end..];
        }
    }
    result.push_str(rest);
    result
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn bad_target(msg: &str) -> StoreError {
    StoreError::Io(format!("bad PostgreSQL connection string: {msg}"))
}

impl PgTarget {
    /// Parses a `postgres://` URL. Errors never repeat the URL.
    pub fn parse(url: &str) -> Result<PgTarget, StoreError> {
        if !is_postgres_url(url) {
            return Err(bad_target("expected postgres://user:password@host/dbname"));
        }
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (url, None),
        };
        let mut kept = Vec::new();
        let (mut root_cert, mut verify, mut schema) = (None, false, None);
        for param in query.into_iter().flat_map(|q| q.split('&')) {
            let (k, v) = param.split_once('=').unwrap_or((param, ""));
            match k {
                "sslrootcert" => root_cert = Some(PathBuf::from(percent_decode(v))),
                "sslmode" if v == "verify-full" || v == "verify-ca" => {
                    verify = true;
                    kept.push("sslmode=require".to_owned());
                }
                "schema" => {
                    let name = percent_decode(v);
                    let ok = !name.is_empty()
                        && name.len() <= 63
                        && name
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
                    if !ok {
                        return Err(bad_target(
                            "schema must be 1-63 lowercase letters, digits or '_'",
                        ));
                    }
                    schema = Some(name);
                }
                _ => kept.push(param.to_owned()),
            }
        }
        let cleaned = Zeroizing::new(if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        });
        let mut config = Config::from_str(&cleaned).map_err(|e| {
            // the crate's parse errors name the offending option, never its value
            bad_target(&e.to_string())
        })?;
        if config.get_application_name().is_none() {
            config.application_name("pvault");
        }
        if root_cert.is_some() {
            verify = true;
        }
        if verify && config.get_ssl_mode() == postgres::config::SslMode::Disable {
            return Err(bad_target(
                "sslmode=disable contradicts sslrootcert or verify-full",
            ));
        }
        let password = config
            .get_password()
            .map(|p| Zeroizing::new(String::from_utf8_lossy(p).into_owned()));
        Ok(PgTarget {
            config,
            redacted: redact_url(url),
            password,
            root_cert,
            verify,
            schema,
        })
    }

    /// The schema the vault's tables live in (`public` when not given).
    pub fn schema(&self) -> &str {
        self.schema.as_deref().unwrap_or("public")
    }

    /// The user name the connection logs in as.
    pub fn user(&self) -> Option<&str> {
        self.config.get_user()
    }

    /// Removes the password from an error text, in case a server or library echoes it.
    fn scrub(&self, text: String) -> String {
        match &self.password {
            Some(p) if p.len() >= 4 => text.replace(p.as_str(), "***"),
            _ => text,
        }
    }

    fn tls(&self) -> Result<postgres_native_tls::MakeTlsConnector, StoreError> {
        let mut builder = native_tls::TlsConnector::builder();
        if let Some(path) = &self.root_cert {
            let pem = std::fs::read(path)
                .map_err(|e| StoreError::Io(format!("reading sslrootcert: {e}")))?;
            let cert = native_tls::Certificate::from_pem(&pem)
                .map_err(|_| StoreError::Io("sslrootcert is not a PEM certificate".into()))?;
            builder.add_root_certificate(cert);
        }
        if !self.verify {
            // libpq's `prefer` and `require`: encrypt, but do not authenticate the server.
            builder.danger_accept_invalid_certs(true);
            builder.danger_accept_invalid_hostnames(true);
        }
        let connector = builder
            .build()
            .map_err(|e| StoreError::Io(format!("TLS set-up failed: {e}")))?;
        Ok(postgres_native_tls::MakeTlsConnector::new(connector))
    }

    /// Opens a connection with `synchronous_commit = on` and the vault's schema first on
    /// the search path.
    pub fn connect(&self) -> Result<Client, StoreError> {
        let mut client = self.config.connect(self.tls()?).map_err(|e| {
            let why = match e.as_db_error() {
                Some(db) => db.message().to_owned(),
                None => e.to_string(),
            };
            StoreError::Io(self.scrub(format!("connecting to {self}: {why}")))
        })?;
        let schema = self.schema();
        client
            .batch_execute(&format!(
                "SET synchronous_commit = on; SET search_path TO \"{schema}\""
            ))
            .map_err(|e| pg_err(self, e))?;
        Ok(client)
    }
}

fn pg_err(target: &PgTarget, e: postgres::Error) -> StoreError {
    let text = match e.as_db_error() {
        // The server's message names relations and roles, never bound values (we never
        // inline a value into SQL).
        Some(db) => format!("database refused ({}): {}", db.code().code(), db.message()),
        None => e.to_string(),
    };
    StoreError::Io(target.scrub(text))
}

fn retryable(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    )
}

/// The migrations, in order. Each runs once, in one transaction, as the owner role.
fn migrations(app_role: &str, schema: &str) -> Vec<String> {
    let mut m1 = String::from(
        "CREATE TABLE IF NOT EXISTS schema_version (\n\
         version INTEGER PRIMARY KEY,\n\
         applied_at TIMESTAMPTZ NOT NULL DEFAULT now());\n",
    );
    for t in Tree::ALL {
        m1.push_str(&format!(
            "CREATE TABLE {} (key BYTEA PRIMARY KEY, value BYTEA NOT NULL);\n",
            table(t)
        ));
    }
    // Belt and braces for the owner and anyone granted too much: the access log refuses
    // UPDATE, DELETE and TRUNCATE whoever asks. The grants below are what stops the
    // application role; a trigger can be dropped by the owner, a grant check cannot be
    // bypassed by the application.
    m1.push_str(
        "CREATE FUNCTION pv_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$\n\
         BEGIN RAISE EXCEPTION 'the access log is append-only (%)', TG_TABLE_NAME\n\
         USING ERRCODE = 'insufficient_privilege'; END $$;\n",
    );
    for t in [Tree::Audit, Tree::AuditIndex] {
        let name = table(t);
        m1.push_str(&format!(
            "CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE ON {name}\n\
             FOR EACH ROW EXECUTE FUNCTION pv_refuse_change();\n\
             CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {name}\n\
             FOR EACH STATEMENT EXECUTE FUNCTION pv_refuse_change();\n"
        ));
    }
    m1.push_str(&format!(
        "REVOKE ALL ON ALL TABLES IN SCHEMA \"{schema}\" FROM PUBLIC;\n\
         GRANT USAGE ON SCHEMA \"{schema}\" TO \"{app_role}\";\n\
         GRANT SELECT ON schema_version TO \"{app_role}\";\n"
    ));
    for t in Tree::ALL {
        let privileges = if append_only(t) {
            "SELECT, INSERT"
        } else {
            "SELECT, INSERT, UPDATE, DELETE"
        };
        m1.push_str(&format!(
            "GRANT {privileges} ON {} TO \"{app_role}\";\n",
            table(t)
        ));
    }
    vec![m1]
}

/// What [`PgStore::copy_from`] copied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// Entries copied per tree, in [`Tree::ALL`] order, with the tree's name.
    pub per_tree: Vec<(&'static str, u64)>,
    /// Bytes of keys and values copied.
    pub bytes: u64,
}

impl CopyReport {
    /// Entries copied in all trees.
    pub fn total(&self) -> u64 {
        self.per_tree.iter().map(|(_, n)| n).sum()
    }
}

struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl Conn {
    fn statement(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }
}

/// A vault's tables in a PostgreSQL database. One connection per store, shared by the
/// process's sessions; open one store per process (or thread pool) and as many processes
/// as there are officers.
pub struct PgStore {
    target: PgTarget,
    conn: Mutex<Conn>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgStore({})", self.target)
    }
}

/// The final state a write set leaves, per tree: last write per key wins, exactly as
/// applying the writes in order would.
type Collapsed = BTreeMap<usize, BTreeMap<Vec<u8>, Option<Vec<u8>>>>;

/// Keys and values side by side, as `unnest($1::bytea[], $2::bytea[])` takes them.
type KeysValues = (Vec<Vec<u8>>, Vec<Vec<u8>>);

fn tree_pos(t: Tree) -> usize {
    Tree::ALL
        .iter()
        .position(|x| *x == t)
        .expect("every tree is in Tree::ALL")
}

impl PgStore {
    /// Connects as the application role and checks that the schema is the one this build
    /// expects. A missing or older schema is an error that says to run `pvault db setup`.
    pub fn connect(url: &str) -> Result<PgStore, StoreError> {
        let target = PgTarget::parse(url)?;
        let client = target.connect()?;
        let store = PgStore {
            target,
            conn: Mutex::new(Conn {
                client,
                statements: HashMap::new(),
            }),
        };
        let version = store.schema_version()?;
        if version != SCHEMA_VERSION {
            return Err(StoreError::Io(format!(
                "the database schema is at version {version}, this pvault needs {SCHEMA_VERSION}: \
                 run `pvault db setup` as the owner role"
            )));
        }
        Ok(store)
    }

    /// The connection target (displays without its password).
    pub fn target(&self) -> &PgTarget {
        &self.target
    }

    /// The schema version recorded in the database (0 when none).
    pub fn schema_version(&self) -> Result<i32, StoreError> {
        let mut conn = self.lock();
        schema_version_of(&self.target, &mut conn.client)
    }

    /// Runs pending migrations, connected as the owner role (who owns the database or the
    /// schema), and grants the application role `app_role` what it needs: read and write on
    /// the record tables, SELECT and INSERT only on the access log. Returns the versions
    /// applied. Idempotent: a second run applies nothing.
    pub fn migrate(url: &str, app_role: &str) -> Result<Vec<i32>, StoreError> {
        let role_ok = !app_role.is_empty()
            && app_role.len() <= 63
            && app_role
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !role_ok {
            return Err(StoreError::Io(
                "the application role name must be letters, digits or '_'".into(),
            ));
        }
        let target = PgTarget::parse(url)?;
        let mut client = target.connect()?;
        let schema = target.schema().to_owned();
        let err = |e| pg_err(&target, e);
        let role_exists = client
            .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&app_role])
            .map_err(err)?
            .is_some();
        if !role_exists {
            return Err(StoreError::Io(format!(
                "the application role {app_role} does not exist: create it first \
                 (CREATE ROLE {app_role} LOGIN PASSWORD '…'), see README"
            )));
        }
        if target.user() == Some(app_role) {
            return Err(StoreError::Io(
                "run migrations as the owner role, not as the application role".into(),
            ));
        }
        client
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
            .map_err(err)?;
        let mut applied = Vec::new();
        for (i, sql) in migrations(app_role, &schema).iter().enumerate() {
            let version = i as i32 + 1;
            let mut tx = client.transaction().map_err(err)?;
            // one migrator at a time
            tx.batch_execute("SELECT pg_advisory_xact_lock(7164012)")
                .map_err(err)?;
            let current = {
                let exists: bool = tx
                    .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
                    .map_err(err)?
                    .get(0);
                if exists {
                    tx.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
                        .map_err(err)?
                        .get::<_, i32>(0)
                } else {
                    0
                }
            };
            if current >= version {
                continue;
            }
            tx.batch_execute(sql).map_err(err)?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES ($1)",
                &[&version],
            )
            .map_err(err)?;
            tx.commit().map_err(err)?;
            applied.push(version);
        }
        Ok(applied)
    }

    /// Whether this store's connection is encrypted (TLS).
    pub fn tls_in_use(&self) -> Result<bool, StoreError> {
        let mut conn = self.lock();
        conn.client
            .query_one(
                "SELECT COALESCE((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)",
                &[],
            )
            .map(|r| r.get(0))
            .map_err(|e| self.err(e))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Conn> {
        let mut guard = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        if guard.client.is_closed()
            && let Ok(client) = self.target.connect()
        {
            // the server went away and came back: start over with a fresh connection
            guard.client = client;
            guard.statements.clear();
        }
        guard
    }

    fn err(&self, e: postgres::Error) -> StoreError {
        pg_err(&self.target, e)
    }

    fn query_entries(
        &self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Entries, StoreError> {
        let mut conn = self.lock();
        let stmt = conn.statement(sql).map_err(|e| self.err(e))?;
        let rows = conn.client.query(&stmt, params).map_err(|e| self.err(e))?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get::<_, Vec<u8>>(0), r.get::<_, Vec<u8>>(1)))
            .collect())
    }

    /// Copies every tree of `source` (a sled vault, say) into this store byte for byte, in
    /// one transaction: afterwards the database holds the whole vault or nothing of it. The
    /// target must be empty. Nothing is decrypted; no key is needed.
    pub fn copy_from(
        &self,
        source: &dyn Store,
        progress: &mut dyn FnMut(u64),
    ) -> Result<CopyReport, StoreError> {
        let mut conn = self.lock();
        let conn = &mut *conn;
        let err = |e| pg_err(&self.target, e);
        let mut tx = conn.client.transaction().map_err(err)?;
        for t in Tree::ALL {
            let any = tx
                .query_opt(&format!("SELECT 1 FROM {} LIMIT 1", table(t)), &[])
                .map_err(err)?;
            if any.is_some() {
                return Err(StoreError::Io(format!(
                    "the target already holds data (table {}): migrate into an empty schema",
                    table(t)
                )));
            }
        }
        let mut report = CopyReport::default();
        let mut copied = 0u64;
        for t in Tree::ALL {
            let sql = format!(
                "INSERT INTO {} (key, value) SELECT * FROM unnest($1::bytea[], $2::bytea[])",
                table(t)
            );
            let stmt = tx.prepare(&sql).map_err(err)?;
            let mut keys: Vec<Vec<u8>> = Vec::with_capacity(COPY_BATCH);
            let mut values: Vec<Vec<u8>> = Vec::with_capacity(COPY_BATCH);
            let mut n = 0u64;
            let mut failure = None;
            let mut flush = |tx: &mut postgres::Transaction<'_>,
                             keys: &mut Vec<Vec<u8>>,
                             values: &mut Vec<Vec<u8>>|
             -> Result<(), StoreError> {
                if keys.is_empty() {
                    return Ok(());
                }
                tx.execute(&stmt, &[&*keys, &*values]).map_err(err)?;
                copied += keys.len() as u64;
                progress(copied);
                keys.clear();
                values.clear();
                Ok(())
            };
            source.visit(t, &[], &mut |k, v| {
                keys.push(k.to_vec());
                values.push(v.to_vec());
                report.bytes += (k.len() + v.len()) as u64;
                n += 1;
                if keys.len() >= COPY_BATCH
                    && let Err(e) = flush(&mut tx, &mut keys, &mut values)
                {
                    failure = Some(e);
                    return false;
                }
                true
            })?;
            if let Some(e) = failure {
                return Err(e);
            }
            flush(&mut tx, &mut keys, &mut values)?;
            report.per_tree.push((t.name(), n));
        }
        tx.commit().map_err(err)?;
        Ok(report)
    }

    /// One attempt of a commit. `Err(Ok(e))` is final, `Err(Err(pg))` may be retried.
    ///
    /// The record writes go first and the audit-head lock is taken last, so the lock — which
    /// every audited commit in every process waits for — is held only for building the
    /// entry, one statement and the COMMIT. A `put_new` key is inserted with `ON CONFLICT DO
    /// NOTHING`: a concurrent insert of the same key makes it wait for that transaction and
    /// then report the conflict, so the check cannot race. Rows are written in tree and key
    /// order, so two commits touching the same records lock them in the same order.
    fn try_commit(
        &self,
        conn: &mut Conn,
        writes: &WriteSet,
        audit: Option<&AuditBuilder<'_>>,
    ) -> Result<(), Result<StoreError, postgres::Error>> {
        // Named statements outlive a rolled-back transaction, so the connection's cache
        // serves every attempt.
        let Conn { client, statements } = conn;
        let mut tx = client.transaction().map_err(Err)?;
        let mut collapsed: Collapsed = BTreeMap::new();
        for (t, k, v) in &writes.ops {
            collapsed
                .entry(tree_pos(*t))
                .or_default()
                .insert(k.clone(), v.clone());
        }
        // put_if_unchanged: lock the rows and compare what they hold with what was read
        let mut unchanged: Vec<_> = writes.unchanged.iter().collect();
        unchanged.sort_by_key(|(t, k, _)| (tree_pos(*t), k.clone()));
        for (t, k, previous) in unchanged {
            let sql = format!("SELECT value FROM {} WHERE key = $1 FOR UPDATE", table(*t));
            let stmt = prepared(statements, &mut tx, sql)?;
            let current: Option<Vec<u8>> =
                tx.query_opt(&stmt, &[k]).map_err(Err)?.map(|r| r.get(0));
            if current.map(|v| crate::crypto::sha256(&[&v])).as_ref() != Some(previous) {
                return Err(Ok(StoreError::Conflict {
                    tree: t.name(),
                    key: k.clone(),
                }));
            }
        }
        // put_new: insert-if-absent the keys whose final state is a value; check the rest
        let mut new_rows: BTreeMap<usize, BTreeMap<Vec<u8>, Vec<u8>>> = BTreeMap::new();
        let mut check_only: BTreeMap<usize, Vec<Vec<u8>>> = BTreeMap::new();
        for (t, k) in &writes.absent {
            let pos = tree_pos(*t);
            match collapsed.get_mut(&pos).and_then(|m| m.remove(k)) {
                Some(Some(v)) => {
                    new_rows.entry(pos).or_default().insert(k.clone(), v);
                }
                Some(None) | None => {
                    if !new_rows.get(&pos).is_some_and(|m| m.contains_key(k)) {
                        check_only.entry(pos).or_default().push(k.clone());
                    }
                }
            }
        }
        for (pos, rows) in new_rows {
            let t = Tree::ALL[pos];
            let (keys, values): KeysValues = rows.into_iter().unzip();
            let sql = format!(
                "INSERT INTO {} (key, value) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
                 ON CONFLICT (key) DO NOTHING RETURNING key",
                table(t)
            );
            let stmt = prepared(statements, &mut tx, sql)?;
            let inserted: BTreeSet<Vec<u8>> = tx
                .query(&stmt, &[&keys, &values])
                .map_err(Err)?
                .into_iter()
                .map(|r| r.get(0))
                .collect();
            if let Some(k) = keys.into_iter().find(|k| !inserted.contains(k)) {
                return Err(Ok(StoreError::Exists {
                    tree: t.name(),
                    key: k,
                }));
            }
        }
        for (pos, keys) in check_only {
            let t = Tree::ALL[pos];
            let sql = format!(
                "SELECT key FROM {} WHERE key = ANY($1::bytea[]) LIMIT 1",
                table(t)
            );
            let stmt = prepared(statements, &mut tx, sql)?;
            if let Some(row) = tx.query_opt(&stmt, &[&keys]).map_err(Err)? {
                return Err(Ok(StoreError::Exists {
                    tree: t.name(),
                    key: row.get(0),
                }));
            }
        }
        // Appends to the access log are plain INSERTs: a key that exists already (a fork)
        // fails the transaction instead of being overwritten.
        let mut appended: BTreeMap<usize, KeysValues> = BTreeMap::new();
        for (pos, kv) in collapsed {
            let t = Tree::ALL[pos];
            if append_only(t) {
                for (k, v) in kv {
                    let Some(v) = v else {
                        return Err(Ok(StoreError::Io(format!(
                            "{} is append-only: nothing is ever deleted from it",
                            t.name()
                        ))));
                    };
                    let e = appended.entry(pos).or_default();
                    e.0.push(k);
                    e.1.push(v);
                }
                continue;
            }
            upsert_and_delete(statements, &mut tx, t, kv)?;
        }
        let mut meta: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
        if let Some(build) = audit {
            // The head lock: it orders every audited commit, in every process.
            let head_stmt = prepared(
                statements,
                &mut tx,
                "SELECT value FROM pv_meta WHERE key = $1 FOR UPDATE".to_owned(),
            )?;
            let head: Option<Vec<u8>> = tx
                .query_opt(&head_stmt, &[&AUDIT_HEAD_KEY])
                .map_err(Err)?
                .map(|r| r.get(0));
            let append = build(head.as_deref()).map_err(Ok)?;
            let e = appended.entry(tree_pos(Tree::Audit)).or_default();
            e.0.push(append.key);
            e.1.push(append.entry);
            meta.insert(AUDIT_HEAD_KEY.to_vec(), Some(append.head));
            let mut others: Collapsed = BTreeMap::new();
            for (t, k, v) in append.extra {
                if append_only(t) {
                    let e = appended.entry(tree_pos(t)).or_default();
                    e.0.push(k);
                    e.1.push(v);
                } else if t == Tree::Meta {
                    meta.insert(k, Some(v));
                } else {
                    others.entry(tree_pos(t)).or_default().insert(k, Some(v));
                }
            }
            for (pos, kv) in others {
                upsert_and_delete(statements, &mut tx, Tree::ALL[pos], kv)?;
            }
        }
        if !appended.is_empty() || !meta.is_empty() {
            // One statement for the entry, its index rows and the new head.
            let empty = KeysValues::default();
            let audit_rows = appended.get(&tree_pos(Tree::Audit)).unwrap_or(&empty);
            let index_rows = appended.get(&tree_pos(Tree::AuditIndex)).unwrap_or(&empty);
            let (meta_k, meta_v): KeysValues = meta
                .into_iter()
                .map(|(k, v)| (k, v.expect("only puts")))
                .unzip();
            let stmt = prepared(
                statements,
                &mut tx,
                "WITH a AS (INSERT INTO pv_audit (key, value) \
                   SELECT * FROM unnest($1::bytea[], $2::bytea[])), \
                 i AS (INSERT INTO pv_audit_index (key, value) \
                   SELECT * FROM unnest($3::bytea[], $4::bytea[])), \
                 m AS (INSERT INTO pv_meta (key, value) \
                   SELECT * FROM unnest($5::bytea[], $6::bytea[]) \
                   ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value) \
                 SELECT 1"
                    .to_owned(),
            )?;
            if let Err(e) = tx.query(
                &stmt,
                &[
                    &audit_rows.0,
                    &audit_rows.1,
                    &index_rows.0,
                    &index_rows.1,
                    &meta_k,
                    &meta_v,
                ],
            ) {
                if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
                    return Err(Ok(StoreError::Corrupt(
                        "the access log already holds an entry under a key being appended \
                         (a forked chain?)"
                            .into(),
                    )));
                }
                return Err(Err(e));
            }
        }
        tx.commit().map_err(Err)?;
        Ok(())
    }

    fn apply(&self, writes: &WriteSet, audit: Option<&AuditBuilder<'_>>) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.try_commit(&mut conn, writes, audit) {
                Ok(()) => return Ok(()),
                Err(Ok(e)) => return Err(e),
                Err(Err(e)) if retryable(&e) && attempt < MAX_ATTEMPTS => {
                    std::thread::sleep(std::time::Duration::from_millis(
                        (attempt as u64) * (attempt as u64),
                    ));
                }
                Err(Err(e)) => {
                    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
                        return Err(StoreError::Exists {
                            tree: "a unique table",
                            key: Vec::new(),
                        });
                    }
                    return Err(self.err(e));
                }
            }
        }
    }
}

/// Writes the final state of some keys of a record tree: upserts, then deletes.
fn upsert_and_delete(
    statements: &mut HashMap<String, Statement>,
    tx: &mut postgres::Transaction<'_>,
    t: Tree,
    kv: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
) -> Result<(), Result<StoreError, postgres::Error>> {
    let (mut put_k, mut put_v, mut del) = (Vec::new(), Vec::new(), Vec::new());
    for (k, v) in kv {
        match v {
            Some(v) => {
                put_k.push(k);
                put_v.push(v);
            }
            None => del.push(k),
        }
    }
    if !put_k.is_empty() {
        let sql = format!(
            "INSERT INTO {} (key, value) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            table(t)
        );
        let stmt = prepared(statements, tx, sql)?;
        tx.execute(&stmt, &[&put_k, &put_v]).map_err(Err)?;
    }
    if !del.is_empty() {
        let sql = format!("DELETE FROM {} WHERE key = ANY($1::bytea[])", table(t));
        let stmt = prepared(statements, tx, sql)?;
        tx.execute(&stmt, &[&del]).map_err(Err)?;
    }
    Ok(())
}

/// Prepares `sql` once per connection, inside a transaction.
fn prepared(
    cache: &mut HashMap<String, Statement>,
    tx: &mut postgres::Transaction<'_>,
    sql: String,
) -> Result<Statement, Result<StoreError, postgres::Error>> {
    if let Some(s) = cache.get(&sql) {
        return Ok(s.clone());
    }
    let s = tx.prepare(&sql).map_err(Err)?;
    cache.insert(sql, s.clone());
    Ok(s)
}

fn schema_version_of(target: &PgTarget, client: &mut Client) -> Result<i32, StoreError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
        .map_err(|e| pg_err(target, e))?
        .get(0);
    if !exists {
        return Ok(0);
    }
    client
        .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
        .map(|r| r.get(0))
        .map_err(|e| pg_err(target, e))
}

/// The least key greater than every key starting with `prefix`, if there is one.
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

fn limit_of(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

impl Store for PgStore {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let sql = format!("SELECT value FROM {} WHERE key = $1", table(tree));
        let mut conn = self.lock();
        let stmt = conn.statement(&sql).map_err(|e| self.err(e))?;
        let row = conn
            .client
            .query_opt(&stmt, &[&key])
            .map_err(|e| self.err(e))?;
        Ok(row.map(|r| r.get(0)))
    }

    fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Entries, StoreError> {
        match prefix_end(prefix) {
            Some(end) => self.range(tree, prefix, &end, usize::MAX),
            None => self.query_entries(
                &format!(
                    "SELECT key, value FROM {} WHERE key >= $1 ORDER BY key",
                    table(tree)
                ),
                &[&prefix],
            ),
        }
    }

    fn range(
        &self,
        tree: Tree,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Entries, StoreError> {
        self.query_entries(
            &format!(
                "SELECT key, value FROM {} WHERE key >= $1 AND key < $2 ORDER BY key LIMIT $3",
                table(tree)
            ),
            &[&start, &end, &limit_of(limit)],
        )
    }

    fn range_rev(
        &self,
        tree: Tree,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Entries, StoreError> {
        self.query_entries(
            &format!(
                "SELECT key, value FROM {} WHERE key >= $1 AND key < $2 ORDER BY key DESC LIMIT $3",
                table(tree)
            ),
            &[&start, &end, &limit_of(limit)],
        )
    }

    fn visit_range(
        &self,
        tree: Tree,
        start: &[u8],
        end: Option<&[u8]>,
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        // Pages of keys > the last one seen: memory stays bounded on a log of millions.
        let below = if end.is_some() { " AND key < $2" } else { "" };
        let first = format!(
            "SELECT key, value FROM {} WHERE key >= $1{below} ORDER BY key LIMIT {COPY_BATCH}",
            table(tree)
        );
        let next = format!(
            "SELECT key, value FROM {} WHERE key > $1{below} ORDER BY key LIMIT {COPY_BATCH}",
            table(tree)
        );
        let query = |sql: &str, from: &[u8]| match end {
            Some(end) => self.query_entries(sql, &[&from, &end]),
            None => self.query_entries(sql, &[&from]),
        };
        let mut page = query(&first, start)?;
        loop {
            let full = page.len() == COPY_BATCH;
            for (k, v) in &page {
                if !f(k, v) {
                    return Ok(());
                }
            }
            match page.last() {
                Some((last, _)) if full => {
                    let last = last.clone();
                    page = query(&next, &last)?;
                }
                _ => return Ok(()),
            }
        }
    }

    fn commit(&self, writes: &WriteSet, audit: &AuditBuilder<'_>) -> Result<(), StoreError> {
        self.apply(writes, Some(audit))
    }

    fn commit_unaudited(&self, writes: &WriteSet) -> Result<(), StoreError> {
        self.apply(writes, None)
    }

    fn reserve(&self, tree: Tree, key: &[u8], n: u64) -> Result<u64, StoreError> {
        let name = table(tree);
        let mut conn = self.lock();
        let mut attempt = 0;
        loop {
            attempt += 1;
            match reserve_once(&mut conn.client, name, key, n) {
                Ok(Some(before)) => return Ok(before),
                Ok(None) => {
                    return Err(StoreError::Corrupt(format!(
                        "a counter in {} is not 8 bytes",
                        tree.name()
                    )));
                }
                Err(e) if retryable(&e) && attempt < MAX_ATTEMPTS => continue,
                Err(e) => return Err(self.err(e)),
            }
        }
    }
}

/// One transaction of [`Store::reserve`]: the counter's value before, or None when the
/// stored counter is malformed.
fn reserve_once(
    client: &mut Client,
    name: &str,
    key: &[u8],
    n: u64,
) -> Result<Option<u64>, postgres::Error> {
    let mut tx = client.transaction()?;
    // Create the counter if missing (a concurrent creator makes this wait), then lock it.
    tx.execute(
        &format!("INSERT INTO {name} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING"),
        &[&key, &0u64.to_be_bytes().as_slice()],
    )?;
    let row = tx.query_one(
        &format!("SELECT value FROM {name} WHERE key = $1 FOR UPDATE"),
        &[&key],
    )?;
    let bytes: Vec<u8> = row.get(0);
    let Ok(current) = <[u8; 8]>::try_from(bytes.as_slice()).map(u64::from_be_bytes) else {
        return Ok(None);
    };
    tx.execute(
        &format!("UPDATE {name} SET value = $2 WHERE key = $1"),
        &[&key, &current.saturating_add(n).to_be_bytes().as_slice()],
    )?;
    tx.commit()?;
    Ok(Some(current))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_display_without_their_password() {
        for (url, shown) in [
            (
                "postgres://app:s3cret-pw@127.0.0.1:5432/vault?sslmode=require",
                "postgres://app:***@127.0.0.1:5432/vault?sslmode=require",
            ),
            (
                "postgresql://app@db.example/vault",
                "postgresql://app@db.example/vault",
            ),
            (
                "postgres://127.0.0.1/vault?user=app&password=s3cret-pw&sslmode=disable",
                "postgres://127.0.0.1/vault?user=app&password=***&sslmode=disable",
            ),
            ("postgres://a%40b:p%40ss@h/db", "postgres://a%40b:***@h/db"),
        ] {
            assert_eq!(redact_url(url), shown);
            let target = PgTarget::parse(url).unwrap();
            assert_eq!(target.to_string(), shown);
            assert!(!format!("{target:?}").contains("s3cret"));
        }
    }

    #[test]
    fn connection_errors_do_not_repeat_the_password() {
        // nothing listens on port 1
        let url = "postgres://app:s3cret-pw@127.0.0.1:1/vault?connect_timeout=2";
        let err = PgStore::connect(url).unwrap_err().to_string();
        assert!(!err.contains("s3cret"), "{err}");
        assert!(err.contains("app:***@127.0.0.1:1"), "{err}");
        let err = PgTarget::parse("postgres://app:s3cret-pw@h/db?sslmode=bogus")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn our_parameters_are_parsed_and_removed() {
        let t = PgTarget::parse(
            "postgres://u:p@localhost/db?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem&schema=office_a",
        )
        .unwrap();
        assert_eq!(t.schema(), "office_a");
        assert!(t.verify);
        assert_eq!(
            t.root_cert.as_deref(),
            Some(std::path::Path::new("/tmp/ca.pem"))
        );
        assert_eq!(t.config.get_ssl_mode(), postgres::config::SslMode::Require);
        assert!(PgTarget::parse("postgres://u@h/db?schema=Bad;drop").is_err());
        assert!(PgTarget::parse("/var/lib/vault").is_err());
    }

    #[test]
    fn prefix_end_is_the_next_key_range() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff, 0xff]), None);
        assert_eq!(prefix_end(b""), None);
    }
}
