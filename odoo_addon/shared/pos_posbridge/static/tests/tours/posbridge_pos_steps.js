/** @odoo-module */
// The Point of Sale tours' steps, written once: each series' pos_posbridge_tours.js passes its
// own POS tour utilities (their import paths differ between series) and registers the tours.

const line = (text) => ({
    content: `the payment line says "${text}"`,
    trigger: `.paymentline .electronic_status:contains("${text}")`,
});
const receiptShows = (text) => ({
    content: `the receipt shows "${text}"`,
    trigger: `.receipt-screen .pos-receipt:contains("${text}")`,
});
const click = (trigger, content) => ({ content, trigger, run: "click" });

function sell(U) {
    return [
        U.Chrome.startPoS(),
        U.Dialog.confirm("Open Register"),
        U.ProductScreen.addOrderline("Espresso machine", "1"),
        U.ProductScreen.clickPayButton(),
    ].flat();
}

/** Helcim: the customer taps at the sandbox (the test's thread); webhook → bus → done. */
export function helcimPay(U) {
    return [
        sell(U),
        U.PaymentScreen.clickPaymentMethod("Helcim card"),
        line("Waiting on terminal DY6L"),
        U.ReceiptScreen.isShown(),
        receiptShows("Card: VI"),
        receiptShows("Reference: PBP-"),
        U.ReceiptScreen.clickNextOrder(),
    ].flat();
}

/** Hesabe: declined on the terminal, the cashier reads why, moves to another terminal and
 * retries there; paid. */
export function declineThenRetry(U) {
    return [
        sell(U),
        U.PaymentScreen.clickPaymentMethod("KNET (Hesabe)"),
        line("Waiting on terminal A99"),
        click(".posbridge_simulate_declined", "the customer declines on the terminal"),
        U.Dialog.is({ title: "Card terminal" }),
        U.Dialog.confirm(),
        click(".posbridge_choose_terminal", "the cashier moves to another terminal"),
        click(".modal .selection-item:contains('terminal1323')", "terminal1323"),
        click(".paymentline .send_payment_request:contains('Retry')", "retry"),
        line("Waiting on terminal terminal1323"),
        click(".posbridge_simulate_paid", "the customer pays on the terminal"),
        U.ReceiptScreen.isShown(),
        receiptShows("Reference: PBP-"),
        U.ReceiptScreen.clickNextOrder(),
    ].flat();
}
