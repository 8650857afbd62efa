//! HMAC-SHA256 (RFC 2104) for webhook signatures, with the key absorbed once.
//!
//! The key's two padded blocks are compressed when the key is set, so a signature costs only
//! the message's blocks plus one outer block. The keyed states and every intermediate buffer
//! are wiped on drop, which the `hmac` crate does not offer. SHA-256 itself is `sha2`'s
//! compression function (SHA-NI when the CPU has it); tests check this against RFC 4231 and
//! against the `hmac` crate on random keys and messages.

use sha2::compress256;
use sha2::digest::generic_array::GenericArray;
use zeroize::Zeroize;

const BLOCK: usize = 64;
const INITIAL: [u32; 8] = [0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19];

/// A SHA-256 computation in progress; wiped on drop.
struct Sha256Stream {
    state: [u32; 8],
    buffer: [u8; BLOCK],
    buffered: usize,
    /// Bytes absorbed so far, the buffered ones included.
    total: u64,
}

impl Sha256Stream {
    fn new() -> Self {
        Sha256Stream { state: INITIAL, buffer: [0; BLOCK], buffered: 0, total: 0 }
    }

    /// Resumes from the state after one (key) block.
    fn after_key_block(state: [u32; 8]) -> Self {
        Sha256Stream { state, buffer: [0; BLOCK], buffered: 0, total: BLOCK as u64 }
    }

    fn compress(state: &mut [u32; 8], block: &[u8]) {
        compress256(state, std::slice::from_ref(GenericArray::from_slice(block)));
    }

    fn update(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        if self.buffered > 0 {
            let take = (BLOCK - self.buffered).min(data.len());
            self.buffer[self.buffered..self.buffered + take].copy_from_slice(&data[..take]);
            self.buffered += take;
            data = &data[take..];
            if self.buffered < BLOCK {
                return;
            }
            Self::compress(&mut self.state, &self.buffer);
            self.buffered = 0;
        }
        let mut blocks = data.chunks_exact(BLOCK);
        for block in &mut blocks {
            Self::compress(&mut self.state, block);
        }
        let rest = blocks.remainder();
        self.buffer[..rest.len()].copy_from_slice(rest);
        self.buffered = rest.len();
    }

    /// Pads (0x80, zeros, the length in bits, big-endian) and returns the digest.
    fn finish(mut self) -> [u8; 32] {
        let bits = self.total.wrapping_mul(8);
        let mut at = self.buffered;
        self.buffer[at] = 0x80;
        at += 1;
        if at > BLOCK - 8 {
            self.buffer[at..].fill(0);
            Self::compress(&mut self.state, &self.buffer);
            at = 0;
        }
        self.buffer[at..BLOCK - 8].fill(0);
        self.buffer[BLOCK - 8..].copy_from_slice(&bits.to_be_bytes());
        Self::compress(&mut self.state, &self.buffer);
        let mut digest = [0u8; 32];
        for (out, word) in digest.chunks_exact_mut(4).zip(self.state) {
            out.copy_from_slice(&word.to_be_bytes());
        }
        digest
    }
}

impl Drop for Sha256Stream {
    fn drop(&mut self) {
        self.state.zeroize();
        self.buffer.zeroize();
    }
}

/// An HMAC-SHA256 key, ready to sign: the states after `key ⊕ ipad` and `key ⊕ opad`.
#[derive(Clone)]
pub struct HmacKey {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl HmacKey {
    pub fn new(key: &[u8]) -> Self {
        let mut block = [0u8; BLOCK];
        if key.len() > BLOCK {
            let mut hashed = Sha256Stream::new();
            hashed.update(key);
            let mut digest = hashed.finish();
            block[..32].copy_from_slice(&digest);
            digest.zeroize();
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let mut keyed = |pad: u8| {
            let mut state = INITIAL;
            block.iter_mut().for_each(|b| *b ^= pad);
            Sha256Stream::compress(&mut state, &block);
            block.iter_mut().for_each(|b| *b ^= pad);
            state
        };
        let (inner, outer) = (keyed(0x36), keyed(0x5c));
        block.zeroize();
        HmacKey { inner, outer }
    }

    /// The MAC of the concatenation of `parts`.
    pub fn sign(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut inner = Sha256Stream::after_key_block(self.inner);
        for part in parts {
            inner.update(part);
        }
        let mut inner_digest = inner.finish();
        let mut outer = Sha256Stream::after_key_block(self.outer);
        outer.update(&inner_digest);
        inner_digest.zeroize();
        outer.finish()
    }
}

impl Drop for HmacKey {
    fn drop(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use hmac::{Hmac, Mac};

    use super::HmacKey;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn rfc_4231_vectors() {
        let cases: [(&[u8], &[u8], &str); 4] = [
            (&[0x0b; 20], b"Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (b"Jefe", b"what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            (&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First", "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            (
                &[0xaa; 131],
                b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
            ),
        ];
        for (key, data, want) in cases {
            assert_eq!(hex(&HmacKey::new(key).sign(&[data])), want);
        }
    }

    #[test]
    fn same_as_the_hmac_crate_for_every_length() {
        // Every message length across several blocks, split into parts at varying points, and
        // keys shorter than, equal to and longer than a block.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        };
        for key_len in [0, 1, 32, 63, 64, 65, 200] {
            let key: Vec<u8> = (0..key_len).map(|_| next()).collect();
            let ours = HmacKey::new(&key);
            for len in 0..300 {
                let data: Vec<u8> = (0..len).map(|_| next()).collect();
                let split = usize::from(next()) % (len + 1);
                let mut theirs = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
                theirs.update(&data);
                let want = theirs.finalize().into_bytes();
                assert_eq!(ours.sign(&[&data[..split], b"", &data[split..]])[..], want[..], "key {key_len} data {len} split {split}");
            }
        }
    }
}
