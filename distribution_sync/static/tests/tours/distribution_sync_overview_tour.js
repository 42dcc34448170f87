/** @odoo-module */
// Copyright 2026 distribution_sync maintainers
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// An operations manager opens the Sync app on its overview, follows the late
// deliveries figure to the pickings behind it, opens the late one and comes back.
registry.category("web_tour.tours").add("distribution_sync_overview_tour", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps(
            "distribution_sync.menu_distribution_sync_root",
            "Open the Sync app"
        ),
        {
            content: "The app opens on its overview",
            trigger: ".o_breadcrumb .active:contains(Overview)",
        },
        {
            content: "Late deliveries are counted",
            trigger:
                'button[name="action_open_late_deliveries"] .o_stat_value:not(:contains(/^0$/))',
        },
        {
            content: "Open the late deliveries",
            trigger: 'button[name="action_open_late_deliveries"]',
            run: "click",
        },
        {
            content: "The deliveries themselves are listed",
            trigger: ".o_breadcrumb .active:contains(Late deliveries)",
        },
        {
            content: "Open the late delivery of the customer",
            trigger: ".o_list_view .o_data_row:contains(Late Tour Customer) td.o_data_cell",
            run: "click",
        },
        {
            content: "The delivery form shows it, not yet done",
            trigger:
                ".o_form_view .o_field_widget[name=partner_id] input:value(Late Tour Customer)",
        },
        {
            content: "Back to the overview",
            trigger: ".o_breadcrumb .breadcrumb-item:first-child a",
            run: "click",
        },
        {
            content: "The overview again",
            trigger: 'button[name="action_open_late_deliveries"]',
        },
    ],
});
