//! Port of apimachinery `pkg/util/framer/framer.go` (`NewLengthDelimitedFrameReader`) with the
//! size limit of `pkg/runtime/serializer/streaming`: a protobuf watch stream is a sequence of
//! frames, each a 4-byte big-endian length and then that many bytes.
//!
//! Invariant: bytes are buffered only as they arrive; a header that announces more than
//! [`MAX_FRAME_BYTES`] is refused at once, so a bogus 4 GB length costs nothing.
//!
//! Data flow: the caller [`LengthDelimitedFrames::push`]es each network chunk and takes whole
//! frames with [`LengthDelimitedFrames::next_frame`] until it returns `None`.
//!
//! Differs from Go: a push-style buffer instead of an `io.Reader`, so it fits an async body.

use crate::runtime::wire::ProtoError;

/// Largest frame accepted. Go: `streaming`'s decoder gives up past 16 MiB (`maxBytes`).
pub const MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;

/// An incremental length-delimited frame splitter.
#[derive(Debug, Default)]
pub struct LengthDelimitedFrames {
    buf: Vec<u8>,
    start: usize,
}

impl LengthDelimitedFrames {
    /// An empty splitter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes that arrived.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// The next whole frame, if one has arrived. An over-long header is an error.
    pub fn next_frame(&mut self) -> Result<Option<&[u8]>, ProtoError> {
        let pending = &self.buf[self.start..];
        let Some(header) = pending.first_chunk::<4>() else {
            self.compact();
            return Ok(None);
        };
        let len = u32::from_be_bytes(*header) as usize;
        if len > MAX_FRAME_BYTES {
            return Err(ProtoError::Invalid(format!(
                "watch frame of {len} bytes exceeds the {MAX_FRAME_BYTES}-byte limit"
            )));
        }
        if pending.len() < 4 + len {
            self.compact();
            return Ok(None);
        }
        let from = self.start + 4;
        self.start = from + len;
        Ok(Some(&self.buf[from..from + len]))
    }

    /// Bytes of an incomplete frame still buffered (non-zero at end of stream means the
    /// stream was cut mid-frame).
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }
}

/// Writes one frame: the length, then the bytes. Port of `lengthDelimitedFrameWriter.Write`
/// (Go: `framer.NewLengthDelimitedFrameWriter`).
pub fn write_frame(out: &mut Vec<u8>, frame: &[u8]) {
    // A frame over 4 GiB cannot be framed; callers never build one (16 MiB limit above).
    let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(frame);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_across_chunks_come_out_whole() {
        let mut wire = Vec::new();
        write_frame(&mut wire, b"hello");
        write_frame(&mut wire, b"");
        write_frame(&mut wire, b"world!");
        let mut f = LengthDelimitedFrames::new();
        let mut got = Vec::new();
        for b in wire.chunks(3) {
            f.push(b);
            while let Some(frame) = f.next_frame().unwrap() {
                got.push(frame.to_vec());
            }
        }
        assert_eq!(got, [b"hello".to_vec(), Vec::new(), b"world!".to_vec()]);
        assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn a_four_gigabyte_header_is_refused_without_buffering() {
        let mut f = LengthDelimitedFrames::new();
        f.push(&[0xff, 0xff, 0xff, 0xff, 1, 2]);
        assert!(matches!(f.next_frame(), Err(ProtoError::Invalid(_))));
        assert!(f.buf.capacity() < 1024);
    }

    #[test]
    fn a_stream_cut_mid_frame_leaves_bytes_buffered() {
        let mut f = LengthDelimitedFrames::new();
        f.push(&[0, 0, 0, 9, 1, 2]);
        assert_eq!(f.next_frame().unwrap(), None);
        assert_eq!(f.buffered(), 6);
    }
}
