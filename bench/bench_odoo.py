#!/usr/bin/env python3
"""The addon's server-side cost on a real prefork Odoo (`--workers=2`) of one series, against
Odoo's own payment_demo provider in the same run.

    bench/bench_odoo.py [--series 19.0] [--iterations 15] [--warmup 3] [--odoo-python PY] [--port 18350] [--quick]

Same stack as tests_odoo/prefork.py (its code is reused): `posbridge sandbox` in its own process
(Helcim rate limits off), a fresh `pbb_bench_<pid>` database cloned from pbt_base with posbridge
and payment_demo installed, `odoo-bin --workers=2 --max-cron-threads=0`, JSON-RPC sessions as
the web client uses them.

(a) push one order to a terminal: the wizard's Send (`/web/dataset/call_button/
    posbridge.pay.wizard/action_send`), client round trip and server time (werkzeug's log line:
    SQL time + the rest), Helcim (ping + purchase) and Hesabe (create_pos_invoice).
(b) one payment notification up to a confirmed order with a posted account.payment:
    posbridge: the sandbox's signed Helcim webhook `/posbridge/webhook/<id>` (verify, dedupe,
    fetch the card transaction from Helcim, set done, post-process), server time from the log
    line, and end to end (the customer taps -> the sandbox sees 200);
    payment_demo: the same kind of order paid as the portal does it: `/my/orders/<id>/transaction`
    (not timed), then `/payment/demo/simulate_payment` (set done) + `/payment/status/poll`
    (post-process), both timed; interleaved with posbridge, iteration by iteration.
(c) 20 orders pushed and paid by 4 concurrent salespeople (prefork.concurrent_orders).

Prints a table and writes bench/results_odoo.json (every sample, not only the medians).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests_odoo"))
import prefork as P  # noqa: E402

say = P.say


def med(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def push(stack: P.Stack, rpc: P.Rpc, currency: str, amount: float, terminal_id: int) -> tuple[int, dict[str, Any]]:
    """A new order pushed to a terminal through the wizard: its id and the send's figures."""
    order_id = P.create_order(rpc, stack, currency, amount)
    wid, ctx = P.open_wizard(rpc, order_id, terminal_id)
    off = stack.log_offset()
    t0 = time.perf_counter()
    P.send(rpc, wid, ctx)
    rtt = (time.perf_counter() - t0) * 1000
    line = stack.wait_request_line(off, "/action_send")
    return order_id, {"order_id": order_id, "send_rtt_ms": rtt,
                      "send_server_ms": line[0]["server_ms"] if line else None,
                      "send_queries": line[0]["queries"] if line else None}


def helcim_iteration(stack: P.Stack, rpc: P.Rpc, device: str) -> dict[str, Any]:
    _, figures = push(stack, rpc, "CAD", 10.99, stack.terminals[device])
    n_ok = sum(d.get("status") == 200 for d in stack.sandbox.deliveries())
    off = stack.log_offset()
    t0 = time.perf_counter()
    stack.sandbox.helcim_complete(device, "approved", "VI")
    P.wait_for(lambda: sum(d.get("status") == 200 for d in stack.sandbox.deliveries()) > n_ok, 20, 0.005)
    e2e = (time.perf_counter() - t0) * 1000
    hook = stack.wait_request_line(off, "/posbridge/webhook/")
    h = hook[0] if hook else {}
    return {**figures, "webhook_e2e_ms": e2e, "webhook_server_ms": h.get("server_ms"),
            "webhook_sql_ms": h["sql"] * 1000 if h else None, "webhook_queries": h.get("queries"),
            "webhook_status": h.get("status"), "webhook_pid": h.get("pid")}


def hesabe_iteration(stack: P.Stack, rpc: P.Rpc, ref: str) -> dict[str, Any]:
    order_id, figures = push(stack, rpc, "KWD", 12.5, stack.terminals[ref])
    tx = P.pending_tx(rpc, order_id)
    stack.sandbox.hesabe_pay(tx["provider_reference"])
    rpc.button("sale.order", "action_posbridge_check_status", [order_id])  # frees the terminal
    return figures


