/** @odoo-module */
// Odoo 18's POS tour utilities, for the shared steps (posbridge_pos_steps.js).

import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import * as TicketScreen from "@point_of_sale/../tests/tours/utils/ticket_screen_util";
import { registry } from "@web/core/registry";
import { declineThenRetry, helcimPay, helcimRefund } from "@pos_posbridge/../tests/tours/posbridge_pos_steps";

// 18.0: a confirmed refund opens the product screen; the cashier presses Payment.
const toRefundPayment = () => ProductScreen.clickPayButton();
// 18.0 sends a terminal's refund line as soon as it is added, as a payment's.
const sendRefund = () => [];
const U = { Chrome, Dialog, PaymentScreen, ProductScreen, ReceiptScreen, TicketScreen, toRefundPayment, sendRefund };
registry.category("web_tour.tours").add("posbridge_pos_helcim_pay", { steps: () => helcimPay(U) });
registry.category("web_tour.tours").add("posbridge_pos_decline_retry", { steps: () => declineThenRetry(U) });
registry.category("web_tour.tours").add("posbridge_pos_helcim_refund", { steps: () => helcimRefund(U) });
