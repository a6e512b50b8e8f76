//! Property tests: envelope round trip and tamper detection, masking limits, the scanner's
//! span invariants, normalisation idempotence and the audit entry codec.
//!
//! Two defects these properties found (a panic on long field names, a non-idempotent email
//! normalisation) are fixed; their reproducers stay as regression tests.

use petition_vault::audit::{Entry, Outcome, RecordedEntry};
use petition_vault::crypto::{ClassKey, ENVELOPE_OVERHEAD, EnvelopeHeader, RecordKey};
use petition_vault::model::ResidentId;
use petition_vault::model::validate::{
    normalize_mobile, normalize_phone, validate_email, validate_name,
};
use petition_vault::redact::mask::{
    self, REMOVED, mask_bank_card, mask_id_number, mask_landline, mask_mobile, mask_name,
    mask_phone,
};
use petition_vault::redact::{KnownEntities, Level, Scanner, Span};
use petition_vault::{Action, RecordId, Role};
use proptest::prelude::*;

// ------------------------------------------------------------------ envelope

const TABLES: &[&str] = &["petitioner", "case", "keyring", "t"];

#[derive(Debug, Clone)]
struct Ctx {
    key: [u8; 32],
    vault: [u8; 16],
    table: usize,
    record: [u8; 16],
    class: u8,
    version: u32,
}

impl Ctx {
    fn record_key(&self) -> RecordKey {
        RecordKey::derive(
            &ClassKey::from_bytes(self.key),
            &self.vault,
            TABLES[self.table],
            &self.record,
            self.class,
            self.version,
        )
    }
}

fn ctx() -> impl Strategy<Value = Ctx> {
    (
        any::<[u8; 32]>(),
        any::<[u8; 16]>(),
        0..TABLES.len(),
        any::<[u8; 16]>(),
        any::<u8>(),
        any::<u32>(),
    )
        .prop_map(|(key, vault, table, record, class, version)| Ctx {
            key,
            vault,
            table,
            record,
            class,
            version,
        })
}

/// Field names: arbitrary text, at most 63 chars (≤ 252 bytes; the AAD length prefix is
/// one byte, see `field_name_over_255_bytes_panics`).
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{1,20}",
        ".{0,63}".prop_filter("≤ 255 bytes", |s| s.len() <= 255),
    ]
}

/// One change to the context a ciphertext is bound to.
#[derive(Debug, Clone)]
enum AadChange {
    Vault(usize, u8),
    Table(usize),
    Record(usize, u8),
    Field(String),
    Class(u8),
    Version(u32),
    Key(usize, u8),
}

fn aad_change() -> impl Strategy<Value = AadChange> {
    prop_oneof![
        (0..16usize, 1..=255u8).prop_map(|(i, x)| AadChange::Vault(i, x)),
        (1..TABLES.len()).prop_map(AadChange::Table),
        (0..16usize, 1..=255u8).prop_map(|(i, x)| AadChange::Record(i, x)),
        field_name().prop_map(AadChange::Field),
        (1..=255u8).prop_map(AadChange::Class),
        (1..=u32::MAX).prop_map(AadChange::Version),
        (0..32usize, 1..=255u8).prop_map(|(i, x)| AadChange::Key(i, x)),
    ]
}

/// Which envelope bytes to corrupt.
#[derive(Debug, Clone, Copy)]
enum Region {
    Version,
    Class,
    KeyVersion,
    Nonce,
    Commitment,
    Body,
    Tag,
}

impl Region {
    /// Byte range of the region in an envelope of `len` bytes (None when empty).
    fn range(self, len: usize) -> Option<std::ops::Range<usize>> {
        let r = match self {
            Region::Version => 0..1,
            Region::Class => 1..2,
            Region::KeyVersion => 2..6,
            Region::Nonce => 6..18,
            Region::Commitment => 18..50,
            Region::Body => 50..len - 16,
            Region::Tag => len - 16..len,
        };
        (!r.is_empty()).then_some(r)
    }
}

