/** @odoo-module */
// Odoo 19's POS tour utilities, for the shared steps (posbridge_pos_steps.js).

import * as Chrome from "@point_of_sale/../tests/pos/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/generic_helpers/dialog_util";
import * as PaymentScreen from "@point_of_sale/../tests/pos/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/pos/tours/utils/product_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/pos/tours/utils/receipt_screen_util";
import * as TicketScreen from "@point_of_sale/../tests/pos/tours/utils/ticket_screen_util";
import { registry } from "@web/core/registry";
import { declineThenRetry, helcimPay, helcimRefund } from "@pos_posbridge/../tests/tours/posbridge_pos_steps";

// 19.0: a confirmed refund opens the payment screen.
const toRefundPayment = () => PaymentScreen.isShown();
// 19.0 sends a terminal's refund line when the cashier presses Refund under it.
const sendRefund = () => ({
    content: "the cashier sends the refund",
    trigger: ".paymentlines .send_refund_request",
    run: "click",
});
const U = { Chrome, Dialog, PaymentScreen, ProductScreen, ReceiptScreen, TicketScreen, toRefundPayment, sendRefund };
registry.category("web_tour.tours").add("posbridge_pos_helcim_pay", { steps: () => helcimPay(U) });
registry.category("web_tour.tours").add("posbridge_pos_decline_retry", { steps: () => declineThenRetry(U) });
registry.category("web_tour.tours").add("posbridge_pos_helcim_refund", { steps: () => helcimRefund(U) });
