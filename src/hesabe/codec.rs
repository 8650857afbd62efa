//! HesabeCrypt: AES-256-CBC with the raw 32-byte key and 16-byte IV, lowercase hex on the wire.
//!
//! Hesabe's documentation pads requests with PKCS#7 on 16-byte blocks, its servers pad
//! responses to a 32-byte boundary (pad values 1..=32). One unpad rule reads both
//! (`specs/hesabe.md` §2.2–2.3). AES is the `aes` crate, CBC chaining the `cbc` crate and hex
//! the `hex` crate; this module only pads, unpads and moves bytes between them.

use aes::Aes256;
use aes::cipher::array::Array;
use aes::cipher::consts::U16;
use aes::cipher::{
    Block as CipherBlock, BlockModeDecrypt, BlockModeEncBackend, BlockModeEncClosure, BlockModeEncrypt, BlockSizeUser, InnerIvInit,
    KeyInit,
};
use zeroize::Zeroize;

use crate::error::{Error, Result};

type AesBlock = CipherBlock<Aes256>;

pub const KEY_LEN: usize = 32;
pub const IV_LEN: usize = 16;
/// The largest pad value Hesabe's unpad accepts (its 32-byte server scheme).
const MAX_PAD: usize = 32;

/// Padding scheme for [`Codec::encrypt`], named by its block size as in the Python API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    /// PKCS#7 on 16-byte blocks: what Hesabe's docs samples (and the seeds' requests) use.
    Pkcs7,
    /// Hesabe's server scheme: pad to a 32-byte boundary with 1..=32 bytes of value n.
    Hesabe32,
}

impl Block {
    pub fn from_size(size: u32) -> Result<Self> {
        match size {
            16 => Ok(Block::Pkcs7),
            32 => Ok(Block::Hesabe32),
            _ => Err(Error::validation("block", "must be 16 (PKCS#7) or 32 (Hesabe server scheme)")),
        }
    }

    fn size(self) -> usize {
        match self {
            Block::Pkcs7 => 16,
            Block::Hesabe32 => 32,
        }
    }
}

/// The codec for one merchant's key and IV. Key material is wiped when it is dropped: the
/// expanded AES key by `aes`'s `zeroize` feature, the IV here, and the per-call CBC states
/// (which hold the chaining value) by `cbc`'s.
pub struct Codec {
    cipher: Aes256,
    iv: [u8; IV_LEN],
}

impl Drop for Codec {
    fn drop(&mut self) {
        self.iv.zeroize();
    }
}

impl std::fmt::Debug for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Codec(<secret key>, <iv>)")
    }
}

impl Codec {
    /// Builds a codec from the raw key (32 bytes) and IV (16 bytes).
    pub fn new(key: &[u8], iv: &[u8]) -> Result<Self> {
        if key.len() != KEY_LEN {
            return Err(Error::Config(format!(
                "the Hesabe secret key must be exactly {KEY_LEN} bytes, got {}",
                key.len()
            )));
        }
        let iv: [u8; IV_LEN] = iv.try_into().map_err(|_| {
            Error::Config(format!("the Hesabe IV must be exactly {IV_LEN} bytes, got {}", iv.len()))
        })?;
        let cipher = Aes256::new_from_slice(key)
            .map_err(|_| Error::Config("the Hesabe secret key is not a valid AES-256 key".into()))?;
        Ok(Codec { cipher, iv })
    }

    /// Encrypts `plaintext` and returns lowercase hex.
    ///
    /// `cbc` chains the blocks straight from the plaintext where it lies; only the last one or
    /// two blocks, which carry the padding, are copied (onto the stack, wiped afterwards). The
    /// ciphertext is hex-encoded eight blocks at a time as it comes out (see [`CbcHex`]).
    pub fn encrypt(&self, plaintext: &[u8], block: Block) -> String {
        let mut out = String::new();
        self.encrypt_into(plaintext, block, &mut out);
        out
    }

