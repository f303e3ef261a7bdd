"""An effect table following the published KLAPjob shape (method.md §1).

Used to check that the default prices give a plausible net result and to demonstrate the
budget stage without running the effect estimation. The numbers are read off the published
results, with stated simplifications where the report gives only a shape; they are not
estimates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Effects per participant per year, relative years 0..5 (shares as fractions).
PUBLISHED_SHAPE: dict[str, tuple[float, ...]] = {
    # +38 pp in year 0 (80 % vs 42 %), stabilising at about +21 pp
    "employed": (0.38, 0.30, 0.25, 0.22, 0.21, 0.21),
    "fulltime_days": (13.2, 26.5, 18.0, 18.0, 18.0, 18.0),
    "hours_per_week": (2.8, 2.8, 2.8, 2.8, 2.8, 2.8),
    # -3.1 pp in year 0, about -9 pp from then on
    "sel103_104": (-0.031, -0.09, -0.09, -0.09, -0.09, -0.09),
    # -1 pp in year 0, about -4 pp by year 4
    "botilbud": (-0.01, -0.02, -0.03, -0.035, -0.04, -0.04),
    # +2.3 pp in year 0 rising to +5.8 pp in year 5
    "sel85": (0.023, 0.030, 0.037, 0.044, 0.051, 0.058),
    # about 2.8 h/week × 52 weeks × 45-65 kr/h, less the labour-market contribution and a
    # partial pension offset (assumption: the report gives no income effect)
    "taxable_income": (5000.0, 5000.0, 5000.0, 5000.0, 5000.0, 5000.0),
    # "GP contacts increase after start"
    "gp_contacts": (0.3, 0.5, 0.5, 0.5, 0.5, 0.5),
    # "fewer specialist contacts in some years" (significant only in years 2 and 4 below)
    "specialist_contacts": (0.0, -0.1, -0.4, -0.1, -0.4, -0.1),
    # "tendency to more hospital contact; small" (not significant below)
    "somatic_hospital": (0.01, 0.01, 0.01, 0.01, 0.01, 0.01),
    "psychiatric_hospital": (0.005, 0.005, 0.005, 0.005, 0.005, 0.005),
    # assumption: some participants move from FØP to flex jobs (about 5 % are in flex jobs)
    "support_foep": (0.0, -0.02, -0.02, -0.02, -0.02, -0.02),
    "support_fleksjob": (0.0, 0.03, 0.03, 0.03, 0.03, 0.03),
    # no published effect: zero, not significant
    "sel_other": (0.0,) * 6,
    "support_ledighedsydelse": (0.0,) * 6,
    "support_kontanthjaelp": (0.0,) * 6,
    "support_ressourceforloeb": (0.0,) * 6,
    "support_dagpenge": (0.0,) * 6,
    "support_sygedagpenge": (0.0,) * 6,
    "support_su": (0.0,) * 6,
    "support_selvforsoerget": (0.0,) * 6,
    "support_oevrig": (0.0,) * 6,
}
#: (outcome, rel_year) pairs given a non-significant p-value in the example.
NOT_SIGNIFICANT: frozenset[tuple[str, int]] = frozenset(
    [("specialist_contacts", t) for t in (0, 1, 3, 5)]
    + [("somatic_hospital", t) for t in range(6)]
    + [("psychiatric_hospital", t) for t in range(6)]
    + [("support_foep", 0), ("support_fleksjob", 0)]
)


def published_shape_effects(spec: str = "published_shape") -> pd.DataFrame:
    """Tidy effect table in the shape of the published KLAPjob results.

    Returns
    -------
    pandas.DataFrame
        Columns ``spec, outcome, rel_year, estimate, se, ci_low, ci_high, p, stars,
        n_treated, n_control, mean_treated, mean_control`` (the effect-table contract),
        rows for relative years 0..5 and every outcome of the effect-table contract.
        Significant effects get ``p = 0.001``, the others (and zero effects) ``p = 0.4``;
        standard errors are set so that the confidence intervals agree.
    """
    rows = []
    for outcome, values in PUBLISHED_SHAPE.items():
        for t, est in enumerate(values):
            sig = (outcome, t) not in NOT_SIGNIFICANT and est != 0.0
            p = 0.001 if sig else 0.4
            z = 3.29 if sig else 0.84  # |t| giving these two-sided p-values
            se = abs(est) / z if est else 0.01
            rows.append({
                "spec": spec, "outcome": outcome, "rel_year": t, "estimate": est, "se": se,
                "ci_low": est - 1.96 * se, "ci_high": est + 1.96 * se, "p": p,
                "stars": "***" if sig else "", "n_treated": 1999, "n_control": 19990,
                "mean_treated": np.nan, "mean_control": np.nan,
            })
    return pd.DataFrame(rows)
