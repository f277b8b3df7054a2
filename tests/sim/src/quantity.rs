//! Resource quantities as the API server reads and prints them: k8s.io/apimachinery
//! pkg/api/resource/quantity.go (`ParseQuantity`, `Quantity.String` via `CanonicalizeBytes`,
//! `Add`) and suffix.go. kube-sim has its own implementation, independent of the plugins'
//! (`shared::quantity`), so that a mistake in theirs shows against this one.
//!
//! A value is held exactly, in nano-units (apimachinery rounds every parsed value up to the
//! nano, `Nano` scale), with the format its text was written in, which decides how it prints.

/// quantity.go `Format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `e3`, `E6`: printed with a decimal exponent.
    DecimalExponent,
    /// `Ki`, `Mi`, ... : printed in powers of 1024 where exact.
    BinarySI,
    /// `m`, `k`, `M`, ... or no suffix: printed in powers of 1000.
    DecimalSI,
}

/// A quantity: its value in nano-units and its format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    nanos: i128,
    pub format: Format,
}

const NANO: i128 = 1_000_000_000;
/// quantity.go `maxAllowed`: a BinarySI value is capped at the largest int64.
const MAX_ALLOWED_NANOS: i128 = (i64::MAX as i128) * NANO;

/// suffix.go's binary suffixes: power of two of each.
const BINARY: &[(&str, u32)] = &[
    ("Ki", 10),
    ("Mi", 20),
    ("Gi", 30),
    ("Ti", 40),
    ("Pi", 50),
    ("Ei", 60),
];
/// suffix.go's decimal SI suffixes: power of ten of each ("" is 0).
const DECIMAL: &[(&str, i32)] = &[
    ("n", -9),
    ("u", -6),
    ("m", -3),
    ("", 0),
    ("k", 3),
    ("M", 6),
    ("G", 9),
    ("T", 12),
    ("P", 15),
    ("E", 18),
];

fn pow10(exp: u32) -> Option<i128> {
    10i128.checked_pow(exp)
}

impl Quantity {
    /// `ParseQuantity`: `<sign><digits>[.<digits>]<suffix>`, the suffix binary SI, decimal SI or
    /// `e`/`E` and a signed integer; no spaces. Non-zero values are rounded away from zero to
    /// the nano; a BinarySI value is capped at the largest int64, and one below 1 becomes
    /// DecimalSI. `None` where upstream answers an error (or the value passes ±1.7e29, which
    /// this exact representation cannot hold).
    pub fn parse(text: &str) -> Option<Quantity> {
        let bytes = text.as_bytes();
        let mut pos = 0;
        let negative = match bytes.first() {
            Some(b'-') => {
                pos = 1;
                true
            }
            Some(b'+') => {
                pos = 1;
                false
            }
            _ => false,
        };
        let int_start = pos;
        while pos < bytes.len() && bytes[pos].is_ascii_digit() {
            pos += 1;
        }
        let int_digits = &text[int_start..pos];
        let mut frac_digits = "";
        if pos < bytes.len() && bytes[pos] == b'.' {
            pos += 1;
            let frac_start = pos;
            while pos < bytes.len() && bytes[pos].is_ascii_digit() {
                pos += 1;
            }
            frac_digits = &text[frac_start..pos];
        }
        if int_digits.is_empty() && frac_digits.is_empty() {
            return None;
        }
        let suffix = &text[pos..];
        let (format, base2, exp10) = if let Some((_, p)) = BINARY.iter().find(|(s, _)| *s == suffix)
        {
            (Format::BinarySI, *p, 0)
        } else if let Some((_, e)) = DECIMAL.iter().find(|(s, _)| *s == suffix) {
            (Format::DecimalSI, 0, *e)
        } else if let Some(exp) = suffix.strip_prefix(['e', 'E']) {
            // suffix.go interpret: "e"/"E" and a signed integer.
            let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (Format::DecimalExponent, 0, exp.parse::<i32>().ok()?)
        } else {
            return None;
        };
        // The digits as one integer and its decimal scale: value = mantissa × 10^(exp10 − scale).
        let digits = format!("{int_digits}{frac_digits}");
        let digits = digits.trim_start_matches('0');
        let digits = if digits.is_empty() { "0" } else { digits };
        if digits.len() > 38 {
            return None;
        }
        let mantissa: i128 = digits.parse().ok()?;
        let mantissa = mantissa.checked_mul(1i128.checked_shl(base2)?)?;
        // In nano-units: × 10^(9 + exp10 − fraction digits), rounded up when that divides.
        let shift = 9 + exp10 - frac_digits.len() as i32;
        let mut nanos = if shift >= 0 {
            mantissa.checked_mul(pow10(shift as u32)?)?
        } else {
            let div = pow10(shift.unsigned_abs()).unwrap_or(i128::MAX);
            let q = mantissa / div;
            // inf.RoundUp of the magnitude: any remainder takes the next nano.
            if mantissa % div != 0 { q + 1 } else { q }
        };
        let mut format = format;
        if format == Format::BinarySI && nanos > MAX_ALLOWED_NANOS {
            nanos = MAX_ALLOWED_NANOS;
        }
        if format == Format::BinarySI && nanos > 0 && nanos < NANO {
            format = Format::DecimalSI;
        }
        Some(Quantity {
            nanos: if negative { -nanos } else { nanos },
            format,
        })
    }

