//! The case workflow under the 信访工作条例, through the gate.

mod common;

use common::*;
use petition_vault::casework::{self, CaseFilter};
use petition_vault::index::Query;
use petition_vault::model::{CaseMeta, StatusChange};
use petition_vault::workflow::deadline::{Calendar, DeadlineKind};
use petition_vault::workflow::risk::{Assessment, Impact, Nature, Organisation, RiskLevel};
use petition_vault::workflow::{Status, Warning};
use petition_vault::{Channel, Reason, RecordId, Role, VaultError};
use time::macros::date;

fn case_fixture() -> (Fixture, RecordId, RecordId) {
    let f = fixture();
    let (pid, cid) = {
        let reg = unlock(&f, "reg");
        let pid = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
        let cid = reg
            .open_case(&new_case(vec![pid], Some(ACCUSED_UNIT), true))
            .unwrap();
        reg.assign_case(cid, "han").unwrap();
        (pid, cid)
    };
    (f, pid, cid)
}

#[test]
fn every_illegal_transition_is_refused_with_the_allowed_ones_named() {
    let (f, _, cid) = case_fixture();
    let reg = unlock(&f, "reg");
    for to in Status::ALL {
        if Status::Registered.allowed_next().contains(&to) {
            continue;
        }
        let err = reg.transition(cid, to, None).unwrap_err();
        assert!(matches!(err, VaultError::Workflow(_)), "{to:?}: {err}");
        let msg = err.to_string();
        assert!(
            msg.contains("accepted") && msg.contains("not_accepted"),
            "{msg}"
        );
    }
    // the whole path, with a review
    for to in [
        Status::Accepted,
        Status::Handling,
        Status::Replied,
        Status::Closed,
        Status::ReviewRequested,
        Status::ReviewDecided,
        Status::Closed,
    ] {
        reg.transition(cid, to, Some("办理记录")).unwrap();
    }
    let view = reg.show_case(cid).unwrap();
    assert_eq!(view.get("status").unwrap().value.expose(), "closed");
    assert!(
        view.get("notes")
            .unwrap()
            .value
            .expose()
            .contains("办理记录")
    );
    // every transition is audited
    let aud = unlock(&f, "aud");
    let q = petition_vault::audit::AuditQuery {
        record: Some(cid),
        action: Some(petition_vault::Action::CaseTransition),
        ..Default::default()
    };
    let entries = aud.audit_query(&q).unwrap();
    let allowed: Vec<_> = entries
        .iter()
        .filter(|e| e.entry.outcome == petition_vault::audit::Outcome::Allowed)
        .collect();
    assert_eq!(allowed.len(), 7);
    assert_eq!(
        allowed[0].entry.detail.as_deref(),
        Some("registered->accepted")
    );
}

#[test]
fn handlers_move_only_their_cases_and_only_to_handling_or_replied() {
    let (f, _, cid) = case_fixture();
    unlock(&f, "reg")
        .transition(cid, Status::Accepted, None)
        .unwrap();
    let han = unlock(&f, "han");
    assert!(matches!(
        han.transition(cid, Status::Closed, None),
        Err(VaultError::Denied(_))
    ));
    han.transition(cid, Status::Handling, Some("已联系信访人"))
        .unwrap();
    let han2 = unlock(&f, "han2");
    assert!(matches!(
        han2.transition(cid, Status::Replied, None),
        Err(VaultError::Denied(_))
    ));
    han.transition(cid, Status::Replied, None).unwrap();
}

#[test]
fn extension_once_at_most_thirty_days_only_while_handling() {
    let (f, _, cid) = case_fixture();
    let reg = unlock(&f, "reg");
    let why = Reason::new("案情复杂需调查").unwrap();
    assert!(
        matches!(reg.extend_case(cid, 10, &why), Err(VaultError::Workflow(_))),
        "not accepted yet"
    );
    reg.transition(cid, Status::Accepted, None).unwrap();
    assert!(reg.extend_case(cid, 31, &why).is_err());
    let cal = Calendar::builtin();
    let before = casework::next_due(&meta_of(&f, cid), cal).unwrap();
    assert_eq!(before.0, DeadlineKind::Handling);
    let due = reg.extend_case(cid, 30, &why).unwrap();
    assert!(due > before.1);
    let after = casework::next_due(&meta_of(&f, cid), cal).unwrap();
    assert_eq!((after.0, after.1), (DeadlineKind::HandlingExtended, due));
    let err = reg.extend_case(cid, 5, &why).unwrap_err();
    assert!(
        err.to_string().contains("once") || err.to_string().contains("already"),
        "{err}"
    );
}

fn meta_of(f: &Fixture, cid: RecordId) -> CaseMeta {
    unlock(f, "reg")
        .list_cases()
        .unwrap()
        .into_iter()
        .find(|c| c.id == cid)
        .unwrap()
        .meta
}

