//! Answer bodies that are not a buffer of bytes: one that breaks off
//! mid-way ([`ResetBody`]), huge ones streamed from a small constant chunk,
//! plain ([`PaddedBody`]) or gzip-compressed ([`GzipBomb`]), and
//! [`Tracked`], which keeps a request counted in flight until its body is
//! sent.
//!
//! The huge bodies are `{"type":"list","data":[],"pad":"AAAA…"}` of an
//! exact length. The gzip stream is made of independently compressed
//! pieces (each ends on a byte boundary without the final-block bit, as
//! parallel gzip tools do), so the compressed piece of one chunk of `A`s is
//! made once and then repeated: the fake's memory stays small whatever
//! the size.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use http_body::{Body, Frame, SizeHint};

use crate::server::stats::InFlight;

type Polled = Poll<Option<Result<Frame<Bytes>, io::Error>>>;

/// How long a reset body waits after its last bytes before the abort, so
/// that they reach the client first.
const RESET_PAUSE: Duration = Duration::from_millis(30);

/// The full length declared, `prefix` sent, then an error: hyper drops the
/// connection, and the client sees its body end early.
pub(crate) struct ResetBody {
    prefix: Option<Bytes>,
    remaining: u64,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl ResetBody {
    /// Declare `declared` bytes (more than `prefix` holds), send `prefix`.
    pub(crate) fn new(prefix: Bytes, declared: u64) -> ResetBody {
        ResetBody {
            remaining: declared.max(prefix.len() as u64 + 1),
            prefix: Some(prefix),
            pause: None,
        }
    }
}

impl Body for ResetBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Polled {
        let this = self.get_mut();
        if let Some(prefix) = this.prefix.take().filter(|p| !p.is_empty()) {
            this.remaining -= prefix.len() as u64;
            return Poll::Ready(Some(Ok(Frame::data(prefix))));
        }
        let pause = this
            .pause
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(RESET_PAUSE)));
        if pause.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        Poll::Ready(Some(Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "fake-intercom: connection reset mid-body (injected)",
        ))))
    }

    fn is_end_stream(&self) -> bool {
        false
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// Size of the constant chunk of `A`s the huge bodies repeat.
const CHUNK: usize = 64 * 1024;
static PAD: [u8; CHUNK] = [b'A'; CHUNK];
/// Where the padding of a huge body starts and ends.
const DOC_HEAD: &[u8] = br#"{"type":"list","data":[],"pad":""#;
const DOC_TAIL: &[u8] = br#""}"#;

/// The layout of a huge body of `bytes` bytes: `head`, `pad` `A`s, `tail`
/// (a body shorter than the JSON frame is that frame cut short).
struct Layout {
    head: Bytes,
    pad: u64,
    tail: Bytes,
}

impl Layout {
    fn of(bytes: u64) -> Layout {
        let frame = (DOC_HEAD.len() + DOC_TAIL.len()) as u64;
        if bytes >= frame {
            return Layout {
                head: Bytes::from_static(DOC_HEAD),
                pad: bytes - frame,
                tail: Bytes::from_static(DOC_TAIL),
            };
        }
        let doc = [DOC_HEAD, DOC_TAIL].concat();
        Layout {
            head: Bytes::copy_from_slice(&doc[..bytes as usize]),
            pad: 0,
            tail: Bytes::new(),
        }
    }
}

/// A huge plain body, streamed in constant chunks.
pub(crate) struct PaddedBody {
    head: Option<Bytes>,
    pad: u64,
    tail: Option<Bytes>,
}

impl PaddedBody {
    pub(crate) fn new(bytes: u64) -> PaddedBody {
        let l = Layout::of(bytes);
        PaddedBody {
            head: Some(l.head),
            pad: l.pad,
            tail: Some(l.tail),
        }
    }

    fn remaining(&self) -> u64 {
        let len = |b: &Option<Bytes>| b.as_ref().map_or(0, |b| b.len() as u64);
        len(&self.head) + self.pad + len(&self.tail)
    }
}

impl Body for PaddedBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Polled {
        let this = self.get_mut();
        if let Some(head) = this.head.take() {
            return Poll::Ready(Some(Ok(Frame::data(head))));
        }
        if this.pad > 0 {
            let n = this.pad.min(CHUNK as u64) as usize;
            this.pad -= n as u64;
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&PAD[..n])))));
        }
        Poll::Ready(this.tail.take().map(|t| Ok(Frame::data(t))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining() == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining())
    }
}

/// Raw deflate of `input` by a fresh compressor. `FlushCompress::Full`
/// ends on a byte boundary without the final-block bit (more pieces may
/// follow); `FlushCompress::Finish` ends the stream.
fn deflate(input: &[u8], flush: FlushCompress) -> Vec<u8> {
    let mut c = Compress::new(Compression::default(), false);
    let mut out: Vec<u8> = Vec::with_capacity(input.len() / 64 + 64);
    loop {
        out.reserve(1024);
        let consumed = (c.total_in() as usize).min(input.len());
        match c.compress_vec(&input[consumed..], &mut out, flush) {
            Ok(Status::StreamEnd) | Err(_) => break,
            // A flush is complete once it leaves output space unused.
            Ok(_) => {
                let all_in = c.total_in() as usize == input.len();
                if flush != FlushCompress::Finish && all_in && out.len() < out.capacity() {
                    break;
                }
            }
        }
    }
    out
}

/// The compressed piece of one chunk of `A`s, repeated to about 64 KiB,
/// with the CRCs of one chunk and of a batch: the CRC of the whole body is
/// combined from them, never computed over gigabytes.
struct PadPieces {
    /// The piece repeated `per_batch` times.
    batch: Bytes,
    piece_len: usize,
    per_batch: u64,
    chunk_crc: Crc,
    batch_crc: Crc,
}