    /// A quantity of `value` base units in `format` (the value rounded to the nano).
    pub fn from_f64(value: f64, format: Format) -> Quantity {
        let nanos = (value * NANO as f64).round();
        let nanos = if nanos.is_finite() {
            nanos.clamp(i128::MIN as f64, i128::MAX as f64) as i128
        } else {
            0
        };
        Quantity { nanos, format }
    }

    /// The value in base units (cores, bytes, objects).
    pub fn as_f64(&self) -> f64 {
        self.nanos as f64 / NANO as f64
    }

    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }

    /// `Quantity.Add`: the sum takes the other's format when this one is zero.
    pub fn add(&mut self, other: &Quantity) {
        if self.is_zero() {
            self.format = other.format;
        }
        self.nanos = self.nanos.saturating_add(other.nanos);
    }
}

/// `removeInt64Factors`: `value` = result × factor^times, times as large as it goes.
fn remove_factors(mut value: i128, factor: i128) -> (i128, i32) {
    let mut times = 0;
    while value != 0 && value % factor == 0 {
        value /= factor;
        times += 1;
    }
    (value, times)
}

impl std::fmt::Display for Quantity {
    /// `Quantity.String` (`CanonicalizeBytes`): zero is `0`; BinarySI prints in powers of 1024
    /// unless the value is under 1024 in magnitude or not whole (then DecimalSI); decimal
    /// formats print the smallest integer mantissa with an exponent that is a multiple of 3.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.nanos == 0 {
            return f.write_str("0");
        }
        let mut format = self.format;
        if format == Format::BinarySI && (self.nanos.abs() < 1024 * NANO || self.nanos % NANO != 0)
        {
            format = Format::DecimalSI;
        }
        if format == Format::BinarySI {
            let (amount, times) = remove_factors(self.nanos / NANO, 1024);
            let suffix = match times {
                0 => "",
                n => BINARY
                    .get((n - 1) as usize)
                    .map(|(s, _)| *s)
                    .unwrap_or("Ei"),
            };
            return write!(f, "{amount}{suffix}");
        }
        // int64Amount.AsCanonicalBytes: factors of ten out, exponent to a multiple of three.
        let (mut amount, times) = remove_factors(self.nanos, 10);
        let mut exponent = times - 9;
        match exponent.rem_euclid(3) {
            1 => {
                amount *= 10;
                exponent -= 1;
            }
            2 => {
                amount *= 100;
                exponent -= 2;
            }
            _ => {}
        }
        if format == Format::DecimalExponent {
            return if exponent == 0 {
                write!(f, "{amount}")
            } else {
                write!(f, "{amount}e{exponent}")
            };
        }
        // DecimalSI beyond exa has no suffix: the mantissa carries the rest.
        while exponent > 18 {
            amount *= 1000;
            exponent -= 3;
        }
        let suffix = DECIMAL
            .iter()
            .find(|(_, e)| *e == exponent)
            .map(|(s, _)| *s)
            .unwrap_or("");
        write!(f, "{amount}{suffix}")
    }
}

/// A quantity's value in base units (cores for cpu, bytes for memory and storage), as the
/// controllers and quota admission compare them; `None` for text upstream refuses.
pub fn parse(text: &str) -> Option<f64> {
    Quantity::parse(text).map(|q| q.as_f64())
}

