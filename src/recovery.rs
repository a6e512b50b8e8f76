//! M-of-N recovery of the custodian (admin) keyring.
//!
//! `recovery split` (a session method) makes a random 256-bit recovery key `R`, splits it
//! with Shamir's scheme over GF(256) (blahaj) into N shares of which M rebuild it, and
//! stores the custodian keyring wrapped under `R` (same construction as a passphrase slot,
//! bound to the vault id and a fixed recovery slot id). [`Vault::recover_admin`] rebuilds
//! `R` from M share files, opens that copy, merges the key grants it received since the
//! split, and gives the named admin a new passphrase slot. Fewer than M shares interpolate
//! to an unrelated value, which fails the slot's commitment and AEAD tag.

use crate::audit::{self, Outcome};
use crate::crypto::{Kek, Passphrase};
use crate::error::VaultError;
use crate::grants::{self, RECOVERY_SLOT_ID};
use crate::keyring::Keyring;
use crate::policy::{Action, Role};
use crate::session::keys::{RECOVERY_KEY, RecoveryRecord};
use crate::store::{Tree, WriteSet};
use crate::vault::{Vault, make_user};
use zeroize::Zeroizing;

const SHARE_TAG: &str = "petition-vault recovery share v1";

pub(crate) fn share_text(
    vault_id: &[u8; 16],
    threshold: u8,
    shares: u8,
    share: &blahaj::Share,
) -> Zeroizing<String> {
    let bytes = Zeroizing::new(Vec::<u8>::from(share));
    Zeroizing::new(format!(
        "{SHARE_TAG}\nvault {}\nthreshold {threshold}\nshares {shares}\nshare {}\n",
        hex::encode(vault_id),
        hex::encode(bytes.as_slice())
    ))
}

struct ParsedShare {
    vault_id: [u8; 16],
    threshold: u8,
    share: blahaj::Share,
}

fn parse_share(text: &str) -> Result<ParsedShare, VaultError> {
    let bad = |what: &str| VaultError::KeyLifecycle(format!("not a recovery share file ({what})"));
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    if lines.next() != Some(SHARE_TAG) {
        return Err(bad("first line"));
    }
    let (mut vault_id, mut threshold, mut share) = (None, None, None);
    for line in lines {
        let (k, v) = line.split_once(' ').ok_or_else(|| bad("line"))?;
        match k {
            "vault" => {
                let mut id = [0u8; 16];
                hex::decode_to_slice(v, &mut id).map_err(|_| bad("vault id"))?;
                vault_id = Some(id);
            }
            "threshold" => threshold = Some(v.parse::<u8>().map_err(|_| bad("threshold"))?),
            "shares" => {}
            "share" => {
                let bytes = Zeroizing::new(hex::decode(v).map_err(|_| bad("share"))?);
                share = Some(
                    blahaj::Share::try_from(bytes.as_slice()).map_err(|_| bad("share length"))?,
                );
            }
            _ => return Err(bad("unknown line")),
        }
    }
    match (vault_id, threshold, share) {
        (Some(vault_id), Some(threshold), Some(share)) => Ok(ParsedShare {
            vault_id,
            threshold,
            share,
        }),
        _ => Err(bad("missing vault, threshold or share line")),
    }
}

