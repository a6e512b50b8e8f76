//! Ed25519-signed checkpoints of the audit log: (vault id, size, head hash, time).
//!
//! A checkpoint kept outside the vault (with the compliance officer) is what catches
//! truncation of the newest entries and the rollback of a whole vault to an older copy:
//! `verify` then finds the log shorter than the checkpoint, or a different entry at its
//! position (a fork). Checkpoints are also made automatically inside the vault every N
//! entries or minutes.
//!
//! Signed message: `"pv-checkpoint-v1" | vault id (16) | size (8, BE) | head (32) | time ms (8, BE)`.
//! File form: one JSON object `{"format":1,"vault_id":hex,"size":n,"head":hex,"time_ms":n,
//! "public_key":hex,"signature":hex}`.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

/// A signed statement "this vault's log had `size` entries ending in `head` at `time_ms`".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Format (1).
    pub format: u8,
    /// The vault.
    #[serde(with = "hex_16")]
    pub vault_id: [u8; 16],
    /// Number of entries covered.
    pub size: u64,
    /// Hash of entry `size - 1` (the genesis hash for size 0).
    #[serde(with = "hex_32")]
    pub head: [u8; 32],
    /// When it was made (unix ms).
    pub time_ms: i64,
    /// The signer's public key (informational: verification uses a pinned key when given).
    #[serde(with = "hex_32")]
    pub public_key: [u8; 32],
    /// Ed25519 signature over the message above.
    #[serde(with = "hex_64")]
    pub signature: [u8; 64],
}

fn message(vault_id: &[u8; 16], size: u64, head: &[u8; 32], time_ms: i64) -> Vec<u8> {
    let mut m = Vec::with_capacity(16 + 16 + 8 + 32 + 8);
    m.extend_from_slice(b"pv-checkpoint-v1");
    m.extend_from_slice(vault_id);
    m.extend_from_slice(&size.to_be_bytes());
    m.extend_from_slice(head);
    m.extend_from_slice(&time_ms.to_be_bytes());
    m
}

impl Checkpoint {
    /// Signs a checkpoint.
    pub(crate) fn sign(
        key: &SigningKey,
        vault_id: [u8; 16],
        size: u64,
        head: [u8; 32],
        time_ms: i64,
    ) -> Checkpoint {
        let sig = key.sign(&message(&vault_id, size, &head, time_ms));
        Checkpoint {
            format: 1,
            vault_id,
            size,
            head,
            time_ms,
            public_key: key.verifying_key().to_bytes(),
            signature: sig.to_bytes(),
        }
    }

    /// Checks the signature under `public_key` (the pinned key; falls back to the embedded
    /// one only when the caller has none).
    pub fn signature_valid(&self, public_key: &[u8; 32]) -> bool {
        let Ok(vk) = VerifyingKey::from_bytes(public_key) else {
            return false;
        };
        let sig = Signature::from_bytes(&self.signature);
        self.format == 1
            && vk
                .verify(
                    &message(&self.vault_id, self.size, &self.head, self.time_ms),
                    &sig,
                )
                .is_ok()
    }

    /// The JSON file form.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("checkpoint serialises")
    }

    /// Parses the JSON file form.
    pub fn from_json(text: &str) -> Result<Checkpoint, String> {
        serde_json::from_str(text).map_err(|e| format!("not a checkpoint file ({e})"))
    }
}

macro_rules! hex_array {
    ($name:ident, $n:expr) => {
        mod $name {
            use serde::{Deserialize, Deserializer, Serializer, de::Error};
            pub fn serialize<S: Serializer>(v: &[u8; $n], s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&hex::encode(v))
            }
            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; $n], D::Error> {
                let text = String::deserialize(d)?;
                let mut out = [0u8; $n];
                hex::decode_to_slice(text.trim(), &mut out).map_err(D::Error::custom)?;
                Ok(out)
            }
        }
    };
}
hex_array!(hex_16, 16);
hex_array!(hex_32, 32);
hex_array!(hex_64, 64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_json_round_trip() {
        let key = SigningKey::from_bytes(&[4; 32]);
        let cp = Checkpoint::sign(&key, [1; 16], 10, [2; 32], 1_700_000_000_000);
        let pk = key.verifying_key().to_bytes();
        assert!(cp.signature_valid(&pk));
        let back = Checkpoint::from_json(&cp.to_json()).unwrap();
        assert_eq!(back, cp);
        let mut forged = cp.clone();
        forged.size = 11;
        assert!(!forged.signature_valid(&pk));
        let other = SigningKey::from_bytes(&[5; 32]).verifying_key().to_bytes();
        assert!(!cp.signature_valid(&other));
        assert!(Checkpoint::from_json("{}").is_err());
    }
}
