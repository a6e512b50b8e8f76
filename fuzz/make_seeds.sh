#!/usr/bin/env bash
# Makes the bundle_verify seeds: a small real vault (test-only KDF), a few accesses, and its
# exported audit bundles, plus the compliance officer's key of that vault (seeds/, used by
# the bundle_verify target to check MACs). Synthetic data only. The bundles embed random
# ids and keys, so a rerun gives different (equally valid) seeds.
# Run from the repository root: bash fuzz/make_seeds.sh
set -euo pipefail
cargo build --quiet --bin pvault --features insecure-test-kdf
PV="$PWD/target/debug/pvault"
OUT="$PWD/fuzz"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PVAULT_DIR="$tmp/vault" PVAULT_INSECURE_TEST_KDF=1
admin() { PVAULT_PASSPHRASE="fuzz seed admin passphrase" "$PV" --user admin "$@"; }
reg() { PVAULT_PASSPHRASE="fuzz seed registrar passphrase" "$PV" --user reg "$@"; }
aud() { PVAULT_PASSPHRASE="fuzz seed auditor passphrase" "$PV" --user aud "$@"; }

PVAULT_NEW_PASSPHRASE="fuzz seed admin passphrase" \
  "$PV" init --admin admin --audit-key-out "$tmp/officer.audit-key" >/dev/null
PVAULT_NEW_PASSPHRASE="fuzz seed auditor passphrase" admin user add aud --role auditor --unit 纪委 >/dev/null
aud audit export --out "$tmp/init.bundle" >/dev/null
PVAULT_NEW_PASSPHRASE="fuzz seed registrar passphrase" admin user add reg --role registrar --unit 信访局 >/dev/null
id=$(reg --json petitioner add --name 张伟 --id-number 44030519900101123X --phone 13987654321 \
  | grep -o '[0-9a-f]\{32\}' | head -1)
reg petitioner show "$id" >/dev/null
reg petitioner show "$id" --reveal --reason "核实身份" >/dev/null
PVAULT_PASSPHRASE=wrong "$PV" --user reg petitioner show "$id" >/dev/null 2>&1 || true
aud audit checkpoint --out "$tmp/cp.json" >/dev/null
aud audit export --out "$tmp/small.bundle" >/dev/null

mkdir -p "$OUT/corpus/bundle_verify" "$OUT/seeds"
cp "$tmp/init.bundle" "$OUT/corpus/bundle_verify/init"
cp "$tmp/small.bundle" "$OUT/corpus/bundle_verify/small"
cp "$tmp/officer.audit-key" "$OUT/seeds/officer-key-of-seed-vault.txt"
ls -l "$OUT/corpus/bundle_verify"