fn meta_at(received: time::Date, history: &[(Status, time::Date)]) -> CaseMeta {
    let ms = |d: time::Date| {
        (d.midnight()
            .assume_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap())
            .unix_timestamp()
            + 3600 * 10)
            * 1000
    };
    CaseMeta {
        case_no: "XF2026-000001".into(),
        category: "x".into(),
        channel: Channel::Letter,
        status: history.last().map(|h| h.0).unwrap_or(Status::Registered),
        received_at: ms(received),
        petitioner_ids: vec![],
        assigned_to: None,
        accused_unit_tag: None,
        is_accusation: false,
        created_at: ms(received),
        created_by: "t".into(),
        canary: false,
        history: std::iter::once((Status::Registered, received))
            .chain(history.iter().copied())
            .map(|(status, d)| StatusChange {
                status,
                at_ms: ms(d),
                by: "t".into(),
            })
            .collect(),
        extension: None,
        risk: None,
        forwarded_to: None,
    }
}

#[test]
fn statutory_deadlines_on_fixed_dates() {
    let cal = Calendar::builtin();
    // received Tue 2026-09-15: 15 days → 09-30 (a working day before National Day)
    let m = meta_at(date!(2026 - 09 - 15), &[]);
    assert_eq!(
        casework::next_due(&m, cal),
        Some((DeadlineKind::AcceptanceDecision, date!(2026 - 09 - 30)))
    );
    // received 2026-09-20: 15 days → 10-05, inside National Day → first working day 10-08
    let m = meta_at(date!(2026 - 09 - 20), &[]);
    assert_eq!(
        casework::next_due(&m, cal).unwrap().1,
        date!(2026 - 10 - 08)
    );
    assert!(casework::is_overdue(&m, cal, date!(2026 - 10 - 09)));
    assert!(!casework::is_overdue(&m, cal, date!(2026 - 10 - 08)));
    // accepted 2026-01-31: 60 days → 04-01 (Wednesday)
    let m = meta_at(
        date!(2026 - 01 - 20),
        &[(Status::Accepted, date!(2026 - 01 - 31))],
    );
    assert_eq!(
        casework::next_due(&m, cal),
        Some((DeadlineKind::Handling, date!(2026 - 04 - 01)))
    );
    // closed → follow-up, never "overdue"
    let m = meta_at(
        date!(2026 - 01 - 05),
        &[
            (Status::Accepted, date!(2026 - 01 - 06)),
            (Status::Handling, date!(2026 - 01 - 07)),
            (Status::Replied, date!(2026 - 02 - 02)),
            (Status::Closed, date!(2026 - 02 - 03)),
        ],
    );
    assert_eq!(
        casework::next_due(&m, cal).unwrap().0,
        DeadlineKind::FollowUp
    );
    assert!(!casework::is_overdue(&m, cal, date!(2027 - 01 - 01)));
    // replied: the office owes nothing until a review is requested
    let m = meta_at(
        date!(2026 - 01 - 05),
        &[
            (Status::Accepted, date!(2026 - 01 - 06)),
            (Status::Handling, date!(2026 - 01 - 07)),
            (Status::Replied, date!(2026 - 02 - 02)),
        ],
    );
    assert_eq!(casework::next_due(&m, cal), None);
}

#[test]
fn due_list_and_follow_up() {
    let (f, _, cid) = case_fixture();
    let reg = unlock(&f, "reg");
    let today = casework::today();
    let due = reg.due_cases(30, today, Calendar::builtin()).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].kind, DeadlineKind::AcceptanceDecision);
    assert!(
        due[0].days_left >= 15 && due[0].days_left <= 24,
        "{}",
        due[0].days_left
    );
    for to in [
        Status::Accepted,
        Status::Handling,
        Status::Replied,
        Status::Closed,
    ] {
        reg.transition(cid, to, None).unwrap();
    }
    assert!(
        reg.due_cases(30, today, Calendar::builtin())
            .unwrap()
            .is_empty()
    );
    let later = reg.due_cases(120, today, Calendar::builtin()).unwrap();
    assert_eq!(later[0].kind, DeadlineKind::FollowUp);
}

