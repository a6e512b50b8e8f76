//! Exports through the gate, streamed: a first pass reads every case, opens only its meta
//! to select the cases (and their petitioners) this user may export, and keeps what the
//! rows need of each selected case: the meta columns and, for a redacted or pseudonymous
//! export, the still sealed masked bundle its row will open; then ONE audit entry listing
//! every selected id is committed durably; only then is anything decrypted for output: the
//! exported petitioners, once each in key order, into their compact row cells, and then
//! the cases, chunk by chunk, handed to the output in case-id order.
//!
//! A row shows its case as the selection kept it, without reading the store again, unless
//! an entry logged between the start of the selection and the export's own entry names
//! the case for a write that may have changed it (a transition, an erasure, …): that case
//! is read again, gated again, and shown as it is now (or left out). So a change that the
//! log puts before the export is in it, for the cases the selection chose (a case that
//! came to match the filters only in that window is not added). A full export keeps none of the fields (their
//! text can be as large as the export): its rows are read from the store again, each
//! gated again. Memory holds the selected ids (the audit entry needs them all), the kept
//! cases (~100 bytes of meta a case, and ~460 bytes of sealed masked bundle for a
//! redacted or pseudonymous row), the petitioner cells (tens of bytes each) and a few
//! chunks of rows, not the export.
//!
//! Every pass is a pipeline ([`in_order`]): its records are cut into key ranges, each
//! range is read (from the store, or from what the selection kept) and decrypted (and, for
//! a file, encoded) by one job on the rayon pool, so that every core reads as well as
//! decrypts, and this thread takes the results back in key order.

use super::{CaseGate, CaseMetaHead, Envelopes, FieldTexts, Reason, Session, decode_record_ref};
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
use std::collections::{HashSet, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use zeroize::Zeroizing;

/// Records per job of the passes whose ids are known (the exported cases and petitioners).
const CHUNK: usize = 256;
/// Jobs out at once: bounds memory, and keeps every core busy while this thread writes the
/// output.
const IN_FLIGHT: usize = 8;
/// Jobs of the selection pass, which reads every case: one per first byte of the (random)
/// record ids.
const SPANS: usize = 256;

/// Called with a record's id and stored bytes; false stops the visit.
type RecordVisitor<'a> = dyn FnMut(RecordId, &[u8]) -> Result<bool, VaultError> + 'a;
/// Called with a wanted record's index in its job's slice, its id and its stored bytes.
type ChunkVisitor<'a> = dyn FnMut(usize, RecordId, &[u8]) -> Result<(), VaultError> + 'a;

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

/// The rows of one chunk of cases: cells, or already encoded for the output.
enum ChunkRows {
    Cells(Vec<RowText>),
    Encoded {
        bytes: Zeroizing<Vec<u8>>,
        rows: usize,
    },
}

/// The rows of one chunk as they are made, encoded for the output when it has an encoder.
struct ChunkOut<'e> {
    encoder: Option<&'e RowEncoder>,
    bytes: Zeroizing<Vec<u8>>,
    cells: Vec<RowText>,
    rows: usize,
    /// Rows expected in the chunk, to size the output.
    expected: usize,
}

impl ChunkOut<'_> {
    fn push(&mut self, row: Option<RowText>) {
        let Some(row) = row else {
            return;
        };
        self.rows += 1;
        match self.encoder {
            Some(encoder) => {
                if self.bytes.capacity() == 0 {
                    // Rows take about as many bytes as their text and the columns; a chunk
                    // outgrowing this moves, wiped.
                    crate::export::reserve_wiped(
                        &mut self.bytes,
                        (row.text_len() + 16 * row.cells().count()) * self.expected,
                    );
                }
                encoder.encode_row(&row, &mut self.bytes);
            }
            None => {
                if self.cells.capacity() == 0 {
                    self.cells.reserve(self.expected);
                }
                self.cells.push(row);
            }
        }
    }

    fn done(self) -> ChunkRows {
        match self.encoder {
            Some(_) => ChunkRows::Encoded {
                bytes: self.bytes,
                rows: self.rows,
            },
            None => ChunkRows::Cells(self.cells),
        }
    }
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
    /// The cells of petitioners `k * CHUNK ..`, one entry per job of the pass that read them.
    chunks: Vec<RowText>,
    per_person: usize,
}

impl PeopleCells {
    fn cell(&self, person: usize, column: usize) -> &str {
        self.chunks
            .get(person / CHUNK)
            .map_or("", |c| c.nth(person % CHUNK * self.per_person + column))
    }
}

/// What pass 1 chose.
struct Selection {
    /// Case ids in key order.
    cases: Vec<RecordId>,
    /// What a row shows of each case's meta, as the selection read it, in the parts its
    /// jobs read (kept as they are, not copied into one): `(i, heads)` holds the cases from
    /// `cases[i]` on.
    heads: Vec<(usize, KeptHeads)>,
    /// Their petitioners, sorted, once each.
    petitioners: Vec<RecordId>,
    /// The names of the envelopes kept for the rows.
    sealed: Vec<&'static str>,
    /// Whether the rows are made from what was kept (else from the store: see
    /// [`Session::select`]).
    kept_fields: bool,
}

impl Selection {
    /// What the selection kept of `cases[at]`: its meta columns and the sealed fields its
    /// row opens.
    fn kept(&self, at: usize) -> Option<(RowMeta<'_>, SealedFields<'_>)> {
        let part = self
            .heads
            .partition_point(|(from, _)| *from <= at)
            .checked_sub(1)?;
        let (from, heads) = &self.heads[part];
        let (meta, bytes) = heads.get(at - from)?;
        Some((
            meta,
            SealedFields {
                bytes,
                names: &self.sealed,
            },
        ))
    }
}

/// What the rows need of selected cases, kept from the selection (in the order of the
/// selected ids), so that the rows pass neither reads the store again nor opens the meta a
/// second time: the meta columns (~100 bytes a case; the text is wiped on drop) and the
/// envelopes the row opens, as stored (sealed: they are opened, and authenticated against
/// their case and field, only after the audit entry is committed).
#[derive(Default)]
struct KeptHeads {
    /// The envelopes a row opens (see [`SealedFields`]), of every case, back to back.
    sealed: Vec<u8>,
    /// Per case: where its envelopes end in `sealed`.
    sealed_ends: Vec<u32>,
    /// Per case: received at, channel, status, accusation.
    fixed: Vec<(i64, model::Channel, crate::workflow::Status, bool)>,
    /// Case number and category of every case, back to back.
    text: String,
    /// Per case: where its case number ends and where its category ends in `text` (a
    /// part's text is far below 4 GiB: u32 saves ~8 MB a million cases).
    text_ends: Vec<(u32, u32)>,
    /// The petitioners of every case, back to back.
    pids: Vec<RecordId>,
    /// The same petitioners as positions in the export's sorted petitioner ids (which
    /// replace `pids` once the selection is complete: see [`place_petitioners`]).
    people: Vec<u32>,
    /// Per case: where its petitioners end in `pids` and `people`.
    pid_ends: Vec<u32>,
}

/// The meta columns of one row: from the meta opened for it, or kept from the selection.
struct RowMeta<'a> {
    case_no: &'a str,
    category: &'a str,
    channel: model::Channel,
    status: crate::workflow::Status,
    received_at: i64,
    is_accusation: bool,
    /// Positions in the export's sorted petitioner ids.
    petitioners: &'a [u32],
}

