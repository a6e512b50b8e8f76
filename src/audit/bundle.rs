//! `audit export`: a bundle for offline verification — the vault id, the checkpoint public
//! key, every entry as stored, and the signed checkpoints (including one made at export).
//!
//! File: `"PVAUDIT1"` then the postcard encoding of [`Bundle`]. Entries stay in their stored
//! bytes, so verification recomputes exactly what the vault committed.

use super::Checkpoint;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

const MAGIC: &[u8; 8] = b"PVAUDIT1";

/// An exported audit log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bundle {
    /// The vault.
    pub vault_id: [u8; 16],
    /// The vault's checkpoint public key (as the vault says; pin it with the officer's key).
    pub public_key: [u8; 32],
    /// Every entry, in order, as stored.
    pub entries: Vec<Vec<u8>>,
    /// Signed checkpoints.
    pub checkpoints: Vec<Checkpoint>,
}

/// Writes a bundle.
pub fn write_bundle(bundle: &Bundle, out: &mut impl Write) -> std::io::Result<()> {
    out.write_all(MAGIC)?;
    out.write_all(&postcard::to_stdvec(bundle).expect("bundle serialises"))?;
    out.flush()
}

/// Reads a bundle; a truncated or foreign file is refused with a clear message.
pub fn read_bundle(input: &mut impl Read) -> Result<Bundle, String> {
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .map_err(|e| format!("could not read the bundle: {e}"))?;
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err("not an audit bundle (made by `pvault audit export`)".into());
    }
    postcard::from_bytes(&bytes[MAGIC.len()..])
        .map_err(|_| "the audit bundle is truncated or corrupted".into())
}
