//! AES-256-CBC decryption with VAES: two blocks per instruction in 256-bit registers.
//!
//! The `aes` crate uses VAES only where the OS also saves AVX-512 state (its feature check
//! asks for ZMM registers), so on CPUs with VAES but no AVX-512 (AMD Zen 3, Intel Alder
//! Lake and later client cores) it decrypts one block per instruction with AES-NI. This
//! module covers that case for the one operation that is parallel, CBC decryption, in runs of
//! 16 blocks; [`super::codec`] does whatever is left with the `aes` crate. Tests compare it
//! with the `cbc` crate for every length class, and the key schedule with `aes` through it.

use core::arch::x86_64::{
    __m128i, _mm_aesimc_si128, _mm_aeskeygenassist_si128, _mm_loadu_si128, _mm_shuffle_epi32, _mm_slli_si128,
    _mm_storeu_si128, _mm_xor_si128, _mm256_aesdec_epi128, _mm256_aesdeclast_epi128, _mm256_broadcastsi128_si256,
    _mm256_castsi256_si128, _mm256_extracti128_si256, _mm256_loadu_si256, _mm256_set_m128i, _mm256_storeu_si256,
    _mm256_xor_si256,
};

use zeroize::Zeroize;

const ROUND_KEYS: usize = 15;
/// Blocks per run: eight 256-bit registers of two blocks.
pub const RUN_BLOCKS: usize = 16;
const RUN_BYTES: usize = RUN_BLOCKS * 16;

/// The decryption round keys (equivalent inverse cipher) of one AES-256 key; wiped on drop.
pub struct DecryptKeys {
    keys: [[u8; 16]; ROUND_KEYS],
}

impl Drop for DecryptKeys {
    fn drop(&mut self) {
        self.keys.zeroize();
    }
}

impl DecryptKeys {
    /// The round keys for `key`, or `None` when this CPU has no VAES (then nothing here runs).
    pub fn new(key: &[u8; 32]) -> Option<Self> {
        let available = std::is_x86_feature_detected!("vaes") && std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("aes");
        // SAFETY: AES-NI was detected on this CPU just above.
        available.then(|| unsafe { expand(key) })
    }

    /// CBC-decrypts the whole 16-block runs at the start of `buf` in place, chaining from
    /// `iv`. Returns the number of bytes done and the chaining value for the rest.
    pub fn decrypt_runs(&self, iv: [u8; 16], buf: &mut [u8]) -> (usize, [u8; 16]) {
        // SAFETY: a `DecryptKeys` exists only where `new` detected VAES, AVX2 and AES-NI.
        unsafe { decrypt_runs(&self.keys, iv, buf) }
    }
}

#[inline]
#[target_feature(enable = "aes")]
fn load(bytes: &[u8; 16]) -> __m128i {
    // SAFETY: 16 readable bytes; no alignment needed.
    unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) }
}

#[inline]
#[target_feature(enable = "aes")]
fn store(v: __m128i) -> [u8; 16] {
    let mut out = [0u8; 16];
    // SAFETY: 16 writable bytes; no alignment needed.
    unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), v) };
    out
}

/// `k ^ (k << 32) ^ (k << 64) ^ (k << 96) ^ t`: one step of the AES-256 key schedule.
#[inline]
#[target_feature(enable = "aes")]
fn schedule_step(mut k: __m128i, t: __m128i) -> __m128i {
    let mut shifted = _mm_slli_si128::<4>(k);
    k = _mm_xor_si128(k, shifted);
    shifted = _mm_slli_si128::<4>(shifted);
    k = _mm_xor_si128(k, shifted);
    shifted = _mm_slli_si128::<4>(shifted);
    k = _mm_xor_si128(k, shifted);
    _mm_xor_si128(k, t)
}

