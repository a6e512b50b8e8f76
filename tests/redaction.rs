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

/// Imports `n` synthetic petitioners with one case each (more than one export chunk).
fn import_many(f: &Fixture, n: usize) {
    let mut synth = Synth::new(7);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "name",
        "id_number",
        "phone",
        "address",
        "title",
        "category",
        "channel",
        "content",
        "demands",
        "accused_unit",
        "accusation",
    ])
    .unwrap();
    for _ in 0..n {
        let p = synth.person();
        let c = synth.case_for(&p);
        w.write_record([
            p.name.as_str(),
            &p.id_number,
            &p.phone,
            &p.address,
            &c.title,
            &c.category,
            c.channel,
            &c.content,
            &c.demands,
            c.accused_unit.as_deref().unwrap_or(""),
            if c.is_accusation { "true" } else { "false" },
        ])
        .unwrap();
    }
    let parsed = petition_vault::import::parse(
        &w.into_inner().unwrap(),
        petition_vault::import::Format::Csv,
        None,
    )
    .unwrap();
    let report = unlock(f, "reg")
        .import(parsed, false, 1000, &mut |_, _| {})
        .unwrap();
    assert!(report.rejected.is_empty());
}

/// JSON Lines as the materialised export wrote them before rows were streamed (issue 7):
/// one `serde_json::Map` (sorted keys) per row.
fn reference_jsonl(e: &export::Export) -> Vec<u8> {
    let mut out = Vec::new();
    for row in &e.rows {
        let mut obj = serde_json::Map::new();
        for (k, v) in &row.fields {
            obj.insert(
                (*k).to_owned(),
                serde_json::Value::String(v.expose().to_owned()),
            );
        }
        serde_json::to_writer(&mut out, &obj).unwrap();
        out.push(b'\n');
    }
    out
}

/// CSV as the materialised export wrote it before rows were streamed.
fn reference_csv(e: &export::Export, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(&[0xEF, 0xBB, 0xBF]);
    }
    let mut w = csv::Writer::from_writer(&mut out);
    w.write_record(&e.columns).unwrap();
    for row in &e.rows {
        w.write_record(row.fields.iter().map(|(_, v)| {
            let v = v.expose();
            if v.starts_with(['=', '+', '-', '@']) {
                format!("'{v}")
            } else {
                v.to_owned()
            }
        }))
        .unwrap();
    }
    w.flush().unwrap();
    drop(w);
    out
}

