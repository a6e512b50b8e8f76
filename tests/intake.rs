//! Intake and search: blind indexes on a vault of 10k synthetic petitioners, duplicate
//! detection, related cases, and bulk import with bad rows and re-runs.

mod common;

use common::*;
use petition_vault::import::{self, Format};
use petition_vault::index::Query;
use petition_vault::model::synth::Synth;
use petition_vault::{RecordView, VaultError};

fn csv_of(people: &[(String, String, String)]) -> String {
    let mut out = String::from("姓名,身份证号,联系电话\n");
    for (name, id, phone) in people {
        out.push_str(&format!("{name},{id},{phone}\n"));
    }
    out
}

fn names(views: &[RecordView]) -> Vec<String> {
    let mut v: Vec<String> = views
        .iter()
        .map(|v| v.get("name").unwrap().value.expose().to_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn find_is_exact_on_ten_thousand_petitioners() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let mut synth = Synth::new(7);
    let mut people: Vec<(String, String, String)> = (0..10_000)
        .map(|_| {
            let p = synth.person();
            (p.name, p.id_number, p.phone)
        })
        .collect();
    // two people sharing a name
    people[10].0 = "王秀英".into();
    people[20].0 = "王秀英".into();
    people.dedup_by(|a, b| a.1 == b.1);
    let parsed = import::parse(csv_of(&people).as_bytes(), Format::Csv, None).unwrap();
    let report = reg.import(parsed, false, 1000, &mut |_, _| {}).unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    let registered = report.petitioners_created;
    assert!(registered >= 9_990, "{registered}");

    // by ID, entered as printed, with lowercase x, full-width, and as a 15-digit number
    let target = &people[1234];
    let hit = reg.find(&Query::id_number(&target.1).unwrap()).unwrap();
    assert_eq!(names(&hit), vec![target.0.clone()]);
    let with_x = people.iter().find(|p| p.1.ends_with('X')).unwrap();
    assert_eq!(
        names(
            &reg.find(&Query::id_number(&with_x.1.to_lowercase()).unwrap())
                .unwrap()
        ),
        vec![with_x.0.clone()]
    );
    let full_width: String = target
        .1
        .chars()
        .map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap_or(c))
        .collect();
    assert_eq!(
        names(&reg.find(&Query::id_number(&full_width).unwrap()).unwrap()),
        vec![target.0.clone()]
    );
    // a 1900s ID has a 15-digit legacy form: 6 region + YYMMDD + 3 sequence digits
    let old = people.iter().find(|p| &p.1[6..8] == "19").unwrap();
    let legacy = format!("{}{}", &old.1[..6], &old.1[8..17]);
    assert_eq!(
        names(&reg.find(&Query::id_number(&legacy).unwrap()).unwrap()),
        vec![old.0.clone()]
    );
    // by phone in another format
    let phone = format!(
        "+86 {}-{}-{}",
        &target.2[..3],
        &target.2[3..7],
        &target.2[7..]
    );
    assert!(names(&reg.find(&Query::phone(&phone).unwrap()).unwrap()).contains(&target.0));
    // by a shared name: both, and nobody else
    let both = reg.find(&Query::name("王 秀英").unwrap()).unwrap();
    let expected = people.iter().filter(|p| p.0 == "王秀英").count();
    assert!(expected >= 2);
    assert_eq!(both.len(), expected);
    // by last 4 + birth year
    let year: i32 = target.1[6..10].parse().unwrap();
    let by_tail = reg
        .find(&Query::id_last4(&target.1[14..], year).unwrap())
        .unwrap();
    assert!(
        by_tail
            .iter()
            .any(|v| v.get("name").unwrap().value.expose() == target.0)
    );
    assert!(by_tail.iter().all(|v| {
        v.get("id_number")
            .unwrap()
            .value
            .expose()
            .ends_with(&target.1[14..])
    }));
    // a miss
    assert!(
        reg.find(&Query::id_number("11010519491231002X").unwrap())
            .unwrap()
            .is_empty()
    );
    drop(reg);

    // no plaintext of any indexed value at rest
    let dir = f.dir.path().to_path_buf();
    drop(f.vault);
    let sample: Vec<&str> = people
        .iter()
        .step_by(997)
        .flat_map(|p| [p.0.as_str(), p.1.as_str(), p.2.as_str()])
        .collect();
    for file in walk(&dir) {
        let bytes = std::fs::read(&file).unwrap();
        for needle in &sample {
            if needle.chars().count() >= 3 {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "{} holds an indexed value",
                    file.display()
                );
            }
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn handler_finds_only_their_petitioners() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let a = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    let b = reg.add_petitioner(&new_petitioner(&PEOPLE[1])).unwrap();
    let ca = reg.open_case(&new_case(vec![a], None, false)).unwrap();
    reg.open_case(&new_case(vec![b], None, false)).unwrap();
    reg.assign_case(ca, "han").unwrap();
    let han = unlock(&f, "han");
    assert_eq!(
        han.find(&Query::id_number(PEOPLE[0].id_number).unwrap())
            .unwrap()
            .len(),
        1
    );
    assert!(
        han.find(&Query::id_number(PEOPLE[1].id_number).unwrap())
            .unwrap()
            .is_empty()
    );
    let hit = &han.find(&Query::phone(PEOPLE[0].phone).unwrap()).unwrap()[0];
    assert!(
        hit.get("id_number").unwrap().masked,
        "a handler sees the ID masked"
    );
    assert!(
        unlock(&f, "ana")
            .find(&Query::name(PEOPLE[0].name).unwrap())
            .is_err()
    );
    // the search is logged with the field, the returned ids, and the withheld count
    let aud = unlock(&f, "aud");
    let q = petition_vault::audit::AuditQuery {
        actor: Some("han".into()),
        action: Some(petition_vault::Action::Find),
        ..Default::default()
    };
    let entries = aud.audit_query(&q).unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0].entry.targets, vec![a]);
    assert_eq!(entries[1].entry.detail.as_deref(), Some("withheld:1"));
    assert_eq!(
        entries[0].entry.requested,
        vec!["find:id_number".to_string()]
    );
    let log = format!("{entries:?}");
    assert!(!log.contains(PEOPLE[0].id_number) && !log.contains(PEOPLE[0].phone));
}

