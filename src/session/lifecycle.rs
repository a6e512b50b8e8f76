//! Record lifecycle through the gate: whole-vault integrity check, erasure of a
//! petitioner, retention candidates, and backups.

use super::keys::class_of;
use super::{Reason, RecordDenial, Session, StoredRecord, decode_record, tree_of};
use crate::audit::Outcome;
use crate::crypto::{self, SecretText};
use crate::error::VaultError;
use crate::index::{self, IndexKind};
use crate::model::{META_BUNDLE, PetitionerMeta, RecordId, Table};
use crate::policy::{Action, Class};
use crate::redact::{self, KnownEntities};
use crate::store::{Tree, WriteSet};
use crate::vault::now_ms;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Meta-tree key prefix of erasure tombstones.
pub(crate) const TOMBSTONE_PREFIX: &[u8] = b"tombstone/";

/// One problem `check` found: where (table and record id, or index / audit) and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `petitioner`, `case`, `index` or `audit`.
    pub area: String,
    /// The record id, when one is concerned.
    pub record: Option<String>,
    /// What is wrong (field names and codes, never a value).
    pub what: String,
}

/// What `check` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckReport {
    /// Records looked at, per table.
    pub records: BTreeMap<String, u64>,
    /// Envelopes opened (structure, commitment and AEAD tag verified), per class.
    pub checked: BTreeMap<String, u64>,
    /// Envelopes whose structure was checked but not opened for lack of the class key.
    pub skipped: BTreeMap<String, u64>,
    /// Petitioners whose index entries were checked (needs identity, contact and index).
    pub index_checked: u64,
    /// Index entries looked at.
    pub index_entries: u64,
    /// Audit entries verified (hash chain and stored checkpoints).
    pub audit_entries: u64,
    /// Everything wrong.
    pub problems: Vec<Problem>,
}

impl CheckReport {
    /// True when nothing is wrong.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The tombstone an erasure leaves (sealed under the meta class).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    /// Unix ms.
    pub erased_at: i64,
    /// Who erased.
    pub erased_by: String,
    /// The reason, scrubbed of PII.
    pub reason: String,
}

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// The petitioner.
    pub petitioner: RecordId,
    /// Envelopes removed from the petitioner record.
    pub fields_removed: usize,
    /// Index entries removed.
    pub index_entries_removed: usize,
    /// Linked cases whose text was re-scrubbed.
    pub cases_scrubbed: Vec<RecordId>,
}

/// A retention candidate: a closed case older than the limit, with its petitioners.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetentionCandidate {
    /// Case id.
    pub case: String,
    /// Case number.
    pub case_no: String,
    /// Status.
    pub status: String,
    /// When the case entered that status (RFC 3339).
    pub since: String,
    /// Its petitioners (ids), and whether each is already erased.
    pub petitioners: Vec<(String, bool)>,
}

fn tombstone_key(id: &RecordId) -> Vec<u8> {
    [TOMBSTONE_PREFIX, id.0.as_slice()].concat()
}

