//! # petition-vault
//!
//! An encrypted records vault for petition (信访, letters-and-visits) offices. It keeps
//! petitioners' identities and their case files so that a stolen disk, a curious
//! colleague, a forwarded case or a careless export leaks nothing, and so that every look
//! at a record leaves a trace a compliance officer can check.
//!
//! ## Threat model in brief
//!
//! * **Stolen disk or backup**: only ciphertext envelopes (AES-256-GCM, per-record HKDF
//!   subkeys, AAD binding vault, table, record, field, class and key version, plus a key
//!   commitment), random ids, wrapped keyrings and an access log of ids and codes.
//! * **Curious insider**: a role's keyring holds only the class keys of that role — an
//!   analyst cannot decrypt an ID number even with a debugger. Policy in the one gate adds
//!   assignment, the accused-unit firewall (信访工作条例 Art. 30(3)) and reveal-with-reason.
//! * **Covering tracks**: every access is logged *before* plaintext is returned, in a
//!   hash-chained, forward-secure-MACed log (`verify_audit`).
//! * Out of scope: a host compromised while a session is unlocked; the admin key custodian.
//!
//! ## Use
//!
//! ```no_run
//! use petition_vault::{Vault, VaultOptions, Passphrase, NewPetitioner, SecretText};
//! # fn main() -> Result<(), petition_vault::VaultError> {
//! let vault = Vault::open(std::path::Path::new("./vault"), VaultOptions::default())?;
//! let session = vault.unlock("registrar1", &Passphrase::from("a long passphrase"))?;
//! let id = session.add_petitioner(&NewPetitioner {
//!     name: SecretText::from("张三"),
//!     id_number: SecretText::from("11010519491231002X"),
//!     ..Default::default()
//! })?;
//! let view = session.show_petitioner(id, None)?;
//! println!("{}", view.get("name").map(|f| f.value.expose()).unwrap_or("-"));
//! # Ok(()) }
//! ```
//!
//! The full threat model, key hierarchy and envelope format are in `SECURITY.md`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audit;
pub mod backup;
pub mod crypto;
mod error;
pub mod export;
mod grants;
pub mod hardening;
pub mod import;
pub mod index;
pub mod keyring;
pub mod model;
pub mod policy;
mod recovery;
pub mod redact;
mod session;
pub mod store;
mod vault;
pub mod workflow;

pub use audit::{AuditCommitted, AuditKey, VerifyError, VerifyReport};
pub use crypto::{KdfParams, Passphrase, SecretText};
pub use error::VaultError;
pub use model::{
    CaseMeta, CaseSummary, Channel, NewCase, NewPetitioner, RecordId, RecordView, ShownField, Table,
};
pub use policy::{Action, Class, Role};
pub use session::casework;
pub use session::{ImportReport, MAX_TEXT_CHARS, Reason, Relation, Session};
pub use session::{keys, lifecycle};
pub use vault::{MIN_PASSPHRASE_CHARS, UserInfo, Vault, VaultOptions};