/// The largest part of a selection so far. The spans of a selection hold about as many
/// cases each (record ids are random), so each job makes room for a little more than the
/// largest part yet: its vectors then seldom grow step by step, which copies them and has
/// the kernel zero their fresh pages again (a second of CPU for an export of a million
/// cases).
#[derive(Default)]
struct PartSizes {
    cases: AtomicUsize,
    sealed: AtomicUsize,
    text: AtomicUsize,
    pids: AtomicUsize,
}

impl PartSizes {
    /// Empty case ids and kept heads, with room for a little more than the largest part.
    fn room(&self) -> (Vec<RecordId>, KeptHeads) {
        let room = |n: &AtomicUsize| {
            let n = n.load(Ordering::Relaxed);
            n + n / 8
        };
        let cases = room(&self.cases);
        let kept = KeptHeads {
            sealed: Vec::with_capacity(room(&self.sealed)),
            sealed_ends: Vec::with_capacity(cases),
            fixed: Vec::with_capacity(cases),
            text: String::with_capacity(room(&self.text)),
            text_ends: Vec::with_capacity(cases),
            pids: Vec::with_capacity(room(&self.pids)),
            people: Vec::new(),
            pid_ends: Vec::with_capacity(cases),
        };
        (Vec::with_capacity(cases), kept)
    }

    fn saw(&self, part: &KeptHeads) {
        self.cases.fetch_max(part.fixed.len(), Ordering::Relaxed);
        self.sealed.fetch_max(part.sealed.len(), Ordering::Relaxed);
        self.text.fetch_max(part.text.len(), Ordering::Relaxed);
        self.pids.fetch_max(part.pids.len(), Ordering::Relaxed);
    }
}

/// The position of a petitioner not in the export's audit entry (added to a case since
/// the selection): an empty slot in every petitioner column.
const NOT_LISTED: u32 = u32::MAX;

impl<'a> RowMeta<'a> {
    /// The meta columns of a case meta opened for its row, with its petitioners'
    /// `positions`.
    fn new(head: &'a CaseMetaHead<'a>, positions: &'a [u32]) -> Self {
        RowMeta {
            case_no: head.case_no,
            category: head.category,
            channel: head.channel,
            status: head.status,
            received_at: head.received_at,
            is_accusation: head.is_accusation,
            petitioners: positions,
        }
    }
}

/// Whether an entry of this action may rewrite a case record (its meta or its fields). No
/// wildcard: a new action must be placed here.
fn may_rewrite_cases(action: Action) -> bool {
    use Action::*;
    match action {
        CaseOpen | CaseAssign | CaseTransition | CaseExtend | CaseAssess | CaseForward | Import
        | CanaryAdd | PetitionerAdd | PetitionerErase | KeysReencrypt | Restore => true,
        Unlock | Init | UserAdd | UserList | PetitionerShow | PetitionerReveal | CaseShow
        | CaseList | AuditRead | Find | Export | Stats | AuditCheckpoint | AuditExport
        | AuditReport | Passwd | UserRevoke | KeysStatus | KeysRotate | KeysRetire
        | RecoverySplit | RecoveryUnlock | Backup | Check | Retention => false,
    }
}

impl KeptHeads {
    /// Keeps case `head`'s meta columns and the envelopes of `rec` named in `sealed`.
    fn push(
        &mut self,
        head: &CaseMetaHead<'_>,
        rec: &impl Envelopes,
        sealed: &[&'static str],
    ) -> Result<(), VaultError> {
        self.fixed.push((
            head.received_at,
            head.channel,
            head.status,
            head.is_accusation,
        ));
        let end = |len: usize| {
            u32::try_from(len).map_err(|_| VaultError::Corrupt("export part too large"))
        };
        self.text.push_str(head.case_no);
        let case_no_end = end(self.text.len())?;
        self.text.push_str(head.category);
        self.text_ends.push((case_no_end, end(self.text.len())?));
        self.pids.extend_from_slice(&head.petitioner_ids);
        self.pid_ends.push(end(self.pids.len())?);
        for (i, name) in sealed.iter().enumerate() {
            if let Some(env) = rec.envelope(name) {
                let i = u8::try_from(i).expect("a row opens a handful of envelopes");
                let len = end(env.len())?;
                self.sealed.push(i);
                self.sealed.extend_from_slice(&len.to_le_bytes());
                self.sealed.extend_from_slice(env);
            }
        }
        self.sealed_ends.push(end(self.sealed.len())?);
        Ok(())
    }

    /// Gives back the room its vectors grew into but do not use.
    fn shrink_to_fit(&mut self) {
        self.fixed.shrink_to_fit();
        self.text.shrink_to_fit();
        self.text_ends.shrink_to_fit();
        self.pids.shrink_to_fit();
        self.pid_ends.shrink_to_fit();
        self.sealed.shrink_to_fit();
        self.sealed_ends.shrink_to_fit();
    }

    /// The `i`-th case as the selection read it.
    fn get(&self, i: usize) -> Option<(RowMeta<'_>, &[u8])> {
        let (received_at, channel, status, is_accusation) = *self.fixed.get(i)?;
        let at = |end: u32| end as usize;
        let before = |ends: &[u32]| if i == 0 { 0 } else { at(ends[i - 1]) };
        let text_start = if i == 0 {
            0
        } else {
            at(self.text_ends[i - 1].1)
        };
        let (case_no_end, category_end) = (at(self.text_ends[i].0), at(self.text_ends[i].1));
        let meta = RowMeta {
            case_no: &self.text[text_start..case_no_end],
            category: &self.text[case_no_end..category_end],
            channel,
            status,
            received_at,
            is_accusation,
            petitioners: &self.people[before(&self.pid_ends)..at(self.pid_ends[i])],
        };
        let sealed = &self.sealed[before(&self.sealed_ends)..at(self.sealed_ends[i])];
        Some((meta, sealed))
    }
}

/// The envelopes of one case that its row opens, as the selection read them: each
/// `[index in the names][length, u32 LE][envelope]`. They are opened (authenticated against
/// their record and field) only after the audit entry is committed.
struct SealedFields<'a> {
    bytes: &'a [u8],
    names: &'a [&'static str],
}

impl Envelopes for SealedFields<'_> {
    fn envelope(&self, name: &str) -> Option<&[u8]> {
        let mut rest = self.bytes;
        while let [i, l0, l1, l2, l3, tail @ ..] = rest {
            let len = u32::from_le_bytes([*l0, *l1, *l2, *l3]) as usize;
            let env = tail.get(..len)?;
            if self.names.get(usize::from(*i)) == Some(&name) {
                return Some(env);
            }
            rest = &tail[len..];
        }
        None
    }
}

/// The envelopes of a case that a redacted or pseudonymous row opens: the masked bundle,
/// when the export decrypts the masked class (a full export keeps none: see
/// [`Session::select`]).
fn sealed_names(field_classes: &[Class]) -> Vec<&'static str> {
    field_classes
        .contains(&Class::Masked)
        .then_some(model::MASKED_BUNDLE)
        .into_iter()
        .collect()
}

