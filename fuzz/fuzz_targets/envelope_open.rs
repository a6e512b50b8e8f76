//! `EnvelopeHeader::parse` and `RecordKey::open` on arbitrary bytes (never panic; never open
//! anything but a genuine envelope), and the seal → open round trip on arbitrary plaintext.
//!
//! The key and ids are those of `tests/vectors/envelope_v1.hex`, so the committed seed opens
//! and the fuzzer starts from the full open path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use petition_vault::crypto::{ClassKey, ENVELOPE_OVERHEAD, EnvelopeHeader, RecordKey};
use std::sync::LazyLock;

static KEY: LazyLock<RecordKey> = LazyLock::new(|| {
    RecordKey::derive(
        &ClassKey::from_bytes([7; 32]),
        &[1; 16],
        "petitioner",
        &[2; 16],
        1,
        1,
    )
});

const FIELDS: [&str; 3] = ["id_number", "name", "content"];

fuzz_target!(|data: &[u8]| {
    let key = &*KEY;

    // 1. Arbitrary bytes as an envelope.
    let header = EnvelopeHeader::parse(data);
    assert_eq!(
        header.is_ok(),
        data.len() >= ENVELOPE_OVERHEAD && data[0] == 1
    );
    for field in FIELDS {
        if let Ok(plain) = key.open(field, data) {
            // Only a genuine envelope opens: sealing the plaintext again with its nonce must
            // give back the very same bytes (the commitment and tag are deterministic).
            let nonce: [u8; 12] = data[6..18].try_into().unwrap();
            assert_eq!(key.seal_with_nonce(field, &plain, &nonce).ok(), Some(data.to_vec()));
        }
    }

    // 2. Arbitrary bytes as plaintext: round trip, and a moved or flipped envelope fails.
    let mut nonce = [0u8; 12];
    let n = data.len().min(12);
    nonce[..n].copy_from_slice(&data[..n]);
    let env = key.seal_with_nonce("content", data, &nonce).expect("short field name");
    assert_eq!(env.len(), data.len() + ENVELOPE_OVERHEAD);
    assert_eq!(&*key.open("content", &env).unwrap(), data);
    assert!(key.open("name", &env).is_err());
    let i = data.first().map_or(0, |&b| usize::from(b)) % env.len();
    let mut bad = env.clone();
    bad[i] ^= 0x80;
    assert!(key.open("content", &bad).is_err());
});
