/** @odoo-module */
// Odoo 19's side of posbridge's POS terminals: its PaymentInterface (camelCase, new paths),
// registration, payment line accessors and the paths of the screens posbridge patches. The
// behaviour is in posbridge_core.js, shared by every series.

import { PaymentInterface } from "@point_of_sale/app/utils/payment/payment_interface";
import { PosStore, register_payment_method } from "@point_of_sale/app/services/pos_store";
import { PaymentScreen } from "@point_of_sale/app/screens/payment_screen/payment_screen";
import { PaymentScreenPaymentLines } from "@point_of_sale/app/screens/payment_screen/payment_lines/payment_lines";
import { SelectionPopup } from "@point_of_sale/app/components/popups/selection_popup/selection_popup";
import { TextInputPopup } from "@point_of_sale/app/components/popups/text_input_popup/text_input_popup";
import { makeAwaitable } from "@point_of_sale/app/utils/make_awaitable_dialog";
import { patchThePos, posbridgePaymentClass, TERMINALS } from "@pos_posbridge/app/posbridge_core";

const line19 = {
    status: (line) => line.getPaymentStatus(),
    setStatus: (line, status) => line.setPaymentStatus(status),
    settle: (line, ok) => line.handlePaymentResponse(ok),
    amount: (line) => line.getAmount(),
    addReceipt: (line, text) => line.setReceiptInfo(text),
    isDone: (line) => line.isDone(),
    partner: (order) => order.getPartner(),
};

export class PosbridgePayment extends posbridgePaymentClass(PaymentInterface, line19) {
    sendPaymentRequest(uuid) {
        super.sendPaymentRequest(uuid);
        return this.posbridgeRequest(uuid);
    }

    sendPaymentCancel(order, uuid) {
        super.sendPaymentCancel(order, uuid);
        return this.posbridgeCancel(uuid);
    }
}

for (const terminal of TERMINALS) {
    register_payment_method(terminal, PosbridgePayment);
}
patchThePos({ PosStore, PaymentScreen, PaymentScreenPaymentLines, SelectionPopup, TextInputPopup, makeAwaitable });
