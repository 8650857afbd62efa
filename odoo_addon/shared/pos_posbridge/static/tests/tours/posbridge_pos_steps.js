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
/** The terminal's reference on the receipt is the order's number, printed on the same receipt,
 * and the request's number on that order (the vendor's invoice number). */
const receiptReference = (attempt) => ({
    content: `the receipt's reference is the order's number, request ${attempt}`,
    trigger: ".receipt-screen .pos-receipt:contains('Reference: ')",
    run: function () {
        const text = this.anchor.textContent;
        const found = text.match(/Reference: ([0-9A-Za-z-]+)-(\d+)/);
        if (!found || found[2] !== String(attempt) || text.split(found[1]).length < 3) {
            throw new Error(`the receipt's reference is not the order's number, request ${attempt}: ${text}`);
        }
    },
});

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
        receiptReference(1),
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
        receiptReference(2),
        U.ReceiptScreen.clickNextOrder(),
    ].flat();
}

/** Helcim: the order just paid by card is refunded from the ticket screen with the same method.
 * The same day, all of it goes back by a reversal through the Payment API, at once: the refund's
 * line is done without the device and the receipt names the payment it refunds. */
export function helcimRefund(U) {
    return [
        helcimPay(U),
        U.ProductScreen.clickRefund(),
        click(".ticket-screen .order-row", "the order just paid"),
        U.ProductScreen.clickNumpad("1"),
        U.TicketScreen.confirmRefund(),
        U.toRefundPayment(),
        U.PaymentScreen.clickPaymentMethod("Helcim card"),
        U.sendRefund(),
        U.ReceiptScreen.isShown(),
        receiptShows("Refund of "),
        receiptReference(1),
        U.ReceiptScreen.clickNextOrder(),
    ].flat(Infinity);
}
