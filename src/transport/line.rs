//! Serial line settings ("9600 8N1", "300 7E1") and the wire time they imply.
//!
//! Pure values: parsing, printing and arithmetic. Applying them to a port is the job
//! of `serial`; this module must not touch the OS.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Number of data bits in one character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataBits {
    Five,
    Six,
    Seven,
    Eight,
}

impl DataBits {
    pub fn count(self) -> u32 {
        match self {
            DataBits::Five => 5,
            DataBits::Six => 6,
            DataBits::Seven => 7,
            DataBits::Eight => 8,
        }
    }
}

/// Parity bit of one character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Parity {
    None,
    Even,
    Odd,
}

/// Number of stop bits of one character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StopBits {
    One,
    Two,
}

/// Baud rate and character framing of a serial line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LineSettings {
    pub baud: u32,
    pub data_bits: DataBits,
    pub parity: Parity,
    pub stop_bits: StopBits,
}

impl LineSettings {
    /// 8 data bits, no parity, 1 stop bit: the usual DLMS/HDLC framing on RS-485.
    pub const fn new_8n1(baud: u32) -> Self {
        LineSettings {
            baud,
            data_bits: DataBits::Eight,
            parity: Parity::None,
            stop_bits: StopBits::One,
        }
    }

    /// 7 data bits, even parity, 1 stop bit: IEC 62056-21 optical port framing.
    pub const fn new_7e1(baud: u32) -> Self {
        LineSettings {
            baud,
            data_bits: DataBits::Seven,
            parity: Parity::Even,
            stop_bits: StopBits::One,
        }
    }

    /// Bits on the wire for one character: start + data + parity + stop.
    pub fn bits_per_char(&self) -> u32 {
        let parity = if self.parity == Parity::None { 0 } else { 1 };
        let stop = match self.stop_bits {
            StopBits::One => 1,
            StopBits::Two => 2,
        };
        1 + self.data_bits.count() + parity + stop
    }

    /// Time the line needs to carry `bytes` characters back to back.
    ///
    /// Exact to the nanosecond (rounded down), so pacing does not drift over long frames.
    pub fn wire_time(&self, bytes: u64) -> Duration {
        let bits = u128::from(bytes) * u128::from(self.bits_per_char());
        let nanos = bits * 1_000_000_000 / u128::from(self.baud.max(1));
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// Time the line needs for one character.
    pub fn char_time(&self) -> Duration {
        self.wire_time(1)
    }
}

impl fmt::Display for LineSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parity = match self.parity {
            Parity::None => 'N',
            Parity::Even => 'E',
            Parity::Odd => 'O',
        };
        let stop = match self.stop_bits {
            StopBits::One => 1,
            StopBits::Two => 2,
        };
        write!(
            f,
            "{} {}{}{}",
            self.baud,
            self.data_bits.count(),
            parity,
            stop
        )
    }
}

/// Why a line-settings string did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad line settings {input:?}: {reason} (expected e.g. \"9600 8N1\" or \"300 7E1\")")]
pub struct ParseLineSettingsError {
    pub input: String,
    pub reason: &'static str,
}

impl FromStr for LineSettings {
    type Err = ParseLineSettingsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |reason| ParseLineSettingsError {
            input: s.to_string(),
            reason,
        };
        let mut words = s.split_whitespace();
        let (Some(baud), Some(frame), None) = (words.next(), words.next(), words.next()) else {
            return Err(fail("want a baud rate and a frame, separated by a space"));
        };
        let baud: u32 = baud
            .parse()
            .map_err(|_| fail("baud rate is not a number"))?;
        if baud == 0 {
            return Err(fail("baud rate must be positive"));
        }
        let frame = frame.as_bytes();
        let [d, p, s] = frame else {
            return Err(fail("frame must be three characters like 8N1"));
        };
        let data_bits = match d {
            b'5' => DataBits::Five,
            b'6' => DataBits::Six,
            b'7' => DataBits::Seven,
            b'8' => DataBits::Eight,
            _ => return Err(fail("data bits must be 5, 6, 7 or 8")),
        };
        let parity = match p.to_ascii_uppercase() {
            b'N' => Parity::None,
            b'E' => Parity::Even,
            b'O' => Parity::Odd,
            _ => return Err(fail("parity must be N, E or O")),
        };
        let stop_bits = match s {
            b'1' => StopBits::One,
            b'2' => StopBits::Two,
            _ => return Err(fail("stop bits must be 1 or 2")),
        };
        Ok(LineSettings {
            baud,
            data_bits,
            parity,
            stop_bits,
        })
    }
}