#[test]
fn duplicate_id_at_intake_points_to_the_existing_record() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let a = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    reg.open_case(&new_case(vec![a], None, false)).unwrap();
    let mut again = new_petitioner(&PEOPLE[0]);
    again.id_number = PEOPLE[0].id_number.to_lowercase().as_str().into();
    again.name = "欧阳 娜娜".into();
    match reg.add_petitioner(&again) {
        Err(VaultError::Duplicate {
            existing,
            open_cases,
            closed_cases,
        }) => {
            assert_eq!((existing, open_cases, closed_cases), (a, 1, 0));
        }
        other => panic!("expected a duplicate, got {other:?}"),
    }
    // earlier cases of the same category are listed at case open
    let second = reg.open_case(&new_case(vec![a], None, false)).unwrap();
    let earlier = reg
        .earlier_cases(&[a], "征地拆迁", 90, Some(second))
        .unwrap();
    assert_eq!(earlier.len(), 1);
    assert!(
        reg.earlier_cases(&[a], "劳动社保", 90, Some(second))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn related_cases_share_a_petitioner_or_the_accused_unit() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let a = reg.add_petitioner(&new_petitioner(&PEOPLE[0])).unwrap();
    let b = reg.add_petitioner(&new_petitioner(&PEOPLE[1])).unwrap();
    let group = reg
        .open_case(&new_case(vec![a, b], Some("秦淮区城市管理局"), false))
        .unwrap();
    let same_person = reg.open_case(&new_case(vec![a], None, false)).unwrap();
    let same_unit = reg
        .open_case(&new_case(vec![b], Some("秦淮区 城市管理局"), false))
        .unwrap();
    let unrelated_pid = {
        let mut p = new_petitioner(&PEOPLE[1]);
        p.id_number = "110101199003074514".into();
        reg.add_petitioner(&p).unwrap()
    };
    let unrelated = reg
        .open_case(&new_case(vec![unrelated_pid], Some("鼓楼区教育局"), false))
        .unwrap();
    let rel = reg.related_cases(group, 90).unwrap();
    let ids: Vec<_> = rel.iter().map(|(c, r)| (c.id, r.as_str())).collect();
    assert!(ids.contains(&(same_person, "shared_petitioner")), "{ids:?}");
    assert!(
        ids.contains(&(same_unit, "shared_petitioner+same_accused_unit")),
        "{ids:?}"
    );
    assert!(!ids.iter().any(|(id, _)| *id == unrelated));
}

