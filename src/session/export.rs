//! Exports through the gate, streamed: a first pass reads only case meta to select the
//! cases (and their petitioners) this user may export; then ONE audit entry listing every
//! selected id is committed durably; only then is anything decrypted for output: the
//! exported petitioners, once each in key order, into their compact row cells, and then
//! the cases, chunk by chunk on every core, handed to the output in case-id order. Memory
//! holds the selected ids (the audit entry needs them all), the petitioner cells (tens of
//! bytes each) and one chunk of rows, not the export.

use super::{Reason, Session, decode_record_ref, format_ms, join_ids};
use crate::audit::{AuditCommitted, Outcome};
use crate::crypto::{self, SecretText};
use crate::error::VaultError;
use crate::export::{Export, ExportRow, Filters, Format, Manifest, Profile, RowText, RowWriter};
use crate::model::{self, CaseMeta, RecordId, RecordView, Table};
use crate::policy::{self, Action, Class, Denial};
use crate::store::{Tree, WriteSet};
use crate::vault::now_ms;
use rayon::prelude::*;
use std::fmt::Write as _;
use zeroize::Zeroizing;

/// Records read and decrypted per step: bounds memory, and is enough work to share between
/// cores.
const CHUNK: usize = 512;

/// Where rows go, once the audit entry is committed.
trait RowSink {
    /// Called once, after the audit entry is durable and before any row.
    fn begin(&mut self, columns: &[&'static str], total: usize) -> std::io::Result<()>;
    /// One row, cells in column order.
    fn row(&mut self, row: &RowText) -> std::io::Result<()>;
}

/// What was exported (the rows went to the sink).
struct Exported {
    export_id: String,
    time_ms: i64,
    columns: Vec<&'static str>,
    count: usize,
}

/// The petitioner columns of a profile: (column, field).
fn person_fields(profile: Profile) -> &'static [(&'static str, &'static str)] {
    match profile {
        Profile::Full => &[
            ("petitioner_names", "name"),
            ("petitioner_id_numbers", "id_number"),
            ("petitioner_birth_dates", "birth_date"),
            ("petitioner_genders", "gender"),
            ("petitioner_ethnicities", "ethnicity"),
            ("petitioner_phones", "phones"),
            ("petitioner_addresses", "address"),
            ("petitioner_emails", "email"),
        ],
        _ => &[
            ("petitioner_names", "name"),
            ("petitioner_id_numbers", "id_number"),
            ("petitioner_birth_years", "birth_date"),
            ("petitioner_phones", "phones"),
            ("petitioner_regions", "address"),
        ],
    }
}

fn columns_of(profile: Profile) -> Vec<&'static str> {
    let mut columns: Vec<&'static str> = vec![
        "case_id",
        "case_no",
        "category",
        "channel",
        "status",
        "received_at",
        "is_accusation",
        "petitioner_count",
        "title",
        "content",
        "demands",
    ];
    if profile == Profile::Full {
        columns.extend(["accused_unit", "petitioner_ids"]);
    }
    if profile == Profile::Pseudonymous {
        columns.push("petitioner_tokens");
    }
    columns.extend(person_fields(profile).iter().map(|(c, _)| *c));
    columns
}

fn case_id_of(key: &[u8]) -> Result<RecordId, VaultError> {
    Ok(RecordId(
        key.try_into()
            .map_err(|_| VaultError::Corrupt("record key"))?,
    ))
}

/// The petitioner cells of every exported petitioner (one per petitioner column, already in
/// the form the row shows), in the order of the sorted petitioner ids, in one buffer.
/// Petitioners are read in key order, once each, before the rows: a case-ordered row
/// stream would otherwise read them at random, which on a large vault means a page read
/// per row. About 60 bytes per petitioner.
struct PeopleCells {
    cells: RowText,
    per_person: usize,
}

impl PeopleCells {
    fn cell(&self, person: usize, column: usize) -> &str {
        self.cells.nth(person * self.per_person + column)
    }
}

/// A record's id and stored bytes.
type StoredCase = (RecordId, Vec<u8>);

