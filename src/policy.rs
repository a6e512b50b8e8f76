//! Roles, field classes and the permission table (DESIGN.md "Field classes and roles").
//!
//! Cryptography enforces what a role *cannot* hold: a keyring contains only the class keys
//! of its role. This module adds the finer rules the gate checks before anything is
//! decrypted: which actions a role may take, and which classes a read may return.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A field class; each has its own key (and key versions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// id_number, birth_date, gender, ethnicity.
    Identity,
    /// name, phones, address, email.
    Contact,
    /// title, content, demands, accused_unit, notes.
    Content,
    /// Masked renderings and PII-scrubbed content, computed at write time.
    Masked,
    /// case_no, category, channel, status, dates, risk, assignment, links.
    Meta,
    /// The keys of the blind indexes.
    Index,
}

impl Class {
    /// All classes, in code order.
    pub const ALL: [Class; 6] = [
        Class::Identity,
        Class::Contact,
        Class::Content,
        Class::Masked,
        Class::Meta,
        Class::Index,
    ];

    /// The one-byte code written in envelopes and keyrings.
    pub fn code(self) -> u8 {
        match self {
            Class::Identity => 1,
            Class::Contact => 2,
            Class::Content => 3,
            Class::Masked => 4,
            Class::Meta => 5,
            Class::Index => 6,
        }
    }

    /// The class of a code.
    pub fn from_code(code: u8) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Identity => "identity",
            Class::Contact => "contact",
            Class::Content => "content",
            Class::Masked => "masked",
            Class::Meta => "meta",
            Class::Index => "index",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Key custodian: manages users, roles and keys; reads no record through the gate.
    Admin,
    /// 登记员: creates and corrects records.
    Registrar,
    /// 承办人: only cases assigned to them; never a case accusing their own unit.
    Handler,
    /// 领导: all data classes; identity only by an explicit reveal with a reason.
    Supervisor,
    /// 审计/纪检: reads and verifies the audit log; no PII key at all.
    Auditor,
    /// Redacted / pseudonymous exports and statistics only.
    Analyst,
}

impl Role {
    /// All roles.
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Registrar,
        Role::Handler,
        Role::Supervisor,
        Role::Auditor,
        Role::Analyst,
    ];

    /// The classes whose keys this role's keyring holds.
    pub fn key_classes(self) -> &'static [Class] {
        use Class::*;
        match self {
            Role::Admin | Role::Registrar | Role::Supervisor => &Class::ALL,
            Role::Handler => &[Contact, Content, Masked, Meta, Index],
            Role::Auditor => &[Meta],
            Role::Analyst => &[Masked, Meta],
        }
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Registrar => "registrar",
            Role::Handler => "handler",
            Role::Supervisor => "supervisor",
            Role::Auditor => "auditor",
            Role::Analyst => "analyst",
        }
    }

    /// Parses a role name; the error lists the valid ones.
    pub fn parse(s: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(UnknownRole)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown role name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role; use one of: admin, registrar, handler, supervisor, auditor, analyst")]
pub struct UnknownRole;

/// What a session asks to do; the audit log records these codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// Unlock a session with a passphrase.
    Unlock,
    /// Create a vault.
    Init,
    /// Add a user.
    UserAdd,
    /// List users.
    UserList,
    /// Register a petitioner.
    PetitionerAdd,
    /// Read a petitioner.
    PetitionerShow,
    /// Read a petitioner's identity class with a reason (supervisor).
    PetitionerReveal,
    /// Open a case.
    CaseOpen,
    /// Read a case.
    CaseShow,
    /// List cases.
    CaseList,
    /// Assign a case to a handler.
    CaseAssign,
    /// Read the audit log.
    AuditRead,
    /// Search petitioners by a blind index.
    Find,
    /// Export records.
    Export,
    /// Bulk import.
    Import,
    /// Statistics.
    Stats,
    /// Make a signed checkpoint of the audit log.
    AuditCheckpoint,
    /// Export the audit log for offline verification.
    AuditExport,
    /// Build the compliance report.
    AuditReport,
    /// Plant a honey (canary) record.
    CanaryAdd,
    /// Move a case to another status.
    CaseTransition,
    /// Extend a case's handling period.
    CaseExtend,
    /// Record a risk assessment.
    CaseAssess,
    /// Forward a case to a unit.
    CaseForward,
    /// Change one's own passphrase (keyring rewrapped under a new slot).
    Passwd,
    /// Revoke a user: delete their keyring (admin).
    UserRevoke,
    /// Report key versions and how many fields use each.
    KeysStatus,
    /// Add a class-key version and grant it to every holder of the class.
    KeysRotate,
    /// Move fields to the newest class-key version (one entry per batch).
    KeysReencrypt,
    /// Remove a class-key version that no field uses any more.
    KeysRetire,
    /// Create the M-of-N recovery key and its custodian keyring copy.
    RecoverySplit,
    /// Set a new admin passphrase from M recovery shares.
    RecoveryUnlock,
    /// Write a ciphertext backup of the whole vault.
    Backup,
    /// A vault restored from a backup (logged by the restore).
    Restore,
    /// Whole-vault integrity check (values are never returned).
    Check,
    /// Erase a petitioner's personal data, leaving a tombstone.
    PetitionerErase,
    /// List retention candidates (closed cases older than a limit).
    Retention,
}

