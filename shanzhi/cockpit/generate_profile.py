"""The shape of a generated history: how a county's requests are spread over channels, categories,
months, weekdays, hours and handlers. Plain tables, so what the generator does is readable here.

Figures are plausible for a Zhejiang county (梅雨 in June–July, typhoons in August–September,
damp cold winters with bottled gas), not measured from any real county.
"""

from __future__ import annotations

# Channel → (share of all requests, weight on weekends and holidays relative to a working day).
CHANNELS: dict[str, tuple[float, float]] = {
    "hotline": (0.55, 0.65),
    "app": (0.20, 0.90),
    "grid": (0.16, 0.35),
    "sensor": (0.03, 1.00),
    "superior": (0.04, 0.05),
    "open311": (0.02, 0.85),
}

# Channel → weight of each hour 0..23 (hotline peaks 9–11 and 14–16; the app in the evening;
# grid workers and superiors in office hours; sensors around the clock).
HOURS: dict[str, tuple[float, ...]] = {
    "hotline": (
        0.15, 0.08, 0.05, 0.05, 0.06, 0.1, 0.25, 0.6, 1.3, 2.4, 2.5, 1.6,
        0.9, 1.2, 2.1, 2.3, 1.5, 1.0, 0.8, 0.8, 0.7, 0.55, 0.35, 0.25,
    ),
    "app": (
        0.3, 0.15, 0.08, 0.05, 0.05, 0.1, 0.3, 0.7, 1.0, 1.1, 1.1, 1.0,
        1.1, 0.9, 0.9, 0.9, 0.9, 1.0, 1.2, 1.5, 1.7, 1.6, 1.2, 0.7,
    ),
    "grid": (
        0.0, 0.0, 0.0, 0.0, 0.0, 0.02, 0.1, 0.6, 1.8, 2.2, 2.1, 1.2,
        0.4, 0.8, 2.0, 2.1, 1.8, 0.8, 0.2, 0.1, 0.05, 0.02, 0.0, 0.0,
    ),
    "sensor": tuple([1.0] * 24),
    "superior": (
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 1.0, 2.0, 2.0, 1.0,
        0.2, 0.6, 2.0, 2.0, 1.5, 0.6, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0,
    ),
    "open311": (
        0.3, 0.15, 0.08, 0.05, 0.05, 0.1, 0.3, 0.7, 1.0, 1.1, 1.1, 1.0,
        1.1, 0.9, 0.9, 0.9, 0.9, 1.0, 1.2, 1.5, 1.7, 1.6, 1.2, 0.7,
    ),
}  # fmt: skip

# Category code → relative share over a year (the catalogue's codes; unknown codes get 1.0).
CATEGORY_SHARE: dict[str, float] = {
    "0101": 9.0, "0102": 5.0, "0103": 3.0,
    "0201": 8.0, "0202": 1.5, "0203": 2.5,
    "0301": 2.0, "0302": 2.0, "0303": 1.0,
    "0401": 3.0, "0402": 6.0,
    "0501": 3.0, "0502": 1.5,
    "0601": 4.0, "0602": 3.0, "0603": 3.0, "0604": 3.5,
    "0701": 6.0, "0702": 1.5,
    "0801": 2.0, "0802": 3.5,
    "0901": 2.5, "0902": 2.0, "0903": 1.5,
    "1001": 1.5, "1002": 1.2,
    "1101": 1.5, "1102": 0.6,
    "1201": 1.5, "1202": 3.0,
    "1301": 4.0,
}  # fmt: skip