    /// [`Codec::encrypt`], appending the hex to `out` (which a caller may reuse across calls).
    pub fn encrypt_into(&self, plaintext: &[u8], block: Block, out: &mut String) {
        out.reserve(encrypted_hex_len(plaintext.len(), block));
        let (body, rest) = Array::<u8, U16>::slice_as_chunks(plaintext);
        let size = block.size();
        let pad = size - plaintext.len() % size;
        let tail_len = rest.len() + pad; // 16 or 32
        let mut tail = [0u8; 2 * IV_LEN];
        let (text, padding) = tail.split_at_mut(rest.len());
        text.copy_from_slice(rest);
        padding.fill(pad as u8);
        let (tail_blocks, _) = Array::<u8, U16>::slice_as_chunks(tail.get(..tail_len).unwrap_or_default());
        let mut cbc = cbc::Encryptor::<&Aes256>::inner_iv_init(&self.cipher, &self.iv.into());
        cbc.encrypt_with_backend(CbcHex { body, tail: tail_blocks, out });
        tail.zeroize();
    }

    /// Decrypts hex (either case) and strips a pad of 1..=32 equal bytes.
    pub fn decrypt(&self, hex_text: &str) -> Result<String> {
        self.decrypt_bytes(hex_text.as_bytes())
    }

    pub fn decrypt_bytes(&self, hex_text: &[u8]) -> Result<String> {
        let mut plain = self.decrypt_to_bytes(hex_text)?;
        let mut bytes = std::mem::take(&mut plain.buf);
        bytes.truncate(plain.len);
        String::from_utf8(bytes).map_err(|e| {
            wipe(&mut e.into_bytes());
            bad_ciphertext()
        })
    }

    /// Decrypts hex (either case) and strips the pad, without checking that the plaintext is
    /// UTF-8. The buffer is wiped when it is dropped.
    ///
    /// The hex is decoded once into a buffer of the final size and CBC-decrypted in place
    /// (decryption, unlike encryption, runs several blocks in parallel).
    pub fn decrypt_to_bytes(&self, hex_text: &[u8]) -> Result<Plaintext> {
        // Ciphertext is whole 16-byte blocks: 32 hex digits each.
        if hex_text.is_empty() || !hex_text.len().is_multiple_of(2 * IV_LEN) {
            return Err(bad_ciphertext());
        }
        let mut plain = Plaintext { buf: vec![0u8; hex_text.len() / 2], len: 0 };
        faster_hex::hex_decode(hex_text, &mut plain.buf).map_err(|_| bad_ciphertext())?;
        let (blocks, _) = Array::<u8, U16>::slice_as_chunks_mut(&mut plain.buf);
        cbc::Decryptor::<&Aes256>::inner_iv_init(&self.cipher, &self.iv.into()).decrypt_blocks(blocks);
        plain.len = unpad_len(&plain.buf).ok_or_else(bad_ciphertext)?;
        Ok(plain)
    }
}

/// A decrypted payload: the plaintext and, past it, its padding. The whole buffer is wiped
/// when it is dropped.
pub struct Plaintext {
    buf: Vec<u8>,
    len: usize,
}

impl Plaintext {
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

impl Drop for Plaintext {
    fn drop(&mut self) {
        wipe(&mut self.buf);
    }
}

/// Overwrites `buf` with zeros in one `memset`, which the barrier keeps the compiler from
/// removing as a dead store. (`zeroize` on a `Vec<u8>` stores byte by byte through volatile
/// writes: 0.8 µs for 4 KB, a sixth of a decryption.)
fn wipe(buf: &mut [u8]) {
    buf.fill(0);
    zeroize::optimization_barrier(buf);
}

/// Length of the hex that [`Codec::encrypt`] makes of `plaintext_len` bytes.
pub fn encrypted_hex_len(plaintext_len: usize, block: Block) -> usize {
    let size = block.size();
    (plaintext_len - plaintext_len % size + size) * 2
}

/// Ciphertext blocks gathered on the stack before they are hex-encoded (see [`CbcHex`]).
const HEX_BATCH: usize = 8;

/// Runs inside `cbc`'s encryption backend: feeds it the blocks of `body` and then `tail`, and
/// appends the ciphertext to `out` as lowercase hex.
///
/// CBC encryption is one AES latency per block, serially; the profile (bench/README.md,
/// issue 9) found the chain 14 % longer than OpenSSL's when `cbc` wrote each block to the
/// caller's buffer: the compiler cannot rule out that this buffer overlaps `cbc`'s chaining
/// value, so it reloads that value from memory, a store-forwarding delay on every block.
/// Gathered into a local array instead, the chaining value stays in a register, and the hex
/// of one batch is computed while the next one's AES rounds are in flight.
struct CbcHex<'a> {
    body: &'a [AesBlock],
    tail: &'a [AesBlock],
    out: &'a mut String,
}

