//! Data leaving the vault: redacted, pseudonymous and full exports, statistics.

mod common;

use common::*;
use petition_vault::export::{self, Filters, Profile, StatsBy};
use petition_vault::model::synth::Synth;
use petition_vault::{Channel, NewCase, NewPetitioner, Reason, RecordId, SecretText, VaultError};

struct Person {
    name: String,
    id_number: String,
    phone: String,
}

fn populate(f: &Fixture, n: usize) -> (Vec<Person>, Vec<RecordId>) {
    let reg = unlock(f, "reg");
    let mut synth = Synth::new(11);
    let mut people = Vec::new();
    let mut pids = Vec::new();
    while people.len() < n {
        let p = synth.person();
        let Ok(pid) = reg.add_petitioner(&NewPetitioner {
            name: p.name.as_str().into(),
            id_number: p.id_number.as_str().into(),
            phones: vec![p.phone.as_str().into()],
            address: Some(p.address.as_str().into()),
            email: None,
            ethnicity: None,
        }) else {
            continue;
        };
        // the letter names the petitioner and gives the phone and ID, as letters do
        let content = format!(
            "我叫{}，身份证号{}，电话{}。反映拆迁补偿问题。",
            p.name, p.id_number, p.phone
        );
        reg.open_case(&NewCase {
            petitioners: vec![pid],
            title: "拆迁补偿".into(),
            category: if people.len() % 3 == 0 {
                "劳动社保".into()
            } else {
                "征地拆迁".into()
            },
            channel: Channel::Letter,
            content: content.into(),
            demands: Some(SecretText::from("依法补偿")),
            accused_unit: None,
            is_accusation: false,
        })
        .unwrap();
        people.push(Person {
            name: p.name,
            id_number: p.id_number,
            phone: p.phone,
        });
        pids.push(pid);
    }
    (people, pids)
}