/// How the API server prints a value of `resource` that it computed (quota `used`, the
/// amounts in quota refusals): memory and storage as BinarySI (requests are written `512Mi`),
/// everything else DecimalSI (`500m` cpu, `10` pods) — upstream keeps the format of the first
/// non-zero amount added (`Quantity.Add`), which is these in practice.
pub fn format(resource: &str, value: f64) -> String {
    let binary = resource.ends_with("memory") || resource.ends_with("storage");
    let fmt = if binary {
        Format::BinarySI
    } else {
        Format::DecimalSI
    };
    Quantity::from_f64(value, fmt).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> String {
        Quantity::parse(text)
            .unwrap_or_else(|| panic!("{text} parses"))
            .to_string()
    }

    #[test]
    fn parses_as_parse_quantity() {
        assert_eq!(parse("500m"), Some(0.5));
        assert_eq!(parse("2"), Some(2.0));
        assert_eq!(parse("1.5"), Some(1.5));
        assert_eq!(parse("+1.5"), Some(1.5));
        assert_eq!(parse("-2"), Some(-2.0));
        assert_eq!(parse(".5"), Some(0.5));
        assert_eq!(parse("5."), Some(5.0));
        assert_eq!(parse("128Mi"), Some(134_217_728.0));
        assert_eq!(parse("1.5Gi"), Some(1_610_612_736.0));
        assert_eq!(parse("1e3"), Some(1000.0));
        assert_eq!(parse("1E3"), Some(1000.0));
        assert_eq!(parse("1e-3"), Some(0.001));
        assert_eq!(parse("10G"), Some(1e10));
        assert_eq!(parse("1E"), Some(1e18), "E alone is exa");
        assert_eq!(parse("100n"), Some(1e-7));
        assert_eq!(parse("3u"), Some(3e-6));
        assert_eq!(Quantity::parse("1Ki").unwrap().format, Format::BinarySI);
        assert_eq!(Quantity::parse("1k").unwrap().format, Format::DecimalSI);
        assert_eq!(
            Quantity::parse("1e3").unwrap().format,
            Format::DecimalExponent
        );
        // Refused as upstream refuses them (ErrFormatWrong / ErrSuffix).
        for bad in [
            "", "x", " 1", "1 ", "1 Mi", "1.2.3", ".", "-", "1mi", "1KI", "1e", "1e+", "1e3.5",
            "Mi", "1Ki5", "--1", "1b",
        ] {
            assert_eq!(Quantity::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn rounds_up_to_the_nano_and_caps_binary_values() {
        assert_eq!(canonical("0.1n"), "1n");
        assert_eq!(canonical("-0.1n"), "-1n");
        assert_eq!(canonical("1.0000000001"), "1000000001n");
        assert_eq!(canonical("16Ei"), canonical("9223372036854775807"));
        // A BinarySI value below 1 is DecimalSI.
        assert_eq!(Quantity::parse("0.5Ki").unwrap().format, Format::BinarySI);
        assert_eq!(
            Quantity::parse("0.0001Ki").unwrap().format,
            Format::DecimalSI
        );
    }

    #[test]
    fn prints_as_quantity_string() {
        for (text, printed) in [
            ("0", "0"),
            ("0Mi", "0"),
            ("500m", "500m"),
            ("0.5", "500m"),
            ("1.5", "1500m"),
            ("2000m", "2"),
            ("1000", "1k"),
            ("1500", "1500"),
            ("100k", "100k"),
            ("1.5Gi", "1536Mi"),
            ("1024Mi", "1Gi"),
            ("512Mi", "512Mi"),
            ("0.5Ki", "512"),
            ("1.1Ki", "1126400m"),
            ("1G", "1G"),
            ("1e3", "1e3"),
            ("1.5e3", "1500"),
            ("1E6", "1e6"),
            ("12e-3", "12e-3"),
            ("-1.5Gi", "-1536Mi"),
            ("100n", "100n"),
            ("1000n", "1u"),
        ] {
            assert_eq!(canonical(text), printed, "{text}");
        }
    }

    #[test]
    fn sums_keep_the_first_format_and_values_print_per_resource() {
        let mut sum = Quantity::parse("0").unwrap();
        sum.add(&Quantity::parse("512Mi").unwrap());
        sum.add(&Quantity::parse("1G").unwrap());
        assert_eq!(sum.format, Format::BinarySI);
        assert_eq!(sum.to_string(), "1536870912");
        assert_eq!(format("requests.cpu", 0.5), "500m");
        assert_eq!(format("requests.cpu", 7.0), "7");
        assert_eq!(format("limits.memory", 2.0 * 1_073_741_824.0), "2Gi");
        assert_eq!(format("requests.storage", 1e9), "1000000000");
        assert_eq!(format("pods", 10.0), "10");
        assert_eq!(format("pods", 1000.0), "1k");
        assert_eq!(format("requests.memory", 0.0), "0");
    }
}
