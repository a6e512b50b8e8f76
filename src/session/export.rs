//! Exports through the gate, streamed: a first pass reads only case meta to select the
//! cases (and their petitioners) this user may export; then ONE audit entry listing every
//! selected id is committed durably; only then is anything decrypted for output: the
//! exported petitioners, once each in key order, into their compact row cells, and then
//! the cases, chunk by chunk, handed to the output in case-id order. Memory holds the
//! selected ids (the audit entry needs them all), the petitioner cells (tens of bytes
//! each) and a few chunks of rows, not the export.
//!
//! Every pass is a pipeline ([`Session::pipelined`]): this thread reads the store and
//! copies records into chunks, the rayon pool decrypts (and, for a file, encodes) whole
//! chunks meanwhile, and this thread takes the results back in order.

use super::{CaseGate, CaseMetaHead, FieldTexts, Reason, Session, decode_record_ref, join_ids};
use crate::audit::{AuditCommitted, Outcome};
use crate::crypto::{self, SecretText};
use crate::error::VaultError;
use crate::export::{
    Export, ExportRow, Filters, Format, Manifest, Profile, RowEncoder, RowText, RowWriter,
};
use crate::model::{self, RecordId, Table};
use crate::policy::{self, Action, Class, Denial};
use crate::store::{Tree, WriteSet};
use crate::vault::now_ms;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::mpsc;
use zeroize::Zeroizing;

/// Records read and decrypted per step (one job for one core).
const CHUNK: usize = 256;
/// Chunks being decrypted at once, besides the one being read: bounds memory, and keeps
/// every core busy while this thread reads the store and writes the output.
const IN_FLIGHT: usize = 6;

