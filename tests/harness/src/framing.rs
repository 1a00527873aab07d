//! lightningd's wire framing: compact JSON followed by `"\n\n"`, on the
//! plugin's stdio and on the RPC socket alike.
//!
//! Invariants:
//! - `encode` never emits a blank line inside a message (compact JSON escapes
//!   newlines in strings), so `"\n\n"` only ever terminates a message.
//! - `FrameReader` returns exactly the bytes between terminators; it never
//!   parses, so the caller decides what a malformed frame means.

use std::io;
use tokio::io::{AsyncRead, AsyncReadExt};

/// One framed message.
pub fn encode(msg: &serde_json::Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(msg).expect("a serde_json::Value always serializes");
    bytes.extend_from_slice(b"\n\n");
    bytes
}

/// What the reader produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// Bytes that ended with `"\n\n"` (terminator stripped).
    Complete(Vec<u8>),
    /// Bytes left when the stream ended without a terminator.
    Unterminated(Vec<u8>),
}

/// Splits a byte stream on `"\n\n"`.
pub struct FrameReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Bytes before this offset are known not to start a terminator.
    scanned: usize,
    eof: bool,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub fn new(inner: R) -> Self {
        FrameReader {
            inner,
            buf: Vec::with_capacity(64 * 1024),
            scanned: 0,
            eof: false,
        }
    }

    /// The next frame, or `None` at a clean end of stream.
    pub async fn next_frame(&mut self) -> io::Result<Option<Frame>> {
        loop {
            if let Some(pos) = self.buf[self.scanned..]
                .windows(2)
                .position(|w| w == b"\n\n")
                .map(|p| p + self.scanned)
            {
                let mut frame: Vec<u8> = self.buf.drain(..pos + 2).collect();
                frame.truncate(pos);
                self.scanned = 0;
                return Ok(Some(Frame::Complete(frame)));
            }
            // Keep the last byte unscanned: it may be the first half of "\n\n".
            self.scanned = self.buf.len().saturating_sub(1);
            if self.eof {
                if self.buf.iter().all(u8::is_ascii_whitespace) {
                    self.buf.clear();
                    return Ok(None);
                }
                self.scanned = 0;
                return Ok(Some(Frame::Unterminated(std::mem::take(&mut self.buf))));
            }
            if self.inner.read_buf(&mut self.buf).await? == 0 {
                self.eof = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn splits_only_on_blank_lines() {
        let mut bytes = encode(&json!({"a": "x\ny"}));
        bytes.extend_from_slice(b"{\"b\":1}\n\n\n");
        bytes.extend_from_slice(b"tail");
        let mut r = FrameReader::new(&bytes[..]);
        assert_eq!(
            r.next_frame().await.unwrap(),
            Some(Frame::Complete(br#"{"a":"x\ny"}"#.to_vec()))
        );
        assert_eq!(
            r.next_frame().await.unwrap(),
            Some(Frame::Complete(br#"{"b":1}"#.to_vec()))
        );
        assert_eq!(
            r.next_frame().await.unwrap(),
            Some(Frame::Unterminated(b"\ntail".to_vec()))
        );
        assert_eq!(r.next_frame().await.unwrap(), None);
    }

    #[tokio::test]
    async fn whitespace_at_eof_is_a_clean_end() {
        let mut r = FrameReader::new(&b"{}\n\n\n"[..]);
        assert!(matches!(
            r.next_frame().await.unwrap(),
            Some(Frame::Complete(_))
        ));
        assert_eq!(r.next_frame().await.unwrap(), None);
    }
}
