//! The one gate. Every read or write of a record goes through a [`Session`]:
//! authorize → commit the audit entry durably → decrypt / encrypt → return.
//! If the audit entry cannot be committed nothing is returned (fail closed).
//!
//! Decryption of data for the caller happens only in [`Session::open_view`] (and its
//! export form, `Session::open_fields`), which takes an [`AuditCommitted`] proof that only
//! [`audit::commit`] can make.

use crate::audit::{self, AuditCommitted, Entry, Outcome, RecordedEntry};
use crate::crypto::{self, Passphrase, RecordKey, SecretText};
use crate::error::VaultError;
use crate::index::{self, IndexKind};

pub mod casework;
mod export;
pub mod keys;
pub mod lifecycle;
use crate::keyring::Keyring;
use crate::model::{
    self, CASE_FIELDS, CASE_SHOWN, CaseMeta, CaseSummary, MASKED_BUNDLE, META_BUNDLE, MaskedBundle,
    NewCase, NewPetitioner, PETITIONER_FIELDS, PETITIONER_SHOWN, PetitionerMeta, RecordId,
    RecordView, ShownField, Table,
};
use crate::policy::{self, Action, Class, Denial, Role};
use crate::redact::{self, KnownEntities, mask};
use crate::store::{Tree, WriteSet};
use crate::vault::{UserInfo, UserRecord, Vault, make_user, now_ms};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// A record as stored: envelopes by field (or bundle) name.
#[derive(Serialize, Deserialize)]
struct StoredRecord {
    format: u8,
    envelopes: Vec<(String, Vec<u8>)>,
    /// SHA-256 of the bytes this record was read from (None for a new record): writing it
    /// back is conditional on nobody having changed it since.
    #[serde(skip)]
    loaded: Option<[u8; 32]>,
}

impl StoredRecord {
    fn envelope(&self, name: &str) -> Option<&[u8]> {
        self.envelopes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e.as_slice())
    }
    fn set(&mut self, name: &str, env: Vec<u8>) {
        match self.envelopes.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = env,
            None => self.envelopes.push((name.to_owned(), env)),
        }
    }
}

/// Seals a bundle (postcard of `value`) with a record's class subkey.
fn seal_bundle_with<T: Serialize>(
    key: &RecordKey,
    name: &str,
    value: &T,
) -> Result<Vec<u8>, VaultError> {
    let bytes = Zeroizing::new(postcard::to_stdvec(value).expect("bundle serialises"));
    Ok(key.seal(name, &bytes)?)
}

/// Read access to a record's envelopes, owned or borrowed.
trait Envelopes {
    fn envelope(&self, name: &str) -> Option<&[u8]>;
}

impl Envelopes for StoredRecord {
    fn envelope(&self, name: &str) -> Option<&[u8]> {
        StoredRecord::envelope(self, name)
    }
}

/// A record borrowed from the bytes it was read from, for read-only passes (exports): no
/// copy of its envelopes and no hash of its bytes (that is only for writing it back).
#[derive(Deserialize)]
struct RecordRef<'a> {
    format: u8,
    #[serde(borrow)]
    envelopes: Vec<(&'a str, &'a [u8])>,
}

impl Envelopes for RecordRef<'_> {
    fn envelope(&self, name: &str) -> Option<&[u8]> {
        self.envelopes
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, e)| *e)
    }
}

/// The leading fields of a [`CaseMeta`], read in place from its plaintext: the same
/// postcard layout, field for field, up to `canary`; the rest (history, extension, risk,
/// forwarding) is left unread. A test pins it to `CaseMeta`.
#[derive(Deserialize)]
struct CaseMetaHead<'a> {
    case_no: &'a str,
    category: &'a str,
    channel: model::Channel,
    status: crate::workflow::Status,
    received_at: i64,
    petitioner_ids: Vec<RecordId>,
    assigned_to: Option<&'a str>,
    accused_unit_tag: Option<(u32, [u8; 32])>,
    is_accusation: bool,
    #[allow(dead_code)] // read past, for the layout
    created_at: i64,
    #[allow(dead_code)]
    created_by: &'a str,
    canary: bool,
}

/// What the gate reads of a case's meta (from a [`CaseMeta`] or a [`CaseMetaHead`]).
struct CaseGate<'a> {
    canary: bool,
    accused_unit_tag: Option<&'a (u32, [u8; 32])>,
    assigned_to: Option<&'a str>,
    status: crate::workflow::Status,
    category: &'a str,
    received_at: i64,
}

impl<'a> From<&'a CaseMeta> for CaseGate<'a> {
    fn from(m: &'a CaseMeta) -> Self {
        CaseGate {
            canary: m.canary,
            accused_unit_tag: m.accused_unit_tag.as_ref(),
            assigned_to: m.assigned_to.as_deref(),
            status: m.status,
            category: &m.category,
            received_at: m.received_at,
        }
    }
}

impl<'a> From<&'a CaseMetaHead<'_>> for CaseGate<'a> {
    fn from(m: &'a CaseMetaHead<'_>) -> Self {
        CaseGate {
            canary: m.canary,
            accused_unit_tag: m.accused_unit_tag.as_ref(),
            assigned_to: m.assigned_to,
            status: m.status,
            category: m.category,
            received_at: m.received_at,
        }
    }
}

/// The masked bundle read in place from its plaintext (the layout of [`MaskedBundle`]).
#[derive(Deserialize)]
struct MaskedRef<'a> {
    #[serde(borrow)]
    fields: Vec<(Utf8<'a>, Utf8<'a>)>,
}

/// A string read in place from postcard bytes and checked with `simdutf8`. postcard writes a
/// string and a byte string alike (length, then bytes), so this reads what a `String` wrote;
/// `core::str::from_utf8`, which a `&str` field would use, was ~5 % of an export's rows pass
/// on Chinese text.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Utf8<'a>(&'a str);

impl<'de: 'a, 'a> Deserialize<'de> for Utf8<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = &'de str;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a UTF-8 string")
            }
            fn visit_borrowed_bytes<E: serde::de::Error>(
                self,
                v: &'de [u8],
            ) -> Result<Self::Value, E> {
                simdutf8::basic::from_utf8(v).map_err(|_| E::custom("a string is not UTF-8"))
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(v)
            }
        }
        d.deserialize_bytes(Visit).map(Utf8)
    }
}

/// The shown fields of a record as [`Session::open_fields`] gives them: their text in one
/// buffer (wiped on drop), each field's name, end in the buffer and whether it is a masked
/// rendering.
#[derive(Default)]
struct FieldTexts {
    text: String,
    fields: Vec<(&'static str, usize, bool)>,
}

impl FieldTexts {
    fn push(&mut self, name: &'static str, value: &str, masked: bool) {
        // Grown by moving, with the old text wiped: never by itself.
        crate::export::grow_wiped(&mut self.text, value.len());
        self.text.push_str(value);
        self.fields.push((name, self.text.len(), masked));
    }

    /// A shown field by name: its text and whether it is a masked rendering.
    fn get(&self, name: &str) -> Option<(&str, bool)> {
        let mut start = 0;
        for (n, end, masked) in &self.fields {
            if *n == name {
                return Some((&self.text[start..*end], *masked));
            }
            start = *end;
        }
        None
    }
}

impl Drop for FieldTexts {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.text);
    }
}

fn tree_of(table: Table) -> Tree {
    match table {
        Table::Petitioner => Tree::Petitioners,
        Table::Case => Tree::Cases,
    }
}

/// An unlocked user. Holds the user's keyring (zeroized on drop) and is the only way to
/// plaintext. `Debug` shows who, never keys.
pub struct Session<'v> {
    vault: &'v Vault,
    user: UserRecord,
    keyring: Keyring,
    /// One HKDF per class key held, extracted at unlock: record subkeys are derived from
    /// these (the same keys [`RecordKey::derive`] gives, with less work per record).
    derivers: BTreeMap<(Class, u32), crypto::SubkeyDeriver>,
    /// The keyed tag of this user's unit under each meta key version held: the accusation
    /// firewall compares every case it checks against it.
    my_unit_tags: BTreeMap<u32, [u8; 32]>,
    signing: Option<ed25519_dalek::SigningKey>,
    session_id: [u8; 8],
}

impl std::fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("user", &self.user.name)
            .field("role", &self.user.role)
            .field("keyring", &self.keyring)
            .finish()
    }
}

/// A reason given for a reveal or an export. Scrubbed of digit runs before it is logged.
#[derive(Debug, Clone)]
pub struct Reason(String);

impl Reason {
    /// A reason; empty or whitespace-only is refused.
    pub fn new(text: &str) -> Result<Reason, VaultError> {
        if text.trim().chars().count() < 2 {
            return Err(VaultError::Invalid(model::ValidationError {
                field: "reason",
                rule: "give a reason of at least 2 characters (it is recorded in the access log)",
            }));
        }
        Ok(Reason(redact::scrub_reason(text)))
    }
}

/// Why [`Session::related_cases`] lists a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// It names one of the same petitioners.
    SharedPetitioner,
    /// It is about the same accused unit, in the same category, within the window.
    SameAccusedUnitAndCategory,
    /// Both.
    Both,
}

impl Relation {
    /// A short code.
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::SharedPetitioner => "shared_petitioner",
            Relation::SameAccusedUnitAndCategory => "same_accused_unit_and_category",
            Relation::Both => "shared_petitioner+same_accused_unit",
        }
    }
}

/// Record-level authorization failed: not found (or hidden by the firewall) or denied.
enum RecordDenial {
    NotFound,
    Hidden,
    Denied(Denial),
}

impl<'v> Session<'v> {
    pub(crate) fn new(
        vault: &'v Vault,
        user: UserRecord,
        keyring: Keyring,
        session_id: [u8; 8],
    ) -> Self {
        let signing = keyring.signing_key();
        let derivers = keyring
            .class_keys()
            .map(|(c, v, k)| ((c, v), crypto::SubkeyDeriver::new(k)))
            .collect();
        let mut session = Session {
            vault,
            user,
            keyring,
            derivers,
            my_unit_tags: BTreeMap::new(),
            signing,
            session_id,
        };
        if let Some(unit) = session.user.unit.clone() {
            let versions: Vec<u32> = session
                .keyring
                .class_keys()
                .filter(|(c, _, _)| *c == Class::Meta)
                .map(|(_, v, _)| v)
                .collect();
            for v in versions {
                if let Some(tag) = session.unit_tag(&unit, v) {
                    session.my_unit_tags.insert(v, tag);
                }
            }
        }
        session
    }

    /// The user's name.
    pub fn user(&self) -> &str {
        &self.user.name
    }

    /// The user's role.
    pub fn role(&self) -> Role {
        self.user.role
    }

    /// The user's unit.
    pub fn unit(&self) -> Option<&str> {
        self.user.unit.as_deref()
    }

    /// The classes this session's keyring holds.
    pub fn held_classes(&self) -> Vec<Class> {
        self.keyring.classes()
    }

    fn entry(&self, action: Action, outcome: Outcome, detail: Option<&str>) -> Entry {
        self.vault.entry(
            self.session_id,
            &self.user.name,
            Some(self.user.role),
            action,
            outcome,
            detail,
        )
    }

    fn commit(&self, writes: &WriteSet, entry: &Entry) -> Result<AuditCommitted, VaultError> {
        self.commit_with(writes, entry, false)
            .map(|(proof, _)| proof)
    }

    /// Commits with this session's checkpoint signer; `force` makes a checkpoint now.
    fn commit_with(
        &self,
        writes: &WriteSet,
        entry: &Entry,
        force: bool,
    ) -> Result<(AuditCommitted, Option<audit::Checkpoint>), VaultError> {
        let signer = self.signing.as_ref().map(|key| audit::Signer {
            key,
            vault_id: self.vault.vault_id,
            policy: self.vault.options.checkpoints,
            force,
        });
        audit::commit(self.vault.store.as_ref(), writes, entry, signer.as_ref())
            .map_err(VaultError::AuditFailed)
    }