# Category code → multiplier for each month 1..12 (1.0 where not listed).
SEASON: dict[str, tuple[float, ...]] = {
    # noise: windows open and evenings outdoors in summer
    "0401": (0.7, 0.6, 0.8, 1.0, 1.2, 1.5, 1.7, 1.7, 1.3, 1.0, 0.8, 0.7),
    "0402": (0.6, 0.7, 0.8, 1.0, 1.2, 1.6, 1.9, 1.9, 1.3, 1.0, 0.8, 0.6),
    # drainage and flooding: 梅雨 (Jun–Jul) and typhoons (Aug–Sep)
    "0604": (0.5, 0.5, 0.7, 0.9, 1.2, 2.8, 2.6, 2.2, 2.0, 0.8, 0.6, 0.5),
    "0502": (0.8, 0.8, 0.9, 1.0, 1.1, 1.3, 1.4, 1.3, 1.1, 0.9, 0.8, 0.8),
    # water supply: frozen and burst pipes in winter, demand peaks in summer
    "0603": (1.5, 1.3, 0.9, 0.8, 0.8, 1.0, 1.3, 1.4, 1.0, 0.8, 0.9, 1.3),
    # gas and electric-bike charging: heating season
    "0303": (2.0, 1.8, 1.2, 0.8, 0.6, 0.5, 0.5, 0.5, 0.6, 0.9, 1.4, 1.9),
    "0302": (1.4, 1.3, 1.0, 0.9, 0.8, 0.8, 0.9, 0.9, 0.9, 1.0, 1.2, 1.4),
    # straw burning after the harvests, winter haze
    "0501": (1.2, 1.0, 0.9, 0.8, 0.9, 1.5, 0.8, 0.7, 0.8, 1.3, 1.5, 1.3),
    # mosquitoes and heat illness
    "1102": (0.7, 0.8, 0.8, 0.9, 1.0, 1.4, 1.7, 1.7, 1.2, 0.9, 0.8, 0.8),
    # unpaid wages before the Spring Festival
    "0901": (2.4, 1.6, 0.7, 0.6, 0.6, 0.7, 0.7, 0.7, 0.8, 0.8, 1.2, 2.4),
    # night markets and stalls
    "0102": (0.7, 0.8, 0.9, 1.0, 1.2, 1.3, 1.3, 1.3, 1.1, 1.0, 0.8, 0.7),
    # rubbish after the Spring Festival and in summer heat
    "0101": (1.1, 1.4, 1.0, 0.9, 0.9, 1.1, 1.2, 1.2, 1.0, 1.0, 0.9, 0.9),
}

# Categories that happen only where people live in estates (and so have a property company), or
# only in the countryside.
ESTATE_CATEGORIES = frozenset({"0201", "0202"})
RURAL_CATEGORIES = frozenset({"1301"})

# Growth of the volume from one year to the next (residents learn the hotline works).
YEARLY_GROWTH = 1.08

# Places: a community's grid has this many times a village grid's requests; a share of grids are
# hotspots (an old estate, a market street, a construction site) with several times the average.
COMMUNITY_WEIGHT = 2.2
HOTSPOT_SHARE = 0.06
HOTSPOT_FACTOR = 5.0

# Outcomes.
REFUSED_SHARE = 0.015  # 不予立案
CO_ASSIGNMENT_SHARE = 0.35  # of the cases whose category names co-handlers
REWORK_SHARE = 0.03  # verification failed once, reported again
STUCK_SHARE = 0.004  # never reported: open and overdue (only in the last STUCK_DAYS)
STUCK_DAYS = 120
RATED_SHARE = 0.7  # closed cases the reporter rated
# Handler speed: a handler's disposal time as a share of the time limit is lognormal with a
# per-handler median exp(mu), mu ~ Normal(SPEED_MU, SPEED_SPREAD); within a handler sigma SPEED_SIGMA.
SPEED_MU = -0.75
SPEED_SPREAD = 0.45
SPEED_SIGMA = 0.5

# One-window applications per generated case (the cockpit's applications tile).
APPLICATION_RATIO = 0.05
APPLICATION_CHANNELS: dict[str, float] = {"window": 0.6, "online": 0.3, "kiosk": 0.07, "assisted": 0.03}
