"""HesabeCrypt (spec §2): byte-exact against Hesabe's published ciphertexts, differential against
an independent AES-CBC implementation (``cryptography``), and strict about what it rejects."""

from __future__ import annotations

import json
import random
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

import posbridge
from posbridge import hesabe
from seeds import (
    IV,
    SECRET_KEY,
    SEED_001_INVOICE_ID,
    SEED_001_REQUEST_HEX,
    SEED_001_REQUEST_PLAIN,
    SEED_001_RESPONSE_HEX,
    SEED_001_TRANSACTION_ID,
    SEED_003_REQUEST_HEX,
    SEED_003_RESPONSE_HEX,
    SEED_003_TERMINALS,
    V1_HEX,
    V1_PLAIN,
)

KEY_BYTES = SECRET_KEY.encode()
IV_BYTES = IV.encode()


@pytest.fixture(scope="module")
def codec() -> hesabe.Codec:
    return hesabe.Codec(SECRET_KEY, IV)


# -- an independent reference: cryptography's AES-CBC with the padding done by hand -----------


def _aes(data: bytes, *, decrypt: bool = False, key: bytes = KEY_BYTES) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CBC(IV_BYTES))
    op = cipher.decryptor() if decrypt else cipher.encryptor()
    return op.update(data) + op.finalize()


def ref_encrypt(text: str, block: int) -> str:
    data = text.encode("utf-8")
    pad = block - len(data) % block
    return _aes(data + bytes([pad]) * pad).hex()


def ref_decrypt(hex_text: str) -> str:
    plain = _aes(bytes.fromhex(hex_text), decrypt=True)
    n = plain[-1]
    assert 1 <= n <= 32 and plain[-n:] == bytes([n]) * n, f"bad pad {n}"
    return plain[:-n].decode("utf-8")


def raw_hex(plain: bytes, key: bytes = KEY_BYTES) -> str:
    """Encrypts block-aligned bytes with no padding at all (to build malformed payloads)."""
    assert len(plain) % 16 == 0
    return _aes(plain, key=key).hex()


# -- Hesabe's vectors ----------------------------------------------------------------------------


@pytest.mark.parametrize("block", [16, 32])
def test_v1_vector(codec: hesabe.Codec, block: int) -> None:
    assert codec.encrypt(V1_PLAIN, block=block) == V1_HEX
    assert codec.decrypt(V1_HEX) == V1_PLAIN


def test_v1_is_seed_003_request_and_default_block_is_16(codec: hesabe.Codec) -> None:
    assert SEED_003_REQUEST_HEX == V1_HEX
    assert codec.encrypt(V1_PLAIN) == V1_HEX


def test_seed_001_request_is_byte_exact_with_pkcs7(codec: hesabe.Codec) -> None:
    assert codec.encrypt(SEED_001_REQUEST_PLAIN, block=16) == SEED_001_REQUEST_HEX
    assert codec.encrypt(SEED_001_REQUEST_PLAIN) == SEED_001_REQUEST_HEX
    assert codec.decrypt(SEED_001_REQUEST_HEX) == SEED_001_REQUEST_PLAIN


@pytest.mark.parametrize("seed_hex", [SEED_001_RESPONSE_HEX, SEED_003_RESPONSE_HEX], ids=["seed001", "seed003"])
def test_seed_responses_decrypt_and_reencrypt_byte_exact_with_32(codec: hesabe.Codec, seed_hex: str) -> None:
    plain = codec.decrypt(seed_hex)
    assert codec.encrypt(plain, block=32) == seed_hex
    assert plain == ref_decrypt(seed_hex)
    envelope = json.loads(plain)
    assert envelope["status"] is True


def test_seed_001_response_content(codec: hesabe.Codec) -> None:
    envelope = codec.decrypt_json(SEED_001_RESPONSE_HEX)
    assert envelope["message"] == "POS invoice created successfully"
    invoice = envelope["response"]
    assert invoice["id"] == SEED_001_INVOICE_ID
    assert invoice["transaction_id"] == SEED_001_TRANSACTION_ID
    assert invoice["terminal_name"] == "A99"
    assert invoice["amount"] == "0.1"


def test_seed_003_response_content(codec: hesabe.Codec) -> None:
    envelope = codec.decrypt_json(SEED_003_RESPONSE_HEX)
    assert envelope["message"] == "Terminal List"
    assert [(t["TerminalID"], t["TerminalName"]) for t in envelope["response"]] == SEED_003_TERMINALS
    # money-like fields come out as exact text, never floats
    assert envelope["response"][0]["KnetValue"] == "0.300"


