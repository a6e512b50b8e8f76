//! How entries sit in [`Tree::Audit`]: an entry of at most [`PART`] bytes under its
//! sequence number (8 bytes, big-endian), a longer one in parts of [`PART`] bytes under
//! `seq | index | count` (4 + 4 bytes, big-endian), which sort right after `seq`.
//!
//! Why: sled 0.34 splits a leaf only past 16 keys and writes a whole leaf again every few
//! updates, and writes any leaf over 128 KiB to a file of its own. An export of a million
//! cases names two million ids, a 32 MB entry; stored whole, it made every later commit
//! load and rewrite a leaf of at least 32 MB (one of 128 MB after four such exports: 1.4–1.7
//! GB resident, and an export on a 100k vault fell from ~87k to ~34k records/s after ~17
//! of them). In parts, a leaf holds at most 16 × 4 KiB.
//!
//! The entry's bytes (and so its hash and MAC) are the same either way; parts only change
//! where they are kept. Every reader goes through [`visit_stored`], which puts an entry's
//! parts back together: parts missing, repeated, out of order or of another entry give
//! that entry no bytes (which no check accepts), and a key of any other shape is reported
//! as such, so nothing about parts can hide an edit of the log. Logs written before parts
//! have only whole entries and read as before.

use crate::store::{Store, StoreError, Tree};

/// The largest stored value of the audit tree (and of the audit index's bulk buckets):
/// 16 of them fit a sled leaf below its 128 KiB blob threshold.
pub const PART: usize = 4096;

/// The key of part `index` of `count` of entry `seq`.
fn part_key(seq: u64, index: u32, count: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(16);
    k.extend_from_slice(&seq.to_be_bytes());
    k.extend_from_slice(&index.to_be_bytes());
    k.extend_from_slice(&count.to_be_bytes());
    k
}

/// The (key, value) pairs that store entry `seq` with `bytes`: one, or its parts in order.
pub(crate) fn stored_pairs(seq: u64, bytes: Vec<u8>) -> Vec<(Vec<u8>, Vec<u8>)> {
    if bytes.len() <= PART {
        return vec![(seq.to_be_bytes().to_vec(), bytes)];
    }
    let count = u32::try_from(bytes.len().div_ceil(PART)).expect("an entry below 16 TiB");
    bytes
        .chunks(PART)
        .zip(0..)
        .map(|(part, i)| (part_key(seq, i, count), part.to_vec()))
        .collect()
}

/// What a key of the audit tree says.
enum Key {
    Whole(u64),
    Part { seq: u64, index: u32, count: u32 },
}

fn parse_key(key: &[u8]) -> Option<Key> {
    let seq = u64::from_be_bytes(key.get(..8)?.try_into().ok()?);
    match key.len() {
        8 => Some(Key::Whole(seq)),
        16 => {
            let index = u32::from_be_bytes(key[8..12].try_into().ok()?);
            let count = u32::from_be_bytes(key[12..16].try_into().ok()?);
            (index < count).then_some(Key::Part { seq, index, count })
        }
        _ => None,
    }
}

/// One stored entry as [`visit_stored`] hands it over.
pub(crate) enum Stored<'a> {
    /// Entry `seq` (by its key), with its bytes: empty when its parts do not fit together.
    Entry(u64, &'a [u8]),
    /// A key that is neither an entry's nor a part's (its bytes).
    BadKey(&'a [u8]),
}

impl<'a> Stored<'a> {
    /// The entry's bytes (none for a bad key).
    pub(crate) fn bytes(&self) -> &'a [u8] {
        match self {
            Stored::Entry(_, bytes) => bytes,
            Stored::BadKey(_) => &[],
        }
    }
}

