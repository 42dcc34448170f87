/** @odoo-module */
// Copyright 2026 distribution_sync maintainers
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// A consultant connects a Shopify shop from scratch: a new backend, the shop's
// address and secrets, which payment statuses confirm an order; saved, the form
// gives the webhook address to paste into Shopify, says the secrets are set, tests
// the connection and fetches the shop's locations.
registry.category("web_tour.tours").add("distribution_sync_shopify_backend_tour", {
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
            content: "Create a backend",
            trigger: ".o_control_panel .o_list_button_add, .o_control_panel .o-kanban-button-new",
            run: "click",
        },
        {
            content: "Name it",
            trigger: ".o_field_widget[name=name] input",
            run: "edit Acme Shopify",
        },
        {
            content: "Choose the Shopify channel",
            trigger: ".o_field_widget[name=backend_type] select",
            run: 'select "shopify"',
        },
        {
            content: "One API version field, filled with a version Shopify supports",
            trigger: ".o_field_widget[name=shopify_api_version] input:value(/^20\\d\\d-(01|04|07|10)$/)",
        },
        {
            content: "No warning about the version",
            trigger: ".o_form_view:not(:has(.alert-warning))",
        },
        {
            content: "Without credentials there is nothing to test yet",
            trigger: ".o_form_view:not(:has(button[name=action_test_connection]))",
        },
        {
            content: "The shop's address",
            trigger: ".o_field_widget[name=shopify_shop_domain] input",
            run: "edit acme-tour.myshopify.com",
        },
        {
            content: "The Admin API access token",
            trigger: ".o_field_widget[name=shopify_access_token] input",
            run: "edit shpat_tour_token",
        },
        {
            content: "The app's API secret verifies the webhooks",
            trigger: ".o_field_widget[name=webhook_secret] input",
            run: "edit tour-webhook-secret",
        },
        {
            content: "Open the Orders tab",
            trigger: ".o_notebook .nav-link:contains(Orders)",
            run: "click",
        },
        {
            content: "Orders only authorised are not confirmed here",
            trigger: ".o_field_widget[name=confirm_on_authorized] input:checked",
            run: "click",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "The webhook address to paste into Shopify, with a copy button",
            trigger:
                ".o_field_widget[name=webhook_url]:contains(/distribution_sync/webhook/) button",
        },
        {
            content: "The access token is said to be set",
            trigger: ".o_field_widget[name=shopify_access_token_set] input:checked",
        },
        {
            content: "Test the connection",
            trigger: 'button[name="action_test_connection"]',
            run: "click",
        },
        {
            content: "The shop answered",
            trigger: ".o_notification:contains(Connected to acme-tour.myshopify.com)",
        },
        {
            content: "Open the Locations tab",
            trigger: ".o_notebook .nav-link:contains(Locations)",
            run: "click",
        },
        {
            content: "Fetch the shop's locations",
            trigger: 'button[name="action_shopify_fetch_locations"]',
            run: "click",
        },
        {
            content: "The shop's location is listed, on the company's warehouse",
            trigger:
                ".o_field_widget[name=shopify_location_ids] .o_data_row:contains(Tour Warehouse Street)",
        },
    ],
});
