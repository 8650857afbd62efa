//! Identifiers that look like the vendor's, from a xorshift generator seeded by the clock.
//! Not cryptographic: sandbox tokens only need to be unguessable by accident.

use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) struct Xorshift(u64);

impl Xorshift {
    pub fn from_clock() -> Self {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let marker = 0u8;
        let address = &marker as *const u8 as usize as u64;
        let seed = splitmix64((nanos as u64) ^ address.rotate_left(32) ^ u64::from(std::process::id()));
        Xorshift(seed | 1)
    }

    /// xorshift64*
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| {
                let i = (self.next_u64() % alphabet.len() as u64) as usize;
                char::from(alphabet.get(i).copied().unwrap_or(b'0'))
            })
            .collect()
    }

    pub fn digits(&mut self, len: usize) -> String {
        self.pick(b"0123456789", len)
    }

    pub fn hex(&mut self, len: usize) -> String {
        self.pick(b"0123456789abcdef", len)
    }

    /// Upper-case letters and digits, like an invoice `access_key` ("95366WQ9").
    pub fn key(&mut self, len: usize) -> String {
        self.pick(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", len)
    }

    /// Letters and digits, like the 27 characters after `msg_` in a Svix webhook-id.
    pub fn base62(&mut self, len: usize) -> String {
        self.pick(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", len)
    }

    /// URL-safe base64 alphabet, for JWT-looking access tokens.
    pub fn base64url(&mut self, len: usize) -> String {
        self.pick(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", len)
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let mut rng = Xorshift::from_clock();
        let d = rng.digits(10);
        assert_eq!(d.len(), 10);
        assert!(d.bytes().all(|b| b.is_ascii_digit()));
        assert!(rng.hex(64).bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_ne!(rng.digits(20), rng.digits(20));
        assert!(rng.base62(27).bytes().all(|b| b.is_ascii_alphanumeric()));
    }
}
