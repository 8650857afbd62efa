//! Money rules shared by every vendor: exact decimal amounts in the currency's own decimals.
//!
//! Amounts reach Rust as decimal text (Python formats its `Decimal` with `format(d, "f")`),
//! never as floats, and leave as exact JSON literals.

use crate::error::{Error, Result};

/// The currencies posbridge moves, with their minor-unit decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Currency {
    Kwd,
    Cad,
    Usd,
}

impl Currency {
    pub fn parse(code: &str) -> Result<Self> {
        match code.trim().to_ascii_uppercase().as_str() {
            "KWD" => Ok(Currency::Kwd),
            "CAD" => Ok(Currency::Cad),
            "USD" => Ok(Currency::Usd),
            _ => Err(Error::validation("currency", format!("unsupported currency {code:?}: use KWD, CAD or USD"))),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Currency::Kwd => "KWD",
            Currency::Cad => "CAD",
            Currency::Usd => "USD",
        }
    }

    pub fn decimals(self) -> u32 {
        match self {
            Currency::Kwd => 3,
            Currency::Cad | Currency::Usd => 2,
        }
    }
}

/// Largest amount accepted in one request, in major units: a guard against typos
/// (a price pasted into the quantity field), far above any counter sale.
pub const MAX_MAJOR_UNITS: u64 = 1_000_000;

/// A positive amount in minor units of its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount {
    minor: u64,
    currency: Currency,
}

impl Amount {
    /// Parses decimal text such as `"0.100"`. Zero, negative, non-finite, malformed and
    /// over-precise amounts are `Validation` errors naming `field`.
    pub fn parse(field: &str, text: &str, currency: Currency) -> Result<Self> {
        let text = text.trim();
        let bad = |why: &str| Error::validation(field, format!("{why} (got {text:?})"));
        let lower = text.to_ascii_lowercase();
        if lower.contains("nan") || lower.contains("inf") {
            return Err(bad("amount must be a finite number"));
        }
        if text.starts_with('-') {
            return Err(bad("amount must be greater than zero"));
        }
        let (int_part, frac_part) = match text.split_once('.') {
            Some((i, f)) => (i, f),
            None => (text, ""),
        };
        let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int_part.is_empty() || !digits_only(int_part) || !digits_only(frac_part) || (text.contains('.') && frac_part.is_empty()) {
            return Err(bad("amount must be a plain decimal number such as 1.250"));
        }
        let decimals = currency.decimals() as usize;
        let significant = frac_part.trim_end_matches('0');
        if significant.len() > decimals {
            return Err(bad(&format!("{} allows at most {decimals} decimals", currency.code())));
        }
        let int_digits = int_part.trim_start_matches('0');
        if int_digits.len() > 7 {
            return Err(bad(&format!("amount must not exceed {MAX_MAJOR_UNITS}")));
        }
        let major: u64 = if int_digits.is_empty() { 0 } else { int_digits.parse().map_err(|_| bad("amount is not a number"))? };
        let mut frac: u64 = 0;
        for i in 0..decimals {
            let digit = significant.as_bytes().get(i).map_or(0, |b| u64::from(b - b'0'));
            frac = frac * 10 + digit;
        }
        let minor = major * 10u64.pow(decimals as u32) + frac;
        if minor == 0 {
            return Err(bad("amount must be greater than zero"));
        }
        if major > MAX_MAJOR_UNITS || (major == MAX_MAJOR_UNITS && frac > 0) {
            return Err(bad(&format!("amount must not exceed {MAX_MAJOR_UNITS}")));
        }
        Ok(Amount { minor, currency })
    }

    pub fn currency(self) -> Currency {
        self.currency
    }

    pub fn minor_units(self) -> u64 {
        self.minor
    }

    /// This amount plus `basis_points` hundredths of a percent of it, rounded half up to the
    /// currency's minor unit (a surcharge): 100.00 plus 350 bp is 103.50.
    pub fn plus_basis_points(self, basis_points: u32) -> Amount {
        let surcharge = (u128::from(self.minor) * u128::from(basis_points) + 5_000) / 10_000;
        let minor = u64::try_from(u128::from(self.minor) + surcharge).unwrap_or(u64::MAX);
        Amount { minor, currency: self.currency }
    }

    /// All of the currency's decimals: `"0.100"` for KWD, `"10.99"` for CAD.
    pub fn fixed(self) -> String {
        let scale = 10u64.pow(self.currency.decimals());
        format!("{}.{:0width$}", self.minor / scale, self.minor % scale, width = self.currency.decimals() as usize)
    }

    /// Shortest form, as JavaScript's `JSON.stringify` writes the number: `0.1`, `10`, `1.25`.
    pub fn shortest(self) -> String {
        let fixed = self.fixed();
        fixed.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kwd(s: &str) -> Result<Amount> {
        Amount::parse("amount", s, Currency::Kwd)
    }

    #[test]
    fn surcharge_rounds_half_up_to_the_minor_unit() {
        let cad = |s: &str| Amount::parse("amount", s, Currency::Cad).unwrap();
        assert_eq!(cad("100.00").plus_basis_points(350).fixed(), "103.50");
        assert_eq!(cad("10.99").plus_basis_points(350).fixed(), "11.37"); // 0.38465 → 0.38
        assert_eq!(cad("0.10").plus_basis_points(500).fixed(), "0.11"); // 0.005 → 0.01
        assert_eq!(cad("0.10").plus_basis_points(0).fixed(), "0.10");
        assert_eq!(kwd("1.000").unwrap().plus_basis_points(250).fixed(), "1.025");
    }

    #[test]
    fn forms() {
        assert_eq!(kwd("0.100").unwrap().shortest(), "0.1");
        assert_eq!(kwd("0.100").unwrap().fixed(), "0.100");
        assert_eq!(kwd("10").unwrap().shortest(), "10");
        assert_eq!(kwd("10.000").unwrap().fixed(), "10.000");
        assert_eq!(kwd("1.25").unwrap().shortest(), "1.25");
        assert_eq!(kwd("0.1000").unwrap().fixed(), "0.100");
        assert_eq!(Amount::parse("amount", "10.9", Currency::Cad).unwrap().fixed(), "10.90");
        assert_eq!(kwd("1000000").unwrap().fixed(), "1000000.000");
    }

    #[test]
    fn rejections() {
        for bad in ["0", "0.000", "-1", "1.2345", "NaN", "Infinity", "", ".5", "5.", "1e3", "abc", "1,5", "1000000.001", "99999999"] {
            assert!(matches!(kwd(bad), Err(Error::Validation { .. })), "{bad}");
        }
        assert!(Amount::parse("amount", "1.001", Currency::Usd).is_err());
        assert!(Currency::parse("EUR").is_err());
    }
}