    /// Logs a denial and returns the error to give the caller.
    fn deny(
        &self,
        action: Action,
        targets: Vec<RecordId>,
        err: VaultError,
        detail: &str,
    ) -> VaultError {
        self.deny_flagged(action, targets, err, detail, vec![])
    }

    /// Logs a denial with report flags (e.g. `canary`).
    fn deny_flagged(
        &self,
        action: Action,
        targets: Vec<RecordId>,
        err: VaultError,
        detail: &str,
        flags: Vec<String>,
    ) -> VaultError {
        let mut e = self.entry(action, Outcome::Denied, Some(detail));
        e.targets = targets;
        e.flags = flags;
        match self.commit(&WriteSet::new(), &e) {
            Ok(_) => err,
            Err(audit_err) => audit_err,
        }
    }

    fn require(&self, action: Action) -> Result<(), VaultError> {
        self.require_on(action, &[])
    }

    /// Checks the role may take `action`; a refusal is logged with the records it aimed at.
    fn require_on(&self, action: Action, targets: &[RecordId]) -> Result<(), VaultError> {
        policy::permits(self.user.role, action)
            .map_err(|d| self.deny(action, targets.to_vec(), VaultError::Denied(d), "role"))
    }

    // ---- sealing -------------------------------------------------------------------

    fn record_key(
        &self,
        table: Table,
        id: &RecordId,
        class: Class,
        version: u32,
    ) -> Option<RecordKey> {
        Some(self.derivers.get(&(class, version))?.derive(
            &self.vault.vault_id,
            table.as_str(),
            &id.0,
            class.code(),
            version,
        ))
    }

    fn current_record_key(
        &self,
        table: Table,
        id: &RecordId,
        class: Class,
    ) -> Result<RecordKey, VaultError> {
        let (v, _) =
            self.keyring
                .current(class)
                .ok_or(VaultError::Denied(Denial::RoleNotPermitted {
                    role: self.user.role,
                    action: "hold this class key",
                }))?;
        Ok(self
            .record_key(table, id, class, v)
            .expect("current version is held"))
    }

    fn seal_bundle<T: Serialize>(
        &self,
        table: Table,
        id: &RecordId,
        class: Class,
        name: &str,
        value: &T,
    ) -> Result<Vec<u8>, VaultError> {
        seal_bundle_with(&self.current_record_key(table, id, class)?, name, value)
    }