fn region() -> impl Strategy<Value = Region> {
    prop_oneof![
        Just(Region::Version),
        Just(Region::Class),
        Just(Region::KeyVersion),
        Just(Region::Nonce),
        Just(Region::Commitment),
        Just(Region::Body),
        Just(Region::Tag),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn seal_open_round_trip(
        c in ctx(),
        field in field_name(),
        plaintext in proptest::collection::vec(any::<u8>(), 0..4096),
    ) {
        let k = c.record_key();
        let env = k.seal(&field, &plaintext).unwrap();
        prop_assert_eq!(env.len(), plaintext.len() + ENVELOPE_OVERHEAD);
        let h = EnvelopeHeader::parse(&env).unwrap();
        prop_assert_eq!((h.class, h.key_version), (c.class, c.version));
        prop_assert_eq!(&*k.open(&field, &env).unwrap(), &plaintext[..]);
        // a fresh derivation of the same key opens it too
        prop_assert_eq!(&*c.record_key().open(&field, &env).unwrap(), &plaintext[..]);
    }

    #[test]
    fn any_aad_change_fails_to_open(
        c in ctx(),
        field in field_name(),
        plaintext in proptest::collection::vec(any::<u8>(), 0..256),
        change in aad_change(),
    ) {
        let env = c.record_key().seal(&field, &plaintext).unwrap();
        let mut other = c.clone();
        let mut other_field = field.clone();
        match &change {
            AadChange::Vault(i, x) => other.vault[*i] ^= x,
            AadChange::Table(d) => other.table = (c.table + d) % TABLES.len(),
            AadChange::Record(i, x) => other.record[*i] ^= x,
            AadChange::Field(f) => {
                prop_assume!(*f != field);
                other_field = f.clone();
            }
            AadChange::Class(x) => other.class ^= x,
            AadChange::Version(x) => other.version ^= x,
            AadChange::Key(i, x) => other.key[*i] ^= x,
        }
        prop_assert!(other.record_key().open(&other_field, &env).is_err(), "{:?}", change);
    }

    #[test]
    fn any_envelope_byte_change_fails_to_open(
        c in ctx(),
        field in field_name(),
        plaintext in proptest::collection::vec(any::<u8>(), 0..256),
        region in region(),
        at in any::<prop::sample::Index>(),
        xor in 1..=255u8,
    ) {
        let k = c.record_key();
        let mut env = k.seal(&field, &plaintext).unwrap();
        let Some(range) = region.range(env.len()) else {
            // no body bytes for an empty plaintext
            return Ok(());
        };
        let i = range.start + at.index(range.len());
        env[i] ^= xor;
        prop_assert!(k.open(&field, &env).is_err(), "{:?} byte {}", region, i);
    }

    #[test]
    fn truncated_or_extended_envelope_fails(
        c in ctx(),
        plaintext in proptest::collection::vec(any::<u8>(), 0..256),
        cut in any::<prop::sample::Index>(),
        extra in proptest::collection::vec(any::<u8>(), 1..8),
    ) {
        let k = c.record_key();
        let env = k.seal("content", &plaintext).unwrap();
        let n = cut.index(env.len());
        prop_assert!(k.open("content", &env[..n]).is_err());
        let mut longer = env.clone();
        longer.extend_from_slice(&extra);
        prop_assert!(k.open("content", &longer).is_err());
    }

    #[test]
    fn open_never_panics_on_arbitrary_bytes(
        c in ctx(),
        bytes in proptest::collection::vec(any::<u8>(), 0..128),
    ) {
        let _ = EnvelopeHeader::parse(&bytes);
        prop_assert!(c.record_key().open("name", &bytes).is_err());
    }
}

/// Regression (found by these properties): the AAD carries the field and table length in
/// one byte, and a longer name panicked instead of returning an error.
#[test]
fn field_name_over_255_bytes_is_an_error_not_a_panic() {
    let k = RecordKey::derive(
        &ClassKey::from_bytes([7; 32]),
        &[1; 16],
        "petitioner",
        &[2; 16],
        1,
        1,
    );
    let field = "f".repeat(256);
    let sealed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| k.seal(&field, b"x")));
    assert!(
        matches!(sealed, Ok(Err(_))),
        "seal must refuse a 256-byte field name"
    );
    let env = k.seal("f", b"x").unwrap();
    let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| k.open(&field, &env)));
    assert!(
        matches!(opened, Ok(Err(_))),
        "open must refuse a 256-byte field name"
    );
    assert!(k.seal(&"f".repeat(255), b"x").is_ok());
}

