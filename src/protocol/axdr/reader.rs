//! A bounds-checked cursor over untrusted bytes, shared by the A-XDR and APDU decoders.
//!
//! Every read either returns the bytes asked for or `AxdrError::Truncated`; nothing here
//! indexes out of bounds, allocates or panics.

use super::error::AxdrError;

/// Cursor over a byte slice; `pos` never exceeds `buf.len()`.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes not yet consumed.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Consume exactly `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], AxdrError> {
        let end = self.pos.checked_add(n).ok_or(AxdrError::Truncated {
            needed: n,
            available: self.remaining(),
        })?;
        let slice = self.buf.get(self.pos..end).ok_or(AxdrError::Truncated {
            needed: n,
            available: self.remaining(),
        })?;
        self.pos = end;
        Ok(slice)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], AxdrError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, AxdrError> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, AxdrError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, AxdrError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_past_end_reports_needed_and_available() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u8(), Ok(1));
        assert_eq!(
            r.take(5),
            Err(AxdrError::Truncated {
                needed: 5,
                available: 2
            })
        );
        // A failed read consumes nothing.
        assert_eq!(r.u16(), Ok(0x0203));
        assert!(r.is_empty());
        assert_eq!(
            r.u8(),
            Err(AxdrError::Truncated {
                needed: 1,
                available: 0
            })
        );
    }

    #[test]
    fn take_usize_max_does_not_overflow() {
        let mut r = Reader::new(&[1]);
        r.u8().unwrap();
        assert!(matches!(
            r.take(usize::MAX),
            Err(AxdrError::Truncated { .. })
        ));
    }
}
