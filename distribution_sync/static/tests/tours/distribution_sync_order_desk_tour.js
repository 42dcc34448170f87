/** @odoo-module */
// Copyright 2026 distribution_sync maintainers
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// The order desk starts its day on the overview, follows the held orders to the
// quotation a check stopped, reads why on the order and releases it.
registry.category("web_tour.tours").add("distribution_sync_order_desk_tour", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps(
            "distribution_sync.menu_distribution_sync_root",
            "Open the Sync app"
        ),
        {
            content: "Orders held are counted on the overview",
            trigger:
                'button[name="action_open_orders_held"] .o_stat_value:not(:contains(/^0$/))',
        },
        {
            content: "Open the orders held",
            trigger: 'button[name="action_open_orders_held"]',
            run: "click",
        },
        {
            content: "The held quotation is listed",
            trigger: ".o_list_view .o_data_row:contains(Held Desk Customer) td.o_data_cell",
            run: "click",
        },
        {
            content: "The order says what holds it",
            trigger: ".o_form_view .alert-warning:contains(Held by)",
        },
        {
            content: "Release it",
            trigger: 'button[name="action_distribution_sync_release"]',
            run: "click",
        },
        {
            content: "Confirm the release",
            trigger: ".modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The release is confirmed by a notification",
            trigger: ".o_notification:contains(released)",
        },
        {
            content: "The order is a sales order now",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(Sales Order)",
        },
        {
            content: "Back to the overview",
            trigger: ".o_breadcrumb .breadcrumb-item:first-child a",
            run: "click",
        },
        {
            content: "Open the orders held again",
            trigger: 'button[name="action_open_orders_held"]',
            run: "click",
        },
        {
            content: "The held orders are listed",
            trigger: ".o_breadcrumb .active:contains(Orders held)",
        },
        {
            content: "The released order is no longer among them",
            trigger: ".o_list_view:not(:has(.o_data_row:contains(Held Desk Customer)))",
        },
    ],
});