// ------------------------------------------------------------------ masking

/// Characters a masked value may show: everything but the mask character.
fn shown(s: &str) -> usize {
    s.chars().filter(|&c| c != '*').count()
}

/// 18-character ID numbers (digits and a check character; not checksum-validated: masking
/// must not care).
fn id18() -> impl Strategy<Value = String> {
    "[1-9][0-9]{16}[0-9X]"
}

fn mobile11() -> impl Strategy<Value = String> {
    "1[3-9][0-9]{9}"
}

/// A mobile in some of the ways people write one.
fn formatted_mobile() -> impl Strategy<Value = (String, String)> {
    (
        mobile11(),
        0..5usize,
        prop_oneof![Just(""), Just(" "), Just("-")],
    )
        .prop_map(|(m, style, sep)| {
            let grouped = format!("{}{sep}{}{sep}{}", &m[..3], &m[3..7], &m[7..]);
            let text = match style {
                0 => m.clone(),
                1 => grouped,
                2 => format!("+86 {grouped}"),
                3 => format!("0086{m}"),
                _ => m
                    .chars()
                    .map(|c| char::from_u32(u32::from(c) + 0xFEE0).unwrap())
                    .collect(),
            };
            (m, text)
        })
}

const SINGLE: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗";
const COMPOUND: &[&str] = &[
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "慕容", "令狐",
];
/// Given-name characters that are not the second character of any compound surname.
const GIVEN: &str = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉兰";

/// (name, surname)
fn chinese_name() -> impl Strategy<Value = (String, String)> {
    let single: Vec<char> = SINGLE.chars().collect();
    let given: Vec<char> = GIVEN.chars().collect();
    let surname = prop_oneof![
        prop::sample::select(single).prop_map(String::from),
        prop::sample::select(COMPOUND.to_vec()).prop_map(String::from),
    ];
    (
        surname,
        proptest::collection::vec(prop::sample::select(given), 1..=3),
    )
        .prop_map(|(s, g)| (format!("{s}{}", g.iter().collect::<String>()), s))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn id_mask_keeps_first_one_and_last_two(id in id18()) {
        let m = mask_id_number(&id, Level::Standard);
        let c: Vec<char> = id.chars().collect();
        let expected = format!("{}{}{}{}", c[0], "*".repeat(15), c[16], c[17]);
        prop_assert_eq!(m, expected);
        prop_assert_eq!(mask_id_number(&id, Level::Publication), REMOVED);
    }

    #[test]
    fn mobile_mask_keeps_three_and_four((m, text) in formatted_mobile()) {
        let out = mask_mobile(&text, Level::Standard);
        prop_assert_eq!(&out, &format!("{}****{}", &m[..3], &m[7..]));
        prop_assert_eq!(mask_mobile(&text, Level::Publication), REMOVED);
        // a mobile is masked as one when its kind is unknown
        prop_assert_eq!(mask_phone(&text, Level::Standard), out);
    }

    #[test]
    fn name_mask_keeps_only_the_surname((name, surname) in chinese_name()) {
        let total = name.chars().count();
        // compound surnames are recognised in names of three or more characters
        let kept = if surname.chars().count() == 2 && total >= 3 { surname.clone() } else {
            surname.chars().take(1).collect()
        };
        let m = mask_name(&name, Level::Standard);
        prop_assert_eq!(&m, &format!("{kept}{}", "*".repeat(total - kept.chars().count())));
        prop_assert_eq!(mask_name(&name, Level::Publication), format!("{kept}某"));
    }

    /// Whatever the input, no masking rule shows more characters than it allows.
    #[test]
    fn masks_never_show_more_than_their_rule(s in "[^*]{0,40}") {
        prop_assert!(shown(&mask_id_number(&s, Level::Standard)) <= 3);
        prop_assert!(shown(&mask_mobile(&s, Level::Standard)) <= 7);
        prop_assert!(shown(&mask_bank_card(&s, Level::Standard)) <= 8);
        let name = mask_name(&s, Level::Standard);
        prop_assert!(shown(&name) <= 2, "{:?} -> {:?}", s, name);
        prop_assert!(shown(&name) <= 1 || mask::compound_surname(&s).is_some());
        prop_assert_eq!(name.chars().count(), s.trim().chars().count());
    }

    /// Publication level removes numbers entirely.
    #[test]
    fn publication_removes_numbers(s in "[0-9０-９ +()-]{0,30}") {
        for out in [
            mask_id_number(&s, Level::Publication),
            mask_mobile(&s, Level::Publication),
            mask_landline(&s, Level::Publication),
            mask_phone(&s, Level::Publication),
            mask_bank_card(&s, Level::Publication),
        ] {
            prop_assert!(!out.chars().any(|c| c.is_numeric()), "{:?} -> {:?}", s, out);
            prop_assert!(out.is_empty() || out == REMOVED);
        }
    }
}

