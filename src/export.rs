//! Exports and statistics: what leaves the vault, and in what form.
//!
//! Profiles (one row per case):
//!
//! | profile | columns | who |
//! |---|---|---|
//! | `redacted` | case meta, scrubbed title/content/demands, masked petitioner renderings (name 张*, ID 1***…2X, mobile 138****5678, address cut at the district, birth year) | needs only `masked` + `meta`: analyst, registrar, supervisor |
//! | `pseudonymous` | `redacted` + a stable keyed token per petitioner, so one person's cases link without identity | as `redacted` |
//! | `full` | every field in the clear | roles holding identity, contact and content (registrar, supervisor); a reason is required |
//!
//! Every export commits one audit entry listing every exported case and petitioner id
//! before any row is built; a manifest beside the file records the export id, time, actor,
//! profile, filters, row count and the file's SHA-256.

use crate::crypto::SecretText;
use serde::Serialize;
use std::io::Write;
use zeroize::Zeroizing;

/// An export profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Masked + meta.
    Redacted,
    /// Redacted + a keyed token per petitioner.
    Pseudonymous,
    /// Everything, with a reason.
    Full,
}

impl Profile {
    /// The name.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Redacted => "redacted",
            Profile::Pseudonymous => "pseudonymous",
            Profile::Full => "full",
        }
    }
}

/// Which cases to export.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Filters {
    /// Only this status.
    pub status: Option<String>,
    /// Only this category.
    pub category: Option<String>,
    /// Received at or after (unix ms).
    pub since_ms: Option<i64>,
    /// Received before (unix ms).
    pub until_ms: Option<i64>,
}

/// One exported row: column name → value. `Debug` prints column names only.
#[derive(Clone, Default)]
pub struct ExportRow {
    /// Columns in order.
    pub fields: Vec<(&'static str, SecretText)>,
}

impl std::fmt::Debug for ExportRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.fields.iter().map(|(n, _)| *n).collect();
        f.debug_struct("ExportRow")
            .field("columns", &names)
            .finish()
    }
}

/// An export, audited, ready to write.
#[derive(Debug)]
pub struct Export {
    /// Random id, also in the audit entry.
    pub export_id: String,
    /// Unix ms.
    pub time_ms: i64,
    /// Who exported.
    pub actor: String,
    /// Profile.
    pub profile: Profile,
    /// Filters used.
    pub filters: Filters,
    /// Column names (same for every row).
    pub columns: Vec<&'static str>,
    /// Rows.
    pub rows: Vec<ExportRow>,
}

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON Lines: one object per row, keys in sorted order.
    Jsonl,
    /// CSV with a header row; `bom` prepends a UTF-8 byte-order mark.
    Csv {
        /// Prepend a UTF-8 byte-order mark (for spreadsheet software).
        bom: bool,
    },
}

impl Format {
    /// The name recorded in the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Csv { .. } => "csv",
        }
    }
}

/// One row's cells in one buffer (few allocations per row). Zeroized when cleared or dropped.
#[derive(Default)]
pub(crate) struct RowText {
    text: String,
    ends: Vec<usize>,
}

impl RowText {
    /// An empty row with room for `text` bytes in `cells` cells.
    pub(crate) fn with_capacity(text: usize, cells: usize) -> RowText {
        RowText {
            text: String::with_capacity(text),
            ends: Vec::with_capacity(cells),
        }
    }

    /// Appends a cell written by `fill`, which writes at most `most` bytes: room for them
    /// is made first, so that the text never grows by itself (which would free its old
    /// bytes unwiped; see [`grow_wiped`]).
    pub(crate) fn cell(&mut self, most: usize, fill: impl FnOnce(&mut String)) {
        grow_wiped(&mut self.text, most);
        let room = self.text.capacity();
        fill(&mut self.text);
        debug_assert_eq!(self.text.capacity(), room, "a cell wrote more than it said");
        self.ends.push(self.text.len());
    }

    /// Appends a cell.
    pub(crate) fn push(&mut self, value: &str) {
        self.cell(value.len(), |t| t.push_str(value));
    }

