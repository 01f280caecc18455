//! COSEM units and scalers (Blue Book 4.3.2, Register class: scaler_unit and the unit table).
//!
//! Pure data: a unit code becomes a symbol, a raw integer and its scaler become an exact
//! decimal. No floating point is involved unless a caller asks for `to_f64`.

use core::fmt;

use crate::protocol::axdr::Data;

macro_rules! unit_table {
    ($($name:ident = $code:literal => $symbol:expr,)*) => {
        /// The Blue Book unit enumeration (4.3.2, Table "Enumerated values for physical units").
        /// Codes without a variant (reserved, 128..=174 non-SI units, 253 extended table)
        /// are kept as `Unknown(code)`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Unit {
            $($name,)*
            Unknown(u8),
        }

        impl Unit {
            /// Every named unit with its code and symbol, sorted by code.
            pub const TABLE: &'static [(u8, Unit, Option<&'static str>)] = &[
                $(($code, Unit::$name, $symbol),)*
            ];

            pub fn from_code(code: u8) -> Unit {
                match code {
                    $($code => Unit::$name,)*
                    other => Unit::Unknown(other),
                }
            }

            pub fn code(self) -> u8 {
                match self {
                    $(Unit::$name => $code,)*
                    Unit::Unknown(c) => c,
                }
            }

            /// The unit symbol; `None` for "other unit", "count" (no unit) and unknown codes.
            pub fn symbol(self) -> Option<&'static str> {
                match self {
                    $(Unit::$name => $symbol,)*
                    Unit::Unknown(_) => None,
                }
            }
        }
    };
}

unit_table! {
    Year = 1 => Some("a"),
    Month = 2 => Some("mo"),
    Week = 3 => Some("wk"),
    Day = 4 => Some("d"),
    Hour = 5 => Some("h"),
    Minute = 6 => Some("min"),
    Second = 7 => Some("s"),
    Degree = 8 => Some("°"),
    DegreeCelsius = 9 => Some("°C"),
    Currency = 10 => Some("currency"),
    Metre = 11 => Some("m"),
    MetrePerSecond = 12 => Some("m/s"),
    CubicMetre = 13 => Some("m³"),
    CubicMetreCorrected = 14 => Some("m³"),
    CubicMetrePerHour = 15 => Some("m³/h"),
    CubicMetrePerHourCorrected = 16 => Some("m³/h"),
    CubicMetrePerDay = 17 => Some("m³/d"),
    CubicMetrePerDayCorrected = 18 => Some("m³/d"),
    Litre = 19 => Some("l"),
    Kilogram = 20 => Some("kg"),
    Newton = 21 => Some("N"),
    NewtonMetre = 22 => Some("Nm"),
    Pascal = 23 => Some("Pa"),
    Bar = 24 => Some("bar"),
    Joule = 25 => Some("J"),
    JoulePerHour = 26 => Some("J/h"),
    Watt = 27 => Some("W"),
    VoltAmpere = 28 => Some("VA"),
    Var = 29 => Some("var"),
    WattHour = 30 => Some("Wh"),
    VoltAmpereHour = 31 => Some("VAh"),
    VarHour = 32 => Some("varh"),
    Ampere = 33 => Some("A"),
    Coulomb = 34 => Some("C"),
    Volt = 35 => Some("V"),
    VoltPerMetre = 36 => Some("V/m"),
    Farad = 37 => Some("F"),
    Ohm = 38 => Some("Ω"),
    OhmMetre = 39 => Some("Ωm"),
    Weber = 40 => Some("Wb"),
    Tesla = 41 => Some("T"),
    AmperePerMetre = 42 => Some("A/m"),
    Henry = 43 => Some("H"),
    Hertz = 44 => Some("Hz"),
    PerWattHour = 45 => Some("1/(Wh)"),
    PerVarHour = 46 => Some("1/(varh)"),
    PerVoltAmpereHour = 47 => Some("1/(VAh)"),
    VoltSquaredHour = 48 => Some("V²h"),
    AmpereSquaredHour = 49 => Some("A²h"),
    KilogramPerSecond = 50 => Some("kg/s"),
    Siemens = 51 => Some("S"),
    Kelvin = 52 => Some("K"),
    PerVoltSquaredHour = 53 => Some("1/(V²h)"),
    PerAmpereSquaredHour = 54 => Some("1/(A²h)"),
    PerCubicMetre = 55 => Some("1/m³"),
    Percent = 56 => Some("%"),
    AmpereHour = 57 => Some("Ah"),
    WattHourPerCubicMetre = 60 => Some("Wh/m³"),
    JoulePerCubicMetre = 61 => Some("J/m³"),
    MolePercent = 62 => Some("Mol %"),
    GramPerCubicMetre = 63 => Some("g/m³"),
    PascalSecond = 64 => Some("Pa s"),
    JoulePerKilogram = 65 => Some("J/kg"),
    GramPerSquareCentimetre = 66 => Some("g/cm²"),
    Atmosphere = 67 => Some("atm"),
    DecibelMilliwatt = 70 => Some("dBm"),
    DecibelMicrovolt = 71 => Some("dBµV"),
    Decibel = 72 => Some("dB"),
    Other = 254 => None,
    Count = 255 => None,
}

