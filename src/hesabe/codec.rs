//! HesabeCrypt: AES-256-CBC with the raw 32-byte key and 16-byte IV, lowercase hex on the wire.
//!
//! Hesabe's documentation pads requests with PKCS#7 on 16-byte blocks, its servers pad
//! responses to a 32-byte boundary (pad values 1..=32). One unpad rule reads both
//! (`specs/hesabe.md` §2.2–2.3).

use aes::Aes256;
use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, InnerIvInit, KeyInit};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};

type Enc = cbc::Encryptor<Aes256>;
type Dec = cbc::Decryptor<Aes256>;

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

/// The codec for one merchant's key and IV. Key material is wiped when it is dropped
/// (the expanded AES key by `aes`'s `zeroize` feature, the IV here).
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
    pub fn encrypt(&self, plaintext: &[u8], block: Block) -> String {
        let size = block.size();
        let pad = size - plaintext.len() % size;
        let mut buf = Zeroizing::new(Vec::with_capacity(plaintext.len() + pad));
        buf.extend_from_slice(plaintext);
        buf.resize(plaintext.len() + pad, pad as u8);
        let len = buf.len();
        let enc = Enc::inner_iv_init(self.cipher.clone(), &self.iv.into());
        // The buffer is already padded to a multiple of 16, so NoPadding cannot fail.
        match enc.encrypt_padded::<NoPadding>(&mut buf, len) {
            Ok(ciphertext) => hex::encode(ciphertext),
            Err(_) => unreachable_padding(),
        }
    }

    /// Decrypts hex (either case) and strips a pad of 1..=32 equal bytes.
    pub fn decrypt(&self, hex_text: &str) -> Result<String> {
        self.decrypt_bytes(hex_text.as_bytes())
    }

    pub fn decrypt_bytes(&self, hex_text: &[u8]) -> Result<String> {
        if hex_text.is_empty() || !hex_text.len().is_multiple_of(2) {
            return Err(bad_ciphertext());
        }
        let mut buf = hex::decode(hex_text).map_err(|_| bad_ciphertext())?;
        if !buf.len().is_multiple_of(16) {
            return Err(bad_ciphertext());
        }
        let dec = Dec::inner_iv_init(self.cipher.clone(), &self.iv.into());
        let plain_len = match dec.decrypt_padded::<NoPadding>(&mut buf) {
            Ok(plain) => unpad_len(plain),
            Err(_) => None,
        };
        let Some(plain_len) = plain_len else {
            buf.zeroize();
            return Err(bad_ciphertext());
        };
        buf.truncate(plain_len);
        String::from_utf8(buf).map_err(|e| {
            let mut bytes = e.into_bytes();
            bytes.zeroize();
            bad_ciphertext()
        })
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
fn bad_ciphertext() -> Error {
    Error::Decryption("the Hesabe payload could not be decrypted (bad hex, length, padding or key)".into())
}

#[cold]
fn unreachable_padding() -> String {
    // encrypt_padded::<NoPadding> only fails on unaligned input, which encrypt() never builds.
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"PkW64zMe5NVdrlPVNnjo2Jy9nOb7v1Xg";
    const IV: &[u8] = b"5NVdrlPVNnjo2Jy9";

    fn codec() -> Codec {
        Codec::new(KEY, IV).unwrap()
    }

    #[test]
    fn v1_vector_both_schemes() {
        let v1 = "0e7898bd7464d0c402fe8a949d9cbf9b826ccb9b83b56fa003373275f1947a65";
        assert_eq!(codec().encrypt(br#"{"merchantCode":"842217"}"#, Block::Pkcs7), v1);
        assert_eq!(codec().encrypt(br#"{"merchantCode":"842217"}"#, Block::Hesabe32), v1);
        assert_eq!(codec().decrypt(v1).unwrap(), r#"{"merchantCode":"842217"}"#);
        assert_eq!(codec().decrypt(&v1.to_uppercase()).unwrap(), r#"{"merchantCode":"842217"}"#);
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
    fn every_length_round_trips() {
        for len in 0..100 {
            let text = "é".repeat(len);
            for block in [Block::Pkcs7, Block::Hesabe32] {
                assert_eq!(codec().decrypt(&codec().encrypt(text.as_bytes(), block)).unwrap(), text);
            }
        }
    }

    #[test]
    fn rejects_bad_input_without_panicking() {
        let good = codec().encrypt(b"hello", Block::Pkcs7);
        for bad in ["", "0", "zz", &good[..30], &good[..good.len() - 1], "00112233445566778899aabbccddeeff"] {
            assert!(matches!(codec().decrypt(bad), Err(Error::Decryption(_))), "{bad}");
        }
        // a wrong key yields garbage padding
        let other = Codec::new(&[b'x'; 32], IV).unwrap();
        assert!(other.decrypt(&good).is_err());
    }

    #[test]
    fn pad_values_33_and_0_are_rejected() {
        for n in [0u8, 33, 48] {
            let mut block = vec![b'{'; 48];
            let len = block.len();
            for b in &mut block[len - 16..] {
                *b = n;
            }
            let enc = Enc::inner_iv_init(codec().cipher.clone(), &codec().iv.into());
            let ct = enc.encrypt_padded::<NoPadding>(&mut block, len).unwrap().to_vec();
            assert!(codec().decrypt(&hex::encode(ct)).is_err());
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