    /// Bytes of text in its cells.
    pub(crate) fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Cell `i` (empty when there is none).
    pub(crate) fn nth(&self, i: usize) -> &str {
        let Some(&end) = self.ends.get(i) else {
            return "";
        };
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..end]
    }

    /// The cells in order.
    pub(crate) fn cells(&self) -> impl Iterator<Item = &str> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let s = &self.text[start..end];
            start = end;
            s
        })
    }
}

impl Drop for RowText {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.text);
    }
}

/// Counts and hashes the bytes that pass through to the real output: the manifest's
/// SHA-256 is of exactly what was written.
struct Hashing<W: Write> {
    inner: W,
    hash: sha2::Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        sha2::Digest::update(&mut self.hash, &buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Turns rows into the bytes of one output format. It holds no output, so the rows of a
/// streamed export are encoded where they are decrypted (on every core), and only their
/// bytes are written, in order, by the one writer.
#[derive(Clone)]
pub(crate) struct RowEncoder {
    format: Format,
    names: Vec<&'static str>,
    /// Column indexes in key order (a JSON object's keys are written sorted).
    order: Vec<usize>,
}

impl RowEncoder {
    /// An encoder of rows whose cells are in the order of `columns`.
    pub(crate) fn new(format: Format, columns: &[&'static str]) -> RowEncoder {
        RowEncoder {
            format,
            names: columns.to_vec(),
            order: key_order(columns),
        }
    }

    /// What goes before the first row: the byte-order mark and header row for CSV, nothing
    /// for JSONL.
    fn preamble(&self, out: &mut Vec<u8>) {
        if let Format::Csv { bom } = self.format {
            if bom {
                out.extend_from_slice(&[0xEF, 0xBB, 0xBF]);
            }
            csv_record(out, self.names.iter().map(|n| n.as_bytes()));
        }
    }

    /// Appends `row` (cells in the order of the columns) to `out`, which is never grown in
    /// a way that frees bytes unwiped: room for the row is made first (see
    /// [`reserve_wiped`]).
    pub(crate) fn encode_row(&self, row: &RowText, out: &mut Zeroizing<Vec<u8>>) {
        with_cells(row.cells(), |cells| {
            self.encode_within(&self.names, &self.order, cells, out)
        })
    }

    /// [`RowEncoder::encode_named`] into room made beforehand for the most the row can
    /// take.
    fn encode_within(
        &self,
        names: &[&'static str],
        order: &[usize],
        cells: &[&str],
        out: &mut Zeroizing<Vec<u8>>,
    ) {
        reserve_wiped(out, self.max_len(names, cells));
        let room = out.capacity();
        self.encode_named(names, order, cells, out);
        debug_assert_eq!(out.capacity(), room, "a row takes at most max_len bytes");
    }

    /// The most bytes encoding a row of `cells` (in the order of `names`) can take at the
    /// end of a buffer, counting the room `csv_core`'s steps ask for while they work.
    fn max_len(&self, names: &[&str], cells: &[&str]) -> usize {
        let text: usize = cells.iter().map(|c| c.len()).sum();
        match self.format {
            // `{`, `}` and a newline; per column `"name":` and a comma, and its value
            // quoted, each byte escaped to at most six (`\u00XX`).
            Format::Jsonl => {
                3 + names.iter().map(|n| n.len() + 4).sum::<usize>() + 2 * names.len() + 6 * text
            }
            // Per field: the formula guard's byte, then a step of 2 + 2x the field (every
            // byte a quote, doubled, and the quotes around), and a delimiter step of 4;
            // the terminator's step of 4.
            Format::Csv { .. } => 4 + 8 * cells.len() + 2 * text,
        }
    }

    /// Appends one row: `cells` in the order of `names`, `order` the JSON key order of
    /// `names`.
    fn encode_named(
        &self,
        names: &[&'static str],
        order: &[usize],
        cells: &[&str],
        out: &mut Vec<u8>,
    ) {
        match self.format {
            Format::Jsonl => {
                out.push(b'{');
                for (n, &i) in order.iter().enumerate() {
                    if n > 0 {
                        out.push(b',');
                    }
                    json_string(out, names[i]);
                    out.push(b':');
                    json_string(out, cells.get(i).copied().unwrap_or(""));
                }
                out.extend_from_slice(b"}\n");
            }
            Format::Csv { .. } => csv_record(out, cells.iter().map(|c| CsvCell(defuse_formula(c)))),
        }
    }
}

/// Makes room for `more` bytes at the end of `text` as [`reserve_wiped`] does for bytes:
/// when it must grow, its text moves to a new string and the old one is wiped.
pub(crate) fn grow_wiped(text: &mut String, more: usize) {
    if text.capacity() - text.len() >= more {
        return;
    }
    let mut bigger = String::with_capacity((text.capacity() * 2).max(text.len() + more));
    bigger.push_str(text);
    let mut old = std::mem::replace(text, bigger);
    zeroize::Zeroize::zeroize(&mut old);
}

/// Makes room for `more` bytes at the end of `buf` without ever freeing any of its bytes
/// unwiped: when it must grow, its bytes move to a new buffer (twice as large, or as large
/// as needed) and the old one is wiped as it is dropped. A `Vec` that grows by itself
/// frees its old allocation as it is.
pub(crate) fn reserve_wiped(buf: &mut Zeroizing<Vec<u8>>, more: usize) {
    if buf.capacity() - buf.len() >= more {
        return;
    }
    let mut bigger = Zeroizing::new(Vec::with_capacity(
        (buf.capacity() * 2).max(buf.len() + more),
    ));
    bigger.extend_from_slice(buf);
    *buf = bigger;
}

/// Calls `f` with `cells` gathered in a slice (on the stack for up to 32 cells).
fn with_cells<'a, T>(cells: impl Iterator<Item = &'a str>, f: impl FnOnce(&[&'a str]) -> T) -> T {
    let mut at: [&str; 32] = [""; 32];
    let mut n = 0;
    let mut spilled: Vec<&str> = Vec::new();
    for c in cells {
        if n < at.len() {
            at[n] = c;
        } else {
            if spilled.is_empty() {
                spilled.extend_from_slice(&at);
            }
            spilled.push(c);
        }
        n += 1;
    }
    if n <= at.len() {
        f(&at[..n])
    } else {
        f(&spilled)
    }
}

/// A JSON string, as serde_json writes it.
fn json_string(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
}

/// Appends one CSV record as the `csv` crate's default writer writes it (its own encoder,
/// `csv_core`, with the same default settings).
fn csv_record<T: AsRef<[u8]>>(out: &mut Vec<u8>, fields: impl Iterator<Item = T>) {
    let mut core = csv_core::Writer::new();
    for (i, field) in fields.enumerate() {
        if i > 0 {
            csv_step(out, 4, &mut |buf| core.delimiter(buf));
        }
        let mut rest = field.as_ref();
        // At most 2 + 2 × the input (every byte a quote, doubled, and the quotes around).
        csv_step(out, 2 + 2 * rest.len(), &mut |buf| {
            let (res, nin, nout) = core.field(rest, buf);
            rest = &rest[nin..];
            (res, nout)
        });
    }
    csv_step(out, 4, &mut |buf| core.terminator(buf));
}

/// Runs one `csv_core` step into the end of `out`, growing it until the step fits.
fn csv_step(
    out: &mut Vec<u8>,
    mut room: usize,
    step: &mut dyn FnMut(&mut [u8]) -> (csv_core::WriteResult, usize),
) {
    loop {
        let at = out.len();
        out.resize(at + room, 0);
        let (res, n) = step(&mut out[at..]);
        out.truncate(at + n);
        match res {
            csv_core::WriteResult::InputEmpty => return,
            csv_core::WriteResult::OutputFull => room = room * 2 + 8,
        }
    }
}

/// The bytes of rows a [`RowWriter`] gathers before it writes them.
const LINE_BYTES: usize = 1 << 16;
/// The room its buffer starts with: those and a long row more.
const LINE_ROOM: usize = LINE_BYTES + (1 << 14);

/// Writes rows as JSON Lines or CSV as they come, hashing what it writes. Each row is
/// encoded as soon as it is given; nothing of earlier rows is kept.
pub(crate) struct RowWriter<W: Write> {
    out: Hashing<W>,
    encoder: RowEncoder,
    /// The bytes of the row being written (wiped after each row).
    line: Zeroizing<Vec<u8>>,
}

impl<W: Write> RowWriter<W> {
    /// Starts the output: the byte-order mark and header row for CSV, nothing for JSONL.
    pub(crate) fn begin(
        format: Format,
        columns: &[&'static str],
        out: W,
    ) -> std::io::Result<RowWriter<W>> {
        let mut w = RowWriter {
            out: Hashing {
                inner: out,
                hash: sha2::Digest::new(),
                bytes: 0,
            },
            encoder: RowEncoder::new(format, columns),
            // Rows are gathered up to 64 KiB (see `row`); room for that and a row more.
            line: Zeroizing::new(Vec::with_capacity(LINE_ROOM)),
        };
        w.encoder.preamble(&mut w.line);
        w.write_line()?;
        Ok(w)
    }

    /// The encoder of this writer's rows, for rows encoded elsewhere and handed to
    /// [`RowWriter::encoded`].
    pub(crate) fn encoder(&self) -> &RowEncoder {
        &self.encoder
    }

    /// Writes rows already encoded by [`RowWriter::encoder`].
    pub(crate) fn encoded(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.write_line()?;
        self.out.write_all(bytes)
    }

    fn write_line(&mut self) -> std::io::Result<()> {
        if self.line.is_empty() {
            return Ok(());
        }
        let written = self.out.write_all(&self.line);
        zeroize::Zeroize::zeroize(&mut *self.line);
        self.line.clear();
        written
    }

    /// Writes one row whose cells are in the order of the columns given to `begin`.
    pub(crate) fn column_row<'a>(
        &mut self,
        cells: impl Iterator<Item = &'a str>,
    ) -> std::io::Result<()> {
        let encoder = &self.encoder;
        with_cells(cells, |cells| {
            encoder.encode_within(&encoder.names, &encoder.order, cells, &mut self.line)
        });
        if self.line.len() >= LINE_BYTES {
            self.write_line()?;
        }
        Ok(())
    }

    /// Writes one row: `cells` in the order of `names` (the columns, for every row the
    /// vault builds). Rows are gathered and written some 64 KiB at a time.
    pub(crate) fn row<'a>(
        &mut self,
        names: &[&'static str],
        cells: impl Iterator<Item = &'a str>,
    ) -> std::io::Result<()> {
        let encoder = &self.encoder;
        with_cells(cells, |cells| {
            if names == encoder.names.as_slice() {
                encoder.encode_within(names, &encoder.order, cells, &mut self.line)
            } else {
                encoder.encode_within(names, &key_order(names), cells, &mut self.line)
            }
        });
        if self.line.len() >= LINE_BYTES {
            self.write_line()?;
        }
        Ok(())
    }

    /// Flushes and returns the number of bytes written and their SHA-256.
    pub(crate) fn finish(mut self) -> std::io::Result<(u64, [u8; 32])> {
        self.write_line()?;
        self.out.flush()?;
        Ok((self.out.bytes, sha2::Digest::finalize(self.out.hash).into()))
    }
}

/// Indexes of `names` in the order a JSON object (a sorted map) writes its keys; a repeated
/// name keeps its last value, as a map insert would.
fn key_order(names: &[&str]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by_key(|&i| names[i]);
    order.dedup_by(|later, earlier| {
        let same = names[*later] == names[*earlier];
        if same {
            *earlier = *later;
        }
        same
    });
    order
}

/// Writes JSON Lines: one object per row.
pub fn write_jsonl(export: &Export, out: &mut impl Write) -> std::io::Result<()> {
    write_rows(export, Format::Jsonl, out)
}

/// Writes CSV with a header row; `bom` prepends a UTF-8 byte-order mark so spreadsheet
/// software opens Chinese text correctly. Cells that a spreadsheet would run as a formula
/// (starting with `=`, `+`, `-`, `@`) are prefixed with `'`.
pub fn write_csv(export: &Export, out: &mut impl Write, bom: bool) -> std::io::Result<()> {
    write_rows(export, Format::Csv { bom }, out)
}

fn write_rows(export: &Export, format: Format, out: &mut impl Write) -> std::io::Result<()> {
    let mut w = RowWriter::begin(format, &export.columns, out)?;
    for row in &export.rows {
        let names: Vec<&'static str> = row.fields.iter().map(|(n, _)| *n).collect();
        w.row(&names, row.fields.iter().map(|(_, v)| v.expose()))?;
    }
    w.finish().map(|_| ())
}

struct CsvCell<'a>(std::borrow::Cow<'a, str>);

impl AsRef<[u8]> for CsvCell<'_> {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl Drop for CsvCell<'_> {
    /// A cell copied to take the formula guard is wiped.
    fn drop(&mut self) {
        if let std::borrow::Cow::Owned(cell) = &mut self.0 {
            zeroize::Zeroize::zeroize(cell);
        }
    }
}

fn defuse_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// The manifest written beside an export file.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    /// Export id (also in the audit entry).
    pub export_id: String,
    /// RFC 3339.
    pub time: String,
    /// Who.
    pub actor: String,
    /// Profile.
    pub profile: Profile,
    /// Filters.
    pub filters: Filters,
    /// Rows.
    pub count: usize,
    /// File format.
    pub format: String,
    /// SHA-256 of the file, hex.
    pub sha256: String,
}

impl Manifest {
    /// The manifest of `export` written as `bytes` in `format`.
    pub fn of(export: &Export, format: &str, bytes: &[u8]) -> Manifest {
        Manifest {
            export_id: export.export_id.clone(),
            time: crate::audit::format_time(export.time_ms),
            actor: export.actor.clone(),
            profile: export.profile,
            filters: export.filters.clone(),
            count: export.rows.len(),
            format: format.to_owned(),
            sha256: hex::encode(crate::crypto::sha256(&[bytes])),
        }
    }
}

/// Statistics dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatsBy {
    /// Category.
    Category,
    /// Month received (YYYY-MM, China time).
    Month,
    /// Channel.
    Channel,
    /// Status.
    Status,
    /// Province of the (first) petitioner's address, from its masked rendering.
    Region,
}

impl StatsBy {
    /// The name.
    pub fn as_str(self) -> &'static str {
        match self {
            StatsBy::Category => "category",
            StatsBy::Month => "month",
            StatsBy::Channel => "channel",
            StatsBy::Status => "status",
            StatsBy::Region => "region",
        }
    }
}

/// One cell of a statistics table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// The group.
    pub key: String,
    /// The count, or `None` when suppressed.
    pub count: Option<usize>,
    /// How it is shown: the count, or `<k` when suppressed.
    pub shown: String,
}

/// A statistics table with small-cell suppression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Dimension.
    pub by: StatsBy,
    /// Minimum shown count.
    pub min_cell: usize,
    /// Cells, largest first.
    pub cells: Vec<Cell>,
    /// Total, shown only when no cell is suppressed (or as `≥ n` otherwise).
    pub total: String,
}

