//! Records: petitioners and cases, their validation, and how their fields map to classes.

pub mod synth;
pub mod validate;

use crate::crypto::SecretText;
use crate::policy::Class;
use serde::{Deserialize, Serialize};
use std::fmt;

pub use validate::{Gender, ResidentId, ValidationError};

/// A record's random id (128 bits; never derived from PII). Shown as 32 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RecordId(pub [u8; 16]);

impl RecordId {
    /// A fresh random id.
    pub(crate) fn random() -> Result<RecordId, crate::crypto::CryptoError> {
        Ok(RecordId(crate::crypto::random_array()?))
    }

    /// Parses the 32-hex-digit form.
    pub fn parse(s: &str) -> Result<RecordId, ValidationError> {
        let mut out = [0u8; 16];
        hex::decode_to_slice(s.trim(), &mut out).map_err(|_| ValidationError {
            field: "id",
            rule: "a record id is 32 hexadecimal digits, as printed by add/open/list",
        })?;
        Ok(RecordId(out))
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordId({self})")
    }
}

/// Which table a record lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    /// Petitioners.
    Petitioner,
    /// Cases.
    Case,
}

impl Table {
    /// The name bound into envelopes.
    pub fn as_str(self) -> &'static str {
        match self {
            Table::Petitioner => "petitioner",
            Table::Case => "case",
        }
    }
}

/// How a petition reached the office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 来信.
    Letter,
    /// 来访.
    Visit,
    /// 网上.
    Online,
    /// 电话.
    Phone,
}

impl Channel {
    /// The CLI name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Letter => "letter",
            Channel::Visit => "visit",
            Channel::Online => "online",
            Channel::Phone => "phone",
        }
    }

    /// Parses `letter|visit|online|phone` (or 来信/来访/网上/电话).
    pub fn parse(s: &str) -> Result<Channel, ValidationError> {
        match s.trim() {
            "letter" | "来信" => Ok(Channel::Letter),
            "visit" | "来访" => Ok(Channel::Visit),
            "online" | "网上" | "网信" => Ok(Channel::Online),
            "phone" | "电话" => Ok(Channel::Phone),
            _ => Err(ValidationError {
                field: "channel",
                rule: "must be one of letter, visit, online, phone",
            }),
        }
    }
}

/// A petitioner to register. Values are secret types: `Debug` prints none of them.
#[derive(Debug, Clone, Default)]
pub struct NewPetitioner {
    /// Full name.
    pub name: SecretText,
    /// Resident ID number (18 digits, or a 15-digit legacy number that is upgraded).
    pub id_number: SecretText,
    /// Phone numbers (mobile or landline).
    pub phones: Vec<SecretText>,
    /// Postal address.
    pub address: Option<SecretText>,
    /// Email.
    pub email: Option<SecretText>,
    /// Ethnicity (民族).
    pub ethnicity: Option<SecretText>,
}

/// A case to open.
#[derive(Debug, Clone)]
pub struct NewCase {
    /// The petitioners (several for a group petition).
    pub petitioners: Vec<RecordId>,
    /// Title.
    pub title: SecretText,
    /// Category (e.g. 征地拆迁).
    pub category: String,
    /// Channel.
    pub channel: Channel,
    /// The complaint (诉求) text.
    pub content: SecretText,
    /// What the petitioner asks for.
    pub demands: Option<SecretText>,
    /// The unit the case is about (被反映单位).
    pub accused_unit: Option<String>,
    /// Whether the case accuses that unit or its staff (检举控告).
    pub is_accusation: bool,
}

/// Where a logical field lives.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// Field name.
    pub name: &'static str,
    /// Its class.
    pub class: Class,
}

const fn f(name: &'static str, class: Class) -> FieldSpec {
    FieldSpec { name, class }
}

/// Petitioner fields, each sealed in its own envelope. Masked renderings and meta live in
/// one bundle envelope each (`masked`, `meta`).
pub const PETITIONER_FIELDS: &[FieldSpec] = &[
    f("name", Class::Contact),
    f("id_number", Class::Identity),
    f("birth_date", Class::Identity),
    f("gender", Class::Identity),
    f("ethnicity", Class::Identity),
    f("phones", Class::Contact),
    f("address", Class::Contact),
    f("email", Class::Contact),
];

/// Case fields, each sealed in its own envelope.
pub const CASE_FIELDS: &[FieldSpec] = &[
    f("title", Class::Content),
    f("content", Class::Content),
    f("demands", Class::Content),
    f("accused_unit", Class::Content),
    f("notes", Class::Content),
];