fn text_of(e: &export::Export) -> String {
    let mut out = Vec::new();
    export::write_jsonl(e, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn analyst_redacted_export_holds_no_identity() {
    let f = fixture();
    let (people, _) = populate(&f, 30);
    let ana = unlock(&f, "ana");
    let exp = ana
        .export(Profile::Redacted, Filters::default(), None)
        .unwrap();
    assert_eq!(exp.rows.len(), 30);
    let text = text_of(&exp);
    for p in &people {
        assert!(!text.contains(&p.id_number), "full ID in a redacted export");
        assert!(!text.contains(&p.phone), "full phone in a redacted export");
        assert!(!text.contains(&p.name), "full name in a redacted export");
    }
    assert!(
        text.contains("拆迁补偿问题"),
        "scrubbed content stays useful"
    );
    assert!(
        !text.contains("petitioner_ids"),
        "no record ids of petitioners in a redacted export"
    );
    let mut csv = Vec::new();
    export::write_csv(&exp, &mut csv, true).unwrap();
    let csv = String::from_utf8(csv[3..].to_vec()).unwrap();
    assert!(csv.starts_with("case_id,case_no,"));
    for p in &people {
        assert!(!csv.contains(&p.id_number) && !csv.contains(&p.name));
    }
}

#[test]
fn full_export_needs_a_reason_and_the_classes() {
    let f = fixture();
    let (people, _) = populate(&f, 3);
    let reg = unlock(&f, "reg");
    let err = reg
        .export(Profile::Full, Filters::default(), None)
        .unwrap_err();
    assert!(err.to_string().contains("--reason"), "{err}");
    let ana = unlock(&f, "ana");
    let err = ana
        .export(
            Profile::Full,
            Filters::default(),
            Some(&Reason::new("统计").unwrap()),
        )
        .unwrap_err();
    assert!(matches!(err, VaultError::Denied(_)), "{err}");
    let han = unlock(&f, "han");
    assert!(matches!(
        han.export(Profile::Redacted, Filters::default(), None),
        Err(VaultError::Denied(_))
    ));
    let full = reg
        .export(
            Profile::Full,
            Filters::default(),
            Some(&Reason::new("移交上级复查").unwrap()),
        )
        .unwrap();
    let text = text_of(&full);
    assert!(people.iter().all(|p| text.contains(&p.id_number)));
}

#[test]
fn every_export_is_logged_with_every_id() {
    let f = fixture();
    let (_, pids) = populate(&f, 5);
    let sup = unlock(&f, "sup");
    let exp = sup
        .export(
            Profile::Redacted,
            Filters {
                category: Some("征地拆迁".into()),
                ..Default::default()
            },
            None,
        )
        .unwrap();
    assert_eq!(exp.rows.len(), 3);
    let aud = unlock(&f, "aud");
    let q = petition_vault::audit::AuditQuery {
        action: Some(petition_vault::Action::Export),
        ..Default::default()
    };
    let entries = aud.audit_query(&q).unwrap();
    assert_eq!(entries.len(), 1);
    let e = &entries[0].entry;
    assert_eq!(
        e.detail.as_deref(),
        Some(format!("export_id:{}", exp.export_id).as_str())
    );
    assert_eq!(e.purpose.as_deref(), Some("export:redacted"));
    let exported_cases: Vec<String> = exp
        .rows
        .iter()
        .map(|r| r.fields[0].1.expose().to_owned())
        .collect();
    for c in &exported_cases {
        assert!(
            e.targets.iter().any(|t| &t.to_string() == c),
            "case {c} missing from the entry"
        );
    }
    assert_eq!(e.targets.len(), 6, "3 cases and their 3 petitioners");
    assert!(pids.iter().filter(|p| e.targets.contains(p)).count() == 3);
}

#[test]
fn pseudonymous_tokens_link_one_person_only() {
    let f = fixture();
    let (_, pids) = populate(&f, 4);
    let reg = unlock(&f, "reg");
    reg.open_case(&NewCase {
        petitioners: vec![pids[0]],
        title: "再次反映".into(),
        category: "征地拆迁".into(),
        channel: Channel::Visit,
        content: "仍未解决".into(),
        demands: None,
        accused_unit: None,
        is_accusation: false,
    })
    .unwrap();
    let ana = unlock(&f, "ana");
    let tokens = |e: &export::Export| -> Vec<String> {
        e.rows
            .iter()
            .map(|r| {
                r.fields
                    .iter()
                    .find(|(c, _)| *c == "petitioner_tokens")
                    .unwrap()
                    .1
                    .expose()
                    .to_owned()
            })
            .collect()
    };
    let a = tokens(
        &ana.export(Profile::Pseudonymous, Filters::default(), None)
            .unwrap(),
    );
    let b = tokens(
        &ana.export(Profile::Pseudonymous, Filters::default(), None)
            .unwrap(),
    );
    let mut sa = a.clone();
    let mut sb = b.clone();
    sa.sort();
    sb.sort();
    assert_eq!(sa, sb, "stable across exports");
    let mut distinct = sa.clone();
    distinct.dedup();
    assert_eq!(
        (a.len(), distinct.len()),
        (5, 4),
        "two cases of one person share a token"
    );
    assert!(
        a.iter()
            .all(|t| t.len() == 16 && !pids.iter().any(|p| p.to_string().contains(t.as_str())))
    );
}

#[test]
fn statistics_suppress_small_cells() {
    let f = fixture();
    populate(&f, 12);
    let ana = unlock(&f, "ana");
    let s = ana
        .stats(StatsBy::Category, 5, &Filters::default())
        .unwrap();
    let shown: Vec<(String, String)> = s
        .cells
        .iter()
        .map(|c| (c.key.clone(), c.shown.clone()))
        .collect();
    assert_eq!(
        shown,
        vec![
            ("征地拆迁".to_string(), "8".to_string()),
            ("劳动社保".to_string(), "<5".to_string())
        ]
    );
    assert_eq!(s.total, "≥8");
    let r = ana.stats(StatsBy::Region, 1, &Filters::default()).unwrap();
    assert!(
        r.cells
            .iter()
            .all(|c| c.key.ends_with('省') || c.key.ends_with('市') || c.key.ends_with("区")),
        "{:?}",
        r.cells
    );
    assert_eq!(r.cells.iter().map(|c| c.count.unwrap()).sum::<usize>(), 12);
}