    /// Opens one envelope of a record. The header must name the class the field belongs to;
    /// `None` when this keyring holds no key of that class (the field is withheld). A header
    /// naming another class, or a version of a held class that this keyring lacks, is
    /// treated as tampering rather than silently withheld.
    fn open_envelope(
        &self,
        table: Table,
        id: &RecordId,
        name: &str,
        expected: Class,
        env: &[u8],
    ) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
        let tampered = || VaultError::Tampered {
            table: table.as_str(),
            id: *id,
            field: name.to_owned(),
        };
        let header = crypto::EnvelopeHeader::parse(env).map_err(|_| tampered())?;
        if header.class != expected.code() {
            return Err(tampered());
        }
        if !self.keyring.holds(expected) {
            return Ok(None);
        }
        let key = self
            .record_key(table, id, expected, header.key_version)
            .ok_or_else(tampered)?;
        key.open(name, env).map(Some).map_err(|_| tampered())
    }

    fn open_bundle<T: DeserializeOwned>(
        &self,
        table: Table,
        id: &RecordId,
        rec: &impl Envelopes,
        name: &str,
    ) -> Result<Option<T>, VaultError> {
        let Some(env) = rec.envelope(name) else {
            return Ok(None);
        };
        let class = if name == MASKED_BUNDLE {
            Class::Masked
        } else {
            Class::Meta
        };
        match self.open_envelope(table, id, name, class, env)? {
            Some(bytes) => {
                postcard::from_bytes(&bytes)
                    .map(Some)
                    .map_err(|_| VaultError::Tampered {
                        table: table.as_str(),
                        id: *id,
                        field: name.to_owned(),
                    })
            }
            None => Ok(None),
        }
    }

    fn load(&self, table: Table, id: &RecordId) -> Result<Option<StoredRecord>, VaultError> {
        match self.vault.store.get(tree_of(table), &id.0)? {
            Some(bytes) => Ok(Some(decode_record(table, id, &bytes)?)),
            None => Ok(None),
        }
    }

    /// Writes a record back: conditional on it being unchanged since it was read, plain for
    /// a new record.
    fn put_record(&self, writes: &mut WriteSet, table: Table, id: &RecordId, rec: &StoredRecord) {
        let bytes = postcard::to_stdvec(rec).expect("record serialises");
        match rec.loaded {
            Some(previous) => {
                writes.put_if_unchanged(tree_of(table), id.0.to_vec(), previous, bytes)
            }
            None => writes.put(tree_of(table), id.0.to_vec(), bytes),
        }
    }

    /// Runs a read-modify-write operation again (from a fresh read) when another session
    /// changed one of its records in between; gives up after a few attempts.
    fn retrying<T>(&self, op: impl Fn() -> Result<T, VaultError>) -> Result<T, VaultError> {
        let mut attempt = 0;
        loop {
            match op() {
                Err(VaultError::AuditFailed(crate::store::StoreError::Conflict { .. }))
                    if attempt < 8 =>
                {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(5 << attempt.min(5)));
                }
                other => return other,
            }
        }
    }

    fn unit_tag(&self, unit: &str, version: u32) -> Option<[u8; 32]> {
        let key = self.keyring.key(Class::Meta, version)?;
        Some(crypto::hmac_sha256(
            key.expose(),
            &[b"pv1/unit-tag", normalise_unit(unit).as_bytes()],
        ))
    }

    // ---- policy on records (reads meta internally; never returned without a proof) ------

    fn case_meta(&self, id: &RecordId, rec: &impl Envelopes) -> Result<CaseMeta, VaultError> {
        self.open_bundle::<CaseMeta>(Table::Case, id, rec, META_BUNDLE)?
            .ok_or(VaultError::Tampered {
                table: "case",
                id: *id,
                field: META_BUNDLE.into(),
            })
    }

    /// The case meta of a record read in place: only its leading fields (what the gate
    /// and an export row need), without copying its text. `f` gets it while the plaintext
    /// lives. The same checks as [`Session::case_meta`]: a missing, unopenable or
    /// undecodable bundle is tampering.
    fn with_case_head<T>(
        &self,
        id: &RecordId,
        rec: &impl Envelopes,
        f: impl FnOnce(CaseMetaHead<'_>) -> T,
    ) -> Result<T, VaultError> {
        let tampered = || VaultError::Tampered {
            table: "case",
            id: *id,
            field: META_BUNDLE.into(),
        };
        let env = rec.envelope(META_BUNDLE).ok_or_else(tampered)?;
        let plain = self
            .open_envelope(Table::Case, id, META_BUNDLE, Class::Meta, env)?
            .ok_or_else(tampered)?;
        let head: CaseMetaHead<'_> = postcard::from_bytes(&plain).map_err(|_| tampered())?;
        Ok(f(head))
    }

    fn accuses_my_unit(&self, tag: Option<&(u32, [u8; 32])>) -> bool {
        match (&self.user.unit, tag) {
            (Some(_), Some((version, tag))) => self
                .my_unit_tags
                .get(version)
                .is_some_and(|t| crypto::ct_eq(t, tag)),
            _ => false,
        }
    }

    fn authorize_case(&self, meta: &CaseMeta) -> Result<(), RecordDenial> {
        self.authorize_gate(&CaseGate::from(meta))
    }

    fn authorize_gate(&self, meta: &CaseGate<'_>) -> Result<(), RecordDenial> {
        if self.accuses_my_unit(meta.accused_unit_tag) {
            return Err(RecordDenial::Hidden);
        }
        if self.user.role == Role::Handler && meta.assigned_to != Some(self.user.name.as_str()) {
            return Err(RecordDenial::Denied(Denial::NotAssigned));
        }
        Ok(())
    }

    fn authorize_petitioner(&self, meta: &PetitionerMeta) -> Result<(), VaultError> {
        let mut assigned = false;
        for case_id in &meta.case_ids {
            let Some(rec) = self.load(Table::Case, case_id)? else {
                continue;
            };
            let cm = self.case_meta(case_id, &rec)?;
            match self.authorize_case(&cm) {
                Err(RecordDenial::Hidden) => return Err(VaultError::NotFound(*case_id)),
                Ok(()) => assigned = true,
                Err(_) => {}
            }
        }
        if self.user.role == Role::Handler && !assigned {
            return Err(VaultError::Denied(Denial::NotAssigned));
        }
        Ok(())
    }

    fn resolve_denial(&self, action: Action, id: RecordId, d: RecordDenial) -> VaultError {
        match d {
            RecordDenial::NotFound => {
                self.deny(action, vec![id], VaultError::NotFound(id), "not_found")
            }
            RecordDenial::Hidden => self.deny(
                action,
                vec![id],
                VaultError::NotFound(id),
                "accused_unit_firewall",
            ),
            RecordDenial::Denied(den) => {
                self.deny(action, vec![id], VaultError::Denied(den), "not_assigned")
            }
        }
    }

    // ---- decrypting for the caller: needs the audit proof ------------------------------

    fn open_view(
        &self,
        proof: &AuditCommitted,
        table: Table,
        id: RecordId,
        rec: &impl Envelopes,
        classes: &[Class],
    ) -> Result<RecordView, VaultError> {
        let (specs, shown): (&[model::FieldSpec], &[&'static str]) = match table {
            Table::Petitioner => (PETITIONER_FIELDS, PETITIONER_SHOWN),
            Table::Case => (CASE_FIELDS, CASE_SHOWN),
        };
        let texts = self.open_fields(proof, table, id, rec, classes)?;
        let mut view = RecordView {
            id,
            table,
            fields: Vec::with_capacity(texts.fields.len()),
            withheld: vec![],
        };
        let mut start = 0;
        for &(name, end, masked) in &texts.fields {
            let class = if masked {
                Class::Masked
            } else {
                specs
                    .iter()
                    .find(|s| s.name == name)
                    .expect("shown fields are specified")
                    .class
            };
            view.fields.push(ShownField {
                name,
                value: SecretText::new(texts.text[start..end].to_owned()),
                masked,
                class,
            });
            start = end;
        }
        // in the record, but neither shown in full nor masked to this role
        view.withheld = shown
            .iter()
            .copied()
            .filter(|name| {
                rec.envelope(name).is_some() && !texts.fields.iter().any(|f| f.0 == *name)
            })
            .collect();
        if classes.contains(&Class::Meta) {
            self.push_meta_fields(table, &id, rec, &mut view)?;
        } else {
            view.withheld.push("meta");
        }
        Ok(view)
    }

    /// The fields a record shows this session (not its meta), in display order: the full
    /// value where the role holds the class, else the masked rendering. Into one buffer
    /// (wiped on drop), with each class subkey of the record derived once (not once per
    /// field) and the masked bundle read in place. [`Session::open_view`] and exports both
    /// read records through it, so they show the same thing.
    fn open_fields(
        &self,
        _proof: &AuditCommitted,
        table: Table,
        id: RecordId,
        rec: &impl Envelopes,
        classes: &[Class],
    ) -> Result<FieldTexts, VaultError> {
        let (specs, shown): (&[model::FieldSpec], &[&'static str]) = match table {
            Table::Petitioner => (PETITIONER_FIELDS, PETITIONER_SHOWN),
            Table::Case => (CASE_FIELDS, CASE_SHOWN),
        };
        let tampered = |field: &str| VaultError::Tampered {
            table: table.as_str(),
            id,
            field: field.to_owned(),
        };
        // The subkeys derived so far (a record has at most one key version per class).
        let mut keys: [Option<(Class, u32, RecordKey)>; 4] = [None, None, None, None];
        let mut open = |name: &str, class: Class, env: &[u8]| {
            let header = crypto::EnvelopeHeader::parse(env).map_err(|_| tampered(name))?;
            if header.class != class.code() {
                return Err(tampered(name));
            }
            if !self.keyring.holds(class) {
                return Ok(None);
            }
            let held = keys
                .iter()
                .flatten()
                .find(|(c, v, _)| *c == class && *v == header.key_version);
            let derived;
            let key = match held {
                Some((_, _, key)) => key,
                None => {
                    let key = self
                        .record_key(table, &id, class, header.key_version)
                        .ok_or_else(|| tampered(name))?;
                    match keys.iter_mut().find(|k| k.is_none()) {
                        Some(free) => &free.insert((class, header.key_version, key)).2,
                        None => {
                            derived = key;
                            &derived
                        }
                    }
                }
            };
            key.open(name, env).map(Some).map_err(|_| tampered(name))
        };
        let masked_plain = match rec.envelope(MASKED_BUNDLE) {
            Some(env) if classes.contains(&Class::Masked) => {
                open(MASKED_BUNDLE, Class::Masked, env)?
            }
            _ => None,
        };
        let masked: Option<MaskedRef<'_>> = match &masked_plain {
            Some(bytes) => Some(postcard::from_bytes(bytes).map_err(|_| tampered(MASKED_BUNDLE))?),
            None => None,
        };
        let mut out = FieldTexts {
            text: String::with_capacity(masked_plain.as_ref().map_or(256, |p| p.len())),
            fields: Vec::with_capacity(shown.len()),
        };
        for name in shown {
            let spec = specs
                .iter()
                .find(|s| s.name == *name)
                .expect("shown fields are specified");
            let full = if classes.contains(&spec.class) {
                match rec.envelope(name) {
                    Some(env) => open(name, spec.class, env)?,
                    None => None,
                }
            } else {
                None
            };
            if let Some(bytes) = full {
                let value = std::str::from_utf8(&bytes).map_err(|_| tampered(name))?;
                out.push(name, value, false);
            } else if let Some(value) = masked
                .as_ref()
                .and_then(|m| m.fields.iter().find(|(n, _)| n.0 == *name))
                .map(|(_, v)| v.0)
            {
                out.push(name, value, true);
            }
        }
        Ok(out)
    }

    fn push_meta_fields(
        &self,
        table: Table,
        id: &RecordId,
        rec: &impl Envelopes,
        view: &mut RecordView,
    ) -> Result<(), VaultError> {
        let mut push = |name: &'static str, value: String| {
            view.fields.push(ShownField {
                name,
                value: SecretText::new(value),
                masked: false,
                class: Class::Meta,
            })
        };
        match table {
            Table::Petitioner => {
                if let Some(m) = self.open_bundle::<PetitionerMeta>(table, id, rec, META_BUNDLE)? {
                    push("created_at", format_ms(m.created_at));
                    push("created_by", m.created_by);
                    push("case_ids", join_ids(&m.case_ids));
                }
                if let Some(t) = self.tombstone(*id)? {
                    push("erased_at", format_ms(t.erased_at));
                    push("erased_by", t.erased_by);
                }
            }
            Table::Case => {
                let m = self.case_meta(id, rec)?;
                push("case_no", m.case_no);
                push("category", m.category);
                push("channel", m.channel.as_str().to_owned());
                push("status", m.status.as_str().to_owned());
                push("received_at", format_ms(m.received_at));
                push("petitioner_ids", join_ids(&m.petitioner_ids));
                if let Some(handler) = m.assigned_to {
                    push("assigned_to", handler);
                }
                push("is_accusation", m.is_accusation.to_string());
            }
        }
        Ok(())
    }

    // ---- users -------------------------------------------------------------------------

    /// Adds a user with `role` (admin only). The new keyring holds only the role's classes.
    pub fn add_user(
        &self,
        name: &str,
        role: Role,
        unit: Option<&str>,
        passphrase: &Passphrase,
    ) -> Result<(), VaultError> {
        self.require(Action::UserAdd)?;
        if self.vault.user_record(name)?.is_some() {
            return Err(VaultError::UserExists);
        }
        let unit = unit.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty());
        let rec = make_user(
            &self.vault.vault_id,
            name,
            role,
            unit,
            &self.keyring,
            passphrase,
            &self.vault.options,
        )?;
        let mut writes = WriteSet::new();
        writes.put(
            Tree::Users,
            name.as_bytes(),
            postcard::to_stdvec(&rec).expect("user serialises"),
        );
        let mut e = self.entry(Action::UserAdd, Outcome::Allowed, Some(role.as_str()));
        e.requested = vec![format!("user:{name}")];
        self.commit(&writes, &e)?;
        Ok(())
    }

    /// Lists users (admin only).
    pub fn list_users(&self) -> Result<Vec<UserInfo>, VaultError> {
        self.require(Action::UserList)?;
        let users = self.vault.all_users()?;
        self.commit(
            &WriteSet::new(),
            &self.entry(Action::UserList, Outcome::Allowed, None),
        )?;
        Ok(users
            .into_iter()
            .map(|u| UserInfo {
                name: u.name,
                role: u.role,
                unit: u.unit,
                created_at: u.created_at,
            })
            .collect())
    }

    // ---- petitioners -------------------------------------------------------------------

    /// Registers a petitioner; returns the new id. Values are validated (ID checksum, phone
    /// form) and masked renderings are computed now and stored under `masked`.
    pub fn add_petitioner(&self, p: &NewPetitioner) -> Result<RecordId, VaultError> {
        self.require(Action::PetitionerAdd)?;
        self.insert_petitioner(p, Action::PetitionerAdd, false)
    }

    fn insert_petitioner(
        &self,
        p: &NewPetitioner,
        action: Action,
        canary: bool,
    ) -> Result<RecordId, VaultError> {
        let fields = validate_petitioner(p)?;
        if let Some(existing) = self.registered_id(&fields)? {
            return Err(self.duplicate(action, existing));
        }
        let (id, writes) = self.prepare_petitioner(&fields, canary)?;
        let mut e = self.entry(action, Outcome::Allowed, None);
        e.targets = vec![id];
        e.requested = fields.values.iter().map(|(n, _)| (*n).to_owned()).collect();
        match self.commit(&writes, &e) {
            Ok(_) => Ok(id),
            // Registered by another session between the check and the commit.
            Err(VaultError::AuditFailed(crate::store::StoreError::Exists { .. })) => {
                let existing = self
                    .registered_id(&fields)?
                    .ok_or(VaultError::Corrupt("unique index"))?;
                Err(self.duplicate(action, existing))
            }
            Err(other) => Err(other),
        }
    }

    /// The petitioner already registered with this ID number, if any.
    fn registered_id(&self, fields: &PetitionerFields) -> Result<Option<RecordId>, VaultError> {
        self.registered_id_under(fields, &self.index_keys())
    }

    /// [`Session::registered_id`] with the index keys derived once by the caller.
    fn registered_id_under(
        &self,
        fields: &PetitionerFields,
        index_keys: &[index::IndexKeys],
    ) -> Result<Option<RecordId>, VaultError> {
        let id_number = fields
            .value("id_number")
            .expect("validated petitioners have an ID");
        for keys in index_keys {
            let tag = keys.tag(IndexKind::IdNumber, id_number);
            if let Some(v) = self
                .vault
                .store
                .get(Tree::Index, &index::unique_key(&tag))?
            {
                let id: [u8; 16] = v
                    .as_slice()
                    .try_into()
                    .map_err(|_| VaultError::Corrupt("unique index"))?;
                return Ok(Some(RecordId(id)));
            }
        }
        Ok(None)
    }

    /// Logs and builds the "already registered" error with the existing record's case counts.
    fn duplicate(&self, action: Action, existing: RecordId) -> VaultError {
        let (open, closed) = match self.case_counts(&existing) {
            Ok(c) => c,
            Err(e) => return e,
        };
        self.deny(
            action,
            vec![existing],
            VaultError::Duplicate {
                existing,
                open_cases: open,
                closed_cases: closed,
            },
            "duplicate_id_number",
        )
    }

    fn case_counts(&self, pid: &RecordId) -> Result<(usize, usize), VaultError> {
        let Some(rec) = self.load(Table::Petitioner, pid)? else {
            return Ok((0, 0));
        };
        let Some(meta) =
            self.open_bundle::<PetitionerMeta>(Table::Petitioner, pid, &rec, META_BUNDLE)?
        else {
            return Ok((0, 0));
        };
        let (mut open, mut closed) = (0, 0);
        for cid in &meta.case_ids {
            if let Some(crec) = self.load(Table::Case, cid)? {
                if !self.case_meta(cid, &crec)?.status.is_open() {
                    closed += 1;
                } else {
                    open += 1;
                }
            }
        }
        Ok((open, closed))
    }

    /// The blind-index keys of the newest `index` class key (what new entries are made with).
    fn current_index_keys(&self) -> Result<index::IndexKeys, VaultError> {
        let (_, class_key) = self
            .keyring
            .current(Class::Index)
            .ok_or(VaultError::Denied(Denial::RoleNotPermitted {
                role: self.user.role,
                action: "hold the index key",
            }))?;
        Ok(index::IndexKeys::new(class_key))
    }

    /// The blind-index keys of every version of the `index` class this keyring holds,
    /// newest first.
    fn index_keys(&self) -> Vec<index::IndexKeys> {
        let mut out = Vec::new();
        if let Some(current) = self.keyring.current_version(Class::Index) {
            for v in (1..=current).rev() {
                if let Some(k) = self.keyring.key(Class::Index, v) {
                    out.push(index::IndexKeys::new(k));
                }
            }
        }
        out
    }

    /// Seals a validated petitioner and its index entries into writes (not yet committed).
    fn prepare_petitioner(
        &self,
        fields: &PetitionerFields,
        canary: bool,
    ) -> Result<(RecordId, WriteSet), VaultError> {
        let id = RecordId::random()?;
        let keys = self.current_index_keys()?;
        let (record, mut writes) = self.stage_petitioner(&id, fields, &keys, canary, vec![])?;
        writes.put(Tree::Petitioners, id.0.to_vec(), record);
        Ok((id, writes))
    }

    /// A new petitioner's stored record (fields, masked bundle, meta linking `case_ids`)
    /// and its index writes. Pure apart from the nonces: an import stages rows in parallel.
    /// Each class subkey of the record is derived once and serves all its envelopes.
    fn stage_petitioner(
        &self,
        id: &RecordId,
        fields: &PetitionerFields,
        index_keys: &index::IndexKeys,
        canary: bool,
        case_ids: Vec<RecordId>,
    ) -> Result<(Vec<u8>, WriteSet), VaultError> {
        let mut rec = StoredRecord {
            format: 1,
            envelopes: Vec::with_capacity(fields.values.len() + 2),
            loaded: None,
        };
        let mut keys: Vec<(Class, RecordKey)> = Vec::with_capacity(4);
        let mut seal = |class: Class, name: &str, bytes: &[u8]| -> Result<Vec<u8>, VaultError> {
            let k = match keys.iter().position(|(c, _)| *c == class) {
                Some(k) => k,
                None => {
                    let key = self.current_record_key(Table::Petitioner, id, class)?;
                    keys.push((class, key));
                    keys.len() - 1
                }
            };
            Ok(keys[k].1.seal(name, bytes)?)
        };
        for (name, value) in &fields.values {
            let spec = PETITIONER_FIELDS
                .iter()
                .find(|s| s.name == *name)
                .expect("known field");
            let env = seal(spec.class, name, value.expose().as_bytes())?;
            rec.envelopes.push(((*name).to_owned(), env));
        }
        let masked =
            Zeroizing::new(postcard::to_stdvec(&fields.masked).expect("bundle serialises"));
        rec.set(MASKED_BUNDLE, seal(Class::Masked, MASKED_BUNDLE, &masked)?);
        let meta = PetitionerMeta {
            created_at: now_ms(),
            created_by: self.user.name.clone(),
            case_ids,
            canary,
        };
        let meta = Zeroizing::new(postcard::to_stdvec(&meta).expect("bundle serialises"));
        rec.set(META_BUNDLE, seal(Class::Meta, META_BUNDLE, &meta)?);
        let mut writes = WriteSet::new();
        index_petitioner(index_keys, id, fields, &mut writes);
        Ok((
            postcard::to_stdvec(&rec).expect("record serialises"),
            writes,
        ))
    }

    /// Finds petitioners by a blind index (registrar, handler, supervisor). Results are
    /// shown as the role may see them; a handler gets only petitioners of cases assigned to
    /// them, and nobody gets a petitioner hidden by the accused-unit firewall. One audit entry
    /// records the searched field (never the value), every returned id, and how many matches
    /// were withheld.
    pub fn find(&self, query: &index::Query) -> Result<Vec<RecordView>, VaultError> {
        self.find_any(std::slice::from_ref(query))
    }

    /// Like [`Session::find`] for several queries at once (e.g. ID last 4 over many birth
    /// years): the union of the matches, one audit entry.
    pub fn find_any(&self, queries: &[index::Query]) -> Result<Vec<RecordView>, VaultError> {
        self.require(Action::Find)?;
        let mut candidates: Vec<RecordId> = Vec::new();
        let keys = self.index_keys();
        for query in queries {
            for k in &keys {
                let tag = k.tag(query.kind, &query.normalised);
                let found = self
                    .vault
                    .store
                    .scan_prefix(Tree::Index, &index::prefix(query.kind, &tag))?;
                candidates.extend(index::ids_from_keys(found.into_iter().map(|(k, _)| k)));
            }
        }
        let kind = queries.first().map(|q| q.kind.as_str()).unwrap_or("none");
        candidates.sort();
        candidates.dedup();
        let mut shown = Vec::new();
        let mut withheld = 0usize;
        let mut canary = false;
        for id in candidates {
            let Some(rec) = self.load(Table::Petitioner, &id)? else {
                continue;
            };
            let meta = self
                .open_bundle::<PetitionerMeta>(Table::Petitioner, &id, &rec, META_BUNDLE)?
                .ok_or(VaultError::Tampered {
                    table: "petitioner",
                    id,
                    field: META_BUNDLE.into(),
                })?;
            if self.authorize_petitioner(&meta).is_ok() {
                canary |= meta.canary;
                shown.push((id, rec));
            } else {
                withheld += 1;
            }
        }
        let classes = self.readable(policy::readable_classes(self.user.role, false));
        let mut e = self.entry(Action::Find, Outcome::Allowed, None);
        e.targets = shown.iter().map(|(id, _)| *id).collect();
        e.requested = vec![format!("find:{kind}")];
        e.returned = classes.iter().map(|c| format!("class:{c}")).collect();
        e.flags = canary_flag(canary);
        if withheld > 0 {
            e.detail = Some(format!("withheld:{withheld}"));
        }
        let proof = self.commit(&WriteSet::new(), &e)?;
        shown
            .iter()
            .map(|(id, rec)| self.open_view(&proof, Table::Petitioner, *id, rec, &classes))
            .collect()
    }

    /// Reads a petitioner as this role may see it. `reveal` (supervisor, registrar) adds the
    /// identity class and needs a reason, which is logged.
    pub fn show_petitioner(
        &self,
        id: RecordId,
        reveal: Option<&Reason>,
    ) -> Result<RecordView, VaultError> {
        let action = if reveal.is_some() {
            Action::PetitionerReveal
        } else {
            Action::PetitionerShow
        };
        self.require_on(action, &[id])?;
        let Some(rec) = self.load(Table::Petitioner, &id)? else {
            return Err(self.resolve_denial(action, id, RecordDenial::NotFound));
        };
        let meta = self
            .open_bundle::<PetitionerMeta>(Table::Petitioner, &id, &rec, META_BUNDLE)?
            .ok_or(VaultError::Tampered {
                table: "petitioner",
                id,
                field: META_BUNDLE.into(),
            })?;
        let flags = canary_flag(meta.canary);
        if let Err(err) = self.authorize_petitioner(&meta) {
            let (err, detail) = match err {
                VaultError::NotFound(_) => (VaultError::NotFound(id), "accused_unit_firewall"),
                other => (other, "not_assigned"),
            };
            return Err(self.deny_flagged(action, vec![id], err, detail, flags));
        }
        let classes = self.readable(policy::readable_classes(self.user.role, reveal.is_some()));
        let mut e = self.entry(action, Outcome::Allowed, None);
        e.targets = vec![id];
        e.requested = PETITIONER_SHOWN.iter().map(|s| (*s).to_owned()).collect();
        e.returned = classes.iter().map(|c| format!("class:{c}")).collect();
        e.reason = reveal.map(|r| r.0.clone());
        e.flags = flags;
        let proof = self.commit(&WriteSet::new(), &e)?;
        self.open_view(&proof, Table::Petitioner, id, &rec, &classes)
    }

    fn readable(&self, classes: Vec<Class>) -> Vec<Class> {
        classes
            .into_iter()
            .filter(|c| self.keyring.holds(*c))
            .collect()
    }

    // ---- cases -------------------------------------------------------------------------

    /// Opens a case for one or more registered petitioners; returns its id.
    pub fn open_case(&self, c: &NewCase) -> Result<RecordId, VaultError> {
        self.require(Action::CaseOpen)?;
        self.retrying(|| self.insert_case(c, Action::CaseOpen, false))
    }

    fn insert_case(
        &self,
        c: &NewCase,
        action: Action,
        canary: bool,
    ) -> Result<RecordId, VaultError> {
        validate_case(c)?;
        let id = RecordId::random()?;
        let mut writes = WriteSet::new();
        // Link each petitioner (meta) and collect their values to scrub from the text.
        let mut known = KnownEntities::default();
        for pid in &c.petitioners {
            let Some(mut prec) = self.load(Table::Petitioner, pid)? else {
                return Err(self.deny(
                    Action::CaseOpen,
                    vec![*pid],
                    VaultError::NotFound(*pid),
                    "not_found",
                ));
            };
            let mut pmeta = self.petitioner_meta(pid, &prec)?;
            self.collect_known(pid, &prec, &mut known)?;
            pmeta.case_ids.push(id);
            prec.set(
                META_BUNDLE,
                self.seal_bundle(Table::Petitioner, pid, Class::Meta, META_BUNDLE, &pmeta)?,
            );
            self.put_record(&mut writes, Table::Petitioner, pid, &prec);
        }
        let case_no = self.vault.reserve_case_nos(1)?.remove(0);
        let rec = self.seal_case(&id, c, &c.petitioners, &known, case_no, canary)?;
        writes.put(
            Tree::Cases,
            id.0.to_vec(),
            postcard::to_stdvec(&rec).expect("record serialises"),
        );
        let mut e = self.entry(action, Outcome::Allowed, None);
        e.targets = std::iter::once(id)
            .chain(c.petitioners.iter().copied())
            .collect();
        e.requested = vec!["petitioner:contact+identity (scrubbing)".into()];
        self.commit(&writes, &e)?;
        Ok(id)
    }

    fn petitioner_meta(
        &self,
        pid: &RecordId,
        prec: &StoredRecord,
    ) -> Result<PetitionerMeta, VaultError> {
        self.open_bundle::<PetitionerMeta>(Table::Petitioner, pid, prec, META_BUNDLE)?
            .ok_or(VaultError::Tampered {
                table: "petitioner",
                id: *pid,
                field: META_BUNDLE.into(),
            })
    }

    /// Adds a petitioner's own values to the set scrubbed from case text.
    fn collect_known(
        &self,
        pid: &RecordId,
        prec: &StoredRecord,
        known: &mut KnownEntities,
    ) -> Result<(), VaultError> {
        for (name, class) in [
            ("name", Class::Contact),
            ("phones", Class::Contact),
            ("id_number", Class::Identity),
            ("address", Class::Contact),
            ("email", Class::Contact),
        ] {
            if let Some(env) = prec.envelope(name)
                && let Some(bytes) = self.open_envelope(Table::Petitioner, pid, name, class, env)?
                && let Some(text) = SecretText::from_utf8(bytes)
            {
                push_known(known, name, text.expose());
            }
        }
        Ok(())
    }

    /// Seals a case record: content fields, the scrubbed masked bundle, the meta bundle.
    fn seal_case(
        &self,
        id: &RecordId,
        c: &NewCase,
        petitioners: &[RecordId],
        known: &KnownEntities,
        case_no: String,
        canary: bool,
    ) -> Result<StoredRecord, VaultError> {
        let mut rec = StoredRecord {
            format: 1,
            envelopes: vec![],
            loaded: None,
        };
        let content_key = self.current_record_key(Table::Case, id, Class::Content)?;
        let mut masked = MaskedBundle::default();
        let mut put_text =
            |name: &str, value: &str, rec: &mut StoredRecord| -> Result<(), VaultError> {
                rec.set(name, content_key.seal(name, value.as_bytes())?);
                if name != "accused_unit" {
                    masked
                        .fields
                        .push((name.to_owned(), redact::scrub_text(value, known)));
                }
                Ok(())
            };
        put_text("title", c.title.expose(), &mut rec)?;
        put_text("content", c.content.expose(), &mut rec)?;
        if let Some(d) = &c.demands {
            put_text("demands", d.expose(), &mut rec)?;
        }
        if let Some(u) = &c.accused_unit {
            put_text("accused_unit", u, &mut rec)?;
        }
        let meta_version = self
            .keyring
            .current_version(Class::Meta)
            .expect("case writers hold meta");
        let meta = CaseMeta {
            case_no,
            category: c.category.trim().to_owned(),
            channel: c.channel,
            status: crate::workflow::Status::Registered,
            received_at: now_ms(),
            petitioner_ids: petitioners.to_vec(),
            assigned_to: None,
            accused_unit_tag: c
                .accused_unit
                .as_deref()
                .and_then(|u| self.unit_tag(u, meta_version).map(|t| (meta_version, t))),
            is_accusation: c.is_accusation,
            created_at: now_ms(),
            created_by: self.user.name.clone(),
            canary,
            history: vec![model::StatusChange {
                status: crate::workflow::Status::Registered,
                at_ms: now_ms(),
                by: self.user.name.clone(),
            }],
            extension: None,
            risk: None,
            forwarded_to: None,
        };
        rec.set(
            MASKED_BUNDLE,
            self.seal_bundle(Table::Case, id, Class::Masked, MASKED_BUNDLE, &masked)?,
        );
        rec.set(
            META_BUNDLE,
            self.seal_bundle(Table::Case, id, Class::Meta, META_BUNDLE, &meta)?,
        );
        Ok(rec)
    }

    /// Imports parsed rows (registrar): validates each, merges petitioners by ID number
    /// (earlier in the file or already in the vault), opens the rows' cases, and commits in
    /// batches of `batch_size` rows — one transaction, one fsync and one audit entry listing
    /// every id per batch. Re-running the same file creates nothing twice: petitioners are
    /// unique by ID number and each imported case leaves a keyed fingerprint of its row.
    ///
    /// Validation and sealing (scrubbing, encryption, index tags) are pure and run in
    /// parallel, with results kept in input order; which row merges into which petitioner
    /// is decided sequentially. A batch is sealed while the previous one commits; a batch's
    /// changes to records the previous one wrote are read only once that commit is durable.
    pub fn import(
        &self,
        parsed: crate::import::Parsed,
        dry_run: bool,
        batch_size: usize,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<ImportReport, VaultError> {
        let total = parsed.rows.len() + parsed.rejected.len();
        let mut lines = parsed
            .rejected
            .into_iter()
            .map(|r| Ok(Err(r)))
            .chain(parsed.rows.into_iter().map(|r| Ok(Ok(r))));
        self.import_rows(&mut lines, total, dry_run, batch_size, progress)
    }

    /// [`Session::import`] from rows as they are read ([`crate::import::RowReader`]): the
    /// file's rows are never all parsed at once. What an import still keeps for every row
    /// is what merging later rows needs: each ID number seen, and the fields of each
    /// petitioner it registers (their values are scrubbed from later cases' text). `total`
    /// (rows and rejected rows, e.g. from [`crate::import::count_rows`]) is only for
    /// `progress`. A broken file met on the way stops the import with the batches before
    /// it committed (a re-run skips them); count the rows first to refuse a broken file
    /// before anything is written.
    pub fn import_rows(
        &self,
        lines: &mut dyn Iterator<Item = crate::import::ReadRow>,
        total: usize,
        dry_run: bool,
        batch_size: usize,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<ImportReport, VaultError> {
        use rayon::prelude::*;
        self.require(Action::Import)?;
        let mut report = ImportReport {
            dry_run,
            ..Default::default()
        };
        let keys = self.current_index_keys()?;
        let all_keys = self.index_keys();
        // Rows are validated a batch at a time, just before the batch is staged, and each
        // batch's rows are trimmed once it is staged (below): a large file's validated rows
        // are never all resident at once. Every row is still validated, so the report lists
        // all problems, in a dry run too.
        let mut exhausted = false;
        let mut valid: Vec<ImportRow> = Vec::new();
        // ID number (its keyed index tag: no plaintext ID number is kept for the length of
        // the import) -> petitioner; petitioner registered by this import -> its row.
        let mut in_file: std::collections::HashMap<[u8; 16], RecordId> = Default::default();
        let mut created: std::collections::HashMap<RecordId, usize> = Default::default();
        let mut seen_rows: std::collections::HashSet<[u8; 16]> = Default::default();
        let mut done = 0;
        progress(done, total);
        let mut touched_existing = Vec::new();
        let batch_size = batch_size.max(1);
        std::thread::scope(|scope| -> Result<(), VaultError> {
            // The commit in flight, if any.
            let mut pending: Option<PendingCommit<'_>> = None;
            let outcome = (|| -> Result<(), VaultError> {
                for b in 0.. {
                    let base = b * batch_size;
                    // The next `batch_size` valid rows (fewer at the end of the file).
                    while valid.len() < base + batch_size && !exhausted {
                        let want = base + batch_size - valid.len();
                        let rejected_before = done;
                        let mut rows: Vec<crate::import::Row> = Vec::with_capacity(want);
                        while rows.len() < want {
                            match lines.next() {
                                None => {
                                    exhausted = true;
                                    break;
                                }
                                Some(line) => {
                                    report.rows += 1;
                                    match line? {
                                        Ok(row) => rows.push(row),
                                        Err(rejected) => {
                                            report.rejected.push(rejected);
                                            done += 1;
                                        }
                                    }
                                }
                            }
                        }
                        if done > rejected_before {
                            progress(done, total);
                        }
                        let checked: Vec<Result<ImportRow, crate::import::Rejected>> = rows
                            .into_par_iter()
                            .map(|row| validate_import_row(row, &keys))
                            .collect();
                        for row in checked {
                            match row {
                                Ok(row) => valid.push(row),
                                Err(rejected) => {
                                    report.rejected.push(rejected);
                                    done += 1;
                                }
                            }
                        }
                    }
                    if valid.len() <= base {
                        break;
                    }
                    let end = (base + batch_size).min(valid.len());
                    let batch = &valid[base..end];
                    // Decide, in file order, which petitioner each row belongs to and which
                    // cases are new. Rows of the batch in flight are already in the maps.
                    let mut new_pets: Vec<(RecordId, usize)> = Vec::new();
                    let mut new_cases: Vec<(RecordId, usize, RecordId)> = Vec::new();
                    let mut matched: Vec<RecordId> = Vec::new();
                    for (i, row) in batch.iter().enumerate() {
                        let id_number = row.fields.value("id_number").expect("validated");
                        let id_tag = keys.tag(IndexKind::IdNumber, id_number);
                        let pid = if let Some(pid) = in_file.get(&id_tag) {
                            report.petitioners_merged += 1;
                            matched.push(*pid);
                            *pid
                        } else if let Some(existing) =
                            self.registered_id_under(&row.fields, &all_keys)?
                        {
                            report.petitioners_merged += 1;
                            touched_existing.push(existing);
                            matched.push(existing);
                            in_file.insert(id_tag, existing);
                            existing
                        } else {
                            let pid = RecordId::random()?;
                            new_pets.push((pid, base + i));
                            report.petitioners_created += 1;
                            in_file.insert(id_tag, pid);
                            created.insert(pid, base + i);
                            pid
                        };
                        if let Some((_, fp)) = &row.case {
                            let exists = !self
                                .vault
                                .store
                                .scan_prefix(Tree::Index, &index::prefix(IndexKind::ImportRow, fp))?
                                .is_empty();
                            if exists || !seen_rows.insert(*fp) {
                                report.cases_skipped += 1;
                                continue;
                            }
                            new_cases.push((pid, base + i, RecordId::random()?));
                        }
                    }
                    if dry_run {
                        report.cases_created += new_cases.len();
                        done += batch.len();
                        progress(done, total);
                        continue;
                    }
                    // Each petitioner's new cases, in file order.
                    let mut cases_of: BTreeMap<RecordId, Vec<RecordId>> = BTreeMap::new();
                    for (pid, _, cid) in &new_cases {
                        cases_of.entry(*pid).or_default().push(*cid);
                    }
                    let registering: std::collections::HashSet<RecordId> =
                        new_pets.iter().map(|(pid, _)| *pid).collect();
                    // The values scrubbed from each petitioner's case text: from the row that
                    // registers it in this import, else from the vault (imports never change a
                    // petitioner's fields, so the batch in flight does not matter here).
                    let known: BTreeMap<RecordId, KnownEntities> = cases_of
                        .keys()
                        .copied()
                        .collect::<Vec<_>>()
                        .into_par_iter()
                        .map(|pid| {
                            let mut known = KnownEntities::default();
                            match created.get(&pid) {
                                Some(row) => {
                                    for (name, v) in &valid[*row].fields.values {
                                        push_known(&mut known, name, v.expose());
                                    }
                                }
                                None => {
                                    let prec = self
                                        .load(Table::Petitioner, &pid)?
                                        .ok_or(VaultError::NotFound(pid))?;
                                    self.collect_known(&pid, &prec, &mut known)?;
                                }
                            }
                            Ok((pid, known))
                        })
                        .collect::<Result<_, VaultError>>()?;
                    let numbers = self.vault.reserve_case_nos(new_cases.len() as u64)?;
                    let (pets, cases) = rayon::join(
                        || {
                            new_pets
                                .par_iter()
                                .map(|(pid, row)| {
                                    let case_ids = cases_of.get(pid).cloned().unwrap_or_default();
                                    self.stage_petitioner(
                                        pid,
                                        &valid[*row].fields,
                                        &keys,
                                        false,
                                        case_ids,
                                    )
                                })
                                .collect::<Result<Vec<_>, VaultError>>()
                        },
                        || {
                            new_cases
                                .par_iter()
                                .zip(numbers)
                                .map(|((pid, row, cid), case_no)| {
                                    let (case, _) = valid[*row].case.as_ref().expect("has a case");
                                    let rec = self.seal_case(
                                        cid,
                                        case,
                                        std::slice::from_ref(pid),
                                        &known[pid],
                                        case_no,
                                        false,
                                    )?;
                                    Ok(postcard::to_stdvec(&rec).expect("record serialises"))
                                })
                                .collect::<Result<Vec<_>, VaultError>>()
                        },
                    );
                    let (pets, cases) = (pets?, cases?);
                    drop(known);
                    // Petitioners written before this batch that get cases: read them only
                    // once the batch in flight is durable (it may have written them).
                    finish(pending.take(), &mut report, &mut done, total, progress)?;
                    let mut writes = WriteSet::new();
                    let mut ids: Vec<RecordId> = Vec::new();
                    for ((pid, _), (record, index_writes)) in new_pets.iter().zip(pets) {
                        writes.extend(index_writes);
                        writes.put(Tree::Petitioners, pid.0.to_vec(), record);
                        ids.push(*pid);
                    }
                    for ((_, row, cid), record) in new_cases.iter().zip(cases) {
                        let (_, fp) = valid[*row].case.as_ref().expect("has a case");
                        writes.put(Tree::Cases, cid.0.to_vec(), record);
                        writes.put(
                            Tree::Index,
                            index::entry_key(IndexKind::ImportRow, fp, cid),
                            vec![],
                        );
                    }
                    for (pid, case_ids) in &cases_of {
                        if registering.contains(pid) {
                            continue;
                        }
                        let mut prec = self
                            .load(Table::Petitioner, pid)?
                            .ok_or(VaultError::NotFound(*pid))?;
                        let mut meta = self.petitioner_meta(pid, &prec)?;
                        meta.case_ids.extend(case_ids);
                        prec.set(
                            META_BUNDLE,
                            self.seal_bundle(
                                Table::Petitioner,
                                pid,
                                Class::Meta,
                                META_BUNDLE,
                                &meta,
                            )?,
                        );
                        self.put_record(&mut writes, Table::Petitioner, pid, &prec);
                        ids.push(*pid);
                    }
                    ids.extend(matched);
                    ids.sort();
                    ids.dedup();
                    ids.extend(new_cases.iter().map(|(_, _, cid)| *cid));
                    let mut e = self.entry(Action::Import, Outcome::Allowed, None);
                    e.targets = ids;
                    e.requested = vec![format!("import:batch:{}", b + 1)];
                    let handle = scope.spawn(move || self.commit(&writes, &e).map(|_| ()));
                    pending = Some(PendingCommit {
                        handle,
                        rows: end - base,
                        cases: new_cases.len(),
                    });
                    // The batch is staged: drop what no later batch reads — every row's
                    // case and masked renderings, and the fields of rows that registered no
                    // petitioner (a registering row's values name the known entities of its
                    // petitioner's later cases). Otherwise every row of a large file stays
                    // resident to the end of the import (~3 KB a row).
                    let mut registers = vec![false; end - base];
                    for (_, row) in &new_pets {
                        registers[row - base] = true;
                    }
                    for (row, registers) in valid[base..end].iter_mut().zip(registers) {
                        row.case = None;
                        row.fields.masked = MaskedBundle::default();
                        if !registers {
                            row.fields.values = Vec::new();
                        }
                    }
                }
                Ok(())
            })();
            // A failed commit is the first thing that went wrong: it is reported even when
            // sealing the next batch failed meanwhile.
            let committed = finish(pending.take(), &mut report, &mut done, total, progress);
            committed.and(outcome)
        })?;
        if dry_run {
            let mut e = self.entry(Action::Import, Outcome::Allowed, Some("dry_run"));
            e.targets = touched_existing;
            self.commit(&WriteSet::new(), &e)?;
        }
        report.rejected.sort_by_key(|r| r.line);
        Ok(report)
    }

    /// Reads a case as this role may see it. A user of the accused unit gets "not found".
    pub fn show_case(&self, id: RecordId) -> Result<RecordView, VaultError> {
        self.require_on(Action::CaseShow, &[id])?;
        let Some(rec) = self.load(Table::Case, &id)? else {
            return Err(self.resolve_denial(Action::CaseShow, id, RecordDenial::NotFound));
        };
        let meta = self.case_meta(&id, &rec)?;
        if let Err(d) = self.authorize_case(&meta) {
            if meta.canary {
                // A probe of a honey case is flagged even when refused.
                let detail = match d {
                    RecordDenial::Hidden => "accused_unit_firewall",
                    _ => "not_assigned",
                };
                let err = match d {
                    RecordDenial::Denied(den) => VaultError::Denied(den),
                    _ => VaultError::NotFound(id),
                };
                return Err(self.deny_flagged(
                    Action::CaseShow,
                    vec![id],
                    err,
                    detail,
                    canary_flag(true),
                ));
            }
            return Err(self.resolve_denial(Action::CaseShow, id, d));
        }
        let classes = self.readable(policy::readable_classes(self.user.role, false));
        let mut e = self.entry(Action::CaseShow, Outcome::Allowed, None);
        e.flags = canary_flag(meta.canary);
        if meta
            .assigned_to
            .as_deref()
            .is_some_and(|h| h != self.user.name)
        {
            e.flags.push(audit::report::FLAG_UNASSIGNED_CASE.into());
        }
        e.targets = vec![id];
        e.requested = CASE_SHOWN.iter().map(|s| (*s).to_owned()).collect();
        e.returned = classes.iter().map(|c| format!("class:{c}")).collect();
        let proof = self.commit(&WriteSet::new(), &e)?;
        self.open_view(&proof, Table::Case, id, &rec, &classes)
    }

    /// Lists the cases this user may see (meta only). One audit entry lists every id shown.
    pub fn list_cases(&self) -> Result<Vec<CaseSummary>, VaultError> {
        self.require(Action::CaseList)?;
        let mut visible = Vec::new();
        for (key, bytes) in self.vault.store.scan_prefix(Tree::Cases, b"")? {
            let id = RecordId(
                key.as_slice()
                    .try_into()
                    .map_err(|_| VaultError::Corrupt("case key"))?,
            );
            let rec = decode_record(Table::Case, &id, &bytes)?;
            let meta = self.case_meta(&id, &rec)?;
            if self.authorize_case(&meta).is_ok() {
                visible.push(CaseSummary { id, meta });
            }
        }
        let mut e = self.entry(Action::CaseList, Outcome::Allowed, None);
        e.targets = visible.iter().map(|c| c.id).collect();
        e.flags = canary_flag(visible.iter().any(|c| c.meta.canary));
        e.returned = vec!["class:meta".into()];
        let _proof = self.commit(&WriteSet::new(), &e)?;
        visible.sort_by(|a, b| a.meta.case_no.cmp(&b.meta.case_no));
        Ok(visible)
    }

    /// All cases with their meta, decrypted for policy and selection (never returned to a
    /// caller without an audit entry).
    fn all_case_metas(&self) -> Result<Vec<(RecordId, CaseMeta)>, VaultError> {
        let mut out = Vec::new();
        for (key, bytes) in self.vault.store.scan_prefix(Tree::Cases, b"")? {
            let id = RecordId(
                key.as_slice()
                    .try_into()
                    .map_err(|_| VaultError::Corrupt("case key"))?,
            );
            let rec = decode_record(Table::Case, &id, &bytes)?;
            out.push((id, self.case_meta(&id, &rec)?));
        }
        Ok(out)
    }

    /// Logs a listing of `cases` and returns them.
    fn list_logged(
        &self,
        cases: Vec<CaseSummary>,
        requested: String,
        case_ref: Option<RecordId>,
    ) -> Result<Vec<CaseSummary>, VaultError> {
        let mut e = self.entry(Action::CaseList, Outcome::Allowed, None);
        e.targets = cases.iter().map(|c| c.id).collect();
        e.requested = vec![requested];
        e.returned = vec!["class:meta".into()];
        e.case_ref = case_ref;
        e.flags = canary_flag(cases.iter().any(|c| c.meta.canary));
        self.commit(&WriteSet::new(), &e)?;
        Ok(cases)
    }

    /// Earlier cases of these petitioners in `category` received within the last
    /// `within_days` days (repeat petitions, 重复信访), as this user may see them; `except`
    /// (the case just opened) is left out.
    pub fn earlier_cases(
        &self,
        petitioners: &[RecordId],
        category: &str,
        within_days: i64,
        except: Option<RecordId>,
    ) -> Result<Vec<CaseSummary>, VaultError> {
        self.require(Action::CaseList)?;
        let since = now_ms() - within_days * 86_400_000;
        let mut out = Vec::new();
        for (id, meta) in self.all_case_metas()? {
            if Some(id) == except
                || meta.category != category.trim()
                || meta.received_at < since
                || !meta.petitioner_ids.iter().any(|p| petitioners.contains(p))
                || self.authorize_case(&meta).is_err()
            {
                continue;
            }
            out.push(CaseSummary { id, meta });
        }
        out.sort_by_key(|c| c.meta.received_at);
        self.list_logged(out, "earlier_cases".into(), except)
    }

    /// Cases related to case `id`: sharing a petitioner, or about the same accused unit in
    /// the same category within `window_days` of it — the raw material for group-petition
    /// (群体性) early warning. Only cases this user may see are listed.
    pub fn related_cases(
        &self,
        id: RecordId,
        window_days: i64,
    ) -> Result<Vec<(CaseSummary, Relation)>, VaultError> {
        self.require_on(Action::CaseList, &[id])?;
        let Some(rec) = self.load(Table::Case, &id)? else {
            return Err(self.resolve_denial(Action::CaseList, id, RecordDenial::NotFound));
        };
        let base = self.case_meta(&id, &rec)?;
        if let Err(d) = self.authorize_case(&base) {
            return Err(self.resolve_denial(Action::CaseList, id, d));
        }
        let window = window_days * 86_400_000;
        let mut out = Vec::new();
        for (other, meta) in self.all_case_metas()? {
            if other == id || self.authorize_case(&meta).is_err() {
                continue;
            }
            let shared = meta
                .petitioner_ids
                .iter()
                .any(|p| base.petitioner_ids.contains(p));
            let same_unit = base.accused_unit_tag.is_some()
                && meta.accused_unit_tag == base.accused_unit_tag
                && meta.category == base.category
                && (meta.received_at - base.received_at).abs() <= window;
            let relation = match (shared, same_unit) {
                (true, true) => Relation::Both,
                (true, false) => Relation::SharedPetitioner,
                (false, true) => Relation::SameAccusedUnitAndCategory,
                (false, false) => continue,
            };
            out.push((CaseSummary { id: other, meta }, relation));
        }
        out.sort_by_key(|(c, _)| c.meta.received_at);
        let summaries: Vec<CaseSummary> = out.iter().map(|(c, _)| c.clone()).collect();
        self.list_logged(summaries, "related_cases".into(), Some(id))?;
        Ok(out)
    }

    /// Cases this user may see that pass the export/statistics filters.
    fn selected_cases(
        &self,
        filters: &crate::export::Filters,
    ) -> Result<Vec<(RecordId, CaseMeta)>, VaultError> {
        Ok(self
            .all_case_metas()?
            .into_iter()
            .filter(|(_, m)| self.case_selected(m, filters))
            .collect())
    }

    /// Whether an export or statistics run over `filters` includes a case: never a honey
    /// case, only one this user may see, and only one that passes the filters.
    fn case_selected(&self, m: &CaseMeta, filters: &crate::export::Filters) -> bool {
        self.gate_selected(&CaseGate::from(m), filters)
    }

    /// [`Session::case_selected`] over the fields the gate reads.
    fn gate_selected(&self, m: &CaseGate<'_>, filters: &crate::export::Filters) -> bool {
        !m.canary
            && self.authorize_gate(m).is_ok()
            && filters
                .status
                .as_ref()
                .is_none_or(|s| m.status.as_str() == s)
            && filters.category.as_ref().is_none_or(|c| m.category == c)
            && filters.since_ms.is_none_or(|t| m.received_at >= t)
            && filters.until_ms.is_none_or(|t| m.received_at < t)
    }

    /// Counts cases by a dimension with small-cell suppression, from meta (and, for
    /// `region`, the masked address) only. Logged as one `stats` entry (no record ids).
    pub fn stats(
        &self,
        by: crate::export::StatsBy,
        min_cell: usize,
        filters: &crate::export::Filters,
    ) -> Result<crate::export::Stats, VaultError> {
        use crate::export::StatsBy;
        self.require(Action::Stats)?;
        let cases = self.selected_cases(filters)?;
        let mut e = self.entry(
            Action::Stats,
            Outcome::Allowed,
            Some(&format!("cases:{}", cases.len())),
        );
        e.requested = vec![format!("stats:{}", by.as_str())];
        self.commit(&WriteSet::new(), &e)?;
        let cst = time::UtcOffset::from_hms(8, 0, 0).expect("valid offset");
        let mut keys = Vec::with_capacity(cases.len());
        for (_, m) in &cases {
            keys.push(match by {
                StatsBy::Category => m.category.clone(),
                StatsBy::Channel => m.channel.as_str().to_owned(),
                StatsBy::Status => m.status.as_str().to_owned(),
                StatsBy::Month => time::OffsetDateTime::from_unix_timestamp(m.received_at / 1000)
                    .map(|t| {
                        let t = t.to_offset(cst);
                        format!("{:04}-{:02}", t.year(), t.month() as u8)
                    })
                    .unwrap_or_default(),
                StatsBy::Region => {
                    let first = m.petitioner_ids.first();
                    let address = match first {
                        Some(pid) => match self.load(Table::Petitioner, pid)? {
                            Some(rec) => self
                                .open_bundle::<MaskedBundle>(
                                    Table::Petitioner,
                                    pid,
                                    &rec,
                                    MASKED_BUNDLE,
                                )?
                                .and_then(|b| {
                                    b.fields
                                        .iter()
                                        .find(|(n, _)| n == "address")
                                        .map(|(_, v)| v.clone())
                                }),
                            None => None,
                        },
                        None => None,
                    };
                    address
                        .map(|a| crate::export::province_of(&a))
                        .unwrap_or_else(|| "未知".into())
                }
            });
        }
        Ok(crate::export::tabulate(by, keys, min_cell.max(1)))
    }

    /// Assigns a case to a handler (registrar, supervisor). Refused when the handler belongs
    /// to the case's accused unit.
    pub fn assign_case(&self, id: RecordId, to: &str) -> Result<(), VaultError> {
        self.retrying(|| self.assign_case_once(id, to))
    }

    fn assign_case_once(&self, id: RecordId, to: &str) -> Result<(), VaultError> {
        self.require_on(Action::CaseAssign, &[id])?;
        let Some(mut rec) = self.load(Table::Case, &id)? else {
            return Err(self.resolve_denial(Action::CaseAssign, id, RecordDenial::NotFound));
        };
        let mut meta = self.case_meta(&id, &rec)?;
        if let Err(d) = self.authorize_case(&meta) {
            return Err(self.resolve_denial(Action::CaseAssign, id, d));
        }
        let Some(target) = self.vault.user_record(to)? else {
            return Err(VaultError::UnknownUser);
        };
        if target.role != Role::Handler {
            return Err(VaultError::Invalid(model::ValidationError {
                field: "to",
                rule: "cases are assigned to users with the handler role",
            }));
        }
        if let (Some(unit), Some((v, tag))) = (&target.unit, &meta.accused_unit_tag)
            && self
                .unit_tag(unit, *v)
                .is_some_and(|t| crypto::ct_eq(&t, tag))
        {
            return Err(self.deny(
                Action::CaseAssign,
                vec![id],
                VaultError::Denied(Denial::AssigneeInAccusedUnit),
                "assignee_in_accused_unit",
            ));
        }
        meta.assigned_to = Some(target.name.clone());
        rec.set(
            META_BUNDLE,
            self.seal_bundle(Table::Case, &id, Class::Meta, META_BUNDLE, &meta)?,
        );
        let mut writes = WriteSet::new();
        self.put_record(&mut writes, Table::Case, &id, &rec);
        let mut e = self.entry(Action::CaseAssign, Outcome::Allowed, None);
        e.targets = vec![id];
        e.requested = vec![format!("assign_to:{}", target.name)];
        self.commit(&writes, &e)?;
        Ok(())
    }

    // ---- audit -------------------------------------------------------------------------

    /// Number of entries in the audit log (auditor, admin).
    pub fn audit_len(&self) -> Result<u64, VaultError> {
        self.require(Action::AuditRead)?;
        Ok(audit::log_len(self.vault.store.as_ref())?)
    }

    /// Reads audit entries `[from, from + limit)` (auditor, admin). The read is logged first.
    pub fn audit_entries(&self, from: u64, limit: usize) -> Result<Vec<RecordedEntry>, VaultError> {
        self.require(Action::AuditRead)?;
        self.commit(
            &WriteSet::new(),
            &self.entry(Action::AuditRead, Outcome::Allowed, None),
        )?;
        Ok(audit::read_entries(self.vault.store.as_ref(), from, limit)?)
    }

    /// Queries the audit log (auditor, admin): by record, actor, action, time, denials. The
    /// query itself is logged first, with the record it asked about.
    pub fn audit_query(&self, q: &audit::AuditQuery) -> Result<Vec<RecordedEntry>, VaultError> {
        self.require(Action::AuditRead)?;
        let mut e = self.entry(Action::AuditRead, Outcome::Allowed, None);
        e.targets = q.record.into_iter().collect();
        e.requested = describe_query(q);
        self.commit(&WriteSet::new(), &e)?;
        Ok(audit::query(self.vault.store.as_ref(), q)?)
    }

    /// Signs a checkpoint of the log as it stands after this request's own entry (auditor,
    /// admin). Keep the result outside the vault: it is what catches a later truncation or
    /// rollback.
    pub fn audit_checkpoint(&self) -> Result<audit::Checkpoint, VaultError> {
        self.require(Action::AuditCheckpoint)?;
        let e = self.entry(Action::AuditCheckpoint, Outcome::Allowed, None);
        let (_, cp) = self.commit_with(&WriteSet::new(), &e, true)?;
        cp.ok_or(VaultError::Corrupt(
            "this keyring carries no checkpoint signing key",
        ))
    }

    /// Plants a honey petitioner with a case (admin): realistic synthetic values that no
    /// officer has a reason to open. Any show, list or probe of them is flagged `canary` in
    /// the audit log and reported as a high-severity finding. Nothing in what other roles
    /// see marks them as canaries.
    pub fn add_canary(&self) -> Result<(RecordId, RecordId), VaultError> {
        self.require(Action::CanaryAdd)?;
        let seed = u64::from_le_bytes(crypto::random_array()?);
        let mut synth = crate::model::synth::Synth::new(seed);
        let person = synth.person();
        let case = synth.case_for(&person);
        let p = NewPetitioner {
            name: person.name.as_str().into(),
            id_number: person.id_number.as_str().into(),
            phones: vec![person.phone.as_str().into()],
            address: Some(person.address.as_str().into()),
            email: person.email.as_deref().map(SecretText::from),
            ethnicity: Some(person.ethnicity.as_str().into()),
        };
        let pid = self.insert_petitioner(&p, Action::CanaryAdd, true)?;
        let c = NewCase {
            petitioners: vec![pid],
            title: case.title.as_str().into(),
            category: case.category.clone(),
            channel: model::Channel::parse(case.channel)?,
            content: case.content.as_str().into(),
            demands: Some(case.demands.as_str().into()),
            accused_unit: None,
            is_accusation: false,
        };
        let cid = self.insert_case(&c, Action::CanaryAdd, true)?;
        Ok((pid, cid))
    }

    /// The compliance report over the entries in the options' period (auditor, admin).
    pub fn audit_report(
        &self,
        opts: &audit::report::ReportOptions,
    ) -> Result<audit::report::Report, VaultError> {
        self.require(Action::AuditReport)?;
        self.commit(
            &WriteSet::new(),
            &self.entry(Action::AuditReport, Outcome::Allowed, None),
        )?;
        let q = audit::AuditQuery {
            since_ms: opts.since_ms,
            until_ms: opts.until_ms,
            ..Default::default()
        };
        let entries = audit::query(self.vault.store.as_ref(), &q)?;
        Ok(audit::report::build(&entries, opts))
    }

    /// Exports the whole log for offline verification (auditor, admin), with a checkpoint
    /// signed at export.
    pub fn audit_bundle(&self) -> Result<audit::Bundle, VaultError> {
        self.require(Action::AuditExport)?;
        let e = self.entry(Action::AuditExport, Outcome::Allowed, None);
        self.commit_with(&WriteSet::new(), &e, true)?;
        let store = self.vault.store.as_ref();
        let mut entries = Vec::new();
        let mut start = 0u64;
        loop {
            let batch = store.range(
                Tree::Audit,
                &start.to_be_bytes(),
                &u64::MAX.to_be_bytes(),
                4096,
            )?;
            let Some((last, _)) = batch.last() else { break };
            start = u64::from_be_bytes(
                last.as_slice()
                    .try_into()
                    .map_err(|_| VaultError::Corrupt("audit key"))?,
            ) + 1;
            entries.extend(batch.into_iter().map(|(_, v)| v));
        }
        Ok(audit::Bundle {
            vault_id: self.vault.vault_id,
            public_key: self.vault.checkpoint_public_key,
            entries,
            checkpoints: audit::stored_checkpoints(store)?,
        })
    }
}

fn canary_flag(canary: bool) -> Vec<String> {
    if canary {
        vec![audit::report::FLAG_CANARY.into()]
    } else {
        vec![]
    }
}

fn describe_query(q: &audit::AuditQuery) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(a) = &q.actor {
        out.push(format!("actor:{a}"));
    }
    if let Some(a) = q.action {
        out.push(format!("action:{}", a.as_str()));
    }
    if let Some(t) = q.since_ms {
        out.push(format!("since:{t}"));
    }
    if let Some(t) = q.until_ms {
        out.push(format!("until:{t}"));
    }
    if q.denied {
        out.push("denied".into());
    }
    out
}