#[test]
fn streamed_export_equals_the_materialised_one_byte_for_byte() {
    let f = fixture();
    import_many(&f, 1200);
    populate(&f, 3);
    let (_, pids) = populate(&f, 2);
    // a group petition and a petitioner with a second case
    let reg = unlock(&f, "reg");
    for petitioners in [pids.clone(), vec![pids[0]]] {
        reg.open_case(&NewCase {
            petitioners,
            title: "联名反映".into(),
            category: "征地拆迁".into(),
            channel: Channel::Visit,
            content: "=SUM(A1) 仍未解决".into(),
            demands: None,
            accused_unit: None,
            is_accusation: false,
        })
        .unwrap();
    }
    let reason = Reason::new("移交上级复查").unwrap();
    let ana = unlock(&f, "ana");
    let runs: [(&petition_vault::Session<'_>, Profile, Option<&Reason>); 3] = [
        (&ana, Profile::Redacted, None),
        (&ana, Profile::Pseudonymous, None),
        (&reg, Profile::Full, Some(&reason)),
    ];
    for (session, profile, reason) in runs {
        let materialised = session.export(profile, Filters::default(), reason).unwrap();
        assert_eq!(materialised.rows.len(), 1200 + 5 + 2);
        for format in [
            export::Format::Jsonl,
            export::Format::Csv { bom: true },
            export::Format::Csv { bom: false },
        ] {
            let expected = match format {
                export::Format::Jsonl => reference_jsonl(&materialised),
                export::Format::Csv { bom } => reference_csv(&materialised, bom),
            };
            // the library's writers over the materialised rows
            let mut written = Vec::new();
            match format {
                export::Format::Jsonl => export::write_jsonl(&materialised, &mut written),
                export::Format::Csv { bom } => export::write_csv(&materialised, &mut written, bom),
            }
            .unwrap();
            assert!(
                written == expected,
                "{profile:?} {format:?}: write_* differ"
            );
            // the streamed export
            let mut streamed = Vec::new();
            let manifest = session
                .export_to(profile, Filters::default(), reason, format, &mut streamed)
                .unwrap();
            assert!(
                streamed == expected,
                "{profile:?} {format:?}: streamed differs"
            );
            assert_eq!(manifest.count, materialised.rows.len());
            assert_eq!(manifest.format, format.as_str());
            use sha2::Digest;
            assert_eq!(
                manifest.sha256,
                hex::encode(sha2::Sha256::digest(&streamed))
            );
        }
    }
    // a filter selects the same rows either way
    let filters = Filters {
        category: Some("征地拆迁".into()),
        ..Default::default()
    };
    let materialised = ana
        .export(Profile::Redacted, filters.clone(), None)
        .unwrap();
    let mut streamed = Vec::new();
    ana.export_to(
        Profile::Redacted,
        filters,
        None,
        export::Format::Jsonl,
        &mut streamed,
    )
    .unwrap();
    assert!(streamed == reference_jsonl(&materialised));
    assert!(materialised.rows.len() >= 5 && materialised.rows.len() < 1207);
}

/// Every row of an export shows its own case and its own petitioners, across the export's
/// jobs (256 records each) and its selection ranges (one per first byte of the id): each
/// cell of a full export is checked against what `show_case` and `show_petitioner` return
/// for the ids the row names.
#[test]
fn every_exported_row_shows_its_own_case_and_petitioners() {
    let f = fixture();
    import_many(&f, 600);
    let (_, pids) = populate(&f, 3);
    let reg = unlock(&f, "reg");
    // a group petition and a petitioner with a second case
    for petitioners in [pids.clone(), vec![pids[1]]] {
        reg.open_case(&NewCase {
            petitioners,
            title: "联名反映".into(),
            category: "征地拆迁".into(),
            channel: Channel::Visit,
            content: "补偿仍未到位".into(),
            demands: None,
            accused_unit: None,
            is_accusation: false,
        })
        .unwrap();
    }
    let reason = Reason::new("移交上级复查").unwrap();
    let e = reg
        .export(Profile::Full, Filters::default(), Some(&reason))
        .unwrap();
    assert_eq!(e.rows.len(), 600 + 3 + 2);
    let cell = |row: &export::ExportRow, column: &str| -> String {
        let (_, v) = row.fields.iter().find(|(c, _)| *c == column).unwrap();
        v.expose().to_owned()
    };
    let mut people = std::collections::HashMap::new();
    let mut previous: Option<RecordId> = None;
    let mut group_rows = 0;
    for row in &e.rows {
        let id = RecordId::parse(&cell(row, "case_id")).unwrap();
        assert!(previous < Some(id), "rows are in case-id order");
        previous = Some(id);
        let case = reg.show_case(id).unwrap();
        for field in ["title", "content"] {
            assert_eq!(
                cell(row, field),
                case.get(field).unwrap().value.expose(),
                "{field} of {id}"
            );
        }
        let row_pids: Vec<RecordId> = cell(row, "petitioner_ids")
            .split(',')
            .map(|p| RecordId::parse(p).unwrap())
            .collect();
        assert_eq!(cell(row, "petitioner_count"), row_pids.len().to_string());
        group_rows += usize::from(row_pids.len() == 3);
        for (column, field) in [
            ("petitioner_names", "name"),
            ("petitioner_id_numbers", "id_number"),
            ("petitioner_phones", "phones"),
            ("petitioner_addresses", "address"),
        ] {
            let want: Vec<String> = row_pids
                .iter()
                .map(|p| {
                    let view = people
                        .entry(*p)
                        .or_insert_with(|| reg.show_petitioner(*p, Some(&reason)).unwrap());
                    view.get(field).unwrap().value.expose().to_owned()
                })
                .collect();
            assert_eq!(cell(row, column), want.join(";"), "{column} of {id}");
        }
    }
    assert_eq!(group_rows, 1);
    assert_eq!(people.len(), 600 + 3);
}

#[test]
fn a_streamed_export_is_logged_once_with_every_id() {
    let f = fixture();
    let (_, pids) = populate(&f, 4);
    let ana = unlock(&f, "ana");
    let mut out = Vec::new();
    let manifest = ana
        .export_to(
            Profile::Redacted,
            Filters::default(),
            None,
            export::Format::Csv { bom: false },
            &mut out,
        )
        .unwrap();
    assert_eq!(manifest.count, 4);
    let aud = unlock(&f, "aud");
    let entries = aud
        .audit_query(&petition_vault::audit::AuditQuery {
            action: Some(petition_vault::Action::Export),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(entries.len(), 1);
    let e = &entries[0].entry;
    assert_eq!(
        e.detail.as_deref(),
        Some(format!("export_id:{}", manifest.export_id).as_str())
    );
    assert_eq!(e.targets.len(), 8, "4 cases and their 4 petitioners");
    assert!(pids.iter().all(|p| e.targets.contains(p)));
    let text = String::from_utf8(out).unwrap();
    for line in text.lines().skip(1) {
        let case_id = line.split(',').next().unwrap();
        assert!(e.targets.iter().any(|t| t.to_string() == case_id));
    }
}
