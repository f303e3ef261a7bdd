"""Validation of the register tables against the data contract.

The first step of the pipeline: before any stage reads a register, every table of
:data:`regeval.registers.contract.CONTRACT` is checked against its declared columns, types,
keys, allowed values, code lists (municipalities, the form of ICD-10 codes), ranges and
the configured years of coverage, and the tables are checked against each other (one
kind of person id; every person known to BEF; a row in each dense table for every
resident person-year of BEF) and against the configuration (every education main level
mapped; every diagnosis prefix matching some code).
All violations are collected and reported together in one :class:`DataContractError`,
one line per violation, each naming the table, the column, the problem, the number of
offending rows and a few example keys, so that a user with a real extract can fix the
extract (or the column mapping in the config) in one round.

The checks are written for national extracts (≈ 3.6 million persons × 17 years, about
60 million rows per yearly table): a table is read column by column, only the columns
a check needs are held (the key columns of the table being checked, plus one other
column at a time), and every check is a vectorised pyarrow/numpy operation. Duplicate
keys are found by sorting one int64 array of combined keys in place.

The rules, their error messages and the choices between errors and warnings are
documented in ``docs/data_contract.md``.
"""


from regeval.registers.validate.report import TableReport, ValidationReport, Violation
from regeval.registers.validate.rules import MAX_AGE, MIN_BIRTH_YEAR, PROBLEMS
from regeval.registers.validate.validator import validate_registers

__all__ = [
    "MAX_AGE",
    "MIN_BIRTH_YEAR",
    "PROBLEMS",
    "TableReport",
    "ValidationReport",
    "Violation",
    "validate_registers",
]
