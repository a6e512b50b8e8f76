//! Pins what the PII scanner finds: a SHA-256 over every span (kind and char range) of a
//! seeded corpus of synthetic case texts, labelled letters and random splices of both, with
//! and without the record's known values. A change to the scanner that is meant to be a pure
//! speed-up must leave the fingerprint unchanged; a change meant to alter detection updates
//! the constant (and says why in its commit).

use petition_vault::model::synth::{Synth, SynthPerson};
use petition_vault::redact::{KnownEntities, Scanner, corpus};
use sha2::{Digest, Sha256};

/// Recorded with the scanner of commit 1854c7d (before the scanner speed-ups).
const EXPECTED: &str = "71d250edbc70b0190e56c0fe129222a7fe578059cb9bd3c75fb1bce7f84e01b0";

fn known_of(p: &SynthPerson) -> KnownEntities {
    let mut k = KnownEntities::default();
    k.names.push(p.name.clone());
    k.phones.push(p.phone.clone());
    k.id_numbers.push(p.id_number.clone());
    k.addresses.push(p.address.clone());
    if let Some(e) = &p.email {
        k.emails.push(e.clone());
    }
    k
}

/// xorshift64: deterministic splice positions.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn corpus_texts() -> Vec<(String, KnownEntities)> {
    let mut out = Vec::new();
    let mut synth = Synth::new(7);
    for _ in 0..300 {
        let p = synth.person();
        let c = synth.case_for(&p);
        let k = known_of(&p);
        for t in [&c.title, &c.content, &c.demands] {
            out.push((t.clone(), k.clone()));
            out.push((t.clone(), KnownEntities::default()));
        }
    }
    for l in corpus::generate(11, 200) {
        out.push((l.text.clone(), l.known.clone()));
        out.push((l.text.clone(), KnownEntities::default()));
    }
    let pool: Vec<Vec<char>> = out.iter().map(|(t, _)| t.chars().collect()).collect();
    let glue = [
        '，', '：', '。', ' ', '\n', '（', '“', '、', 'X', '1', '号', '某',
    ];
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let mut persons = Synth::new(5);
    for i in 0..600 {
        let mut t = String::new();
        for _ in 0..1 + r.below(4) {
            let src = &pool[r.below(pool.len())];
            if src.is_empty() {
                continue;
            }
            let a = r.below(src.len());
            let b = (a + 1 + r.below(60)).min(src.len());
            t.extend(&src[a..b]);
            if r.below(3) == 0 {
                t.push(glue[r.below(glue.len())]);
            }
        }
        let k = if i % 3 == 0 {
            known_of(&persons.person())
        } else {
            KnownEntities::default()
        };
        out.push((t, k));
    }
    out
}

#[test]
fn scanner_spans_match_the_recorded_fingerprint() {
    let scanner = Scanner::global();
    let texts = corpus_texts();
    let mut h = Sha256::new();
    let mut spans = 0;
    for (i, (t, k)) in texts.iter().enumerate() {
        h.update(format!("{i}").as_bytes());
        for s in scanner.scan(t, k) {
            spans += 1;
            h.update(format!(" {:?}:{}-{}", s.kind, s.start, s.end).as_bytes());
        }
        h.update(b"\n");
    }
    let got = hex::encode(h.finalize());
    assert_eq!(
        (texts.len(), spans, got.as_str()),
        (2800, 3870, EXPECTED),
        "scanner output changed"
    );
}