/// Decodes a stored record and checks its structure: known format, only the field names of
/// its table, each once, and a meta bundle. A record whose field names were altered on disk
/// is refused rather than shown with fields silently missing.
fn decode_record(table: Table, id: &RecordId, bytes: &[u8]) -> Result<StoredRecord, VaultError> {
    let mut rec: StoredRecord =
        postcard::from_bytes(bytes).map_err(|_| tampered(table, id, "record"))?;
    rec.loaded = Some(crypto::sha256(&[bytes]));
    check_record(
        table,
        id,
        rec.format,
        rec.envelopes.iter().map(|(n, _)| n.as_str()),
    )?;
    Ok(rec)
}

/// [`decode_record`] without copying: the record borrows `bytes` (read-only use).
fn decode_record_ref<'a>(
    table: Table,
    id: &RecordId,
    bytes: &'a [u8],
) -> Result<RecordRef<'a>, VaultError> {
    let rec: RecordRef<'a> =
        postcard::from_bytes(bytes).map_err(|_| tampered(table, id, "record"))?;
    check_record(table, id, rec.format, rec.envelopes.iter().map(|(n, _)| *n))?;
    Ok(rec)
}

fn tampered(table: Table, id: &RecordId, what: &str) -> VaultError {
    VaultError::Tampered {
        table: table.as_str(),
        id: *id,
        field: what.to_owned(),
    }
}

