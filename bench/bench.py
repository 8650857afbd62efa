#!/usr/bin/env python3
"""posbridge against what a Python developer writes without it (requests + cryptography),
in the same run, against the same sandbox (``python -m posbridge sandbox --json`` in its own
process, so that only client-side costs differ).

    make bench                     # release build into .venv, then this script
    .venv/bin/python bench/bench.py [--quick] [--json PATH]

Prints a markdown table (metric, posbridge, peer, ratio, target, met?) and writes
bench/results.json. See bench/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import os
import platform
import selectors
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import requests
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

import posbridge
from posbridge import hesabe

HERE = Path(__file__).resolve().parent
TERMINAL_ID = "29708454"
SIZES = [64, 512, 1024, 4096]


# ---------------------------------------------------------------------------------------------
# The peer: what a competent Python developer writes without posbridge
# ---------------------------------------------------------------------------------------------


class HesabeCrypt:
    """AES-256-CBC, raw 32-byte key and 16-byte IV, lowercase hex (Hesabe spec §2).

    Encrypt pads with PKCS#7 on 16-byte blocks; decrypt accepts Hesabe's 1..32 pad. The
    ``algorithms.AES`` object (key schedule check) is built once; a fresh CBC context per
    call is unavoidable with ``cryptography`` (contexts are single-use).
    """

    def __init__(self, secret_key: str, iv: str) -> None:
        key = secret_key.encode("utf-8")
        self._iv = iv.encode("utf-8")
        if len(key) != 32 or len(self._iv) != 16:
            raise ValueError("key must be 32 bytes and IV 16 bytes")
        self._aes = algorithms.AES(key)

    def encrypt(self, text: str) -> str:
        data = text.encode("utf-8")
        pad = 16 - len(data) % 16
        data += bytes((pad,)) * pad
        encryptor = Cipher(self._aes, modes.CBC(self._iv)).encryptor()
        return (encryptor.update(data) + encryptor.finalize()).hex()

    def decrypt(self, hex_text: str) -> str:
        data = bytes.fromhex(hex_text)
        if not data or len(data) % 16:
            raise ValueError("bad ciphertext length")
        decryptor = Cipher(self._aes, modes.CBC(self._iv)).decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        n = plain[-1]
        if not 1 <= n <= 32 or n > len(plain) or plain[-n:] != bytes((n,)) * n:
            raise ValueError("bad padding")
        return plain[:-n].decode("utf-8")


class PeerClient:
    """requests.Session: login once, then encrypted POSTs with the bearer token."""

    def __init__(self, *, base_url: str, merchant_code: str, access_code: str, secret_key: str, iv: str,
                 username: str, password: str, timeout: float = 10.0, token: Optional[str] = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.merchant_code = merchant_code
        self.access_code = access_code
        self.username = username
        self.password = password
        self.timeout = timeout
        self.crypt = HesabeCrypt(secret_key, iv)
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", "Content-Type": "application/json"})
        if token is not None:
            self._use_token(token)

    def _use_token(self, token: str) -> None:
        self.token = token
        self.session.headers.update({"accessCode": self.access_code, "Authorization": f"Bearer {token}"})

    def login(self) -> str:
        r = requests.post(f"{self.base_url}/api/v1/login", json={"username": self.username, "password": self.password},
                          headers={"Accept": "application/json"}, timeout=self.timeout)
        r.raise_for_status()
        body = r.json()
        if body.get("status") is not True:
            raise RuntimeError(f"login failed: {body.get('message')}")
        token = body["response"]["token"]["access_token"]
        self._use_token(token)
        return token

    def create_pos_invoice(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        data = self.crypt.encrypt(json.dumps(payload, separators=(",", ":")))
        r = self.session.post(f"{self.base_url}/api/v1/merchant/smartpos-transaction", json={"data": data},
                              timeout=self.timeout)
        r.raise_for_status()
        envelope = json.loads(self.crypt.decrypt(r.json()["response"]))
        if envelope.get("status") is not True:
            raise RuntimeError(f"create_pos_invoice failed: {envelope.get('message')}")
        result: Dict[str, Any] = envelope["response"]
        return result

    def payload(self, invoice_number: str) -> Dict[str, Any]:
        return {"merchantCode": self.merchant_code, "customer_name": "Salman", "customer_email": "",
                "customer_phone": "", "amount": 0.1, "terminal_id": TERMINAL_ID,
                "invoice_number": invoice_number, "description": "bench"}


# ---------------------------------------------------------------------------------------------
# Sandbox in its own process
# ---------------------------------------------------------------------------------------------


class SandboxProcess:
    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "posbridge", "sandbox", "--json"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout=30):
            self.close()
            raise RuntimeError("the sandbox printed nothing within 30 s")
        line = self.proc.stdout.readline()
        if not line:
            self.close()
            raise RuntimeError(f"the sandbox exited (code {self.proc.poll()}) without printing its URL")
        self.info: Dict[str, Any] = json.loads(line)
        self.credentials: Dict[str, str] = self.info["hesabe"]
        self.url: str = self.info["url"]

    def stats(self) -> Optional[Dict[str, Any]]:
        try:
            r = requests.get(f"{self.url}/_sandbox/stats", timeout=5)
            return r.json() if r.ok else None
        except (requests.RequestException, ValueError):
            return None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


# ---------------------------------------------------------------------------------------------
# Measurement helpers
# ---------------------------------------------------------------------------------------------


def per_call_us(fn: Callable[[Any], Any], arg: Any, repeats: int, target_s: float) -> List[float]:
    """µs per call of ``fn(arg)``: a loop sized to ~target_s per repeat, ``repeats`` times."""
    n = 1
    while True:  # calibrate
        t0 = time.perf_counter()
        for _ in range(n):
            fn(arg)
        dt = time.perf_counter() - t0
        if dt >= target_s / 4:
            break
        n *= 2
    n = max(1, int(n * target_s / dt))
    out = []
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            t0 = time.perf_counter()
            for _ in range(n):
                fn(arg)
            out.append((time.perf_counter() - t0) / n * 1e6)
    finally:
        if gc_was:
            gc.enable()
    return out


def text_of_size(size: int) -> str:
    """A JSON object of exactly ``size`` UTF-8 bytes (ASCII), like a Hesabe payload."""
    head = '{"merchantCode":"842217","description":"'
    tail = '"}'
    filler = "x" * (size - len(head) - len(tail))
    text = head + filler + tail
    assert len(text.encode()) == size
    return text


def median(xs: List[float]) -> float:
    return statistics.median(xs)


# ---------------------------------------------------------------------------------------------
# 1. codec
# ---------------------------------------------------------------------------------------------


def bench_codec(creds: Dict[str, str], repeats: int, target_s: float) -> List[Dict[str, Any]]:
    codec = hesabe.Codec(creds["secret_key"], creds["iv"])
    peer = HesabeCrypt(creds["secret_key"], creds["iv"])
    rows = []
    for size in SIZES:
        text = text_of_size(size)
        # correctness first: same ciphertext, both decrypt a server-style (32-padded) reply
        hex16 = codec.encrypt(text)
        assert peer.encrypt(text) == hex16, "peer and posbridge disagree on encrypt"
        reply = codec.encrypt(text, 32)
        assert peer.decrypt(reply) == text and codec.decrypt(reply) == text
        for op, pb_fn, peer_fn, arg in (("encrypt", codec.encrypt, peer.encrypt, text),
                                        ("decrypt", codec.decrypt, peer.decrypt, reply)):
            for _ in range(3):  # warm up
                pb_fn(arg), peer_fn(arg)
            pb: List[float] = []
            pr: List[float] = []
            for _ in range(repeats):  # interleaved so that drift hits both
                pb += per_call_us(pb_fn, arg, 1, target_s)
                pr += per_call_us(peer_fn, arg, 1, target_s)
            rows.append({"op": op, "size": size, "posbridge_us": median(pb), "peer_us": median(pr),
                         "posbridge_runs_us": pb, "peer_runs_us": pr})
    return rows


# ---------------------------------------------------------------------------------------------
# 2. sequential create_pos_invoice
# ---------------------------------------------------------------------------------------------


def bench_sequential(creds: Dict[str, str], calls: int, repeats: int, warmup: int) -> Dict[str, Any]:
    client = hesabe.Client(**creds)
    peer = PeerClient(**creds)
    peer.login()
    counter = itertools.count()
    amount = Decimal("0.100")

    def pb_run(n: int) -> None:
        for _ in range(n):
            inv = client.create_pos_invoice(terminal_id=TERMINAL_ID, amount=amount, customer_name="Salman",
                                            customer_email="", customer_phone="",
                                            invoice_number=f"INV-{next(counter)}", description="bench")
            if inv.status != 0:
                raise RuntimeError(f"unexpected POS invoice status {inv.status}")

    def peer_run(n: int) -> None:
        for _ in range(n):
            inv = peer.create_pos_invoice(peer.payload(f"INV-{next(counter)}"))
            if inv["status"] != 0:
                raise RuntimeError(f"unexpected POS invoice status {inv['status']}")

    pb_run(warmup)  # includes posbridge's own login
    peer_run(warmup)
    pb: List[float] = []
    pr: List[float] = []
    per_repeat = max(1, calls // repeats)
    for _ in range(repeats):
        t0 = time.perf_counter()
        pb_run(per_repeat)
        pb.append(per_repeat / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        peer_run(per_repeat)
        pr.append(per_repeat / (time.perf_counter() - t0))
    return {"calls_each": per_repeat * repeats, "posbridge_rps": median(pb), "peer_rps": median(pr),
            "posbridge_runs_rps": pb, "peer_runs_rps": pr}


# ---------------------------------------------------------------------------------------------
# 3. concurrency: AsyncClient (64 in flight) against requests in 16 threads
# ---------------------------------------------------------------------------------------------


async def _pb_concurrent(client: Any, total: int, in_flight: int, counter: "itertools.count[int]") -> float:
    amount = Decimal("0.100")
    remaining = [total]

    async def worker() -> None:
        while remaining[0] > 0:
            remaining[0] -= 1
            inv = await client.create_pos_invoice(terminal_id=TERMINAL_ID, amount=amount, customer_name="Salman",
                                                  customer_email="", customer_phone="",
                                                  invoice_number=f"INV-{next(counter)}", description="bench")
            if inv.status != 0:
                raise RuntimeError(f"unexpected POS invoice status {inv.status}")

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return total / (time.perf_counter() - t0)


def _peer_concurrent(creds: Dict[str, str], token: str, total: int, threads: int,
                     counter: "itertools.count[int]", local: threading.local) -> float:
    def client() -> PeerClient:
        c = getattr(local, "client", None)
        if c is None:  # one Session per thread, sharing the login's token
            c = local.client = PeerClient(**creds, token=token)
        return c

    def work(n: int) -> None:
        c = client()
        for _ in range(n):
            inv = c.create_pos_invoice(c.payload(f"INV-{next(counter)}"))
            if inv["status"] != 0:
                raise RuntimeError(f"unexpected POS invoice status {inv['status']}")

    shares = [total // threads + (1 if i < total % threads else 0) for i in range(threads)]
    with ThreadPoolExecutor(threads) as pool:
        t0 = time.perf_counter()
        for f in [pool.submit(work, n) for n in shares]:
            f.result()
        return total / (time.perf_counter() - t0)


def bench_concurrent(creds: Dict[str, str], calls: int, repeats: int, in_flight: int, threads: int) -> Dict[str, Any]:
    counter = itertools.count(10_000_000)
    token = PeerClient(**creds).login()
    pb: List[float] = []
    pr: List[float] = []

    async def pb_all() -> None:
        client = hesabe.AsyncClient(**creds)
        await _pb_concurrent(client, in_flight * 4, in_flight, counter)  # warm up: login, pool
        for _ in range(repeats):
            pb.append(await _pb_concurrent(client, calls, in_flight, counter))

    # warm up the peer's per-thread sessions and connections (ThreadPoolExecutor threads are new
    # per run, so each run opens its connections: a run is long enough for that not to matter)
    _peer_concurrent(creds, token, threads * 4, threads, counter, threading.local())
    asyncio.run(pb_all())
    for _ in range(repeats):
        pr.append(_peer_concurrent(creds, token, calls, threads, counter, threading.local()))
    return {"calls_each_run": calls, "runs": repeats, "in_flight": in_flight, "threads": threads,
            "posbridge_rps": median(pb), "peer_rps": median(pr), "posbridge_runs_rps": pb, "peer_runs_rps": pr}


# ---------------------------------------------------------------------------------------------
# 4. import memory
# ---------------------------------------------------------------------------------------------

_RSS_SNIPPET = """
import sys
def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
before = rss()
exec(sys.argv[1])
print(rss() - before)
"""


def import_rss_mb(statement: str, repeats: int) -> List[float]:
    out = []
    for _ in range(repeats):
        kb = subprocess.run([sys.executable, "-c", _RSS_SNIPPET, statement], check=True,
                            capture_output=True, text=True).stdout.strip()
        out.append(int(kb) / 1024)
    return out


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------


def fmt(x: float, unit: str) -> str:
    if unit == "µs":
        return f"{x:.2f} µs"
    if unit == "req/s":
        return f"{x:,.0f} req/s"
    if unit == "MB":
        return f"{x:.1f} MB"
    return f"{x}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer calls and repeats (a smoke run, not for figures)")
    ap.add_argument("--json", default=str(HERE / "results.json"), help="where to write the results")
    args = ap.parse_args()

    q = args.quick
    cfg = {
        "codec_repeats": 3 if q else 7, "codec_target_s": 0.01 if q else 0.05,
        "seq_calls": 100 if q else 500, "seq_repeats": 5, "seq_warmup": 20 if q else 50,
        "conc_calls": 400 if q else 2000, "conc_repeats": 2 if q else 3, "in_flight": 64, "threads": 16,
        "rss_repeats": 3 if q else 5,
    }
    started = time.perf_counter()
    sb = SandboxProcess()
    try:
        creds = sb.credentials
        print(f"sandbox: {sb.url} (pid {sb.proc.pid}); posbridge {posbridge.__version__}, "
              f"requests {requests.__version__}, cryptography {__import__('cryptography').__version__}, "
              f"Python {platform.python_version()}, {os.cpu_count()} CPUs", flush=True)
        print("1/4 codec ...", flush=True)
        codec = bench_codec(creds, cfg["codec_repeats"], cfg["codec_target_s"])
        print("2/4 sequential create_pos_invoice ...", flush=True)
        seq = bench_sequential(creds, cfg["seq_calls"], cfg["seq_repeats"], cfg["seq_warmup"])
        print("3/4 concurrent create_pos_invoice ...", flush=True)
        conc = bench_concurrent(creds, cfg["conc_calls"], cfg["conc_repeats"], cfg["in_flight"], cfg["threads"])
        sandbox_stats = sb.stats()
    finally:
        sb.close()
    print("4/4 import memory ...", flush=True)
    rss_pb = import_rss_mb("import posbridge, posbridge.hesabe", cfg["rss_repeats"])
    rss_peer = import_rss_mb("import requests, cryptography.hazmat.primitives.ciphers", cfg["rss_repeats"])

    rows: List[Dict[str, Any]] = []
    for r in codec:
        rows.append({"metric": f"codec {r['op']} {r['size']} B (per call)", "unit": "µs",
                     "posbridge": r["posbridge_us"], "peer": r["peer_us"], "ratio": r["peer_us"] / r["posbridge_us"],
                     "ratio_means": "peer / posbridge (×faster)", "target": "≥ 10×", "met": r["peer_us"] / r["posbridge_us"] >= 10})
    rows.append({"metric": f"create_pos_invoice sequential ({seq['calls_each']} calls each)", "unit": "req/s",
                 "posbridge": seq["posbridge_rps"], "peer": seq["peer_rps"], "ratio": seq["posbridge_rps"] / seq["peer_rps"],
                 "ratio_means": "posbridge / peer", "target": "≥ 3×", "met": seq["posbridge_rps"] / seq["peer_rps"] >= 3})
    rows.append({"metric": f"create_pos_invoice concurrent (async {conc['in_flight']} in flight vs {conc['threads']} threads, "
                           f"{conc['calls_each_run']} calls/run)", "unit": "req/s",
                 "posbridge": conc["posbridge_rps"], "peer": conc["peer_rps"], "ratio": conc["posbridge_rps"] / conc["peer_rps"],
                 "ratio_means": "posbridge / peer", "target": "≥ 5×", "met": conc["posbridge_rps"] / conc["peer_rps"] >= 5})
    pb_mb, peer_mb = median(rss_pb), median(rss_peer)
    rows.append({"metric": "import RSS increase (posbridge, posbridge.hesabe vs requests, cryptography…ciphers)", "unit": "MB",
                 "posbridge": pb_mb, "peer": peer_mb, "ratio": pb_mb / peer_mb if peer_mb else float("nan"),
                 "ratio_means": "posbridge / peer (context only)", "target": "≤ 20 MB", "met": pb_mb <= 20})

    print()
    print("| metric | posbridge | peer (requests + cryptography) | ratio | target | met? |")
    print("|---|---:|---:|---:|---|---|")
    for r in rows:
        print(f"| {r['metric']} | {fmt(r['posbridge'], r['unit'])} | {fmt(r['peer'], r['unit'])} | "
              f"{r['ratio']:.2f}× | {r['target']} | {'yes' if r['met'] else '**no**'} |")
    print()
    print("ratio: codec = peer µs / posbridge µs; throughput = posbridge / peer; memory = posbridge / peer (context).")
    elapsed = time.perf_counter() - started
    print(f"total {elapsed:.0f} s; medians of: codec {cfg['codec_repeats']} runs, sequential {cfg['seq_repeats']} runs, "
          f"concurrent {cfg['conc_repeats']} runs, memory {cfg['rss_repeats']} fresh processes")

    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=HERE, capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = ""
    results = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "commit": commit,
        "quick": q,
        "environment": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
                        "posbridge": posbridge.__version__, "requests": requests.__version__,
                        "cryptography": __import__("cryptography").__version__,
                        "POSBRIDGE_THREADS": os.environ.get("POSBRIDGE_THREADS")},
        "config": cfg,
        "table": rows,
        "codec": codec,
        "sequential": seq,
        "concurrent": conc,
        "import_rss_mb": {"posbridge_runs": rss_pb, "peer_runs": rss_peer},
        "sandbox_stats": sandbox_stats,
        "elapsed_s": elapsed,
    }
    Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
