//! The case workflow through the gate: status transitions, statutory deadlines, the one
//! extension, risk assessment, forwarding, due lists and early warnings
//! (信访工作条例 2022; the rules themselves are in [`crate::workflow`]).

use super::{RecordDenial, Session, StoredRecord, canary_flag};
use crate::audit::Outcome;
use crate::crypto::SecretText;
use crate::error::VaultError;
use crate::model::{
    self, CaseMeta, CaseSummary, MASKED_BUNDLE, META_BUNDLE, MaskedBundle, RecordId, StatusChange,
    Table,
};
use crate::policy::{Action, Class, Denial, Role};
use crate::redact::{self, KnownEntities, Level};
use crate::store::WriteSet;
use crate::vault::now_ms;
use crate::workflow::deadline::{self, Calendar, DeadlineKind, DeadlineRules};
use crate::workflow::risk::{Assessment, RiskLevel};
use crate::workflow::{self, Status, Warning, WarningInput};
use serde::Serialize;
use std::collections::HashMap;
use time::Date;

/// China Standard Time: the offices' calendar.
fn cst() -> time::UtcOffset {
    time::UtcOffset::from_hms(8, 0, 0).expect("valid offset")
}

/// The office-local date of a unix-ms time.
pub fn local_date(ms: i64) -> Date {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| t.to_offset(cst()).date())
        .unwrap_or(time::Date::MIN)
}

/// Today in China Standard Time.
pub fn today() -> Date {
    local_date(now_ms())
}

/// The next statutory deadline of a case in its current status, if the office owes one:
/// the acceptance decision (15 days from receipt, Art. 22–23), the reply (60 days from
/// acceptance, + the granted extension, Art. 34), a review or re-review decision (30 days,
/// Art. 35–36), or the follow-up (回头看) after closing.
pub fn next_due(meta: &CaseMeta, cal: &Calendar) -> Option<(DeadlineKind, Date)> {
    let rules = DeadlineRules::default();
    let from = |s: Status| meta.entered(s).map(local_date);
    match meta.status {
        Status::Registered => Some((
            DeadlineKind::AcceptanceDecision,
            deadline::due_for_with(
                DeadlineKind::AcceptanceDecision,
                local_date(meta.received_at),
                &rules,
                cal,
            ),
        )),
        Status::Accepted | Status::Assigned | Status::Forwarded | Status::Handling => {
            let accepted = from(Status::Accepted)?;
            let due = deadline::due_for_with(DeadlineKind::Handling, accepted, &rules, cal);
            Some(match &meta.extension {
                Some(ext) => (
                    DeadlineKind::HandlingExtended,
                    deadline::extend(due, ext.days, false, cal).unwrap_or(due),
                ),
                None => (DeadlineKind::Handling, due),
            })
        }
        Status::ReviewRequested => {
            let start = from(Status::ReviewRequested)?;
            Some((
                DeadlineKind::ReviewDecision,
                deadline::due_for_with(DeadlineKind::ReviewDecision, start, &rules, cal),
            ))
        }
        Status::ReReviewRequested => {
            let start = from(Status::ReReviewRequested)?;
            Some((
                DeadlineKind::ReReviewDecision,
                deadline::due_for_with(DeadlineKind::ReReviewDecision, start, &rules, cal),
            ))
        }
        Status::Closed => {
            let start = from(Status::Closed)?;
            Some((
                DeadlineKind::FollowUp,
                deadline::due_for_with(DeadlineKind::FollowUp, start, &rules, cal),
            ))
        }
        Status::NotAccepted | Status::Replied | Status::ReviewDecided | Status::ReReviewDecided => {
            None
        }
    }
}

/// For each petitioner, the number of cases received at or after `since` that name them
/// (a case naming someone twice counts once): one pass over the cases, where counting
/// per listed case made `case list` quadratic in the number of cases.
fn petitions_since(all: &[(RecordId, CaseMeta)], since: i64) -> HashMap<RecordId, u32> {
    let mut counts: HashMap<RecordId, u32> = HashMap::new();
    for (_, meta) in all.iter().filter(|(_, m)| m.received_at >= since) {
        for (i, p) in meta.petitioner_ids.iter().enumerate() {
            if !meta.petitioner_ids[..i].contains(p) {
                *counts.entry(*p).or_default() += 1;
            }
        }
    }
    counts
}

