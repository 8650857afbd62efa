//! Hex encoding and decoding into caller-sized buffers, for the Hesabe codec's hot path.
//!
//! The `hex` crate collects a `String` char by char and decodes through a `Result` iterator:
//! on a 4 KB payload that was most of the codec's time. Here both directions write straight
//! into a buffer the caller sized once. On x86_64 they work 16 bytes at a time with SSE2,
//! which every x86_64 CPU has (it is part of the target's baseline, so there is nothing to
//! detect at run time); elsewhere, and for the last bytes, a table does one byte at a time.
//! Both paths are tested against each other and against the `hex` crate.

/// Lowercase hex digits.
const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Every byte's two lowercase hex digits.
static ENCODE: [[u8; 2]; 256] = {
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [DIGITS[i >> 4], DIGITS[i & 0xf]];
        i += 1;
    }
    table
};

/// Marks a byte that is not a hex digit in [`DECODE`]; any value with a high nibble set works.
const INVALID: u8 = 0xff;

/// Every byte's value as a hex digit (either case), or [`INVALID`].
static DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// The input was not hex: odd length, a byte that is not a digit, or an output buffer of the
/// wrong size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidHex;

/// Writes the lowercase hex of `src` into `dst`, which must be exactly twice as long.
pub fn encode_into(src: &[u8], dst: &mut [u8]) -> Result<(), InvalidHex> {
    if dst.len() != src.len().wrapping_mul(2) || src.len() > usize::MAX / 2 {
        return Err(InvalidHex);
    }
    let src_blocks = src.chunks_exact(16);
    let src_rest = src_blocks.remainder();
    let mut dst_blocks = dst.chunks_exact_mut(32);
    for (s, d) in src_blocks.zip(&mut dst_blocks) {
        if let (Ok(s), Ok(d)) = (<&[u8; 16]>::try_from(s), <&mut [u8; 32]>::try_from(d)) {
            encode_block(s, d);
        }
    }
    encode_scalar(src_rest, dst_blocks.into_remainder());
    Ok(())
}

/// The lowercase hex of `src` as a `String`, built in one allocation.
pub fn encode(src: &[u8]) -> String {
    let mut out = vec![0u8; src.len() * 2];
    // Only fails when the buffer has the wrong size, which it cannot have here.
    let _ = encode_into(src, &mut out);
    ascii_string(out)
}

/// Turns a buffer of ASCII into a `String` without a second pass over it.
///
/// The encoders of this module only ever store bytes of `DIGITS`, and a buffer they fill
/// starts out as zeros: every byte is ASCII either way.
pub(crate) fn ascii_string(buf: Vec<u8>) -> String {
    debug_assert!(buf.is_ascii());
    // SAFETY: the callers pass buffers made of zeros and bytes of DIGITS only (see above), and
    // every ASCII byte sequence is valid UTF-8.
    unsafe { String::from_utf8_unchecked(buf) }
}

/// Encodes one 16-byte block into its 32 hex digits.
#[inline(always)]
pub fn encode_block(src: &[u8; 16], dst: &mut [u8; 32]) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        // SAFETY: SSE2 is enabled for the whole build (checked by the cfg above; it is the
        // x86_64 baseline), so the CPU running this has it.
        unsafe { sse2::encode_block(src, dst) };
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        encode_scalar(src, dst);
    }
}

#[inline]
fn encode_scalar(src: &[u8], dst: &mut [u8]) {
    for (&b, d) in src.iter().zip(dst.chunks_exact_mut(2)) {
        d.copy_from_slice(&ENCODE[b as usize]);
    }
}

