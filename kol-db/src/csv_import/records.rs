//! CSV records streamed from an async reader with bounded memory: csv-core parses the bytes as
//! they arrive, and a record or field over its limit is noted and skipped over, never buffered.

use tokio::io::{AsyncRead, AsyncReadExt};

/// Bytes read from the input at a time.
const READ_CHUNK: usize = 64 * 1024;
/// Largest piece of a field written at a time (the field's buffer grows by this much).
const OUTPUT_CHUNK: usize = 8 * 1024;

/// Why a record's cells were not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Oversize {
    /// The record is longer than its limit.
    Record,
    /// The field at this 0-based position is longer than its limit.
    Field(usize),
}

/// One record: its line and cells (as bytes), or why its cells were dropped.
#[derive(Debug, Default)]
pub(crate) struct Record {
    /// Line of the file where the record starts (1-based).
    pub(crate) line: u64,
    /// The fields kept, one after the other.
    data: Vec<u8>,
    /// End of each kept field in `data`.
    ends: Vec<usize>,
    /// Number of fields the record has in the file (kept or not).
    pub(crate) fields: usize,
    /// Bytes of the record in the file, line break included.
    pub(crate) bytes: usize,
    /// Set when the record or one of its fields is over its limit (then no field is kept).
    pub(crate) oversize: Option<Oversize>,
}

impl Record {
    fn clear(&mut self) {
        self.line = 0;
        self.data.clear();
        self.ends.clear();
        self.fields = 0;
        self.bytes = 0;
        self.oversize = None;
    }

    /// The kept fields, in order (none when the record is oversized; at most the reader's
    /// `max_fields`).
    pub(crate) fn fields(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(|(start, end)| &self.data[start..end])
    }

    fn drop_fields(&mut self, why: Oversize) {
        if self.oversize.is_none() {
            self.oversize = Some(why);
        }
        self.data.clear();
        self.ends.clear();
    }
}

/// Reads records one at a time from `R`.
pub(crate) struct RecordReader<R> {
    input: R,
    buffer: Box<[u8]>,
    start: usize,
    end: usize,
    eof: bool,
    done: bool,
    parser: csv_core::Reader,
    /// Line breaks (`\n`) consumed so far.
    newlines: u64,
    max_record_bytes: usize,
    max_field_bytes: usize,
    /// Fields kept per record; further ones are counted, not kept.
    max_fields: usize,
    /// Where skipped-over bytes are written.
    scratch: Box<[u8]>,
}

impl<R: AsyncRead + Unpin> RecordReader<R> {
    /// A reader keeping records up to `max_record_bytes` and fields up to `max_field_bytes`.
    pub(crate) fn new(input: R, max_record_bytes: usize, max_field_bytes: usize) -> Self {
        Self {
            input,
            buffer: vec![0; READ_CHUNK].into_boxed_slice(),
            start: 0,
            end: 0,
            eof: false,
            done: false,
            parser: csv_core::Reader::new(),
            newlines: 0,
            max_record_bytes,
            max_field_bytes,
            max_fields: usize::MAX,
            scratch: vec![0; OUTPUT_CHUNK].into_boxed_slice(),
        }
    }

    /// Keeps at most `n` fields per record from now on (the header's width: further fields
    /// only make the record invalid).
    pub(crate) fn set_max_fields(&mut self, n: usize) {
        self.max_fields = n;
    }

    async fn fill(&mut self) -> std::io::Result<()> {
        if self.start == self.end && !self.eof {
            let n = self.input.read(&mut self.buffer).await?;
            self.start = 0;
            self.end = n;
            self.eof = n == 0;
        }
        Ok(())
    }