impl BlockSizeUser for CbcHex<'_> {
    type BlockSize = U16;
}

impl BlockModeEncClosure for CbcHex<'_> {
    #[inline(always)]
    fn call<B: BlockModeEncBackend<BlockSize = U16>>(self, backend: &mut B) {
        let mut ct = [AesBlock::default(); HEX_BATCH];
        let mut hex = [0u8; 2 * IV_LEN * HEX_BATCH];
        for blocks in [self.body, self.tail] {
            let (batches, rest) = blocks.as_chunks::<HEX_BATCH>();
            for batch in batches.iter().map(|b| &b[..]).chain([rest]) {
                let ct = ct.get_mut(..batch.len()).unwrap_or_default();
                for (block, out) in batch.iter().zip(ct.iter_mut()) {
                    backend.encrypt_block((block, out).into());
                }
                // Cannot fail: `hex` holds twice the bytes of `ct`.
                if let Ok(digits) = faster_hex::hex_encode(Array::slice_as_flattened(ct), &mut hex) {
                    self.out.push_str(digits);
                }
            }
        }
    }
}

/// Length of the plaintext once a pad of n equal bytes (1 ≤ n ≤ 32) is stripped.
fn unpad_len(plain: &[u8]) -> Option<usize> {
    let n = *plain.last()? as usize;
    if n == 0 || n > MAX_PAD || n > plain.len() {
        return None;
    }
    let (body, pad) = plain.split_at(plain.len() - n);
    pad.iter().all(|&b| b as usize == n).then_some(body.len())
}

/// One message for every failure, so that padding errors cannot be told apart.
pub const BAD_CIPHERTEXT: &str = "the Hesabe payload could not be decrypted (bad hex, length, padding or key)";

