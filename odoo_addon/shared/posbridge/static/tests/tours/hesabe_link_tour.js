/** @odoo-module **/
// The salesperson sends a quotation's Hesabe payment link (a link to share); the customer pays
// it on Hesabe's page (the sandbox), and the open form shows the order confirmed without a
// reload: Hesabe's webhook → Odoo asks Hesabe → the order is confirmed → Odoo's bus.

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("posbridge_hesabe_link", {
    steps: () => [
        {
            content: "Press Send Hesabe link",
            trigger: "button[name='action_posbridge_send_link']",
            run: "click",
        },
        {
            content: "A link to share this time",
            trigger: ".modal div[name='channel'] input[data-value='url']",
            run: "click",
        },
        {
            content: "The amount left is proposed",
            trigger: ".modal .o_field_widget[name='amount'] input:value(25.500)",
        },
        {
            content: "Send the link",
            trigger: ".modal button[name='action_send']",
            run: "click",
        },
        {
            content: "The order shows its open link, to copy",
            trigger: ".o_posbridge_link_banner:not(.d-none) .o_posbridge_link_banner_text:contains(to share with the customer)",
        },
        {
            content: "Check status: not paid yet (the customer at the sandbox waits for this lookup)",
            trigger: ".o_posbridge_link_banner button[name='action_posbridge_link_check']",
            run: "click",
        },
        {
            content: "The customer pays on Hesabe's page: the form shows the order confirmed, without a reload",
            trigger: ".o_statusbar_status button.o_arrow_button_current[data-value='sale']",
            timeout: 30000,
        },
        {
            content: "The link's banner is gone",
            trigger: "body:not(:has(.o_posbridge_link_banner_text:contains(Hesabe link)))",
        },
    ],
});
