//! `Scanner::scan` / `redact` on arbitrary UTF-8: never panic; spans lie within the text's
//! characters, are sorted and do not overlap; `redact` replaces exactly the spans `scan`
//! finds. Run with no known entities and with a fixed set of known ones.
#![no_main]

use libfuzzer_sys::fuzz_target;
use petition_vault::redact::{KnownEntities, Level, Scanner, Span};
use std::sync::LazyLock;

static KNOWN: LazyLock<KnownEntities> = LazyLock::new(|| {
    let mut k = KnownEntities::default();
    k.names.push("欧阳娜娜".into());
    k.phones.push("13812345678".into());
    k.phones.push("025-52341234".into());
    k.id_numbers.push("11010519491231002X".into());
    k.addresses
        .push("江苏省南京市江宁区秣陵街道胜太路88号".into());
    k.emails.push("nana.ouyang@example.com".into());
    k
});

fn check(text: &str, spans: &[Span]) {
    let n = text.chars().count();
    for s in spans {
        assert!(s.start < s.end && s.end <= n, "span out of range");
    }
    for w in spans.windows(2) {
        assert!(w[0].end <= w[1].start, "spans unsorted or overlapping");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let scanner = Scanner::global();
    let none = KnownEntities::default();
    for (known, level) in [(&none, Level::Standard), (&*KNOWN, Level::Publication)] {
        let spans = scanner.scan(text, known);
        check(text, &spans);
        let r = scanner.redact(text, level, known);
        assert_eq!(r.spans, spans);
    }
});
