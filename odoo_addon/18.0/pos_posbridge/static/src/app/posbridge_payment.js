/** @odoo-module */
// Odoo 18's side of posbridge's POS terminals: its PaymentInterface (snake_case), registration,
// payment line accessors and the paths of the screens posbridge patches. The behaviour is in
// posbridge_core.js, shared by every series.

import { PaymentInterface } from "@point_of_sale/app/payment/payment_interface";
import { PosStore, register_payment_method } from "@point_of_sale/app/store/pos_store";
import { PaymentScreen } from "@point_of_sale/app/screens/payment_screen/payment_screen";
import { PaymentScreenPaymentLines } from "@point_of_sale/app/screens/payment_screen/payment_lines/payment_lines";
import { SelectionPopup } from "@point_of_sale/app/utils/input_popups/selection_popup";
import { TextInputPopup } from "@point_of_sale/app/utils/input_popups/text_input_popup";
import { makeAwaitable } from "@point_of_sale/app/store/make_awaitable_dialog";
import { patchThePos, posbridgePaymentClass, TERMINALS } from "@pos_posbridge/app/posbridge_core";

const line18 = {
    status: (line) => line.get_payment_status(),
    setStatus: (line, status) => line.set_payment_status(status),
    settle: (line, ok) => line.handle_payment_response(ok),
    amount: (line) => line.get_amount(),
    addReceipt: (line, text) => line.set_receipt_info(text),
    isDone: (line) => line.is_done(),
    partner: (order) => order.get_partner(),
};

export class PosbridgePayment extends posbridgePaymentClass(PaymentInterface, line18) {
    send_payment_request(uuid) {
        super.send_payment_request(uuid);
        return this.posbridgeRequest(uuid);
    }

    send_payment_cancel(order, uuid) {
        super.send_payment_cancel(order, uuid);
        return this.posbridgeCancel(uuid);
    }
}

for (const terminal of TERMINALS) {
    register_payment_method(terminal, PosbridgePayment);
}
patchThePos({ PosStore, PaymentScreen, PaymentScreenPaymentLines, SelectionPopup, TextInputPopup, makeAwaitable });