impl Drop for KeptHeads {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.text);
    }
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

    /// Calls `f` with the id and stored bytes of each record of `tree` whose id is in
    /// `[start, end)` (to the end of the tree without `end`), in key order, until it returns
    /// false or fails.
    fn visit_records(
        &self,
        tree: Tree,
        start: &[u8],
        end: Option<&RecordId>,
        f: &mut RecordVisitor<'_>,
    ) -> Result<(), VaultError> {
        let mut failed = None;
        let end = end.map(|e| &e.0[..]);
        self.vault
            .store
            .visit_range(tree, start, end, &mut |key, value| match case_id_of(key)
                .and_then(|id| f(id, value))
            {
                Ok(more) => more,
                Err(e) => {
                    failed = Some(e);
                    false
                }
            })?;
        failed.map_or(Ok(()), Err)
    }

    /// Visits the records of `wanted[k * CHUNK ..][.. CHUNK]` (sorted ids) that are still in
    /// `tree`, in key order, with `f` (the index in that slice, the id, the stored bytes).
    /// The job's range ends where the next job's begins.
    fn visit_chunk(
        &self,
        tree: Tree,
        wanted: &[RecordId],
        k: usize,
        f: &mut ChunkVisitor<'_>,
    ) -> Result<(), VaultError> {
        let (from, to) = (k * CHUNK, ((k + 1) * CHUNK).min(wanted.len()));
        let mine = &wanted[from..to];
        let Some(first) = mine.first() else {
            return Ok(());
        };
        let mut next = 0usize; // index into `mine`
        self.visit_records(tree, &first.0, wanted.get(to), &mut |id, bytes| {
            while next < mine.len() && mine[next] < id {
                next += 1; // wanted, but gone since
            }
            if next < mine.len() && mine[next] == id {
                f(next, id, bytes)?;
                next += 1;
            }
            Ok(next < mine.len())
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

        // Pass 1: every case read, only its meta opened, for selection; what the rows need
        // is kept, sealed. Nothing of it leaves this function. Writes logged from `since`
        // on may change a case after the selection read it.
        let since = crate::audit::log_len(self.vault.store.as_ref())?;
        let selection = self.select(filters, profile, &classes)?;
        let Selection {
            cases, petitioners, ..
        } = &selection;

        // The gate: one durable entry listing every case and petitioner before any row.
        let export_id = hex::encode(crypto::random_array::<8>()?);
        let time_ms = now_ms();
        let mut e = self.entry(Action::Export, Outcome::Allowed, None);
        e.targets = Vec::with_capacity(cases.len() + petitioners.len());
        e.targets.extend_from_slice(cases);
        e.targets.extend_from_slice(petitioners);
        e.purpose = Some(format!("export:{}", profile.as_str()));
        e.detail = Some(format!("export_id:{export_id}"));
        e.reason = reason.map(|r| r.0.clone());
        e.returned = classes.iter().map(|c| format!("class:{c}")).collect();
        let proof = self.commit(&WriteSet::new(), &e)?;
        drop(e);

        let columns = columns_of(profile);
        sink.begin(&columns, cases.len())
            .map_err(VaultError::ExportWrite)?;
        // (A full export reads every row from the store again: nothing to look up.)
        let changed = if selection.kept_fields {
            self.changed_between(since, proof.seq(), &selection.cases)?
        } else {
            HashSet::new()
        };
        let count = self.export_pass(
            &proof, profile, &classes, filters, &selection, &changed, sink,
        )?;
        Ok(Exported {
            export_id,
            time_ms,
            columns,
            count,
        })
    }

    /// Pass 1 of an export: reads every case's meta and picks those this user may export
    /// that match `filters`, in key order, with their petitioners.
    /// The envelopes of a redacted or pseudonymous row (the masked bundle, ~460 B) are
    /// kept; those of a full row (every shown field: the export's whole text) are not, and
    /// its rows are read from the store again.
    fn select(
        &self,
        filters: &Filters,
        profile: Profile,
        classes: &[Class],
    ) -> Result<Selection, VaultError> {
        let kept_fields = profile != Profile::Full;
        let sealed = if kept_fields {
            sealed_names(classes)
        } else {
            Vec::new()
        };
        let mut cases: Vec<RecordId> = Vec::new();
        let mut heads = Vec::new();
        let largest = PartSizes::default();
        in_order(
            SPANS,
            &|span| {
                // The first span from the very start, so that a malformed key below any id
                // is read (and refused as corrupt) rather than skipped.
                let first = first_of_span(span);
                let start: &[u8] = if span == 0 { &[] } else { &first };
                let end = (span + 1 < SPANS).then(|| RecordId(first_of_span(span + 1)));
                let (mut ids, mut part) = largest.room();
                self.visit_records(Tree::Cases, start, end.as_ref(), &mut |id, bytes| {
                    let rec = decode_record_ref(Table::Case, &id, bytes)?;
                    self.with_case_head(&id, &rec, |head| {
                        if !self.gate_selected(&CaseGate::from(&head), filters) {
                            return Ok(());
                        }
                        ids.push(id);
                        part.push(&head, &rec, &sealed)
                    })??;
                    Ok(true)
                })?;
                largest.saw(&part);
                part.shrink_to_fit();
                Ok((ids, part))
            },
            &mut |(ids, part)| {
                if !ids.is_empty() {
                    heads.push((cases.len(), part));
                    cases.extend(ids);
                }
                Ok(())
            },
        )?;
        let petitioners = place_petitioners(&mut heads)?;
        Ok(Selection {
            cases,
            heads,
            petitioners,
            sealed,
            kept_fields,
        })
    }

    /// The selected cases named by an entry logged in `[since, until)` (from when the
    /// selection began to the export's own entry) whose action may rewrite a case: one of
    /// them may have changed after the selection read it, and before the export's entry
    /// in the log. Their rows are read again (see [`Session::export_pass`]).
    fn changed_between(
        &self,
        since: u64,
        until: u64,
        cases: &[RecordId],
    ) -> Result<HashSet<RecordId>, VaultError> {
        let mut changed = HashSet::new();
        let mut from = since;
        while from < until {
            // Never past `until`: the export's own entry (which names every record) is not read.
            let limit = usize::try_from((until - from).min(256)).expect("at most 256");
            let page = crate::audit::read_entries(self.vault.store.as_ref(), from, limit)?;
            let Some(last) = page.last() else {
                break;
            };
            from = last.entry.seq + 1;
            for e in page.iter().map(|r| &r.entry) {
                if e.seq >= until || !may_rewrite_cases(e.action) {
                    continue;
                }
                for id in e.targets.iter().chain(&e.case_ref) {
                    if cases.binary_search(id).is_ok() {
                        changed.insert(*id);
                    }
                }
            }
        }
        Ok(changed)
    }

    /// Pass 2: decrypts the selected cases' petitioners (read from the store) and the
    /// selected cases, in key order, and hands the rows to `sink`. A case's row is made
    /// from what the selection kept, unless it is in `changed`: then it is read again,
    /// gated again (left out if it no longer qualifies) and shown as it is now, and a
    /// petitioner added to it since is an empty slot (not in the audit entry). A
    /// petitioner gone since the selection has empty cells.
    #[allow(clippy::too_many_arguments)]
    fn export_pass(
        &self,
        proof: &AuditCommitted,
        profile: Profile,
        classes: &[Class],
        filters: &Filters,
        selection: &Selection,
        changed: &HashSet<RecordId>,
        sink: &mut dyn RowSink,
    ) -> Result<usize, VaultError> {
        let Selection {
            cases, petitioners, ..
        } = selection;
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
        // Rows take their meta columns from the kept (or the newly opened) case meta; the
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
        let row = |id: &RecordId, meta: &RowMeta<'_>, fields: &FieldTexts| {
            render_row(
                profile,
                id,
                meta,
                fields,
                pseudonym_key.as_deref(),
                petitioners,
                &cells,
            )
        };
        // A case's row from its stored record, read after the entry was committed: gated
        // again (left out if it no longer qualifies) and shown as it is now; a petitioner
        // added to it since is an empty slot.
        let from_stored = |id: &RecordId, bytes: &[u8]| -> Result<Option<RowText>, VaultError> {
            let rec = decode_record_ref(Table::Case, id, bytes)?;
            self.with_case_head(id, &rec, |head| {
                if !self.gate_selected(&CaseGate::from(&head), filters) {
                    return Ok(None);
                }
                let positions: Vec<u32> = head
                    .petitioner_ids
                    .iter()
                    .map(|p| {
                        petitioners
                            .binary_search(p)
                            .map_or(NOT_LISTED, |at| at as u32)
                    })
                    .collect();
                let fields = self.open_fields(proof, Table::Case, *id, &rec, &field_classes)?;
                Ok(Some(row(id, &RowMeta::new(&head, &positions), &fields)))
            })?
        };
        // `at`: the case's index in `cases`. Its meta columns and the envelopes its row
        // opens are those the selection kept, unless a write logged before the export's
        // entry may have changed it.
        let from_kept = |at: usize| -> Result<Option<RowText>, VaultError> {
            let id = &cases[at];
            if changed.contains(id) {
                return match self.vault.store.get(Tree::Cases, &id.0)? {
                    Some(bytes) => from_stored(id, &bytes),
                    None => Ok(None),
                };
            }
            let (meta, sealed) = selection
                .kept(at)
                .ok_or(VaultError::Corrupt("export selection"))?;
            let fields = self.open_fields(proof, Table::Case, *id, &sealed, &field_classes)?;
            Ok(Some(row(id, &meta, &fields)))
        };
        in_order(
            cases.len().div_ceil(CHUNK),
            &|k| {
                let mine = k * CHUNK..((k + 1) * CHUNK).min(cases.len());
                let mut out = ChunkOut {
                    encoder: encoder.as_ref(),
                    bytes: Zeroizing::new(Vec::new()),
                    cells: Vec::new(),
                    rows: 0,
                    expected: mine.len(),
                };
                if selection.kept_fields {
                    for at in mine {
                        out.push(from_kept(at)?);
                    }
                } else {
                    // Nothing kept of the fields (a full export): read from the store.
                    self.visit_chunk(Tree::Cases, cases, k, &mut |_, id, stored| {
                        out.push(from_stored(&id, stored)?);
                        Ok(())
                    })?;
                }
                Ok(out.done())
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
            chunks: Vec::with_capacity(petitioners.len().div_ceil(CHUNK)),
            per_person: people.len(),
        };
        in_order(
            petitioners.len().div_ceil(CHUNK),
            &|k| {
                let mut cells = RowText::default();
                let mut filled = 0usize; // petitioners of this job with cells
                // Empty cells for petitioners selected but gone since, up to the `i`-th.
                let empty_until = |cells: &mut RowText, filled: &mut usize, i: usize| {
                    for _ in *filled * people.len()..i * people.len() {
                        cells.push("");
                    }
                    *filled = (*filled).max(i);
                };
                self.visit_chunk(Tree::Petitioners, petitioners, k, &mut |i, pid, bytes| {
                    empty_until(&mut cells, &mut filled, i);
                    let rec = decode_record_ref(Table::Petitioner, &pid, bytes)?;
                    let fields =
                        self.open_fields(proof, Table::Petitioner, pid, &rec, field_classes)?;
                    for (col, field) in people {
                        let found = fields.get(field);
                        // A province's name is at most 24 bytes; a birth year is shorter
                        // than the date it is taken from.
                        let most = found.map_or(0, |(value, _)| value.len() + 24);
                        cells.cell(most, |t| {
                            let Some((value, masked)) = found else {
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
                    filled += 1;
                    Ok(())
                })?;
                let mine = (petitioners.len() - k * CHUNK).min(CHUNK);
                empty_until(&mut cells, &mut filled, mine);
                Ok(cells)
            },
            &mut |cells| {
                out.chunks.push(cells);
                Ok(())
            },
        )?;
        Ok(out)
    }
}

/// The petitioners of the kept cases, sorted, once each; each part's petitioner ids are
/// replaced by their positions in that list, so that a row finds its petitioners' cells
/// by index (a search per petitioner per row over a million ids would cost a cache miss
/// per step).
fn place_petitioners(heads: &mut [(usize, KeptHeads)]) -> Result<Vec<RecordId>, VaultError> {
    let mut slots: Vec<(RecordId, u32)> =
        Vec::with_capacity(heads.iter().map(|(_, h)| h.pids.len()).sum());
    for (_, part) in heads.iter() {
        for id in &part.pids {
            let slot =
                u32::try_from(slots.len()).map_err(|_| VaultError::Corrupt("export too large"))?;
            slots.push((*id, slot));
        }
    }
    rayon::slice::ParallelSliceMut::par_sort_unstable(&mut slots[..]);
    let mut petitioners: Vec<RecordId> = Vec::new();
    let mut positions = vec![0u32; slots.len()];
    for (id, slot) in slots {
        if petitioners.last() != Some(&id) {
            petitioners.push(id);
        }
        // Fewer petitioners than slots, so this fits the u32 the slot fit.
        positions[slot as usize] = (petitioners.len() - 1) as u32;
    }
    let mut rest = &positions[..];
    for (_, part) in heads.iter_mut() {
        let (mine, more) = rest.split_at(part.pids.len());
        part.people = mine.to_vec();
        part.pids = Vec::new();
        rest = more;
    }
    Ok(petitioners)
}

/// The first id of selection span `span` (of [`SPANS`]).
fn first_of_span(span: usize) -> [u8; 16] {
    let mut id = [0u8; 16];
    id[0] = u8::try_from(span * 256 / SPANS).expect("a span starts at a first byte");
    id
}

/// Runs `work(0)`, `work(1)`, … `work(jobs - 1)` on the rayon pool, at most [`IN_FLIGHT`]
/// at once, and hands their results to `consume` on this thread, in job order. The first
/// error stops it (jobs already started finish) and is returned.
fn in_order<T: Send>(
    jobs: usize,
    work: &(dyn Fn(usize) -> Result<T, VaultError> + Sync),
    consume: &mut dyn FnMut(T) -> Result<(), VaultError>,
) -> Result<(), VaultError> {
    rayon::in_place_scope(|scope| {
        let mut out: VecDeque<mpsc::Receiver<Result<T, VaultError>>> = VecDeque::new();
        let mut next = 0usize;
        loop {
            while next < jobs && out.len() < IN_FLIGHT {
                let (tx, rx) = mpsc::sync_channel(1);
                let job = next;
                scope.spawn(move |_| {
                    let _ = tx.send(work(job));
                });
                out.push_back(rx);
                next += 1;
            }
            let Some(front) = out.pop_front() else {
                return Ok(());
            };
            let result = loop {
                match front.try_recv() {
                    Ok(got) => break got,
                    Err(mpsc::TryRecvError::Empty) => {
                        // On a pool thread, run pool work (perhaps this very job) rather
                        // than block a thread the job needs.
                        if rayon::yield_now() != Some(rayon::Yield::Executed)
                            && let Ok(got) = front.recv_timeout(std::time::Duration::from_millis(1))
                        {
                            break got;
                        }
                    }
                    Err(mpsc::TryRecvError::Disconnected) => {
                        return Err(VaultError::Corrupt("export worker stopped"));
                    }
                }
            };
            consume(result?)?;
        }
    })
}

/// One row, in the columns of [`columns_of`]. `meta.petitioners` are positions in `ids`
/// (the export's sorted petitioner ids) and in `people`, or [`NOT_LISTED`].
fn render_row(
    profile: Profile,
    id: &RecordId,
    meta: &RowMeta<'_>,
    fields: &FieldTexts,
    pseudonym_key: Option<&[u8; 32]>,
    ids: &[RecordId],
    people: &PeopleCells,
) -> RowText {
    let text = |name: &str| fields.get(name).map(|(v, _)| v).unwrap_or("");
    let n = meta.petitioners.len();
    // The bytes of each petitioner column (a profile has at most 8): its cells and a
    // separator each.
    let mut column_lens = [0usize; 8];
    debug_assert!(people.per_person <= column_lens.len());
    for (column, len) in column_lens.iter_mut().enumerate().take(people.per_person) {
        *len = meta
            .petitioners
            .iter()
            .map(|&at| people.cell(at as usize, column).len() + 1)
            .sum();
    }
    let people_len: usize = column_lens.iter().sum();
    let mut row = RowText::with_capacity(
        fields.text.len() + meta.case_no.len() + meta.category.len() + 256 + 56 * n + people_len,
        24,
    );
    // An id is 32 hex digits; a time at most 64 bytes (`push_ms`); a count 20 digits; a
    // pseudonym token 16 hex digits.
    row.cell(32, |t| {
        let _ = write!(t, "{id}");
    });
    row.push(meta.case_no);
    row.push(meta.category);
    row.push(meta.channel.as_str());
    row.push(meta.status.as_str());
    row.cell(64, |t| super::push_ms(t, meta.received_at));
    row.push(if meta.is_accusation { "true" } else { "false" });
    row.cell(20, |t| {
        let _ = write!(t, "{n}");
    });
    row.push(text("title"));
    row.push(text("content"));
    row.push(text("demands"));
    // A petitioner not in the audit entry ([`NOT_LISTED`]) is an empty slot.
    let petitioner_ids = || meta.petitioners.iter().map(|&at| ids.get(at as usize));
    if profile == Profile::Full {
        row.push(text("accused_unit"));
        row.cell(33 * n, |t| {
            for (i, p) in petitioner_ids().enumerate() {
                if i > 0 {
                    t.push(',');
                }
                if let Some(p) = p {
                    let _ = write!(t, "{p}");
                }
            }
        });
    }
    if let Some(key) = pseudonym_key {
        row.cell(17 * n, |t| {
            for (i, p) in petitioner_ids().enumerate() {
                if i > 0 {
                    t.push(';');
                }
                if let Some(p) = p {
                    t.push_str(&hex::encode(&crypto::hmac_sha256(key, &[&p.0])[..8]));
                }
            }
        });
    }
    for column in 0..people.per_person {
        row.cell(column_lens.get(column).copied().unwrap_or(0), |t| {
            for (i, &at) in meta.petitioners.iter().enumerate() {
                if i > 0 {
                    t.push(';');
                }
                t.push_str(people.cell(at as usize, column));
            }
        });
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Passphrase;
    use crate::model::NewPetitioner;
    use crate::policy::Role;
    use crate::vault::{Vault, VaultOptions};

    /// A vault with `n` petitioners; their ids, sorted.
    fn vault_with_petitioners(dir: &std::path::Path, n: usize) -> (Vault, Vec<RecordId>) {
        let pass = |u: &str| Passphrase::new(format!("export unit test {u}"));
        let (vault, _) = Vault::create(
            &dir.join("v"),
            "admin",
            &pass("admin"),
            VaultOptions::insecure_for_tests(),
        )
        .unwrap();
        let mut ids = Vec::new();
        {
            let admin = vault.unlock("admin", &pass("admin")).unwrap();
            admin
                .add_user("reg", Role::Registrar, Some("信访局"), &pass("reg"))
                .unwrap();
            let reg = vault.unlock("reg", &pass("reg")).unwrap();
            let mut synth = crate::model::synth::Synth::new(5);
            while ids.len() < n {
                let p = synth.person();
                if let Ok(id) = reg.add_petitioner(&NewPetitioner {
                    name: p.name.as_str().into(),
                    id_number: p.id_number.as_str().into(),
                    phones: vec![p.phone.as_str().into()],
                    address: None,
                    email: None,
                    ethnicity: None,
                }) {
                    ids.push(id);
                }
            }
        }
        ids.sort();
        (vault, ids)
    }

    /// A vault with `n` petitioners and a case of each, every sixth accepted and the rest
    /// registered: the cases, sorted, and the accepted ones.
    fn vault_with_cases(
        dir: &std::path::Path,
        n: usize,
    ) -> (Vault, Vec<RecordId>, std::collections::HashSet<RecordId>) {
        let (vault, pids) = vault_with_petitioners(dir, n);
        let (mut cases, mut accepted) = (Vec::new(), std::collections::HashSet::new());
        {
            let reg = unlock_reg(&vault);
            for (i, pid) in pids.iter().enumerate() {
                let id = reg
                    .open_case(&crate::model::NewCase {
                        petitioners: vec![*pid],
                        title: "标题".into(),
                        category: format!("类别{}", i % 5),
                        channel: model::Channel::Visit,
                        content: "内容".into(),
                        demands: None,
                        accused_unit: None,
                        is_accusation: false,
                    })
                    .unwrap();
                if i % 6 == 0 {
                    reg.transition(id, crate::workflow::Status::Accepted, None)
                        .unwrap();
                    accepted.insert(id);
                }
                cases.push(id);
            }
        }
        cases.sort();
        (vault, cases, accepted)
    }

    fn unlock_reg(vault: &Vault) -> Session<'_> {
        vault
            .unlock("reg", &Passphrase::new("export unit test reg".to_owned()))
            .unwrap()
    }

    fn classes_of(reg: &Session) -> Vec<Class> {
        reg.export_classes(Profile::Redacted, None).unwrap()
    }

    /// Rows as cells.
    struct Rows(Vec<Vec<String>>);

    impl RowSink for Rows {
        fn begin(&mut self, _: &[&'static str], _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn row(&mut self, row: &RowText) -> std::io::Result<()> {
            self.0.push(row.cells().map(str::to_owned).collect());
            Ok(())
        }
    }

    /// The rows of a redacted export, from selection to the last row.
    fn fresh_rows(reg: &Session, filters: &Filters) -> Vec<Vec<String>> {
        let mut rows = Rows(Vec::new());
        reg.export_rows(Profile::Redacted, filters, None, &mut rows)
            .unwrap();
        rows.0
    }

    /// The rows of a redacted export of an earlier `selection`.
    /// The rows of a redacted export of an earlier `selection`, made with `filters` from
    /// the log position `since`, as `export_rows` makes them: its entry committed, then
    /// `after_commit` run, then the rows.
    fn rows_of(
        reg: &Session,
        selection: &Selection,
        filters: &Filters,
        since: u64,
        after_commit: impl FnOnce(),
    ) -> Result<Vec<Vec<String>>, VaultError> {
        let e = reg.entry(Action::Export, Outcome::Allowed, None);
        let proof = reg.commit(&WriteSet::new(), &e).unwrap();
        after_commit();
        let changed = reg.changed_between(since, proof.seq(), &selection.cases)?;
        let mut rows = Rows(Vec::new());
        let n = reg.export_pass(
            &proof,
            Profile::Redacted,
            &classes_of(reg),
            filters,
            selection,
            &changed,
            &mut rows,
        )?;
        assert_eq!(n, rows.0.len());
        Ok(rows.0)
    }

    fn log_len(vault: &Vault) -> u64 {
        crate::audit::log_len(vault.store.as_ref()).unwrap()
    }

    /// Kept heads give back each case's meta, and the envelopes its row opens, by its
    /// index, across parts: exactly the envelopes named (an empty one, a large one, in any
    /// order in the record) as they were read, none of the others, nothing for a case
    /// without them; an index past the end gives nothing.
    #[test]
    fn kept_heads_give_each_case_its_own_meta_and_envelopes() {
        struct Rec(Vec<(&'static str, Vec<u8>)>);
        impl Envelopes for Rec {
            fn envelope(&self, name: &str) -> Option<&[u8]> {
                self.0
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, e)| e.as_slice())
            }
        }
        let pid = |b: u8| RecordId([b; 16]);
        let head = |i: u8, pids: Vec<RecordId>| CaseMetaHead {
            case_no: ["XF2026-000001", "XF2026-2", "", "XF2026-000004"][i as usize],
            category: ["征地拆迁", "", "劳动保障", "c"][i as usize],
            channel: model::Channel::Letter,
            status: [
                crate::workflow::Status::Registered,
                crate::workflow::Status::Accepted,
                crate::workflow::Status::Handling,
                crate::workflow::Status::Registered,
            ][i as usize],
            received_at: 1000 + i64::from(i),
            petitioner_ids: pids,
            assigned_to: None,
            accused_unit_tag: None,
            is_accusation: i == 2,
            created_at: 0,
            created_by: "reg",
            canary: false,
        };
        let rec = |i: u8| {
            Rec(match i {
                0 => vec![
                    ("meta", vec![0; 70]),
                    ("masked", vec![1; 80]),
                    ("title", vec![7; 300]),
                    ("content", vec![]),
                ],
                1 => vec![("meta", vec![9; 66]), ("notes", vec![8; 90])],
                2 => vec![("content", vec![2; 70_000]), ("masked", vec![3; 5])],
                _ => vec![("title", vec![4; 1]), ("demands", vec![6; 61])],
            })
        };
        let heads: Vec<CaseMetaHead> = vec![
            head(0, vec![pid(1), pid(2)]),
            head(1, vec![]),
            head(2, vec![pid(3)]),
            head(3, vec![pid(1), pid(4), pid(5)]),
        ];
        let sealed = vec!["masked", "title", "content"];
        // Two parts, as two selection jobs leave them: cases 0-1 and 2-3.
        let mut parts = [KeptHeads::default(), KeptHeads::default()];
        for (i, h) in heads.iter().enumerate() {
            parts[i / 2].push(h, &rec(i as u8), &sealed).unwrap();
        }
        let [first, second] = parts;
        let mut heads_kept = vec![(0, first), (2, second)];
        let petitioners = place_petitioners(&mut heads_kept).unwrap();
        assert_eq!(petitioners, (1..=5).map(pid).collect::<Vec<_>>());
        let kept = Selection {
            cases: vec![],
            heads: heads_kept,
            petitioners,
            sealed: sealed.clone(),
            kept_fields: true,
        };
        for (i, h) in heads.iter().enumerate() {
            let (m, envelopes) = kept.kept(i).unwrap();
            assert_eq!(
                (
                    m.case_no,
                    m.category,
                    m.status,
                    m.received_at,
                    m.is_accusation
                ),
                (
                    h.case_no,
                    h.category,
                    h.status,
                    h.received_at,
                    h.is_accusation
                ),
                "{i}"
            );
            assert_eq!(m.channel, h.channel);
            let ids: Vec<RecordId> = m
                .petitioners
                .iter()
                .map(|&at| kept.petitioners[at as usize])
                .collect();
            assert_eq!(ids, h.petitioner_ids, "{i}");
            let read = rec(i as u8);
            for name in ["meta", "masked", "title", "content", "demands", "notes"] {
                let want = if sealed.contains(&name) {
                    read.envelope(name)
                } else {
                    None
                };
                assert_eq!(envelopes.envelope(name), want, "{i} {name}");
            }
        }
        assert!(kept.kept(4).is_none());
    }

    /// An export's rows show each selected case as the selection kept it, unless a write
    /// logged after the selection began and before the export's own entry may have changed
    /// it: that case is read again, shown as it is now, or left out if it no longer matches
    /// the filter. A case changed after the export's entry keeps its selected row. At each
    /// case's own index across jobs and past the cases the filter left out.
    #[test]
    fn rows_show_cases_as_selected_unless_changed_before_the_export_entry() {
        use crate::workflow::Status;
        let dir = tempfile::tempdir().unwrap();
        let (vault, cases, accepted) = vault_with_cases(dir.path(), CHUNK + 60);
        let reg = unlock_reg(&vault);
        let registered = Filters {
            status: Some("registered".into()),
            ..Filters::default()
        };
        let status = columns_of(Profile::Redacted)
            .iter()
            .position(|c| *c == "status")
            .unwrap();
        let category = columns_of(Profile::Redacted)
            .iter()
            .position(|c| *c == "category")
            .unwrap();
        let open: Vec<RecordId> = cases
            .iter()
            .copied()
            .filter(|c| !accepted.contains(c))
            .collect();

        // Every case; the kept categories are marked (same length) to see which rows come
        // from the selection. One case moves on before the export's entry, one after.
        let since = log_len(&vault);
        let mut all = reg
            .select(&Filters::default(), Profile::Redacted, &classes_of(&reg))
            .unwrap();
        assert_eq!(all.cases, cases);
        assert!(all.heads.len() > 1, "parts");
        for (_, part) in &mut all.heads {
            part.text = part.text.replace("类别", "KEPT__");
        }
        let (moved, late) = (open[open.len() - 2], open[open.len() - 1]);
        reg.transition(moved, Status::Accepted, None).unwrap();
        let rows = rows_of(&reg, &all, &Filters::default(), since, || {
            reg.transition(late, Status::Accepted, None).unwrap();
        })
        .unwrap();
        assert_eq!(rows.len(), cases.len());
        for row in &rows {
            let kept = row[category].starts_with("KEPT__");
            assert_eq!(kept, row[0] != moved.to_string(), "{}", row[0]);
            if row[0] == moved.to_string() || row[0] == late.to_string() {
                let want = if row[0] == moved.to_string() {
                    "accepted"
                } else {
                    "registered"
                };
                assert_eq!(row[status], want, "{}", row[0]);
            }
        }

        // Registered cases past a chunk's end: one accepted before the export's entry is
        // left out; one accepted after it keeps its selected row.
        let since = log_len(&vault);
        let selected = reg
            .select(&registered, Profile::Redacted, &classes_of(&reg))
            .unwrap();
        assert!(selected.cases.len() > CHUNK, "two jobs");
        assert!(
            selected.cases.len() < cases.len(),
            "some left out by the filter"
        );
        let (leaving, staying) = (selected.cases[CHUNK + 1], selected.cases[CHUNK + 2]);
        let before = fresh_rows(&reg, &registered);
        reg.transition(leaving, Status::Accepted, None).unwrap();
        let rows = rows_of(&reg, &selected, &registered, since, || {
            reg.transition(staying, Status::Accepted, None).unwrap();
        })
        .unwrap();
        assert_eq!(rows.len(), selected.cases.len() - 1);
        let without_leaving: Vec<Vec<String>> = before
            .into_iter()
            .filter(|r| r[0] != leaving.to_string())
            .collect();
        assert_eq!(rows, without_leaving);
    }

    /// A full export whose selection read a case before an erasure logged ahead of the
    /// export's entry shows the case's text as the erasure left it (re-scrubbed of the
    /// erased petitioner's values), and the erased petitioner's cells empty.
    #[test]
    fn an_erasure_logged_before_the_export_entry_is_honoured() {
        let dir = tempfile::tempdir().unwrap();
        let (vault, pids) = vault_with_petitioners(dir.path(), 2);
        let pass = |u: &str| Passphrase::new(format!("export unit test {u}"));
        let reg = unlock_reg(&vault);
        let admin = vault.unlock("admin", &pass("admin")).unwrap();
        let shown = reg.show_petitioner(pids[0], None).unwrap();
        let name = shown
            .fields
            .iter()
            .find(|f| f.name == "name")
            .map(|f| f.value.expose().to_owned())
            .unwrap();
        let case = reg
            .open_case(&crate::model::NewCase {
                petitioners: vec![pids[0]],
                title: "来信".into(),
                category: "劳动保障".into(),
                channel: model::Channel::Letter,
                content: format!("{name}反映拖欠工资").into(),
                demands: None,
                accused_unit: None,
                is_accusation: false,
            })
            .unwrap();
        let reason = Reason::new("核对来信").unwrap();
        let classes = reg.export_classes(Profile::Full, Some(&reason)).unwrap();
        let columns = columns_of(Profile::Full);
        let cell = |row: &Vec<String>, name: &str| {
            row[columns.iter().position(|c| *c == name).unwrap()].clone()
        };
        let rows_after = |erase: bool| {
            let since = log_len(&vault);
            let selection = reg
                .select(&Filters::default(), Profile::Full, &classes)
                .unwrap();
            if erase {
                admin.erase_petitioner(pids[0], &reason).unwrap();
            }
            let proof = reg
                .commit(
                    &WriteSet::new(),
                    &reg.entry(Action::Export, Outcome::Allowed, None),
                )
                .unwrap();
            let changed = reg
                .changed_between(since, proof.seq(), &selection.cases)
                .unwrap();
            let mut rows = Rows(Vec::new());
            reg.export_pass(
                &proof,
                Profile::Full,
                &classes,
                &Filters::default(),
                &selection,
                &changed,
                &mut rows,
            )
            .unwrap();
            assert_eq!(rows.0.len(), 1);
            assert_eq!(rows.0[0][0], case.to_string());
            rows.0.remove(0)
        };
        let row = rows_after(false);
        assert!(cell(&row, "content").contains(&name));
        assert_eq!(cell(&row, "petitioner_names"), name);
        let row = rows_after(true);
        assert!(!cell(&row, "content").contains(&name), "re-scrubbed");
        assert!(cell(&row, "content").contains("反映拖欠工资"));
        assert_eq!(cell(&row, "petitioner_names"), "");
    }

    /// The kept envelopes are opened against the case whose row they fill: one case's
    /// envelopes put in another's place are refused as tampered, and the export fails.
    #[test]
    fn kept_envelopes_swapped_between_cases_are_refused() {
        // More cases than selection jobs: some job keeps two or more.
        let dir = tempfile::tempdir().unwrap();
        let (vault, _, _) = vault_with_cases(dir.path(), SPANS + 1);
        let reg = unlock_reg(&vault);
        let mut all = reg
            .select(&Filters::default(), Profile::Redacted, &classes_of(&reg))
            .unwrap();
        let swapped = {
            let (at, part) = all
                .heads
                .iter_mut()
                .find(|(_, p)| p.sealed_ends.len() >= 2)
                .map(|(at, p)| (*at, p))
                .unwrap();
            let first = part.sealed_ends[0] as usize;
            let second = part.sealed_ends[1] as usize;
            let mut bytes = part.sealed[first..second].to_vec();
            bytes.extend_from_slice(&part.sealed[..first]);
            part.sealed[..second].copy_from_slice(&bytes);
            part.sealed_ends[0] = (second - first) as u32;
            all.cases[at]
        };
        match rows_of(&reg, &all, &Filters::default(), log_len(&vault), || {}) {
            Err(VaultError::Tampered { table, id, field }) => {
                assert_eq!((table, id, field.as_str()), ("case", swapped, "masked"));
            }
            other => panic!("expected a tampered case, got {:?}", other.map(|r| r.len())),
        }
    }

    /// `place_petitioners` lists every kept petitioner once, sorted, and gives each of a
    /// case's petitioners, in every part (empty ones too), its position in that list:
    /// petitioners shared by cases across parts, repeated within a case, at both ends.
    #[test]
    fn each_kept_petitioner_gets_its_position_in_the_sorted_list() {
        let id = |n: u32| {
            let mut x = [0xa5; 16];
            x[..4].copy_from_slice(&(n.wrapping_mul(2_654_435_761)).to_be_bytes());
            RecordId(x)
        };
        // Per part, per case: petitioner numbers (drawn from 0..40, so they repeat).
        let cases: Vec<Vec<Vec<u32>>> = vec![
            vec![vec![3, 17], vec![], vec![39, 0, 39]],
            vec![],
            vec![vec![17]],
            (0..60).map(|c| vec![c * 7 % 40, c % 40]).collect(),
        ];
        let mut heads = Vec::new();
        let mut from = 0;
        for part in &cases {
            let mut kept = KeptHeads::default();
            for pids in part {
                kept.pids.extend(pids.iter().map(|n| id(*n)));
                kept.pid_ends.push(kept.pids.len() as u32);
            }
            heads.push((from, kept));
            from += part.len();
        }
        let petitioners = place_petitioners(&mut heads).unwrap();
        let mut want: Vec<RecordId> = cases.iter().flatten().flatten().map(|n| id(*n)).collect();
        want.sort();
        want.dedup();
        assert_eq!(petitioners, want);
        for ((_, kept), part) in heads.iter().zip(&cases) {
            assert!(kept.pids.is_empty());
            let placed: Vec<RecordId> = kept
                .people
                .iter()
                .map(|&at| petitioners[at as usize])
                .collect();
            let expected: Vec<RecordId> = part.iter().flatten().map(|n| id(*n)).collect();
            assert_eq!(placed, expected);
        }
        assert!(place_petitioners(&mut []).unwrap().is_empty());
    }

    /// `in_order` hands results over in job order whatever order the jobs finish in,
    /// returns the first failing job's error, and does not deadlock when called from a
    /// pool thread of a one-thread pool (the export inside a caller's rayon job).
    #[test]
    fn in_order_keeps_job_order_and_stops_at_the_first_error() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        pool.install(|| {
            let mut got = Vec::new();
            in_order(
                40,
                &|k| {
                    // later jobs finish sooner
                    std::thread::sleep(std::time::Duration::from_micros(((40 - k) * 50) as u64));
                    Ok(k)
                },
                &mut |k| {
                    got.push(k);
                    Ok(())
                },
            )
            .unwrap();
            assert_eq!(got, (0..40).collect::<Vec<_>>());

            let mut got = Vec::new();
            let err = in_order(
                40,
                &|k| {
                    if k == 7 || k == 9 {
                        Err(VaultError::Corrupt(if k == 7 { "seven" } else { "nine" }))
                    } else {
                        Ok(k)
                    }
                },
                &mut |k| {
                    got.push(k);
                    Ok(())
                },
            );
            assert!(matches!(err, Err(VaultError::Corrupt("seven"))));
            assert_eq!(got, (0..7).collect::<Vec<_>>());
            let err = in_order(3, &Ok, &mut |k| {
                if k == 1 {
                    Err(VaultError::Corrupt("consume"))
                } else {
                    Ok(())
                }
            });
            assert!(matches!(err, Err(VaultError::Corrupt("consume"))));
        });
        assert_eq!(
            in_order(0, &|_| Ok(()), &mut |()| unreachable!()).ok(),
            Some(())
        );
    }

    /// A row shows its case's petitioners in the case's order, each from its position:
    /// ids, pseudonym tokens and every petitioner column; a petitioner with empty cells
    /// (gone since the selection) is an empty slot.
    #[test]
    fn a_row_shows_each_petitioner_from_its_position() {
        let ids = [RecordId([1; 16]), RecordId([2; 16]), RecordId([3; 16])];
        let fields = FieldTexts {
            text: String::new(),
            fields: vec![],
        };
        let key = [9u8; 32];
        let token = |p: &RecordId| hex::encode(&crypto::hmac_sha256(&key, &[&p.0])[..8]);
        for profile in [Profile::Full, Profile::Pseudonymous, Profile::Redacted] {
            let per_person = person_fields(profile).len();
            let mut cells = RowText::default();
            for person in 0..ids.len() {
                for (column, _) in person_fields(profile) {
                    // The second petitioner is gone: empty cells.
                    cells.push(&if person == 1 {
                        String::new()
                    } else {
                        format!("{column} of {person}")
                    });
                }
            }
            let people = PeopleCells {
                chunks: vec![cells],
                per_person,
            };
            let row_of = |petitioners: &[u32]| {
                let meta = RowMeta {
                    case_no: "XF2026-000001",
                    category: "征地拆迁",
                    channel: model::Channel::Letter,
                    status: crate::workflow::Status::Registered,
                    received_at: 0,
                    is_accusation: false,
                    petitioners,
                };
                let key = (profile == Profile::Pseudonymous).then_some(&key);
                let row = render_row(
                    profile,
                    &RecordId([0; 16]),
                    &meta,
                    &fields,
                    key,
                    &ids,
                    &people,
                );
                let columns = columns_of(profile);
                move |name: &str| {
                    row.nth(columns.iter().position(|c| *c == name).unwrap())
                        .to_owned()
                }
            };
            let cell = row_of(&[2, 0, 1]);
            assert_eq!(cell("petitioner_count"), "3");
            assert_eq!(
                cell("petitioner_names"),
                "petitioner_names of 2;petitioner_names of 0;"
            );
            assert_eq!(
                cell("petitioner_phones"),
                "petitioner_phones of 2;petitioner_phones of 0;"
            );
            match profile {
                Profile::Full => assert_eq!(
                    cell("petitioner_ids"),
                    format!("{},{},{}", ids[2], ids[0], ids[1])
                ),
                Profile::Pseudonymous => assert_eq!(
                    cell("petitioner_tokens"),
                    format!("{};{};{}", token(&ids[2]), token(&ids[0]), token(&ids[1]))
                ),
                Profile::Redacted => {
                    assert!(!columns_of(profile).contains(&"petitioner_tokens"));
                }
            }
            let none = row_of(&[]);
            assert_eq!(none("petitioner_count"), "0");
            assert_eq!(none("petitioner_names"), "");
        }
    }

    /// Ids wanted by an export but gone from the store since (never there, here), placed
    /// around every job's ends: each job visits exactly its own records that exist, with
    /// their index in its slice, and the petitioner cells of a gone id are empty while
    /// every other petitioner keeps its own.
    #[test]
    fn each_job_visits_its_own_records_and_gone_ones_get_empty_cells() {
        let dir = tempfile::tempdir().unwrap();
        let (vault, present) = vault_with_petitioners(dir.path(), 2 * CHUNK + 20);
        let gone = |near: &RecordId, up: bool| {
            let mut id = *near;
            id.0[15] = if up {
                id.0[15].wrapping_add(1)
            } else {
                id.0[15].wrapping_sub(1)
            };
            id
        };
        let mut wanted: Vec<RecordId> = present.clone();
        // around the ends of the first two jobs, and before the first and after the last id
        let ats = [
            0,
            CHUNK - 2,
            CHUNK - 1,
            CHUNK,
            2 * CHUNK - 2,
            2 * CHUNK - 1,
            present.len() - 1,
        ];
        for (n, at) in ats.into_iter().enumerate() {
            wanted.push(gone(&present[at], n % 2 == 1));
        }
        wanted.sort();
        wanted.dedup();
        assert!(wanted.len() > 2 * CHUNK, "three jobs");
        let absent: Vec<bool> = wanted
            .iter()
            .map(|id| present.binary_search(id).is_err())
            .collect();
        assert_eq!(absent.iter().filter(|a| **a).count(), ats.len());

        let session = vault
            .unlock("reg", &Passphrase::new("export unit test reg".to_owned()))
            .unwrap();
        let mut visited = Vec::new();
        for k in 0..wanted.len().div_ceil(CHUNK) {
            session
                .visit_chunk(Tree::Petitioners, &wanted, k, &mut |i, id, _| {
                    visited.push((k * CHUNK + i, id));
                    Ok(())
                })
                .unwrap();
        }
        let expected: Vec<(usize, RecordId)> = wanted
            .iter()
            .enumerate()
            .filter(|(i, _)| !absent[*i])
            .map(|(i, id)| (i, *id))
            .collect();
        assert_eq!(visited, expected);

        let mut e = session.entry(Action::Export, Outcome::Allowed, None);
        e.targets = wanted.clone();
        let proof = session.commit(&WriteSet::new(), &e).unwrap();
        let reason = Reason::new("单元测试").unwrap();
        let classes: Vec<Class> = session
            .export_classes(Profile::Full, Some(&reason))
            .unwrap()
            .into_iter()
            .filter(|c| *c != Class::Meta)
            .collect();
        let people = person_fields(Profile::Full);
        let cells = session
            .people_cells(&proof, &wanted, people, &classes)
            .unwrap();
        for (i, id) in wanted.iter().enumerate() {
            let name = cells.cell(i, 0);
            if absent[i] {
                assert!(
                    (0..people.len()).all(|c| cells.cell(i, c).is_empty()),
                    "gone {i}"
                );
                continue;
            }
            let view = session.show_petitioner(*id, Some(&reason)).unwrap();
            assert_eq!(name, view.get("name").unwrap().value.expose(), "{i}");
            assert!(!name.is_empty());
        }
        assert_eq!(cells.cell(wanted.len(), 0), "", "past the end");
    }
}
