//! The library's error type. Every message is a sentence an officer or integrator can act
//! on, and none contains a field value: records are named by their random id only.

use crate::crypto::{CryptoError, SlotError};
use crate::model::{RecordId, ValidationError};
use crate::policy::Denial;
use crate::store::StoreError;
use std::path::PathBuf;

/// What went wrong in a vault operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// Another process has the vault open.
    #[error(
        "vault is in use by another process; close the other pvault or application and try again"
    )]
    InUse,
    /// The folder holds no vault.
    #[error("no vault at {0}; create one with `pvault init --admin NAME` or pass --vault DIR")]
    NotAVault(PathBuf),
    /// The folder is not empty.
    #[error("{0} is not empty; choose a new or empty folder for the vault")]
    AlreadyExists(PathBuf),
    /// The store (a database or schema) already holds a vault.
    #[error("the store already holds a vault; create the new one in an empty database or schema")]
    StoreNotEmpty,
    /// Unknown user or wrong passphrase (deliberately not saying which).
    #[error("wrong user name or passphrase (the attempt was logged)")]
    BadCredentials,
    /// The passphrase is too short.
    #[error("passphrase too short: use at least {0} characters")]
    WeakPassphrase(usize),
    /// Policy refused; the refusal is in the audit log.
    #[error("denied: {0} (the attempt was logged)")]
    Denied(Denial),
    /// No such record, or one the user may not know exists.
    #[error("no such record: {0}")]
    NotFound(RecordId),
    /// A stored ciphertext failed to open.
    #[error(
        "record {id} could not be decrypted ({table}.{field}): tampered, moved from another record, or wrong key"
    )]
    Tampered {
        /// Table.
        table: &'static str,
        /// Record id.
        id: RecordId,
        /// Field or bundle name.
        field: String,
    },
    /// Input failed validation.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// Key-slot parameters refused.
    #[error(transparent)]
    Kdf(#[from] SlotError),
    /// The audit entry could not be committed, so nothing was done or returned.
    #[error("the access log could not be written, so nothing was done or returned: {0}")]
    AuditFailed(StoreError),
    /// Storage failure.
    #[error(transparent)]
    Store(StoreError),
    /// The import file cannot be read.
    #[error("the import file: {0}")]
    ImportFile(#[from] crate::import::ImportError),
    /// Writing an export's output failed (after its audit entry was committed).
    #[error("the export could not be written: {0}; discard the partial output")]
    ExportWrite(std::io::Error),
    /// A petitioner with this ID number is already registered (repeat petition, 重复信访).
    #[error(
        "a petitioner with this ID number is already registered: {existing} ({open_cases} open, {closed_cases} closed case(s)); open the new case on that record"
    )]
    Duplicate {
        /// The existing petitioner.
        existing: RecordId,
        /// Their cases that are still open.
        open_cases: usize,
        /// Their closed cases.
        closed_cases: usize,
    },
    /// A workflow rule refused (transition, deadline, extension).
    #[error("{0}")]
    Workflow(String),
    /// A user of that name exists.
    #[error("a user with that name already exists")]
    UserExists,
    /// No such user.
    #[error("no such user")]
    UnknownUser,
    /// The user name is not acceptable.
    #[error("invalid user name: use 1-64 letters, digits, '.', '_' or '-'")]
    BadUserName,
    /// The vault's own structures failed to decode.
    #[error("vault metadata is corrupted ({0}); restore from a backup")]
    Corrupt(&'static str),
    /// The access log does not verify.
    #[error("the access log does not verify: {0}")]
    AuditInvalid(crate::audit::VerifyError),
    /// A cryptographic primitive failed (random number generator).
    #[error(transparent)]
    Crypto(CryptoError),
    /// A key-lifecycle operation was refused (rotation, retirement, recovery, erasure);
    /// the message says why and what to do.
    #[error("{0}")]
    KeyLifecycle(String),
}

impl From<crate::audit::VerifyError> for VaultError {
    fn from(e: crate::audit::VerifyError) -> Self {
        VaultError::AuditInvalid(e)
    }
}

impl From<StoreError> for VaultError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InUse => VaultError::InUse,
            other => VaultError::Store(other),
        }
    }
}

impl From<CryptoError> for VaultError {
    fn from(e: CryptoError) -> Self {
        VaultError::Crypto(e)
    }
}

impl From<Denial> for VaultError {
    fn from(d: Denial) -> Self {
        VaultError::Denied(d)
    }
}