    /// Reads the next record into `record`; `false` at the end of the input. Blank lines are
    /// skipped (counted in line numbers).
    ///
    /// # Errors
    /// The input's I/O errors.
    pub(crate) async fn next_into(&mut self, record: &mut Record) -> std::io::Result<bool> {
        record.clear();
        if self.done {
            return Ok(false);
        }
        loop {
            self.fill().await?;
            match self.buffer[self.start..self.end].first() {
                None => {
                    self.done = true;
                    return Ok(false);
                }
                Some(b'\n') => self.newlines += 1,
                Some(b'\r') => {}
                Some(_) => break,
            }
            self.start += 1;
        }
        record.line = self.newlines + 1;
        let mut field_start = 0;
        loop {
            self.fill().await?;
            let input = &self.buffer[self.start..self.end];
            let keep = record.oversize.is_none() && record.fields < self.max_fields;
            let (result, read) = if keep {
                let written = record.data.len() - field_start;
                // One byte more than the limit allows, to see a field go over it.
                let room = (self.max_field_bytes + 1 - written).min(OUTPUT_CHUNK);
                let before = record.data.len();
                record.data.resize(before + room, 0);
                let (result, read, wrote) =
                    self.parser.read_field(input, &mut record.data[before..]);
                record.data.truncate(before + wrote);
                if record.data.len() - field_start > self.max_field_bytes {
                    record.drop_fields(Oversize::Field(record.fields));
                }
                (result, read)
            } else {
                let (result, read, _) = self.parser.read_field(input, &mut self.scratch);
                (result, read)
            };
            let newlines = input[..read].iter().filter(|&&b| b == b'\n').count();
            self.newlines += newlines as u64;
            self.start += read;
            record.bytes += read;
            if record.bytes > self.max_record_bytes {
                record.drop_fields(Oversize::Record);
            }
            match result {
                csv_core::ReadFieldResult::InputEmpty | csv_core::ReadFieldResult::OutputFull => {}
                csv_core::ReadFieldResult::Field { record_end } => {
                    if record.oversize.is_none() && record.fields < self.max_fields {
                        record.ends.push(record.data.len());
                    }
                    record.fields += 1;
                    field_start = record.data.len();
                    if record_end {
                        return Ok(true);
                    }
                }
                csv_core::ReadFieldResult::End => {
                    self.done = true;
                    return Ok(record.fields > 0);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn all(input: &[u8], max_record: usize, max_field: usize) -> Vec<(u64, Vec<String>)> {
        let mut reader = RecordReader::new(input, max_record, max_field);
        let mut record = Record::default();
        let mut out = Vec::new();
        while reader.next_into(&mut record).await.unwrap() {
            let mut fields: Vec<String> = record
                .fields()
                .map(|f| String::from_utf8(f.to_vec()).unwrap())
                .collect();
            match record.oversize {
                Some(Oversize::Record) => fields = vec!["<record too long>".to_owned()],
                Some(Oversize::Field(i)) => fields = vec![format!("<field {i} too long>")],
                None => {}
            }
            out.push((record.line, fields));
        }
        out
    }

    fn row(line: u64, fields: &[&str]) -> (u64, Vec<String>) {
        (line, fields.iter().map(|f| (*f).to_owned()).collect())
    }

    #[tokio::test]
    async fn records_with_quotes_blank_lines_and_line_numbers() {
        let input = b"a,b\r\n\r\n\"x\ny\",\"q\"\"q\"\n\nlast,\n";
        assert_eq!(
            all(input, 1024, 1024).await,
            [
                row(1, &["a", "b"]),
                row(3, &["x\ny", "q\"q"]),
                row(6, &["last", ""])
            ]
        );
        // No final line break; a lone field.
        assert_eq!(
            all(b"a\nb", 1024, 1024).await,
            [row(1, &["a"]), row(2, &["b"])]
        );
        assert!(all(b"", 1024, 1024).await.is_empty());
        assert!(all(b"\n\r\n", 1024, 1024).await.is_empty());
    }

    #[tokio::test]
    async fn oversized_records_and_fields_are_skipped_over() {
        let long = "x".repeat(100);
        let sixty = "y".repeat(60);
        let input = format!(
            "ok,1\n{long},2\nshort,{long}{long}\n\"{long}\n{long}\",3\n{sixty},{sixty},{sixty}\nend,4\n"
        );
        assert_eq!(
            all(input.as_bytes(), 150, 100).await,
            [
                row(1, &["ok", "1"]),
                row(2, &[&long, "2"]),
                row(3, &["<field 1 too long>"]),
                row(4, &["<field 0 too long>"]),
                row(6, &["<record too long>"]),
                row(7, &["end", "4"])
            ]
        );
        // Exactly at the limits is fine.
        assert_eq!(
            all(format!("{long}\n").as_bytes(), 101, 100).await,
            [(1, vec![long.clone()])]
        );
    }

    #[tokio::test]
    async fn fields_beyond_the_width_are_counted_not_kept() {
        let mut reader = RecordReader::new(&b"a,b,c,d\n"[..], 1024, 1024);
        reader.set_max_fields(2);
        let mut record = Record::default();
        assert!(reader.next_into(&mut record).await.unwrap());
        assert_eq!(record.fields, 4);
        assert_eq!(record.fields().collect::<Vec<_>>(), [&b"a"[..], &b"b"[..]]);
        assert!(!reader.next_into(&mut record).await.unwrap());
    }
}