#[test]
fn import_reports_bad_rows_by_line_and_reruns_idempotently() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let existing = reg.add_petitioner(&new_petitioner(&PEOPLE[1])).unwrap();
    let mut file = "姓名,身份证号,联系电话,标题,内容,类别\n"
        .as_bytes()
        .to_vec();
    file.extend_from_slice(
        "欧阳娜娜,11010519491231002X,13812345678,拆迁补偿,补偿款未发放,征地拆迁\n".as_bytes(),
    ); // 2 ok
    file.extend_from_slice("李四,110105194912310021,13900000000,,,\n".as_bytes()); // 3 bad checksum
    file.extend_from_slice(",110101199003074514,,,,\n".as_bytes()); // 4 missing name
    file.extend_from_slice(b"\xd5\xc5\xc8\xfd\xff,110101199003074514,,,,\n"); // 5 broken encoding
    file.extend_from_slice("欧阳娜娜,11010519491231002x,,工资,拖欠工资,劳动社保\n".as_bytes()); // 6 same person: merged, second case
    file.extend_from_slice(format!("张伟,{},,,,\n", PEOPLE[1].id_number).as_bytes()); // 7 already in the vault
    file.extend_from_slice("王芳,110101199003074514,021-62345678,,,\n".as_bytes()); // 8 ok
    let run = |dry: bool| {
        let parsed = import::parse(&file, Format::Csv, None).unwrap();
        reg.import(parsed, dry, 2, &mut |_, _| {}).unwrap()
    };
    let dry = run(true);
    assert!(dry.dry_run);
    assert_eq!(
        reg.list_cases().unwrap().len(),
        0,
        "a dry run writes nothing"
    );
    let first = run(false);
    let lines: Vec<(u64, String)> = first
        .rejected
        .iter()
        .map(|r| (r.line, r.reason.clone()))
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0].0, 3);
    assert!(lines[0].1.contains("check digit"), "{lines:?}");
    assert_eq!(lines[1], (4, "missing name".to_string()));
    assert_eq!(
        lines[2],
        (5, "broken encoding (not valid UTF-8)".to_string())
    );
    assert!(
        lines.iter().all(|(_, r)| !r.contains("110105")),
        "reasons never echo values"
    );
    assert_eq!(
        (
            first.petitioners_created,
            first.petitioners_merged,
            first.cases_created
        ),
        (2, 2, 2)
    );
    assert_eq!(
        (dry.petitioners_created, dry.cases_created),
        (first.petitioners_created, first.cases_created)
    );
    let hit = reg
        .find(&Query::id_number("11010519491231002X").unwrap())
        .unwrap();
    assert_eq!(hit.len(), 1);
    assert_eq!(
        hit[0]
            .get("case_ids")
            .unwrap()
            .value
            .expose()
            .split(',')
            .count(),
        2
    );
    assert_eq!(
        reg.find(&Query::phone("021-62345678").unwrap())
            .unwrap()
            .len(),
        1
    );
    // re-run: nothing new
    let second = run(false);
    assert_eq!(
        (
            second.petitioners_created,
            second.cases_created,
            second.cases_skipped
        ),
        (0, 0, 2)
    );
    assert_eq!(reg.list_cases().unwrap().len(), 2);
    assert_eq!(
        reg.find(&Query::id_number(PEOPLE[1].id_number).unwrap())
            .unwrap()[0]
            .id,
        existing
    );
    // one audit entry per batch, listing the ids
    let aud = unlock(&f, "aud");
    let q = petition_vault::audit::AuditQuery {
        action: Some(petition_vault::Action::Import),
        ..Default::default()
    };
    let entries = aud.audit_query(&q).unwrap();
    assert!(
        entries
            .iter()
            .filter(|e| e.entry.detail.is_none())
            .all(|e| !e.entry.targets.is_empty())
    );
    assert!(f.vault.verify_audit(Some(&f.audit_key), &[]).is_ok());
}

