//! Blind indexes: equality search over encrypted fields.
//!
//! Each index has its own key, derived from the `index` class key:
//! `index key(kind) = HMAC-SHA256(index class key, "pv1/blind-index/" | kind)`, and an entry
//! is `HMAC-SHA256(index key(kind), normalised value)` truncated to 128 bits. Entries live
//! in `Tree::Index` as `kind (1) | tag (16) | record id (16)` with an empty value, so a
//! lookup is one prefix scan. An ID number also has a unique entry `U | tag` → record id,
//! written with "insert if absent" in the same transaction as the record, which is what
//! makes "one petitioner per ID number" hold even under concurrent registrations.
//!
//! Leakage (see SECURITY.md): someone holding the vault files sees which records share a
//! value of an indexed field (equality pattern), never the value; without the index key an
//! entry cannot be tested against a guess. 128-bit tags make accidental collisions
//! negligible, so results are exact and need no decryption to filter false positives.

use crate::crypto::{self, ClassKey, HmacSha256};
use crate::model::{RecordId, ValidationError, validate};
use unicode_normalization::UnicodeNormalization;

/// A searchable field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKind {
    /// Resident ID number, normalised to 18 characters with uppercase X.
    IdNumber,
    /// Phone number: 11-digit mobile, or `0AA-NNNNNNNN` landline.
    Phone,
    /// Name: NFKC, whitespace removed, lowercase.
    Name,
    /// Last 4 characters of the ID number and the birth year (for callers who give only those).
    IdLast4BirthYear,
    /// Import row fingerprint (makes re-running an import idempotent).
    ImportRow,
}

impl IndexKind {
    /// Every kind, in declaration order (`kind as usize` indexes it).
    pub const ALL: [IndexKind; 5] = [
        IndexKind::IdNumber,
        IndexKind::Phone,
        IndexKind::Name,
        IndexKind::IdLast4BirthYear,
        IndexKind::ImportRow,
    ];

    fn code(self) -> u8 {
        match self {
            IndexKind::IdNumber => b'i',
            IndexKind::Phone => b'p',
            IndexKind::Name => b'n',
            IndexKind::IdLast4BirthYear => b'y',
            IndexKind::ImportRow => b'r',
        }
    }

    fn label(self) -> &'static str {
        match self {
            IndexKind::IdNumber => "id_number",
            IndexKind::Phone => "phone",
            IndexKind::Name => "name",
            IndexKind::IdLast4BirthYear => "id_last4_birth_year",
            IndexKind::ImportRow => "import_row",
        }
    }

    /// The label used in audit entries (the searched field, never the value).
    pub fn as_str(self) -> &'static str {
        self.label()
    }
}

/// Prefix byte of the unique ID-number entries.
const UNIQUE: u8 = b'U';

/// The keys of the blind indexes, derived from one version of the `index` class key.
/// Public for benchmarks and verification tools; the gate derives its own at unlock.
pub struct IndexKeys {
    /// HMAC-SHA256 keyed with each kind's key (in `IndexKind::ALL` order): the hashed
    /// padded-key state is computed once, not per tag. The `hmac` crate's `zeroize`
    /// feature wipes it on drop.
    per_kind: [HmacSha256; IndexKind::ALL.len()],
}

impl std::fmt::Debug for IndexKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IndexKeys(..)")
    }
}

impl IndexKeys {
    /// The index keys of one version of the `index` class key.
    pub fn new(index_class_key: &ClassKey) -> IndexKeys {
        let key = crypto::DerivedKey::from_bytes(crypto::hmac_sha256(
            index_class_key.expose(),
            &[b"pv1/blind-index"],
        ));
        IndexKeys {
            per_kind: IndexKind::ALL.map(|kind| {
                let per_kind = zeroize::Zeroizing::new(crypto::hmac_sha256(
                    key.expose(),
                    &[b"pv1/blind-index/", kind.label().as_bytes()],
                ));
                <HmacSha256 as hmac::KeyInit>::new_from_slice(&per_kind[..])
                    .expect("HMAC accepts any key length")
            }),
        }
    }

    /// The 128-bit tag of a normalised value (HMAC-SHA256 under a per-kind key, truncated).
    pub fn tag(&self, kind: IndexKind, normalised: &str) -> [u8; 16] {
        use hmac::Mac;
        let mut mac = self.per_kind[kind as usize].clone();
        mac.update(normalised.as_bytes());
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; 16];
        out.copy_from_slice(&full[..16]);
        out
    }
}

/// The prefix to scan for all records with `tag`.
pub(crate) fn prefix(kind: IndexKind, tag: &[u8; 16]) -> Vec<u8> {
    let mut k = Vec::with_capacity(33);
    k.push(kind.code());
    k.extend_from_slice(tag);
    k
}

/// The entry key of `record` under `tag`.
pub(crate) fn entry_key(kind: IndexKind, tag: &[u8; 16], record: &RecordId) -> Vec<u8> {
    let mut k = prefix(kind, tag);
    k.extend_from_slice(&record.0);
    k
}

/// The unique key of an ID-number tag.
pub(crate) fn unique_key(tag: &[u8; 16]) -> Vec<u8> {
    let mut k = Vec::with_capacity(17);
    k.push(UNIQUE);
    k.extend_from_slice(tag);
    k
}

/// Record ids in the keys found under a prefix.
pub(crate) fn ids_from_keys(keys: impl IntoIterator<Item = Vec<u8>>) -> Vec<RecordId> {
    keys.into_iter()
        .filter_map(|k| {
            k.get(17..33)
                .and_then(|s| <[u8; 16]>::try_from(s).ok())
                .map(RecordId)
        })
        .collect()
}

