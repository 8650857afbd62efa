#!/usr/bin/env python3
"""Helcim: posbridge against what a Python developer writes without it (requests + hmac), in
the same run, against the same sandbox (``python -m posbridge sandbox --json`` in its own
process).

    make bench                              # release build, then bench.py and this script
    .venv/bin/python bench/bench_helcim.py [--quick]

1. webhook verification per call: ``helcim.verify_webhook`` vs a careful pure-Python verifier
   (hmac + hashlib + base64, key decoded once, constant-time compare, timestamp check, JSON);
2. purchase round trip: ``helcim.Client.purchase`` (POST → 202 → typed ``PaymentStarted``) vs
   a ``requests.Session`` doing the same; the device is released between purchases by the
   sandbox's control, outside the timed part;
3. card transaction fetch: ``Client.card_transaction`` vs the peer's GET + ``json.loads``.

Prints a markdown table and writes bench/results_helcim.json.
"""

from __future__ import annotations

import argparse
import base64
import gc
import hashlib
import hmac
import json
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Dict, List

import requests

from bench import SandboxProcess, cpu_times, loop_size, median, per_call_us

from posbridge import helcim

HERE = Path(__file__).resolve().parent
DEVICE = "DY6L"


class PeerVerifier:
    """Helcim's documented algorithm, written carefully in Python: the key is decoded once."""

    def __init__(self, verifier_token: str, tolerance: int = 300) -> None:
        self.key = base64.b64decode(verifier_token)
        self.tolerance = tolerance

    def verify(self, headers: Dict[str, str], body: bytes, now: float) -> Dict[str, Any]:
        lower = {k.lower(): v for k, v in headers.items()}
        webhook_id, timestamp, signatures = lower["webhook-id"], lower["webhook-timestamp"], lower["webhook-signature"]
        if abs(now - int(timestamp)) > self.tolerance:
            raise ValueError("stale webhook")
        mac = hmac.new(self.key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
        expected = base64.b64encode(mac).decode()
        for entry in signatures.split():
            version, _, signature = entry.partition(",")
            if version == "v1" and hmac.compare_digest(signature, expected):
                event: Dict[str, Any] = json.loads(body)
                return event
        raise ValueError("bad signature")


class PeerClient:
    """A requests.Session client for the device purchase and the transaction lookup."""

    def __init__(self, base_url: str, api_token: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers.update({"api-token": api_token, "accept": "application/json", "content-type": "application/json"})

    def purchase(self, code: str, amount: Decimal, invoice_number: str) -> str:
        key = str(uuid.uuid4())
        body = '{"currency":"CAD","transactionAmount":%s,"invoiceNumber":%s}' % (amount.quantize(Decimal("0.01")), json.dumps(invoice_number))
        reply = self.session.post(f"{self.base_url}/devices/{code}/payment/purchase", data=body, headers={"idempotency-key": key}, timeout=10)
        if reply.status_code != 202:
            raise RuntimeError(f"purchase: HTTP {reply.status_code} {reply.text}")
        return key

    def card_transaction(self, transaction_id: str) -> Dict[str, Any]:
        reply = self.session.get(f"{self.base_url}/card-transactions/{transaction_id}", timeout=10)
        if reply.status_code != 200:
            raise RuntimeError(f"card transaction: HTTP {reply.status_code}")
        transaction: Dict[str, Any] = reply.json(parse_float=Decimal)
        return transaction


def webhook_request(sandbox: Dict[str, Any]) -> Dict[str, Any]:
    """A delivery as a web framework hands it over: lower-case headers, raw body."""
    token = sandbox["verifier_token"]
    body = b'{"id":"25764674","type":"cardTransaction"}'
    now = int(time.time())
    key = base64.b64decode(token)
    signature = base64.b64encode(hmac.new(key, f"msg_2gq5VYqF4DlzM66mCpaXtsEBAkp.{now}.".encode() + body, hashlib.sha256).digest()).decode()
    headers = {
        "host": "shop.example.ca",
        "user-agent": "Svix-Webhooks/1.24",
        "content-type": "application/json",
        "content-length": str(len(body)),
        "accept-encoding": "gzip",
        "webhook-id": "msg_2gq5VYqF4DlzM66mCpaXtsEBAkp",
        "webhook-timestamp": str(now),
        "webhook-signature": f"v1,{signature}",
    }
    return {"headers": headers, "body": body, "token": token, "now": now}


def bench_verify(sandbox: Dict[str, Any], repeats: int, target_s: float) -> Dict[str, Any]:
    req = webhook_request(sandbox)
    peer = PeerVerifier(req["token"])
    headers, body, token, now = req["headers"], req["body"], req["token"], req["now"]
    ours = helcim.verify_webhook(headers, body, token, now=now)
    theirs = peer.verify(headers, body, now)
    assert ours.transaction_id == theirs["id"] == "25764674"

    def run_ours(_: Any) -> None:
        helcim.verify_webhook(headers, body, token, now=now)

    def run_peer(_: Any) -> None:
        peer.verify(headers, body, now)

    n_ours, n_peer = loop_size(run_ours, None, target_s), loop_size(run_peer, None, target_s)
    ours_us, peer_us = [], []
    for _ in range(repeats):
        ours_us.append(per_call_us(run_ours, None, n_ours))
        peer_us.append(per_call_us(run_peer, None, n_peer))
    return {"posbridge_us": median(ours_us), "peer_us": median(peer_us), "runs": {"posbridge": ours_us, "peer": peer_us}}


def release_device(control: requests.Session, url: str) -> Dict[str, Any]:
    """The customer taps a card: the device is free again; returns the card transaction."""
    reply = control.post(f"{url}/_sandbox/helcim/devices/{DEVICE}/complete", json={"outcome": "approved"}, timeout=10)
    reply.raise_for_status()
    transaction: Dict[str, Any] = reply.json()
    return transaction


def timed_purchases(purchase: Callable[[str], Any], control: requests.Session, url: str, calls: int, tag: str) -> List[float]:
    """Seconds per purchase call; the device is released after each, outside the timing."""
    times = []
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for i in range(calls):
            t0 = time.perf_counter()
            purchase(f"{tag}-{i}")
            times.append(time.perf_counter() - t0)
            release_device(control, url)
    finally:
        if gc_was:
            gc.enable()
    return times


def bench_round_trips(sandbox: Dict[str, Any], url: str, repeats: int, calls: int) -> Dict[str, Any]:
    client = helcim.Client(api_token=sandbox["api_token"], base_url=sandbox["base_url"], currency="CAD")
    peer = PeerClient(sandbox["base_url"], sandbox["api_token"])
    control = requests.Session()
    amount = Decimal("10.99")
    purchase_ours = lambda n: client.purchase(DEVICE, amount, invoice_number=n)  # noqa: E731
    purchase_peer = lambda n: peer.purchase(DEVICE, amount, n)  # noqa: E731
    for warm in range(20):
        purchase_ours(f"warm-ours-{warm}")
        release_device(control, url)
        purchase_peer(f"warm-peer-{warm}")
        transaction_id = str(release_device(control, url)["transactionId"])
    purchase_runs: Dict[str, List[float]] = {"posbridge": [], "peer": []}
    fetch_runs: Dict[str, List[float]] = {"posbridge": [], "peer": []}
    for run in range(repeats):
        for side, fn in (("posbridge", purchase_ours), ("peer", purchase_peer)):
            times = timed_purchases(fn, control, url, calls, f"{side}-{run}")
            purchase_runs[side].append(len(times) / sum(times))
        for side, fetch in (("posbridge", client.card_transaction), ("peer", peer.card_transaction)):
            n = calls * 2
            t0 = time.perf_counter()
            for _ in range(n):
                fetch(transaction_id)
            fetch_runs[side].append(n / (time.perf_counter() - t0))
    return {
        "purchase": {"posbridge_rps": median(purchase_runs["posbridge"]), "peer_rps": median(purchase_runs["peer"]), "runs": purchase_runs},
        "fetch": {"posbridge_rps": median(fetch_runs["posbridge"]), "peer_rps": median(fetch_runs["peer"]), "runs": fetch_runs},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smaller run for a smoke test (figures not for quoting)")
    parser.add_argument("--json", default=str(HERE / "results_helcim.json"), help="where to write the results")
    args = parser.parse_args()
    repeats, calls, target = (3, 30, 0.02) if args.quick else (7, 200, 0.05)

    cpu0 = cpu_times()
    sandbox = SandboxProcess(extra_args=["--helcim-limits", "off"])
    try:
        info = sandbox.info["helcim"]
        verify = bench_verify(info, repeats, target)
        trips = bench_round_trips(info, sandbox.url, max(3, repeats // 2 + 1), calls)
    finally:
        sandbox.close()
    cpu1 = cpu_times()
    total = sum(cpu1) - sum(cpu0)
    steal = (cpu1[7] - cpu0[7]) / total * 100 if total else 0.0

    rows = [
        ("webhook verification (per call)", f"{verify['posbridge_us']:.2f} µs", f"{verify['peer_us']:.2f} µs", verify["peer_us"] / verify["posbridge_us"], 5),
        (f"purchase round trip, POST → 202 ({calls} calls/run)", f"{trips['purchase']['posbridge_rps']:,.0f} /s", f"{trips['purchase']['peer_rps']:,.0f} /s",
         trips["purchase"]["posbridge_rps"] / trips["purchase"]["peer_rps"], 3),
        (f"card transaction fetch ({calls * 2} calls/run)", f"{trips['fetch']['posbridge_rps']:,.0f} /s", f"{trips['fetch']['peer_rps']:,.0f} /s",
         trips["fetch"]["posbridge_rps"] / trips["fetch"]["peer_rps"], 3),
    ]
    print("| metric | posbridge | peer (requests + hmac) | ratio | target | met? |")
    print("|---|---:|---:|---:|---|---|")
    for name, ours, theirs, ratio, goal in rows:
        print(f"| {name} | {ours} | {theirs} | {ratio:.2f}× | ≥ {goal}× | {'yes' if ratio >= goal else '**no**'} |")
    print(f"\nhypervisor steal during the run: {steal:.1f} %")
    Path(args.json).write_text(json.dumps({"verify": verify, "round_trips": trips, "steal_pct": steal, "quick": args.quick}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
