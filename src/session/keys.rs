//! Key lifecycle through the gate: passphrase change, revocation, rotation, resumable
//! re-encryption, retirement, key status and the M-of-N recovery split (SECURITY.md
//! "Key lifecycle").

use super::{Session, StoredRecord, decode_record, tree_of};
use crate::audit::Outcome;
use crate::crypto::{self, ClassKey, KdfParams, Kek, Passphrase};
use crate::error::VaultError;
use crate::grants::{self, GrantOp, RECOVERY_SLOT_ID};
use crate::model::{
    CASE_FIELDS, CaseMeta, MASKED_BUNDLE, META_BUNDLE, PETITIONER_FIELDS, RecordId, Table,
};
use crate::policy::{Action, Class, Role};
use crate::store::{Tree, WriteSet};
use crate::vault::{UserRecord, check_passphrase, now_ms};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Meta-tree key prefix of re-encryption progress (one entry per class).
pub(crate) const REENCRYPT_PREFIX: &[u8] = b"reencrypt/";
/// Meta-tree key of the recovery copy of the custodian keyring.
pub(crate) const RECOVERY_KEY: &[u8] = b"recovery/custodian";

/// The class of an envelope name in a table (`None` for a name the table does not have).
pub(crate) fn class_of(table: Table, name: &str) -> Option<Class> {
    if name == MASKED_BUNDLE {
        return Some(Class::Masked);
    }
    if name == META_BUNDLE {
        return Some(Class::Meta);
    }
    let specs = match table {
        Table::Petitioner => PETITIONER_FIELDS,
        Table::Case => CASE_FIELDS,
    };
    specs.iter().find(|s| s.name == name).map(|s| s.class)
}

const TABLES: [Table; 2] = [Table::Petitioner, Table::Case];

/// Where a re-encryption pass of one class stands (kept in the meta tree, updated in the
/// same transaction as each batch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReencryptProgress {
    /// The version fields are moved to.
    pub target: u32,
    /// 0 = petitioners, 1 = cases, 2 = finished.
    pub table: u8,
    /// The last record id done in that table (all zero before the first).
    pub last: [u8; 16],
    /// Fields moved so far in this pass.
    pub moved: u64,
    /// Batches committed so far in this pass.
    pub batches: u64,
}

/// What one re-encryption batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReencryptBatch {
    /// The class.
    pub class: Class,
    /// Records looked at.
    pub scanned: usize,
    /// Fields moved to the newest version.
    pub moved: usize,
    /// Progress after the batch.
    pub progress: ReencryptProgress,
}

/// Per class: versions, and how many fields and records use each.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClassStatus {
    /// The class.
    pub class: String,
    /// The newest version this keyring holds.
    pub current: Option<u32>,
    /// Versions this keyring holds.
    pub held: Vec<u32>,
    /// Fields (envelopes) per key version, counted from headers (no key needed).
    pub fields: BTreeMap<u32, u64>,
    /// Records with at least one field per key version.
    pub records: BTreeMap<u32, u64>,
    /// Users whose role holds the class.
    pub holders: usize,
    /// Re-encryption progress, when a pass has run.
    pub reencrypt: Option<ReencryptProgress>,
}

/// `keys status`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KeyStatus {
    /// Per class.
    pub classes: Vec<ClassStatus>,
    /// Grants waiting for the next unlock of their user (by user name; `(recovery)` for
    /// the recovery copy).
    pub pending_grants: BTreeMap<String, usize>,
    /// Whether a recovery copy of the custodian keyring exists.
    pub recovery_configured: bool,
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The class.
    pub class: Class,
    /// The new version.
    pub version: u32,
    /// Users who will receive it at their next unlock.
    pub granted_to: Vec<String>,
}

/// What a revocation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// The user.
    pub user: String,
    /// The classes their role held.
    pub held: Vec<Class>,
    /// Rotations made (with `rotate`).
    pub rotated: Vec<Rotation>,
    /// Classes held but not rotated, with why.
    pub not_rotated: Vec<(Class, &'static str)>,
}

/// One recovery share, as written to a share file.
pub struct RecoveryShare {
    /// The share file's text (a secret: zeroized on drop).
    pub text: zeroize::Zeroizing<String>,
}

