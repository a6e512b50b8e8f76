//! The field envelope (format version 1).
//!
//! ```text
//! offset  size  field
//! 0       1     envelope version (0x01)
//! 1       1     class code (see keyring::Class)
//! 2       4     class key version, big-endian
//! 6       12    AES-GCM nonce (random)
//! 18      32    key commitment = HMAC-SHA256(commit key, "pv1/commit" | nonce | AAD)
//! 50      n+16  AES-256-GCM ciphertext and tag
//! ```
//!
//! Keys: `HKDF-SHA256(salt = "petition-vault/v1/record-subkey", ikm = class key,
//! info = vault id | len | table | record id | class | key version)` gives 64 bytes: the
//! AES key and the commitment key of that record (one derivation serves all the fields of
//! a record in that class).
//!
//! AAD: `"pv1" | vault id (16) | len(table) (1) | table | record id (16) | len(field) (1) |
//! field | class (1) | key version (4, BE) | envelope version (1)`. Every part that could
//! vary is length-prefixed or fixed-size, so two different contexts never give one AAD.
//!
//! The commitment is checked (in constant time) before the AEAD is opened: AES-GCM alone is
//! not key-committing, and an attacker who can choose ciphertexts could otherwise make one
//! that opens under two keys.

use super::{CryptoError, HmacSha256, fill_random};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce, aead::AeadInOut};
use hmac::Mac;
use zeroize::Zeroizing;

/// The envelope format version this build writes and reads.
pub const ENVELOPE_VERSION: u8 = 1;
const HEADER_LEN: usize = 1 + 1 + 4 + 12 + 32;
const TAG_LEN: usize = 16;
/// Bytes an envelope adds to its plaintext.
pub const ENVELOPE_OVERHEAD: usize = HEADER_LEN + TAG_LEN;
const SUBKEY_SALT: &[u8] = b"petition-vault/v1/record-subkey";

/// The context a field ciphertext is bound to.
#[derive(Clone, Copy)]
pub struct FieldAad<'a> {
    /// The vault's random id.
    pub vault_id: &'a [u8; 16],
    /// The table (`petitioner`, `case`, `keyring`, …).
    pub table: &'a str,
    /// The record's random id.
    pub record_id: &'a [u8; 16],
    /// The field name.
    pub field: &'a str,
    /// The class code.
    pub class: u8,
    /// The class key version.
    pub key_version: u32,
}

/// AAD bytes kept on the stack: the vault's own table and field names fit many times over.
const AAD_INLINE: usize = 128;

/// An encoded AAD, on the stack unless its names are unusually long (one is made for every
/// envelope sealed or opened).
enum AadBuf {
    Inline { bytes: [u8; AAD_INLINE], len: usize },
    Heap(Vec<u8>),
}

impl AadBuf {
    fn with_len(len: usize) -> AadBuf {
        if len <= AAD_INLINE {
            AadBuf::Inline {
                bytes: [0; AAD_INLINE],
                len: 0,
            }
        } else {
            AadBuf::Heap(Vec::with_capacity(len))
        }
    }

    fn push(&mut self, more: &[u8]) {
        match self {
            AadBuf::Inline { bytes, len } => {
                bytes[*len..*len + more.len()].copy_from_slice(more);
                *len += more.len();
            }
            AadBuf::Heap(v) => v.extend_from_slice(more),
        }
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            AadBuf::Inline { bytes, len } => &bytes[..*len],
            AadBuf::Heap(v) => v,
        }
    }
}

impl FieldAad<'_> {
    fn encode(&self) -> Result<AadBuf, CryptoError> {
        if self.field.len() > usize::from(u8::MAX) || self.table.len() > usize::from(u8::MAX) {
            return Err(CryptoError::Malformed(
                "field or table name longer than 255 bytes",
            ));
        }
        let mut aad =
            AadBuf::with_len(3 + 16 + 1 + self.table.len() + 16 + 1 + self.field.len() + 6);
        aad.push(b"pv1");
        aad.push(self.vault_id);
        push_short(&mut aad, self.table.as_bytes());
        aad.push(self.record_id);
        push_short(&mut aad, self.field.as_bytes());
        aad.push(&[self.class]);
        aad.push(&self.key_version.to_be_bytes());
        aad.push(&[ENVELOPE_VERSION]);
        Ok(aad)
    }
}