/// Where rows go, once the audit entry is committed.
trait RowSink {
    /// Called once, after the audit entry is durable and before any row.
    fn begin(&mut self, columns: &[&'static str], total: usize) -> std::io::Result<()>;
    /// One row, cells in column order.
    fn row(&mut self, row: &RowText) -> std::io::Result<()>;
    /// The encoder of this sink's output, when it writes bytes: rows are then encoded
    /// where they are decrypted and handed over with [`RowSink::encoded`].
    fn encoder(&self) -> Option<RowEncoder> {
        None
    }
    /// `rows` rows encoded by [`RowSink::encoder`].
    fn encoded(&mut self, _bytes: &[u8], _rows: usize) -> std::io::Result<()> {
        unreachable!("only a sink with an encoder is given encoded rows")
    }
}

/// Records of one tree copied out of the store, in key order: ids, and the stored bytes of
/// all in one buffer.
#[derive(Default)]
struct Chunk {
    ids: Vec<RecordId>,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Chunk {
    fn push(&mut self, id: RecordId, value: &[u8]) {
        if self.ids.is_empty() && self.bytes.capacity() == 0 {
            // A fresh chunk: room for CHUNK records like this one, and a little more.
            self.ids.reserve(CHUNK);
            self.ends.reserve(CHUNK);
            self.bytes.reserve(value.len() * CHUNK * 5 / 4);
        }
        self.ids.push(id);
        self.bytes.extend_from_slice(value);
        self.ends.push(self.bytes.len());
    }

    fn len(&self) -> usize {
        self.ids.len()
    }

    fn clear(&mut self) {
        self.ids.clear();
        self.bytes.clear();
        self.ends.clear();
    }

    /// The records: id and stored bytes.
    fn records(&self) -> impl Iterator<Item = (&RecordId, &[u8])> {
        let mut start = 0;
        self.ids.iter().zip(&self.ends).map(move |(id, &end)| {
            let bytes = &self.bytes[start..end];
            start = end;
            (id, bytes)
        })
    }
}

/// The rows of one chunk of cases: cells, or already encoded for the output.
enum ChunkRows {
    Cells(Vec<RowText>),
    Encoded {
        bytes: Zeroizing<Vec<u8>>,
        rows: usize,
    },
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

/// What pass 1 chose, and by which filters.
#[derive(Clone, Copy)]
struct Selection<'a> {
    filters: &'a Filters,
    /// Case ids in key order.
    cases: &'a [RecordId],
    /// Their petitioners, sorted, once each.
    petitioners: &'a [RecordId],
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
            fn encoder(&self) -> Option<RowEncoder> {
                self.writer.as_ref().map(|w| w.encoder().clone())
            }
            fn encoded(&mut self, bytes: &[u8], rows: usize) -> std::io::Result<()> {
                let w = self.writer.as_mut().expect("begin came first");
                w.encoded(bytes)?;
                let before = self.done / 1024;
                self.done += rows;
                if self.done / 1024 != before {
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

    /// Reads the records of `tree` in key order that `keep` wants into chunks, runs `work`
    /// on each chunk on the rayon pool while the next chunks are read, and hands the
    /// results to `consume` on this thread, in order. At most [`IN_FLIGHT`] chunks are
    /// out at once. The first error stops the reading and is returned.
    fn pipelined<T: Send>(
        &self,
        tree: Tree,
        keep: &mut dyn FnMut(&RecordId) -> bool,
        work: &(dyn Fn(&Chunk) -> Result<T, VaultError> + Sync),
        consume: &mut dyn FnMut(T) -> Result<(), VaultError>,
    ) -> Result<(), VaultError> {
        type Done<T> = mpsc::Receiver<(Result<T, VaultError>, Chunk)>;
        rayon::in_place_scope(|scope| {
            let mut out: VecDeque<Done<T>> = VecDeque::new();
            let mut spare: Vec<Chunk> = Vec::new();
            let mut chunk = Chunk::default();
            // Takes the oldest result (waiting for it when `wait`); false when none is ready.
            let mut take = |out: &mut VecDeque<Done<T>>,
                            spare: &mut Vec<Chunk>,
                            wait: bool|
             -> Result<bool, VaultError> {
                let Some(front) = out.front() else {
                    return Ok(false);
                };
                let got = loop {
                    match front.try_recv() {
                        Ok(got) => break got,
                        Err(mpsc::TryRecvError::Empty) if !wait => return Ok(false),
                        Err(mpsc::TryRecvError::Empty) => {
                            // On a pool thread, run pool work (perhaps this very chunk)
                            // rather than block the thread it needs.
                            if rayon::yield_now() != Some(rayon::Yield::Executed)
                                && let Ok(got) =
                                    front.recv_timeout(std::time::Duration::from_millis(1))
                            {
                                break got;
                            }
                        }
                        Err(mpsc::TryRecvError::Disconnected) => {
                            return Err(VaultError::Corrupt("export worker stopped"));
                        }
                    }
                };
                out.pop_front();
                let (result, mut used) = got;
                used.clear();
                spare.push(used);
                consume(result?)?;
                Ok(true)
            };
            let mut failed = None;
            let send = |chunk: Chunk, out: &mut VecDeque<Done<T>>| {
                let (tx, rx) = mpsc::sync_channel(1);
                scope.spawn(move |_| {
                    let result = work(&chunk);
                    let _ = tx.send((result, chunk));
                });
                out.push_back(rx);
            };
            self.vault.store.visit(tree, &[], &mut |key, value| {
                let step = case_id_of(key).and_then(|id| {
                    if keep(&id) {
                        chunk.push(id, value);
                    }
                    if chunk.len() < CHUNK {
                        return Ok(());
                    }
                    let next = spare.pop().unwrap_or_default();
                    send(std::mem::replace(&mut chunk, next), &mut out);
                    loop {
                        let wait = out.len() > IN_FLIGHT;
                        if !take(&mut out, &mut spare, wait)? {
                            break;
                        }
                    }
                    Ok(())
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
            if chunk.len() > 0 {
                send(chunk, &mut out);
            }
            while take(&mut out, &mut spare, true)? {}
            Ok(())
        })
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
        self.pipelined(
            Tree::Cases,
            &mut |_| true,
            &|chunk| {
                let mut picked: Vec<(RecordId, Vec<RecordId>)> = Vec::new();
                for (id, bytes) in chunk.records() {
                    let rec = decode_record_ref(Table::Case, id, bytes)?;
                    let pids = self.with_case_head(id, &rec, |head| {
                        self.gate_selected(&CaseGate::from(&head), filters)
                            .then_some(head.petitioner_ids)
                    })?;
                    if let Some(pids) = pids {
                        picked.push((*id, pids));
                    }
                }
                Ok(picked)
            },
            &mut |picked| {
                for (id, pids) in picked {
                    cases.push(id);
                    petitioners.extend(pids);
                }
                Ok(())
            },
        )?;
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
        // fields need only the field classes.
        let field_classes: Vec<Class> = classes
            .iter()
            .copied()
            .filter(|c| *c != Class::Meta)
            .collect();
        let people = person_fields(profile);
        let cells = self.people_cells(proof, petitioners, people, &field_classes)?;
        let mut count = 0usize;
        if cases.is_empty() {
            return Ok(0);
        }
        let encoder = sink.encoder();
        let render = |id: &RecordId, bytes: &[u8]| -> Result<Option<RowText>, VaultError> {
            let rec = decode_record_ref(Table::Case, id, bytes)?;
            self.with_case_head(id, &rec, |meta| {
                if !self.gate_selected(&CaseGate::from(&meta), filters) {
                    return Ok(None);
                }
                let fields = self.open_fields(proof, Table::Case, *id, &rec, &field_classes)?;
                Ok(Some(render_row(
                    profile,
                    id,
                    &meta,
                    &fields,
                    pseudonym_key.as_deref(),
                    &|p: &RecordId| petitioners.binary_search(p).ok(),
                    &cells,
                )))
            })?
        };
        let mut next = 0usize; // index into `cases` (both in key order)
        self.pipelined(
            Tree::Cases,
            &mut |id| {
                while next < cases.len() && cases[next] < *id {
                    next += 1; // selected, but gone since: no row
                }
                let wanted = next < cases.len() && cases[next] == *id;
                if wanted {
                    next += 1;
                }
                wanted
            },
            &|chunk| match &encoder {
                Some(encoder) => {
                    let mut bytes = Zeroizing::new(Vec::with_capacity(chunk.bytes.len()));
                    let mut rows = 0;
                    for (id, stored) in chunk.records() {
                        if let Some(row) = render(id, stored)? {
                            encoder.encode(row.cells(), &mut bytes);
                            rows += 1;
                        }
                    }
                    Ok(ChunkRows::Encoded { bytes, rows })
                }
                None => {
                    let mut rows = Vec::with_capacity(chunk.len());
                    for (id, stored) in chunk.records() {
                        rows.extend(render(id, stored)?);
                    }
                    Ok(ChunkRows::Cells(rows))
                }
            },
            &mut |rows| {
                match rows {
                    ChunkRows::Encoded { bytes, rows } => {
                        sink.encoded(&bytes, rows)
                            .map_err(VaultError::ExportWrite)?;
                        count += rows;
                    }
                    ChunkRows::Cells(rows) => {
                        for row in &rows {
                            sink.row(row).map_err(VaultError::ExportWrite)?;
                            count += 1;
                        }
                    }
                }
                Ok(())
            },
        )?;
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
        if petitioners.is_empty() {
            return Ok(out);
        }
        let mut wanted = 0usize; // index into `petitioners` (both in key order)
        let mut next = 0usize;
        self.pipelined(
            Tree::Petitioners,
            &mut |id| {
                while wanted < petitioners.len() && petitioners[wanted] < *id {
                    wanted += 1;
                }
                petitioners.get(wanted) == Some(id)
            },
            &|chunk| {
                let mut cells = RowText::default();
                for (pid, bytes) in chunk.records() {
                    let rec = decode_record_ref(Table::Petitioner, pid, bytes)?;
                    let fields =
                        self.open_fields(proof, Table::Petitioner, *pid, &rec, field_classes)?;
                    for (col, field) in people {
                        cells.cell(|t| {
                            let Some((value, masked)) = fields.get(field) else {
                                return;
                            };
                            match (*col, masked) {
                                ("petitioner_regions", _) => {
                                    t.push_str(crate::export::province_str(value))
                                }
                                ("petitioner_birth_years", false) => {
                                    t.extend(value.chars().take(4))
                                }
                                _ => t.push_str(value),
                            }
                        });
                    }
                }
                Ok((chunk.ids.clone(), cells))
            },
            &mut |(ids, cells)| {
                let mut opened = cells.cells();
                for pid in ids {
                    while next < petitioners.len() && petitioners[next] < pid {
                        empty(&mut out); // selected, but gone since
                        next += 1;
                    }
                    for c in opened.by_ref().take(people.len()) {
                        out.cells.push(c);
                    }
                    next += 1;
                }
                Ok(())
            },
        )?;
        while next < petitioners.len() {
            empty(&mut out);
            next += 1;
        }
        Ok(out)
    }
}

/// One row, in the columns of [`columns_of`]. `person` finds a petitioner's index in the
/// people cells.
fn render_row(
    profile: Profile,
    id: &RecordId,
    meta: &CaseMetaHead<'_>,
    fields: &FieldTexts,
    pseudonym_key: Option<&[u8; 32]>,
    person: &dyn Fn(&RecordId) -> Option<usize>,
    people: &PeopleCells,
) -> RowText {
    let text = |name: &str| fields.get(name).map(|(v, _)| v).unwrap_or("");
    let mut row = RowText::with_capacity(fields.text.len() + 256, 24);
    row.cell(|t| {
        let _ = write!(t, "{id}");
    });
    row.push(meta.case_no);
    row.push(meta.category);
    row.push(meta.channel.as_str());
    row.push(meta.status.as_str());
    row.cell(|t| super::push_ms(t, meta.received_at));
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
    // Each petitioner looked up once, not once per column.
    let mut found = [None; 8];
    let spilled: Vec<Option<usize>>;
    let found: &[Option<usize>] = if meta.petitioner_ids.len() <= found.len() {
        for (slot, p) in found.iter_mut().zip(&meta.petitioner_ids) {
            *slot = person(p);
        }
        &found[..meta.petitioner_ids.len()]
    } else {
        spilled = meta.petitioner_ids.iter().map(person).collect();
        &spilled
    };
    for column in 0..people.per_person {
        row.cell(|t| {
            for (i, at) in found.iter().enumerate() {
                if i > 0 {
                    t.push(';');
                }
                t.push_str(at.map_or("", |at| people.cell(at, column)));
            }
        });
    }
    row
}