/// Decodes hex of either case from `src` into `dst`, which must be exactly half as long.
/// Odd lengths and bytes that are not hex digits are errors; `dst` is then left partly
/// written.
pub fn decode_into(src: &[u8], dst: &mut [u8]) -> Result<(), InvalidHex> {
    if !src.len().is_multiple_of(2) || dst.len() != src.len() / 2 {
        return Err(InvalidHex);
    }
    let mut ok = true;
    let (src, dst) = {
        // 64 digits at a time with AVX2 where the CPU has it (detected once, then cached).
        #[cfg(target_arch = "x86_64")]
        {
            let wide = if std::is_x86_feature_detected!("avx2") { src.len() / 64 * 64 } else { 0 };
            let (src_wide, src_rest) = src.split_at(wide);
            let (dst_wide, dst_rest) = dst.split_at_mut(wide / 2);
            if wide > 0 {
                // SAFETY: AVX2 was detected on this CPU just above.
                ok &= unsafe { avx2::decode(src_wide, dst_wide) };
            }
            (src_rest, dst_rest)
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            (src, dst)
        }
    };
    let src_blocks = src.chunks_exact(32);
    let src_rest = src_blocks.remainder();
    let mut dst_blocks = dst.chunks_exact_mut(16);
    for (s, d) in src_blocks.zip(&mut dst_blocks) {
        if let (Ok(s), Ok(d)) = (<&[u8; 32]>::try_from(s), <&mut [u8; 16]>::try_from(d)) {
            ok &= decode_block(s, d);
        }
    }
    ok &= decode_scalar(src_rest, dst_blocks.into_remainder());
    if ok { Ok(()) } else { Err(InvalidHex) }
}

/// The bytes `src` (hex of either case) stands for.
pub fn decode(src: &[u8]) -> Result<Vec<u8>, InvalidHex> {
    if !src.len().is_multiple_of(2) {
        return Err(InvalidHex);
    }
    let mut out = vec![0u8; src.len() / 2];
    decode_into(src, &mut out)?;
    Ok(out)
}

/// Decodes 32 hex digits into 16 bytes; false if any of them is not a hex digit.
#[inline(always)]
fn decode_block(src: &[u8; 32], dst: &mut [u8; 16]) -> bool {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        // SAFETY: as in `encode_block`.
        unsafe { sse2::decode_block(src, dst) }
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        decode_scalar(src, dst)
    }
}

/// One byte at a time; the validity of every digit is gathered without a branch.
#[inline]
fn decode_scalar(src: &[u8], dst: &mut [u8]) -> bool {
    let mut bad = 0u8;
    for (pair, d) in src.chunks_exact(2).zip(dst.iter_mut()) {
        let (hi, lo) = match pair {
            [a, b] => (DECODE[*a as usize], DECODE[*b as usize]),
            _ => (INVALID, INVALID),
        };
        bad |= hi | lo;
        *d = (hi << 4) | (lo & 0xf);
    }
    bad & 0xf0 == 0
}

