/** @odoo-module **/
// An open sale order form reloads itself when its terminal request is paid, declined or
// cancelled: the server sends `posbridge.terminal_update` on the bus to the users concerned.

import { FormController } from "@web/views/form/form_controller";
import { patch } from "@web/core/utils/patch";
import { useService } from "@web/core/utils/hooks";
import { onWillUnmount } from "@odoo/owl";

patch(FormController.prototype, {
    setup() {
        super.setup(...arguments);
        if (this.props.resModel !== "sale.order") {
            return;
        }
        const busService = useService("bus_service");
        const onUpdate = async ({ sale_order_ids }) => {
            const record = this.model.root;
            if (record.resId && sale_order_ids.includes(record.resId) && !record.dirty) {
                await record.load();
            }
        };
        busService.subscribe("posbridge.terminal_update", onUpdate);
        onWillUnmount(() => busService.unsubscribe("posbridge.terminal_update", onUpdate));
    },
});