// ------------------------------------------------------------------ scanner

fn check_spans(text: &str, spans: &[Span]) -> Result<(), TestCaseError> {
    let n = text.chars().count();
    for s in spans {
        prop_assert!(s.start < s.end && s.end <= n, "{:?} in {} chars", s, n);
    }
    for w in spans.windows(2) {
        prop_assert!(w[0].end <= w[1].start, "unsorted or overlapping: {:?}", w);
    }
    Ok(())
}

/// Text that looks like a letter: Chinese, numbers in many shapes, separators, ASCII.
fn letterish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("我叫".to_string()),
        Just("张三".to_string()),
        Just("欧阳娜娜".to_string()),
        Just("王先生".to_string()),
        Just("电话".to_string()),
        Just("微信：".to_string()),
        Just("QQ".to_string()),
        Just("身份证号".to_string()),
        Just("住在江苏省南京市江宁区秣陵街道胜太路88号".to_string()),
        Just("南山区住房和城乡建设局".to_string()),
        Just("京A12345".to_string()),
        Just("a@b.cn".to_string()),
        Just("+86".to_string()),
        Just("，".to_string()),
        Just("。".to_string()),
        "[0-9]{1,19}",
        "[０-９]{1,12}",
        "[ \\-()]{1,3}",
        "[A-Za-z0-9_]{1,10}",
        "[\u{4e00}-\u{9fff}]{1,6}",
        any::<char>().prop_map(String::from),
    ];
    proptest::collection::vec(piece, 0..16).prop_map(|v| v.concat())
}