/// SSE2 is part of the x86_64 baseline, so these intrinsics are available on every CPU this
/// code can run on. Inside functions marked `#[target_feature(enable = "sse2")]` they are safe
/// to call, except the loads and stores, which take raw pointers.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use core::arch::x86_64::{
        __m128i, _mm_add_epi8, _mm_and_si128, _mm_andnot_si128, _mm_cmpgt_epi8, _mm_cmplt_epi8, _mm_loadu_si128,
        _mm_movemask_epi8, _mm_or_si128, _mm_packus_epi16, _mm_set1_epi8, _mm_set1_epi16, _mm_slli_epi16,
        _mm_srli_epi16, _mm_storeu_si128, _mm_sub_epi8, _mm_unpackhi_epi8, _mm_unpacklo_epi8,
    };

    #[inline]
    #[target_feature(enable = "sse2")]
    fn load(src: &[u8; 16]) -> __m128i {
        // SAFETY: `src` is 16 readable bytes; `loadu` has no alignment requirement.
        unsafe { _mm_loadu_si128(src.as_ptr().cast()) }
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    fn store(dst: &mut [u8; 16], v: __m128i) {
        // SAFETY: `dst` is 16 writable bytes, borrowed exclusively; `storeu` has no alignment
        // requirement.
        unsafe { _mm_storeu_si128(dst.as_mut_ptr().cast(), v) }
    }

    /// Nibbles (0..=15) to their lowercase hex digits: `n + '0'`, plus 39 more when `n > 9`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn digits(n: __m128i) -> __m128i {
        let letter = _mm_cmpgt_epi8(n, _mm_set1_epi8(9));
        _mm_add_epi8(_mm_add_epi8(n, _mm_set1_epi8(b'0' as i8)), _mm_and_si128(letter, _mm_set1_epi8(b'a' as i8 - b'0' as i8 - 10)))
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    pub fn encode_block(src: &[u8; 16], dst: &mut [u8; 32]) {
        let x = load(src);
        let low4 = _mm_set1_epi8(0x0f);
        let hi = _mm_and_si128(_mm_srli_epi16::<4>(x), low4);
        let lo = _mm_and_si128(x, low4);
        let (first, second) = dst.split_at_mut(16);
        if let (Ok(first), Ok(second)) = (<&mut [u8; 16]>::try_from(first), <&mut [u8; 16]>::try_from(second)) {
            store(first, digits(_mm_unpacklo_epi8(hi, lo)));
            store(second, digits(_mm_unpackhi_epi8(hi, lo)));
        }
    }

    /// 16 hex digits (either case) to their values (0..=15, one per byte), and a mask with
    /// every byte that is not a hex digit set.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn values(c: __m128i) -> (__m128i, __m128i) {
        // Bytes >= 0x80 are negative for the signed compares, hence outside both ranges.
        let digit = _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8(b'0' as i8 - 1)), _mm_cmplt_epi8(c, _mm_set1_epi8(b'9' as i8 + 1)));
        let folded = _mm_or_si128(c, _mm_set1_epi8(0x20)); // 'A'..'F' -> 'a'..'f'
        let letter = _mm_and_si128(_mm_cmpgt_epi8(folded, _mm_set1_epi8(b'a' as i8 - 1)), _mm_cmplt_epi8(folded, _mm_set1_epi8(b'f' as i8 + 1)));
        let v = _mm_or_si128(
            _mm_and_si128(digit, _mm_sub_epi8(c, _mm_set1_epi8(b'0' as i8))),
            _mm_and_si128(letter, _mm_sub_epi8(folded, _mm_set1_epi8(b'a' as i8 - 10))),
        );
        let bad = _mm_andnot_si128(_mm_or_si128(digit, letter), _mm_set1_epi8(-1));
        (v, bad)
    }

    /// Pairs of nibbles (high first) in 16-bit lanes to one byte per lane.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn pairs(v: __m128i) -> __m128i {
        // Little endian: the first digit is the low byte of the lane, the second the high one.
        _mm_or_si128(_mm_and_si128(_mm_slli_epi16::<4>(v), _mm_set1_epi16(0x00f0)), _mm_srli_epi16::<8>(v))
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    pub fn decode_block(src: &[u8; 32], dst: &mut [u8; 16]) -> bool {
        let (first, second) = src.split_at(16);
        let (Ok(first), Ok(second)) = (<&[u8; 16]>::try_from(first), <&[u8; 16]>::try_from(second)) else {
            return false;
        };
        let (a, bad_a) = values(load(first));
        let (b, bad_b) = values(load(second));
        store(dst, _mm_packus_epi16(pairs(a), pairs(b)));
        _mm_movemask_epi8(_mm_or_si128(bad_a, bad_b)) == 0
    }
}