impl std::fmt::Debug for RecoveryShare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryShare([redacted])")
    }
}

/// The stored recovery copy of the custodian keyring.
#[derive(Serialize, Deserialize)]
pub(crate) struct RecoveryRecord {
    pub threshold: u8,
    pub shares: u8,
    pub created_at: i64,
    pub created_by: String,
    pub wrapped: Vec<u8>,
}

/// Why the index class is not rotated (SECURITY.md "Rotation").
fn refused(msg: impl Into<String>) -> VaultError {
    VaultError::KeyLifecycle(msg.into())
}

impl Session<'_> {
    fn require_custodian(&self, action: Action) -> Result<(), VaultError> {
        self.require(action)?;
        if !self.keyring.is_custodian() {
            return Err(refused(
                "this keyring carries no custodian key; unlock again to upgrade it",
            ));
        }
        Ok(())
    }

    // ---- passwd ------------------------------------------------------------------------

    /// Changes this user's passphrase: a new salt (and optionally stronger Argon2
    /// parameters), the keyring rewrapped, the old slot replaced in one transaction with
    /// its audit entry. Parameters can only be raised.
    pub fn change_passphrase(
        &self,
        new: &Passphrase,
        kdf: Option<KdfParams>,
    ) -> Result<(), VaultError> {
        self.require(Action::Passwd)?;
        check_passphrase(new)?;
        let current = self
            .vault
            .user_record(&self.user.name)?
            .ok_or(VaultError::UnknownUser)?;
        let params = kdf.unwrap_or(current.kdf);
        if params.m_kib < current.kdf.m_kib || params.t < current.kdf.t || params.p < 1 {
            return Err(refused(
                "key-derivation parameters can only be raised (give --m-kib and --t at least the current values)",
            ));
        }
        params.check()?;
        let salt: [u8; 16] = crypto::random_array()?;
        let kek = crypto::derive_kek(new, &salt, &params)?;
        let record = UserRecord {
            kdf: params,
            salt,
            wrapped: self.keyring.wrap(&kek, &self.vault.vault_id, &current.id)?,
            ..current
        };
        let mut writes = WriteSet::new();
        writes.put(
            Tree::Users,
            record.name.as_bytes(),
            postcard::to_stdvec(&record).expect("user serialises"),
        );
        let detail = format!("m_kib:{},t:{},p:{}", params.m_kib, params.t, params.p);
        let e = self.entry(Action::Passwd, Outcome::Allowed, Some(&detail));
        self.commit(&writes, &e)?;
        Ok(())
    }

    // ---- grants ------------------------------------------------------------------------

    /// Seals `ops` for every user whose role holds `class` (and the recovery copy).
    fn grant_to_holders(
        &self,
        class: Class,
        ops: impl Fn() -> Vec<GrantOp>,
        writes: &mut WriteSet,
    ) -> Result<Vec<String>, VaultError> {
        let mut names = Vec::new();
        for user in self.vault.all_users()? {
            if !user.role.key_classes().contains(&class) {
                continue;
            }
            let g = self
                .keyring
                .derive_grant_key(&user.id)
                .ok_or_else(|| refused("no custodian key"))?;
            grants::seal_grant(writes, &g, &self.vault.vault_id, &user.id, &ops())?;
            names.push(user.name);
        }
        if self.vault.store.get(Tree::Meta, RECOVERY_KEY)?.is_some() {
            let g = self
                .keyring
                .derive_grant_key(&RECOVERY_SLOT_ID)
                .ok_or_else(|| refused("no custodian key"))?;
            grants::seal_grant(writes, &g, &self.vault.vault_id, &RECOVERY_SLOT_ID, &ops())?;
        }
        Ok(names)
    }

    // ---- rotation ----------------------------------------------------------------------

    /// Adds a new version of `class`: new writes seal with it from now on, and every user
    /// whose role holds the class receives it at their next unlock (a key grant). Old
    /// versions stay until `reencrypt` has moved every field and `retire` removes them.
    pub fn rotate(&mut self, class: Class) -> Result<Rotation, VaultError> {
        self.require_custodian(Action::KeysRotate)?;
        let version = self.keyring.versions(class).last().copied().unwrap_or(0) + 1;
        let key = ClassKey::generate()?;
        let mut writes = WriteSet::new();
        let granted_to = self.grant_to_holders(
            class,
            || vec![GrantOp::Add(class, version, key.clone())],
            &mut writes,
        )?;
        let detail = format!(
            "class:{class},version:{version},grants:{}",
            granted_to.len()
        );
        let mut e = self.entry(Action::KeysRotate, Outcome::Allowed, Some(&detail));
        e.requested = granted_to.iter().map(|u| format!("user:{u}")).collect();
        self.commit(&writes, &e)?;
        self.keyring.insert(class, version, key);
        Ok(Rotation {
            class,
            version,
            granted_to,
        })
    }

    // ---- revocation --------------------------------------------------------------------

    /// Revokes a user (admin): their user record and wrapped keyring are deleted, with any
    /// grants waiting for them. With `rotate`, every class their role held gets a new
    /// version (the recommended form: a revoked user may have kept a copy of their keyring).
    pub fn revoke_user(&mut self, name: &str, rotate: bool) -> Result<Revocation, VaultError> {
        self.require(Action::UserRevoke)?;
        if name == self.user.name {
            return Err(refused("you cannot revoke yourself; another admin must"));
        }
        let target = self
            .vault
            .user_record(name)?
            .ok_or(VaultError::UnknownUser)?;
        let mut writes = WriteSet::new();
        writes.delete(Tree::Users, name.as_bytes());
        grants::delete_all(self.vault, &target.id, &mut writes)?;
        let mut e = self.entry(
            Action::UserRevoke,
            Outcome::Allowed,
            Some(if rotate { "rotate" } else { "no_rotate" }),
        );
        e.requested = vec![format!("user:{name}")];
        self.commit(&writes, &e)?;
        let held: Vec<Class> = target.role.key_classes().to_vec();
        let mut out = Revocation {
            user: name.to_owned(),
            held: held.clone(),
            rotated: vec![],
            not_rotated: vec![],
        };
        for class in held {
            if !rotate {
                out.not_rotated.push((class, "not asked (--rotate)"));
            } else {
                out.rotated.push(self.rotate(class)?);
            }
        }
        Ok(out)
    }

    // ---- status ------------------------------------------------------------------------

    /// Per class: versions held, fields and records per version (counted from envelope
    /// headers, no key needed), holders, re-encryption progress; pending grants (admin).
    pub fn key_status(&self) -> Result<KeyStatus, VaultError> {
        self.require(Action::KeysStatus)?;
        self.commit(
            &WriteSet::new(),
            &self.entry(Action::KeysStatus, Outcome::Allowed, None),
        )?;
        let mut fields: BTreeMap<(Class, u32), u64> = BTreeMap::new();
        let mut records: BTreeMap<(Class, u32), u64> = BTreeMap::new();
        for table in TABLES {
            self.vault.store.visit(tree_of(table), b"", &mut |_, v| {
                if let Ok(rec) = postcard::from_bytes::<StoredRecord>(v) {
                    let mut seen = std::collections::BTreeSet::new();
                    for (_, env) in &rec.envelopes {
                        if let Ok(h) = crypto::EnvelopeHeader::parse(env)
                            && let Some(c) = Class::from_code(h.class)
                        {
                            *fields.entry((c, h.key_version)).or_insert(0) += 1;
                            if seen.insert((c, h.key_version)) {
                                *records.entry((c, h.key_version)).or_insert(0) += 1;
                            }
                        }
                    }
                }
                true
            })?;
        }
        let users = self.vault.all_users()?;
        let mut status = KeyStatus::default();
        for class in Class::ALL {
            let pick = |m: &BTreeMap<(Class, u32), u64>| -> BTreeMap<u32, u64> {
                m.iter()
                    .filter(|((c, _), _)| *c == class)
                    .map(|((_, v), n)| (*v, *n))
                    .collect()
            };
            status.classes.push(ClassStatus {
                class: class.as_str().to_owned(),
                current: self.keyring.current_version(class),
                held: self.keyring.versions(class),
                fields: pick(&fields),
                records: pick(&records),
                holders: users
                    .iter()
                    .filter(|u| u.role.key_classes().contains(&class))
                    .count(),
                reencrypt: self.reencrypt_progress(class)?,
            });
        }
        let names: BTreeMap<[u8; 16], String> =
            users.iter().map(|u| (u.id, u.name.clone())).collect();
        for (slot, n) in grants::pending_counts(self.vault)? {
            let name = if slot == RECOVERY_SLOT_ID {
                "(recovery)".to_owned()
            } else {
                names
                    .get(&slot)
                    .cloned()
                    .unwrap_or_else(|| "(revoked)".into())
            };
            status.pending_grants.insert(name, n);
        }
        status.recovery_configured = self.vault.store.get(Tree::Meta, RECOVERY_KEY)?.is_some();
        Ok(status)
    }

    fn progress_key(class: Class) -> Vec<u8> {
        [REENCRYPT_PREFIX, &[class.code()]].concat()
    }

    /// The stored re-encryption progress of `class`.
    pub fn reencrypt_progress(
        &self,
        class: Class,
    ) -> Result<Option<ReencryptProgress>, VaultError> {
        match self
            .vault
            .store
            .get(Tree::Meta, &Self::progress_key(class))?
        {
            Some(b) => Ok(Some(
                postcard::from_bytes(&b).map_err(|_| VaultError::Corrupt("reencrypt progress"))?,
            )),
            None => Ok(None),
        }
    }

    // ---- re-encryption -----------------------------------------------------------------

    /// Moves up to `batch` records' fields of `class` to the newest version, continuing
    /// where the last batch (of this or an earlier process) stopped. Each batch is one
    /// transaction with its audit entry and the new progress, so a pass killed at any point
    /// resumes without losing or repeating work. `None` when the pass is already finished.
    pub fn reencrypt_batch(
        &self,
        class: Class,
        batch: usize,
    ) -> Result<Option<ReencryptBatch>, VaultError> {
        self.require_custodian(Action::KeysReencrypt)?;
        let Some(target) = self.keyring.current_version(class) else {
            return Err(refused("this keyring holds no key of that class"));
        };
        if self.keyring.versions(class).len() < 2 {
            // With a single version held there is nothing older to move from.
            return Ok(None);
        }
        let mut progress = match self.reencrypt_progress(class)? {
            Some(p) if p.target == target => p,
            _ => ReencryptProgress {
                target,
                table: 0,
                last: [0; 16],
                moved: 0,
                batches: 0,
            },
        };
        if progress.table >= 2 {
            return Ok(None);
        }
        let batch = batch.max(1);
        let mut writes = WriteSet::new();
        let mut changed = Vec::new();
        let (mut scanned, mut moved) = (0usize, 0usize);
        while progress.table < 2 && scanned < batch {
            let table = TABLES[progress.table as usize];
            let start: Vec<u8> = if progress.last == [0; 16] {
                vec![]
            } else {
                [progress.last.as_slice(), &[0]].concat()
            };
            let rows =
                self.vault
                    .store
                    .range(tree_of(table), &start, &[0xff; 17], batch - scanned)?;
            if rows.is_empty() {
                progress.table += 1;
                progress.last = [0; 16];
                continue;
            }
            for (key, bytes) in rows {
                let id = RecordId(
                    key.as_slice()
                        .try_into()
                        .map_err(|_| VaultError::Corrupt("record key"))?,
                );
                scanned += 1;
                progress.last = id.0;
                let mut rec = decode_record(table, &id, &bytes)?;
                if class == Class::Index {
                    // Index keys seal no field: re-indexing moves the record's blind-index
                    // entries to tags under the new version.
                    let n = self.reindex_record(table, &id, &rec, target, &mut writes)?;
                    if n > 0 {
                        moved += n;
                        changed.push(id);
                    }
                    continue;
                }
                let n = self.reseal_record(table, &id, &mut rec, class, target)?;
                if n > 0 {
                    moved += n;
                    changed.push(id);
                    self.put_record(&mut writes, table, &id, &rec);
                }
            }
        }
        progress.moved += moved as u64;
        progress.batches += 1;
        writes.put(
            Tree::Meta,
            Self::progress_key(class),
            postcard::to_stdvec(&progress).expect("progress serialises"),
        );
        let detail = format!("class:{class},to_version:{target},moved:{moved}");
        let mut e = self.entry(Action::KeysReencrypt, Outcome::Allowed, Some(&detail));
        e.targets = changed;
        self.commit(&writes, &e)?;
        Ok(Some(ReencryptBatch {
            class,
            scanned,
            moved,
            progress,
        }))
    }

    /// Re-seals every envelope of `class` in `rec` that is older than `target`; returns how
    /// many moved. A case's meta bundle also gets its accused-unit tag recomputed under the
    /// new meta version (else retiring the old version would open the firewall).
    fn reseal_record(
        &self,
        table: Table,
        id: &RecordId,
        rec: &mut StoredRecord,
        class: Class,
        target: u32,
    ) -> Result<usize, VaultError> {
        let tampered = |field: &str| VaultError::Tampered {
            table: table.as_str(),
            id: *id,
            field: field.to_owned(),
        };
        let mut moved = 0;
        let names: Vec<String> = rec.envelopes.iter().map(|(n, _)| n.clone()).collect();
        for name in names {
            if class_of(table, &name) != Some(class) {
                continue;
            }
            let env = rec.envelope(&name).expect("listed").to_vec();
            let header = crypto::EnvelopeHeader::parse(&env).map_err(|_| tampered(&name))?;
            if header.class != class.code() {
                return Err(tampered(&name));
            }
            if header.key_version >= target {
                continue;
            }
            let old = self
                .record_key(table, id, class, header.key_version)
                .ok_or_else(|| tampered(&name))?;
            let plain = old.open(&name, &env).map_err(|_| tampered(&name))?;
            let plain = if table == Table::Case && name == META_BUNDLE {
                let mut meta: CaseMeta =
                    postcard::from_bytes(&plain).map_err(|_| tampered(&name))?;
                if meta.accused_unit_tag.is_some() {
                    let unit = rec
                        .envelope("accused_unit")
                        .map(|e| self.open_envelope(table, id, "accused_unit", Class::Content, e))
                        .transpose()?
                        .flatten()
                        .and_then(crate::crypto::SecretText::from_utf8)
                        .ok_or_else(|| tampered("accused_unit"))?;
                    let tag = self
                        .unit_tag(unit.expose(), target)
                        .ok_or_else(|| tampered(&name))?;
                    meta.accused_unit_tag = Some((target, tag));
                }
                zeroize::Zeroizing::new(postcard::to_stdvec(&meta).expect("meta serialises"))
            } else {
                plain
            };
            let new = self
                .record_key(table, id, class, target)
                .ok_or_else(|| tampered(&name))?;
            rec.set(&name, new.seal(&name, &plain)?);
            moved += 1;
        }
        Ok(moved)
    }

    // ---- retirement --------------------------------------------------------------------

    /// Re-indexes one record: its blind-index entries (and, for an imported case, its row
    /// fingerprint) are written under index version `target` and removed under every other
    /// version held. Returns how many entries moved.
    fn reindex_record(
        &self,
        table: Table,
        id: &RecordId,
        rec: &StoredRecord,
        target: u32,
        writes: &mut WriteSet,
    ) -> Result<usize, VaultError> {
        let key_of = |v: u32| {
            self.keyring
                .key(Class::Index, v)
                .map(crate::index::IndexKeys::new)
        };
        let new_keys =
            key_of(target).ok_or_else(|| refused("this keyring lacks the new index key"))?;
        let old: Vec<crate::index::IndexKeys> = self
            .keyring
            .versions(Class::Index)
            .into_iter()
            .filter(|v| *v != target)
            .filter_map(key_of)
            .collect();
        let text = |tbl: Table,
                    rid: &RecordId,
                    r: &StoredRecord,
                    name: &str,
                    class: Class|
         -> Result<Option<String>, VaultError> {
            Ok(match r.envelope(name) {
                Some(env) => self
                    .open_envelope(tbl, rid, name, class, env)?
                    .and_then(crate::crypto::SecretText::from_utf8)
                    .map(|t| t.expose().to_owned()),
                None => None,
            })
        };
        match table {
            Table::Petitioner => {
                let Some(id_number) = text(table, id, rec, "id_number", Class::Identity)? else {
                    return Ok(0); // an erased petitioner has no entries
                };
                let mut fields = super::PetitionerFields {
                    values: vec![("id_number", id_number.into())],
                    masked: Default::default(),
                };
                for (name, class) in [
                    ("birth_date", Class::Identity),
                    ("name", Class::Contact),
                    ("phones", Class::Contact),
                ] {
                    if let Some(v) = text(table, id, rec, name, class)? {
                        fields.values.push((name, v.into()));
                    }
                }
                let (unique, entries) = super::index_entries(&new_keys, id, &fields);
                writes.put(Tree::Index, unique, id.0.to_vec());
                let moved = entries.len();
                for key in entries {
                    writes.put(Tree::Index, key, vec![]);
                }
                for keys in &old {
                    let (unique, entries) = super::index_entries(keys, id, &fields);
                    if self.vault.store.get(Tree::Index, &unique)?.as_deref()
                        == Some(id.0.as_slice())
                    {
                        writes.delete(Tree::Index, unique);
                    }
                    for key in entries {
                        writes.delete(Tree::Index, key);
                    }
                }
                Ok(moved)
            }
            Table::Case => {
                let meta = self.case_meta(id, rec)?;
                let Some(first) = meta.petitioner_ids.first() else {
                    return Ok(0);
                };
                let Some(prec) = self.load(Table::Petitioner, first)? else {
                    return Ok(0);
                };
                let (Some(id_number), Some(title), Some(content)) = (
                    text(
                        Table::Petitioner,
                        first,
                        &prec,
                        "id_number",
                        Class::Identity,
                    )?,
                    text(table, id, rec, "title", Class::Content)?,
                    text(table, id, rec, "content", Class::Content)?,
                ) else {
                    return Ok(0);
                };
                let input = super::import_fingerprint(
                    &id_number,
                    &meta.category,
                    meta.channel,
                    &title,
                    &content,
                );
                let mut moved = 0;
                for keys in &old {
                    let key = crate::index::entry_key(
                        crate::index::IndexKind::ImportRow,
                        &keys.tag(crate::index::IndexKind::ImportRow, &input),
                        id,
                    );
                    if self.vault.store.get(Tree::Index, &key)?.is_some() {
                        writes.delete(Tree::Index, key);
                        moved = 1;
                    }
                }
                if moved > 0 {
                    let tag = new_keys.tag(crate::index::IndexKind::ImportRow, &input);
                    writes.put(
                        Tree::Index,
                        crate::index::entry_key(crate::index::IndexKind::ImportRow, &tag, id),
                        vec![],
                    );
                }
                Ok(moved)
            }
        }
    }

    /// Fields (and case accused-unit tags) that still use `class` version `version`. For the
    /// index class (which seals no field): every record until a re-index pass to a newer
    /// version has finished, then none.
    fn uses_of(&self, class: Class, version: u32) -> Result<u64, VaultError> {
        if class == Class::Index {
            let done = self
                .reencrypt_progress(class)?
                .is_some_and(|p| p.target > version && p.table >= 2);
            if done {
                return Ok(0);
            }
            let mut records = 0u64;
            for table in TABLES {
                records += self.vault.store.scan_prefix(tree_of(table), b"")?.len() as u64;
            }
            return Ok(records);
        }
        let mut n = 0u64;
        for table in TABLES {
            for (key, bytes) in self.vault.store.scan_prefix(tree_of(table), b"")? {
                let id = RecordId(
                    key.as_slice()
                        .try_into()
                        .map_err(|_| VaultError::Corrupt("record key"))?,
                );
                let rec = decode_record(table, &id, &bytes)?;
                for (name, env) in &rec.envelopes {
                    if let Ok(h) = crypto::EnvelopeHeader::parse(env)
                        && h.class == class.code()
                        && h.key_version == version
                    {
                        n += 1;
                    }
                    if class == Class::Meta && table == Table::Case && name == META_BUNDLE {
                        let meta = self.case_meta(&id, &rec)?;
                        if meta.accused_unit_tag.is_some_and(|(v, _)| v == version) {
                            n += 1;
                        }
                    }
                }
            }
        }
        Ok(n)
    }

    /// Removes `class` version `version` from every keyring (the admin's now, the others'
    /// at their next unlock) — only when no field uses it any more and a newer one exists.
    pub fn retire(&mut self, class: Class, version: u32) -> Result<(), VaultError> {
        self.require_custodian(Action::KeysRetire)?;
        let current = self.keyring.current_version(class).unwrap_or(0);
        if version >= current {
            return Err(refused(format!(
                "version {version} is the newest {class} key; rotate first, re-encrypt, then retire"
            )));
        }
        if !self.keyring.versions(class).contains(&version) {
            return Err(refused(format!(
                "{class} version {version} is not held (already retired?)"
            )));
        }
        let remaining = self.uses_of(class, version)?;
        if remaining > 0 {
            let mut e = self.entry(
                Action::KeysRetire,
                Outcome::Denied,
                Some(&format!(
                    "class:{class},version:{version},in_use:{remaining}"
                )),
            );
            e.requested = vec![format!("class:{class}")];
            self.commit(&WriteSet::new(), &e)?;
            return Err(refused(format!(
                "{remaining} field(s) still use {class} version {version}; run `pvault keys reencrypt --class {class}` first"
            )));
        }
        let mut writes = WriteSet::new();
        self.grant_to_holders(class, || vec![GrantOp::Remove(class, version)], &mut writes)?;
        let detail = format!("class:{class},version:{version}");
        let e = self.entry(Action::KeysRetire, Outcome::Allowed, Some(&detail));
        self.commit(&writes, &e)?;
        self.keyring.remove(class, version);
        Ok(())
    }

    // ---- recovery ----------------------------------------------------------------------

    /// Creates a recovery key, splits it into `shares` Shamir shares of which `threshold`
    /// rebuild it, and stores a copy of this custodian keyring wrapped under it (replacing
    /// any earlier copy; earlier shares stop working). The copy receives key grants like a
    /// user, so it stays current through rotations.
    pub fn recovery_split(
        &self,
        shares: u8,
        threshold: u8,
    ) -> Result<Vec<RecoveryShare>, VaultError> {
        self.require_custodian(Action::RecoverySplit)?;
        if threshold < 2 || shares < threshold {
            return Err(refused(
                "use 2 <= --threshold <= --shares (a threshold of 1 would make every share the key)",
            ));
        }
        let mut r = zeroize::Zeroizing::new([0u8; 32]);
        crypto::fill_random(r.as_mut_slice())?;
        let mut ring = self.keyring.clone();
        ring.set_grant_key(
            self.keyring
                .derive_grant_key(&RECOVERY_SLOT_ID)
                .ok_or_else(|| refused("no custodian key"))?,
        );
        let wrapped = ring.wrap(
            &Kek::from_bytes(*r),
            &self.vault.vault_id,
            &RECOVERY_SLOT_ID,
        )?;
        let record = RecoveryRecord {
            threshold,
            shares,
            created_at: now_ms(),
            created_by: self.user.name.clone(),
            wrapped,
        };
        let mut writes = WriteSet::new();
        grants::delete_all(self.vault, &RECOVERY_SLOT_ID, &mut writes)?;
        writes.put(
            Tree::Meta,
            RECOVERY_KEY,
            postcard::to_stdvec(&record).expect("recovery record serialises"),
        );
        let detail = format!("shares:{shares},threshold:{threshold}");
        let e = self.entry(Action::RecoverySplit, Outcome::Allowed, Some(&detail));
        self.commit(&writes, &e)?;
        let dealt: Vec<blahaj::Share> = blahaj::Sharks(threshold)
            .dealer(r.as_slice())
            .take(shares as usize)
            .collect();
        Ok(dealt
            .iter()
            .map(|s| RecoveryShare {
                text: crate::recovery::share_text(&self.vault.vault_id, threshold, shares, s),
            })
            .collect())
    }

    /// True for the admin role (for the CLI's wording).
    pub fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }
}

impl Session<'_> {
    /// The versions of `class` this session's keyring holds, oldest first.
    pub fn held_versions(&self, class: Class) -> Vec<u32> {
        self.keyring.versions(class)
    }

    /// The Argon2 parameters of this user's current key slot.
    pub fn kdf_params(&self) -> KdfParams {
        self.user.kdf
    }

    /// Number of records (petitioners and cases), for progress bars (admin).
    pub fn record_count(&self) -> Result<u64, VaultError> {
        self.require(Action::KeysReencrypt)?;
        let mut n = 0u64;
        for table in TABLES {
            self.vault.store.visit(tree_of(table), b"", &mut |_, _| {
                n += 1;
                true
            })?;
        }
        Ok(n)
    }
}