fn bad_ciphertext() -> Error {
    Error::Decryption(BAD_CIPHERTEXT.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"PkW64zMe5NVdrlPVNnjo2Jy9nOb7v1Xg";
    const IV: &[u8] = b"5NVdrlPVNnjo2Jy9";

    fn codec() -> Codec {
        Codec::new(KEY, IV).unwrap()
    }

    fn unhex(text: &str) -> Vec<u8> {
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn v1_vector_both_schemes() {
        let v1 = "0e7898bd7464d0c402fe8a949d9cbf9b826ccb9b83b56fa003373275f1947a65";
        assert_eq!(codec().encrypt(br#"{"merchantCode":"842217"}"#, Block::Pkcs7), v1);
        assert_eq!(codec().encrypt(br#"{"merchantCode":"842217"}"#, Block::Hesabe32), v1);
        assert_eq!(codec().decrypt(v1).unwrap(), r#"{"merchantCode":"842217"}"#);
        assert_eq!(codec().decrypt(&v1.to_uppercase()).unwrap(), r#"{"merchantCode":"842217"}"#);
    }

    /// NIST SP 800-38A, F.2.5 (CBC-AES256.Encrypt): an outside reference for the AES-256-CBC
    /// underneath. The four plaintext blocks are whole, so the codec's output is the NIST
    /// ciphertext followed by one block of padding.
    #[test]
    fn nist_sp800_38a_cbc_aes256() {
        let key = unhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
        let iv = unhex("000102030405060708090a0b0c0d0e0f");
        let plain = unhex(concat!(
            "6bc1bee22e409f96e93d7e117393172a",
            "ae2d8a571e03ac9c9eb76fac45af8e51",
            "30c81c46a35ce411e5fbc1191a0a52ef",
            "f69f2445df4f9b17ad2b417be66c3710",
        ));
        let want = concat!(
            "f58c4c04d6e5f1ba779eabfb5f7bfbd6",
            "9cfc4e967edb808d679f777bc6702c7d",
            "39f23369a9d9bacfa530e26304231461",
            "b2eb05e2c39be9fcda6c19078c6a9d1b",
        );
        let c = Codec::new(&key, &iv).unwrap();
        for block in [Block::Pkcs7, Block::Hesabe32] {
            let hex = c.encrypt(&plain, block);
            assert_eq!(&hex[..128], want);
            assert_eq!(hex.len(), 128 + 2 * block.size());
            assert_eq!(c.decrypt_to_bytes(hex.as_bytes()).unwrap().as_bytes(), &plain[..]);
        }
    }

    #[test]
    fn encrypt_into_appends_and_a_reused_buffer_holds_only_the_new_hex() {
        let mut out = String::from("data=");
        codec().encrypt_into(br#"{"merchantCode":"842217"}"#, Block::Pkcs7, &mut out);
        assert_eq!(out, "data=0e7898bd7464d0c402fe8a949d9cbf9b826ccb9b83b56fa003373275f1947a65");
        // Long, then short, then long again through one buffer (as the Python binding does).
        for len in [4096, 5, 300, 0, 129] {
            let text = vec![b'q'; len];
            out.clear();
            codec().encrypt_into(&text, Block::Hesabe32, &mut out);
            assert_eq!(out, codec().encrypt(&text, Block::Hesabe32));
            assert_eq!(codec().decrypt_to_bytes(out.as_bytes()).unwrap().as_bytes(), &text[..]);
        }
    }

    #[test]
    fn pad_of_32_on_aligned_text() {
        let text = [b'a'; 64];
        let hex32 = codec().encrypt(&text, Block::Hesabe32);
        assert_eq!(hex32.len(), (64 + 32) * 2);
        let hex16 = codec().encrypt(&text, Block::Pkcs7);
        assert_eq!(hex16.len(), (64 + 16) * 2);
        for h in [hex32, hex16] {
            assert_eq!(codec().decrypt(&h).unwrap().as_bytes(), &text);
        }
    }

    #[test]
    fn every_pad_value_from_1_to_32_is_accepted() {
        // Plaintext whose last n bytes are n, encrypted whole (CBC is a prefix code: dropping
        // the hex of the codec's own padding block leaves exactly those blocks' ciphertext).
        for n in 1..=32usize {
            let mut plain = vec![b'{'; 64 - n];
            plain.resize(64, n as u8);
            let hex = codec().encrypt(&plain, Block::Pkcs7);
            assert_eq!(codec().decrypt(&hex[..128]).unwrap().as_bytes(), &plain[..64 - n], "pad {n}");
        }
    }

    #[test]
    fn every_length_round_trips() {
        for len in (0..300).chain([479, 480, 481, 959, 960, 4095, 4096, 4097]) {
            let text = "é".repeat(len);
            for block in [Block::Pkcs7, Block::Hesabe32] {
                let hex = codec().encrypt(text.as_bytes(), block);
                assert_eq!(hex.len(), encrypted_hex_len(text.len(), block));
                assert!(hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
                assert_eq!(codec().decrypt(&hex).unwrap(), text);
                assert_eq!(codec().decrypt(&hex.to_uppercase()).unwrap(), text);
            }
        }
    }

    #[test]
    fn rejects_bad_input_without_panicking() {
        let good = codec().encrypt(b"hello", Block::Pkcs7);
        let not_hex = format!("{}g", &good[..good.len() - 1]);
        for bad in ["", "0", "zz", &good[..30], &good[..good.len() - 1], "00112233445566778899aabbccddeeff", &not_hex] {
            assert!(matches!(codec().decrypt(bad), Err(Error::Decryption(_))), "{bad}");
        }
        // a wrong key yields garbage padding
        let other = Codec::new(&[b'x'; 32], IV).unwrap();
        assert!(other.decrypt(&good).is_err());
    }

    #[test]
    fn pad_values_33_and_0_are_rejected() {
        for n in [0u8, 33, 48] {
            let mut block = vec![b'{'; 32];
            block.resize(48, n);
            let hex = codec().encrypt(&block, Block::Pkcs7);
            assert!(matches!(codec().decrypt(&hex[..96]), Err(Error::Decryption(_))), "pad {n}");
        }
    }

    #[test]
    fn invalid_utf8_is_rejected() {
        let ct = codec().encrypt(&[0xff, 0xfe, 0x80], Block::Pkcs7);
        assert!(matches!(codec().decrypt(&ct), Err(Error::Decryption(_))));
    }

    #[test]
    fn wrong_sizes_are_config_errors() {
        assert!(matches!(Codec::new(&KEY[..31], IV), Err(Error::Config(_))));
        assert!(matches!(Codec::new(KEY, &IV[..15]), Err(Error::Config(_))));
        let msg = Codec::new(&KEY[..31], IV).unwrap_err().to_string();
        assert!(!msg.contains("PkW64"));
    }
}
