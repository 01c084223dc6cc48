//! The write-ahead log: where ingested events become durable before anything else
//! happens to them.
//!
//! # Durability contract
//!
//! **`append` returned `Ok` ⇒ the records survive `kill -9`, and power loss to the
//! extent `fdatasync` guarantees it** (a disk that acknowledges flushes it has not done
//! defeats any WAL). A record whose `append` returned an error, or never returned, may or
//! may not be replayed after a crash, but only ever whole: a frame either passes its
//! checksum or is not replayed. A client retrying such a record can therefore produce a
//! duplicate; deduplicate upstream (Segment's `messageId`) where that matters.
//!
//! # On-disk format
//!
//! A WAL is a directory holding a `LOCK` file (an advisory `flock`, so two processes
//! never append to the same log) and segment files named `wal-<first_seq>.log`, the first
//! sequence number written as 20 zero-padded digits so names sort like numbers. A segment
//! is a 16-byte header followed by frames:
//!
//! ```text
//! header: magic "ABMWAL" (6 bytes) | version u16 LE (= 1) | first_seq u64 LE
//! frame:  length u32 LE | crc u32 LE | payload (length bytes)
//! ```
//!
//! `crc` is CRC-32 (IEEE, as `crc32fast` computes it) over the four length bytes followed
//! by the payload. Covering the length means a run of zero bytes, which is what a file
//! extended by a crash without its data looks like, is not a valid empty frame.
//!
//! Sequence numbers are implicit: the n-th frame (from 0) of a segment has sequence
//! `first_seq + n`, so the number costs nothing on disk and cannot disagree with the
//! frame's position. The first record of a new log is 1, so 0 can mean "nothing". Each
//! segment must start where the previous one ended; a gap is an error.
//!
//! # Group commit
//!
//! An `append` frames its records (CRCs computed outside any lock), adds them to a
//! shared pending buffer and takes the next sequence numbers. If no commit is running it
//! becomes the *leader*: it takes the whole pending buffer (its own records and those of
//! every caller that queued meanwhile), writes it with one `write` and one `fdatasync`,
//! publishes how far the log is durable and wakes everyone. Callers whose records were in
//! that buffer return; callers that queued during the fsync elect the next leader. The
//! slower the disk, the larger each commit, so the fsync rate stays bounded while the
//! record rate scales with concurrency. [`WalOptions::commit_delay`] lets a leader wait
//! a little before taking the buffer, trading latency for even fewer fsyncs.
//!
//! If a write or fsync fails, the log is *failed*: after a failed fsync the kernel may
//! already have dropped the dirty pages, so retrying could acknowledge data that is not on
//! disk. Every pending and later `append` returns an error until the log is reopened,
//! which re-reads what actually reached the file.
//!
//! # Recovery
//!
//! [`Wal::open`] replays every segment in order. Only the *last* segment may end badly:
//! a crash mid-`write` leaves a partial frame, and power loss can leave a frame whose
//! bytes never arrived (wrong CRC, or zeros). Such a torn tail was never acknowledged
//! (acknowledgement follows the fsync), so it is cut off: the file is truncated to the end
//! of the last good frame and fsynced, and a warning reports how many bytes went. Damage
//! anywhere else is an error naming the file and byte offset: a non-last segment is
//! complete by construction, and a bad frame *followed by a valid frame* is not a tail,
//! so dropping it could drop acknowledged records. Nothing acknowledged is ever skipped
//! silently.
//!
//! One case errs on the side of refusing to start: if power loss persisted the pages of
//! the last, unacknowledged batch out of order, a hole can be followed by a valid frame
//! of that same batch. That is reported as corruption (with file and offset) rather than
//! guessed at.
//!
//! # Checkpoints
//!
//! The log only grows until [`Wal::checkpoint`] is told that records up to some sequence
//! number are safe elsewhere (flushed to Parquet and committed); it then deletes the
//! segments holding nothing newer. Replay can still return records at or below the last
//! checkpoint (those sharing a segment with newer ones), so the caller skips sequence
//! numbers it has already flushed, using its own durable record of that position.

use std::collections::VecDeque;
use std::fmt;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

const MAGIC: &[u8; 6] = b"ABMWAL";
const VERSION: u16 = 1;
const HEADER_LEN: usize = 16;
const FRAME_HEADER_LEN: usize = 8;
const FIRST_SEQ: u64 = 1;
const LOCK_FILE: &str = "LOCK";
const SEGMENT_PREFIX: &str = "wal-";
const SEGMENT_SUFFIX: &str = ".log";
const SEQ_DIGITS: usize = 20;
const SPARE_BUFFER_MAX: usize = 16 * 1024 * 1024;

/// Tuning for a [`Wal`]; `Default` is what the server should use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalOptions {
    /// A commit that would grow the current segment beyond this many bytes starts a new
    /// segment first (a single commit larger than this still goes into one segment).
    /// Smaller segments let checkpoints free space sooner; larger ones mean fewer files.
    pub segment_size: u64,
    /// Largest payload `append` accepts, in bytes; at most `u32::MAX`.
    pub max_record_size: usize,
    /// How long a commit leader waits before collecting the pending records. Zero (the
    /// default) already batches everything that arrives during an fsync; a small delay
    /// batches more at the cost of that much latency.
    pub commit_delay: Duration,
    /// Sequence number of the first record of a log that holds no segment yet (the server
    /// continues where its workspace says it flushed, so a lost log never reuses numbers).
    pub first_seq: u64,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            segment_size: 64 * 1024 * 1024,
            max_record_size: 4 * 1024 * 1024,
            commit_delay: Duration::ZERO,
            first_seq: FIRST_SEQ,
        }
    }
}

/// What can go wrong with the WAL. Messages name the file (and byte offset) involved.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{} at byte {offset}: {reason}", path.display())]
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    #[error("record of {len} bytes exceeds the WAL maximum of {max} bytes")]
    TooLarge { len: usize, max: usize },
    #[error("another process holds the WAL lock {}", path.display())]
    Locked { path: PathBuf },
    #[error("the WAL stopped accepting writes after an earlier failure; reopen it: {0}")]
    Failed(String),
    #[error("invalid WAL options: {0}")]
    InvalidOptions(String),
}

type Result<T, E = WalError> = std::result::Result<T, E>;

/// Replayed records, oldest first: (sequence number, payload).
pub type Replayed = Vec<(u64, Vec<u8>)>;

/// Cumulative counters since open, for metrics: `appends / commits` is how many callers
/// each fsync served on average.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalStats {
    /// Successful `append` calls.
    pub appends: u64,
    /// Records those calls made durable.
    pub records: u64,
    /// Payload bytes of those records (framing not included).
    pub bytes: u64,
    /// Group commits: one `write` + one `fdatasync` each.
    pub commits: u64,
    /// Every fsync issued: commits, plus new-segment headers and directory syncs.
    pub fsyncs: u64,
}

/// What [`Wal::open`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Segment files replayed.
    pub segments: usize,
    /// Records replayed.
    pub records: u64,
    /// Bytes cut from the end of the last segment as a torn tail (0 after a clean stop).
    pub torn_bytes: u64,
}