impl fmt::Display for Unit {
    /// The symbol; `count` / `other` / `unit(N)` when there is none.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.symbol(), self) {
            (Some(s), _) => f.write_str(s),
            (None, Unit::Count) => f.write_str("count"),
            (None, Unit::Other) => f.write_str("other"),
            (None, u) => write!(f, "unit({})", u.code()),
        }
    }
}

/// scaler_unit of a Register (Blue Book 4.3.2): value × 10^scaler in `unit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScalerUnit {
    pub scaler: i8,
    pub unit: Unit,
}

impl ScalerUnit {
    /// From the wire form `structure { integer scaler, enum unit }`.
    pub fn from_data(data: &Data) -> Option<ScalerUnit> {
        match data.as_elements()? {
            [Data::Integer(scaler), Data::Enum(unit)] => Some(ScalerUnit {
                scaler: *scaler,
                unit: Unit::from_code(*unit),
            }),
            _ => None,
        }
    }

    pub fn to_data(self) -> Data {
        Data::Structure(vec![
            Data::Integer(self.scaler),
            Data::Enum(self.unit.code()),
        ])
    }

    /// Scale a raw register value, exactly.
    pub fn apply(self, raw: i128) -> Quantity {
        Quantity {
            mantissa: raw,
            scaler: self.scaler,
            unit: self.unit,
        }
    }
}

/// An exact scaled value: `mantissa × 10^scaler unit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quantity {
    pub mantissa: i128,
    pub scaler: i8,
    pub unit: Unit,
}

impl Quantity {
    /// The number alone, exactly, e.g. `12.34` for mantissa 1234 and scaler -2; trailing
    /// zeros are kept because they state the meter's resolution.
    pub fn decimal(&self) -> String {
        let digits = self.mantissa.unsigned_abs().to_string();
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let k = usize::from(self.scaler.unsigned_abs());
        if self.scaler >= 0 {
            return if self.mantissa == 0 {
                "0".to_string()
            } else {
                format!("{sign}{digits}{}", "0".repeat(k))
            };
        }
        if digits.len() <= k {
            format!("{sign}0.{}{digits}", "0".repeat(k - digits.len()))
        } else {
            let (int, frac) = digits.split_at(digits.len() - k);
            format!("{sign}{int}.{frac}")
        }
    }

    /// Lossy conversion for arithmetic and plotting; not for display or billing.
    pub fn to_f64(&self) -> f64 {
        self.mantissa as f64 * 10f64.powi(i32::from(self.scaler))
    }
}

