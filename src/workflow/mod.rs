//! Case workflow rules for petition (信访) records, following the
//! 信访工作条例 (2022; issued by the CPC Central Committee and the State
//! Council on 2022-01-24, in force 2022-05-01).
//!
//! Pure logic only: no storage, no crypto, no I/O beyond parsing a calendar
//! string.
//!
//! * [`status`]: case statuses and the allowed transitions between them
//!   (Art. 22–23 registration and routing, Art. 27–34 handling and reply,
//!   Art. 35 复查, Art. 36 复核).
//! * [`deadline`](mod@deadline): statutory deadlines (Art. 22, 23, 34, 35, 36) over a
//!   calendar of public holidays and 调休 make-up working days.
//! * [`risk`]: a four-dimension risk assessment (风险评估).
//! * [`early_warnings`] (this module): warnings an office should see on a
//!   case (group visits, repeat petitioners, overdue, high risk unassigned).

pub mod deadline;
pub mod risk;
pub mod status;

pub use deadline::{
    Calendar, DayCount, DeadlineKind, DeadlineRules, Extension, check_window, days_left, deadline,
    due_for, due_for_with, extend,
};
pub use risk::{Assessment, Impact, Nature, Organisation, RiskLevel};
pub use status::{Status, check_history, check_transition};

use time::Date;

/// Everything that can go wrong in the workflow rules. Each message says
/// what was wrong and what would be accepted, so a records officer can fix
/// the input without reading the code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    /// A status name that is neither a snake_case English name nor a Chinese
    /// label of any [`Status`].
    #[error("unknown case status \"{input}\"; expected one of: {expected}")]
    UnknownStatus {
        /// The text as given.
        input: String,
        /// The accepted names, with their Chinese labels.
        expected: String,
    },

    /// The transition table ([`Status::allowed_next`]) does not allow this move.
    #[error("cannot move a case from {} to {}; allowed next: {allowed}", from.as_str(), to.as_str())]
    InvalidTransition {
        /// The current status.
        from: Status,
        /// The requested status.
        to: Status,
        /// The statuses allowed after `from`, comma-separated.
        allowed: String,
    },

    /// A case history must begin with [`Status::Registered`] (Art. 22–23:
    /// every petition is registered first).
    #[error(
        "a new case must start as registered (登记), not {} (信访工作条例 Art. 22-23)",
        first.as_str()
    )]
    InvalidStart {
        /// The status the history began with.
        first: Status,
    },

    /// The table allows the move, but the case's history rules it out (for
    /// example a second 复查, or any review after a 复核意见).
    #[error("cannot move this case to {}: {reason}", to.as_str())]
    ReviewNotAvailable {
        /// The requested status.
        to: Status,
        /// Why, citing the article.
        reason: &'static str,
    },

    /// A line of a holiday calendar could not be read.
    #[error("holiday calendar, line {line}: {message}")]
    Calendar {
        /// 1-based line number.
        line: usize,
        /// What is wrong, and what was expected.
        message: String,
    },

    /// An extension of zero days, or of more than 30 days (Art. 34).
    #[error(
        "an extension must be between 1 and 30 days, not {days} (信访工作条例 Art. 34: 延长期限不得超过30日)"
    )]
    ExtensionOutOfRange {
        /// The days requested.
        days: u32,
    },

    /// The handling deadline was already extended; Art. 34 allows one.
    #[error(
        "the handling deadline has already been extended once; 信访工作条例 Art. 34 allows a single extension of at most 30 days"
    )]
    AlreadyExtended,

    /// A request was made after its window closed.
    #[error("{what} on {on} is too late: the window closed on {due} (信访工作条例 {article})")]
    WindowClosed {
        /// What was requested, in English and Chinese.
        what: &'static str,
        /// The date of the request.
        on: Date,
        /// The last day of the window.
        due: Date,
        /// The article that sets the window.
        article: &'static str,
    },

    /// A request dated before the event that opens its window.
    #[error("{what} on {on} is dated before the window opened on {start}; check the dates")]
    WindowNotOpen {
        /// What was requested, in English and Chinese.
        what: &'static str,
        /// The date of the request.
        on: Date,
        /// The date the window starts counting from.
        start: Date,
    },

    /// A value for a risk dimension or level that was not recognised.
    #[error("unknown {what} \"{input}\"; expected one of: {expected}")]
    UnknownValue {
        /// Which field (e.g. "risk level").
        what: &'static str,
        /// The text as given.
        input: String,
        /// The accepted values.
        expected: &'static str,
    },
}