/// A durable, thread-safe append-only log of opaque records. Share it with `Arc`.
pub struct Wal {
    dir: PathBuf,
    options: WalOptions,
    state: Mutex<State>,
    committed: Condvar,
    /// Held only by the commit leader (and by nobody else), so never contended; a mutex
    /// because the leader changes from one commit to the next.
    writer: Mutex<Writer>,
    segments: Mutex<Segments>,
    counters: Counters,
    recovery: RecoveryReport,
    // Dropping the file releases the flock; kept for its lifetime only.
    _lock: File,
}

struct State {
    /// Sequence number the next appended record gets.
    next_seq: u64,
    /// Every record below this is written and fsynced.
    durable: u64,
    /// Framed records with sequence numbers `durable..next_seq` not yet taken by a leader.
    pending: Vec<u8>,
    /// The buffer of the previous commit, kept to avoid reallocating every commit.
    spare: Vec<u8>,
    committing: bool,
    failed: Option<String>,
}

struct Writer {
    file: File,
    path: PathBuf,
    len: u64,
}

struct Segments {
    /// Full segments, oldest first: (first_seq, path).
    closed: VecDeque<(u64, PathBuf)>,
    current_first: u64,
}

#[derive(Default)]
struct Counters {
    appends: AtomicU64,
    records: AtomicU64,
    bytes: AtomicU64,
    commits: AtomicU64,
    fsyncs: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

impl fmt::Debug for Wal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wal")
            .field("dir", &self.dir)
            .field("next_seq", &self.next_seq())
            .finish_non_exhaustive()
    }
}

impl Wal {
    /// Opens (creating if needed) the log in `dir` and returns it with every record it
    /// holds, oldest first, as `(sequence number, payload)`. See [`Wal::open_with`] to
    /// stream the replay instead of collecting it.
    pub fn open(dir: &Path, options: WalOptions) -> Result<(Wal, Replayed)> {
        let mut records = Vec::new();
        let wal = Wal::open_with(dir, options, |seq, payload| {
            records.push((seq, payload.to_vec()));
        })?;
        Ok((wal, records))
    }

    /// Opens (creating if needed) the log in `dir`, calling `on_record` for every record
    /// it holds, oldest first. A torn tail of the last segment is truncated (with a
    /// warning); any other damage is a [`WalError::Corrupt`]. If it fails part-way,
    /// `on_record` has seen only a prefix of the log; discard what it collected.
    pub fn open_with(
        dir: &Path,
        options: WalOptions,
        mut on_record: impl FnMut(u64, &[u8]),
    ) -> Result<Wal> {
        if u32::try_from(options.max_record_size).is_err() {
            return Err(WalError::InvalidOptions(format!(
                "max_record_size {} does not fit the 32-bit frame length",
                options.max_record_size
            )));
        }
        let counters = Counters::default();
        create_dir(dir, &counters)?;
        let lock = lock_dir(dir)?;

        let found = list_segments(dir)?;
        let mut recovery = RecoveryReport {
            segments: found.len(),
            ..RecoveryReport::default()
        };
        let mut closed = VecDeque::new();
        let mut expected: Option<u64> = None;
        let mut writer = None;
        let mut current_first = options.first_seq.max(FIRST_SEQ);
        let last = found.len().saturating_sub(1);
        for (i, (first, path)) in found.into_iter().enumerate() {
            if let Some(expected) = expected.filter(|&e| e != first) {
                return Err(corrupt(
                    &path,
                    0,
                    format!(
                        "segment starts at sequence {first} but the previous one ends \
                         before {expected}; a segment is missing or misnamed"
                    ),
                ));
            }
            let count = if i < last {
                let buf = fs::read(&path).map_err(io_error(&path))?;
                check_header(&path, &buf, first)?;
                let (count, stop) = scan_frames(&buf, first, &mut on_record);
                if let Some((offset, reason)) = stop {
                    // Segments are rotated only after everything in them was fsynced.
                    return Err(corrupt(
                        &path,
                        offset as u64,
                        format!("{reason} in a segment that is not the last"),
                    ));
                }
                closed.push_back((first, path));
                count
            } else {
                let (w, count, torn) =
                    open_last_segment(path, first, &options, &counters, &mut on_record)?;
                recovery.torn_bytes = torn;
                writer = Some(w);
                current_first = first;
                count
            };
            recovery.records += count;
            expected = Some(first + count);
        }
        let writer = match writer {
            Some(w) => w,
            None => {
                let (file, path) = create_segment(dir, current_first, &counters)?;
                Writer {
                    file,
                    path,
                    len: HEADER_LEN as u64,
                }
            }
        };
        let next_seq = expected.unwrap_or(current_first);
        tracing::info!(
            dir = %dir.display(),
            segments = recovery.segments,
            records = recovery.records,
            torn_bytes = recovery.torn_bytes,
            next_seq,
            "WAL opened"
        );
        Ok(Wal {
            dir: dir.to_path_buf(),
            options,
            state: Mutex::new(State {
                next_seq,
                durable: next_seq,
                pending: Vec::new(),
                spare: Vec::new(),
                committing: false,
                failed: None,
            }),
            committed: Condvar::new(),
            writer: Mutex::new(writer),
            segments: Mutex::new(Segments {
                closed,
                current_first,
            }),
            counters,
            recovery,
            _lock: lock,
        })
    }