/// Builds a suppressed table from group keys. Cells below `min_cell` are shown as `<k`, and
/// with any suppression the total is shown only as a lower bound (`≥n`), so it cannot be
/// used to recover a suppressed cell. Differencing against another table of the same cases
/// (e.g. an unsuppressed total by channel) is still possible: publish one table per
/// release, or raise `min_cell`.
pub fn tabulate(by: StatsBy, keys: impl IntoIterator<Item = String>, min_cell: usize) -> Stats {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for k in keys {
        *counts.entry(k).or_default() += 1;
    }
    let mut cells: Vec<(String, usize)> = counts.into_iter().collect();
    cells.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let total: usize = cells.iter().map(|c| c.1).sum();
    let suppressed: Vec<bool> = cells.iter().map(|c| c.1 < min_cell).collect();
    let shown_total = if suppressed.iter().any(|s| *s) {
        let visible: usize = cells
            .iter()
            .zip(&suppressed)
            .filter(|(_, s)| !**s)
            .map(|(c, _)| c.1)
            .sum();
        format!("≥{visible}")
    } else {
        total.to_string()
    };
    Stats {
        by,
        min_cell,
        cells: cells
            .into_iter()
            .zip(suppressed)
            .map(|((key, n), s)| Cell {
                key,
                count: (!s).then_some(n),
                shown: if s {
                    format!("<{min_cell}")
                } else {
                    n.to_string()
                },
            })
            .collect(),
        total: shown_total,
    }
}