fn push_short(buf: &mut AadBuf, bytes: &[u8]) {
    let len = u8::try_from(bytes.len()).expect("table and field names are short constants");
    buf.push(&[len]);
    buf.push(bytes);
}

/// The parsed header of an envelope (class and key version select the key to open it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvelopeHeader {
    /// Class code.
    pub class: u8,
    /// Class key version.
    pub key_version: u32,
}

impl EnvelopeHeader {
    /// Parses and checks the structure of an envelope without any key.
    pub fn parse(envelope: &[u8]) -> Result<EnvelopeHeader, CryptoError> {
        if envelope.len() < ENVELOPE_OVERHEAD {
            return Err(CryptoError::Malformed("too short"));
        }
        if envelope[0] != ENVELOPE_VERSION {
            return Err(CryptoError::Malformed("unknown envelope version"));
        }
        Ok(EnvelopeHeader {
            class: envelope[1],
            key_version: u32::from_be_bytes(envelope[2..6].try_into().expect("4 bytes")),
        })
    }
}

/// The HKDF of one class key, extracted once: [`SubkeyDeriver::derive`] gives exactly what
/// [`RecordKey::derive`] gives, without repeating the extract step and the keying of the
/// HMAC for every record (an export derives keys for every record it reads). The state is
/// made of SHA-256 cores, wiped on drop (sha2's `zeroize` feature).
#[derive(Clone)]
pub struct SubkeyDeriver {
    hk: hkdf::Hkdf<sha2::Sha256>,
}

impl std::fmt::Debug for SubkeyDeriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubkeyDeriver([redacted])")
    }
}

impl SubkeyDeriver {
    /// Extracts the HKDF pseudo-random key of `class_key`.
    pub fn new(class_key: &super::ClassKey) -> SubkeyDeriver {
        SubkeyDeriver {
            hk: hkdf::Hkdf::<sha2::Sha256>::new(Some(SUBKEY_SALT), class_key.expose()),
        }
    }

    /// Derives the subkeys of record `record_id` of `table`.
    pub fn derive(
        &self,
        vault_id: &[u8; 16],
        table: &'static str,
        record_id: &[u8; 16],
        class: u8,
        key_version: u32,
    ) -> RecordKey {
        let mut okm = Zeroizing::new([0u8; 64]);
        // A longer table name cannot seal or open (`FieldAad::encode` refuses it), so the
        // clamp never makes two usable contexts collide.
        let table_len = [u8::try_from(table.len()).unwrap_or(u8::MAX)];
        self.hk
            .expand_multi_info(
                &[
                    vault_id,
                    &table_len,
                    table.as_bytes(),
                    record_id,
                    &[class],
                    &key_version.to_be_bytes(),
                ],
                okm.as_mut_slice(),
            )
            .expect("64 bytes is a valid HKDF-SHA256 output length");
        let cipher = Aes256Gcm::new_from_slice(&okm[..32]).expect("32-byte key");
        let commit = <HmacSha256 as hmac::KeyInit>::new_from_slice(&okm[32..])
            .expect("HMAC accepts any key length");
        RecordKey {
            cipher,
            commit,
            vault_id: *vault_id,
            table,
            record_id: *record_id,
            class,
            key_version,
        }
    }
}

/// The keys of one record in one class: an AES-256-GCM cipher and a commitment key.
pub struct RecordKey {
    cipher: Aes256Gcm,
    /// HMAC-SHA256 keyed with the commitment key: the hashed padded-key state is computed
    /// once per record key and cloned per envelope (wiped on drop: hmac's `zeroize`).
    commit: HmacSha256,
    vault_id: [u8; 16],
    table: &'static str,
    record_id: [u8; 16],
    class: u8,
    key_version: u32,
}

impl std::fmt::Debug for RecordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordKey([redacted])")
    }
}