impl Session<'_> {
    /// Whole-vault integrity: every envelope's structure, and its commitment and AEAD tag
    /// where this keyring holds the class (versions included); index ↔ record consistency;
    /// the audit chain. Problems name records by id, never by value. Logged first.
    pub fn check(&self) -> Result<CheckReport, VaultError> {
        self.require(Action::Check)?;
        self.commit(
            &WriteSet::new(),
            &self.entry(Action::Check, Outcome::Allowed, None),
        )?;
        let mut r = CheckReport::default();
        let problem = |r: &mut CheckReport, area: &str, id: Option<&RecordId>, what: String| {
            r.problems.push(Problem {
                area: area.to_owned(),
                record: id.map(|i| i.to_string()),
                what,
            })
        };
        let mut petitioners: BTreeSet<[u8; 16]> = BTreeSet::new();
        let mut cases: BTreeSet<[u8; 16]> = BTreeSet::new();
        let can_index = [Class::Identity, Class::Contact, Class::Index]
            .iter()
            .all(|c| self.keyring.holds(*c));
        let mut expected_index: BTreeSet<Vec<u8>> = BTreeSet::new();
        for table in [Table::Petitioner, Table::Case] {
            for (key, bytes) in self.vault.store.scan_prefix(tree_of(table), b"")? {
                *r.records.entry(table.as_str().to_owned()).or_insert(0) += 1;
                let Ok(id) = <[u8; 16]>::try_from(key.as_slice()).map(RecordId) else {
                    problem(
                        &mut r,
                        table.as_str(),
                        None,
                        "record key is not an id".into(),
                    );
                    continue;
                };
                match table {
                    Table::Petitioner => petitioners.insert(id.0),
                    Table::Case => cases.insert(id.0),
                };
                let rec = match decode_record(table, &id, &bytes) {
                    Ok(rec) => rec,
                    Err(_) => {
                        problem(&mut r, table.as_str(), Some(&id), "record structure".into());
                        continue;
                    }
                };
                self.check_envelopes(table, &id, &rec, &mut r);
                if table == Table::Petitioner && can_index {
                    match self.expected_index_keys(&id, &rec) {
                        Ok(Some(keys)) => {
                            r.index_checked += 1;
                            for alternatives in keys {
                                let found = alternatives.iter().any(|k| {
                                    self.vault
                                        .store
                                        .get(Tree::Index, k)
                                        .ok()
                                        .flatten()
                                        .is_some()
                                });
                                if !found {
                                    problem(
                                        &mut r,
                                        "index",
                                        Some(&id),
                                        "an index entry of this petitioner is missing".into(),
                                    );
                                }
                                expected_index.extend(alternatives);
                            }
                        }
                        Ok(None) => {}
                        Err(_) => problem(
                            &mut r,
                            "index",
                            Some(&id),
                            "fields needed to check the index do not open".into(),
                        ),
                    }
                }
            }
        }
        // Every index entry points at an existing record.
        for (key, value) in self.vault.store.scan_prefix(Tree::Index, b"")? {
            r.index_entries += 1;
            let target = match key.first() {
                Some(b'U') => <[u8; 16]>::try_from(value.as_slice())
                    .ok()
                    .map(|t| (t, true)),
                Some(b'r') => key
                    .get(17..33)
                    .and_then(|s| <[u8; 16]>::try_from(s).ok())
                    .map(|t| (t, false)),
                Some(_) => key
                    .get(17..33)
                    .and_then(|s| <[u8; 16]>::try_from(s).ok())
                    .map(|t| (t, true)),
                None => None,
            };
            match target {
                Some((t, true)) if !petitioners.contains(&t) => problem(
                    &mut r,
                    "index",
                    Some(&RecordId(t)),
                    "index entry points at a missing petitioner".into(),
                ),
                Some((t, false)) if !cases.contains(&t) => problem(
                    &mut r,
                    "index",
                    Some(&RecordId(t)),
                    "import fingerprint points at a missing case".into(),
                ),
                None => problem(&mut r, "index", None, "malformed index entry".into()),
                _ => {}
            }
        }
        match self.vault.verify_audit(None, &[]) {
            Ok(rep) => r.audit_entries = rep.entries,
            Err(e) => problem(&mut r, "audit", None, e.to_string()),
        }
        Ok(r)
    }

    fn check_envelopes(
        &self,
        table: Table,
        id: &RecordId,
        rec: &StoredRecord,
        r: &mut CheckReport,
    ) {
        for (name, env) in &rec.envelopes {
            let bad = |r: &mut CheckReport, what: String| {
                r.problems.push(Problem {
                    area: table.as_str().to_owned(),
                    record: Some(id.to_string()),
                    what,
                })
            };
            let Some(class) = class_of(table, name) else {
                bad(r, format!("unknown field {name}"));
                continue;
            };
            let header = match crypto::EnvelopeHeader::parse(env) {
                Ok(h) => h,
                Err(_) => {
                    bad(r, format!("{name}: malformed envelope"));
                    continue;
                }
            };
            if header.class != class.code() {
                bad(r, format!("{name}: envelope names another class"));
                continue;
            }
            if !self.keyring.holds(class) {
                *r.skipped.entry(class.as_str().to_owned()).or_insert(0) += 1;
                continue;
            }
            match self.record_key(table, id, class, header.key_version) {
                None => bad(
                    r,
                    format!(
                        "{name}: {class} key version {} is not held (retired or unknown)",
                        header.key_version
                    ),
                ),
                Some(k) => match k.open(name, env) {
                    Ok(_) => *r.checked.entry(class.as_str().to_owned()).or_insert(0) += 1,
                    Err(_) => bad(
                        r,
                        format!("{name}: does not decrypt (tampered, moved, or wrong key)"),
                    ),
                },
            }
        }
    }

    /// The index keys a petitioner must have, each as the alternatives under the index
    /// versions held (one of them must exist). `None` for an erased petitioner.
    fn expected_index_keys(
        &self,
        id: &RecordId,
        rec: &StoredRecord,
    ) -> Result<Option<Vec<Vec<Vec<u8>>>>, VaultError> {
        let open = |name: &str, class: Class| -> Result<Option<SecretText>, VaultError> {
            match rec.envelope(name) {
                Some(env) => Ok(self
                    .open_envelope(Table::Petitioner, id, name, class, env)?
                    .and_then(SecretText::from_utf8)),
                None => Ok(None),
            }
        };
        let Some(id_number) = open("id_number", Class::Identity)? else {
            return Ok(None);
        };
        let birth_year: i32 = open("birth_date", Class::Identity)?
            .and_then(|d| d.expose().get(..4).and_then(|y| y.parse().ok()))
            .unwrap_or(0);
        let name = open("name", Class::Contact)?;
        let phones = open("phones", Class::Contact)?;
        let keys = self.index_keys();
        let mut out: Vec<Vec<Vec<u8>>> = Vec::new();
        let mut each = |f: &dyn Fn(&index::IndexKeys) -> Vec<u8>| {
            out.push(keys.iter().map(f).collect());
        };
        let idn = id_number.expose().to_owned();
        each(&|k| index::unique_key(&k.tag(IndexKind::IdNumber, &idn)));
        each(&|k| index::entry_key(IndexKind::IdNumber, &k.tag(IndexKind::IdNumber, &idn), id));
        let last4: String = idn.chars().skip(14).collect();
        let l4y = index::last4_year(&last4, birth_year);
        each(&|k| {
            index::entry_key(
                IndexKind::IdLast4BirthYear,
                &k.tag(IndexKind::IdLast4BirthYear, &l4y),
                id,
            )
        });
        if let Some(n) = &name {
            let n = index::normalise_name(n.expose());
            each(&|k| index::entry_key(IndexKind::Name, &k.tag(IndexKind::Name, &n), id));
        }
        if let Some(p) = &phones {
            for phone in p.expose().split(',') {
                each(&|k| index::entry_key(IndexKind::Phone, &k.tag(IndexKind::Phone, phone), id));
            }
        }
        Ok(Some(out))
    }

    /// The tombstone of an erased petitioner (meta class), if erased.
    pub fn tombstone(&self, id: RecordId) -> Result<Option<Tombstone>, VaultError> {
        let Some(env) = self.vault.store.get(Tree::Meta, &tombstone_key(&id))? else {
            return Ok(None);
        };
        match self.open_envelope(Table::Petitioner, &id, "tombstone", Class::Meta, &env)? {
            Some(b) => Ok(Some(postcard::from_bytes(&b).map_err(|_| {
                VaultError::Tampered {
                    table: "petitioner",
                    id,
                    field: "tombstone".into(),
                }
            })?)),
            None => Ok(None),
        }
    }

    /// Erases a petitioner (supervisor; admin by a policy exception): every personal field,
    /// the masked renderings and every index entry (the unique ID entry too) go; the record
    /// keeps only its meta (case links) and a tombstone (when, who, the scrubbed reason).
    /// Linked cases keep their text only as re-scrubbed of this petitioner's values. One
    /// transaction with its audit entry. Old bytes may remain in the database's old log
    /// segments until `pvault compact` (SECURITY.md "Erasure").
    pub fn erase_petitioner(&self, id: RecordId, reason: &Reason) -> Result<Erasure, VaultError> {
        self.require_on(Action::PetitionerErase, &[id])?;
        let Some(rec) = self.load(Table::Petitioner, &id)? else {
            return Err(self.resolve_denial(Action::PetitionerErase, id, RecordDenial::NotFound));
        };
        if self
            .vault
            .store
            .get(Tree::Meta, &tombstone_key(&id))?
            .is_some()
        {
            return Err(VaultError::KeyLifecycle(format!(
                "petitioner {id} is already erased"
            )));
        }
        for c in [Class::Identity, Class::Contact, Class::Content, Class::Meta] {
            if !self.keyring.holds(c) {
                return Err(VaultError::KeyLifecycle(format!(
                    "erasure needs the {c} key, which this keyring lacks"
                )));
            }
        }
        let meta: PetitionerMeta = self.petitioner_meta(&id, &rec)?;
        let mut known = KnownEntities::default();
        self.collect_known(&id, &rec, &mut known)?;
        let mut writes = WriteSet::new();
        // The record keeps its meta bundle only.
        let fields_removed = rec.envelopes.len() - 1;
        let kept = StoredRecord {
            format: 1,
            envelopes: rec
                .envelopes
                .iter()
                .filter(|(n, _)| n == META_BUNDLE)
                .cloned()
                .collect(),
            loaded: rec.loaded,
        };
        self.put_record(&mut writes, Table::Petitioner, &id, &kept);
        // Every index entry naming the record, whatever index version made it.
        let mut index_entries_removed = 0;
        for (key, value) in self.vault.store.scan_prefix(Tree::Index, b"")? {
            let names_it = match key.first() {
                Some(b'U') => value.as_slice() == id.0,
                Some(b'r') | None => false,
                Some(_) => key.get(17..33) == Some(id.0.as_slice()),
            };
            if names_it {
                writes.delete(Tree::Index, key);
                index_entries_removed += 1;
            }
        }
        let tomb = Tombstone {
            erased_at: now_ms(),
            erased_by: self.user.name.clone(),
            reason: reason.0.clone(),
        };
        writes.put(
            Tree::Meta,
            tombstone_key(&id),
            self.seal_bundle(Table::Petitioner, &id, Class::Meta, "tombstone", &tomb)?,
        );
        // Linked cases: full text re-scrubbed of this petitioner's values.
        let mut cases_scrubbed = Vec::new();
        for cid in &meta.case_ids {
            let Some(mut crec) = self.load(Table::Case, cid)? else {
                continue;
            };
            let key = self.current_record_key(Table::Case, cid, Class::Content)?;
            let mut touched = false;
            for name in ["title", "content", "demands", "notes"] {
                let Some(env) = crec.envelope(name).map(<[u8]>::to_vec) else {
                    continue;
                };
                let Some(text) = self
                    .open_envelope(Table::Case, cid, name, Class::Content, &env)?
                    .and_then(SecretText::from_utf8)
                else {
                    continue;
                };
                let scrubbed = zeroize::Zeroizing::new(redact::scrub_text(text.expose(), &known));
                crec.set(name, key.seal(name, scrubbed.as_bytes())?);
                touched = true;
            }
            if touched {
                self.put_record(&mut writes, Table::Case, cid, &crec);
                cases_scrubbed.push(*cid);
            }
        }
        let mut e = self.entry(Action::PetitionerErase, Outcome::Allowed, Some("erased"));
        e.targets = std::iter::once(id)
            .chain(cases_scrubbed.iter().copied())
            .collect();
        e.reason = Some(reason.0.clone());
        self.commit(&writes, &e)?;
        Ok(Erasure {
            petitioner: id,
            fields_removed,
            index_entries_removed,
            cases_scrubbed,
        })
    }

    /// Closed cases (and not-accepted ones) that entered that status more than
    /// `older_than_days` ago, with their petitioners: candidates for erasure. Nothing is
    /// deleted (archive rules may require keeping records). One audit entry lists them.
    pub fn retention_candidates(
        &self,
        older_than_days: i64,
    ) -> Result<Vec<RetentionCandidate>, VaultError> {
        self.require(Action::Retention)?;
        let limit = now_ms() - older_than_days * 86_400_000;
        let mut out = Vec::new();
        let mut targets = Vec::new();
        for (id, meta) in self.all_case_metas()? {
            if meta.canary || meta.status.is_open() {
                continue;
            }
            let since = meta.entered(meta.status).unwrap_or(meta.received_at);
            if since > limit {
                continue;
            }
            targets.push(id);
            let mut petitioners = Vec::new();
            for p in &meta.petitioner_ids {
                let erased = self
                    .vault
                    .store
                    .get(Tree::Meta, &tombstone_key(p))?
                    .is_some();
                petitioners.push((p.to_string(), erased));
                targets.push(*p);
            }
            out.push(RetentionCandidate {
                case: id.to_string(),
                case_no: meta.case_no.clone(),
                status: meta.status.as_str().to_owned(),
                since: super::format_ms(since),
                petitioners,
            });
        }
        let mut e = self.entry(
            Action::Retention,
            Outcome::Allowed,
            Some(&format!("older_than_days:{older_than_days}")),
        );
        e.targets = targets;
        e.returned = vec!["class:meta".into()];
        self.commit(&WriteSet::new(), &e)?;
        Ok(out)
    }

    /// A consistent ciphertext snapshot of the whole vault with its integrity manifest
    /// (admin). The backup's own audit entry is in it.
    pub fn backup(&self) -> Result<(crate::backup::Manifest, Vec<u8>), VaultError> {
        self.require(Action::Backup)?;
        self.commit(
            &WriteSet::new(),
            &self.entry(Action::Backup, Outcome::Allowed, None),
        )?;
        let bytes = crate::backup::snapshot(self.vault.store.as_ref(), &self.vault.vault_id)
            .map_err(|e| VaultError::KeyLifecycle(e.to_string()))?;
        let (manifest, _) =
            crate::backup::verify(&bytes).map_err(|e| VaultError::KeyLifecycle(e.to_string()))?;
        Ok((manifest, bytes))
    }
}