impl Action {
    /// The snake_case code.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Unlock => "unlock",
            Action::Init => "init",
            Action::UserAdd => "user_add",
            Action::UserList => "user_list",
            Action::PetitionerAdd => "petitioner_add",
            Action::PetitionerShow => "petitioner_show",
            Action::PetitionerReveal => "petitioner_reveal",
            Action::CaseOpen => "case_open",
            Action::CaseShow => "case_show",
            Action::CaseList => "case_list",
            Action::CaseAssign => "case_assign",
            Action::AuditRead => "audit_read",
            Action::Find => "find",
            Action::Export => "export",
            Action::Import => "import",
            Action::Stats => "stats",
            Action::AuditCheckpoint => "audit_checkpoint",
            Action::AuditExport => "audit_export",
            Action::AuditReport => "audit_report",
            Action::CanaryAdd => "canary_add",
            Action::CaseTransition => "case_transition",
            Action::CaseExtend => "case_extend",
            Action::CaseAssess => "case_assess",
            Action::CaseForward => "case_forward",
            Action::Passwd => "passwd",
            Action::UserRevoke => "user_revoke",
            Action::KeysStatus => "keys_status",
            Action::KeysRotate => "keys_rotate",
            Action::KeysReencrypt => "keys_reencrypt",
            Action::KeysRetire => "keys_retire",
            Action::RecoverySplit => "recovery_split",
            Action::RecoveryUnlock => "recovery_unlock",
            Action::Backup => "backup",
            Action::Restore => "restore",
            Action::Check => "check",
            Action::PetitionerErase => "petitioner_erase",
            Action::Retention => "retention",
        }
    }

    /// Every action, in declaration (wire) order.
    pub const ALL: [Action; 37] = [
        Action::Unlock,
        Action::Init,
        Action::UserAdd,
        Action::UserList,
        Action::PetitionerAdd,
        Action::PetitionerShow,
        Action::PetitionerReveal,
        Action::CaseOpen,
        Action::CaseShow,
        Action::CaseList,
        Action::CaseAssign,
        Action::AuditRead,
        Action::Find,
        Action::Export,
        Action::Import,
        Action::Stats,
        Action::AuditCheckpoint,
        Action::AuditExport,
        Action::AuditReport,
        Action::CanaryAdd,
        Action::CaseTransition,
        Action::CaseExtend,
        Action::CaseAssess,
        Action::CaseForward,
        Action::Passwd,
        Action::UserRevoke,
        Action::KeysStatus,
        Action::KeysRotate,
        Action::KeysReencrypt,
        Action::KeysRetire,
        Action::RecoverySplit,
        Action::RecoveryUnlock,
        Action::Backup,
        Action::Restore,
        Action::Check,
        Action::PetitionerErase,
        Action::Retention,
    ];

    /// Parses an action code.
    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s.trim())
    }
}

/// Why policy refused an action. Each is a sentence an officer can act on; none names a
/// value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Denial {
    /// The role may not take this action at all.
    #[error("the {role} role may not do this ({action})")]
    RoleNotPermitted {
        /// The role.
        role: Role,
        /// The action code.
        action: &'static str,
    },
    /// A handler asked for a case not assigned to them.
    #[error("this case is not assigned to you")]
    NotAssigned,
    /// The chosen handler belongs to the unit the case accuses.
    #[error(
        "the chosen handler belongs to the unit this case is about; choose a handler of another unit"
    )]
    AssigneeInAccusedUnit,
    /// Forwarding an accusation to the unit it accuses (信访工作条例 Art. 30(3)).
    #[error("an accusation is never forwarded to the unit it accuses (信访工作条例 Art. 30(3))")]
    ForwardToAccused,
    /// Passing an accuser's identity on.
    #[error("the identity of an accuser is never forwarded (信访工作条例 Art. 30(3))")]
    IdentityOfAccuser,
    /// Identity data needs an explicit reveal with a reason.
    #[error("identity fields need --reveal with --reason")]
    RevealNeedsReason,
}