fn level() -> impl Strategy<Value = Level> {
    prop_oneof![Just(Level::Standard), Just(Level::Publication)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn scanner_spans_are_valid_on_arbitrary_text(text in any::<String>(), lvl in level()) {
        let spans = Scanner::global().scan(&text, &KnownEntities::default());
        check_spans(&text, &spans)?;
        let r = Scanner::global().redact(&text, lvl, &KnownEntities::default());
        prop_assert_eq!(r.spans, spans);
    }

    #[test]
    fn scanner_spans_are_valid_on_letters(text in letterish(), lvl in level()) {
        let mut known = KnownEntities::default();
        known.names.push("欧阳娜娜".into());
        known.phones.push("13812345678".into());
        known.id_numbers.push("11010519491231002X".into());
        for k in [&KnownEntities::default(), &known] {
            let spans = Scanner::global().scan(&text, k);
            check_spans(&text, &spans)?;
            let r = Scanner::global().redact(&text, lvl, k);
            prop_assert_eq!(r.spans, spans);
        }
    }

    /// A mobile or ID number in a sentence disappears entirely at the publication level.
    #[test]
    fn publication_redaction_removes_numbers(
        (m, _) in formatted_mobile(),
        id in valid_id18(),
        pre in prop::sample::select(vec!["我的电话是", "联系方式：", "请拨打", ""]),
        mid in prop::sample::select(vec!["，身份证号", "，证件号码：", "；", "。身份证"]),
        post in prop::sample::select(vec!["。", "，谢谢！", ""]),
    ) {
        let text = format!("{pre}{m}{mid}{id}{post}");
        let out = Scanner::global().redact(&text, Level::Publication, &KnownEntities::default());
        prop_assert!(!out.text.chars().any(|c| c.is_ascii_digit()), "{} -> {}", text, out.text);
    }
}

// ------------------------------------------------------------------ normalisation

/// A valid (checksummed, real birth date) 18-digit ID number.
fn valid_id18() -> impl Strategy<Value = String> {
    id_input_styled(0..1)
}

/// A valid ID number in a random presentation: plain, lower-case x, spaced, full-width.
fn id_input() -> impl Strategy<Value = String> {
    id_input_styled(0..4)
}

fn id_input_styled(styles: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    let provinces = vec![11u32, 32, 44, 51, 65, 91];
    (
        prop::sample::select(provinces),
        0..10_000u32,
        1900..2025i32,
        1..=12u32,
        1..=28u32,
        0..1000u32,
        styles,
    )
        .prop_map(|(p, region, y, m, d, seq, style)| {
            let first17 = format!("{p:02}{region:04}{y:04}{m:02}{d:02}{seq:03}");
            let check = petition_vault::model::validate::id_check_char(&first17).unwrap();
            let full = format!("{first17}{check}");
            match style {
                0 => full,
                1 => full.to_lowercase(),
                2 => format!(" {} {} {} ", &full[..6], &full[6..14], &full[14..]),
                _ => full
                    .chars()
                    .map(|c| char::from_u32(u32::from(c) + 0xFEE0).unwrap())
                    .collect(),
            }
        })
}

fn phone_input() -> impl Strategy<Value = String> {
    prop_oneof![
        formatted_mobile().prop_map(|(_, t)| t),
        "0[1-9][0-9]{1,2}[- ]?[1-9][0-9]{6,7}",
        "\\+86 ?[1-9][0-9]{1,2}[- ]?[1-9][0-9]{6,7}",
        "\\(0[1-9][0-9]{1,2}\\)[1-9][0-9]{6,7}( ?(转|ext|x|#)[0-9]{1,6})?",
        "[0-9 +()\\-]{0,24}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn id_parse_is_idempotent(s in prop_oneof![id_input(), "[0-9xX ]{0,20}".boxed()]) {
        if let Ok(id) = ResidentId::parse(&s) {
            let norm = id.as_str().to_owned();
            prop_assert_eq!(norm.len(), 18);
            let again = ResidentId::parse(&norm).unwrap();
            prop_assert_eq!(again.as_str(), norm.as_str());
            prop_assert_eq!(again, id);
        }
    }

    #[test]
    fn valid_ids_parse(s in id_input()) {
        prop_assert!(ResidentId::parse(&s).is_ok(), "{}", s);
    }

    #[test]
    fn phone_normalisation_is_idempotent(s in phone_input()) {
        if let Ok(n) = normalize_phone(&s) {
            prop_assert_eq!(normalize_phone(&n), Ok(n.clone()));
        }
        if let Ok(n) = normalize_mobile(&s) {
            prop_assert_eq!(normalize_mobile(&n), Ok(n.clone()));
            prop_assert_eq!(normalize_phone(&n), Ok(n.clone()));
        }
    }

    #[test]
    fn formatted_mobiles_normalise((m, text) in formatted_mobile()) {
        prop_assert_eq!(normalize_mobile(&text), Ok(m.clone()));
        prop_assert_eq!(normalize_phone(&text), Ok(m));
    }

    #[test]
    fn name_and_email_normalisation_is_idempotent(s in any::<String>(), e in "[A-Za-z0-9._]{1,12}[@＠][A-Za-z0-9]{1,10}[.。][A-Za-z]{2,6}") {
        if let Ok(n) = validate_name(&s) {
            prop_assert_eq!(validate_name(&n), Ok(n.clone()));
        }
        if let Ok(n) = validate_email(&e) {
            prop_assert_eq!(validate_email(&n), Ok(n.clone()));
        }
    }

    /// Errors name the field and the rule only: never the rejected value. (The inputs hold a
    /// CJK character: an ASCII input such as `must` or `7064` is a substring of a fixed rule
    /// text by coincidence; the first assertion covers those.)
    #[test]
    fn errors_never_echo_the_input(
        s in "[0-9a-zA-Z@. ]{0,10}[\u{4e00}-\u{9fff}][0-9a-zA-Z@.\u{4e00}-\u{9fff}]{2,12}",
    ) {
        let results = [
            ResidentId::parse(&s).map(|_| ()),
            normalize_phone(&s).map(|_| ()),
            normalize_mobile(&s).map(|_| ()),
            validate_email(&s).map(|_| ()),
            validate_name(&s).map(|_| ()),
        ];
        for e in results.into_iter().filter_map(Result::err) {
            let shown = format!("{e} {e:?}");
            prop_assert_eq!(e.to_string(), format!("invalid {}: {}", e.field, e.rule));
            prop_assert!(!shown.contains(&s), "{}", shown);
        }
    }
}

/// Regression (found by these properties): `validate_email` checked the 254-byte limit
/// before lower-casing the domain, and lower-casing can lengthen it (Ⱥ U+023A, 2 bytes →
/// ⱥ U+2C65, 3 bytes), so an accepted address normalised into one the same function then
/// rejected. The limit now applies to the normalised form.
#[test]
fn email_normalisation_idempotent_with_lengthening_lowercase() {
    let input = format!("{}@{}.{}", "a".repeat(64), "Ⱥ".repeat(60), "Ⱥ".repeat(10));
    assert!(input.len() <= 254);
    assert!(
        validate_email(&input).is_err(),
        "its normalised form is 276 bytes"
    );
    let fits = format!("{}@{}.{}", "a".repeat(20), "Ⱥ".repeat(40), "Ⱥ".repeat(10));
    let n = validate_email(&fits).expect("accepted");
    assert_eq!(validate_email(&n), Ok(n.clone()), "{} bytes", n.len());
}

// ------------------------------------------------------------------ audit entries

fn opt_string() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(".{0,24}")
}

