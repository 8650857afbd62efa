/** @odoo-module **/
// The salesperson presses Pay on terminal, confirms the wizard and waits; the customer pays on
// the (sandbox) device, and the open form shows the order confirmed without a reload.
//
// The payment's notification is made to reach the form at its most awkward moment, whatever
// the machine's speed: Check status answers with a soft reload, which builds a new form; the
// answer to that form's first read is held in this tab until the notification has arrived
// (the test's customer pays only once that read has reached the server). The new form has
// subscribed to the bus but has no record yet when the notification comes.

import { browser } from "@web/core/browser/browser";
import { registry } from "@web/core/registry";

const TERMINAL_UPDATE = "posbridge.terminal_update";

/**
 * Hold the answer to the next read of a sale order in this tab until a terminal update has
 * arrived, then let it through. `document.body.dataset.posbridgeGate` says how it went:
 * "notified-while-loading" when the notification came while that answer was held.
 */
function holdNextOrderReadUntilNotified() {
    const bus = odoo.__WOWL_DEBUG__.root.env.services.bus_service;
    const gate = { held: false };
    let release;
    const notified = new Promise((resolve) => (release = resolve));
    const onUpdate = () => {
        bus.unsubscribe(TERMINAL_UPDATE, onUpdate);
        document.body.dataset.posbridgeGate = gate.held ? "notified-while-loading" : "notified-before-loading";
        release();
    };
    bus.subscribe(TERMINAL_UPDATE, onUpdate);
    const RealXHR = browser.XMLHttpRequest;
    browser.XMLHttpRequest = class extends RealXHR {
        open(method, url, ...rest) {
            if (!gate.held && String(url).includes("/sale.order/web_read")) {
                gate.held = this.posbridgeHeld = true;
                browser.XMLHttpRequest = RealXHR;
            }
            return super.open(method, url, ...rest);
        }
        addEventListener(type, listener, ...rest) {
            if (type !== "load") {
                return super.addEventListener(type, listener, ...rest);
            }
            const held = (event) =>
                this.posbridgeHeld ? notified.then(() => listener.call(this, event)) : listener.call(this, event);
            return super.addEventListener(type, held, ...rest);
        }
    };
}

registry.category("web_tour.tours").add("posbridge_pay_on_terminal", {
    steps: () => [
        {
            content: "Press Pay on terminal",
            trigger: "button[name='action_posbridge_pay']",
            run: "click",
        },
        {
            content: "The wizard proposes the salesperson's terminal",
            trigger: ".modal .o_field_widget[name='terminal_id'] input:value(DY6L)",
        },
        {
            content: "Send the amount to the terminal",
            trigger: ".modal button[name='action_send']:contains(Send to terminal)",
            run: "click",
        },
        {
            content: "The order waits for the terminal",
            trigger: ".o_posbridge_banner:not(.d-none) .o_posbridge_banner_text:contains(Waiting for)",
            run: holdNextOrderReadUntilNotified,
        },
        {
            content: "Check status: not paid yet; its soft reload builds a new form, whose read is held",
            trigger: ".o_posbridge_banner button[name='action_posbridge_check_status']",
            run: "click",
        },
        {
            content: "Paid on the device: the form shows the order confirmed, without a reload",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Sales Order)",
            timeout: 30000,
        },
        {
            content: "The notification did reach the new form while its record was loading",
            trigger: "body[data-posbridge-gate='notified-while-loading']",
        },
        {
            content: "The banner is gone",
            trigger: "body:not(:has(.o_posbridge_banner_text:contains(Waiting for)))",
        },
    ],
});

/** Ask the test to act (pay on the device, or send terminal updates): see test_ui.py. */
function signal(what, orders = []) {
    const orm = odoo.__WOWL_DEBUG__.root.env.services.orm;
    return orm.call("sale.order", "posbridge_tour_signal", [[], what, orders]);
}

/** Count the terminal updates this tab receives from now on, in `body[data-posbridge-updates]`. */
function countUpdates() {
    const bus = odoo.__WOWL_DEBUG__.root.env.services.bus_service;
    document.body.dataset.posbridgeUpdates = "0";
    bus.subscribe(TERMINAL_UPDATE, () => {
        document.body.dataset.posbridgeUpdates = String(Number(document.body.dataset.posbridgeUpdates) + 1);
    });
}

registry.category("web_tour.tours").add("posbridge_live_refresh_edits", {
    steps: () => [
        {
            content: "The order waits for the terminal",
            trigger: ".o_posbridge_banner:not(.d-none) .o_posbridge_banner_text:contains(Waiting for)",
        },
        {
            content: "Open Other Info",
            trigger: "a[name='other_information']",
            run: "click",
        },
        {
            content: "Type the customer's reference: an unsaved edit",
            trigger: ".o_field_widget[name='client_order_ref'] input",
            run: "edit PO-777",
        },
        {
            content: "The form has unsaved changes; the customer pays on the device now",
            trigger: ".o_form_status_indicator .o_form_button_save",
            run: () => signal("pay"),
        },
        {
            content: "The salesperson is told the result is there; nothing is thrown away",
            trigger: ".o_notification:contains(Save or discard your changes to see it)",
        },
        {
            content: "The order is still a quotation",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Quotation)",
        },
        {
            content: "The edit is still in the form",
            trigger: ".o_field_widget[name='client_order_ref'] input:value(PO-777)",
        },
        {
            content: "Save",
            trigger: ".o_form_status_indicator .o_form_button_save",
            run: "click",
        },
        {
            content: "Saved: the form shows the order confirmed",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Sales Order)",
            timeout: 30000,
        },
        {
            content: "Updates for another order, then for this one twice in a row",
            trigger: ".o_field_widget[name='client_order_ref'] input:value(PO-777)",
            run: () => {
                countUpdates();
                return signal("notify", ["other", "this", "this"]);
            },
        },
        {
            content: "All three arrived; the form is still right",
            trigger: "body[data-posbridge-updates='3'] .o_statusbar_status button.o_arrow_button_current:contains(Sales Order)",
        },
        {
            content: "Leave the form",
            trigger: ".o_breadcrumb .breadcrumb-item a",
            run: "click",
        },
        {
            content: "An update for the closed form",
            trigger: ".o_list_view",
            run: () => signal("notify", ["this"]),
        },
        {
            content: "It arrived, and nothing broke",
            trigger: "body[data-posbridge-updates='4'] .o_list_view",
        },
    ],
});