/// Headcount at which a visit counts as a group visit (集体访). The
/// 信访工作条例 (Art. 19; the article number is from memory and has not
/// been checked against the official text) requires several people raising
/// a common matter in person to choose representatives, at most 5. By
/// common practice offices treat a visit of 5 or more as a group visit.
pub const GROUP_VISIT_THRESHOLD: u32 = 5;

/// Petitions by the same person within [`REPEAT_WINDOW_DAYS`] that make them
/// a repeat petitioner (重复信访). Office practice, not set by the regulation.
pub const REPEAT_PETITION_THRESHOLD: u32 = 3;

/// The look-back window for [`REPEAT_PETITION_THRESHOLD`], in days.
pub const REPEAT_WINDOW_DAYS: u32 = 90;

/// What [`early_warnings`] looks at for a single case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarningInput {
    /// Number of people who took part in the petition (1 for one person).
    pub headcount: u32,
    /// Petitions by the same petitioner in the last 90 days, counting this one.
    pub petitions_by_same_person_in_90_days: u32,
    /// Whether a statutory deadline of the case has passed unmet.
    pub is_overdue: bool,
    /// The case's assessed risk level (see [`risk::Assessment::level`]).
    pub risk: RiskLevel,
    /// Whether the case has an assigned responsible unit or officer.
    pub is_assigned: bool,
}

/// An early warning (预警) raised on a case.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Warning {
    /// Five or more people ([`GROUP_VISIT_THRESHOLD`]; see Art. 19 on
    /// representatives for group visits).
    GroupVisit,
    /// Three or more petitions by the same person in 90 days (office practice).
    RepeatPetitioner,
    /// A statutory deadline has passed (Art. 22–23, 34–36).
    Overdue,
    /// High or critical risk, and nobody has been assigned to the case.
    HighRiskUnassigned,
}

impl Warning {
    /// Every warning, in the order [`early_warnings`] reports them.
    pub const ALL: [Warning; 4] = [
        Warning::GroupVisit,
        Warning::RepeatPetitioner,
        Warning::Overdue,
        Warning::HighRiskUnassigned,
    ];

    /// Stable snake_case code, e.g. `group_visit`.
    pub fn code(self) -> &'static str {
        match self {
            Warning::GroupVisit => "group_visit",
            Warning::RepeatPetitioner => "repeat_petitioner",
            Warning::Overdue => "overdue",
            Warning::HighRiskUnassigned => "high_risk_unassigned",
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Warning::GroupVisit => "集体访",
            Warning::RepeatPetitioner => "重复信访",
            Warning::Overdue => "超期未办结",
            Warning::HighRiskUnassigned => "高风险未落实责任人",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Warning::GroupVisit => "group visit (5 or more people)",
            Warning::RepeatPetitioner => "repeat petitioner (3 or more in 90 days)",
            Warning::Overdue => "overdue",
            Warning::HighRiskUnassigned => "high risk, not assigned",
        }
    }
}

