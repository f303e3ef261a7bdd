"""How the simulated registers are coded: support types, diagnosis codes, municipalities,
education levels, and the outcomes whose true effects are recorded."""

from __future__ import annotations

import numpy as np

from regeval.population.panel import YEARLY_OUTCOMES
from regeval.registers.contract import SUPPORT_TYPES

SUPPORT_CODE = {name: i for i, name in enumerate(SUPPORT_TYPES)}
S_FOEP, S_FLEX, S_LEDIG, S_KONT, S_RESS, S_DAGP, S_SYGE, S_SU, S_SELV, S_OEVR = (
    SUPPORT_CODE[s] for s in SUPPORT_TYPES
)

# Diagnosis groups of the simulation and the ICD-10 codes written for them.
DIAG_CODES: dict[str, tuple[str, ...]] = {
    "intellectual_disability": ("DF700", "DF701", "DF710", "DF720", "DF799"),
    "autism": ("DF840", "DF841", "DF845", "DF849"),
    "adhd": ("DF900", "DF909"),
    "epilepsy": ("DG400", "DG402", "DG409"),
    "cerebral_palsy": ("DG800", "DG801", "DG809"),
    "brain_injury": ("DS065", "DI639", "DI619"),
    "psychiatric": ("DF200", "DF209", "DF251", "DF311", "DF332"),
    "diabetes": ("DE110", "DE119"),
    "back_pain": ("DM544", "DM545"),
}
COGNITIVE_GROUPS = (
    "intellectual_disability",
    "autism",
    "adhd",
    "epilepsy",
    "cerebral_palsy",
    "brain_injury",
    "psychiatric",
)

# 98 Danish municipality codes.
MUNICIPALITIES = np.array(
    [101, 147, 151, 153, 155, 157, 159, 161, 163, 165, 167, 169, 173, 175, 183, 185, 187,
     190, 201, 210, 217, 219, 223, 230, 240, 250, 253, 259, 260, 265, 269, 270, 306, 316,
     320, 326, 329, 330, 336, 340, 350, 360, 370, 376, 390, 400, 410, 420, 430, 440, 450,
     461, 479, 480, 482, 492, 510, 530, 540, 550, 561, 563, 573, 575, 580, 607, 615, 621,
     630, 657, 661, 665, 671, 706, 707, 710, 727, 730, 740, 741, 746, 751, 756, 760, 766,
     773, 779, 787, 791, 810, 813, 820, 825, 840, 846, 849, 851, 860],
    dtype=np.int16,
)

EDU_LEVEL_CODES = np.array([10, 20, 35, 40, 50, 65], dtype=np.int16)

OUTCOMES = YEARLY_OUTCOMES
"""Outcomes whose true effects the generator records (the pipeline's outcome names)."""