/// Calls `f` with each entry stored at or after `from` (and before `end`, when given), in
/// key order, its parts put back together, until `f` returns false.
pub(crate) fn visit_stored(
    store: &dyn Store,
    from: u64,
    end: Option<u64>,
    f: &mut dyn FnMut(Stored<'_>) -> bool,
) -> Result<(), StoreError> {
    // The entry being put back together: (seq, the next index, count), and its bytes.
    let mut open: Option<(u64, u32, u32)> = None;
    let mut buf: Vec<u8> = Vec::new();
    let mut more = true;
    let end_key = end.map(u64::to_be_bytes);
    store.visit_range(
        Tree::Audit,
        &from.to_be_bytes(),
        end_key.as_ref().map(|e| &e[..]),
        &mut |key, value| {
            let parsed = parse_key(key);
            // An entry whose parts stop short is handed over without bytes.
            if let Some((seq, next, _)) = open {
                let continues = matches!(parsed, Some(Key::Part { seq: s, index, .. })
                    if s == seq && index == next);
                if !continues {
                    open = None;
                    buf.clear();
                    if !f(Stored::Entry(seq, &[])) {
                        more = false;
                        return false;
                    }
                }
            }
            more = match parsed {
                None => f(Stored::BadKey(key)),
                Some(Key::Whole(seq)) => f(Stored::Entry(seq, value)),
                Some(Key::Part { seq, index, count }) => match open {
                    Some((_, next, n)) if count == n => {
                        // the same entry's next part (checked above)
                        buf.extend_from_slice(value);
                        if next + 1 == n {
                            open = None;
                            let done = f(Stored::Entry(seq, &buf));
                            buf.clear();
                            done
                        } else {
                            open = Some((seq, next + 1, n));
                            true
                        }
                    }
                    Some(_) => {
                        // the same entry's next index, under another count
                        open = None;
                        buf.clear();
                        f(Stored::Entry(seq, &[]))
                    }
                    None if index == 0 => {
                        buf.extend_from_slice(value);
                        if count == 1 {
                            let done = f(Stored::Entry(seq, &buf));
                            buf.clear();
                            done
                        } else {
                            open = Some((seq, 1, count));
                            true
                        }
                    }
                    // a part without its first
                    None => f(Stored::Entry(seq, &[])),
                },
            };
            more
        },
    )?;
    if more && let Some((seq, _, _)) = open {
        f(Stored::Entry(seq, &[]));
    }
    Ok(())
}

/// The stored bytes of entry `seq`, its parts put back together (None when nothing is
/// stored under it; empty when its parts do not fit together).
pub(crate) fn get_stored(store: &dyn Store, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
    let mut found = None;
    let mut bad_key = false;
    visit_stored(store, seq, seq.checked_add(1), &mut |s| match s {
        Stored::Entry(at, bytes) if at == seq => {
            found = Some(bytes.to_vec());
            false
        }
        _ => {
            bad_key = true;
            false
        }
    })?;
    if bad_key {
        return Err(StoreError::Corrupt(format!(
            "the audit log has a malformed key at entry {seq}"
        )));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SledStore;
    use crate::store::WriteSet;

    fn store(dir: &std::path::Path) -> SledStore {
        SledStore::open(dir, 8 * 1024 * 1024).unwrap()
    }

    fn put(store: &SledStore, pairs: &[(Vec<u8>, Vec<u8>)]) {
        let mut w = WriteSet::new();
        for (k, v) in pairs {
            w.put(Tree::Audit, k.clone(), v.clone());
        }
        store.commit_unaudited(&w).unwrap();
    }

    fn bytes(seq: u64, len: usize) -> Vec<u8> {
        (0..len).map(|i| (i as u64 * 31 + seq) as u8).collect()
    }

    /// (seq, bytes) as visited; `None` for a bad key.
    fn visited(store: &SledStore, from: u64, end: Option<u64>) -> Vec<Option<(u64, Vec<u8>)>> {
        let mut out = Vec::new();
        visit_stored(store, from, end, &mut |s| {
            out.push(match s {
                Stored::Entry(seq, b) => Some((seq, b.to_vec())),
                Stored::BadKey(_) => None,
            });
            true
        })
        .unwrap();
        out
    }

    #[test]
    fn long_entries_are_stored_in_parts_and_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let lens = [10, PART, PART + 1, 3 * PART, 5 * PART + 7, 1];
        for (seq, len) in lens.iter().enumerate() {
            let pairs = stored_pairs(seq as u64, bytes(seq as u64, *len));
            assert_eq!(pairs.len(), len.div_ceil(PART));
            assert!(pairs.iter().all(|(_, v)| v.len() <= PART));
            put(&s, &pairs);
        }
        let want: Vec<_> = lens
            .iter()
            .enumerate()
            .map(|(seq, len)| Some((seq as u64, bytes(seq as u64, *len))))
            .collect();
        assert_eq!(visited(&s, 0, None), want);
        assert_eq!(visited(&s, 2, Some(4)), want[2..4]);
        for (seq, len) in lens.iter().enumerate() {
            assert_eq!(
                get_stored(&s, seq as u64).unwrap(),
                Some(bytes(seq as u64, *len))
            );
        }
        assert_eq!(get_stored(&s, 99).unwrap(), None);
    }

    #[test]
    fn parts_that_do_not_fit_together_give_no_bytes() {
        let long = |seq: u64| stored_pairs(seq, bytes(seq, 3 * PART));
        type Edit = Box<dyn Fn(&mut Vec<(Vec<u8>, Vec<u8>)>)>;
        let cases: Vec<(&str, Edit)> = vec![
            ("first part missing", Box::new(|p| drop(p.remove(0)))),
            ("middle part missing", Box::new(|p| drop(p.remove(1)))),
            ("last part missing", Box::new(|p| drop(p.pop()))),
            ("another count", Box::new(|p| p[2].0 = part_key(1, 2, 4))),
        ];
        for (what, edit) in cases {
            let dir = tempfile::tempdir().unwrap();
            let s = store(dir.path());
            put(&s, &stored_pairs(0, bytes(0, 10)));
            let mut pairs = long(1);
            edit(&mut pairs);
            put(&s, &pairs);
            put(&s, &stored_pairs(2, bytes(2, 10)));
            let got = visited(&s, 0, None);
            assert_eq!(
                got[..2],
                [Some((0, bytes(0, 10))), Some((1, vec![]))],
                "{what}"
            );
            // the entries after it read as they are
            assert_eq!(got.last(), Some(&Some((2, bytes(2, 10)))), "{what}");
            assert_eq!(get_stored(&s, 1).unwrap(), Some(vec![]), "{what}");
        }
        // a key of another shape is named as such
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        put(&s, &[(vec![0, 0, 0, 0, 0, 0, 0, 1, 9], b"x".to_vec())]);
        assert_eq!(visited(&s, 0, None), [None]);
        assert!(get_stored(&s, 1).is_err());
    }
}