fn strings() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(".{0,16}", 0..4)
}

fn record_id() -> impl Strategy<Value = RecordId> {
    any::<[u8; 16]>().prop_map(RecordId)
}

fn entry() -> impl Strategy<Value = Entry> {
    let head = (
        any::<u64>(),
        any::<i64>(),
        any::<[u8; 8]>(),
        ".{0,24}",
        proptest::option::of(prop::sample::select(Role::ALL.to_vec())),
        prop::sample::select(Action::ALL.to_vec()),
        proptest::collection::vec(record_id(), 0..4),
    );
    let tail = (
        strings(),
        strings(),
        opt_string(),
        proptest::option::of(record_id()),
        opt_string(),
        prop_oneof![Just(Outcome::Allowed), Just(Outcome::Denied)],
        opt_string(),
        strings(),
    );
    (head, tail).prop_map(
        |(
            (seq, time_ms, session, actor, role, action, targets),
            (requested, returned, purpose, case_ref, reason, outcome, detail, flags),
        )| Entry {
            seq,
            time_ms,
            session,
            actor,
            role,
            action,
            targets,
            requested,
            returned,
            purpose,
            case_ref,
            reason,
            outcome,
            detail,
            flags,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn audit_entry_codec_round_trip(
        e in entry(),
        prev in any::<[u8; 32]>(),
        hash in any::<[u8; 32]>(),
        mac in any::<[u8; 32]>(),
    ) {
        let r = RecordedEntry { entry: e, prev, hash, mac };
        let bytes = r.encode();
        prop_assert_eq!(&bytes[..32], &prev[..]);
        prop_assert_eq!(&bytes[96..], &r.entry.canonical()[..]);
        let back = RecordedEntry::decode(&bytes).unwrap();
        prop_assert_eq!(&back, &r);
        prop_assert_eq!(back.encode(), bytes);
    }

    #[test]
    fn audit_entry_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Some(r) = RecordedEntry::decode(&bytes) {
            prop_assert_eq!(RecordedEntry::decode(&r.encode()), Some(r));
        }
    }
}
