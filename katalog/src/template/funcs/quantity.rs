//! Kubernetes resource quantities (`parseQuantity`, `formatQuantity`, `sumQuantity`).
//!
//! The semantics of `resource.Quantity`: decimal suffixes `n u m k M G T P E`, binary suffixes
//! `Ki Mi Gi Ti Pi Ei`, exponents (`1e3`, `1E6`); values are exact down to the nano unit (finer
//! digits round up, as Kubernetes does). A quantity keeps the format of its suffix (binary or
//! decimal) when printed, and prints in canonical form: the largest suffix that keeps the number
//! whole (`1536Mi` → `1536Mi`, `2048Mi` → `2Gi`, `0.5` → `500m`, `1500m` → `1500m`).

use super::{string_value, text};
use crate::template::eval::Val;
use crate::template::value::Num;
use crate::template::{Env, FuncError};
use serde_json::Value;

const WANT: &str = "a Kubernetes quantity like 500m, 2Gi or 1.5";
const WANT_FORMAT: &str = "a quantity format: decimal or binary";
const NANO: i128 = 1_000_000_000;

/// The quantity's printing format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Decimal,
    Binary,
}

/// A quantity: an exact count of nano-units and the format it prints in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Quantity {
    pub nanos: i128,
    pub format: Format,
}

const BINARY: [(&str, u32); 6] = [("Ki", 1), ("Mi", 2), ("Gi", 3), ("Ti", 4), ("Pi", 5), ("Ei", 6)];
const DECIMAL: [(&str, i32); 9] = [("n", -9), ("u", -6), ("m", -3), ("k", 3), ("M", 6), ("G", 9), ("T", 12), ("P", 15), ("E", 18)];

impl Quantity {
    /// Parses quantity text.
    pub(crate) fn parse(s: &str) -> Option<Quantity> {
        let s = s.trim();
        let (negative, body) = match s.as_bytes().first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let num_len = body.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(body.len());
        let (number, suffix) = body.split_at(num_len);
        let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
        if int_part.is_empty() && frac_part.is_empty() || frac_part.contains('.') {
            return None;
        }
        // Scale: 10^exp10 and 1024^exp2 multiply the number.
        let (exp10, exp2, format) = if suffix.is_empty() {
            (0, 0, Format::Decimal)
        } else if let Some((_, e)) = BINARY.iter().find(|(n, _)| *n == suffix) {
            (0, *e, Format::Binary)
        } else if let Some((_, e)) = DECIMAL.iter().find(|(n, _)| *n == suffix) {
            (*e, 0, Format::Decimal)
        } else if let Some(exp) = suffix.strip_prefix(['e', 'E']) {
            let e: i32 = exp.parse().ok().filter(|e: &i32| (-9..=18).contains(e))?;
            (e, 0, Format::Decimal)
        } else {
            return None;
        };
        // Digits as an integer with `frac_part.len()` implied decimals, then scaled to nanos.
        let digits = format!("{int_part}{frac_part}");
        let digits = digits.trim_start_matches('0');
        if digits.len() > 30 {
            return None;
        }
        let mantissa: i128 = if digits.is_empty() { 0 } else { digits.parse().ok()? };
        let mut nanos = mantissa.checked_mul(1024i128.checked_pow(exp2)?)?;
        let shift = exp10 + 9 - frac_part.len() as i32;
        if shift >= 0 {
            nanos = nanos.checked_mul(10i128.checked_pow(shift as u32)?)?;
        } else {
            // Finer than a nano: round up (away from zero), as Kubernetes does.
            let div = 10i128.checked_pow(shift.unsigned_abs())?;
            nanos = nanos / div + i128::from(nanos % div != 0);
        }
        Some(Quantity { nanos: if negative { -nanos } else { nanos }, format })
    }

    /// A plain number (base units) as a decimal quantity.
    fn from_number(n: Num) -> Option<Quantity> {
        let nanos = match n {
            Num::Int(i) => i128::from(i) * NANO,
            Num::Float(f) if f.is_finite() && f.abs() < 1e20 => (f * NANO as f64).round() as i128,
            Num::Float(_) => return None,
        };
        Some(Quantity { nanos, format: Format::Decimal })
    }

    /// The value in base units as a JSON number: an integer when whole.
    pub(crate) fn to_number(self) -> Value {
        if self.nanos % NANO == 0
            && let Ok(i) = i64::try_from(self.nanos / NANO)
        {
            return Value::from(i);
        }
        Num::Float(self.nanos as f64 / NANO as f64).into_value()
    }

    /// Canonical text: the largest suffix of the format that keeps the number whole.
    pub(crate) fn canonical(self) -> String {
        if self.nanos == 0 {
            return "0".into();
        }
        if self.format == Format::Binary && self.nanos % NANO == 0 {
            let units = self.nanos / NANO;
            for (suffix, e) in BINARY.iter().rev() {
                let div = 1024i128.pow(*e);
                if units % div == 0 {
                    return format!("{}{suffix}", units / div);
                }
            }
            return units.to_string();
        }
        // Decimal (and binary values with a fraction, which Kubernetes prints in decimal).
        const STEPS: [(&str, u32); 9] = [("E", 27), ("P", 24), ("T", 21), ("G", 18), ("M", 15), ("k", 12), ("", 9), ("m", 6), ("u", 3)];
        for (suffix, e) in STEPS {
            let div = 10i128.pow(e);
            if self.nanos % div == 0 {
                return format!("{}{suffix}", self.nanos / div);
            }
        }
        format!("{}n", self.nanos)
    }
}

/// A quantity from a template value: quantity text, or a number of base units.
fn quantity(v: &Value) -> Result<Quantity, FuncError> {
    let parsed = match v {
        Value::Number(_) => crate::template::value::to_number(v).ok().and_then(Quantity::from_number),
        Value::Null => Some(Quantity { nanos: 0, format: Format::Decimal }),
        _ => Quantity::parse(&text(v)),
    };
    parsed.ok_or_else(|| FuncError::Invalid { text: text(v), want: WANT })
}

pub(super) fn f_parse_quantity(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(quantity(&a[0])?.to_number())
}

pub(super) fn f_format_quantity(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let (format, q) = match a {
        [q] => (None, quantity(q)?),
        [format, q] => {
            let f = text(format);
            let format = match f.as_str() {
                "decimal" | "DecimalSI" => Format::Decimal,
                "binary" | "BinarySI" => Format::Binary,
                _ => return Err(FuncError::Invalid { text: f, want: WANT_FORMAT }),
            };
            (Some(format), quantity(q)?)
        }
        _ => return Err(FuncError::Usage { usage: "[FORMAT] QUANTITY" }),
    };
    string_value(Quantity { format: format.unwrap_or(q.format), ..q }.canonical())
}

pub(super) fn f_sum_quantity(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    // One list argument sums its items; otherwise every argument is a quantity.
    let items: Vec<&Value> = match a {
        [one] if one.is_array() => one.as_array().map(|l| l.iter().collect()).unwrap_or_default(),
        _ => a.iter().map(|v| &**v).collect(),
    };
    let mut total: Option<Quantity> = None;
    for item in items {
        let q = quantity(item)?;
        total = Some(match total {
            None => q,
            // The sum keeps the first quantity's format, as `Quantity.Add` keeps the receiver's.
            Some(t) => Quantity { nanos: t.nanos.checked_add(q.nanos).ok_or(FuncError::Overflow { func: "sumQuantity" })?, format: t.format },
        });
    }
    string_value(total.map(Quantity::canonical).unwrap_or_else(|| "0".into()))
}