/// The structure checks of a decoded record: known format, only the field names of its
/// table, each once, and a meta bundle.
fn check_record<'a>(
    table: Table,
    id: &RecordId,
    format: u8,
    names: impl Iterator<Item = &'a str>,
) -> Result<(), VaultError> {
    if format != 1 {
        return Err(tampered(table, id, "record format"));
    }
    let specs = match table {
        Table::Petitioner => PETITIONER_FIELDS,
        Table::Case => CASE_FIELDS,
    };
    // Bit i: the i-th field of the table seen; the two bits above: masked, meta.
    let (masked_bit, meta_bit) = (1u32 << specs.len(), 1u32 << (specs.len() + 1));
    let mut seen = 0u32;
    for name in names {
        let bit = if name == MASKED_BUNDLE {
            masked_bit
        } else if name == META_BUNDLE {
            meta_bit
        } else {
            match specs.iter().position(|s| s.name == name) {
                Some(i) => 1 << i,
                None => return Err(tampered(table, id, "record structure")),
            }
        };
        if seen & bit != 0 {
            return Err(tampered(table, id, "record structure"));
        }
        seen |= bit;
    }
    if seen & meta_bit == 0 {
        return Err(tampered(table, id, META_BUNDLE));
    }
    Ok(())
}

fn normalise_unit(unit: &str) -> String {
    unit.chars().filter(|c| !c.is_whitespace()).collect()
}

