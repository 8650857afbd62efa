{
    "name": "Point of Sale: Hesabe Smart POS and Helcim Smart Terminal",
    "summary": "Pay Point of Sale orders on the Hesabe and Helcim terminals that posbridge configures",
    "version": "18.0.0.1.0",
    "category": "Sales/Point of Sale",
    "website": "https://github.com/posbridge/posbridge",
    "author": "posbridge",
    "license": "LGPL-3",
    "depends": ["posbridge", "point_of_sale"],
    "external_dependencies": {"python": ["posbridge"]},
    "data": [
        "security/ir.model.access.csv",
        "security/pos_posbridge_security.xml",
        "data/ir_sequence_data.xml",
        "views/posbridge_pos_request_views.xml",
        "views/pos_payment_method_views.xml",
        "views/posbridge_terminal_views.xml",
    ],
    "assets": {
        "point_of_sale._assets_pos": [
            "pos_posbridge/static/src/**/*",
        ],
        "web.assets_tests": [
            "pos_posbridge/static/tests/tours/**/*",
        ],
    },
    "installable": True,
}