impl Vault {
    /// Rebuilds the recovery key from share files' texts and gives `admin` a new passphrase
    /// slot holding the recovered custodian keyring (an existing admin of that name is
    /// replaced; a non-admin of that name is refused). Logged either way.
    pub fn recover_admin(
        &self,
        share_texts: &[Zeroizing<String>],
        admin: &str,
        new_passphrase: &Passphrase,
    ) -> Result<(), VaultError> {
        let denied = |detail: &str, err: VaultError| -> VaultError {
            let e = self.entry(
                [0; 8],
                admin,
                Some(Role::Admin),
                Action::RecoveryUnlock,
                Outcome::Denied,
                Some(detail),
            );
            match audit::commit(self.store.as_ref(), &WriteSet::new(), &e, None) {
                Ok(_) => err,
                Err(a) => VaultError::AuditFailed(a),
            }
        };
        let record: RecoveryRecord = match self.store.get(Tree::Meta, RECOVERY_KEY)? {
            Some(b) => {
                postcard::from_bytes(&b).map_err(|_| VaultError::Corrupt("recovery record"))?
            }
            None => {
                return Err(VaultError::KeyLifecycle(
                    "this vault has no recovery key; an admin creates one with `pvault recovery split`"
                        .into(),
                ));
            }
        };
        let mut shares = Vec::new();
        for t in share_texts {
            let s = parse_share(t)?;
            if s.vault_id != self.vault_id {
                return Err(denied(
                    "share_of_other_vault",
                    VaultError::KeyLifecycle("a share belongs to another vault".into()),
                ));
            }
            if s.threshold != record.threshold {
                return Err(denied(
                    "share_of_older_split",
                    VaultError::KeyLifecycle(
                        "a share comes from an older split (threshold differs)".into(),
                    ),
                ));
            }
            // The same share given twice counts once.
            if !shares.iter().any(|x: &blahaj::Share| x.x.0 == s.share.x.0) {
                shares.push(s.share);
            }
        }
        let failed = || {
            VaultError::KeyLifecycle(format!(
                "the shares do not rebuild the recovery key (need {} distinct shares of the current split; the attempt was logged)",
                record.threshold
            ))
        };
        // Recover with a threshold of 1 so that too few shares give a wrong key rather than
        // an early error: either way the slot's tag decides.
        let r = match blahaj::Sharks(1).recover(shares.iter()) {
            Ok(r) if r.len() == 32 => Zeroizing::new(r),
            _ => return Err(denied("recovery_failed", failed())),
        };
        let mut key = [0u8; 32];
        key.copy_from_slice(&r);
        let kek = Kek::from_bytes(key);
        zeroize::Zeroize::zeroize(&mut key);
        let distinct: std::collections::BTreeSet<u8> = shares.iter().map(|s| s.x.0).collect();
        let mut ring =
            match Keyring::unwrap(&record.wrapped, &kek, &self.vault_id, &RECOVERY_SLOT_ID) {
                Ok(k) if distinct.len() >= record.threshold as usize => k,
                _ => return Err(denied("recovery_failed", failed())),
            };
        let mut writes = WriteSet::new();
        if let Some(g) = ring.grant_key().cloned() {
            let (ops, keys, _) = grants::pending(self, &RECOVERY_SLOT_ID, &g)?;
            if !keys.is_empty() {
                grants::apply(&mut ring, ops);
                for k in keys {
                    writes.delete(Tree::Meta, k);
                }
                let updated = RecoveryRecord {
                    wrapped: ring.wrap(&kek, &self.vault_id, &RECOVERY_SLOT_ID)?,
                    ..record
                };
                writes.put(
                    Tree::Meta,
                    RECOVERY_KEY,
                    postcard::to_stdvec(&updated).expect("recovery record serialises"),
                );
            }
        }
        let existing = self.user_record(admin)?;
        if let Some(u) = &existing {
            if u.role != Role::Admin {
                return Err(denied(
                    "not_an_admin",
                    VaultError::KeyLifecycle(
                        "that user is not an admin; recovery sets an admin passphrase only".into(),
                    ),
                ));
            }
            grants::delete_all(self, &u.id, &mut writes)?;
        }
        let unit = existing.and_then(|u| u.unit);
        let rec = make_user(
            &self.vault_id,
            admin,
            Role::Admin,
            unit,
            &ring,
            new_passphrase,
            &self.options,
        )?;
        writes.put(
            Tree::Users,
            admin.as_bytes(),
            postcard::to_stdvec(&rec).expect("user serialises"),
        );
        let e = self.entry(
            [0; 8],
            admin,
            Some(Role::Admin),
            Action::RecoveryUnlock,
            Outcome::Allowed,
            Some(&format!("shares:{}", distinct.len())),
        );
        audit::commit(self.store.as_ref(), &writes, &e, None).map_err(VaultError::AuditFailed)?;
        Ok(())
    }
}