fn join_ids(ids: &[RecordId]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Appends unix ms as RFC 3339 UTC (what [`format_ms`] gives) to `out`.
pub(crate) fn push_ms(out: &mut String, ms: i64) {
    let mut buf = [0u8; 64];
    let mut w: &mut [u8] = &mut buf;
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000) else {
        return;
    };
    if t.format_into(&mut w, &time::format_description::well_known::Rfc3339)
        .is_ok()
    {
        let n = 64 - w.len();
        out.push_str(std::str::from_utf8(&buf[..n]).unwrap_or_default());
    }
}

/// Formats unix ms as RFC 3339 UTC.
pub(crate) fn format_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

struct PetitionerFields {
    values: Vec<(&'static str, SecretText)>,
    masked: MaskedBundle,
}

impl PetitionerFields {
    fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.expose())
    }
}

/// The blind-index keys of a petitioner under one index key: its unique ID-number key and
/// its entries (ID number, ID last 4 + birth year, name, each phone).
fn index_entries(
    keys: &index::IndexKeys,
    id: &RecordId,
    fields: &PetitionerFields,
) -> (Vec<u8>, Vec<Vec<u8>>) {
    let id_number = fields.value("id_number").unwrap_or_default();
    let id_tag = keys.tag(IndexKind::IdNumber, id_number);
    let mut entries = vec![index::entry_key(IndexKind::IdNumber, &id_tag, id)];
    let year = fields
        .value("birth_date")
        .and_then(|d| d.get(..4))
        .and_then(|y| y.parse().ok())
        .unwrap_or(0);
    let last4: String = id_number.chars().skip(14).collect();
    let y_tag = keys.tag(
        IndexKind::IdLast4BirthYear,
        &index::last4_year(&last4, year),
    );
    entries.push(index::entry_key(IndexKind::IdLast4BirthYear, &y_tag, id));
    if let Some(name) = fields.value("name") {
        let tag = keys.tag(IndexKind::Name, &index::normalise_name(name));
        entries.push(index::entry_key(IndexKind::Name, &tag, id));
    }
    if let Some(phones) = fields.value("phones") {
        for phone in phones.split(',') {
            let tag = keys.tag(IndexKind::Phone, phone);
            entries.push(index::entry_key(IndexKind::Phone, &tag, id));
        }
    }
    (index::unique_key(&id_tag), entries)
}