# -- padding -------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", list(range(0, 70)))
def test_padding_lengths(codec: hesabe.Codec, length: int) -> None:
    text = "a" * length
    assert len(codec.encrypt(text, block=16)) == 2 * (16 * (length // 16 + 1))
    assert len(codec.encrypt(text, block=32)) == 2 * (32 * (length // 32 + 1))


def test_pad_above_16_is_read_where_pkcs7_16_fails(codec: hesabe.Codec) -> None:
    text = "x" * 33  # 32-byte scheme pads with 31 bytes of 0x1f
    hex32 = codec.encrypt(text, block=32)
    plain = _aes(bytes.fromhex(hex32), decrypt=True)
    assert plain[-1] == 31
    unpadder = padding.PKCS7(128).unpadder()
    with pytest.raises(ValueError):
        unpadder.update(plain) + unpadder.finalize()
    assert codec.decrypt(hex32) == text


def test_aligned_text_gets_a_full_block_of_32(codec: hesabe.Codec) -> None:
    hex32 = codec.encrypt("b" * 64, block=32)
    assert _aes(bytes.fromhex(hex32), decrypt=True)[-32:] == bytes([32]) * 32
    assert codec.decrypt(hex32) == "b" * 64


# -- differential against cryptography -----------------------------------------------------------

_POOLS = [
    (0x20, 0x7E),  # ASCII
    (0x00, 0x1F),  # control characters
    (0xA0, 0x24F),  # Latin
    (0x600, 0x6FF),  # Arabic
    (0x4E00, 0x9FFF),  # CJK
    (0x1F300, 0x1FAFF),  # emoji (4-byte UTF-8)
    (0xE000, 0x10FFFF),  # anything above the surrogates
]


def _random_text(rng: random.Random, length: int) -> str:
    chars = []
    pool = rng.choice(_POOLS)
    for _ in range(length):
        if rng.random() < 0.1:
            pool = rng.choice(_POOLS)
        chars.append(chr(rng.randint(*pool)))
    return "".join(chars)


def test_differential_against_cryptography(codec: hesabe.Codec) -> None:
    rng = random.Random(20261121)
    for i in range(3000):
        text = _random_text(rng, rng.randint(0, 600) if i % 10 else rng.randint(0, 40))
        for block in (16, 32):
            ours = codec.encrypt(text, block=block)
            theirs = ref_encrypt(text, block)
            assert ours == theirs, (i, block, text)
            assert codec.decrypt(theirs) == text
            assert ref_decrypt(ours) == text


def test_encrypt_across_threads_and_sizes_matches_cryptography(codec: hesabe.Codec) -> None:
    """Each thread's hex goes through a buffer the binding keeps per thread (and drops past
    32 KB): sizes that grow, shrink and pass that limit, from eight threads at once."""
    from concurrent.futures import ThreadPoolExecutor

    sizes = [0, 1, 15, 16, 127, 128, 129, 1024, 20_000, 3, 70_000, 5, 4096]

    def run(seed: int) -> int:
        rng = random.Random(seed)
        for size in rng.sample(sizes, len(sizes)) * 3:
            text = "".join(rng.choice("ab{}:\"é") for _ in range(size))
            block = rng.choice((16, 32))
            assert codec.encrypt(text, block) == ref_encrypt(text, block), (seed, size, block)
        return seed

    with ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(run, range(16))) == list(range(16))


def test_differential_pkcs7_16_matches_cryptography_padding(codec: hesabe.Codec) -> None:
    rng = random.Random(7)
    for _ in range(300):
        data = _random_text(rng, rng.randint(0, 100)).encode()
        padder = padding.PKCS7(128).padder()
        expected = _aes(padder.update(data) + padder.finalize()).hex()
        assert codec.encrypt(data.decode(), block=16) == expected


# -- what decrypt accepts --------------------------------------------------------------------------


def test_uppercase_and_mixed_case_hex_accepted(codec: hesabe.Codec) -> None:
    assert codec.decrypt(V1_HEX.upper()) == V1_PLAIN
    mixed = "".join(c.upper() if i % 3 else c for i, c in enumerate(SEED_001_REQUEST_HEX))
    assert codec.decrypt(mixed) == SEED_001_REQUEST_PLAIN


def test_hex_as_bytes_accepted(codec: hesabe.Codec) -> None:
    assert codec.decrypt(V1_HEX.encode()) == V1_PLAIN


def test_output_is_lowercase_hex(codec: hesabe.Codec) -> None:
    out = codec.encrypt("Hello, Kuwait! مرحبا", block=32)
    assert out == out.lower() and all(c in "0123456789abcdef" for c in out)


def test_pad_of_32_from_a_16_aligned_body(codec: hesabe.Codec) -> None:
    # 16 bytes of text then 32 bytes of pad value 32: legal for Hesabe's unpad rule
    assert codec.decrypt(raw_hex(b"0123456789abcdef" + bytes([32]) * 32)) == "0123456789abcdef"


# -- what decrypt rejects --------------------------------------------------------------------------

_BAD_HEX = {
    "empty": "",
    "odd-length": V1_HEX[:-1],
    "one-digit": "0",
    "15-bytes": V1_HEX[:30],
    "17-bytes": V1_HEX + "00",
    "31-bytes": V1_HEX[:-2],
    "non-hex-letters": "zz" * 16,
    "non-hex-g": V1_HEX[:-1] + "g",
    "0x-prefix": "0x" + V1_HEX[2:],
    "inner-space": V1_HEX[:32] + " " + V1_HEX[33:],
    "arabic-digits": V1_HEX[:-1] + "\u0665",
    "non-ascii": "é" * 32,
    "pad-0": raw_hex(b"{" * 31 + b"\x00"),
    "pad-33": raw_hex(b"{" * 15 + bytes([33]) * 33),
    "pad-48": raw_hex(bytes([48]) * 48),
    "pad-mismatch": raw_hex(b"{" * 12 + b"\x01\x02\x03\x04"),
    "pad-longer-than-text": raw_hex(bytes([32]) * 16),
    "invalid-utf8": raw_hex(b"\xff\xfe\x80abc" + bytes([10]) * 10),
    "truncated-utf8": raw_hex("ab\u0645".encode()[:-1] + bytes([13]) * 13),
    "wrong-key": raw_hex(b'{"merchantCode":"842217"}' + bytes([7]) * 7, key=b"y" * 32),
}


@pytest.mark.parametrize("bad", list(_BAD_HEX.values()), ids=list(_BAD_HEX))
def test_decrypt_rejects_with_decryption_error_only(codec: hesabe.Codec, bad: str) -> None:
    with pytest.raises(posbridge.DecryptionError) as info:
        codec.decrypt(bad)
    assert type(info.value) is posbridge.DecryptionError
    assert isinstance(info.value, posbridge.ProtocolError)
    # nothing decrypted rides along (a UnicodeDecodeError would carry the plaintext bytes)
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_seed_with_wrong_key_is_decryption_error() -> None:
    other = hesabe.Codec("Z" * 32, IV)
    for seed_hex in (SEED_001_RESPONSE_HEX, SEED_003_RESPONSE_HEX, V1_HEX):
        with pytest.raises(posbridge.DecryptionError):
            other.decrypt(seed_hex)


def test_decrypt_rejects_lone_surrogates_as_decryption_error(codec: hesabe.Codec) -> None:
    # a str that cannot even be encoded as UTF-8 (e.g. read with surrogateescape) is not hex
    with pytest.raises(posbridge.DecryptionError):
        codec.decrypt("\udcff" * 32)


@pytest.mark.parametrize("bad", [None, 123, 1.5, ["00"], bytearray(b"00" * 16)])
def test_decrypt_of_non_text_is_decryption_error(codec: hesabe.Codec, bad: object) -> None:
    with pytest.raises(posbridge.DecryptionError):
        codec.decrypt(bad)  # type: ignore[arg-type]


def test_decrypt_fuzz_never_raises_anything_else(codec: hesabe.Codec) -> None:
    rng = random.Random(99)
    good = bytes.fromhex(SEED_001_REQUEST_HEX)
    outcomes = {"ok": 0, "rejected": 0}
    for i in range(3000):
        kind = i % 4
        if kind == 0:  # random hex of any length
            candidate = rng.randbytes(rng.randint(0, 80)).hex()[: rng.randint(0, 160)]
        elif kind == 1:  # random printable junk
            candidate = "".join(chr(rng.randint(0x20, 0x7E)) for _ in range(rng.randint(0, 64)))
        elif kind == 2:  # a real ciphertext with one byte flipped
            flipped = bytearray(good)
            flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
            candidate = bytes(flipped).hex()
        else:  # a real ciphertext truncated at a block boundary or not
            candidate = good[: rng.randint(0, len(good))].hex()
        try:
            result = codec.decrypt(candidate)
        except posbridge.DecryptionError:
            outcomes["rejected"] += 1
        else:
            assert isinstance(result, str)
            outcomes["ok"] += 1
    assert outcomes["rejected"] > 1000  # the fuzz really exercised the error paths


# -- construction --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, iv",
    [
        (SECRET_KEY[:31], IV),
        (SECRET_KEY + "x", IV),
        ("", IV),
        (SECRET_KEY, IV[:15]),
        (SECRET_KEY, IV + "x"),
        (SECRET_KEY, ""),
        (KEY_BYTES[:16], IV_BYTES),
        (SECRET_KEY[:31] + "é", IV),  # 32 characters, 33 bytes
        (SECRET_KEY, IV[:15] + "é"),  # 16 characters, 17 bytes
    ],
)
def test_wrong_key_or_iv_size_is_config_error(key: object, iv: object) -> None:
    with pytest.raises(posbridge.ConfigError) as info:
        hesabe.Codec(key, iv)
    assert isinstance(info.value, ValueError)
    if isinstance(key, str) and len(key) >= 8:
        assert key not in str(info.value) and key not in repr(info.value.args)


@pytest.mark.parametrize("key, iv", [(None, IV), (123, IV), (SECRET_KEY, None), (SECRET_KEY, 5)])
def test_key_of_wrong_type_is_config_error(key: object, iv: object) -> None:
    with pytest.raises(posbridge.ConfigError):
        hesabe.Codec(key, iv)


def test_key_and_iv_as_bytes_or_str() -> None:
    expected = hesabe.Codec(SECRET_KEY, IV).encrypt(SEED_001_REQUEST_PLAIN)
    assert hesabe.Codec(KEY_BYTES, IV_BYTES).encrypt(SEED_001_REQUEST_PLAIN) == expected
    assert hesabe.Codec(KEY_BYTES, IV).encrypt(SEED_001_REQUEST_PLAIN) == expected
    assert hesabe.Codec(SECRET_KEY, IV_BYTES).encrypt(SEED_001_REQUEST_PLAIN) == expected


def test_non_ascii_key_counts_utf8_bytes() -> None:
    key = "é" * 16  # 16 characters, 32 bytes
    codec = hesabe.Codec(key, IV)
    assert codec.encrypt("hi") == ref_encrypt_with(key.encode(), "hi")
    assert hesabe.Codec(key.encode(), IV).decrypt(codec.encrypt("hi")) == "hi"


def ref_encrypt_with(key: bytes, text: str) -> str:
    data = text.encode()
    pad = 16 - len(data) % 16
    return _aes(data + bytes([pad]) * pad, key=key).hex()


def test_unknown_block_size_is_refused(codec: hesabe.Codec) -> None:
    for block in (0, 8, 24, 64):
        with pytest.raises(ValueError) as info:
            codec.encrypt("x", block=block)
        assert isinstance(info.value, posbridge.Error)


def test_repr_hides_key_material() -> None:
    for codec in (hesabe.Codec(SECRET_KEY, IV), hesabe.Codec(KEY_BYTES, IV_BYTES)):
        text = repr(codec) + str(codec)
        for secret in (SECRET_KEY, IV, SECRET_KEY[:8], IV[:8], repr(KEY_BYTES), KEY_BYTES.hex()):
            assert secret not in text


# -- JSON helpers --------------------------------------------------------------------------------


def test_encrypt_json_is_compact_and_matches_v1(codec: hesabe.Codec) -> None:
    assert codec.encrypt_json({"merchantCode": "842217"}) == V1_HEX


def test_encrypt_json_keeps_non_ascii_as_utf8(codec: hesabe.Codec) -> None:
    obj = {"customer_name": "سلمان", "note": "café ☕"}
    hex_text = codec.encrypt_json(obj)
    assert codec.decrypt(hex_text) == '{"customer_name":"سلمان","note":"café ☕"}'
    assert codec.decrypt_json(hex_text) == obj


def test_encrypt_json_block_32(codec: hesabe.Codec) -> None:
    obj = {"status": True, "message": "x" * 40}
    assert codec.encrypt_json(obj, block=32) == ref_encrypt(json.dumps(obj, separators=(",", ":")), 32)


def test_decrypt_json_gives_decimal_never_float(codec: hesabe.Codec) -> None:
    result = codec.decrypt_json(codec.encrypt('{"amount":0.100,"n":3,"list":[1.5,"2.000"]}'))
    assert result == {"amount": Decimal("0.100"), "n": 3, "list": [Decimal("1.5"), "2.000"]}
    assert str(result["amount"]) == "0.100"  # the exact text, trailing zeros kept
    assert isinstance(result["n"], int) and not isinstance(result["amount"], float)


def test_encrypt_json_decimal_round_trip_is_exact(codec: hesabe.Codec) -> None:
    obj = {"amount": Decimal("0.100"), "items": [Decimal("12.345"), Decimal("1")]}
    back = codec.decrypt_json(codec.encrypt_json(obj))
    assert back == obj
    assert str(back["amount"]) == "0.100"
    assert not isinstance(back["amount"], float)


def test_decrypt_json_of_bad_hex_is_decryption_error(codec: hesabe.Codec) -> None:
    with pytest.raises(posbridge.DecryptionError):
        codec.decrypt_json("nothex")
