//! Redaction: masking rules ([`mask`]) and the PII scanner for free text ([`scan`]), with
//! the labelled synthetic corpus that measures it ([`corpus`]).
//!
//! Case text is scrubbed when it is written: the masked rendering of a case's content is
//! stored under the `masked` class, so a redacted export needs neither the identity, the
//! contact nor the content key.

pub mod corpus;
pub mod mask;
pub mod scan;

pub use mask::Level;
pub use scan::{KnownEntities, PiiKind, Redacted, Scanner, Span};

/// Scrubs free text for the masked class at the standard level: every PII span the scanner
/// finds, and every known value of the record's own petitioners, in any formatting.
pub fn scrub_text(text: &str, known: &KnownEntities) -> String {
    Scanner::global().redact(text, Level::Standard, known).text
}

/// Scrubs a free-text reason before it goes into the audit log: at most 200 characters,
/// every PII span removed at the publication level (names become 某, numbers disappear).
pub fn scrub_reason(reason: &str) -> String {
    let trimmed: String = reason.trim().chars().take(200).collect();
    Scanner::global()
        .redact(&trimmed, Level::Publication, &KnownEntities::default())
        .text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_is_scrubbed_of_numbers_and_names() {
        let r = scrub_reason("核实张三身份，电话13812345678，身份证11010519491231002X");
        assert!(
            !r.contains("13812345678") && !r.contains("11010519491231002X"),
            "{r}"
        );
        assert!(r.contains("核实"), "{r}");
    }

    #[test]
    fn known_values_removed_in_any_format() {
        let mut known = KnownEntities::default();
        known.names.push("欧阳娜娜".into());
        known.phones.push("13812345678".into());
        let out = scrub_text("我是欧阳娜娜，电话138 1234 5678。", &known);
        assert!(
            !out.contains("欧阳娜娜") && !out.contains("1234 5678"),
            "{out}"
        );
        assert!(
            out.contains("欧阳"),
            "the standard mask keeps the surname: {out}"
        );
    }
}
