/** @odoo-module */
// Hesabe and Helcim terminals in the Point of Sale: the behaviour, written once for every Odoo
// series. The truth is on the server (posbridge.pos.request, one per payment line and attempt):
// this code asks for a request, waits for its final state and shows it. Each series' own
// posbridge_payment.js gives it that series' PaymentInterface, registration and method names
// (Odoo 18: snake_case, Odoo 19: camelCase; see odoo_addon/SERIES.md).

import { onMounted } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { browser } from "@web/core/browser/browser";
import { AlertDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { ConnectionLostError, RPCError } from "@web/core/network/rpc";

export const TERMINALS = ["hesabe_pos", "helcim_terminal"];
// The server asks the vendor at most every 2.5 s per request, however many tabs ask (Hesabe has
// no webhook for its POS); Helcim's signed webhook reaches the register over the bus at once, so
// its poll is only the fallback for a lost webhook.
export const POLL_MS = { hesabe_pos: 3000, helcim_terminal: 10000 };
// Odoo unreachable while sending: the same line and attempt are asked again (never a second request).
const RESEND_MS = 3000;
const FINAL = ["done", "declined", "cancelled", "error"];
const WAITING = ["waiting", "waitingCard", "force_done", "waitingCancel"];

const errorText = (error) => error.data?.message || error.message || String(error);

/**
 * The payment interface of posbridge's terminals, on top of a series' `PaymentInterface`.
 *
 * @param {Function} PaymentInterface the series' base class
 * @param {object} line_ the series' payment line accessors: `status(line)`, `setStatus(line, s)`,
 *     `settle(line, ok)` (handle the payment response), `amount(line)`, `addReceipt(line, text)`,
 *     `isDone(line)`, `partner(order)`
 */
export function posbridgePaymentClass(PaymentInterface, line_) {
    return class PosbridgePayment extends PaymentInterface {
        setup() {
            super.setup(...arguments);
            this.resolvers = {}; // line uuid -> resolve(boolean) of the request's promise
            this.watching = new Set(); // references being followed
            this.wakers = {}; // reference -> wake the follow loop now (bus ping)
        }

        get lineApi() {
            return line_;
        }

        _line(uuid) {
            for (const order of this.pos.models["pos.order"].getAll()) {
                const line = order.payment_ids.find((l) => l.uuid === uuid);
                if (line) {
                    return line;
                }
            }
        }

        _call(method, ...args) {
            return this.pos.data.call("pos.payment.method", method, [[this.payment_method_id.id], ...args]);
        }

        /** The series' send_payment_request / sendPaymentRequest. */
        posbridgeRequest(uuid) {
            const line = this._line(uuid);
            // a new attempt once the previous one has a final answer; the same one otherwise
            const attempt = line.posbridge_reference ? (line.posbridge_attempt || 1) + 1 : line.posbridge_attempt || 1;
            line.update({ posbridge_attempt: attempt, posbridge_reference: false });
            line.posbridgeStatus = _t("Sending to the terminal…");
            return new Promise((resolve) => {
                this.resolvers[uuid] = resolve;
                this._send(line, attempt);
            });
        }

        async _send(line, attempt) {
            const order = line.pos_order_id;
            let answer;
            try {
                answer = await this._call("posbridge_pos_send", {
                    config_id: this.pos.config.id,
                    order_uuid: order.uuid,
                    order_name: order.pos_reference || order.name || "",
                    line_uuid: line.uuid,
                    attempt,
                    amount: line_.amount(line),
                    partner_id: line_.partner(order)?.id || false,
                    terminal_id: this.chosenTerminal || false,
                    ...this._refundOf(order),
                });
            } catch (error) {
                if (error instanceof ConnectionLostError || !(error instanceof RPCError)) {
                    // The request may have reached the terminal: ask again for the same line and
                    // attempt (the server answers with the request it has, never a second one).
                    line.posbridgeStatus = _t("Connection to Odoo lost: trying again…");
                    if (this.resolvers[line.uuid]) {
                        setTimeout(() => this._send(line, attempt), RESEND_MS);
                    }
                    return;
                }
                this._finish(line, false, errorText(error));
                return;
            }
            if (answer.state === "error" && !answer.reference) {
                this._finish(line, false, answer.message); // refused before anything was sent
                return;
            }
            this._apply(line, answer);
        }

        get _terminalKey() {
            return `posbridge.terminal.${this.pos.config.id}.${this.payment_method_id.id}`;
        }

        /** The terminal the cashier chose for this method on this register (kept in this
         * browser), or false: the register's. */
        get chosenTerminal() {
            return parseInt(browser.localStorage.getItem(this._terminalKey)) || false;
        }

        /** The cashier picks another of the company's terminals for this method (a busy or
         * broken one): the next request goes there. */
        async chooseTerminal(askChoice) {
            let terminals;
            try {
                terminals = await this._call("posbridge_pos_terminals", this.pos.config.id);
            } catch (error) {
                this._showError(errorText(error));
                return;
            }
            const current = this.chosenTerminal || terminals.find((t) => t.default)?.id;
            const chosen = await askChoice({
                title: _t("Pay on which terminal?"),
                list: terminals.map((t) => ({
                    id: t.id,
                    label: t.busy ? _t("%s (busy)", t.name) : t.name,
                    isSelected: t.id === current,
                    item: t.id,
                })),
            });
            if (chosen) {
                browser.localStorage.setItem(this._terminalKey, String(chosen));
            }
        }

        /** A refund order's originals: the server refunds their payment through this
         * provider (capped at what is left to refund of it), never an unrelated one. */
        _refundOf(order) {
            const originals = new Set();
            for (const orderLine of order.lines || []) {
                const original = orderLine.refunded_orderline_id?.order_id;
                if (original) {
                    originals.add(original);
                }
            }
            if (!originals.size) {
                return {};
            }
            const paid = [...originals].flatMap((o) => o.payment_ids || []).find(
                (p) => p.posbridge_reference && p.payment_method_id?.id === this.payment_method_id.id && p.amount > 0
            );
            return {
                refund_of: paid?.posbridge_reference || false,
                refunded_order_ids: [...originals].map((o) => o.id).filter((id) => typeof id === "number"),
            };
        }

        /** The server's word on the line's request: wait on, or settle the line. */
        _apply(line, answer) {
            if (answer.reference && !line.posbridge_reference) {
                line.update({ posbridge_reference: answer.reference });
            }
            line.posbridgeTerminal = answer.terminal || line.posbridgeTerminal;
            if (!FINAL.includes(answer.state)) {
                const refund = answer.kind === "refund";
                line_.setStatus(line, answer.outcome_unknown ? "force_done" : "waitingCard");
                line.posbridgeStatus = answer.outcome_unknown
                    ? _t("Reply lost: checking with terminal %s…", answer.terminal)
                    : answer.message && refund
                    ? answer.message
                    : refund
                    ? _t("Refund on terminal %s: the customer taps the card", answer.terminal)
                    : _t("Waiting on terminal %s", answer.terminal);
                this._watch(line);
                return;
            }
            if (answer.state === "done") {
                line.update({
                    card_type: answer.card_type || "",
                    transaction_id: answer.vendor_reference || "",
                    payment_ref_no: answer.reference,
                });
                if (answer.receipt && !(line.ticket || "").includes(answer.reference)) {
                    line_.addReceipt(line, answer.receipt);
                }
                this._finish(line, true, answer.message && answer.kind === "refund" ? answer.message : false, "info");
            } else {
                this._finish(line, false, answer.message);
            }
        }

        _finish(line, ok, message, level = "danger") {
            line.posbridgeStatus = ok ? false : message || false;
            const resolve = this.resolvers[line.uuid];
            delete this.resolvers[line.uuid];
            if (resolve) {
                resolve(ok);
            } else if (line_.status(line) !== (ok ? "done" : "retry")) {
                line_.settle(line, ok); // resumed after a reload: nobody awaits the promise
            }
            if (message && ok) {
                this.env.services.notification.add(message, { type: level, sticky: true });
            } else if (message) {
                this._showError(message);
            }
        }

        /** Follow the line's request until it is final: asked every POLL_MS, and at once when
         * the register's bus says it moved on. */
        async _watch(line) {
            const reference = line.posbridge_reference;
            if (!reference || this.watching.has(reference)) {
                return;
            }
            this.watching.add(reference);
            const every = POLL_MS[this.payment_method_id.use_payment_terminal] || 5000;
            try {
                while (this._stillWaiting(line, reference)) {
                    await new Promise((wake) => {
                        this.wakers[reference] = wake;
                        setTimeout(wake, every);
                    });
                    if (!this._stillWaiting(line, reference)) {
                        break;
                    }
                    let answer;
                    try {
                        answer = await this._call("posbridge_pos_status", this.pos.config.id, reference);
                    } catch (error) {
                        if (error instanceof RPCError) {
                            this._finish(line, false, errorText(error));
                            break;
                        }
                        continue; // Odoo unreachable: the request is safe on the server; ask again
                    }
                    if (this._stillWaiting(line, reference)) {
                        this._apply(line, answer);
                    }
                }
            } finally {
                this.watching.delete(reference);
                delete this.wakers[reference];
            }
        }

        _stillWaiting(line, reference) {
            return (
                line.posbridge_reference === reference &&
                line.pos_order_id?.payment_ids.includes(line) &&
                WAITING.includes(line_.status(line))
            );
        }

        /** The register's bus said the request moved on: ask now. */
        wake(reference) {
            this.wakers[reference]?.();
        }

        /** After a reload, or back on the payment screen: follow the line's open request again. */
        resume(line) {
            if (line.posbridge_reference && !line_.isDone(line) && WAITING.includes(line_.status(line))) {
                this._watch(line);
                this.wake(line.posbridge_reference);
            }
        }

        /** The series' send_payment_cancel / sendPaymentCancel: true when the line may be dropped
         * or retried, false when it keeps waiting (paid after all, or Odoo unreachable). */
        async posbridgeCancel(uuid) {
            const line = this._line(uuid);
            const reference = line?.posbridge_reference;
            if (!reference) {
                // nothing reached a terminal yet: stop asking (a request the server made anyway
                // is followed by its cron and shown to the manager if it is paid)
                if (line) {
                    this._finish(line, false);
                }
                return true;
            }
            let answer;
            try {
                answer = await this._call("posbridge_pos_cancel", this.pos.config.id, reference);
            } catch (error) {
                this._showError(
                    error instanceof RPCError
                        ? errorText(error)
                        : _t("Odoo cannot be reached: the request is still open. Try again in a moment.")
                );
                return false;
            }
            if (answer.state === "done") {
                // paid after all: the line goes back to waiting, then done on the next tick
                setTimeout(() => this._apply(line, answer));
                return false;
            }
            this._finish(line, false);
            this.env.services.notification.add(
                _t(
                    "Cancelled in Odoo. If terminal %s still shows it, cancel it on the device: a payment made there anyway is still recorded.",
                    answer.terminal
                ),
                { type: "warning", sticky: true }
            );
            return true;
        }

        /** Force done: a POS manager records, with a reason, a payment the vendor cannot be
         * asked about (the request keeps being checked). */
        async forceDone(line, reason) {
            try {
                const answer = await this._call(
                    "posbridge_pos_force_done", this.pos.config.id, line.posbridge_reference, reason
                );
                this._apply(line, answer);
                return answer.state === "done";
            } catch (error) {
                this._showError(errorText(error));
                return false;
            }
        }

        /** The customer at the embedded sandbox's terminal (demos and tours only). */
        async simulate(line, outcome) {
            const reference = line.posbridge_reference;
            try {
                const answer = await this._call("posbridge_pos_simulate", this.pos.config.id, reference, outcome);
                if (this._stillWaiting(line, reference)) {
                    this._apply(line, answer);
                }
            } catch (error) {
                this._showError(errorText(error));
            }
        }

        _showError(message) {
            this.env.services.dialog.add(AlertDialog, { title: _t("Card terminal"), body: message });
        }
    };
}

export const isPosbridgeLine = (line) => TERMINALS.includes(line?.payment_method_id?.use_payment_terminal);

/** The register's bus: the message names a reference only (the channel is protected by its
 * name), and the line's terminal asks the server for the rest. */
export function listenToTheRegistersBus(pos) {
    pos.data.connectWebSocket("POSBRIDGE_UPDATE", ({ reference }) => {
        const line = pos.models["pos.payment"].find((l) => l.posbridge_reference === reference);
        if (isPosbridgeLine(line)) {
            line.payment_method_id.payment_terminal.wake(reference);
        }
    });
}

/** A reload, or back on the payment screen, with a request still open: follow it again. */
export function resumeOpenRequests(paymentLines) {
    for (const line of paymentLines.filter(isPosbridgeLine)) {
        line.payment_method_id.payment_terminal.resume(line);
    }
}

/** Force done for a posbridge line: a reason, then the server (POS managers only). Returns
 * undefined when Odoo's own Force done applies (another terminal). */
export async function posbridgeForceDone(line, askReason) {
    if (!isPosbridgeLine(line)) {
        return undefined;
    }
    const terminal = line.payment_method_id.payment_terminal;
    if (!line.posbridge_reference) {
        terminal._showError(
            _t("Nothing has reached a terminal for this line yet: wait for it, or delete the line.")
        );
        return false;
    }
    const reason = await askReason({
        title: _t("Force done only if the terminal printed APPROVED: why?"),
        placeholder: _t("e.g. the slip says APPROVED, auth 123456"),
    });
    if (!reason || !reason.trim()) {
        return false;
    }
    return terminal.forceDone(line, reason);
}

/** Patch the series' store and screens (passed in: their import paths differ by series): the
 * register's bus, resuming open requests on the payment screen, posbridge's Force done, the
 * cashier's choice of terminal and the embedded sandbox's customer buttons on the payment line. */
export function patchThePos({
    PosStore,
    PaymentScreen,
    PaymentScreenPaymentLines,
    SelectionPopup,
    TextInputPopup,
    makeAwaitable,
}) {
    patch(PosStore.prototype, {
        async setup() {
            await super.setup(...arguments);
            listenToTheRegistersBus(this);
        },
    });
    patch(PaymentScreen.prototype, {
        setup() {
            super.setup(...arguments);
            onMounted(() => resumeOpenRequests(this.paymentLines));
        },
        async sendForceDone(line) {
            const forced = await posbridgeForceDone(line, (props) =>
                makeAwaitable(this.dialog, TextInputPopup, props)
            );
            if (forced === undefined) {
                return super.sendForceDone(...arguments);
            }
        },
    });
    patch(PaymentScreenPaymentLines.prototype, {
        posbridgeSimulate(line, outcome) {
            return line.payment_method_id.payment_terminal.simulate(line, outcome);
        },
        isPosbridgeLine(line) {
            return isPosbridgeLine(line);
        },
        posbridgeChooseTerminal(line) {
            return line.payment_method_id.payment_terminal.chooseTerminal((props) =>
                makeAwaitable(this.env.services.dialog, SelectionPopup, props)
            );
        },
    });
}
