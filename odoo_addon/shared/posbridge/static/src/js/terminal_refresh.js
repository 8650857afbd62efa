/** @odoo-module **/
// An open sale order or invoice form shows the result of its terminal request or Hesabe payment
// link by itself: the server sends `posbridge.terminal_update` on the bus to the users
// concerned, and the form reloads.
//
// The notification can reach a form at any moment of its life: before its record exists (a
// soft reload builds a new form, which subscribes in setup and loads afterwards), while it
// loads or saves, with unsaved edits, twice in a row, or as the form closes. So it is only
// remembered, by order id; the record is reloaded once it is there, mounted and without
// unsaved edits, and once more if another notification came during that reload.
//
// A form opened just after its request was sent already shows it waiting, and still receives
// the "sent" notification (Odoo's bus hands a new tab what the last 50 s brought): that one is
// not reloaded for, so a salesperson typing in the fresh form loses nothing to a needless reload.

import { _t } from "@web/core/l10n/translation";
import { useService } from "@web/core/utils/hooks";
import { patch } from "@web/core/utils/patch";
import { FormController } from "@web/views/form/form_controller";
import { onWillUnmount, status, useEffect } from "@odoo/owl";

export const TERMINAL_UPDATE = "posbridge.terminal_update";
/** The notification's list of record ids for each form's model. */
const IDS_OF = { "sale.order": "sale_order_ids", "account.move": "invoice_ids" };
/** A transaction in these states is a request still waiting for the customer. */
const OPEN_STATES = ["draft", "pending"];
/** The form's fields naming the request it shows waiting (terminal, payment link). */
const OPEN_FIELDS = ["posbridge_pending_transaction_id", "posbridge_link_transaction_id"];

/** The id of a many2one's value: `[id, name]` on 18.0 for a field the form never shows,
 * `{ id }` on 19.0. */
function idOf(value) {
    return Array.isArray(value) ? value[0] : value?.id;
}

/** Whether `record` already shows the request of `payload` waiting, as the payload says it is. */
function showsAlready(record, payload) {
    return (
        OPEN_STATES.includes(payload.state) &&
        OPEN_FIELDS.some((name) => idOf(record.data[name]) === payload.transaction_id)
    );
}

patch(FormController.prototype, {
    setup() {
        super.setup(...arguments);
        const idsKey = IDS_OF[this.props.resModel];
        if (!idsKey) {
            return;
        }
        const busService = useService("bus_service");
        const notification = useService("notification");
        const answered = new Map(); // record id → the notifications this form has not shown yet
        let busy = false;
        let again = false;
        let toldToSave = false;

        /** Reload the record if its result is not shown yet and nothing of the user's is lost. */
        const showAnswer = async () => {
            const record = this.model.root;
            if (status(this) !== "mounted" || !record?.resId || !answered.has(record.resId)) {
                return;
            }
            if (answered.get(record.resId).every((payload) => showsAlready(record, payload))) {
                answered.delete(record.resId);
                return;
            }
            // Like Odoo before it leaves a form: what is typed but not committed counts too.
            if (await record.isDirty()) {
                if (!toldToSave) {
                    toldToSave = true;
                    notification.add(
                        _t("The payment's result has arrived. Save or discard your changes to see it."),
                        { type: "info" }
                    );
                }
                return;
            }
            if (status(this) !== "mounted" || record !== this.model.root) {
                return; // closed, or another record shown meanwhile: the effect below looks again
            }
            answered.delete(record.resId);
            toldToSave = false;
            await record.load();
        };
        /** One reload at a time; whatever arrives meanwhile is looked at when it is done. */
        const showAnswers = async () => {
            if (busy) {
                again = true;
                return;
            }
            busy = true;
            try {
                do {
                    again = false;
                    await showAnswer();
                } while (again);
            } finally {
                busy = false;
            }
        };

        const onTerminalUpdate = (payload) => {
            for (const id of payload[idsKey] || []) {
                answered.set(id, [...(answered.get(id) || []), payload]);
            }
            showAnswers();
        };
        busService.subscribe(TERMINAL_UPDATE, onTerminalUpdate);
        onWillUnmount(() => busService.unsubscribe(TERMINAL_UPDATE, onTerminalUpdate));
        // Runs after the first load, after a load of another record, and after a save or a
        // discard: whatever was remembered meanwhile is shown then.
        useEffect(
            () => {
                showAnswers();
            },
            () => [this.model.root, this.model.root?.dirty]
        );
    },
});