/// Whether a case has missed a statutory deadline (a follow-up is never "overdue").
pub fn is_overdue(meta: &CaseMeta, cal: &Calendar, today: Date) -> bool {
    matches!(next_due(meta, cal), Some((kind, due)) if kind != DeadlineKind::FollowUp && today > due)
}

/// One line of `case due`.
#[derive(Debug, Clone, Serialize)]
pub struct DueItem {
    /// The case.
    #[serde(skip)]
    pub case: CaseSummary,
    /// What is due.
    pub kind: DeadlineKind,
    /// By when (office-local date).
    #[serde(serialize_with = "iso_date")]
    pub due: Date,
    /// Days left (negative: overdue).
    pub days_left: i64,
}

fn iso_date<S: serde::Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&d.to_string())
}

/// Filters for [`Session::list_cases_where`].
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Only cases past a statutory deadline.
    pub overdue: bool,
    /// Only this status.
    pub status: Option<Status>,
    /// Only cases assigned to this handler.
    pub assigned_to: Option<String>,
    /// Only cases assessed at this risk level or above.
    pub risk: Option<RiskLevel>,
    /// Only cases with an early warning.
    pub warnings: bool,
}

/// A forwarding package (转送/交办): what goes to the receiving unit. Its `Debug` prints the
/// case number and unit only (the package can carry a petitioner's name and phone).
#[derive(Clone, Serialize)]
pub struct ForwardPackage {
    /// Case number.
    pub case_no: String,
    /// Receiving unit.
    pub to_unit: String,
    /// Category.
    pub category: String,
    /// Channel.
    pub channel: String,
    /// Received (office-local date).
    pub received: String,
    /// Title, scrubbed.
    pub title: String,
    /// Complaint text, scrubbed of every PII span and the petitioners' own values.
    pub content: String,
    /// Demands, scrubbed.
    pub demands: String,
    /// Petitioners: masked renderings, or full name and phone when identity is included.
    pub petitioners: Vec<serde_json::Value>,
    /// Whether identity was included.
    pub identity_included: bool,
}

impl std::fmt::Debug for ForwardPackage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForwardPackage")
            .field("case_no", &self.case_no)
            .field("to_unit", &self.to_unit)
            .field("identity_included", &self.identity_included)
            .finish_non_exhaustive()
    }
}