fn pad_pieces() -> &'static PadPieces {
    static PIECES: OnceLock<PadPieces> = OnceLock::new();
    PIECES.get_or_init(|| {
        let piece = deflate(&PAD, FlushCompress::Full);
        let per_batch = (CHUNK / piece.len().max(1)).max(1);
        let mut chunk_crc = Crc::new();
        chunk_crc.update(&PAD);
        let mut batch_crc = Crc::new();
        for _ in 0..per_batch {
            batch_crc.combine(&chunk_crc);
        }
        PadPieces {
            batch: Bytes::from(piece.repeat(per_batch)),
            piece_len: piece.len(),
            per_batch: per_batch as u64,
            chunk_crc,
            batch_crc,
        }
    })
}

/// A huge body, gzip-compressed on the fly from repeated pieces.
pub(crate) struct GzipBomb {
    /// Whole chunks of `A`s still to send.
    chunks_left: u64,
    /// The head piece (with the gzip header), then the final piece and
    /// trailer, each sent once.
    head: Option<Bytes>,
    last_pad: Vec<u8>,
    tail: Option<Bytes>,
    size: u64,
    crc: Crc,
    done: bool,
}

impl GzipBomb {
    pub(crate) fn new(bytes: u64) -> GzipBomb {
        let l = Layout::of(bytes);
        let mut crc = Crc::new();
        crc.update(&l.head);
        let mut head = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        head.extend(deflate(&l.head, FlushCompress::Full));
        GzipBomb {
            chunks_left: l.pad / CHUNK as u64,
            head: Some(Bytes::from(head)),
            last_pad: PAD[..(l.pad % CHUNK as u64) as usize].to_vec(),
            tail: Some(l.tail),
            size: bytes,
            crc,
            done: false,
        }
    }

    /// The final piece: the last `A`s and the tail, then the gzip trailer.
    fn finish(&mut self, tail: &[u8]) -> Bytes {
        let mut rest = std::mem::take(&mut self.last_pad);
        rest.extend_from_slice(tail);
        self.crc.update(&rest);
        let mut out = deflate(&rest, FlushCompress::Finish);
        out.extend_from_slice(&self.crc.sum().to_le_bytes());
        out.extend_from_slice(&(self.size as u32).to_le_bytes());
        Bytes::from(out)
    }
}

impl Body for GzipBomb {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Polled {
        let this = self.get_mut();
        if let Some(head) = this.head.take() {
            return Poll::Ready(Some(Ok(Frame::data(head))));
        }
        if this.chunks_left > 0 {
            let pieces = pad_pieces();
            let n = this.chunks_left.min(pieces.per_batch);
            this.chunks_left -= n;
            if n == pieces.per_batch {
                this.crc.combine(&pieces.batch_crc);
            } else {
                for _ in 0..n {
                    this.crc.combine(&pieces.chunk_crc);
                }
            }
            let batch = pieces.batch.slice(..n as usize * pieces.piece_len);
            return Poll::Ready(Some(Ok(Frame::data(batch))));
        }
        match this.tail.take() {
            Some(tail) => {
                let last = this.finish(&tail);
                this.done = true;
                Poll::Ready(Some(Ok(Frame::data(last))))
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }
}

/// Keeps its request counted in flight until the body is sent (or dropped).
pub(crate) struct Tracked<B> {
    inner: B,
    _in_flight: InFlight,
}

impl<B> Tracked<B> {
    pub(crate) fn new(inner: B, in_flight: InFlight) -> Tracked<B> {
        Tracked {
            inner,
            _in_flight: in_flight,
        }
    }
}

impl<B: Body + Unpin> Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    async fn collect(mut body: impl Body<Data = Bytes, Error = io::Error> + Unpin) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            if let Ok(data) = frame.expect("frame").into_data() {
                out.extend_from_slice(&data);
            }
        }
        out
    }

    #[tokio::test]
    async fn padded_bodies_have_the_exact_size_and_parse() {
        for size in [0u64, 5, 34, 35, 36, 1000, CHUNK as u64 * 2 + 17] {
            let body = PaddedBody::new(size);
            assert_eq!(body.size_hint().exact(), Some(size));
            let bytes = collect(body).await;
            assert_eq!(bytes.len() as u64, size);
            if size >= 35 {
                let v: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
                assert_eq!(v["type"], "list");
            }
        }
    }

    #[tokio::test]
    async fn gzip_bombs_decompress_to_the_exact_body() {
        for size in [0u64, 20, 35, 4096, CHUNK as u64 * 3 + 5, 8 * 1024 * 1024] {
            let compressed = collect(GzipBomb::new(size)).await;
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(compressed.as_slice())
                .read_to_end(&mut plain)
                .expect("valid gzip");
            assert_eq!(plain, collect(PaddedBody::new(size)).await, "{size}");
            if size >= 1024 * 1024 {
                assert!(compressed.len() as u64 * 100 < size, "{}", compressed.len());
            }
        }
    }

    #[tokio::test]
    async fn gzip_bombs_of_several_batches_have_a_valid_trailer() {
        let size = 2 * pad_pieces().per_batch * CHUNK as u64 + 77;
        let compressed = collect(GzipBomb::new(size)).await;
        let mut decoder = flate2::read::GzDecoder::new(compressed.as_slice());
        // The decoder checks the CRC and the size at the end.
        let n = std::io::copy(&mut decoder, &mut std::io::sink()).expect("valid gzip");
        assert_eq!(n, size);
    }
}