/// `12.34 Wh`, or just the number when the unit has no symbol (count, other, unknown).
impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.decimal())?;
        if let Some(s) = self.unit.symbol() {
            write!(f, " {s}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn table_is_sorted_unique_and_consistent() {
        for w in Unit::TABLE.windows(2) {
            assert!(w[0].0 < w[1].0, "{:?} before {:?}", w[0], w[1]);
        }
        for &(code, unit, symbol) in Unit::TABLE {
            assert_eq!(Unit::from_code(code), unit);
            assert_eq!(unit.code(), code);
            assert_eq!(unit.symbol(), symbol);
        }
    }

    #[test]
    fn electricity_units() {
        assert_eq!(Unit::from_code(27).symbol(), Some("W"));
        assert_eq!(Unit::from_code(30).symbol(), Some("Wh"));
        assert_eq!(Unit::from_code(32).symbol(), Some("varh"));
        assert_eq!(Unit::from_code(33).symbol(), Some("A"));
        assert_eq!(Unit::from_code(35).symbol(), Some("V"));
        assert_eq!(Unit::from_code(44).symbol(), Some("Hz"));
        assert_eq!(Unit::from_code(255), Unit::Count);
        assert_eq!(Unit::Count.to_string(), "count");
        assert_eq!(Unit::from_code(58), Unit::Unknown(58));
        assert_eq!(Unit::Unknown(58).to_string(), "unit(58)");
    }

    #[test]
    fn agrees_with_dlms_cosem_unit_table() {
        for code in 0..=255u8 {
            let theirs = dlms_cosem::Unit::try_from(code).ok();
            let ours = Unit::from_code(code);
            match theirs {
                // Same code is known on both sides, with the same symbol.
                Some(t) => assert_eq!(ours.symbol(), t.as_str(), "code {code}"),
                None => assert_eq!(ours, Unit::Unknown(code), "code {code}"),
            }
        }
    }

    #[test]
    fn scaler_unit_from_register_attribute() {
        let su = ScalerUnit::from_data(&Data::Structure(vec![Data::Integer(-2), Data::Enum(30)]))
            .unwrap();
        assert_eq!(
            su,
            ScalerUnit {
                scaler: -2,
                unit: Unit::WattHour
            }
        );
        assert_eq!(ScalerUnit::from_data(&su.to_data()), Some(su));
        assert_eq!(su.apply(123_456).to_string(), "1234.56 Wh");
        assert_eq!(
            ScalerUnit::from_data(&Data::Structure(vec![Data::Integer(-2)])),
            None
        );
        assert_eq!(ScalerUnit::from_data(&Data::Enum(30)), None);
    }

    #[test]
    fn exact_decimal_formatting() {
        let q = |m, s| {
            Quantity {
                mantissa: m,
                scaler: s,
                unit: Unit::Count,
            }
            .decimal()
        };
        assert_eq!(q(1234, 0), "1234");
        assert_eq!(q(1234, 3), "1234000");
        assert_eq!(q(1234, -2), "12.34");
        assert_eq!(q(1234, -4), "0.1234");
        assert_eq!(q(5, -3), "0.005");
        assert_eq!(q(-5, -3), "-0.005");
        assert_eq!(q(-1230, -1), "-123.0");
        assert_eq!(q(0, 3), "0");
        assert_eq!(q(0, -2), "0.00");
        assert_eq!(
            q(i128::MIN, -1),
            "-17014118346046923173168730371588410572.8"
        );
        assert_eq!(
            Quantity {
                mantissa: 2301,
                scaler: -1,
                unit: Unit::Volt
            }
            .to_string(),
            "230.1 V"
        );
    }

    proptest! {
        #[test]
        fn decimal_parses_back_to_the_same_number(m in any::<i64>(), s in -20i8..=18) {
            let q = Quantity { mantissa: m.into(), scaler: s, unit: Unit::Count };
            let text = q.decimal();
            // Removing the point and the appended zeros recovers the mantissa.
            let frac_len = text.split_once('.').map_or(0, |(_, f)| f.len());
            let digits: String = text.chars().filter(|c| *c != '.').collect();
            let n: i128 = digits.parse().unwrap();
            if s < 0 {
                prop_assert_eq!(frac_len, usize::from(s.unsigned_abs()));
                prop_assert_eq!(n, i128::from(m));
            } else {
                prop_assert_eq!(n, i128::from(m) * 10i128.pow(s as u32));
            }
        }
    }
}