impl Session<'_> {
    /// Loads a case for a workflow action, enforcing the firewall and assignment.
    fn case_for(
        &self,
        action: Action,
        id: RecordId,
    ) -> Result<(StoredRecord, CaseMeta), VaultError> {
        self.require_on(action, &[id])?;
        let Some(rec) = self.load(Table::Case, &id)? else {
            return Err(self.resolve_denial(action, id, RecordDenial::NotFound));
        };
        let meta = self.case_meta(&id, &rec)?;
        if let Err(d) = self.authorize_case(&meta) {
            return Err(self.resolve_denial(action, id, d));
        }
        Ok((rec, meta))
    }

    /// Re-seals meta (and the record) and commits it with `entry`.
    fn save_case(
        &self,
        id: RecordId,
        mut rec: StoredRecord,
        meta: &CaseMeta,
        entry: &crate::audit::Entry,
    ) -> Result<(), VaultError> {
        rec.set(
            META_BUNDLE,
            self.seal_bundle(Table::Case, &id, Class::Meta, META_BUNDLE, meta)?,
        );
        let mut writes = WriteSet::new();
        self.put_record(&mut writes, Table::Case, &id, &rec);
        self.commit(&writes, entry)?;
        Ok(())
    }

    /// Moves a case to `to` (registrar, supervisor; an assigned handler may move it to
    /// handling or replied). Illegal transitions are refused with the allowed ones named. A
    /// note is appended to the case's encrypted notes (scrubbed in its masked rendering).
    pub fn transition(
        &self,
        id: RecordId,
        to: Status,
        note: Option<&str>,
    ) -> Result<Status, VaultError> {
        self.retrying(|| self.transition_once(id, to, note))
    }

    fn transition_once(
        &self,
        id: RecordId,
        to: Status,
        note: Option<&str>,
    ) -> Result<Status, VaultError> {
        let (mut rec, mut meta) = self.case_for(Action::CaseTransition, id)?;
        if self.user.role == Role::Handler && !matches!(to, Status::Handling | Status::Replied) {
            return Err(self.deny(
                Action::CaseTransition,
                vec![id],
                VaultError::Denied(Denial::RoleNotPermitted {
                    role: self.user.role,
                    action: "case_transition (handlers move cases to handling or replied)",
                }),
                "role",
            ));
        }
        let history: Vec<Status> = meta.history.iter().map(|c| c.status).collect();
        if let Err(e) = workflow::status::check_history(&history, to) {
            return Err(self.deny(
                Action::CaseTransition,
                vec![id],
                VaultError::Workflow(e.to_string()),
                "illegal_transition",
            ));
        }
        let from = meta.status;
        if let Some(note) = note.map(str::trim).filter(|n| !n.is_empty()) {
            self.append_note(&id, &mut rec, &meta, to, note)?;
        }
        meta.status = to;
        meta.history.push(StatusChange {
            status: to,
            at_ms: now_ms(),
            by: self.user.name.clone(),
        });
        let mut e = self.entry(
            Action::CaseTransition,
            Outcome::Allowed,
            Some(&format!("{}->{}", from.as_str(), to.as_str())),
        );
        e.targets = vec![id];
        e.flags = canary_flag(meta.canary);
        self.save_case(id, rec, &meta, &e)?;
        Ok(to)
    }

    fn append_note(
        &self,
        id: &RecordId,
        rec: &mut StoredRecord,
        meta: &CaseMeta,
        to: Status,
        note: &str,
    ) -> Result<(), VaultError> {
        if note.chars().count() > 5000 {
            return Err(VaultError::Invalid(model::ValidationError {
                field: "note",
                rule: "must be at most 5000 characters",
            }));
        }
        let existing = match rec.envelope("notes") {
            Some(env) => self
                .open_envelope(Table::Case, id, "notes", Class::Content, env)?
                .and_then(SecretText::from_utf8)
                .map(|t| t.expose().to_owned())
                .unwrap_or_default(),
            None => String::new(),
        };
        let line = format!("[{} {}] {}", today(), to.as_str(), note);
        let notes = if existing.is_empty() {
            line
        } else {
            format!("{existing}\n{line}")
        };
        let key = self.current_record_key(Table::Case, id, Class::Content)?;
        rec.set("notes", key.seal("notes", notes.as_bytes())?);
        // the masked rendering follows, scrubbed with the petitioners' own values
        let mut known = KnownEntities::default();
        for pid in &meta.petitioner_ids {
            if let Some(prec) = self.load(Table::Petitioner, pid)? {
                self.collect_known(pid, &prec, &mut known)?;
            }
        }
        let mut masked: MaskedBundle = self
            .open_bundle(Table::Case, id, rec, MASKED_BUNDLE)?
            .unwrap_or_default();
        masked.fields.retain(|(n, _)| n != "notes");
        masked
            .fields
            .push(("notes".into(), redact::scrub_text(&notes, &known)));
        rec.set(
            MASKED_BUNDLE,
            self.seal_bundle(Table::Case, id, Class::Masked, MASKED_BUNDLE, &masked)?,
        );
        Ok(())
    }

    /// Extends the handling period once, by at most 30 days, with a reason (Art. 34;
    /// registrar, supervisor).
    pub fn extend_case(
        &self,
        id: RecordId,
        days: u32,
        reason: &super::Reason,
    ) -> Result<Date, VaultError> {
        self.retrying(|| self.extend_case_once(id, days, reason))
    }

    fn extend_case_once(
        &self,
        id: RecordId,
        days: u32,
        reason: &super::Reason,
    ) -> Result<Date, VaultError> {
        let (rec, mut meta) = self.case_for(Action::CaseExtend, id)?;
        if !matches!(
            meta.status,
            Status::Accepted | Status::Assigned | Status::Forwarded | Status::Handling
        ) {
            return Err(VaultError::Workflow(format!(
                "only a case being handled can be extended (this one is {})",
                meta.status.as_str()
            )));
        }
        let cal = Calendar::builtin();
        let (_, original) = next_due(
            &CaseMeta {
                extension: None,
                ..meta.clone()
            },
            cal,
        )
        .ok_or_else(|| VaultError::Workflow("the case has no handling deadline yet".into()))?;
        let new_due = deadline::extend(original, days, meta.extension.is_some(), cal)
            .map_err(|e| VaultError::Workflow(e.to_string()))?;
        meta.extension = Some(model::ExtensionRecord {
            days,
            reason: reason.0.clone(),
            at_ms: now_ms(),
            by: self.user.name.clone(),
        });
        let mut e = self.entry(
            Action::CaseExtend,
            Outcome::Allowed,
            Some(&format!("days:{days}")),
        );
        e.targets = vec![id];
        e.reason = Some(reason.0.clone());
        self.save_case(id, rec, &meta, &e)?;
        Ok(new_due)
    }

    /// Records a risk assessment on the four dimensions (风险评估) and returns its level.
    pub fn assess_case(
        &self,
        id: RecordId,
        assessment: Assessment,
    ) -> Result<RiskLevel, VaultError> {
        self.retrying(|| self.assess_case_once(id, assessment.clone()))
    }

    fn assess_case_once(
        &self,
        id: RecordId,
        assessment: Assessment,
    ) -> Result<RiskLevel, VaultError> {
        let (rec, mut meta) = self.case_for(Action::CaseAssess, id)?;
        let level = assessment.level();
        meta.risk = Some(assessment);
        let mut e = self.entry(
            Action::CaseAssess,
            Outcome::Allowed,
            Some(&format!("risk:{}", level.as_str())),
        );
        e.targets = vec![id];
        self.save_case(id, rec, &meta, &e)?;
        Ok(level)
    }

    /// Forwards a case to a unit (转送/交办) and returns the package for it. Refused when the
    /// unit is the one an accusation accuses (Art. 30(3)); the petitioner's identity is
    /// included only when asked for, never for an accusation, and with a reason.
    pub fn forward_case(
        &self,
        id: RecordId,
        to_unit: &str,
        with_identity: Option<&super::Reason>,
    ) -> Result<ForwardPackage, VaultError> {
        self.retrying(|| self.forward_case_once(id, to_unit, with_identity))
    }

    fn forward_case_once(
        &self,
        id: RecordId,
        to_unit: &str,
        with_identity: Option<&super::Reason>,
    ) -> Result<ForwardPackage, VaultError> {
        let (mut rec, mut meta) = self.case_for(Action::CaseForward, id)?;
        let to_unit = to_unit.trim();
        if to_unit.is_empty() {
            return Err(VaultError::Invalid(model::ValidationError {
                field: "to_unit",
                rule: "name the receiving unit",
            }));
        }
        let to_accused = meta.accused_unit_tag.as_ref().is_some_and(|(v, tag)| {
            self.unit_tag(to_unit, *v)
                .is_some_and(|t| crate::crypto::ct_eq(&t, tag))
        });
        if meta.is_accusation && to_accused {
            return Err(self.deny(
                Action::CaseForward,
                vec![id],
                VaultError::Denied(Denial::ForwardToAccused),
                "forward_to_accused_unit",
            ));
        }
        if with_identity.is_some() && meta.is_accusation {
            return Err(self.deny(
                Action::CaseForward,
                vec![id],
                VaultError::Denied(Denial::IdentityOfAccuser),
                "identity_of_accuser",
            ));
        }
        let history: Vec<Status> = meta.history.iter().map(|c| c.status).collect();
        workflow::status::check_history(&history, Status::Forwarded)
            .map_err(|e| VaultError::Workflow(e.to_string()))?;
        let mut e = self.entry(Action::CaseForward, Outcome::Allowed, None);
        e.targets = std::iter::once(id)
            .chain(meta.petitioner_ids.iter().copied())
            .collect();
        e.reason = with_identity.map(|r| r.0.clone());
        e.requested = vec![
            if with_identity.is_some() {
                "forward:with_identity"
            } else {
                "forward:redacted"
            }
            .into(),
        ];
        // Build the package under the proof of this entry, then record the new status.
        meta.status = Status::Forwarded;
        meta.forwarded_to = Some(to_unit.to_owned());
        meta.history.push(StatusChange {
            status: Status::Forwarded,
            at_ms: now_ms(),
            by: self.user.name.clone(),
        });
        rec.set(
            META_BUNDLE,
            self.seal_bundle(Table::Case, &id, Class::Meta, META_BUNDLE, &meta)?,
        );
        let mut writes = WriteSet::new();
        self.put_record(&mut writes, Table::Case, &id, &rec);
        let proof = self.commit(&writes, &e)?;
        let view = self.open_view(
            &proof,
            Table::Case,
            id,
            &rec,
            &[Class::Content, Class::Meta],
        )?;
        let mut known = KnownEntities::default();
        let mut petitioners = Vec::new();
        for pid in &meta.petitioner_ids {
            let Some(prec) = self.load(Table::Petitioner, pid)? else {
                continue;
            };
            self.collect_known(pid, &prec, &mut known)?;
            let classes: &[Class] = if with_identity.is_some() {
                &[Class::Contact]
            } else {
                &[Class::Masked]
            };
            let pv = self.open_view(&proof, Table::Petitioner, *pid, &prec, classes)?;
            let field = |n: &str| {
                pv.get(n)
                    .map(|f| f.value.expose().to_owned())
                    .unwrap_or_default()
            };
            petitioners.push(serde_json::json!({"name": field("name"), "phones": field("phones"), "address": field("address")}));
        }
        let text = |n: &str| {
            view.get(n)
                .map(|f| f.value.expose().to_owned())
                .unwrap_or_default()
        };
        let scrub = |t: String| {
            if with_identity.is_some() {
                t
            } else {
                redact::Scanner::global()
                    .redact(&t, Level::Publication, &known)
                    .text
            }
        };
        Ok(ForwardPackage {
            case_no: meta.case_no.clone(),
            to_unit: to_unit.to_owned(),
            category: meta.category.clone(),
            channel: meta.channel.as_str().to_owned(),
            received: local_date(meta.received_at).to_string(),
            title: scrub(text("title")),
            content: scrub(text("content")),
            demands: scrub(text("demands")),
            petitioners,
            identity_included: with_identity.is_some(),
        })
    }

    /// Cases with a deadline (or follow-up) within `within_days` of `today`, overdue ones
    /// first. One audit entry lists them.
    pub fn due_cases(
        &self,
        within_days: i64,
        today: Date,
        cal: &Calendar,
    ) -> Result<Vec<DueItem>, VaultError> {
        self.require(Action::CaseList)?;
        let mut out = Vec::new();
        for (id, meta) in self.visible_cases()? {
            if let Some((kind, due)) = next_due(&meta, cal) {
                let left = deadline::days_left(due, today);
                if left <= within_days && (kind != DeadlineKind::FollowUp || left >= -30) {
                    out.push(DueItem {
                        case: CaseSummary { id, meta },
                        kind,
                        due,
                        days_left: left,
                    });
                }
            }
        }
        out.sort_by_key(|d| (d.days_left, d.case.meta.case_no.clone()));
        let summaries = out.iter().map(|d| d.case.clone()).collect();
        self.list_logged(summaries, "due".into(), None)?;
        Ok(out)
    }

    /// Cases this user may see that match `filter`, with their early warnings (预警):
    /// group visit (≥ 5 people), repeat petitioner (≥ 3 petitions in 90 days), overdue,
    /// high risk unassigned.
    pub fn list_cases_where(
        &self,
        filter: &CaseFilter,
        today: Date,
        cal: &Calendar,
    ) -> Result<Vec<(CaseSummary, Vec<Warning>)>, VaultError> {
        self.require(Action::CaseList)?;
        let all = self.all_case_metas()?;
        let window_start = now_ms() - i64::from(workflow::REPEAT_WINDOW_DAYS) * 86_400_000;
        let recent = petitions_since(&all, window_start);
        let mut out = Vec::new();
        for (id, meta) in &all {
            if self.authorize_case(meta).is_err() {
                continue;
            }
            let overdue = is_overdue(meta, cal, today);
            let petitions = meta
                .petitioner_ids
                .iter()
                .map(|p| recent.get(p).copied().unwrap_or(0))
                .max()
                .unwrap_or(0);
            let risk = meta
                .risk
                .as_ref()
                .map(Assessment::level)
                .unwrap_or(RiskLevel::Low);
            let warnings = workflow::early_warnings(&WarningInput {
                headcount: meta
                    .risk
                    .as_ref()
                    .map(|r| r.headcount)
                    .unwrap_or(meta.petitioner_ids.len() as u32),
                petitions_by_same_person_in_90_days: petitions,
                is_overdue: overdue,
                risk,
                is_assigned: meta.assigned_to.is_some(),
            });
            let keep = (!filter.overdue || overdue)
                && filter.status.is_none_or(|s| meta.status == s)
                && filter
                    .assigned_to
                    .as_ref()
                    .is_none_or(|u| meta.assigned_to.as_ref() == Some(u))
                && filter.risk.is_none_or(|r| meta.risk.is_some() && risk >= r)
                && (!filter.warnings || !warnings.is_empty());
            if keep {
                out.push((
                    CaseSummary {
                        id: *id,
                        meta: meta.clone(),
                    },
                    warnings,
                ));
            }
        }
        out.sort_by(|a, b| a.0.meta.case_no.cmp(&b.0.meta.case_no));
        let summaries = out.iter().map(|(c, _)| c.clone()).collect();
        self.list_logged(summaries, "list_filtered".into(), None)?;
        Ok(out)
    }

    fn visible_cases(&self) -> Result<Vec<(RecordId, CaseMeta)>, VaultError> {
        Ok(self
            .all_case_metas()?
            .into_iter()
            .filter(|(_, m)| self.authorize_case(m).is_ok())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(received_at: i64, petitioners: &[u8]) -> CaseMeta {
        CaseMeta {
            case_no: String::new(),
            category: String::new(),
            channel: crate::model::Channel::Letter,
            status: Status::Registered,
            received_at,
            petitioner_ids: petitioners.iter().map(|p| RecordId([*p; 16])).collect(),
            assigned_to: None,
            accused_unit_tag: None,
            is_accusation: false,
            created_at: received_at,
            created_by: String::new(),
            canary: false,
            history: Vec::new(),
            extension: None,
            risk: None,
            forwarded_to: None,
        }
    }

    /// The counts `case list` reads are those of counting, for each petitioner, the cases
    /// received since the window's start that name them (what it did per listed case):
    /// cases before the window and petitioners named twice in one case included.
    #[test]
    fn petitions_since_counts_each_case_naming_a_petitioner_once() {
        let all: Vec<(RecordId, CaseMeta)> = (0..200u32)
            .map(|i| {
                let n = (i * 7 % 13) as u8;
                let people = [n, (n + i as u8 % 3) % 13, n]; // the first named twice
                (
                    RecordId([i as u8; 16]),
                    meta(i64::from(i % 50) * 10, &people),
                )
            })
            .collect();
        for since in [0, 170, 250, 10_000] {
            let counts = petitions_since(&all, since);
            for p in 0..14u8 {
                let p = RecordId([p; 16]);
                let naive = all
                    .iter()
                    .filter(|(_, m)| m.received_at >= since && m.petitioner_ids.contains(&p))
                    .count() as u32;
                assert_eq!(counts.get(&p).copied().unwrap_or(0), naive, "{since}");
            }
        }
    }
}