/// Adds a petitioner's blind-index entries (under the current index key) to `writes`.
fn index_petitioner(
    keys: &index::IndexKeys,
    id: &RecordId,
    fields: &PetitionerFields,
    writes: &mut WriteSet,
) {
    let (unique, entries) = index_entries(keys, id, fields);
    writes.put_new(Tree::Index, unique, id.0.to_vec());
    for key in entries {
        writes.put(Tree::Index, key, vec![]);
    }
}

/// What an imported case's row fingerprint is computed over (re-running an import finds it).
fn import_fingerprint(
    id_number: &str,
    category: &str,
    channel: model::Channel,
    title: &str,
    content: &str,
) -> String {
    format!(
        "{id_number}\u{1f}{category}\u{1f}{}\u{1f}{title}\u{1f}{content}",
        channel.as_str()
    )
}

/// Adds the values of one petitioner field to the known entities scrubbed from case text.
fn push_known(known: &mut KnownEntities, field: &str, value: &str) {
    let values = value
        .split(',')
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    match field {
        "name" => known.names.extend(values),
        "phones" => known.phones.extend(values),
        "id_number" => known.id_numbers.extend(values),
        "address" => known.addresses.extend(values),
        "email" => known.emails.extend(values),
        _ => {}
    }
}

/// The rule an import row broke, for the report (never the value).
fn reason_of(e: &VaultError) -> String {
    match e {
        VaultError::Invalid(v) => format!("invalid {}: {}", v.field, v.rule),
        other => other.to_string(),
    }
}