/// The early warnings for one case, in the order of [`Warning::ALL`]:
///
/// | warning | raised when |
/// | --- | --- |
/// | `group_visit` | `headcount >= 5` |
/// | `repeat_petitioner` | `petitions_by_same_person_in_90_days >= 3` |
/// | `overdue` | `is_overdue` |
/// | `high_risk_unassigned` | risk is `high` or `critical` and `!is_assigned` |
pub fn early_warnings(input: &WarningInput) -> Vec<Warning> {
    let mut out = Vec::new();
    if input.headcount >= GROUP_VISIT_THRESHOLD {
        out.push(Warning::GroupVisit);
    }
    if input.petitions_by_same_person_in_90_days >= REPEAT_PETITION_THRESHOLD {
        out.push(Warning::RepeatPetitioner);
    }
    if input.is_overdue {
        out.push(Warning::Overdue);
    }
    if input.risk >= RiskLevel::High && !input.is_assigned {
        out.push(Warning::HighRiskUnassigned);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiet() -> WarningInput {
        WarningInput {
            headcount: 1,
            petitions_by_same_person_in_90_days: 1,
            is_overdue: false,
            risk: RiskLevel::Low,
            is_assigned: true,
        }
    }

    #[test]
    fn no_warnings_for_a_quiet_case() {
        assert!(early_warnings(&quiet()).is_empty());
    }

    #[test]
    fn group_visit_from_five() {
        let four = WarningInput {
            headcount: 4,
            ..quiet()
        };
        let five = WarningInput {
            headcount: 5,
            ..quiet()
        };
        assert!(early_warnings(&four).is_empty());
        assert_eq!(early_warnings(&five), vec![Warning::GroupVisit]);
    }

    #[test]
    fn repeat_petitioner_from_three() {
        let two = WarningInput {
            petitions_by_same_person_in_90_days: 2,
            ..quiet()
        };
        let three = WarningInput {
            petitions_by_same_person_in_90_days: 3,
            ..quiet()
        };
        assert!(early_warnings(&two).is_empty());
        assert_eq!(early_warnings(&three), vec![Warning::RepeatPetitioner]);
    }

    #[test]
    fn overdue() {
        let w = WarningInput {
            is_overdue: true,
            ..quiet()
        };
        assert_eq!(early_warnings(&w), vec![Warning::Overdue]);
    }

    #[test]
    fn high_risk_unassigned_only_for_high_and_critical() {
        for (risk, expect) in [
            (RiskLevel::Low, false),
            (RiskLevel::Medium, false),
            (RiskLevel::High, true),
            (RiskLevel::Critical, true),
        ] {
            let unassigned = WarningInput {
                risk,
                is_assigned: false,
                ..quiet()
            };
            let assigned = WarningInput {
                risk,
                is_assigned: true,
                ..quiet()
            };
            assert_eq!(
                early_warnings(&unassigned).contains(&Warning::HighRiskUnassigned),
                expect,
                "{risk:?}"
            );
            assert!(early_warnings(&assigned).is_empty());
        }
    }

    #[test]
    fn all_warnings_together_in_order() {
        let w = WarningInput {
            headcount: 60,
            petitions_by_same_person_in_90_days: 4,
            is_overdue: true,
            risk: RiskLevel::Critical,
            is_assigned: false,
        };
        assert_eq!(early_warnings(&w), Warning::ALL.to_vec());
    }

    #[test]
    fn codes_and_labels() {
        let codes: Vec<_> = Warning::ALL.iter().map(|w| w.code()).collect();
        assert_eq!(
            codes,
            [
                "group_visit",
                "repeat_petitioner",
                "overdue",
                "high_risk_unassigned"
            ]
        );
        for w in Warning::ALL {
            assert!(!w.label_zh().is_empty() && !w.label_en().is_empty());
        }
    }

    #[test]
    fn error_messages_are_actionable() {
        let e = check_transition(Status::Replied, Status::Handling).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot move a case from replied to handling; allowed next: closed, review_requested"
        );
        let e = extend(
            time::macros::date!(2026 - 03 - 02),
            31,
            false,
            Calendar::builtin(),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("between 1 and 30 days, not 31"),
            "{e}"
        );
    }
}