/// What pass 1 chose, and by which filters.
#[derive(Clone, Copy)]
struct Selection<'a> {
    filters: &'a Filters,
    /// Case ids in key order.
    cases: &'a [RecordId],
    /// Their petitioners, sorted, once each.
    petitioners: &'a [RecordId],
}

/// A case ready to become a row: its meta and its (field-class) view.
struct CasePart {
    id: RecordId,
    meta: CaseMeta,
    view: RecordView,
}

impl<'v> Session<'v> {
    /// Exports cases (one row each) in a profile, all rows in memory. `redacted` and
    /// `pseudonymous` use only the masked and meta classes, whatever else the role holds;
    /// `full` needs a role holding identity, contact and content, and a reason. One audit
    /// entry lists every exported case and petitioner id before any row is built. Honey
    /// (canary) records are never exported. For large exports prefer
    /// [`Session::export_to`], which writes rows as they are decrypted.
    pub fn export(
        &self,
        profile: Profile,
        filters: Filters,
        reason: Option<&Reason>,
    ) -> Result<Export, VaultError> {
        struct Collect {
            columns: Vec<&'static str>,
            rows: Vec<ExportRow>,
        }
        impl RowSink for Collect {
            fn begin(&mut self, columns: &[&'static str], total: usize) -> std::io::Result<()> {
                self.columns = columns.to_vec();
                self.rows.reserve(total);
                Ok(())
            }
            fn row(&mut self, row: &RowText) -> std::io::Result<()> {
                self.rows.push(ExportRow {
                    fields: self
                        .columns
                        .iter()
                        .zip(row.cells())
                        .map(|(c, v)| (*c, SecretText::from(v)))
                        .collect(),
                });
                Ok(())
            }
        }
        let mut sink = Collect {
            columns: vec![],
            rows: vec![],
        };
        let done = self.export_rows(profile, &filters, reason, &mut sink)?;
        Ok(Export {
            export_id: done.export_id,
            time_ms: done.time_ms,
            actor: self.user.name.clone(),
            profile,
            filters,
            columns: done.columns,
            rows: sink.rows,
        })
    }

    /// Exports as [`Session::export`] does, but writes each row to `out` in `format` as soon
    /// as it is decrypted, so memory does not grow with the number of rows, and returns the
    /// manifest (row count and SHA-256 of the bytes written). Nothing is written to `out`
    /// unless the audit entry was committed; if writing fails part-way, the entry stands (the
    /// export was attempted) and the caller should discard what was written.
    pub fn export_to(
        &self,
        profile: Profile,
        filters: Filters,
        reason: Option<&Reason>,
        format: Format,
        out: &mut dyn std::io::Write,
    ) -> Result<Manifest, VaultError> {
        self.export_to_with_progress(profile, filters, reason, format, out, &mut |_, _| {})
    }

    /// [`Session::export_to`], calling `progress(rows written, rows selected)` as it goes.
    pub fn export_to_with_progress(
        &self,
        profile: Profile,
        filters: Filters,
        reason: Option<&Reason>,
        format: Format,
        out: &mut dyn std::io::Write,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Manifest, VaultError> {
        struct Write<'a, 'p> {
            format: Format,
            out: Option<&'a mut dyn std::io::Write>,
            writer: Option<RowWriter<&'a mut dyn std::io::Write>>,
            total: usize,
            done: usize,
            progress: &'p mut dyn FnMut(usize, usize),
        }
        impl RowSink for Write<'_, '_> {
            fn begin(&mut self, columns: &[&'static str], total: usize) -> std::io::Result<()> {
                let out = self.out.take().expect("begin is called once");
                self.writer = Some(RowWriter::begin(self.format, columns, out)?);
                self.total = total;
                (self.progress)(0, total);
                Ok(())
            }
            fn row(&mut self, row: &RowText) -> std::io::Result<()> {
                let w = self.writer.as_mut().expect("begin came first");
                w.column_row(row.cells())?;
                self.done += 1;
                if self.done.is_multiple_of(1024) {
                    (self.progress)(self.done, self.total);
                }
                Ok(())
            }
        }
        let mut sink = Write {
            format,
            out: Some(out),
            writer: None,
            total: 0,
            done: 0,
            progress,
        };
        let done = self.export_rows(profile, &filters, reason, &mut sink)?;
        let writer = sink.writer.take().expect("begin came first");
        let (_, sha256) = writer.finish().map_err(VaultError::ExportWrite)?;
        (sink.progress)(done.count, done.count);
        Ok(Manifest {
            export_id: done.export_id,
            time: crate::audit::format_time(done.time_ms),
            actor: self.user.name.clone(),
            profile,
            filters,
            count: done.count,
            format: format.as_str().to_owned(),
            sha256: hex::encode(sha256),
        })
    }

    /// The classes an export in `profile` decrypts, after the role checks (a refusal is
    /// logged).
    fn export_classes(
        &self,
        profile: Profile,
        reason: Option<&Reason>,
    ) -> Result<Vec<Class>, VaultError> {
        let classes = match profile {
            Profile::Redacted | Profile::Pseudonymous => vec![Class::Masked, Class::Meta],
            Profile::Full => {
                let Some(_) = reason else {
                    return Err(VaultError::Invalid(model::ValidationError {
                        field: "reason",
                        rule: "a full export needs --reason (it is recorded in the access log)",
                    }));
                };
                let c = self.readable(policy::readable_classes(self.user.role, true));
                if ![Class::Identity, Class::Contact, Class::Content]
                    .iter()
                    .all(|x| c.contains(x))
                {
                    return Err(self.deny(
                        Action::Export,
                        vec![],
                        VaultError::Denied(Denial::RoleNotPermitted {
                            role: self.user.role,
                            action: "export_full",
                        }),
                        "full_export_needs_all_classes",
                    ));
                }
                c
            }
        };
        if !classes.iter().all(|c| self.keyring.holds(*c)) {
            return Err(self.deny(
                Action::Export,
                vec![],
                VaultError::Denied(Denial::RoleNotPermitted {
                    role: self.user.role,
                    action: "export",
                }),
                "missing_class",
            ));
        }
        Ok(classes)
    }

    /// Calls `f` on the records of `tree` in key order, `CHUNK` at a time (copies of the
    /// stored bytes, so that the chunk can be shared between threads).
    fn record_chunks(
        &self,
        tree: Tree,
        f: &mut dyn FnMut(&[StoredCase]) -> Result<(), VaultError>,
    ) -> Result<(), VaultError> {
        let mut chunk: Vec<StoredCase> = Vec::with_capacity(CHUNK);
        let mut failed = None;
        self.vault.store.visit(tree, &[], &mut |key, value| {
            let step = case_id_of(key).and_then(|id| {
                chunk.push((id, value.to_vec()));
                if chunk.len() == CHUNK {
                    let r = f(&chunk);
                    chunk.clear();
                    r
                } else {
                    Ok(())
                }
            });
            match step {
                Ok(()) => true,
                Err(e) => {
                    failed = Some(e);
                    false
                }
            }
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        if !chunk.is_empty() {
            f(&chunk)?;
        }
        Ok(())
    }

    /// The one export pipeline: authorize, select from meta, commit one audit entry with
    /// every id, then decrypt and hand rows to `sink` in case-id order.
    fn export_rows(
        &self,
        profile: Profile,
        filters: &Filters,
        reason: Option<&Reason>,
        sink: &mut dyn RowSink,
    ) -> Result<Exported, VaultError> {
        self.require(Action::Export)?;
        let classes = self.export_classes(profile, reason)?;

        // Pass 1: meta only, for selection. Nothing of it leaves this function.
        let mut cases: Vec<RecordId> = Vec::new();
        let mut petitioners: Vec<RecordId> = Vec::new();
        self.record_chunks(Tree::Cases, &mut |chunk| {
            let picked: Vec<Option<(RecordId, Vec<RecordId>)>> = chunk
                .par_iter()
                .map(|(id, bytes)| {
                    let rec = decode_record_ref(Table::Case, id, bytes)?;
                    let meta = self.case_meta(id, &rec)?;
                    Ok(self
                        .case_selected(&meta, filters)
                        .then_some((*id, meta.petitioner_ids)))
                })
                .collect::<Result<_, VaultError>>()?;
            for (id, pids) in picked.into_iter().flatten() {
                cases.push(id);
                petitioners.extend(pids);
            }
            Ok(())
        })?;
        petitioners.sort();
        petitioners.dedup();

        // The gate: one durable entry listing every case and petitioner before any row.
        let export_id = hex::encode(crypto::random_array::<8>()?);
        let time_ms = now_ms();
        let mut e = self.entry(Action::Export, Outcome::Allowed, None);
        e.targets = Vec::with_capacity(cases.len() + petitioners.len());
        e.targets.extend_from_slice(&cases);
        e.targets.extend_from_slice(&petitioners);
        e.purpose = Some(format!("export:{}", profile.as_str()));
        e.detail = Some(format!("export_id:{export_id}"));
        e.reason = reason.map(|r| r.0.clone());
        e.returned = classes.iter().map(|c| format!("class:{c}")).collect();
        let proof = self.commit(&WriteSet::new(), &e)?;
        drop(e);

        let columns = columns_of(profile);
        sink.begin(&columns, cases.len())
            .map_err(VaultError::ExportWrite)?;
        let selection = Selection {
            filters,
            cases: &cases,
            petitioners: &petitioners,
        };
        let count = self.export_pass(&proof, profile, &classes, &selection, sink)?;
        Ok(Exported {
            export_id,
            time_ms,
            columns,
            count,
        })
    }

    /// Pass 2: decrypts the selected cases (in key order) and their petitioners, and hands
    /// the rows to `sink`. A case that no longer qualifies (changed since the selection) is
    /// left out, and a petitioner not in the audit entry is never shown.
    fn export_pass(
        &self,
        proof: &AuditCommitted,
        profile: Profile,
        classes: &[Class],
        selection: &Selection<'_>,
        sink: &mut dyn RowSink,
    ) -> Result<usize, VaultError> {
        let Selection {
            filters,
            cases,
            petitioners,
        } = *selection;
        let pseudonym_key: Option<Zeroizing<[u8; 32]>> = match profile {
            Profile::Pseudonymous => {
                let v = (1..=self.keyring.current_version(Class::Masked).unwrap_or(1))
                    .find(|v| self.keyring.key(Class::Masked, *v).is_some())
                    .unwrap_or(1);
                self.keyring
                    .key(Class::Masked, v)
                    .map(|k| Zeroizing::new(crypto::hmac_sha256(k.expose(), &[b"pv1/pseudonym"])))
            }
            _ => None,
        };
        // Rows take their meta columns from the case meta opened for the check below; the
        // views need only the field classes.
        let field_classes: Vec<Class> = classes
            .iter()
            .copied()
            .filter(|c| *c != Class::Meta)
            .collect();
        let people = person_fields(profile);
        let cells = self.people_cells(proof, petitioners, people, &field_classes)?;
        let mut next = 0usize; // index into `cases` (both in key order)
        let mut count = 0usize;
        if cases.is_empty() {
            return Ok(0);
        }
        self.record_chunks(Tree::Cases, &mut |chunk| {
            let mut wanted: Vec<&StoredCase> = Vec::new();
            for item in chunk {
                while next < cases.len() && cases[next] < item.0 {
                    next += 1; // selected, but gone since: no row
                }
                if next < cases.len() && cases[next] == item.0 {
                    wanted.push(item);
                    next += 1;
                }
            }
            if wanted.is_empty() {
                return Ok(());
            }
            let rows: Vec<Option<RowText>> = wanted
                .par_iter()
                .map(|(id, bytes)| {
                    let rec = decode_record_ref(Table::Case, id, bytes)?;
                    let meta = self.case_meta(id, &rec)?;
                    if !self.case_selected(&meta, filters) {
                        return Ok(None);
                    }
                    let view = self.open_view(proof, Table::Case, *id, &rec, &field_classes)?;
                    let part = CasePart {
                        id: *id,
                        meta,
                        view,
                    };
                    Ok(Some(render_row(
                        profile,
                        &part,
                        people.len(),
                        pseudonym_key.as_deref(),
                        &|p: &RecordId, column: usize| {
                            petitioners
                                .binary_search(p)
                                .map_or("", |i| cells.cell(i, column))
                        },
                    )))
                })
                .collect::<Result<_, VaultError>>()?;
            for row in rows.iter().flatten() {
                sink.row(row).map_err(VaultError::ExportWrite)?;
                count += 1;
            }
            Ok(())
        })?;
        Ok(count)
    }
}

impl Session<'_> {
    /// Decrypts every exported petitioner once, in key order, into their row cells (see
    /// [`PeopleCells`]). A petitioner whose record is gone gets empty cells.
    fn people_cells(
        &self,
        proof: &AuditCommitted,
        petitioners: &[RecordId],
        people: &[(&'static str, &'static str)],
        field_classes: &[Class],
    ) -> Result<PeopleCells, VaultError> {
        let mut out = PeopleCells {
            cells: RowText::default(),
            per_person: people.len(),
        };
        let empty = |out: &mut PeopleCells| {
            for _ in 0..people.len() {
                out.cells.push("");
            }
        };
        let mut next = 0usize;
        if petitioners.is_empty() {
            return Ok(out);
        }
        self.record_chunks(Tree::Petitioners, &mut |chunk| {
            let wanted: Vec<&StoredCase> = chunk
                .iter()
                .filter(|(id, _)| petitioners.binary_search(id).is_ok())
                .collect();
            let opened: Vec<RowText> = wanted
                .par_iter()
                .map(|(pid, bytes)| {
                    let rec = decode_record_ref(Table::Petitioner, pid, bytes)?;
                    let view =
                        self.open_view(proof, Table::Petitioner, *pid, &rec, field_classes)?;
                    let mut cells = RowText::default();
                    for (col, field) in people {
                        cells.cell(|t| {
                            let Some(f) = view.get(field) else {
                                return;
                            };
                            match (*col, f.masked) {
                                ("petitioner_regions", _) => {
                                    t.push_str(&crate::export::province_of(f.value.expose()))
                                }
                                ("petitioner_birth_years", false) => {
                                    t.extend(f.value.expose().chars().take(4))
                                }
                                _ => t.push_str(f.value.expose()),
                            }
                        });
                    }
                    Ok(cells)
                })
                .collect::<Result<_, VaultError>>()?;
            for ((pid, _), cells) in wanted.into_iter().zip(opened) {
                while next < petitioners.len() && petitioners[next] < *pid {
                    empty(&mut out); // selected, but gone since
                    next += 1;
                }
                for c in cells.cells() {
                    out.cells.push(c);
                }
                next += 1;
            }
            Ok(())
        })?;
        while next < petitioners.len() {
            empty(&mut out);
            next += 1;
        }
        Ok(out)
    }
}

/// One row, in the columns of [`columns_of`].
fn render_row<'c>(
    profile: Profile,
    part: &CasePart,
    person_columns: usize,
    pseudonym_key: Option<&[u8; 32]>,
    person_cell: &dyn Fn(&RecordId, usize) -> &'c str,
) -> RowText {
    let meta = &part.meta;
    let text = |name: &str| part.view.get(name).map(|f| f.value.expose()).unwrap_or("");
    let mut row = RowText::default();
    row.cell(|t| {
        let _ = write!(t, "{}", part.id);
    });
    row.push(&meta.case_no);
    row.push(&meta.category);
    row.push(meta.channel.as_str());
    row.push(meta.status.as_str());
    row.push(&format_ms(meta.received_at));
    row.push(if meta.is_accusation { "true" } else { "false" });
    row.cell(|t| {
        let _ = write!(t, "{}", meta.petitioner_ids.len());
    });
    row.push(text("title"));
    row.push(text("content"));
    row.push(text("demands"));
    if profile == Profile::Full {
        row.push(text("accused_unit"));
        row.push(&join_ids(&meta.petitioner_ids));
    }
    if let Some(key) = pseudonym_key {
        row.cell(|t| {
            for (i, p) in meta.petitioner_ids.iter().enumerate() {
                if i > 0 {
                    t.push(';');
                }
                t.push_str(&hex::encode(&crypto::hmac_sha256(key, &[&p.0])[..8]));
            }
        });
    }
    for column in 0..person_columns {
        row.cell(|t| {
            for (i, p) in meta.petitioner_ids.iter().enumerate() {
                if i > 0 {
                    t.push(';');
                }
                t.push_str(person_cell(p, column));
            }
        });
    }
    row
}
