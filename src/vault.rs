//! Opening, creating and unlocking a vault.

use crate::audit::{self, AuditKey, Entry, Outcome};
use crate::crypto::{self, KdfParams, Passphrase};
use crate::error::VaultError;
use crate::keyring::Keyring;
use crate::policy::{Action, Role};
use crate::session::Session;
use crate::store::{SledStore, Store, Tree, WriteSet};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Minimum passphrase length in characters.
pub const MIN_PASSPHRASE_CHARS: usize = 8;
const HEADER_KEY: &[u8] = b"header";
const CASE_COUNTER_KEY: &[u8] = b"case_counter";
const FORMAT: u32 = 1;

/// Options for creating or opening a vault.
#[derive(Debug, Clone)]
pub struct VaultOptions {
    /// Argon2id parameters for new key slots.
    pub kdf: KdfParams,
    /// sled page-cache size in bytes.
    pub cache_bytes: u64,
    /// When sessions sign automatic audit checkpoints.
    pub checkpoints: audit::CheckpointPolicy,
    /// Sessions of one process that commit at the same time share one flush + fsync
    /// (group commit; sled store). Default on; durability is the same either way, off
    /// only serves to measure what it buys.
    pub group_commit: bool,
}

impl Default for VaultOptions {
    fn default() -> Self {
        VaultOptions {
            kdf: KdfParams::DEFAULT,
            cache_bytes: 64 * 1024 * 1024,
            checkpoints: audit::CheckpointPolicy::default(),
            group_commit: true,
        }
    }
}

impl VaultOptions {
    /// Test-only options: tiny Argon2 parameters, small cache. Only with the
    /// `insecure-test-kdf` feature.
    #[cfg(feature = "insecure-test-kdf")]
    pub fn insecure_for_tests() -> Self {
        VaultOptions {
            kdf: KdfParams::INSECURE_TEST_ONLY,
            cache_bytes: 8 * 1024 * 1024,
            checkpoints: audit::CheckpointPolicy::default(),
            group_commit: true,
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct Header {
    pub format: u32,
    pub vault_id: [u8; 16],
    pub created_at: i64,
    /// Ed25519 public key of the audit checkpoints.
    pub checkpoint_public_key: [u8; 32],
}

/// A user as stored: no secret in the clear (the keyring is wrapped).
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct UserRecord {
    pub id: [u8; 16],
    pub name: String,
    pub role: Role,
    pub unit: Option<String>,
    pub kdf: KdfParams,
    pub salt: [u8; 16],
    pub wrapped: Vec<u8>,
    pub created_at: i64,
}

/// A user as listed (no key material).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Unit (单位), for the accusation firewall.
    pub unit: Option<String>,
    /// Unix ms.
    pub created_at: i64,
}

/// An open vault. Unlock it as a user to get a [`Session`], the only way to records.
pub struct Vault {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) vault_id: [u8; 16],
    pub(crate) checkpoint_public_key: [u8; 32],
    pub(crate) options: VaultOptions,
    dir: Option<PathBuf>,
    loose_permissions: Vec<String>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("vault_id", &hex::encode(self.vault_id))
            .field("dir", &self.dir)
            .finish()
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn check_user_name(name: &str) -> Result<(), VaultError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(VaultError::BadUserName)
    }
}

/// The checks made before anything is written for a new vault.
fn check_new_vault(
    admin: &str,
    passphrase: &Passphrase,
    options: &VaultOptions,
) -> Result<(), VaultError> {
    check_user_name(admin)?;
    check_passphrase(passphrase)?;
    options.kdf.check()?;
    Ok(())
}

