"""The demo county's service catalogue, written for this project: 117 items across nine themes
and five bundles. `ITEMS` and `BUNDLES` are specs; demo.py loads them through the services."""

from __future__ import annotations

from shanzhi.onewindow.catalog import BundleSpec, ItemSpec
from shanzhi.onewindow.catalog_data import (
    agriculture,
    bundles,
    civil,
    disability,
    health,
    household,
    housing,
    market,
    medical,
    social,
)

ITEMS: list[ItemSpec] = [
    *social.ITEMS,
    *medical.ITEMS,
    *civil.ITEMS,
    *household.ITEMS,
    *health.ITEMS,
    *disability.ITEMS,
    *housing.ITEMS,
    *market.ITEMS,
    *agriculture.ITEMS,
]
BUNDLES: list[BundleSpec] = bundles.BUNDLES

# County departments the catalogue needs beyond the county's handler catalogue (core/data/handlers.csv):
# (code, name, English name). The demo adds them as departments when they are missing.
EXTRA_DEPARTMENTS = [
    ("disabled_persons", "县残疾人联合会", "Disabled Persons' Federation"),
    ("agriculture", "县农业农村局", "Agriculture and Rural Affairs Bureau"),
    ("housing_fund", "住房公积金管理中心善水县分中心", "Housing Provident Fund Centre"),
]