/// Batches are sealed while the previous one commits: a petitioner registered or given a
/// case by one batch gets more cases in the next ones, and every link lands, in file order.
#[test]
fn import_links_cases_across_batches_to_petitioners_of_earlier_batches() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let existing = reg.add_petitioner(&new_petitioner(&PEOPLE[1])).unwrap();
    let mut file = String::from("姓名,身份证号,联系电话,标题,内容,类别\n");
    for row in [
        "欧阳娜娜,11010519491231002X,13812345678,拆迁补偿一,补偿款未发放,征地拆迁",
        "王芳,110101199003074514,021-62345678,,,",
        "欧阳娜娜,11010519491231002X,,拆迁补偿二,欧阳娜娜的补偿款仍未发放,征地拆迁",
        &format!("张伟,{},,工资,拖欠工资,劳动社保", PEOPLE[1].id_number),
        "王芳,110101199003074514,,噪音,夜间施工,环境保护",
        "欧阳娜娜,11010519491231002X,,拆迁补偿三,第三次反映,征地拆迁",
    ] {
        file.push_str(row);
        file.push('\n');
    }
    let run = || {
        let parsed = import::parse(file.as_bytes(), Format::Csv, None).unwrap();
        let mut seen = Vec::new();
        let report = reg
            .import(parsed, false, 2, &mut |done, total| {
                seen.push((done, total))
            })
            .unwrap();
        (report, seen)
    };
    let (report, seen) = run();
    assert_eq!(
        (
            report.petitioners_created,
            report.petitioners_merged,
            report.cases_created,
            report.batches
        ),
        (2, 4, 5, 3)
    );
    assert_eq!(seen, vec![(0, 6), (2, 6), (4, 6), (6, 6)]);
    let case_count = |id_number: &str| {
        let hit = reg.find(&Query::id_number(id_number).unwrap()).unwrap();
        assert_eq!(hit.len(), 1);
        let ids = hit[0].get("case_ids").unwrap().value.expose().to_owned();
        (hit[0].id, ids.split(',').filter(|s| !s.is_empty()).count())
    };
    let (ouyang, n) = case_count("11010519491231002X");
    assert_eq!(n, 3);
    let (wang, n) = case_count("110101199003074514");
    assert_eq!(n, 1);
    assert_eq!(case_count(PEOPLE[1].id_number), (existing, 1));
    assert_eq!(reg.list_cases().unwrap().len(), 5);
    // One audit entry per batch; each lists the petitioners it changed.
    let aud = unlock(&f, "aud");
    let q = petition_vault::audit::AuditQuery {
        action: Some(petition_vault::Action::Import),
        ..Default::default()
    };
    let entries: Vec<_> = aud
        .audit_query(&q)
        .unwrap()
        .into_iter()
        .filter(|e| e.entry.detail.is_none())
        .collect();
    assert_eq!(entries.len(), 3);
    let has = |i: usize, id| entries[i].entry.targets.contains(&id);
    assert!(has(0, ouyang) && has(0, wang));
    assert!(has(1, ouyang) && has(1, existing));
    assert!(has(2, ouyang) && has(2, wang));
    assert!(f.vault.verify_audit(Some(&f.audit_key), &[]).is_ok());
    // Re-running creates nothing.
    let (again, _) = run();
    assert_eq!((again.cases_created, again.cases_skipped), (0, 5));
}