impl RecordKey {
    /// Derives the subkeys of record `record_id` of `table` from a class key.
    pub fn derive(
        class_key: &super::ClassKey,
        vault_id: &[u8; 16],
        table: &'static str,
        record_id: &[u8; 16],
        class: u8,
        key_version: u32,
    ) -> RecordKey {
        SubkeyDeriver::new(class_key).derive(vault_id, table, record_id, class, key_version)
    }

    /// The key commitment `HMAC-SHA256(commit key, "pv1/commit" | nonce | AAD)`.
    fn commitment(&self, nonce: &[u8; 12], aad: &[u8]) -> [u8; 32] {
        let mut mac = self.commit.clone();
        mac.update(b"pv1/commit");
        mac.update(nonce);
        mac.update(aad);
        mac.finalize().into_bytes().into()
    }

    fn aad<'a>(&'a self, field: &'a str) -> FieldAad<'a> {
        FieldAad {
            vault_id: &self.vault_id,
            table: self.table,
            record_id: &self.record_id,
            field,
            class: self.class,
            key_version: self.key_version,
        }
    }

    /// Seals one field with a fresh random nonce.
    pub fn seal(&self, field: &str, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; 12];
        fill_random(&mut nonce)?;
        self.seal_with_nonce(field, plaintext, &nonce)
    }

    /// Seals with a given nonce: only for format vectors; a nonce must never repeat under a key.
    pub fn seal_with_nonce(
        &self,
        field: &str,
        plaintext: &[u8],
        nonce: &[u8; 12],
    ) -> Result<Vec<u8>, CryptoError> {
        let aad = self.aad(field).encode()?;
        let aad = aad.as_slice();
        let commitment = self.commitment(nonce, aad);
        let mut out = Vec::with_capacity(ENVELOPE_OVERHEAD + plaintext.len());
        out.push(ENVELOPE_VERSION);
        out.push(self.class);
        out.extend_from_slice(&self.key_version.to_be_bytes());
        out.extend_from_slice(nonce);
        out.extend_from_slice(&commitment);
        out.extend_from_slice(plaintext);
        let tag = self
            .cipher
            .encrypt_inout_detached(&Nonce::from(*nonce), aad, (&mut out[HEADER_LEN..]).into())
            .map_err(|_| CryptoError::Malformed("plaintext longer than AES-GCM allows"))?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Opens one field: structure, then commitment, then the AEAD tag.
    pub fn open(&self, field: &str, envelope: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let header = EnvelopeHeader::parse(envelope)?;
        if header.class != self.class || header.key_version != self.key_version {
            return Err(CryptoError::Open);
        }
        let nonce: [u8; 12] = envelope[6..18].try_into().expect("12 bytes");
        let aad = self.aad(field).encode()?;
        let aad = aad.as_slice();
        let expected = self.commitment(&nonce, aad);
        if !super::ct_eq(&expected, &envelope[18..50]) {
            return Err(CryptoError::Open);
        }
        let body = &envelope[HEADER_LEN..];
        let (ct, tag) = body.split_at(body.len() - TAG_LEN);
        let mut buf = Zeroizing::new(ct.to_vec());
        let tag = aes_gcm::Tag::try_from(tag).map_err(|_| CryptoError::Malformed("tag"))?;
        self.cipher
            .decrypt_inout_detached(&Nonce::from(nonce), aad, buf.as_mut_slice().into(), &tag)
            .map_err(|_| CryptoError::Open)?;
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::super::ClassKey;
    use super::*;

    fn key(class: u8, version: u32, record: u8) -> RecordKey {
        RecordKey::derive(
            &ClassKey::from_bytes([7; 32]),
            &[1; 16],
            "petitioner",
            &[record; 16],
            class,
            version,
        )
    }

    /// One extracted HKDF serves many records and gives each the keys a fresh derivation
    /// gives (the format vector below pins those).
    #[test]
    fn a_reused_deriver_gives_the_keys_of_a_fresh_derivation() {
        let class_key = ClassKey::from_bytes([9; 32]);
        let deriver = SubkeyDeriver::new(&class_key);
        for record in 0..4u8 {
            let fresh = RecordKey::derive(&class_key, &[1; 16], "case", &[record; 16], 3, 2);
            let reused = deriver.derive(&[1; 16], "case", &[record; 16], 3, 2);
            let a = fresh.seal_with_nonce("title", b"x", &[5; 12]).unwrap();
            let b = reused.seal_with_nonce("title", b"x", &[5; 12]).unwrap();
            assert_eq!(a, b);
        }
        assert_eq!(format!("{deriver:?}"), "SubkeyDeriver([redacted])");
    }

    /// Format vector: fixed key, ids and nonce → fixed bytes. A change here is a format
    /// change and needs a new ENVELOPE_VERSION.
    #[test]
    fn envelope_format_vector() {
        let k = key(1, 1, 2);
        let env = k
            .seal_with_nonce("id_number", b"11010519491231002X", &[3; 12])
            .unwrap();
        assert_eq!(env.len(), ENVELOPE_OVERHEAD + 18);
        assert_eq!(&env[..6], &[1, 1, 0, 0, 0, 1]);
        assert_eq!(&env[6..18], &[3; 12]);
        assert_eq!(
            hex::encode(&env),
            include_str!("../../tests/vectors/envelope_v1.hex").trim()
        );
        assert_eq!(&*k.open("id_number", &env).unwrap(), b"11010519491231002X");
    }

    // NIST GCM spec test case 16 (AES-256, 96-bit IV, with AAD): checks the AEAD we build on.
    #[test]
    fn aes256gcm_nist_test_case_16() {
        let key = hex::decode("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
            .unwrap();
        let iv: [u8; 12] = hex::decode("cafebabefacedbaddecaf888")
            .unwrap()
            .try_into()
            .unwrap();
        let pt = hex::decode("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39").unwrap();
        let aad = hex::decode("feedfacedeadbeeffeedfacedeadbeefabaddad2").unwrap();
        let cipher = Aes256Gcm::new_from_slice(&key).unwrap();
        let mut buf = pt.clone();
        let tag = cipher
            .encrypt_inout_detached(&Nonce::from(iv), &aad, buf.as_mut_slice().into())
            .unwrap();
        assert_eq!(
            hex::encode(&buf),
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
        );
        assert_eq!(hex::encode(tag), "76fc6ece0f4e1768cddf8853bb2d551b");
    }

    #[test]
    fn round_trip_and_fresh_nonces() {
        let k = key(2, 1, 5);
        let a = k.seal("name", "张三".as_bytes()).unwrap();
        let b = k.seal("name", "张三".as_bytes()).unwrap();
        assert_ne!(a, b);
        assert_eq!(&*k.open("name", &a).unwrap(), "张三".as_bytes());
    }

    #[test]
    fn moved_ciphertext_fails() {
        let k = key(2, 1, 5);
        let env = k.seal("name", b"x").unwrap();
        // another field of the same record
        assert_eq!(k.open("address", &env), Err(CryptoError::Open));
        // another record
        assert_eq!(key(2, 1, 6).open("name", &env), Err(CryptoError::Open));
        // another class key version claimed in the header
        let mut bumped = env.clone();
        bumped[5] = 2;
        assert_eq!(k.open("name", &bumped), Err(CryptoError::Open));
        // another vault
        let other = RecordKey::derive(
            &ClassKey::from_bytes([7; 32]),
            &[9; 16],
            "petitioner",
            &[5; 16],
            2,
            1,
        );
        assert_eq!(other.open("name", &env), Err(CryptoError::Open));
    }

    #[test]
    fn every_flipped_byte_fails() {
        let k = key(3, 1, 5);
        let env = k.seal("content", b"some complaint text").unwrap();
        for i in 0..env.len() {
            let mut bad = env.clone();
            bad[i] ^= 0x01;
            assert!(
                k.open("content", &bad).is_err(),
                "byte {i} flipped still opened"
            );
        }
        assert!(k.open("content", &env[..env.len() - 1]).is_err());
        assert!(k.open("content", &env[..10]).is_err());
    }
}