impl serde::Serialize for LineSettings {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for LineSettings {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl From<DataBits> for tokio_serial::DataBits {
    fn from(d: DataBits) -> Self {
        match d {
            DataBits::Five => tokio_serial::DataBits::Five,
            DataBits::Six => tokio_serial::DataBits::Six,
            DataBits::Seven => tokio_serial::DataBits::Seven,
            DataBits::Eight => tokio_serial::DataBits::Eight,
        }
    }
}

impl From<Parity> for tokio_serial::Parity {
    fn from(p: Parity) -> Self {
        match p {
            Parity::None => tokio_serial::Parity::None,
            Parity::Even => tokio_serial::Parity::Even,
            Parity::Odd => tokio_serial::Parity::Odd,
        }
    }
}

impl From<StopBits> for tokio_serial::StopBits {
    fn from(s: StopBits) -> Self {
        match s {
            StopBits::One => tokio_serial::StopBits::One,
            StopBits::Two => tokio_serial::StopBits::Two,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_the_usual_framings() {
        for text in ["9600 8N1", "300 7E1", "2400 8E1", "19200 8O2", "115200 5N1"] {
            let line: LineSettings = text.parse().unwrap();
            assert_eq!(line.to_string(), text);
        }
        let line: LineSettings = "300 7E1".parse().unwrap();
        assert_eq!(line, LineSettings::new_7e1(300));
        assert_eq!(
            "  9600   8n1 ".parse::<LineSettings>().unwrap(),
            LineSettings::new_8n1(9600)
        );
    }

    #[test]
    fn rejects_malformed_strings_with_a_reason() {
        for (text, reason) in [
            ("9600", "want a baud rate"),
            ("9600 8N1 x", "want a baud rate"),
            ("fast 8N1", "not a number"),
            ("0 8N1", "positive"),
            ("9600 8N", "three characters"),
            ("9600 9N1", "data bits"),
            ("9600 8X1", "parity"),
            ("9600 8N3", "stop bits"),
        ] {
            let err = text.parse::<LineSettings>().unwrap_err();
            assert_eq!(err.input, text);
            assert!(err.reason.contains(reason), "{text}: {}", err.reason);
        }
    }

    #[test]
    fn character_size_counts_start_parity_and_stop_bits() {
        assert_eq!(LineSettings::new_8n1(9600).bits_per_char(), 10);
        assert_eq!(LineSettings::new_7e1(300).bits_per_char(), 10);
        assert_eq!(
            "2400 8E1".parse::<LineSettings>().unwrap().bits_per_char(),
            11
        );
        assert_eq!(
            "2400 8O2".parse::<LineSettings>().unwrap().bits_per_char(),
            12
        );
    }

    #[test]
    fn wire_time_is_exact() {
        let line = LineSettings::new_8n1(9600);
        assert_eq!(line.wire_time(960), Duration::from_secs(1));
        assert_eq!(line.char_time(), Duration::from_nanos(1_041_666));
        let line: LineSettings = "2400 8E1".parse().unwrap();
        assert_eq!(line.wire_time(240), Duration::from_millis(1100));
    }

    #[test]
    fn serde_uses_the_text_form() {
        #[derive(serde::Deserialize, serde::Serialize)]
        struct Port {
            line: LineSettings,
        }
        let port: Port = toml::from_str("line = \"300 7E1\"").unwrap();
        assert_eq!(port.line, LineSettings::new_7e1(300));
        assert_eq!(toml::to_string(&port).unwrap().trim(), "line = \"300 7E1\"");
        assert!(toml::from_str::<Port>("line = \"300 7Q1\"").is_err());
    }
}
