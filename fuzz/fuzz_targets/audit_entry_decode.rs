//! `RecordedEntry::decode` on arbitrary bytes: never panics; whatever decodes re-encodes to
//! bytes that decode to the same value, and the re-encoding is a fixed point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use petition_vault::audit::RecordedEntry;

fuzz_target!(|data: &[u8]| {
    if let Some(r) = RecordedEntry::decode(data) {
        let bytes = r.encode();
        // The stored form is links | canonical entry; the links are kept verbatim.
        assert_eq!(&bytes[..96], &data[..96]);
        let back = RecordedEntry::decode(&bytes).expect("an encoded entry decodes");
        assert_eq!(back, r);
        assert_eq!(back.encode(), bytes);
        assert_eq!(&bytes[96..], &r.entry.canonical()[..]);
    }
});