    /// Appends `records` as consecutive sequence numbers and returns them once they are
    /// written and fsynced (see the module's durability contract). Blocks for up to two
    /// fsyncs (the commit in progress, then the one carrying these records), so call it
    /// from a blocking context (`spawn_blocking` or a dedicated thread). Concurrent callers
    /// share fsyncs.
    ///
    /// Nothing is appended if any record is larger than `max_record_size`. An empty
    /// slice returns an empty range without touching the disk.
    pub fn append<R: AsRef<[u8]>>(&self, records: &[R]) -> Result<Range<u64>> {
        let max = self.options.max_record_size;
        let mut bytes = 0usize;
        for record in records {
            let len = record.as_ref().len();
            if len > max {
                return Err(WalError::TooLarge { len, max });
            }
            bytes += len;
        }
        let mut frames = Vec::with_capacity(bytes + records.len() * FRAME_HEADER_LEN);
        for record in records {
            encode_frame(&mut frames, record.as_ref());
        }

        let mut state = lock(&self.state);
        if let Some(reason) = &state.failed {
            return Err(WalError::Failed(reason.clone()));
        }
        let start = state.next_seq;
        if records.is_empty() {
            return Ok(start..start);
        }
        let end = start + records.len() as u64;
        state.next_seq = end;
        state.pending.extend_from_slice(&frames);
        drop(frames);

        loop {
            if state.durable >= end {
                break;
            }
            if let Some(reason) = &state.failed {
                return Err(WalError::Failed(reason.clone()));
            }
            state = if state.committing {
                self.committed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner)
            } else {
                self.lead_commit(state)?
            };
        }
        drop(state);
        Counters::add(&self.counters.appends, 1);
        Counters::add(&self.counters.records, records.len() as u64);
        Counters::add(&self.counters.bytes, bytes as u64);
        Ok(start..end)
    }

    /// Writes and fsyncs everything pending, as the one commit leader; returns the state
    /// lock again so the caller can check whether its own records made it.
    fn lead_commit<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
    ) -> Result<MutexGuard<'a, State>> {
        state.committing = true;
        if !self.options.commit_delay.is_zero() {
            drop(state);
            std::thread::sleep(self.options.commit_delay);
            state = lock(&self.state);
        }
        let spare = std::mem::take(&mut state.spare);
        let mut batch = std::mem::replace(&mut state.pending, spare);
        let first = state.durable;
        let end = state.next_seq;
        drop(state);

        // Without this, a panic between here and the end would leave `committing` set and
        // every other caller waiting forever.
        let mut guard = LeaderGuard {
            wal: self,
            armed: true,
        };
        let result = self.write_batch(&batch, first);
        guard.armed = false;

        let mut state = lock(&self.state);
        state.committing = false;
        match &result {
            Ok(()) => state.durable = end,
            Err(e) => {
                tracing::error!(error = %e, "WAL commit failed; refusing further appends");
                state.failed = Some(e.to_string());
            }
        }
        // Keep the buffer for the next commit unless a burst made it huge: memory held
        // forever for a one-off spike is worse than one allocation per commit during it.
        if batch.capacity() <= SPARE_BUFFER_MAX {
            batch.clear();
            state.spare = batch;
        }
        self.committed.notify_all();
        result.map(|()| state)
    }

    fn write_batch(&self, batch: &[u8], first_seq: u64) -> Result<()> {
        let mut writer = lock(&self.writer);
        let len = batch.len() as u64;
        if writer.len > HEADER_LEN as u64
            && writer.len.saturating_add(len) > self.options.segment_size
        {
            self.rotate(&mut writer, first_seq)?;
        }
        let w = &mut *writer;
        w.file.write_all(batch).map_err(io_error(&w.path))?;
        w.file.sync_data().map_err(io_error(&w.path))?;
        w.len += len;
        Counters::add(&self.counters.commits, 1);
        Counters::add(&self.counters.fsyncs, 1);
        Ok(())
    }

    fn rotate(&self, writer: &mut Writer, first_seq: u64) -> Result<()> {
        let (file, path) = create_segment(&self.dir, first_seq, &self.counters)?;
        tracing::debug!(segment = %path.display(), "WAL segment started");
        let old = std::mem::replace(
            writer,
            Writer {
                file,
                path,
                len: HEADER_LEN as u64,
            },
        );
        let mut segments = lock(&self.segments);
        let previous_first = segments.current_first;
        segments.closed.push_back((previous_first, old.path));
        segments.current_first = first_seq;
        Ok(())
    }

    /// Deletes the segments whose records all have sequence numbers ≤ `upto_seq`; the
    /// segment being appended to is never deleted. Returns how many were deleted.
    ///
    /// **The caller must have made those records durable elsewhere first** (Parquet
    /// files fsynced and the manifest listing them committed): this is the only copy
    /// until then, and deletion cannot be undone.
    pub fn checkpoint(&self, upto_seq: u64) -> Result<usize> {
        let mut segments = lock(&self.segments);
        let mut deleted = 0;
        while let Some((first, path)) = segments.closed.front() {
            let next_first = segments
                .closed
                .get(1)
                .map_or(segments.current_first, |(f, _)| *f);
            // The segment holds first..next_first; all of it is covered iff
            // next_first - 1 <= upto_seq.
            if next_first > upto_seq.saturating_add(1) {
                break;
            }
            match fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(path)(e)),
            }
            // One directory sync per file, oldest first: a crash part-way must leave a
            // contiguous run of segments, never a gap that reopening rejects.
            sync_dir(&self.dir, &self.counters)?;
            tracing::debug!(segment = %path.display(), first, "WAL segment checkpointed");
            segments.closed.pop_front();
            deleted += 1;
        }
        Ok(deleted)
    }

    /// Sequence number the next appended record will get.
    pub fn next_seq(&self) -> u64 {
        lock(&self.state).next_seq
    }

    /// Counters since open.
    pub fn stats(&self) -> WalStats {
        let c = &self.counters;
        WalStats {
            appends: c.appends.load(Ordering::Relaxed),
            records: c.records.load(Ordering::Relaxed),
            bytes: c.bytes.load(Ordering::Relaxed),
            commits: c.commits.load(Ordering::Relaxed),
            fsyncs: c.fsyncs.load(Ordering::Relaxed),
        }
    }

    /// What opening found: segments, records, bytes of torn tail dropped.
    pub fn recovery(&self) -> &RecoveryReport {
        &self.recovery
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

struct LeaderGuard<'a> {
    wal: &'a Wal,
    armed: bool,
}

impl Drop for LeaderGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let mut state = lock(&self.wal.state);
            state.committing = false;
            state.failed = Some("a WAL commit panicked".to_string());
            self.wal.committed.notify_all();
        }
    }
}

// Poisoning is ignored: the only code that can panic while the log is mid-update is the
// commit leader, and `LeaderGuard` marks the log failed in that case.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> WalError + '_ {
    move |source| WalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn corrupt(path: &Path, offset: u64, reason: impl Into<String>) -> WalError {
    WalError::Corrupt {
        path: path.to_path_buf(),
        offset,
        reason: reason.into(),
    }
}

fn frame_crc(len: [u8; 4], payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&len);
    hasher.update(payload);
    hasher.finalize()
}

fn encode_frame(out: &mut Vec<u8>, payload: &[u8]) {
    // The caller checked the length against max_record_size, which open() bounded by
    // u32::MAX, so this cannot truncate.
    let len = (payload.len() as u32).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&frame_crc(len, payload).to_le_bytes());
    out.extend_from_slice(payload);
}

fn header(first_seq: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..6].copy_from_slice(MAGIC);
    h[6..8].copy_from_slice(&VERSION.to_le_bytes());
    h[8..].copy_from_slice(&first_seq.to_le_bytes());
    h
}

fn check_header(path: &Path, buf: &[u8], first_seq: u64) -> Result<()> {
    if buf.len() < HEADER_LEN {
        return Err(corrupt(
            path,
            buf.len() as u64,
            "file ends inside the segment header",
        ));
    }
    if &buf[..6] != MAGIC {
        return Err(corrupt(path, 0, "not a WAL segment (bad magic)"));
    }
    let version = u16::from_le_bytes([buf[6], buf[7]]);
    if version != VERSION {
        return Err(corrupt(
            path,
            6,
            format!("unsupported WAL version {version} (this build reads {VERSION})"),
        ));
    }
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&buf[8..HEADER_LEN]);
    let stored = u64::from_le_bytes(seq);
    if stored != first_seq {
        return Err(corrupt(
            path,
            8,
            format!("header says first sequence {stored}, file name says {first_seq}"),
        ));
    }
    Ok(())
}

