//! The validators on arbitrary UTF-8: never panic; normalising a normalised value gives the
//! same value; an error names only the field and a fixed rule, never the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use petition_vault::model::ResidentId;
use petition_vault::model::validate::{
    ValidationError, normalize_id_number, normalize_mobile, normalize_phone, validate_email,
    validate_name,
};

/// The error text is exactly `invalid {field}: {rule}` (both `&'static str`s, so it cannot
/// depend on the input), and does not contain an input of 4 or more characters. An ASCII
/// input can be part of the fixed text by coincidence (`must`, `7064`), so the substring
/// check is made for inputs with a non-ASCII character (the rule texts are all ASCII).
fn check_error(input: &str, e: &ValidationError) {
    let shown = e.to_string();
    assert_eq!(shown, format!("invalid {}: {}", e.field, e.rule));
    if input.chars().count() >= 4 && !input.is_ascii() {
        let all = format!("{shown} {e:?}");
        assert!(!all.contains(input), "error text contains the input");
    }
}

fn idempotent<F>(input: &str, f: F)
where
    F: Fn(&str) -> Result<String, ValidationError>,
{
    match f(input) {
        Ok(n) => assert_eq!(f(&n), Ok(n.clone()), "not idempotent"),
        Err(e) => check_error(input, &e),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    match ResidentId::parse(s) {
        Ok(id) => {
            let n = id.as_str();
            assert_eq!(n.len(), 18);
            let again = ResidentId::parse(n).expect("a normalised ID parses");
            assert_eq!(again.as_str(), n);
            assert!(again == id);
            assert_eq!(normalize_id_number(s).as_deref(), Ok(n));
        }
        Err(e) => check_error(s, &e),
    }
    idempotent(s, normalize_phone);
    idempotent(s, normalize_mobile);
    if let Ok(m) = normalize_mobile(s) {
        // a mobile is a phone, with the same normal form
        assert_eq!(normalize_phone(s), Ok(m));
    }
    idempotent(s, validate_email);
    idempotent(s, validate_name);
});
