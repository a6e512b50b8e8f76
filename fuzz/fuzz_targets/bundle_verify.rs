//! `audit::read_bundle` then `audit::verify_bundle` on arbitrary bytes: never panic. A bundle
//! that reads is written back and read again to the same bytes, and verified both without
//! and with the compliance officer's key of the vault the seed bundles came from (so the
//! MAC path is exercised too).
#![no_main]

use libfuzzer_sys::fuzz_target;
use petition_vault::AuditKey;
use petition_vault::audit::{read_bundle, verify_bundle, write_bundle};
use std::sync::LazyLock;

static OFFICER: LazyLock<AuditKey> = LazyLock::new(|| {
    AuditKey::from_text(include_str!("../seeds/officer-key-of-seed-vault.txt"))
        .expect("seed audit key")
});

fuzz_target!(|data: &[u8]| {
    let Ok(bundle) = read_bundle(&mut &data[..]) else {
        return;
    };
    let mut written = Vec::new();
    write_bundle(&bundle, &mut written).unwrap();
    let again = read_bundle(&mut &written[..]).expect("a written bundle reads");
    let mut rewritten = Vec::new();
    write_bundle(&again, &mut rewritten).unwrap();
    assert_eq!(written, rewritten);

    let plain = verify_bundle(&bundle, None, &[]);
    if let Ok(report) = &plain {
        assert_eq!(report.entries, bundle.entries.len() as u64);
        assert!(!report.macs_checked);
    }
    let keyed = verify_bundle(&bundle, Some(&OFFICER), &bundle.checkpoints);
    if keyed.is_ok() {
        // The officer's key only adds checks.
        assert!(plain.is_ok() || bundle.public_key != OFFICER.public_key);
    }
    if let Err(e) = &keyed {
        let _ = (e.to_string(), e.seq());
    }
});