/// Checks the frame at `off`; on success returns the payload's byte range.
fn parse_frame(buf: &[u8], off: usize) -> Result<Range<usize>, &'static str> {
    let rest = &buf[off..];
    if rest.len() < FRAME_HEADER_LEN {
        return Err("partial frame header");
    }
    let len_bytes = [rest[0], rest[1], rest[2], rest[3]];
    let len = u32::from_le_bytes(len_bytes) as usize;
    let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
    if rest.len() - FRAME_HEADER_LEN < len {
        return Err("frame runs past the end of the file");
    }
    let payload = off + FRAME_HEADER_LEN..off + FRAME_HEADER_LEN + len;
    if frame_crc(len_bytes, &buf[payload.clone()]) != crc {
        return Err("frame checksum mismatch");
    }
    Ok(payload)
}

/// Replays the frames after the header; stops at the first bad one, returning how many
/// were good and, if it stopped early, where and why.
fn scan_frames(
    buf: &[u8],
    first_seq: u64,
    on_record: &mut impl FnMut(u64, &[u8]),
) -> (u64, Option<(usize, &'static str)>) {
    let mut off = HEADER_LEN;
    let mut count = 0u64;
    while off < buf.len() {
        match parse_frame(buf, off) {
            Ok(payload) => {
                on_record(first_seq + count, &buf[payload.clone()]);
                count += 1;
                off = payload.end;
            }
            Err(reason) => return (count, Some((off, reason))),
        }
    }
    (count, None)
}

/// Looks for any valid frame starting after `from`. Byte by byte rather than by following
/// the bad frame's length, because that length may be the corrupted part. Candidates
/// longer than `max_len` are not checked, which bounds the work; lengths read from JSON
/// text are hundreds of megabytes, so in practice few offsets cost more than a compare.
fn find_valid_frame(buf: &[u8], from: usize, max_len: usize) -> Option<usize> {
    (from..buf.len().saturating_sub(FRAME_HEADER_LEN - 1)).find(|&off| {
        let len = u32::from_le_bytes([buf[off], buf[off + 1], buf[off + 2], buf[off + 3]]);
        len as usize <= max_len && parse_frame(buf, off).is_ok()
    })
}

/// Replays the last segment, cuts a torn tail, and leaves the file positioned for
/// appending. Returns the writer, the record count and the bytes cut.
fn open_last_segment(
    path: PathBuf,
    first_seq: u64,
    options: &WalOptions,
    counters: &Counters,
    on_record: &mut impl FnMut(u64, &[u8]),
) -> Result<(Writer, u64, u64)> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(io_error(&path))?;
    let mut buf = Vec::new();
    file.read_to_end(&mut buf).map_err(io_error(&path))?;

    let expected_header = header(first_seq);
    if buf.len() < HEADER_LEN || (buf.len() == HEADER_LEN && buf[..] != expected_header) {
        // A segment's header is fsynced before any record is written to it, so a last
        // segment no longer than a header holds no records: a crash interrupted its
        // creation. Finish the creation.
        tracing::warn!(
            segment = %path.display(),
            bytes = buf.len(),
            "WAL: rewriting the torn header of a segment whose creation was interrupted"
        );
        file.set_len(0).map_err(io_error(&path))?;
        file.seek(SeekFrom::Start(0)).map_err(io_error(&path))?;
        file.write_all(&expected_header).map_err(io_error(&path))?;
        file.sync_all().map_err(io_error(&path))?;
        Counters::add(&counters.fsyncs, 1);
        let writer = Writer {
            file,
            path,
            len: HEADER_LEN as u64,
        };
        return Ok((writer, 0, 0));
    }
    check_header(&path, &buf, first_seq)?;

    let (count, stop) = scan_frames(&buf, first_seq, on_record);
    let mut good_end = buf.len();
    let mut torn = 0u64;
    if let Some((offset, reason)) = stop {
        if let Some(valid) = find_valid_frame(&buf, offset + 1, options.max_record_size) {
            return Err(corrupt(
                &path,
                offset as u64,
                format!(
                    "{reason}, yet a valid frame follows at byte {valid}; refusing to \
                     drop records that may have been acknowledged"
                ),
            ));
        }
        good_end = offset;
        torn = (buf.len() - offset) as u64;
        tracing::warn!(
            segment = %path.display(),
            offset,
            dropped_bytes = torn,
            reason,
            "WAL: truncating torn tail (a write cut short by a crash; never acknowledged)"
        );
        file.set_len(offset as u64).map_err(io_error(&path))?;
        file.sync_all().map_err(io_error(&path))?;
        Counters::add(&counters.fsyncs, 1);
    }
    file.seek(SeekFrom::Start(good_end as u64))
        .map_err(io_error(&path))?;
    let writer = Writer {
        file,
        path,
        len: good_end as u64,
    };
    Ok((writer, count, torn))
}

fn segment_path(dir: &Path, first_seq: u64) -> PathBuf {
    dir.join(format!(
        "{SEGMENT_PREFIX}{first_seq:0width$}{SEGMENT_SUFFIX}",
        width = SEQ_DIGITS
    ))
}

fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name
        .strip_prefix(SEGMENT_PREFIX)?
        .strip_suffix(SEGMENT_SUFFIX)?;
    if digits.len() != SEQ_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Segment files in `dir`, by first sequence number. Other files are not ours to judge.
fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut segments = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_error(dir))? {
        let entry = entry.map_err(io_error(dir))?;
        if let Some(first) = entry.file_name().to_str().and_then(parse_segment_name) {
            segments.push((first, entry.path()));
        }
    }
    segments.sort_unstable_by_key(|(first, _)| *first);
    Ok(segments)
}

/// Creates a segment holding just its header, durable (file and directory entry) before
/// any record goes into it; recovery relies on that ordering.
fn create_segment(dir: &Path, first_seq: u64, counters: &Counters) -> Result<(File, PathBuf)> {
    let path = segment_path(dir, first_seq);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(io_error(&path))?;
    file.write_all(&header(first_seq))
        .map_err(io_error(&path))?;
    file.sync_all().map_err(io_error(&path))?;
    Counters::add(&counters.fsyncs, 1);
    sync_dir(dir, counters)?;
    Ok((file, path))
}

fn create_dir(dir: &Path, counters: &Counters) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(io_error(dir))?;
    // The new directory's own entry must be durable too, or the segments in it could
    // vanish with it.
    let parent = match dir.parent() {
        Some(p) if p.as_os_str().is_empty() => Path::new("."),
        Some(p) => p,
        None => return Ok(()),
    };
    sync_dir(parent, counters)
}

fn lock_dir(dir: &Path) -> Result<File> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_error(&path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(WalError::Locked { path }),
        Err(TryLockError::Error(source)) => Err(WalError::Io { path, source }),
    }
}

