"""Recomputes the format vectors with independent implementations (Python `cryptography`
for HKDF / HMAC / AES-GCM, `argon2-cffi` for Argon2id, hashlib for SHA-256), so the Rust
code is checked against the specification in SECURITY.md, not against itself.

    pip install cryptography argon2-cffi && python3 tests/vectors/check_vectors.py
"""
import hashlib, hmac, os, struct
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives import hashes
from argon2.low_level import hash_secret_raw, Type

HERE = os.path.dirname(os.path.abspath(__file__))

def envelope(class_key, vault_id, table, record_id, field, cls, version, nonce, plaintext):
    info = vault_id + bytes([len(table)]) + table + record_id + bytes([cls]) + struct.pack(">I", version)
    okm = HKDF(algorithm=hashes.SHA256(), length=64, salt=b"petition-vault/v1/record-subkey", info=info).derive(class_key)
    enc, commit_key = okm[:32], okm[32:]
    aad = (b"pv1" + vault_id + bytes([len(table)]) + table + record_id + bytes([len(field)]) + field
           + bytes([cls]) + struct.pack(">I", version) + b"\x01")
    commitment = hmac.new(commit_key, b"pv1/commit" + nonce + aad, hashlib.sha256).digest()
    ct = AESGCM(enc).encrypt(nonce, plaintext, aad)
    return bytes([1, cls]) + struct.pack(">I", version) + nonce + commitment + ct

env = envelope(bytes([7] * 32), bytes([1] * 16), b"petitioner", bytes([2] * 16), b"id_number", 1, 1,
               bytes([3] * 12), b"11010519491231002X")
expected = open(os.path.join(HERE, "envelope_v1.hex")).read().strip()
assert env.hex() == expected, "envelope_v1 mismatch"

kek = hash_secret_raw(b"vector passphrase", bytes([4] * 16), time_cost=1, memory_cost=64, parallelism=1,
                      hash_len=32, type=Type.ID, version=19)
lines = dict(l.split(" ", 1) for l in open(os.path.join(HERE, "keyslot_v2.txt")).read().splitlines())
assert kek.hex() == lines["kek"], "keyslot kek mismatch"
# the wrapped keyring opens under the independently derived KEK, bound to vault 06.., user 07..
slot = bytes.fromhex(lines["slot"])
nonce, body = slot[6:18], slot[50:]
info = bytes([6] * 16) + bytes([7]) + b"keyring" + bytes([7] * 16) + bytes([0]) + struct.pack(">I", 1)
okm = HKDF(algorithm=hashes.SHA256(), length=64, salt=b"petition-vault/v1/record-subkey", info=info).derive(kek)
aad = b"pv1" + bytes([6] * 16) + bytes([7]) + b"keyring" + bytes([7] * 16) + bytes([7]) + b"keyring" + bytes([0]) + struct.pack(">I", 1) + b"\x01"
assert hmac.new(okm[32:], b"pv1/commit" + nonce + aad, hashlib.sha256).digest() == slot[18:50], "keyslot commitment"
plain = AESGCM(okm[:32]).decrypt(nonce, body, aad)
assert plain[0] == 2, "keyring format 2"

entry = bytes.fromhex(open(os.path.join(HERE, "audit_entry_v1.hex")).read().strip())
h = hashlib.sha256(b"pv-audit-v1" + entry[:32] + entry[96:]).hexdigest()
assert h == open(os.path.join(HERE, "audit_entry_v1.hash")).read().strip(), "audit entry hash"
print("all vectors match the independent implementations")