/// The decoder of [`sse2`] on 32-byte registers: 64 digits into 32 bytes per step. Only called
/// once `is_x86_feature_detected!("avx2")` has said yes.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use core::arch::x86_64::{
        __m256i, _mm_setr_epi8, _mm256_add_epi8, _mm256_and_si256, _mm256_andnot_si256, _mm256_broadcastsi128_si256,
        _mm256_cmpgt_epi8, _mm256_loadu_si256, _mm256_maddubs_epi16, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_packus_epi16, _mm256_permute4x64_epi64, _mm256_set1_epi8, _mm256_set1_epi16, _mm256_shuffle_epi8,
        _mm256_srli_epi16, _mm256_storeu_si256,
    };

    #[inline]
    #[target_feature(enable = "avx2")]
    fn load(src: &[u8; 32]) -> __m256i {
        // SAFETY: `src` is 32 readable bytes; `loadu` has no alignment requirement.
        unsafe { _mm256_loadu_si256(src.as_ptr().cast()) }
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn store(dst: &mut [u8; 32], v: __m256i) {
        // SAFETY: `dst` is 32 writable bytes, borrowed exclusively; `storeu` has no alignment
        // requirement.
        unsafe { _mm256_storeu_si256(dst.as_mut_ptr().cast(), v) }
    }

    /// Each digit's value and a mask of the bytes that are not hex digits. The high nibble
    /// picks, by table, what to subtract ('0', 'A' - 10 or 'a' - 10) and the range the result
    /// must fall in ('0'..='9' → 0..=9, letters → 10..=15); every other high nibble, bytes
    /// ≥ 0x80 included, has an empty range.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn values(c: __m256i) -> (__m256i, __m256i) {
        const NO: i8 = -128;
        let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(c), _mm256_set1_epi8(0x0f));
        #[rustfmt::skip]
        let (offset, low, high) = (
            _mm256_broadcastsi128_si256(_mm_setr_epi8(0, 0, 0, -0x30, -0x37, 0, -0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
            _mm256_broadcastsi128_si256(_mm_setr_epi8(NO, NO, NO, -1, 9, NO, 9, NO, NO, NO, NO, NO, NO, NO, NO, NO)),
            _mm256_broadcastsi128_si256(_mm_setr_epi8(NO, NO, NO, 10, 16, NO, 16, NO, NO, NO, NO, NO, NO, NO, NO, NO)),
        );
        let v = _mm256_add_epi8(c, _mm256_shuffle_epi8(offset, hi));
        // Good when low < v < high (signed bytes; v is small for every good digit).
        let good = _mm256_and_si256(_mm256_cmpgt_epi8(v, _mm256_shuffle_epi8(low, hi)), _mm256_cmpgt_epi8(_mm256_shuffle_epi8(high, hi), v));
        (v, _mm256_andnot_si256(good, _mm256_set1_epi8(-1)))
    }

    /// Pairs of digit values to bytes, `16 * first + second` in each 16-bit lane.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn pairs(v: __m256i) -> __m256i {
        _mm256_maddubs_epi16(v, _mm256_set1_epi16(0x0110))
    }

    /// Decodes `src` (a multiple of 64 digits) into `dst` (half as long); false if any byte
    /// was not a hex digit.
    #[target_feature(enable = "avx2")]
    pub fn decode(src: &[u8], dst: &mut [u8]) -> bool {
        let mut bad = _mm256_set1_epi8(0);
        for (s, d) in src.chunks_exact(64).zip(dst.chunks_exact_mut(32)) {
            let (first, second) = s.split_at(32);
            let (Ok(first), Ok(second), Ok(d)) = (<&[u8; 32]>::try_from(first), <&[u8; 32]>::try_from(second), <&mut [u8; 32]>::try_from(d)) else {
                return false;
            };
            let (a, bad_a) = values(load(first));
            let (b, bad_b) = values(load(second));
            // packus works within each 128-bit half: [a0 b0 a1 b1] in quarters; put them in order.
            store(d, _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packus_epi16(pairs(a), pairs(b))));
            bad = _mm256_or_si256(bad, _mm256_or_si256(bad_a, bad_b));
        }
        _mm256_movemask_epi8(bad) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_bytes() -> Vec<u8> {
        (0..=255u8).collect()
    }

    #[test]
    fn encodes_every_byte_value_like_the_hex_crate() {
        let bytes = all_bytes();
        assert_eq!(encode(&bytes), hex::encode(&bytes));
        for b in 0..=255u8 {
            assert_eq!(encode(&[b]), format!("{b:02x}"));
        }
    }

    #[test]
    fn every_length_and_offset_matches_the_table() {
        // lengths around the 16-byte SIMD blocks, at every offset, so both paths and their seams
        // are covered
        let data: Vec<u8> = (0..600u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for start in 0..17 {
            for len in 0..(data.len() - start).min(100) {
                let src = &data[start..start + len];
                let mut fast = vec![0u8; len * 2];
                encode_into(src, &mut fast).unwrap();
                let mut slow = vec![0u8; len * 2];
                encode_scalar(src, &mut slow);
                assert_eq!(fast, slow, "encode start {start} len {len}");
                assert_eq!(fast, hex::encode(src).into_bytes());
                let mut back = vec![0u8; len];
                decode_into(&fast, &mut back).unwrap();
                assert_eq!(back, src, "decode start {start} len {len}");
                let upper = hex::encode_upper(src);
                assert_eq!(decode(upper.as_bytes()).unwrap(), src);
            }
        }
    }

    #[test]
    fn decodes_both_cases_and_mixed_case() {
        let bytes = all_bytes();
        let lower = encode(&bytes);
        let upper = lower.to_uppercase();
        let mixed: String = lower.chars().enumerate().map(|(i, c)| if i % 3 == 0 { c.to_ascii_uppercase() } else { c }).collect();
        for text in [&lower, &upper, &mixed] {
            assert_eq!(decode(text.as_bytes()).unwrap(), bytes);
            assert_eq!(hex::decode(text).unwrap(), bytes);
        }
    }

    #[test]
    fn every_non_hex_byte_is_rejected_at_every_position() {
        let valid = encode(&(0..48u8).collect::<Vec<_>>()).into_bytes(); // 96 digits: SIMD blocks and a tail
        let hex_digits = b"0123456789abcdefABCDEF";
        for bad in 0..=255u8 {
            let is_digit = hex_digits.contains(&bad);
            for pos in [0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 95] {
                let mut text = valid.clone();
                text[pos] = bad;
                assert_eq!(decode(&text).is_ok(), is_digit, "byte {bad:#04x} at {pos}");
                // the tail-only path too
                let mut short = valid[..6].to_vec();
                short[pos % 6] = bad;
                assert_eq!(decode(&short).is_ok(), is_digit, "byte {bad:#04x} at {} (short)", pos % 6);
            }
        }
    }

    #[test]
    fn ascii_look_alikes_are_rejected() {
        // bytes that become digits when case-folded or that sit next to the ranges
        for bad in [b'/', b':', b'@', b'G', b'`', b'g', b'\x10', b'\x11', b'\x19', b'P', b'p', b' ', 0x80, 0xb0, 0xe1, 0xff] {
            let text = vec![bad; 32];
            assert!(decode(&text).is_err(), "{bad:#04x}");
            assert!(decode(&text[..2]).is_err(), "{bad:#04x} (scalar)");
        }
    }

    #[test]
    fn odd_length_and_wrong_buffer_sizes_are_errors() {
        for len in [1usize, 3, 31, 33, 65] {
            assert_eq!(decode(&vec![b'a'; len]), Err(InvalidHex));
        }
        assert_eq!(decode(b""), Ok(Vec::new()));
        let mut small = [0u8; 3];
        assert_eq!(decode_into(b"00112233", &mut small), Err(InvalidHex));
        assert_eq!(decode_into(b"001", &mut small[..1]), Err(InvalidHex));
        let mut out = [0u8; 5];
        assert_eq!(encode_into(b"ab", &mut out), Err(InvalidHex));
        assert_eq!(encode_into(b"ab", &mut out[..4]), Ok(()));
        assert_eq!(&out[..4], b"6162");
    }

    /// Each vector path on its own against the table, whatever `decode_into` would pick here.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn vector_paths_agree_with_the_table() {
        let data: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_246_822_519) >> 11) as u8).collect();
        let mut text = encode(&data).into_bytes();
        for (i, b) in text.iter_mut().enumerate() {
            if i % 3 == 0 {
                *b = b.to_ascii_uppercase();
            }
        }
        for bad_at in [None, Some(0), Some(31), Some(32), Some(63), Some(64), Some(4000), Some(8191)] {
            let mut text = text.clone();
            if let Some(at) = bad_at {
                text[at] = b'g';
            }
            let mut table = vec![0u8; data.len()];
            let table_ok = decode_scalar(&text, &mut table);
            assert_eq!(table_ok, bad_at.is_none());
            let mut sse = vec![0u8; data.len()];
            let mut sse_ok = true;
            for (s, d) in text.chunks_exact(32).zip(sse.chunks_exact_mut(16)) {
                // SAFETY: SSE2 is the x86_64 baseline.
                sse_ok &= unsafe { sse2::decode_block(s.try_into().unwrap(), d.try_into().unwrap()) };
            }
            assert_eq!(sse_ok, table_ok, "sse2, bad at {bad_at:?}");
            if std::is_x86_feature_detected!("avx2") {
                let mut avx = vec![0u8; data.len()];
                // SAFETY: AVX2 was detected just above.
                let avx_ok = unsafe { avx2::decode(&text, &mut avx) };
                assert_eq!(avx_ok, table_ok, "avx2, bad at {bad_at:?}");
                if table_ok {
                    assert_eq!(avx, data);
                }
            }
            if table_ok {
                assert_eq!(table, data);
                assert_eq!(sse, data);
            }
        }
    }
}