/// Makes creations and deletions of directory entries durable; fsyncing a file does not
/// cover the entry that names it.
fn sync_dir(dir: &Path, counters: &Counters) -> Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_error(dir))?;
        Counters::add(&counters.fsyncs, 1);
    }
    #[cfg(not(unix))]
    let _ = (dir, counters);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashSet};
    use std::sync::Arc;

    fn opts() -> WalOptions {
        WalOptions::default()
    }

    /// Opens `dir`, waiting out a lock held only by a forked child: the SIGKILL test below
    /// spawns processes while other tests run, and a child holds a copy of every open file
    /// (the LOCK file's flock with it) from fork until its exec closes them.
    fn open(dir: &Path) -> (Wal, Replayed) {
        open_opts(dir, opts())
    }

    fn open_opts(dir: &Path, options: WalOptions) -> (Wal, Replayed) {
        past_forks(|| Wal::open(dir, options.clone())).unwrap()
    }

    /// Runs `open` again while it fails only because a forked child still holds the lock.
    fn past_forks<T>(open: impl Fn() -> Result<T>) -> Result<T> {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            match open() {
                Err(WalError::Locked { .. }) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                other => return other,
            }
        }
    }

    fn payload(i: u64) -> Vec<u8> {
        format!(
            "{{\"event\":\"e{i}\",\"pad\":\"{}\"}}",
            "x".repeat((i % 50) as usize)
        )
        .into_bytes()
    }

    fn only_segment(dir: &Path) -> PathBuf {
        let segs = list_segments(dir).unwrap();
        assert_eq!(segs.len(), 1, "{segs:?}");
        segs[0].1.clone()
    }

    fn file_len(path: &Path) -> u64 {
        fs::metadata(path).unwrap().len()
    }

    /// Records WARN events so tests can see that recovery complained.
    struct WarnCapture(Arc<Mutex<Vec<String>>>);

    struct FieldText<'a>(&'a mut String);

    impl tracing::field::Visit for FieldText<'_> {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
            use std::fmt::Write as _;
            let _ = write!(self.0, "{}={value:?} ", field.name());
        }
    }

    impl tracing::Subscriber for WarnCapture {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            if *event.metadata().level() == tracing::Level::WARN {
                let mut text = String::new();
                event.record(&mut FieldText(&mut text));
                lock(&self.0).push(text);
            }
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    fn open_capturing_warnings(dir: &Path) -> (Result<(Wal, Replayed)>, Vec<String>) {
        let warnings = Arc::new(Mutex::new(Vec::new()));
        let result = tracing::subscriber::with_default(WarnCapture(warnings.clone()), || {
            past_forks(|| Wal::open(dir, opts()))
        });
        let warnings = lock(&warnings).clone();
        (result, warnings)
    }

    #[test]
    fn wal_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Wal>();
    }

    #[test]
    fn round_trip() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("wal");
        let mut expected = Vec::new();
        {
            let (wal, replayed) = open(&dir);
            assert!(replayed.is_empty());
            assert_eq!(wal.next_seq(), 1);
            let mut i = 0;
            for batch_len in [1, 5, 17, 1, 100] {
                let batch: Vec<Vec<u8>> = (i..i + batch_len).map(payload).collect();
                let seqs = wal.append(&batch).unwrap();
                assert_eq!(seqs, i + 1..i + 1 + batch_len);
                expected.extend(seqs.zip(batch));
                i += batch_len;
            }
            // Borrowed slices work too, and an empty record is a record.
            let seqs = wal.append(&[b"plain".as_slice(), b""]).unwrap();
            expected.push((seqs.start, b"plain".to_vec()));
            expected.push((seqs.start + 1, Vec::new()));
            let stats = wal.stats();
            assert_eq!(stats.appends, 6);
            assert_eq!(stats.records, expected.len() as u64);
            assert_eq!(
                stats.bytes,
                expected.iter().map(|(_, p)| p.len() as u64).sum::<u64>()
            );
            assert_eq!(stats.commits, 6);
        }
        let (wal, replayed) = open(&dir);
        assert_eq!(replayed, expected);
        assert_eq!(wal.recovery().records, expected.len() as u64);
        assert_eq!(wal.recovery().torn_bytes, 0);
        assert_eq!(wal.next_seq(), expected.len() as u64 + 1);
        assert_eq!(
            wal.append(&[b"next"]).unwrap().start,
            expected.len() as u64 + 1
        );
    }

    #[test]
    fn empty_append_touches_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let (wal, _) = open(tmp.path());
        let none: &[&[u8]] = &[];
        assert_eq!(wal.append(none).unwrap(), 1..1);
        assert_eq!(wal.stats().commits, 0);
        assert_eq!(wal.append(&[b"a"]).unwrap(), 1..2);
    }

    #[test]
    fn oversized_record_is_refused_and_nothing_is_appended() {
        let tmp = tempfile::tempdir().unwrap();
        let options = WalOptions {
            max_record_size: 10,
            ..opts()
        };
        let (wal, _) = open_opts(tmp.path(), options.clone());
        let err = wal.append(&[b"ok".as_slice(), &[0u8; 11]]).unwrap_err();
        assert!(
            matches!(err, WalError::TooLarge { len: 11, max: 10 }),
            "{err}"
        );
        assert_eq!(wal.append(&[[0u8; 10]]).unwrap(), 1..2);
        drop(wal);
        let (_, replayed) = open_opts(tmp.path(), options);
        assert_eq!(replayed, vec![(1, vec![0u8; 10])]);
    }

    #[test]
    fn max_record_size_must_fit_the_frame() {
        let tmp = tempfile::tempdir().unwrap();
        // Only expressible where usize is wider than u32.
        if let Some(max_record_size) = (u32::MAX as usize).checked_add(1) {
            let options = WalOptions {
                max_record_size,
                ..opts()
            };
            let err = Wal::open(tmp.path(), options).unwrap_err();
            assert!(matches!(err, WalError::InvalidOptions(_)), "{err}");
        }
    }

    #[test]
    fn second_open_of_the_same_dir_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let (wal, _) = open(tmp.path());
        let err = Wal::open(tmp.path(), opts()).unwrap_err();
        assert!(matches!(err, WalError::Locked { .. }), "{err}");
        drop(wal);
        open(tmp.path());
    }

    fn append_concurrently(
        wal: &Arc<Wal>,
        threads: u64,
        per_thread: u64,
    ) -> BTreeMap<u64, Vec<u8>> {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let wal = Arc::clone(wal);
                std::thread::spawn(move || {
                    (0..per_thread)
                        .map(|i| {
                            let p = format!("t{t}-i{i}").into_bytes();
                            let seqs = wal.append(&[&p]).unwrap();
                            assert_eq!(seqs.end - seqs.start, 1);
                            (seqs.start, p)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all = BTreeMap::new();
        for h in handles {
            for (seq, p) in h.join().unwrap() {
                assert!(
                    all.insert(seq, p).is_none(),
                    "sequence {seq} handed out twice"
                );
            }
        }
        all
    }

    #[test]
    fn group_commit_shares_fsyncs() {
        let tmp = tempfile::tempdir().unwrap();
        // The delay makes batching deterministic: on a fast disk and 2 cores, threads
        // might otherwise rarely overlap an fsync.
        let options = WalOptions {
            commit_delay: Duration::from_millis(2),
            ..opts()
        };
        let (wal, _) = open_opts(tmp.path(), options.clone());
        let wal = Arc::new(wal);
        let all = append_concurrently(&wal, 8, 200);
        let stats = wal.stats();
        assert_eq!(stats.appends, 1600);
        assert_eq!(stats.records, 1600);
        assert!(
            stats.fsyncs < stats.appends / 2,
            "group commit did not batch: {stats:?}"
        );
        eprintln!("8 threads x 200 appends, 2 ms commit delay: {stats:?}");
        drop(wal);

        let (_, replayed) = open_opts(tmp.path(), options);
        let replayed: BTreeMap<u64, Vec<u8>> = replayed.into_iter().collect();
        assert_eq!(replayed, all);
        assert_eq!(
            replayed.keys().copied().collect::<Vec<_>>(),
            (1..=1600).collect::<Vec<_>>()
        );
        // Each thread's records are in the order it appended them.
        for t in 0..8 {
            let mine: Vec<&Vec<u8>> = replayed
                .values()
                .filter(|p| p.starts_with(format!("t{t}-").as_bytes()))
                .collect();
            let expected: Vec<Vec<u8>> = (0..200)
                .map(|i| format!("t{t}-i{i}").into_bytes())
                .collect();
            assert_eq!(mine, expected.iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn group_commit_without_delay_is_correct() {
        let tmp = tempfile::tempdir().unwrap();
        let (wal, _) = open(tmp.path());
        let wal = Arc::new(wal);
        let all = append_concurrently(&wal, 8, 100);
        let stats = wal.stats();
        assert!(stats.commits <= stats.appends, "{stats:?}");
        eprintln!("8 threads x 100 appends, no delay: {stats:?}");
        drop(wal);
        let (_, replayed) = open(tmp.path());
        assert_eq!(replayed.into_iter().collect::<BTreeMap<_, _>>(), all);
    }

    /// Writes 10 records, lets `damage` mangle the segment (given the byte offset where
    /// the last frame starts), and checks that reopening keeps exactly `kept` records,
    /// warns, truncates, and that the log then accepts and keeps a new record.
    fn check_torn_tail(kept: u64, damage: impl FnOnce(&Path, u64)) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let records: Vec<Vec<u8>> = (0..10).map(payload).collect();
        {
            let (wal, _) = open(dir);
            wal.append(&records[..9]).unwrap();
            wal.append(&records[9..]).unwrap();
        }
        let seg = only_segment(dir);
        let last_frame = file_len(&seg) - (records[9].len() + FRAME_HEADER_LEN) as u64;
        damage(&seg, last_frame);
        let damaged_len = file_len(&seg);

        let (result, warnings) = open_capturing_warnings(dir);
        let (wal, replayed) = result.unwrap();
        let good_end = if kept == 10 {
            last_frame + (records[9].len() + FRAME_HEADER_LEN) as u64
        } else {
            last_frame
        };
        let expected: Vec<(u64, Vec<u8>)> = (1..).zip(records).take(kept as usize).collect();
        assert_eq!(replayed, expected);
        assert_eq!(file_len(&seg), good_end, "torn tail not truncated");
        assert_eq!(wal.recovery().torn_bytes, damaged_len - good_end);
        assert!(
            warnings.iter().any(|w| w.contains("torn tail")
                && w.contains(&format!("dropped_bytes={}", damaged_len - good_end))),
            "no warning about the torn tail: {warnings:?}"
        );

        assert_eq!(wal.append(&[b"after"]).unwrap(), kept + 1..kept + 2);
        drop(wal);
        let (wal, replayed) = open(dir);
        assert_eq!(replayed.len() as u64, kept + 1);
        assert_eq!(replayed.last().unwrap(), &(kept + 1, b"after".to_vec()));
        assert_eq!(wal.recovery().torn_bytes, 0);
    }

    fn append_bytes(path: &Path, bytes: &[u8]) {
        let mut f = OpenOptions::new().append(true).open(path).unwrap();
        f.write_all(bytes).unwrap();
    }

    fn flip_byte(path: &Path, offset: u64) {
        let mut bytes = fs::read(path).unwrap();
        bytes[offset as usize] ^= 0x55;
        fs::write(path, bytes).unwrap();
    }

    #[test]
    fn torn_tail_of_garbage_is_dropped() {
        check_torn_tail(10, |seg, _| {
            append_bytes(seg, b"\x13\x00\x00\x00garbage that is not a frame")
        });
    }

    #[test]
    fn torn_tail_of_zeros_is_dropped() {
        // What a file extended by a crash without its data looks like.
        check_torn_tail(10, |seg, _| append_bytes(seg, &[0u8; 4096]));
    }

    #[test]
    fn torn_tail_partial_frame_header_is_dropped() {
        check_torn_tail(10, |seg, _| append_bytes(seg, &[7, 0, 0]));
    }

    #[test]
    fn torn_tail_half_frame_is_dropped() {
        check_torn_tail(9, |seg, last_frame| {
            let len = file_len(seg);
            let f = OpenOptions::new().write(true).open(seg).unwrap();
            f.set_len(last_frame + (len - last_frame) / 2).unwrap();
        });
    }

    #[test]
    fn torn_tail_bad_checksum_is_dropped() {
        check_torn_tail(9, |seg, last_frame| {
            flip_byte(seg, last_frame + FRAME_HEADER_LEN as u64 + 3)
        });
    }

    #[test]
    fn torn_segment_header_is_rewritten() {
        for damaged in [&b""[..], b"ABM", &[0u8; HEADER_LEN]] {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path();
            {
                let options = WalOptions {
                    segment_size: 64,
                    ..opts()
                };
                let (wal, _) = open_opts(dir, options);
                wal.append(&[[1u8; 100]]).unwrap();
                // Rotates: the second segment starts at 2.
                wal.append(&[[2u8; 100]]).unwrap();
            }
            let second = segment_path(dir, 2);
            // Simulates a crash while the second segment was being created.
            fs::write(&second, damaged).unwrap();
            let (result, warnings) = open_capturing_warnings(dir);
            let (wal, replayed) = result.unwrap();
            assert_eq!(replayed, vec![(1, vec![1u8; 100])]);
            assert!(
                warnings.iter().any(|w| w.contains("torn header")),
                "{warnings:?}"
            );
            assert_eq!(fs::read(&second).unwrap(), header(2));
            assert_eq!(wal.append(&[b"x"]).unwrap(), 2..3);
            drop(wal);
            let (_, replayed) = open(dir);
            assert_eq!(replayed.len(), 2);
        }
    }

    fn expect_corrupt(dir: &Path, file: &Path, offset: u64) -> String {
        let err = past_forks(|| Wal::open(dir, opts())).unwrap_err();
        let WalError::Corrupt {
            path, offset: at, ..
        } = &err
        else {
            panic!("expected corruption, got {err}");
        };
        assert_eq!(path, file, "{err}");
        assert_eq!(*at, offset, "{err}");
        let message = err.to_string();
        assert!(
            message.contains(&file.display().to_string())
                && message.contains(&format!("byte {offset}")),
            "{message}"
        );
        message
    }

    #[test]
    fn corruption_mid_file_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        {
            let (wal, _) = open(dir);
            wal.append(&(0..10).map(payload).collect::<Vec<_>>())
                .unwrap();
        }
        let seg = only_segment(dir);
        flip_byte(&seg, (HEADER_LEN + FRAME_HEADER_LEN + 2) as u64);
        let message = expect_corrupt(dir, &seg, HEADER_LEN as u64);
        assert!(message.contains("valid frame follows"), "{message}");
        // Nothing was truncated.
        assert!(file_len(&seg) > (HEADER_LEN + FRAME_HEADER_LEN) as u64 * 10);
    }

    #[test]
    fn corrupt_length_mid_file_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        {
            let (wal, _) = open(dir);
            wal.append(&(0..10).map(payload).collect::<Vec<_>>())
                .unwrap();
        }
        let seg = only_segment(dir);
        let first = payload(0).len() + FRAME_HEADER_LEN;
        // A huge length makes the frame "run past the end", like a torn tail; the valid
        // frames after it must still be noticed.
        let mut bytes = fs::read(&seg).unwrap();
        bytes[HEADER_LEN + first + 3] = 0x7f;
        fs::write(&seg, bytes).unwrap();
        expect_corrupt(dir, &seg, (HEADER_LEN + first) as u64);
    }

    fn two_segments(dir: &Path) -> (PathBuf, PathBuf) {
        let options = WalOptions {
            segment_size: 100,
            ..opts()
        };
        let (wal, _) = open_opts(dir, options);
        wal.append(&[payload(1), payload(2)]).unwrap();
        wal.append(&[payload(3)]).unwrap();
        let segs = list_segments(dir).unwrap();
        assert_eq!(segs.len(), 2, "{segs:?}");
        (segs[0].1.clone(), segs[1].1.clone())
    }

    #[test]
    fn damaged_end_of_a_non_last_segment_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let (first, _) = two_segments(tmp.path());
        let len = file_len(&first);
        flip_byte(&first, len - 1);
        let last_frame = len - (payload(2).len() + FRAME_HEADER_LEN) as u64;
        let message = expect_corrupt(tmp.path(), &first, last_frame);
        assert!(message.contains("not the last"), "{message}");

        let tmp = tempfile::tempdir().unwrap();
        let (first, _) = two_segments(tmp.path());
        let f = OpenOptions::new().write(true).open(&first).unwrap();
        f.set_len(file_len(&first) - 1).unwrap();
        expect_corrupt(tmp.path(), &first, last_frame);
    }

    #[test]
    fn missing_segment_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        {
            let options = WalOptions {
                segment_size: 64,
                ..opts()
            };
            let (wal, _) = open_opts(dir, options);
            for i in 0..3 {
                wal.append(&[payload(i)]).unwrap();
            }
        }
        fs::remove_file(segment_path(dir, 2)).unwrap();
        let message = expect_corrupt(dir, &segment_path(dir, 3), 0);
        assert!(message.contains("missing"), "{message}");
    }

    #[test]
    fn rotation_and_checkpoint() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let options = WalOptions {
            segment_size: 1024,
            ..opts()
        };
        let mut expected = Vec::new();
        {
            let (wal, _) = open_opts(dir, options.clone());
            for i in 0..100 {
                let batch: Vec<Vec<u8>> = (i * 3..i * 3 + 3).map(payload).collect();
                expected.extend(wal.append(&batch).unwrap().zip(batch));
            }
            let segs = list_segments(dir).unwrap();
            assert!(segs.len() > 10, "{segs:?}");
            for (_, path) in &segs[..segs.len() - 1] {
                // Only a batch that alone exceeds the size may exceed it.
                assert!(file_len(path) <= 1024, "{}", path.display());
            }

            // A checkpoint inside the third segment frees the first two only.
            let third_first = segs[2].0;
            assert_eq!(wal.checkpoint(third_first).unwrap(), 2);
            assert_eq!(list_segments(dir).unwrap(), segs[2..].to_vec());
            assert_eq!(wal.checkpoint(third_first).unwrap(), 0);

            // The current segment survives any checkpoint.
            let current = segs.last().unwrap().clone();
            assert_eq!(wal.checkpoint(u64::MAX).unwrap(), segs.len() - 3);
            assert_eq!(list_segments(dir).unwrap(), vec![current.clone()]);

            // Appending continues the numbering, then rotates, and the previously
            // current segment becomes deletable.
            for i in 300..340 {
                let batch = [payload(i)];
                expected.extend(wal.append(&batch).unwrap().zip(batch));
            }
            assert!(list_segments(dir).unwrap().len() > 1);
            let before = list_segments(dir).unwrap();
            let last_seq = expected.last().unwrap().0;
            wal.checkpoint(last_seq).unwrap();
            let after = list_segments(dir).unwrap();
            assert_eq!(after, before[before.len() - 1..].to_vec());
        }
        let (wal, replayed) = open_opts(dir, options);
        let first_kept = list_segments(dir).unwrap()[0].0;
        let tail: Vec<_> = expected
            .iter()
            .filter(|(seq, _)| *seq >= first_kept)
            .cloned()
            .collect();
        assert!(!tail.is_empty());
        assert_eq!(replayed, tail);
        let next = expected.last().unwrap().0 + 1;
        assert_eq!(wal.next_seq(), next);
        assert_eq!(wal.append(&[b"more"]).unwrap(), next..next + 1);
    }

    #[test]
    fn checkpoint_after_reopen_knows_old_segments() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let options = WalOptions {
            segment_size: 256,
            ..opts()
        };
        {
            let (wal, _) = open_opts(dir, options.clone());
            for i in 0..20 {
                wal.append(&[payload(i)]).unwrap();
            }
        }
        let segs = list_segments(dir).unwrap();
        let (wal, _) = open_opts(dir, options);
        assert_eq!(wal.checkpoint(20).unwrap(), segs.len() - 1);
        assert_eq!(list_segments(dir).unwrap(), segs[segs.len() - 1..].to_vec());
    }

    // ---- kill -9 ----

    const CRASH_DIR_ENV: &str = "ABMETER_WAL_CRASH_DIR";
    const CRASH_RUN_ENV: &str = "ABMETER_WAL_CRASH_RUN";
    const CRASH_THREADS: u64 = 4;

    fn crash_options() -> WalOptions {
        // Small segments so crashes land around rotations and checkpoints too.
        WalOptions {
            segment_size: 32 * 1024,
            ..opts()
        }
    }

    fn mix(mut x: u64) -> u64 {
        // splitmix64: deterministic, well spread, no dependency.
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }

    fn crash_payload(run: u64, thread: u64, k: u64) -> Vec<u8> {
        let mut p = format!("r{run}-t{thread}-k{k}|").into_bytes();
        let pad = mix((run << 40) ^ (thread << 32) ^ k) % 600;
        p.extend(std::iter::repeat_n(b'a' + (k % 26) as u8, pad as usize));
        p
    }

    fn parse_crash_payload(p: &[u8]) -> Option<(u64, u64, u64)> {
        let text = std::str::from_utf8(p).ok()?;
        let (id, _) = text.split_once('|')?;
        let mut parts = id.split('-');
        let run = parts.next()?.strip_prefix('r')?.parse().ok()?;
        let thread = parts.next()?.strip_prefix('t')?.parse().ok()?;
        let k = parts.next()?.strip_prefix('k')?.parse().ok()?;
        Some((run, thread, k))
    }

    /// Not a test on its own: the body of the child process `kill_9_loses_nothing_
    /// acknowledged` starts. Without the environment variable it does nothing.
    #[test]
    fn crash_child_writer() {
        let Ok(dir) = std::env::var(CRASH_DIR_ENV) else {
            return;
        };
        let run: u64 = std::env::var(CRASH_RUN_ENV).unwrap().parse().unwrap();
        let (wal, _) = open_opts(Path::new(&dir), crash_options());
        let wal = Arc::new(wal);
        let started = std::time::Instant::now();
        let handles: Vec<_> = (0..CRASH_THREADS)
            .map(|t| {
                let wal = Arc::clone(&wal);
                std::thread::spawn(move || {
                    let mut k = 0;
                    let mut i = 0u64;
                    // Bounded so an orphaned child cannot run forever.
                    while started.elapsed() < Duration::from_secs(20) {
                        let n = 1 + (i * 7 + t) % 5;
                        let batch: Vec<Vec<u8>> =
                            (k..k + n).map(|k| crash_payload(run, t, k)).collect();
                        let seqs = wal.append(&batch).unwrap();
                        {
                            // Printed only now that append returned: each line is a
                            // promise the parent will hold the log to.
                            let mut out = io::stdout().lock();
                            writeln!(out, "ACK {t} {k} {} {}", seqs.start, seqs.end).unwrap();
                            out.flush().unwrap();
                        }
                        k += n;
                        i += 1;
                        if t == 0 && i.is_multiple_of(25) {
                            let upto = seqs.start.saturating_sub(400);
                            let mut out = io::stdout().lock();
                            writeln!(out, "CKPT {upto}").unwrap();
                            out.flush().unwrap();
                            drop(out);
                            wal.checkpoint(upto).unwrap();
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }

    struct KillOnDrop(std::process::Child);

    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// Reopens the log and checks it against everything ever acknowledged; returns the
    /// number of records replayed.
    fn verify_crash_log(
        dir: &Path,
        acked: &BTreeMap<u64, (u64, u64, u64)>,
        max_checkpoint: u64,
    ) -> usize {
        let (wal, replayed) = open_opts(dir, crash_options());
        let first = replayed.first().map_or(wal.next_seq(), |(seq, _)| *seq);
        assert!(
            first <= max_checkpoint + 1,
            "records from {first} on are gone but checkpoints only reached {max_checkpoint}"
        );
        let mut seen = HashSet::new();
        for (i, (seq, p)) in replayed.iter().enumerate() {
            assert_eq!(*seq, first + i as u64, "sequence numbers not contiguous");
            let id = parse_crash_payload(p)
                .unwrap_or_else(|| panic!("seq {seq}: not a record the child wrote"));
            assert_eq!(
                p,
                &crash_payload(id.0, id.1, id.2),
                "seq {seq}: payload damaged"
            );
            assert!(seen.insert(id), "seq {seq}: record {id:?} replayed twice");
        }
        for (&seq, &(run, t, k)) in acked.range(first..) {
            let Some((_, p)) = replayed.get((seq - first) as usize) else {
                panic!("acknowledged seq {seq} (run {run} thread {t} k {k}) lost");
            };
            assert_eq!(
                p,
                &crash_payload(run, t, k),
                "acknowledged seq {seq} holds another record"
            );
        }
        replayed.len()
    }

    #[cfg(unix)]
    #[test]
    fn kill_9_loses_nothing_acknowledged() {
        use std::io::BufRead;
        use std::os::unix::process::ExitStatusExt;
        use std::process::{Command, Stdio};

        let slow = std::env::var_os("ABMETER_SLOW_TESTS").is_some_and(|v| v == "1");
        let runs = if slow { 40 } else { 6 };
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        eprintln!("kill -9 test: {runs} runs, seed {seed}");
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("wal");
        let module = module_path!()
            .split_once("::")
            .map_or(module_path!(), |m| m.1);
        let child_test = format!("{module}::crash_child_writer");

        let mut acked: BTreeMap<u64, (u64, u64, u64)> = BTreeMap::new();
        let mut max_checkpoint = 0;
        for run in 0..runs {
            let stderr_path = tmp.path().join(format!("child-{run}.stderr"));
            let child = Command::new(std::env::current_exe().unwrap())
                .args([
                    child_test.as_str(),
                    "--exact",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CRASH_DIR_ENV, &dir)
                .env(CRASH_RUN_ENV, run.to_string())
                .stdout(Stdio::piped())
                .stderr(File::create(&stderr_path).unwrap())
                .spawn()
                .unwrap();
            let mut child = KillOnDrop(child);
            let stdout = child.0.stdout.take().unwrap();
            let (tx, rx) = std::sync::mpsc::channel();
            let reader = std::thread::spawn(move || {
                let mut stdout = io::BufReader::new(stdout);
                let mut line = String::new();
                // A line cut off by the kill has no newline: it was never a promise.
                while stdout.read_line(&mut line).is_ok_and(|n| n > 0) && line.ends_with('\n') {
                    if tx.send(line.trim_end().to_string()).is_err() {
                        break;
                    }
                    line.clear();
                }
            });

            let mut lines = Vec::new();
            loop {
                let Ok(line) = rx.recv_timeout(Duration::from_secs(10)) else {
                    panic!(
                        "child wrote no acknowledgement; its stderr:\n{}",
                        fs::read_to_string(&stderr_path).unwrap_or_default()
                    );
                };
                let is_ack = line.starts_with("ACK ");
                lines.push(line);
                if is_ack {
                    break;
                }
            }
            let wait_ms = mix(seed ^ run) % 300;
            std::thread::sleep(Duration::from_millis(wait_ms));
            child.0.kill().unwrap();
            let status = child.0.wait().unwrap();
            assert_eq!(
                status.signal(),
                Some(9),
                "child ended on its own ({status}); its stderr:\n{}",
                fs::read_to_string(&stderr_path).unwrap_or_default()
            );
            reader.join().unwrap();
            lines.extend(rx.try_iter());

            let before = acked.len();
            for line in &lines {
                let fields: Vec<u64> = line
                    .split(' ')
                    .skip(1)
                    .filter_map(|f| f.parse().ok())
                    .collect();
                if line.starts_with("ACK ") {
                    let [t, k, start, end] = fields[..] else {
                        panic!("bad line {line:?}");
                    };
                    for (i, seq) in (start..end).enumerate() {
                        let previous = acked.insert(seq, (run, t, k + i as u64));
                        assert!(
                            previous.is_none(),
                            "acknowledged seq {seq} handed out twice"
                        );
                    }
                } else if line.starts_with("CKPT ") {
                    max_checkpoint = max_checkpoint.max(fields[0]);
                }
            }
            let replayed = verify_crash_log(&dir, &acked, max_checkpoint);
            eprintln!(
                "run {run}: killed after {wait_ms} ms, {} records acknowledged, {replayed} \
                 replayed",
                acked.len() - before
            );
        }

        // Still appendable, and what is appended now survives too.
        let next = {
            let (wal, _) = open_opts(&dir, crash_options());
            let seqs = wal.append(&[crash_payload(runs, 0, 0)]).unwrap();
            acked.insert(seqs.start, (runs, 0, 0));
            seqs.end
        };
        verify_crash_log(&dir, &acked, max_checkpoint);
        let (wal, _) = open_opts(&dir, crash_options());
        assert_eq!(wal.next_seq(), next);
    }
}