/// Normalises a name for the name index: NFKC, whitespace removed, lowercase.
pub fn normalise_name(name: &str) -> String {
    name.nfkc()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// What a search asks for, already normalised. Building one validates the input.
#[derive(Clone)]
pub struct Query {
    pub(crate) kind: IndexKind,
    pub(crate) normalised: zeroize::Zeroizing<String>,
}

impl std::fmt::Debug for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Query({})", self.kind.as_str())
    }
}

impl Query {
    /// By ID number (18 digits, 15-digit legacy, lowercase x, full-width digits accepted).
    pub fn id_number(input: &str) -> Result<Query, ValidationError> {
        let id = validate::ResidentId::parse(input)?;
        Ok(Query::of(IndexKind::IdNumber, id.as_str().to_owned()))
    }

    /// By phone (mobile in any common format, or landline with area code).
    pub fn phone(input: &str) -> Result<Query, ValidationError> {
        Ok(Query::of(
            IndexKind::Phone,
            validate::normalize_phone(input)?,
        ))
    }

    /// By exact name.
    pub fn name(input: &str) -> Result<Query, ValidationError> {
        let n = normalise_name(input);
        if n.is_empty() {
            return Err(ValidationError {
                field: "name",
                rule: "must not be empty",
            });
        }
        Ok(Query::of(IndexKind::Name, n))
    }

    /// By the last 4 characters of the ID number and the birth year.
    pub fn id_last4(last4: &str, birth_year: i32) -> Result<Query, ValidationError> {
        let l: String = last4
            .nfkc()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_uppercase)
            .collect();
        let ok = l.chars().count() == 4
            && l.chars()
                .enumerate()
                .all(|(i, c)| c.is_ascii_digit() || (i == 3 && c == 'X'));
        if !ok {
            return Err(ValidationError {
                field: "id_last4",
                rule: "must be the last 4 characters of an ID number (digits, the last may be X)",
            });
        }
        if !(1900..=2100).contains(&birth_year) {
            return Err(ValidationError {
                field: "birth_year",
                rule: "must be a year between 1900 and 2100",
            });
        }
        Ok(Query::of(
            IndexKind::IdLast4BirthYear,
            last4_year(&l, birth_year),
        ))
    }

    fn of(kind: IndexKind, normalised: String) -> Query {
        Query {
            kind,
            normalised: zeroize::Zeroizing::new(normalised),
        }
    }

    /// The searched field.
    pub fn kind(&self) -> IndexKind {
        self.kind
    }
}

pub(crate) fn last4_year(last4: &str, year: i32) -> String {
    format!("{last4}|{year:04}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tag is the documented two-step HMAC (SECURITY.md): keying each kind once at
    /// construction must not change a single tag of an existing vault.
    #[test]
    fn tags_follow_the_two_step_formula_for_every_kind() {
        let class = ClassKey::from_bytes([0x42; 32]);
        let keys = IndexKeys::new(&class);
        let index_key = crypto::hmac_sha256(class.expose(), &[b"pv1/blind-index"]);
        for kind in IndexKind::ALL {
            let per_kind =
                crypto::hmac_sha256(&index_key, &[b"pv1/blind-index/", kind.label().as_bytes()]);
            for value in ["11010519491231002X", "13812345678", "", "欧阳娜娜"] {
                let full = crypto::hmac_sha256(&per_kind, &[value.as_bytes()]);
                assert_eq!(keys.tag(kind, value)[..], full[..16], "{kind:?}");
            }
        }
        // a known answer, so that formula and code cannot drift together
        assert_eq!(
            hex::encode(keys.tag(IndexKind::IdNumber, "11010519491231002X")),
            "a26dd8c024cb34afc2c6e23c35aa67bd"
        );
    }

    #[test]
    fn queries_normalise_variants_to_one_value() {
        let a = Query::id_number("11010519491231002X").unwrap();
        let b = Query::id_number("11010519491231002x").unwrap();
        let c = Query::id_number("１１０１０５１９４９１２３１００２Ｘ").unwrap();
        assert_eq!(*a.normalised, *b.normalised);
        assert_eq!(*a.normalised, *c.normalised);
        let p1 = Query::phone("+86 138-1234-5678").unwrap();
        let p2 = Query::phone("13812345678").unwrap();
        assert_eq!(*p1.normalised, *p2.normalised);
        assert_eq!(*Query::name(" 张 三 ").unwrap().normalised, "张三");
        assert_eq!(
            *Query::id_last4("002x", 1949).unwrap().normalised,
            "002X|1949"
        );
        assert!(Query::id_last4("12", 1949).is_err());
        assert!(Query::name("  ").is_err());
        assert!(!format!("{a:?}").contains("1101"));
    }

    #[test]
    fn tags_are_keyed_and_separated_by_kind() {
        let k1 = IndexKeys::new(&ClassKey::from_bytes([1; 32]));
        let k2 = IndexKeys::new(&ClassKey::from_bytes([2; 32]));
        assert_eq!(k1.tag(IndexKind::Name, "x"), k1.tag(IndexKind::Name, "x"));
        assert_ne!(k1.tag(IndexKind::Name, "x"), k2.tag(IndexKind::Name, "x"));
        assert_ne!(k1.tag(IndexKind::Name, "x"), k1.tag(IndexKind::Phone, "x"));
        let id = RecordId([7; 16]);
        let key = entry_key(IndexKind::Name, &k1.tag(IndexKind::Name, "x"), &id);
        assert_eq!(ids_from_keys([key]), vec![id]);
    }
}