#[test]
fn accusation_firewall_leaves_no_trace_for_the_accused_unit() {
    let (f, pid, cid) = case_fixture();
    {
        let admin = unlock(&f, "admin");
        admin
            .add_user(
                "acc_reg",
                Role::Registrar,
                Some(ACCUSED_UNIT),
                &pass("acc_reg"),
            )
            .unwrap();
        admin
            .add_user(
                "acc_ana",
                Role::Analyst,
                Some(ACCUSED_UNIT),
                &pass("acc_ana"),
            )
            .unwrap();
    }
    let acc_reg = unlock(&f, "acc_reg");
    assert!(matches!(
        acc_reg.show_case(cid),
        Err(VaultError::NotFound(_))
    ));
    assert!(matches!(
        acc_reg.show_petitioner(pid, None),
        Err(VaultError::NotFound(_))
    ));
    assert!(acc_reg.list_cases().unwrap().is_empty());
    assert!(
        acc_reg
            .find(&Query::id_number(PEOPLE[0].id_number).unwrap())
            .unwrap()
            .is_empty()
    );
    assert!(
        acc_reg
            .due_cases(365, casework::today(), Calendar::builtin())
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        acc_reg.transition(cid, Status::Accepted, None),
        Err(VaultError::NotFound(_))
    ));
    let stats = unlock(&f, "acc_ana")
        .stats(
            petition_vault::export::StatsBy::Category,
            1,
            &Default::default(),
        )
        .unwrap();
    assert!(
        stats.cells.is_empty(),
        "the accused unit's analyst counts nothing"
    );
    let exported = unlock(&f, "acc_ana")
        .export(
            petition_vault::export::Profile::Redacted,
            Default::default(),
            None,
        )
        .unwrap();
    assert!(exported.rows.is_empty());
    // and every attempt is in the log as denied
    let aud = unlock(&f, "aud");
    let q = petition_vault::audit::AuditQuery {
        actor: Some("acc_reg".into()),
        denied: true,
        ..Default::default()
    };
    let denied = aud.audit_query(&q).unwrap();
    assert_eq!(denied.len(), 3);
    assert!(
        denied
            .iter()
            .all(|e| e.entry.detail.as_deref() == Some("accused_unit_firewall"))
    );
}

#[test]
fn forwarding_refuses_the_accused_unit_and_strips_identity() {
    let (f, _, cid) = case_fixture();
    let reg = unlock(&f, "reg");
    reg.transition(cid, Status::Accepted, None).unwrap();
    let err = reg
        .forward_case(cid, "江宁区 住房和城乡建设局", None)
        .unwrap_err();
    assert!(err.to_string().contains("30(3)"), "{err}");
    let why = Reason::new("属地办理").unwrap();
    assert!(matches!(
        reg.forward_case(cid, "江宁区人民政府", Some(&why)),
        Err(VaultError::Denied(_))
    ));
    let package = reg.forward_case(cid, "江宁区人民政府", None).unwrap();
    let json = serde_json::to_string(&package).unwrap();
    for v in [PEOPLE[0].name, PEOPLE[0].phone, PEOPLE[0].id_number] {
        assert!(!json.contains(v), "identity in the forwarding package");
    }
    assert!(json.contains("拆迁补偿款长期拖欠"), "the substance stays");
    assert!(!package.identity_included);
    let dbg = format!("{package:?}");
    assert!(
        !dbg.contains("拆迁") && dbg.contains("江宁区人民政府"),
        "Debug prints no content: {dbg}"
    );
    assert_eq!(meta_of(&f, cid).status, Status::Forwarded);
    assert_eq!(
        meta_of(&f, cid).forwarded_to.as_deref(),
        Some("江宁区人民政府")
    );
}

#[test]
fn risk_assessment_and_early_warnings() {
    let (f, pid, cid) = case_fixture();
    let reg = unlock(&f, "reg");
    let level = reg
        .assess_case(
            cid,
            Assessment {
                nature: Nature::Ordinary,
                headcount: 60,
                organisation: Organisation::Organised,
                impact: Impact::Regional,
            },
        )
        .unwrap();
    assert_eq!(level, RiskLevel::Critical);
    // two more petitions by the same person → repeat petitioner
    let second = reg.open_case(&new_case(vec![pid], None, false)).unwrap();
    reg.open_case(&new_case(vec![pid], None, false)).unwrap();
    let today = casework::today();
    let cal = Calendar::builtin();
    let all = reg
        .list_cases_where(
            &CaseFilter {
                warnings: true,
                ..Default::default()
            },
            today,
            cal,
        )
        .unwrap();
    let first = all.iter().find(|(c, _)| c.id == cid).unwrap();
    assert!(
        first.1.contains(&Warning::GroupVisit) && first.1.contains(&Warning::RepeatPetitioner),
        "{:?}",
        first.1
    );
    assert!(!first.1.contains(&Warning::HighRiskUnassigned), "assigned");
    let unassigned = all.iter().find(|(c, _)| c.id == second).unwrap();
    assert!(unassigned.1.contains(&Warning::RepeatPetitioner));
    let high = reg
        .list_cases_where(
            &CaseFilter {
                risk: Some(RiskLevel::High),
                ..Default::default()
            },
            today,
            cal,
        )
        .unwrap();
    assert_eq!(
        high.iter().map(|(c, _)| c.id).collect::<Vec<_>>(),
        vec![cid]
    );
    let mine = unlock(&f, "han")
        .list_cases_where(
            &CaseFilter {
                assigned_to: Some("han".into()),
                ..Default::default()
            },
            today,
            cal,
        )
        .unwrap();
    assert_eq!(mine.len(), 1);
}
