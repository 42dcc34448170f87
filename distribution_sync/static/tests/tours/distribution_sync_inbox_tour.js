/** @odoo-module */
// Copyright 2026 distribution_sync maintainers
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// A channel order stopped on a SKU Odoo does not know. The consultant opens the
// inbox, maps the SKU to the product from the exception, retries, is told how it
// went, and goes on to the order it made.
registry.category("web_tour.tours").add("distribution_sync_inbox_tour", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps(
            "distribution_sync.menu_distribution_sync_root",
            "Open the Sync app"
        ),
        {
            content: "Open the inbox",
            trigger: '[data-menu-xmlid="distribution_sync.menu_distribution_sync_exception"]',
            run: "click",
        },
        {
            content: "The inbox lists the open problems, not folded in groups",
            trigger: ".o_list_view .o_data_row td[name=summary]:contains(TOUR-SKU-1)",
        },
        {
            content: "Open the missing SKU",
            trigger: ".o_list_view .o_data_row td[name=summary]:contains(TOUR-SKU-1)",
            run: "click",
        },
        {
            content: "The instruction is said once, apart from the problem",
            trigger: ".o_form_view .alert-info:contains(What to do)",
        },
        {
            content: "Create the mapping from the exception",
            trigger: 'button[name="action_create_mapping"]',
            run: "click",
        },
        {
            content: "The SKU is filled in",
            trigger: ".modal .o_field_widget[name=external_code] input:value(TOUR-SKU-1)",
        },
        {
            content: "Choose the product",
            trigger: ".modal .o_field_widget[name=product_id] input",
            run: "edit Tour Gadget",
        },
        {
            content: "Pick it in the list",
            trigger: ".o-autocomplete--dropdown-item:contains(Tour Gadget)",
            run: "click",
        },
        {
            content: "Save and retry",
            trigger: '.modal button[name="action_retry_exception"]',
            run: "click",
        },
        {
            content: "The retry says the order was made",
            trigger: ".o_notification:contains(done)",
        },
        {
            content: "The exception is resolved",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(Resolved)",
        },
        {
            content: "Go on to the order",
            trigger: 'button[name="action_open_document"]',
            run: "click",
        },
        {
            content: "The order holds the mapped product",
            trigger: ".o_form_view .o_field_widget[name=order_line] td:contains(Tour Gadget)",
        },
    ],
});