pub(crate) fn check_passphrase(p: &Passphrase) -> Result<(), VaultError> {
    if p.char_len() < MIN_PASSPHRASE_CHARS {
        return Err(VaultError::WeakPassphrase(MIN_PASSPHRASE_CHARS));
    }
    Ok(())
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Sets every file under `dir` to 0600 and every folder to 0700.
#[cfg(unix)]
pub(crate) fn tighten_permissions(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let ft = entry.file_type()?;
        if ft.is_dir() {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o700))?;
            tighten_permissions(&entry.path())?;
        } else if ft.is_file() {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn tighten_permissions(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

impl Vault {
    /// Creates a vault in `dir` (which must not exist or be empty) with one admin user.
    /// Returns the vault and the compliance officer's audit key `k_0`, which the vault does
    /// not keep: hand it to the officer (e.g. `pvault init --audit-key-out FILE`).
    pub fn create(
        dir: &Path,
        admin: &str,
        passphrase: &Passphrase,
        options: VaultOptions,
    ) -> Result<(Vault, AuditKey), VaultError> {
        check_new_vault(admin, passphrase, &options)?;
        if dir.exists() {
            let mut entries = std::fs::read_dir(dir)
                .map_err(|e| VaultError::Store(crate::store::StoreError::Io(e.to_string())))?;
            if entries.next().is_some() {
                return Err(VaultError::AlreadyExists(dir.to_path_buf()));
            }
        }
        create_private_dir(dir)
            .map_err(|e| VaultError::Store(crate::store::StoreError::Io(e.to_string())))?;
        let store =
            SledStore::open(dir, options.cache_bytes)?.with_group_commit(options.group_commit);
        let created = Self::initialise(
            Arc::new(store),
            Some(dir.to_path_buf()),
            admin,
            passphrase,
            options,
        )?;
        tighten_permissions(dir)
            .map_err(|e| VaultError::Store(crate::store::StoreError::Io(e.to_string())))?;
        Ok(created)
    }

    /// Creates a vault on an open, empty store (a PostgreSQL database, say) with one admin
    /// user; otherwise as [`Vault::create`]. A store that already holds a vault gives
    /// [`VaultError::AlreadyExists`], also when two processes race to create one.
    pub fn create_on(
        store: Arc<dyn Store>,
        admin: &str,
        passphrase: &Passphrase,
        options: VaultOptions,
    ) -> Result<(Vault, AuditKey), VaultError> {
        check_new_vault(admin, passphrase, &options)?;
        Self::initialise(store, None, admin, passphrase, options)
    }

    /// Writes the header, the admin and the genesis head, then logs `init`: the part of
    /// creating a vault that is the same on every store.
    fn initialise(
        store: Arc<dyn Store>,
        dir: Option<PathBuf>,
        admin: &str,
        passphrase: &Passphrase,
        options: VaultOptions,
    ) -> Result<(Vault, AuditKey), VaultError> {
        let vault_id: [u8; 16] = crypto::random_array()?;
        let keyring = Keyring::generate_all()?;
        let checkpoint_public_key = keyring
            .signing_key()
            .expect("a new keyring carries the signing key")
            .verifying_key()
            .to_bytes();
        let header = Header {
            format: FORMAT,
            vault_id,
            created_at: now_ms(),
            checkpoint_public_key,
        };
        let admin_rec = make_user(
            &vault_id,
            admin,
            Role::Admin,
            None,
            &keyring,
            passphrase,
            &options,
        )?;
        let k0 = AuditKey::new(
            crypto::DerivedKey::generate()?,
            checkpoint_public_key,
            vault_id,
        );
        let mut writes = WriteSet::new();
        // put_new: of two processes creating a vault on one database, one wins whole
        writes.put_new(
            Tree::Meta,
            HEADER_KEY,
            postcard::to_stdvec(&header).expect("header serialises"),
        );
        writes.put(
            Tree::Users,
            admin.as_bytes(),
            postcard::to_stdvec(&admin_rec).expect("user serialises"),
        );
        audit::genesis_writes(&k0, &mut writes);
        store.commit_unaudited(&writes).map_err(|e| match e {
            crate::store::StoreError::Exists { .. } => match &dir {
                Some(d) => VaultError::AlreadyExists(d.clone()),
                None => VaultError::StoreNotEmpty,
            },
            other => VaultError::Store(other),
        })?;
        let vault = Vault {
            store,
            vault_id,
            checkpoint_public_key,
            options,
            dir,
            loose_permissions: vec![],
        };
        let entry = vault.entry(
            [0; 8],
            admin,
            Some(Role::Admin),
            Action::Init,
            Outcome::Allowed,
            None,
        );
        audit::commit(vault.store.as_ref(), &WriteSet::new(), &entry, None)
            .map_err(VaultError::AuditFailed)?;
        Ok((vault, k0))
    }

    /// Opens the vault in `dir`. A second process gets [`VaultError::InUse`].
    pub fn open(dir: &Path, options: VaultOptions) -> Result<Vault, VaultError> {
        if !dir.join("db").exists() {
            return Err(VaultError::NotAVault(dir.to_path_buf()));
        }
        // Checked before the engine opens (it writes a snapshot while opening).
        let loose = loose_permissions(dir);
        let store =
            SledStore::open(dir, options.cache_bytes)?.with_group_commit(options.group_commit);
        let mut vault = Self::open_store(Arc::new(store), Some(dir.to_path_buf()), options)?;
        // Files sled creates while running (snapshots) get the process's default mode; the
        // folder is 0700 so they are not reachable, but report and fix what was loose.
        vault.loose_permissions = loose;
        tighten_permissions(dir)
            .map_err(|e| VaultError::Store(crate::store::StoreError::Io(e.to_string())))?;
        Ok(vault)
    }

    /// Opens a vault on an already-open store (tests wrap a store to inject faults).
    pub fn open_store(
        store: Arc<dyn Store>,
        dir: Option<PathBuf>,
        options: VaultOptions,
    ) -> Result<Vault, VaultError> {
        let header: Header = match store.get(Tree::Meta, HEADER_KEY)? {
            Some(bytes) => {
                postcard::from_bytes(&bytes).map_err(|_| VaultError::Corrupt("vault header"))?
            }
            None => return Err(VaultError::NotAVault(dir.unwrap_or_default())),
        };
        if header.format != FORMAT {
            return Err(VaultError::Corrupt("unknown vault format version"));
        }
        Ok(Vault {
            store,
            vault_id: header.vault_id,
            checkpoint_public_key: header.checkpoint_public_key,
            options,
            dir,
            loose_permissions: vec![],
        })
    }

    /// The underlying store (for wrapping in tests and for verification tools).
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// The vault folder, for a sled vault.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Files or folders that were readable by group or others when the vault was opened
    /// (they have been set to 0600 / 0700 since).
    pub fn loose_permissions_at_open(&self) -> &[String] {
        &self.loose_permissions
    }

    /// Files or folders under the vault folder that are readable by group or others now.
    pub fn permission_warnings(&self) -> Vec<String> {
        self.dir
            .as_deref()
            .map(loose_permissions)
            .unwrap_or_default()
    }

    /// Unlocks a session as `user`. Wrong user or passphrase → [`VaultError::BadCredentials`]
    /// and a failed-unlock entry in the audit log. The unlock itself is logged before the
    /// session is returned.
    pub fn unlock(&self, user: &str, passphrase: &Passphrase) -> Result<Session<'_>, VaultError> {
        let record = match self.user_record(user)? {
            Some(r) => r,
            None => {
                // Spend the same time as a real slot, so timing does not reveal which
                // user names exist.
                let _ = crypto::derive_kek(passphrase, &[0; 16], &self.options.kdf);
                self.log_failed_unlock(user, None, "unknown_user")?;
                return Err(VaultError::BadCredentials);
            }
        };
        let kek = crypto::derive_kek(passphrase, &record.salt, &record.kdf)?;
        let mut record = record;
        let mut keyring = match Keyring::unwrap(&record.wrapped, &kek, &self.vault_id, &record.id) {
            Ok(k) => k,
            Err(_) => {
                self.log_failed_unlock(user, Some(record.role), "bad_passphrase")?;
                return Err(VaultError::BadCredentials);
            }
        };
        // Pending key grants (rotation, retirement) are merged and the keyring rewrapped in
        // the same transaction as the unlock entry.
        let (writes, detail) =
            crate::grants::merge_at_unlock(self, &mut record, &mut keyring, &kek)?;
        let session_id: [u8; 8] = crypto::random_array()?;
        let entry = self.entry(
            session_id,
            user,
            Some(record.role),
            Action::Unlock,
            Outcome::Allowed,
            detail.as_deref(),
        );
        audit::commit(self.store.as_ref(), &writes, &entry, None)
            .map_err(VaultError::AuditFailed)?;
        Ok(Session::new(self, record, keyring, session_id))
    }

    fn log_failed_unlock(
        &self,
        user: &str,
        role: Option<Role>,
        detail: &str,
    ) -> Result<(), VaultError> {
        let actor: String = user.chars().take(64).collect();
        let entry = self.entry(
            [0; 8],
            &actor,
            role,
            Action::Unlock,
            Outcome::Denied,
            Some(detail),
        );
        audit::commit(self.store.as_ref(), &WriteSet::new(), &entry, None)
            .map_err(VaultError::AuditFailed)?;
        Ok(())
    }

    pub(crate) fn entry(
        &self,
        session: [u8; 8],
        actor: &str,
        role: Option<Role>,
        action: Action,
        outcome: Outcome,
        detail: Option<&str>,
    ) -> Entry {
        Entry {
            seq: 0,
            time_ms: now_ms(),
            session,
            actor: actor.to_owned(),
            role,
            action,
            targets: vec![],
            requested: vec![],
            returned: vec![],
            purpose: None,
            case_ref: None,
            reason: None,
            outcome,
            detail: detail.map(str::to_owned),
            flags: vec![],
        }
    }

    pub(crate) fn user_record(&self, name: &str) -> Result<Option<UserRecord>, VaultError> {
        match self.store.get(Tree::Users, name.as_bytes())? {
            Some(bytes) => Ok(Some(
                postcard::from_bytes(&bytes).map_err(|_| VaultError::Corrupt("user record"))?,
            )),
            None => Ok(None),
        }
    }

    pub(crate) fn all_users(&self) -> Result<Vec<UserRecord>, VaultError> {
        self.store
            .scan_prefix(Tree::Users, b"")?
            .into_iter()
            .map(|(_, v)| postcard::from_bytes(&v).map_err(|_| VaultError::Corrupt("user record")))
            .collect()
    }

    /// Reserves `n` consecutive case numbers. The store's counter hands each number out
    /// once, even to officers in other processes on one database; a case whose commit then
    /// fails leaves a gap in the numbering.
    pub(crate) fn reserve_case_nos(&self, n: u64) -> Result<Vec<String>, VaultError> {
        let current = self.store.reserve(Tree::Meta, CASE_COUNTER_KEY, n)?;
        let year = time::OffsetDateTime::now_utc().year();
        Ok((current + 1..=current + n)
            .map(|k| format!("XF{year}-{k:06}"))
            .collect())
    }

    /// Verifies the audit log: hash chain, head, the checkpoints stored in the vault, the
    /// MACs and the pinned checkpoint key when the officer's key is given, and any external
    /// checkpoints (e.g. the one the officer keeps). Needs no session and no data key.
    pub fn verify_audit(
        &self,
        officer_key: Option<&AuditKey>,
        external: &[audit::Checkpoint],
    ) -> Result<audit::VerifyReport, audit::VerifyError> {
        audit::verify_log(
            self.store.as_ref(),
            &self.vault_id,
            &self.checkpoint_public_key,
            officer_key,
            external,
        )
    }

    /// The vault id.
    pub fn id(&self) -> [u8; 16] {
        self.vault_id
    }

    /// The public key that verifies this vault's audit checkpoints (as the vault says; the
    /// officer's key file pins the original).
    pub fn checkpoint_public_key(&self) -> [u8; 32] {
        self.checkpoint_public_key
    }
}

pub(crate) fn make_user(
    vault_id: &[u8; 16],
    name: &str,
    role: Role,
    unit: Option<String>,
    source: &Keyring,
    passphrase: &Passphrase,
    options: &VaultOptions,
) -> Result<UserRecord, VaultError> {
    check_user_name(name)?;
    check_passphrase(passphrase)?;
    let id: [u8; 16] = crypto::random_array()?;
    let salt: [u8; 16] = crypto::random_array()?;
    let kek = crypto::derive_kek(passphrase, &salt, &options.kdf)?;
    let mut ring = source.for_role(role);
    if let Some(grant) = source.derive_grant_key(&id) {
        ring.set_grant_key(grant);
    }
    let wrapped = ring.wrap(&kek, vault_id, &id)?;
    Ok(UserRecord {
        id,
        name: name.to_owned(),
        role,
        unit,
        kdf: options.kdf,
        salt,
        wrapped,
        created_at: now_ms(),
    })
}

fn loose_permissions(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    #[cfg(unix)]
    collect_loose(dir, &mut out);
    out
}

#[cfg(unix)]
fn collect_loose(dir: &Path, out: &mut Vec<String>) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(dir)
        && meta.permissions().mode() & 0o077 != 0
    {
        out.push(format!(
            "{} was accessible to other users (mode {:o})",
            dir.display(),
            meta.permissions().mode() & 0o777
        ));
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(ft) if ft.is_dir() => collect_loose(&p, out),
                Ok(ft) if ft.is_file() => {
                    if let Ok(meta) = e.metadata()
                        && meta.permissions().mode() & 0o077 != 0
                    {
                        out.push(format!(
                            "{} was accessible to other users (mode {:o})",
                            p.display(),
                            meta.permissions().mode() & 0o777
                        ));
                    }
                }
                _ => {}
            }
        }
    }
}