/// An import batch names more records than the audit index keeps one key each for, so it is
/// indexed in buckets; a record's history still lists its import entry and its reads after
/// it, in order, and only entries that name it.
#[test]
fn an_imported_records_history_lists_its_import_batch_and_later_reads() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let mut synth = Synth::new(11);
    let people: Vec<(String, String, String)> = (0..600)
        .map(|_| {
            let p = synth.person();
            (p.name, p.id_number, p.phone)
        })
        .collect();
    let parsed = import::parse(csv_of(&people).as_bytes(), Format::Csv, None).unwrap();
    // two batches of 300: each entry names more than 256 records
    let report = reg.import(parsed, false, 300, &mut |_, _| {}).unwrap();
    assert_eq!(report.petitioners_created, 600, "{:?}", report.rejected);
    let buckets = f
        .vault
        .store()
        .scan_prefix(petition_vault::store::Tree::AuditIndex, b"b")
        .unwrap();
    assert!(buckets.len() > 256, "both batches indexed in buckets");
    let id_of = |i: usize| reg.find(&Query::id_number(&people[i].1).unwrap()).unwrap()[0].id;
    let (first, last) = (id_of(5), id_of(595));
    reg.show_petitioner(first, None).unwrap();

    let aud = unlock(&f, "aud");
    let history = |id| {
        aud.audit_query(&petition_vault::audit::AuditQuery {
            record: Some(id),
            ..Default::default()
        })
        .unwrap()
    };
    let h = history(first);
    let actions: Vec<_> = h.iter().map(|e| e.entry.action).collect();
    // oldest first: the import of its batch, the find that returned it, the show, and
    // this query itself (an auditor's read of a record's history is logged against it)
    assert_eq!(
        actions,
        vec![
            petition_vault::Action::Import,
            petition_vault::Action::Find,
            petition_vault::Action::PetitionerShow,
            petition_vault::Action::AuditRead,
        ],
        "{actions:?}"
    );
    assert!(h.iter().all(|e| e.entry.targets.contains(&first)));
    let imports: Vec<u64> = history(last)
        .iter()
        .filter(|e| e.entry.action == petition_vault::Action::Import)
        .map(|e| e.entry.seq)
        .collect();
    assert_eq!(imports.len(), 1);
    assert!(
        imports[0] > h[0].entry.seq,
        "the second batch's entry, not the first's"
    );
    assert!(f.vault.verify_audit(Some(&f.audit_key), &[]).is_ok());
}

#[test]
fn a_file_broken_part_way_stops_the_import_after_the_committed_batches_and_a_rerun_skips_them() {
    let f = fixture();
    let reg = unlock(&f, "reg");
    let recs = Synth::new(31).records(30);
    let csv = petition_vault::model::synth::import_csv(recs.iter().map(|(p, c)| (p, c)));
    let rows = || import::parse(&csv, Format::Csv, None).unwrap().rows;
    // 25 rows, then the file breaks (as if it changed after it was checked)
    let mut lines = rows()
        .into_iter()
        .take(25)
        .map(|r| Ok(Ok(r)))
        .chain(std::iter::once(Err(import::ImportError::Csv(27))));
    let err = reg
        .import_rows(&mut lines, 30, false, 10, &mut |_, _| {})
        .unwrap_err();
    assert!(
        matches!(err, VaultError::ImportFile(import::ImportError::Csv(27))),
        "{err}"
    );
    // the two whole batches before the break are in; the third, cut short, is not
    let found = |i: usize| {
        !reg.find(&Query::id_number(&recs[i].0.id_number).unwrap())
            .unwrap()
            .is_empty()
    };
    assert!((0..20).all(found));
    assert!(!(20..30).any(found));
    // the whole file again: the first twenty rows are skipped, the rest imported
    let report = reg
        .import(
            import::parse(&csv, Format::Csv, None).unwrap(),
            false,
            10,
            &mut |_, _| {},
        )
        .unwrap();
    assert_eq!(
        (
            report.rows,
            report.petitioners_created,
            report.cases_created,
            report.cases_skipped
        ),
        (30, 10, 10, 20)
    );
    assert!((0..30).all(found));
}