/// FIPS-197's AES-256 key expansion with AESKEYGENASSIST, then InvMixColumns on the inner
/// round keys for the equivalent inverse cipher (AESDEC's), in decryption order.
#[target_feature(enable = "aes")]
fn expand(key: &[u8; 32]) -> DecryptKeys {
    let first = <[u8; 16]>::try_from(&key[..16]).unwrap_or_default();
    let second = <[u8; 16]>::try_from(&key[16..]).unwrap_or_default();
    let mut enc = [[0u8; 16]; ROUND_KEYS];
    let (mut k0, mut k1) = (load(&first), load(&second));
    enc[0] = store(k0);
    enc[1] = store(k1);
    macro_rules! rounds {
        ($($i:literal => $rcon:literal),*) => {$(
            k0 = schedule_step(k0, _mm_shuffle_epi32::<0xff>(_mm_aeskeygenassist_si128::<$rcon>(k1)));
            enc[2 * $i] = store(k0);
            k1 = schedule_step(k1, _mm_shuffle_epi32::<0xaa>(_mm_aeskeygenassist_si128::<0>(k0)));
            enc[2 * $i + 1] = store(k1);
        )*};
    }
    rounds!(1 => 0x01, 2 => 0x02, 3 => 0x04, 4 => 0x08, 5 => 0x10, 6 => 0x20);
    // The fifteenth round key is the last: no odd step after it.
    k0 = schedule_step(k0, _mm_shuffle_epi32::<0xff>(_mm_aeskeygenassist_si128::<0x40>(k1)));
    enc[14] = store(k0);
    let mut keys = [[0u8; 16]; ROUND_KEYS];
    for (i, key) in keys.iter_mut().enumerate() {
        let source = &enc[ROUND_KEYS - 1 - i];
        *key = if i == 0 || i == ROUND_KEYS - 1 { *source } else { store(_mm_aesimc_si128(load(source))) };
    }
    enc.zeroize();
    DecryptKeys { keys }
}

#[target_feature(enable = "avx2,vaes,aes")]
fn decrypt_runs(keys: &[[u8; 16]; ROUND_KEYS], iv: [u8; 16], buf: &mut [u8]) -> (usize, [u8; 16]) {
    let mut k = [_mm256_broadcastsi128_si256(load(&keys[0])); ROUND_KEYS];
    for (k, key) in k.iter_mut().zip(keys) {
        *k = _mm256_broadcastsi128_si256(load(key));
    }
    let mut carry = load(&iv);
    let mut done = 0;
    for run in buf.chunks_exact_mut(RUN_BYTES) {
        let Ok(run) = <&mut [u8; RUN_BYTES]>::try_from(run) else { break };
        let mut x = [k[0]; 8];
        let mut chain = [k[0]; 8];
        for j in 0..8 {
            // SAFETY: in-bounds 32-byte windows of `run` (slicing checks), no alignment needed.
            let cipher = unsafe { _mm256_loadu_si256(run[32 * j..32 * j + 32].as_ptr().cast()) };
            // Each pair's chaining blocks: the ciphertext one block earlier; the run's first
            // block chains from the carry (the previous run's last block, or the IV).
            chain[j] = if j == 0 {
                _mm256_set_m128i(_mm256_castsi256_si128(cipher), carry)
            } else {
                // SAFETY: as above.
                unsafe { _mm256_loadu_si256(run[32 * j - 16..32 * j + 16].as_ptr().cast()) }
            };
            if j == 7 {
                carry = _mm256_extracti128_si256::<1>(cipher);
            }
            x[j] = _mm256_xor_si256(cipher, k[0]);
        }
        for key in &k[1..ROUND_KEYS - 1] {
            for v in &mut x {
                *v = _mm256_aesdec_epi128(*v, *key);
            }
        }
        for j in 0..8 {
            let plain = _mm256_xor_si256(_mm256_aesdeclast_epi128(x[j], k[ROUND_KEYS - 1]), chain[j]);
            // SAFETY: as above.
            unsafe { _mm256_storeu_si256(run[32 * j..32 * j + 32].as_mut_ptr().cast(), plain) };
        }
        done += RUN_BYTES;
    }
    (done, store(carry))
}