/// May `role` take `action` at all? (Record-level rules are checked by the gate.)
pub fn permits(role: Role, action: Action) -> Result<(), Denial> {
    use Action::*;
    use Role::*;
    let ok = match action {
        Init | UserAdd | UserList => role == Admin,
        PetitionerAdd | CaseOpen => role == Registrar,
        PetitionerShow | CaseShow | CaseList => role != Admin,
        PetitionerReveal => matches!(role, Registrar | Supervisor),
        CaseAssign => matches!(role, Registrar | Supervisor),
        AuditRead | AuditCheckpoint | AuditExport | AuditReport => matches!(role, Auditor | Admin),
        CanaryAdd => role == Admin,
        CaseTransition | CaseAssess => matches!(role, Registrar | Supervisor | Handler),
        CaseExtend | CaseForward => matches!(role, Registrar | Supervisor),
        Find => matches!(role, Registrar | Handler | Supervisor),
        Export | Stats => matches!(role, Registrar | Supervisor | Analyst),
        Import => role == Registrar,
        Unlock => true,
        Passwd | Check => true,
        UserRevoke | KeysStatus | KeysRotate | KeysReencrypt | KeysRetire | RecoverySplit
        | RecoveryUnlock | Backup | Restore => role == Admin,
        // The admin reads no record, but erasure is the one record action the key custodian
        // may take (it returns no value): a policy exception.
        PetitionerErase => matches!(role, Admin | Supervisor),
        Retention => matches!(role, Admin | Supervisor | Registrar),
    };
    if ok {
        Ok(())
    } else {
        Err(Denial::RoleNotPermitted {
            role,
            action: action.as_str(),
        })
    }
}

/// The classes a read by `role` may return. A supervisor gets `identity` only with a
/// reveal; a handler never holds it.
pub fn readable_classes(role: Role, reveal: bool) -> Vec<Class> {
    use Class::*;
    match role {
        Role::Admin => vec![],
        Role::Registrar => vec![Identity, Contact, Content, Masked, Meta],
        Role::Supervisor if reveal => vec![Identity, Contact, Content, Masked, Meta],
        Role::Supervisor => vec![Contact, Content, Masked, Meta],
        Role::Handler => vec![Contact, Content, Masked, Meta],
        Role::Auditor => vec![Meta],
        Role::Analyst => vec![Masked, Meta],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_classes_match_design_table() {
        assert_eq!(Role::Analyst.key_classes(), &[Class::Masked, Class::Meta]);
        assert_eq!(Role::Auditor.key_classes(), &[Class::Meta]);
        assert!(!Role::Handler.key_classes().contains(&Class::Identity));
        for role in [Role::Registrar, Role::Supervisor, Role::Admin] {
            assert_eq!(role.key_classes(), &Class::ALL);
        }
    }

    #[test]
    fn readable_never_exceeds_held() {
        for role in Role::ALL {
            for reveal in [false, true] {
                for c in readable_classes(role, reveal) {
                    assert!(
                        role.key_classes().contains(&c),
                        "{role} reads {c} it does not hold"
                    );
                }
            }
        }
    }

    #[test]
    fn permission_table() {
        assert!(permits(Role::Admin, Action::PetitionerShow).is_err());
        assert!(permits(Role::Admin, Action::UserAdd).is_ok());
        assert!(permits(Role::Registrar, Action::UserAdd).is_err());
        assert!(permits(Role::Analyst, Action::PetitionerAdd).is_err());
        assert!(permits(Role::Handler, Action::PetitionerReveal).is_err());
        assert!(permits(Role::Supervisor, Action::PetitionerReveal).is_ok());
        assert!(permits(Role::Auditor, Action::AuditRead).is_ok());
        assert!(permits(Role::Handler, Action::AuditRead).is_err());
        for role in Role::ALL {
            assert!(permits(role, Action::Unlock).is_ok());
        }
    }

    #[test]
    fn role_parse() {
        assert_eq!(Role::parse("Handler"), Ok(Role::Handler));
        assert!(
            Role::parse("boss")
                .unwrap_err()
                .to_string()
                .contains("registrar")
        );
    }
}
