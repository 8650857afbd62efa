/** @odoo-module **/
// The salesperson presses Pay on terminal, confirms the wizard and waits; the customer pays on
// the (sandbox) device, and the open form shows the order confirmed without a reload.

import { registry } from "@web/core/registry";

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
        },
        {
            content: "Check status: not paid yet (the customer at the sandbox waits for this call)",
            trigger: ".o_posbridge_banner button[name='action_posbridge_check_status']",
            run: "click",
        },
        {
            content: "Paid on the device: the form shows the order confirmed, without a reload",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Sales Order)",
            timeout: 30000,
        },
        {
            content: "The banner is gone",
            trigger: "body:not(:has(.o_posbridge_banner_text:contains(Waiting for)))",
        },
    ],
});