def demo_iteration(stack: P.Stack, rpc: P.Rpc) -> dict[str, Any]:
    order_id = P.create_order(rpc, stack, "CAD", 10.99)
    url = stack.admin_rpc.kw("sale.order", "get_portal_url", [order_id])
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["access_token"][0]
    public = P.Rpc(stack.base)  # the customer's browser: not logged in
    values = public.post(f"/my/orders/{order_id}/transaction", {
        "access_token": token, "provider_id": stack.demo_provider_id, "payment_method_id": stack.demo_method_id,
        "token_id": None, "amount": 10.99, "flow": "direct", "tokenization_requested": False,
        "landing_route": f"/my/orders/{order_id}", "is_validation": False,
    })
    off = stack.log_offset()
    t0 = time.perf_counter()
    public.post("/payment/demo/simulate_payment", {"reference": values["reference"], "payment_details": "4242",
                                                   "simulated_state": "done"})
    poll = public.post("/payment/status/poll", {})
    rtt = (time.perf_counter() - t0) * 1000
    lines = stack.wait_request_line(off, "/payment/", count=2)
    return {"order_id": order_id, "rtt_ms": rtt, "server_ms": sum(r["server_ms"] for r in lines) if len(lines) == 2 else None,
            "simulate_server_ms": lines[0]["server_ms"] if lines else None,
            "poll_server_ms": lines[1]["server_ms"] if len(lines) > 1 else None,
            "queries": sum(r["queries"] for r in lines), "poll_state": poll.get("state")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    P.common_args(ap, 18350)
    ap.add_argument("--iterations", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--orders", type=int, default=20)
    ap.add_argument("--users", type=int, default=4)
    ap.add_argument("--hesabe-orders", type=int, default=4)
    ap.add_argument("--quick", action="store_true", help="3 iterations, 1 warm-up: a smoke test, not for quoting")
    ap.add_argument("--out", help="default: bench/results_odoo_<series>.json")
    ap.add_argument("--timeout", type=float, default=420)
    args = ap.parse_args()
    args.series = P.E.series(args.series, args.odoo_src).name
    args.out = args.out or str(HERE / f"results_odoo_{args.series}.json")
    if args.quick:
        args.iterations, args.warmup = 3, 1

    stack = P.Stack(args, "bench", modules=("posbridge", "payment_demo"), helcim_limits="off", cron_threads=0)
    dog = P.watchdog(stack, args.timeout)
    t_start = time.monotonic()
    out: dict[str, Any] = {}
    try:
        stack.start()
        stack.setup_data(args.users, demo_provider=True)
        rpc = stack.salesman(stack.users[0])
        runs: dict[str, list[dict[str, Any]]] = {"helcim": [], "hesabe": [], "demo": []}
        say(f"(a)+(b): {args.warmup} warm-up + {args.iterations} iterations, interleaved "
            "Helcim push+webhook / payment_demo / Hesabe push ...")
        for i in range(args.warmup + args.iterations):
            h = helcim_iteration(stack, rpc, "JSV5")
            d = demo_iteration(stack, rpc)
            k = hesabe_iteration(stack, rpc, "29708454")
            if i >= args.warmup:
                runs["helcim"].append(h)
                runs["demo"].append(d)
                runs["hesabe"].append(k)
        ids = [r["order_id"] for rs in runs.values() for r in rs]
        report = P.order_report(stack.admin_rpc, ids)
        seq_ok = all(r["state"] == "sale" and r["posted"] == 1 and r["payments"] == 1 for r in report.values())
        bad = {o: r for o, r in report.items() if not (r["state"] == "sale" and r["posted"] == 1)}
        if bad:
            say(f"WARNING: orders not confirmed with one posted payment: {bad}")

        say(f"(c): {args.users} users, {args.orders} orders ({args.hesabe_orders} Hesabe) ...")
        before = stack.sandbox.stats()
        conc = P.concurrent_orders(stack, args.orders, args.users, args.hesabe_orders,
                                   ["DY6L", "NBL7", "XY7Z", "JSV5"], ["29708454", "48515"])
        after = stack.sandbox.stats()
        crep = P.order_report(stack.admin_rpc, [r["order_id"] for r in conc["results"]])
        n_cad = conc["kinds"].count("CAD")
        c_ok = (len(crep) == args.orders and all(r["state"] == "sale" and r["posted"] == 1 for r in crep.values())
                and after["purchases_started"] - before["purchases_started"] == n_cad
                and after["pos_invoices_created"] - before["pos_invoices_created"] == args.orders - n_cad)

        hs = [r["send_server_ms"] for r in runs["helcim"] if r["send_server_ms"] is not None]
        ks = [r["send_server_ms"] for r in runs["hesabe"] if r["send_server_ms"] is not None]
        hw = [r["webhook_server_ms"] for r in runs["helcim"] if r["webhook_server_ms"] is not None]
        dm = [r["server_ms"] for r in runs["demo"] if r["server_ms"] is not None]
        ratio = (med(hw) / med(dm)) if hw and dm else None
        summary = {
            "a_helcim_send_server_ms": med(hs),
            "a_helcim_send_rtt_ms": med([r["send_rtt_ms"] for r in runs["helcim"]]),
            "a_hesabe_send_server_ms": med(ks),
            "a_hesabe_send_rtt_ms": med([r["send_rtt_ms"] for r in runs["hesabe"]]),
            "a_helcim_send_queries": med([r["send_queries"] for r in runs["helcim"] if r["send_queries"]]),
            "b_helcim_webhook_server_ms": med(hw),
            "b_helcim_webhook_sql_ms": med([r["webhook_sql_ms"] for r in runs["helcim"] if r["webhook_sql_ms"] is not None]),
            "b_helcim_webhook_queries": med([r["webhook_queries"] for r in runs["helcim"] if r["webhook_queries"]]),
            "b_helcim_tap_to_200_ms": med([r["webhook_e2e_ms"] for r in runs["helcim"]]),
            "b_demo_server_ms": med(dm),
            "b_demo_rtt_ms": med([r["rtt_ms"] for r in runs["demo"]]),
            "b_demo_queries": med([r["queries"] for r in runs["demo"]]),
            "b_ratio_helcim_over_demo": ratio,
            "b_sequential_orders_ok": seq_ok,
            "c_orders": len(crep), "c_all_confirmed_one_request_each": c_ok, "c_wall_s": conc["wall_s"],
            "c_errors": conc["errors"],
            "c_send_rtt_median_ms": med([r["send_ms"] for r in conc["results"]]),
        }
        c_lines = [r for r in stack.requests_since(0) if r["path"].startswith("/posbridge/webhook/")][-n_cad:]
        summary["c_webhook_server_median_ms"] = med([r["server_ms"] for r in c_lines])
        out = {
            "date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": f"{platform.machine()}, {P.os.cpu_count()} cores",
            "posbridge_build": stack.build, "odoo_python": stack.python, "workers": 2, "database": stack.db,
            "iterations": args.iterations, "warmup": args.warmup, "summary": summary, "runs": runs,
            "concurrent": conc, "targets": {"a_send_server_ms": 150, "b_ratio": 1.3},
        }
        rows = [
            ("(a) Helcim push: action_send server time", f"{summary['a_helcim_send_server_ms']:.1f} ms", "≤ 150 ms",
             summary["a_helcim_send_server_ms"] <= 150),
            ("(a) Helcim push: client round trip", f"{summary['a_helcim_send_rtt_ms']:.1f} ms", "", None),
            ("(a) Hesabe push: action_send server time", f"{summary['a_hesabe_send_server_ms']:.1f} ms", "≤ 150 ms",
             summary["a_hesabe_send_server_ms"] <= 150),
            ("(a) Hesabe push: client round trip", f"{summary['a_hesabe_send_rtt_ms']:.1f} ms", "", None),
            ("(b) Helcim webhook -> confirmed + posted (server)",
             f"{summary['b_helcim_webhook_server_ms']:.1f} ms ({summary['b_helcim_webhook_queries']:.0f} queries, "
             f"SQL {summary['b_helcim_webhook_sql_ms']:.0f} ms)", "", None),
            ("(b) Helcim: customer taps -> sandbox sees 200", f"{summary['b_helcim_tap_to_200_ms']:.1f} ms", "", None),
            ("(b) payment_demo simulate + poll (server)",
             f"{summary['b_demo_server_ms']:.1f} ms ({summary['b_demo_queries']:.0f} queries)", "", None),
            ("(b) ratio Helcim / payment_demo", f"{ratio:.2f}x" if ratio else "n/a", "≤ 1.3x",
             ratio is not None and ratio <= 1.3),
            (f"(c) {args.orders} orders, {args.users} users, --workers=2: wall time",
             f"{conc['wall_s']:.1f} s", "all confirmed, 1 request each", c_ok),
            ("(c) webhook server time under load (median)", f"{summary['c_webhook_server_median_ms']:.0f} ms", "", None),
        ]
        print()
        print(f"posbridge build: {stack.build}; Odoo {args.series} --workers=2, {P.os.cpu_count()} cores; "
              f"medians of {args.iterations} iterations after {args.warmup} warm-up")
        print("| metric | value | target | met |")
        print("|---|---|---|---|")
        for name, val, target, met in rows:
            print(f"| {name} | {val} | {target} | {'' if met is None else ('yes' if met else 'NO')} |")
        if conc["errors"]:
            print("(c) errors: " + "; ".join(conc["errors"][:5]))
        Path(args.out).write_text(json.dumps(out, indent=1, default=str) + "\n")
        say(f"wrote {args.out}; total {time.monotonic() - t_start:.0f} s")
        return 0 if seq_ok else 1
    finally:
        dog.cancel()
        stack.close()


if __name__ == "__main__":
    sys.exit(main())