/// The province (or municipality / region) at the start of a masked address.
pub fn province_of(address: &str) -> String {
    province_str(address).to_owned()
}

/// [`province_of`], borrowed.
pub(crate) fn province_str(address: &str) -> &str {
    for suffix in ["特别行政区", "自治区", "省", "市"] {
        // The first occurrence of `suffix` (as `str::find` gives it), found by its first
        // character: cheaper than setting up a substring search per address.
        let first = suffix.chars().next().expect("suffixes are not empty");
        let found = address
            .match_indices(first)
            .map(|(i, _)| i)
            .find(|&i| address[i..].starts_with(suffix));
        if let Some(i) = found {
            let head = &address[..i + suffix.len()];
            if head.chars().count() <= 12 {
                return head;
            }
        }
    }
    "未知"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_cells_are_suppressed_and_the_total_becomes_a_bound() {
        let keys = ["a"; 10]
            .iter()
            .chain(["b"; 7].iter())
            .chain(["c"; 2].iter())
            .map(|s| s.to_string());
        let s = tabulate(StatsBy::Category, keys, 5);
        let shown: Vec<(&str, &str)> = s
            .cells
            .iter()
            .map(|c| (c.key.as_str(), c.shown.as_str()))
            .collect();
        assert_eq!(shown, vec![("a", "10"), ("b", "7"), ("c", "<5")]);
        assert_eq!(s.cells[2].count, None);
        assert_eq!(s.total, "≥17");
        let s = tabulate(StatsBy::Category, ["x"; 6].iter().map(|s| s.to_string()), 5);
        assert_eq!(s.total, "6");
        assert_eq!(s.cells[0].count, Some(6));
    }

    #[test]
    fn provinces() {
        assert_eq!(province_of("江苏省南京市江宁区"), "江苏省");
        assert_eq!(province_of("北京市朝阳区"), "北京市");
        assert_eq!(province_of("广西壮族自治区南宁市"), "广西壮族自治区");
        assert_eq!(province_of("***"), "未知");
        assert_eq!(
            province_of("新疆维吾尔自治区乌鲁木齐市"),
            "新疆维吾尔自治区"
        );
        assert_eq!(province_of("香港特别行政区"), "香港特别行政区");
        assert_eq!(province_of("自治州某某省"), "自治州某某省");
        assert_eq!(province_of("某某某某某某某某某某某某某省"), "未知");
    }

    /// A row encoded into room made with `reserve_wiped` for `max_len` never makes the
    /// buffer grow by itself (which would free bytes unwiped), in either format, for cells
    /// at their worst: every byte a quote or a control character, formula starts, long
    /// Chinese text, empty cells, fewer cells than columns. The bytes are those `encode_named`
    /// writes into a plain vector.
    #[test]
    fn rows_fit_the_room_made_for_them() {
        let long = "信访内容".repeat(500);
        let cells: Vec<&str> = vec![
            "\"\"\"\"",
            "\u{1}\u{2}\u{1f}",
            "=SUM(A1)",
            "-1",
            "@x",
            "+",
            "",
            "a,b\r\n",
            &long,
            "\\",
        ];
        let names: Vec<&'static str> = vec!["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
        for format in [Format::Jsonl, Format::Csv { bom: false }] {
            let encoder = RowEncoder::new(format, &names);
            for n in [0, 1, 3, cells.len()] {
                for start in [0usize, 7] {
                    let mut out = Zeroizing::new(vec![b'x'; start]);
                    out.shrink_to_fit();
                    let room = encoder.max_len(&names, &cells[..n]);
                    reserve_wiped(&mut out, room);
                    let capacity = out.capacity();
                    assert!(capacity >= start + room);
                    encoder.encode_within(&names, &encoder.order, &cells[..n], &mut out);
                    assert_eq!(out.capacity(), capacity, "{format:?} {n}");
                    let mut plain = vec![b'x'; start];
                    encoder.encode_named(&names, &encoder.order, &cells[..n], &mut plain);
                    assert_eq!(*out, plain, "{format:?} {n}");
                }
            }
        }
        // Text: the same, and a row's cells given their room keep it.
        let mut text = String::with_capacity(8);
        text.push_str("信访");
        let at = text.as_ptr();
        grow_wiped(&mut text, 2);
        assert_eq!(text.as_ptr(), at);
        grow_wiped(&mut text, 3);
        assert_eq!(text, "信访");
        assert!(text.capacity() >= 16);
        let mut row = RowText::with_capacity(4, 2);
        row.push("长一些的内容");
        row.cell(9, |t| t.push_str("第二格"));
        assert_eq!(row.cells().collect::<Vec<_>>(), ["长一些的内容", "第二格"]);
        // Room that is there is used as it is; a buffer that must grow keeps its bytes.
        let mut buf = Zeroizing::new(Vec::with_capacity(10));
        buf.extend_from_slice(b"abc");
        let at = buf.as_ptr();
        reserve_wiped(&mut buf, 7);
        assert_eq!(buf.as_ptr(), at);
        reserve_wiped(&mut buf, 8);
        assert_eq!(&buf[..], b"abc");
        assert!(buf.capacity() >= 20);
    }

    /// Records are written byte for byte as the `csv` crate's default writer writes them:
    /// every row of one to three fields drawn from values that need quotes or not.
    #[test]
    fn csv_records_match_the_csv_crate() {
        let values = [
            "",
            "a",
            ",",
            "\"",
            "\n",
            "\r",
            "a,b",
            "中文，内容",
            "=1",
            " x ",
            "say \"hi\"",
        ];
        let mut rows: Vec<Vec<&str>> = values.iter().map(|v| vec![*v]).collect();
        for _ in 0..2 {
            let longer: Vec<Vec<&str>> = rows
                .iter()
                .filter(|r| r.len() == rows.last().map_or(0, |l| l.len()))
                .flat_map(|r| {
                    values.iter().map(move |v| {
                        let mut r = r.clone();
                        r.push(v);
                        r
                    })
                })
                .collect();
            rows.extend(longer);
        }
        assert_eq!(rows.len(), 11 + 121 + 1331);
        for row in &rows {
            let mut ours = Vec::new();
            csv_record(&mut ours, row.iter().map(|c| c.as_bytes()));
            let mut theirs = csv::Writer::from_writer(Vec::new());
            theirs.write_record(row).unwrap();
            let theirs = theirs.into_inner().unwrap();
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&theirs),
                "{row:?}"
            );
        }
    }

    #[test]
    fn csv_defuses_formulas_and_writes_bom() {
        let e = Export {
            export_id: "x".into(),
            time_ms: 0,
            actor: "a".into(),
            profile: Profile::Redacted,
            filters: Filters::default(),
            columns: vec!["c"],
            rows: vec![ExportRow {
                fields: vec![("c", SecretText::from("=cmd|' /C calc'!A0"))],
            }],
        };
        let mut out = Vec::new();
        write_csv(&e, &mut out, true).unwrap();
        assert!(out.starts_with(&[0xEF, 0xBB, 0xBF]));
        let text = String::from_utf8(out[3..].to_vec()).unwrap();
        assert!(text.contains("'=cmd"), "{text}");
    }
}