/// The envelope name of the masked bundle.
pub const MASKED_BUNDLE: &str = "masked";
/// The envelope name of the meta bundle.
pub const META_BUNDLE: &str = "meta";

/// Meta of a petitioner (meta class).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PetitionerMeta {
    /// Unix ms.
    pub created_at: i64,
    /// User name.
    pub created_by: String,
    /// Cases naming this petitioner.
    pub case_ids: Vec<RecordId>,
    /// A honey record planted for the compliance officer (never shown).
    pub canary: bool,
}

/// Meta of a case (meta class): everything the workflow and the firewall need without
/// reading content.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CaseMeta {
    /// Human case number, e.g. `XF2026-000042`.
    pub case_no: String,
    /// Category.
    pub category: String,
    /// Channel.
    pub channel: Channel,
    /// Workflow status.
    pub status: crate::workflow::Status,
    /// Unix ms the petition was received.
    pub received_at: i64,
    /// The petitioners.
    pub petitioner_ids: Vec<RecordId>,
    /// Handler user name.
    pub assigned_to: Option<String>,
    /// Keyed tag of the accused unit (lets the gate enforce the firewall without the
    /// content key and without storing the unit in the meta class).
    pub accused_unit_tag: Option<(u32, [u8; 32])>,
    /// Whether the case is an accusation.
    pub is_accusation: bool,
    /// Unix ms.
    pub created_at: i64,
    /// User name.
    pub created_by: String,
    /// A honey record planted for the compliance officer (never shown).
    pub canary: bool,
    /// Every status the case has been in, with when and by whom (first: registered).
    pub history: Vec<StatusChange>,
    /// The one extension of the handling period (Art. 34), if granted.
    pub extension: Option<ExtensionRecord>,
    /// The risk assessment (风险评估), if made.
    pub risk: Option<crate::workflow::risk::Assessment>,
    /// The unit the case was forwarded to (转送), if any.
    pub forwarded_to: Option<String>,
}

impl CaseMeta {
    /// When the case last entered `status` (unix ms).
    pub fn entered(&self, status: crate::workflow::Status) -> Option<i64> {
        self.history
            .iter()
            .rev()
            .find(|c| c.status == status)
            .map(|c| c.at_ms)
    }
}

/// One status change.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StatusChange {
    /// The new status.
    pub status: crate::workflow::Status,
    /// Unix ms.
    pub at_ms: i64,
    /// User name.
    pub by: String,
}

/// A granted extension.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ExtensionRecord {
    /// Days added (1–30).
    pub days: u32,
    /// The reason, scrubbed of PII.
    pub reason: String,
    /// Unix ms.
    pub at_ms: i64,
    /// User name.
    pub by: String,
}

/// Masked renderings (masked class) of a record, keyed by logical field name.
#[derive(Clone, Default, Serialize, Deserialize, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct MaskedBundle {
    pub(crate) fields: Vec<(String, String)>,
}

impl fmt::Debug for MaskedBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Masked values are still quasi-identifiers: print names only.
        let names: Vec<&str> = self.fields.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("MaskedBundle")
            .field("fields", &names)
            .finish()
    }
}

/// One field as a read returns it.
#[derive(Debug, Clone)]
pub struct ShownField {
    /// Logical field name.
    pub name: &'static str,
    /// The value (full, or a masked rendering).
    pub value: SecretText,
    /// True when `value` is the masked rendering because the full value is not readable.
    pub masked: bool,
    /// The class the value came from.
    pub class: Class,
}

/// A record as the reading role may see it: full values where the role holds the key and
/// policy allows, masked renderings where it holds only `masked`, and the names of the
/// rest under `withheld`.
#[derive(Debug, Clone)]
pub struct RecordView {
    /// Record id.
    pub id: RecordId,
    /// Table.
    pub table: Table,
    /// Fields shown, in a stable order.
    pub fields: Vec<ShownField>,
    /// Field names not shown.
    pub withheld: Vec<&'static str>,
}

impl RecordView {
    /// A shown field by name.
    pub fn get(&self, name: &str) -> Option<&ShownField> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// One line of `case list`: meta only.
#[derive(Debug, Clone)]
pub struct CaseSummary {
    /// Case id.
    pub id: RecordId,
    /// Meta.
    pub meta: CaseMeta,
}

/// The order and names used when showing fields: logical fields then meta.
pub(crate) const PETITIONER_SHOWN: &[&str] = &[
    "name",
    "id_number",
    "birth_date",
    "gender",
    "ethnicity",
    "phones",
    "address",
    "email",
];

pub(crate) const CASE_SHOWN: &[&str] = &["title", "content", "demands", "accused_unit", "notes"];
