//! A bounded writer for `emit`: every write is checked, nothing can panic.

use super::error::EmitError;

/// Writes into a caller-provided buffer and reports a short buffer as an error.
pub(crate) struct Cursor<'a> {
    buf: &'a mut [u8],
    pos: usize,
    needed: usize,
}

impl<'a> Cursor<'a> {
    /// `needed` is the full message length, reported if the buffer turns out short.
    pub(crate) fn new(buf: &'a mut [u8], needed: usize) -> Result<Self, EmitError> {
        if buf.len() < needed {
            return Err(EmitError::BufferTooSmall {
                needed,
                have: buf.len(),
            });
        }
        Ok(Cursor {
            buf,
            pos: 0,
            needed,
        })
    }

    pub(crate) fn put(&mut self, byte: u8) -> Result<(), EmitError> {
        self.put_all(&[byte])
    }

    pub(crate) fn put_all(&mut self, bytes: &[u8]) -> Result<(), EmitError> {
        let end = self.pos.saturating_add(bytes.len());
        let have = self.buf.len();
        let slot = self
            .buf
            .get_mut(self.pos..end)
            .ok_or(EmitError::BufferTooSmall {
                needed: self.needed.max(end),
                have,
            })?;
        slot.copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    /// Bytes written so far.
    pub(crate) fn written(&self) -> &[u8] {
        self.buf.get(..self.pos).unwrap_or(&[])
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }
}

/// Emits into a fresh vector of exactly `len` bytes.
pub(crate) fn to_vec(
    len: usize,
    emit: impl FnOnce(&mut [u8]) -> Result<usize, EmitError>,
) -> Result<Vec<u8>, EmitError> {
    let mut buf = vec![0u8; len];
    let n = emit(&mut buf)?;
    buf.truncate(n);
    Ok(buf)
}
