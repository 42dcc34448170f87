/** @odoo-module */
// Copyright 2026 distribution_sync maintainers
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// The Sync app reached through its menus, as a user would: the web client, the app
// menu and the Backends list load together.
registry.category("web_tour.tours").add("distribution_sync_smoke_tour", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps(
            "distribution_sync.menu_distribution_sync_root",
            "Open the Sync app"
        ),
        {
            content: "Open the Configuration menu",
            trigger: 'button[data-menu-xmlid="distribution_sync.menu_distribution_sync_config"]',
            run: "click",
        },
        {
            content: "Open the backends",
            trigger:
                '.dropdown-item[data-menu-xmlid="distribution_sync.menu_distribution_sync_backend"]',
            run: "click",
        },
        {
            content: "The backends are listed",
            trigger: ".o_breadcrumb .active:contains(Backends)",
        },
        {
            content: "in a list view",
            trigger: ".o_action_manager .o_list_view .o_list_table",
        },
    ],
});