/// A validated import row: the petitioner's fields and, when the row has one, its case
/// with the keyed fingerprint of the row.
struct ImportRow {
    fields: PetitionerFields,
    case: Option<(NewCase, [u8; 16])>,
}

/// Validates one import row; the rejection names the line and the rule, never a value.
fn validate_import_row(
    row: crate::import::Row,
    keys: &index::IndexKeys,
) -> Result<ImportRow, crate::import::Rejected> {
    let line = row.line;
    let reject = |e: VaultError| crate::import::Rejected {
        line,
        reason: reason_of(&e),
    };
    let fields = validate_petitioner(&row.petitioner).map_err(reject)?;
    let case = match row.case {
        Some(c) => {
            let case = NewCase {
                petitioners: vec![],
                title: c.title,
                category: c.category,
                channel: c.channel,
                content: c.content,
                demands: c.demands,
                accused_unit: c.accused_unit,
                is_accusation: c.is_accusation,
            };
            validate_case_fields(&case).map_err(reject)?;
            let fp = keys.tag(
                IndexKind::ImportRow,
                &import_fingerprint(
                    fields.value("id_number").expect("validated"),
                    &case.category,
                    case.channel,
                    case.title.expose(),
                    case.content.expose(),
                ),
            );
            Some((case, fp))
        }
        None => None,
    };
    Ok(ImportRow { fields, case })
}

/// An import batch whose transaction is committing on another thread.
struct PendingCommit<'scope> {
    handle: std::thread::ScopedJoinHandle<'scope, Result<(), VaultError>>,
    rows: usize,
    cases: usize,
}

/// Waits for the batch in flight, if any, and counts it in the report once it is durable.
fn finish(
    pending: Option<PendingCommit<'_>>,
    report: &mut ImportReport,
    done: &mut usize,
    total: usize,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(), VaultError> {
    if let Some(p) = pending {
        p.handle.join().expect("the commit thread does not panic")?;
        report.cases_created += p.cases;
        report.batches += 1;
        *done += p.rows;
        progress(*done, total);
    }
    Ok(())
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Rows in the file.
    pub rows: usize,
    /// Petitioners registered.
    pub petitioners_created: usize,
    /// Rows whose ID number was already registered (in the vault or earlier in the file).
    pub petitioners_merged: usize,
    /// Cases opened.
    pub cases_created: usize,
    /// Rows whose case was imported before (re-run) or repeats an earlier row.
    pub cases_skipped: usize,
    /// Rows rejected, with line and rule.
    pub rejected: Vec<crate::import::Rejected>,
    /// Batches committed.
    pub batches: usize,
    /// Nothing was written.
    pub dry_run: bool,
}

fn validate_petitioner(p: &NewPetitioner) -> Result<PetitionerFields, VaultError> {
    use crate::model::validate;
    let name = validate::validate_name(p.name.expose())?;
    let rid = validate::ResidentId::parse(p.id_number.expose())?;
    let phones = p
        .phones
        .iter()
        .map(|ph| validate::normalize_phone(ph.expose()))
        .collect::<Result<Vec<_>, _>>()?;
    let email = match &p.email {
        Some(e) if !e.expose().trim().is_empty() => Some(validate::validate_email(e.expose())?),
        _ => None,
    };
    let address = p
        .address
        .as_ref()
        .map(|a| a.expose().trim().to_owned())
        .filter(|a| !a.is_empty());
    let ethnicity = p
        .ethnicity
        .as_ref()
        .map(|e| e.expose().trim().to_owned())
        .filter(|e| !e.is_empty());
    if address.as_ref().is_some_and(|a| a.chars().count() > 500) {
        return Err(VaultError::Invalid(model::ValidationError {
            field: "address",
            rule: "must be at most 500 characters",
        }));
    }
    let level = mask::Level::Standard;
    let mut masked = MaskedBundle::default();
    let mut values: Vec<(&'static str, SecretText)> = Vec::new();
    masked
        .fields
        .push(("name".into(), mask::mask_name(&name, level)));
    values.push(("name", SecretText::from(name)));
    masked.fields.push((
        "id_number".into(),
        mask::mask_id_number(rid.as_str(), level),
    ));
    values.push(("id_number", SecretText::from(rid.as_str())));
    let bd = rid.birth_date();
    values.push((
        "birth_date",
        SecretText::from(
            format!("{:04}-{:02}", bd.year(), bd.month() as u8) + &format!("-{:02}", bd.day()),
        ),
    ));
    masked
        .fields
        .push(("birth_date".into(), format!("{:04}", bd.year())));
    values.push((
        "gender",
        SecretText::from(match rid.gender() {
            validate::Gender::Male => "male",
            validate::Gender::Female => "female",
        }),
    ));
    if let Some(e) = ethnicity {
        values.push(("ethnicity", SecretText::from(e)));
    }
    if !phones.is_empty() {
        masked.fields.push((
            "phones".into(),
            phones
                .iter()
                .map(|p| mask::mask_phone(p, level))
                .collect::<Vec<_>>()
                .join(","),
        ));
        values.push(("phones", SecretText::from(phones.join(","))));
    }
    if let Some(a) = address {
        masked
            .fields
            .push(("address".into(), mask::mask_address(&a, level)));
        values.push(("address", SecretText::from(a)));
    }
    if let Some(e) = email {
        masked
            .fields
            .push(("email".into(), mask::mask_email(&e, level)));
        values.push(("email", SecretText::from(e)));
    }
    Ok(PetitionerFields { values, masked })
}

/// Largest accepted free text (content, demands), in characters.
pub const MAX_TEXT_CHARS: usize = 100_000;

fn validate_case(c: &NewCase) -> Result<(), VaultError> {
    if c.petitioners.is_empty() {
        return Err(VaultError::Invalid(model::ValidationError {
            field: "petitioner",
            rule: "a case needs at least one --petitioner ID",
        }));
    }
    validate_case_fields(c)
}

/// The checks of a case's own fields (an import row's petitioner is the row's).
fn validate_case_fields(c: &NewCase) -> Result<(), VaultError> {
    let invalid = |field, rule| Err(VaultError::Invalid(model::ValidationError { field, rule }));
    if c.title.expose().trim().is_empty() {
        return invalid("title", "must not be empty");
    }
    if c.title.expose().chars().count() > 200 {
        return invalid("title", "must be at most 200 characters");
    }
    if c.content.expose().trim().is_empty() {
        return invalid("content", "must not be empty");
    }
    if c.content.expose().chars().count() > MAX_TEXT_CHARS
        || c.demands
            .as_ref()
            .is_some_and(|d| d.expose().chars().count() > MAX_TEXT_CHARS)
    {
        return invalid("content", "must be at most 100000 characters");
    }
    if c.category.trim().is_empty() || c.category.chars().count() > 50 {
        return invalid("category", "must be 1-50 characters");
    }
    if c.is_accusation
        && c.accused_unit
            .as_deref()
            .is_none_or(|u| u.trim().is_empty())
    {
        return invalid("accused_unit", "an accusation needs --accused-unit");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `MaskedRef` reads in place what a `MaskedBundle` wrote, short and long values (the
    /// SIMD check has its own path past 64 bytes), and refuses a value that is not UTF-8
    /// wherever the bad byte is.
    #[test]
    fn masked_ref_reads_a_masked_bundle_and_refuses_bad_utf8() {
        let long = "某市某区信访人反映拆迁补偿问题，要求依法处理。".repeat(9);
        let bundle = MaskedBundle {
            fields: vec![
                ("title".into(), "征地补偿".into()),
                ("content".into(), long.clone()),
                ("demands".into(), String::new()),
                ("ascii".into(), "A-1234 ok".into()),
            ],
        };
        let bytes = postcard::to_stdvec(&bundle).unwrap();
        let read: MaskedRef<'_> = postcard::from_bytes(&bytes).unwrap();
        let got: Vec<(&str, &str)> = read.fields.iter().map(|(n, v)| (n.0, v.0)).collect();
        let want: Vec<(&str, &str)> = bundle
            .fields
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(got, want);

        // The same layout with raw bytes for values reads (the layouts agree)...
        let raw: Vec<(String, Vec<u8>)> = vec![("content".into(), long.as_bytes().to_vec())];
        let bytes = postcard::to_stdvec(&raw).unwrap();
        let read: MaskedRef<'_> = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(read.fields[0].1.0, long);
        // ... unless a value is not UTF-8: a lone continuation byte, a cut three-byte
        // sequence, an overlong encoding, each early, midway and late in a long value.
        for bad in [&[0x80u8][..], &[0xE5, 0x9B], &[0xC0, 0xAF]] {
            for at in [0, long.len() / 2 / 3 * 3, long.len()] {
                let mut value = long.as_bytes().to_vec();
                value.splice(at..at, bad.iter().copied());
                let raw: Vec<(String, Vec<u8>)> = vec![("content".into(), value)];
                let bytes = postcard::to_stdvec(&raw).unwrap();
                assert!(
                    postcard::from_bytes::<MaskedRef<'_>>(&bytes).is_err(),
                    "{bad:02x?} at {at} accepted"
                );
            }
        }
    }

    /// `CaseMetaHead` reads the leading fields of a serialised `CaseMeta` exactly, whatever
    /// follows them (a change of `CaseMeta`'s leading fields must change both).
    #[test]
    fn case_meta_head_reads_the_fields_of_case_meta() {
        for canary in [false, true] {
            let meta = CaseMeta {
                case_no: "XF2026-000042".into(),
                category: "征地拆迁".into(),
                channel: model::Channel::Online,
                status: crate::workflow::Status::Registered,
                received_at: 1_764_000_000_123,
                petitioner_ids: vec![RecordId([1; 16]), RecordId([2; 16])],
                assigned_to: Some("王办理".into()),
                accused_unit_tag: Some((3, [9; 32])),
                is_accusation: true,
                created_at: 1_764_000_000_456,
                created_by: "登记员".into(),
                canary,
                history: vec![model::StatusChange {
                    status: crate::workflow::Status::Registered,
                    at_ms: 5,
                    by: "登记员".into(),
                }],
                extension: Some(model::ExtensionRecord {
                    days: 30,
                    reason: "情况复杂".into(),
                    at_ms: 6,
                    by: "领导".into(),
                }),
                risk: None,
                forwarded_to: Some("某某局".into()),
            };
            let bytes = postcard::to_stdvec(&meta).unwrap();
            let head: CaseMetaHead<'_> = postcard::from_bytes(&bytes).unwrap();
            assert_eq!(head.case_no, meta.case_no);
            assert_eq!(head.category, meta.category);
            assert_eq!(head.channel, meta.channel);
            assert_eq!(head.status, meta.status);
            assert_eq!(head.received_at, meta.received_at);
            assert_eq!(head.petitioner_ids, meta.petitioner_ids);
            assert_eq!(head.assigned_to, meta.assigned_to.as_deref());
            assert_eq!(head.accused_unit_tag, meta.accused_unit_tag);
            assert_eq!(head.is_accusation, meta.is_accusation);
            assert_eq!(head.created_at, meta.created_at);
            assert_eq!(head.created_by, meta.created_by);
            assert_eq!(head.canary, meta.canary);
        }
    }
}
