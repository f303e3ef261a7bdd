"""Validation of the register tables against the data contract (regeval.registers.validate).

Each test writes the tiny valid set of ``register_factory`` with exactly one thing
broken, and checks that the error names the table, the column, the problem, the exact
number of offending rows and an example key.
"""

from __future__ import annotations

import json
import re
import sys
import warnings
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from register_factory import ARRIVED_2018, LEFT_AFTER_2017, YEARS, valid_frames, write_registers  # noqa: E402

from regeval.errors import ConfigError, DataContractError, RegevalWarning  # noqa: E402
from regeval.registers.contract import CONTRACT, TABLE_NAMES  # noqa: E402
from regeval.registers.read import TableSource, read_table, resolve_sources  # noqa: E402
from regeval.registers.validate import ValidationReport, validate_registers  # noqa: E402

DOC = Path(__file__).parents[1] / "docs" / "data_contract.md"


# -- helpers ------------------------------------------------------------------------


def validate(directory: Path, tables: dict | None = None, **kwargs) -> ValidationReport:
    return validate_registers(resolve_sources(directory, tables), YEARS, **kwargs)


def contract_error(directory: Path, tables: dict | None = None, **kwargs) -> str:
    """The message of the DataContractError raised when validating ``directory``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RegevalWarning)
        with pytest.raises(DataContractError) as info:
            validate(directory, tables, **kwargs)
    return str(info.value)


def error_lines(message: str) -> list[str]:
    """The violation lines of the errors (not the warnings) of a message."""
    errors = message.split("\nwarnings:\n")[0]
    return [line[4:] for line in errors.splitlines() if line.startswith("  - ")]


def assert_violation(
    message: str, where: str, problem: str, rows: int | None = None, example: str | None = None
) -> str:
    """Assert exactly one error line ``where: problem`` with ``rows`` rows and ``example``."""
    lines = [line for line in error_lines(message) if line.startswith(f"{where}: {problem}")]
    assert len(lines) == 1, f"expected one '{where}: {problem}' line in:\n{message}"
    line = lines[0]
    if rows is not None:
        assert re.search(rf" — {rows} rows? ", line + " "), f"expected {rows} rows in: {line}"
    if example is not None:
        assert example in line, f"expected example {example!r} in: {line}"
    return line


def set_rows(column: str, rows: list[int], value: object):
    """An edit function that sets ``column`` to ``value`` in the given rows."""

    def edit(df: pd.DataFrame) -> pd.DataFrame:
        if df[column].dtype == object:
            df[column] = df[column].astype(object)
        for r in rows:
            df.at[r, column] = value
        return df

    return edit


def key_of(df: pd.DataFrame, row: int) -> str:
    return f"pnr={df.at[row, 'pnr']}, aar={df.at[row, 'aar']}"


# -- the valid set --------------------------------------------------------------------


def test_the_valid_factory_set_passes_and_the_report_describes_every_table(tmp_path):
    directory = write_registers(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RegevalWarning)
        report = validate(directory)
    frames = valid_frames()
    assert [r.table for r in report.tables] == list(TABLE_NAMES)
    assert report.coverage == YEARS
    assert report.warnings == ()
    for name in TABLE_NAMES:
        rep = report[name]
        assert rep.rows == len(frames[name])
        assert rep.path == str(directory / f"{name}.parquet")
        assert [c for c, _ in rep.columns] == list(CONTRACT[name].column_names)
    assert report["bef"].persons == 12
    assert report["bef"].years == (2016, 2017, 2018, 2019)
    assert report["deltagere"].persons == 4
    assert report["deltagere"].years == (2017, 2018, 2019)
    assert report["diag"].years[0] == 1990
    assert report.to_dict() == validate(directory).to_dict()  # deterministic: no timings
    payload = json.loads(json.dumps(report.to_dict()))
    assert payload["valid"] is True
    assert payload["tables"]["indkomst"]["rows"] == len(frames["indkomst"])
    assert payload["coverage"] == {"first_year": 2016, "last_year": 2019}


def test_the_report_is_frozen(tmp_path):
    report = validate(write_registers(tmp_path))
    with pytest.raises(AttributeError):
        report.coverage = (2000, 2001)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        report["bef"].rows = 0  # type: ignore[misc]


def test_a_table_given_as_a_folder_of_parquet_files_validates(tmp_path):
    directory = write_registers(tmp_path, as_dataset=("bef", "handicap"))
    report = validate(directory)
    assert report["bef"].rows == len(valid_frames()["bef"])


def test_string_person_ids_in_every_table_validate(tmp_path):
    def as_str(df):
        df["pnr"] = df["pnr"].astype("string").astype(object).where(df["pnr"].notna(), None)
        return df

    directory = write_registers(tmp_path, edit={name: as_str for name in TABLE_NAMES})
    assert validate(directory)["bef"].persons == 12


def test_string_person_ids_are_checked_for_duplicates_and_against_bef(tmp_path):
    def as_str(df):
        df["pnr"] = [None if pd.isna(p) else f"{int(p):010d}" for p in df["pnr"]]
        return df

    extra = pd.DataFrame({"pnr": ["0000200001", "0000100001"], "aar": [2017, 2016], "skattepl_indk": [1.0, 2.0]})
    edit = {name: as_str for name in TABLE_NAMES}
    edit["indkomst"] = lambda df: pd.concat([as_str(df), extra], ignore_index=True)
    message = contract_error(write_registers(tmp_path, edit=edit))
    assert_violation(message, "indkomst.pnr+aar", "duplicate key", rows=2, example="pnr=0000100001, aar=2016: 2 rows")
    assert_violation(message, "indkomst.pnr", "person not in bef", rows=1, example="pnr=0000200001, aar=2017")
    assert len(error_lines(message)) == 2


@pytest.mark.parametrize("ids", ["integer", "string"])
def test_income_in_the_year_of_death_is_accepted_for_a_person_never_in_bef(tmp_path, ids):
    """The contract allows an income row in the year of death. A person resident at the end
    of the year before the coverage who died during its first year has that row and no bef
    row at all: a warning (the rows enter no analysis), not 'person not in bef' with a hint
    about pseudonymisation. The same person with a row in a later year too is an error."""
    died = 200001 if ids == "integer" else "0000200001"
    both = 200002 if ids == "integer" else "0000200002"

    def as_kind(df):
        if ids == "string":
            df["pnr"] = [None if pd.isna(p) else f"{int(p):010d}" for p in df["pnr"]]
        return df

    extra = pd.DataFrame({"pnr": [died, both, both], "aar": [2016, 2016, 2017], "skattepl_indk": [1.0, 2.0, 3.0]})
    edit = {name: as_kind for name in TABLE_NAMES}
    ok = write_registers(tmp_path / "ok", edit={**edit, "indkomst": lambda df: pd.concat([as_kind(df), extra.iloc[:1]],
                                                                                     ignore_index=True)})
    with pytest.warns(RegevalWarning, match="income in the year of death or emigration"):
        report = validate(ok)
    (w,) = [w for w in report.warnings if w.problem == "person not in bef"]
    assert (w.table, w.rows) == ("indkomst", 1) and f"pnr={died}, aar=2016" in w.examples[0]
    bad = write_registers(tmp_path / "bad", edit={**edit, "indkomst": lambda df: pd.concat([as_kind(df), extra],
                                                                                       ignore_index=True)})
    message = contract_error(bad)
    assert_violation(message, "indkomst.pnr", "person not in bef", rows=2, example=f"pnr={both}, aar=2016")
    assert "death" in message.split("warnings:")[1]
    assert len(error_lines(message)) == 1


def test_a_column_mapping_in_the_config_validates_an_extract_with_other_names(tmp_path):
    (tmp_path / "extract").mkdir()
    rename = {
        "bef": {"pnr": "PNR", "aar": "AAR", "foed_dag": "FOED_DAG", "koen": "KOEN"},
        "forsorg": {"pnr": "PNR", "ydelse": "forsoergelse"},
        "deltagere": {"deltager_id": "id", "startdato": "start"},
    }
    write_registers(tmp_path / "extract", rename=rename, as_dataset=("bef",))
    (tmp_path / "extract" / "bef.parquet").rename(tmp_path / "extract" / "BEF2016_2019")
    config = {
        "bef": {"path": "BEF2016_2019", "columns": rename["bef"]},
        "forsorg": {"columns": rename["forsorg"]},
        "deltagere": {"path": str(tmp_path / "extract" / "deltagere.parquet"), "columns": rename["deltagere"]},
    }
    report = validate(tmp_path / "extract", config)
    assert dict(report["bef"].columns)["foed_dag"] == "FOED_DAG"
    assert report["bef"].path.endswith("BEF2016_2019")
    assert report["deltagere"].persons == 4


def test_boolean_columns_may_be_integer_0_or_1_and_are_read_as_booleans(tmp_path):
    def as_int(df):
        for c in ("sel85", "sel103", "sel104", "sel107", "sel108", "sel_oevrig"):
            df[c] = df[c].astype("int8")
        return df

    directory = write_registers(tmp_path, edit={"handicap": as_int})
    validate(directory)
    frame = read_table(resolve_sources(directory)["handicap"], ["pnr", "sel85"])
    assert frame["sel85"].dtype == bool
    assert frame["sel85"].tolist() == valid_frames()["handicap"]["sel85"].tolist()


# -- one test per violation -----------------------------------------------------------------


def test_a_missing_table_is_reported(tmp_path):
    message = contract_error(write_registers(tmp_path, omit=("sundhed",)))
    line = assert_violation(message, "sundhed", "table missing")
    assert str(tmp_path / "sundhed.parquet") in line
    assert "data.registers.tables.sundhed.path" in line


def test_a_table_without_a_source_is_reported_missing(tmp_path):
    sources = resolve_sources(write_registers(tmp_path))
    del sources["handicap"]
    with pytest.raises(DataContractError) as info:
        validate_registers(sources, YEARS)
    assert_violation(str(info.value), "handicap", "table missing")


def test_an_unreadable_file_is_reported(tmp_path):
    message = contract_error(write_registers(tmp_path, garbage=("indkomst",)))
    line = assert_violation(message, "indkomst", "unreadable")
    assert "indkomst.parquet" in line


def test_an_unreadable_file_inside_a_dataset_folder_is_reported(tmp_path):
    directory = write_registers(tmp_path, as_dataset=("forsorg",))
    (directory / "forsorg.parquet" / "part-1.parquet").write_bytes(b"not parquet" * 50)
    line = assert_violation(contract_error(directory), "forsorg", "unreadable")
    assert "part-1.parquet" in line


def test_an_empty_participant_file_is_reported(tmp_path):
    directory = write_registers(tmp_path, edit={"deltagere": lambda df: df.iloc[:0]})
    assert_violation(contract_error(directory), "deltagere", "no rows")


def test_a_missing_column_names_the_column_looked_for(tmp_path):
    directory = write_registers(tmp_path, edit={"bef": lambda df: df.drop(columns="civst")})
    line = assert_violation(contract_error(directory), "bef.civst", "column missing")
    assert "looked for column 'civst'" in line


def test_a_missing_mapped_column_names_the_mapped_name(tmp_path):
    directory = write_registers(tmp_path, rename={"udda": {"hfaudd": "HFAUDD_X"}})
    message = contract_error(directory, {"udda": {"columns": {"hfaudd": "HFAUDD"}}})
    line = assert_violation(message, "udda.hfaudd", "column missing")
    assert "looked for column 'HFAUDD' (mapped from contract column 'hfaudd')" in line
    assert "'HFAUDD_X'" in line  # the columns the file does have


def test_a_float_column_where_an_integer_is_needed_is_a_wrong_type(tmp_path):
    directory = write_registers(tmp_path, edit={"bef": lambda df: df.assign(koen=df["koen"].astype(float))})
    line = assert_violation(contract_error(directory), "bef.koen", "wrong type", rows=44, example="pnr=100001, aar=2016")
    assert "double" in line and "integer" in line


def test_a_year_stored_as_text_is_a_wrong_type(tmp_path):
    frames = valid_frames()
    directory = write_registers(tmp_path, edit={"sundhed": lambda df: df.assign(aar=df["aar"].astype(str))})
    assert_violation(
        contract_error(directory), "sundhed.aar", "wrong type", rows=len(frames["sundhed"]), example="pnr=100001"
    )


def test_a_birth_date_stored_as_text_is_a_wrong_type(tmp_path):
    directory = write_registers(tmp_path, edit={"bef": lambda df: df.assign(foed_dag=df["foed_dag"].astype(str))})
    line = assert_violation(contract_error(directory), "bef.foed_dag", "wrong type", rows=44, example="pnr=100001")
    assert "date" in line


def test_a_boolean_stored_as_text_is_a_wrong_type(tmp_path):
    frames = valid_frames()
    edit = {"sundhed": lambda df: df.assign(somatisk_kontakt=df["somatisk_kontakt"].map({True: "ja", False: "nej"}))}
    assert_violation(
        contract_error(write_registers(tmp_path, edit=edit)),
        "sundhed.somatisk_kontakt",
        "wrong type",
        rows=len(frames["sundhed"]),
        example="pnr=100001, aar=2016",
    )


def test_person_ids_of_another_kind_than_in_bef_are_a_wrong_type(tmp_path):
    frames = valid_frames()
    directory = write_registers(tmp_path, edit={"udda": lambda df: df.assign(pnr=df["pnr"].astype(str))})
    line = assert_violation(
        contract_error(directory), "udda.pnr", "wrong type", rows=len(frames["udda"]), example="pnr=100001"
    )
    assert "string" in line and "integer in bef" in line


def test_an_integer_boolean_with_other_values_than_0_and_1_is_reported(tmp_path):
    def edit(df):
        df["sel85"] = df["sel85"].astype("int64")
        df.loc[[2, 5], "sel85"] = 2
        return df

    frames = valid_frames()
    line = assert_violation(
        contract_error(write_registers(tmp_path, edit={"handicap": edit})),
        "handicap.sel85",
        "value not 0/1",
        rows=2,
        example=key_of(frames["handicap"], 2) + ", sel85=2",
    )
    assert "seen: 2 ×2" in line


def test_nulls_in_a_non_nullable_column_are_counted(tmp_path):
    frames = valid_frames()
    edit = set_rows("skattepl_indk", [3, 10], float("nan"))
    line = assert_violation(
        contract_error(write_registers(tmp_path, edit={"indkomst": edit})),
        "indkomst.skattepl_indk",
        "missing values",
        rows=2,
        example=key_of(frames["indkomst"], 3),
    )
    assert "2 null" in line


def test_missing_person_ids_are_allowed_only_in_the_participant_file(tmp_path):
    frames = valid_frames()

    def edit(df):
        df["pnr"] = df["pnr"].astype("Int64")
        df.loc[[0, 7, 9], "pnr"] = pd.NA
        return df

    message = contract_error(write_registers(tmp_path, edit={"forsorg": edit}))
    assert_violation(message, "forsorg.pnr", "missing values", rows=3, example=f"aar={frames['forsorg'].at[7, 'aar']}")
    assert not any(line.startswith("deltagere") for line in error_lines(message))


def test_duplicate_keys_count_every_row_involved(tmp_path):
    frames = valid_frames()
    dup = frames["forsorg"].iloc[[4, 4, 9]]  # row 4 three times in all, row 9 twice

    directory = write_registers(tmp_path, edit={"forsorg": lambda df: pd.concat([df, dup], ignore_index=True)})
    line = assert_violation(
        contract_error(directory), "forsorg.pnr+aar", "duplicate key", rows=5, example=key_of(frames["forsorg"], 4) + ": 3 rows"
    )
    assert "2 key(s) occur more than once" in line
    assert key_of(frames["forsorg"], 9) + ": 2 rows" in line


def test_duplicate_keys_are_found_when_person_ids_span_the_whole_int64_range(tmp_path):
    extra = pd.DataFrame({"pnr": [4 * 10**18, 4 * 10**18], "aar": [2017, 2017], "ydelse": ["foep", "su"]})
    directory = write_registers(tmp_path, edit={"forsorg": lambda df: pd.concat([df, extra], ignore_index=True)})
    message = contract_error(directory)
    assert_violation(message, "forsorg.pnr+aar", "duplicate key", rows=2, example=f"pnr={4 * 10**18}, aar=2017: 2 rows")
    assert_violation(message, "forsorg.pnr", "person not in bef", rows=2)


def test_duplicate_keys_with_a_text_key_column(tmp_path):
    extra = pd.DataFrame({"pnr": [100001], "diag": ["DF700"], "aar": [2003]})
    directory = write_registers(tmp_path, edit={"diag": lambda df: pd.concat([df, extra], ignore_index=True)})
    assert_violation(contract_error(directory), "diag.pnr+diag", "duplicate key", rows=2, example="pnr=100001, diag=DF700")


def test_duplicate_participations_are_reported(tmp_path):
    extra = pd.DataFrame(
        {"deltager_id": [2], "pnr": pd.array([100002], dtype="Int64"), "startdato": pd.Series([date(2017, 8, 15)], dtype=object)}
    )
    directory = write_registers(tmp_path, edit={"deltagere": lambda df: pd.concat([df, extra], ignore_index=True)})
    assert_violation(
        contract_error(directory),
        "deltagere.deltager_id+startdato",
        "duplicate key",
        rows=2,
        example="deltager_id=2, startdato=2017-08-15",
    )


def test_values_outside_the_allowed_set_are_listed_with_counts(tmp_path):
    frames = valid_frames()
    edit = {"bef": lambda df: set_rows("civst", [1, 6], "X")(set_rows("civst", [20], "")(df))}
    line = assert_violation(
        contract_error(write_registers(tmp_path, edit=edit)),
        "bef.civst",
        "value not allowed",
        rows=3,
        example=key_of(frames["bef"], 1) + ", civst=X",
    )
    assert "seen: 'X' ×2, '' ×1" in line
    assert "allowed: 'U', 'G'" in line


def test_an_unknown_support_type_is_not_allowed(tmp_path):
    frames = valid_frames()
    edit = {"forsorg": set_rows("ydelse", [0], "pension")}
    assert_violation(
        contract_error(write_registers(tmp_path, edit=edit)),
        "forsorg.ydelse",
        "value not allowed",
        rows=1,
        example=key_of(frames["forsorg"], 0) + ", ydelse=pension",
    )


def test_values_outside_the_range_are_reported(tmp_path):
    frames = valid_frames()
    edit = {
        "beskaeftigelse": lambda df: set_rows("timer_uge", [0, 1], -1.0)(set_rows("timer_uge", [2], 120.0)(df)),
    }
    message = contract_error(write_registers(tmp_path, edit=edit))
    line = assert_violation(
        message, "beskaeftigelse.timer_uge", "value out of range", rows=3, example=key_of(frames["beskaeftigelse"], 0)
    )
    assert "-1.0 ×2, 120.0 ×1" in line


def test_municipality_codes_are_checked_against_the_list_from_2007_and_the_range_before(tmp_path):
    years = (2005, 2019)
    frames = valid_frames(years)
    bef = frames["bef"]
    row_2005 = int(bef.index[(bef["pnr"] == 100002) & (bef["aar"] == 2005)][0])
    row_2006 = int(bef.index[(bef["pnr"] == 100003) & (bef["aar"] == 2006)][0])
    row_2016 = int(bef.index[(bef["pnr"] == 100004) & (bef["aar"] == 2016)][0])
    row_2017 = int(bef.index[(bef["pnr"] == 100004) & (bef["aar"] == 2017)][0])
    # 999: out of range in 2005; 205 (a pre-2007 code, Birkerød) fine in 2006; 500: not a
    # municipality in 2016; 411 (Christiansø) accepted in 2017
    edit = {"bef": lambda df: set_rows("kom", [row_2005], 999)(set_rows("kom", [row_2006], 205)(
        set_rows("kom", [row_2016], 500)(set_rows("kom", [row_2017], 411)(df))))}
    directory = write_registers(tmp_path, years=years, edit=edit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RegevalWarning)
        with pytest.raises(DataContractError) as info:
            validate_registers(resolve_sources(directory), years)
    message = str(info.value)
    line = assert_violation(message, "bef.kom", "value out of range", rows=1, example="pnr=100002, aar=2005, kom=999")
    assert "[101, 860]" in line and "rows before 2007" in line
    line = assert_violation(message, "bef.kom", "code not in list", rows=1, example="pnr=100004, aar=2016, kom=500")
    assert "500 ×1" in line and "98 municipalities" in line
    assert len(error_lines(message)) == 2  # 205 in 2006 and 411 in 2017 are accepted


def test_the_municipality_list_has_the_98_municipalities_of_the_2007_reform():
    from regeval.registers.contract import EXTRA_RESIDENCE_CODES, MUNICIPALITIES
    from regeval.synthetic.codes import MUNICIPALITIES as GENERATED

    assert len(MUNICIPALITIES) == 98 and len(set(MUNICIPALITIES.values())) == 98
    assert set(MUNICIPALITIES) == set(GENERATED.tolist())  # the generator draws from the same list
    assert MUNICIPALITIES[101] == "København" and MUNICIPALITIES[860] == "Hjørring"
    assert set(CONTRACT["bef"].column("kom").codes) == set(MUNICIPALITIES) | set(EXTRA_RESIDENCE_CODES)
    assert not set(MUNICIPALITIES) & set(EXTRA_RESIDENCE_CODES)


def test_years_outside_the_coverage_are_reported(tmp_path):
    frames = valid_frames()
    edit = {"handicap": set_rows("aar", [0, 1, 2], 2020)}  # person 100001's 2016-2018 rows
    line = assert_violation(
        contract_error(write_registers(tmp_path, edit=edit)), "handicap.aar", "year outside coverage", rows=3,
        example="pnr=100001, aar=2020",
    )
    assert "2016–2019" in line and "2020 ×3" in line
    assert len(frames["handicap"]) > 3


def test_a_coverage_year_without_rows_is_an_error_in_a_dense_table(tmp_path):
    edit = {"indkomst": lambda df: df[df["aar"] != 2017]}
    line = assert_violation(contract_error(write_registers(tmp_path, edit=edit)), "indkomst.aar", "coverage year without rows")
    assert "2017" in line


def test_a_coverage_year_without_rows_is_a_warning_in_a_sparse_table(tmp_path):
    directory = write_registers(tmp_path, edit={"handicap": lambda df: df[df["aar"] != 2016]})
    with pytest.warns(RegevalWarning, match="handicap.aar: coverage year without rows"):
        report = validate(directory)
    assert [w.problem for w in report.warnings] == ["coverage year without rows"]


def test_a_diagnosis_registered_after_the_coverage_is_reported(tmp_path):
    edit = {"diag": set_rows("aar", [2], 2021)}
    assert_violation(
        contract_error(write_registers(tmp_path, edit=edit)), "diag.aar", "year after coverage end", rows=1,
        example="pnr=100002, diag=DF840",
    )


def test_a_birth_date_after_the_year_end_is_impossible(tmp_path):
    frames = valid_frames()
    # person 100008 (row 28..31) born 2018 in every row: impossible in 2016 and 2017
    rows = frames["bef"].index[frames["bef"]["pnr"] == 100008].tolist()
    edit = {"bef": set_rows("foed_dag", rows, date(2018, 6, 1))}
    assert_violation(
        contract_error(write_registers(tmp_path, edit=edit)), "bef.foed_dag", "birth date after year end", rows=2,
        example="pnr=100008, aar=2016, foed_dag=2018-06-01",
    )


def test_a_birth_date_before_1900_is_impossible(tmp_path):
    frames = valid_frames()
    rows = frames["bef"].index[frames["bef"]["pnr"] == 100004].tolist()
    message = contract_error(write_registers(tmp_path, edit={"bef": set_rows("foed_dag", rows, date(1899, 12, 31))}))
    assert_violation(message, "bef.foed_dag", "birth date before 1900", rows=4, example="pnr=100004, aar=2016, foed_dag=1899-12-31")
    assert_violation(message, "bef.foed_dag", "age over 110", rows=4)  # 117 years old in 2016


def test_a_person_older_than_110_is_impossible(tmp_path):
    frames = valid_frames()
    rows = frames["bef"].index[frames["bef"]["pnr"] == 100004].tolist()
    # born 1907: 109 in 2016, 110 in 2017, 111 in 2018, 112 in 2019
    message = contract_error(write_registers(tmp_path, edit={"bef": set_rows("foed_dag", rows, date(1907, 5, 1))}))
    assert_violation(message, "bef.foed_dag", "age over 110", rows=2, example="pnr=100004, aar=2018, foed_dag=1907-05-01")


def test_a_birth_date_that_changes_between_years_is_a_warning(tmp_path):
    frames = valid_frames()
    row = frames["bef"].index[(frames["bef"]["pnr"] == 100003) & (frames["bef"]["aar"] == 2019)][0]
    directory = write_registers(tmp_path, edit={"bef": set_rows("foed_dag", [row], date(1988, 7, 30))})
    with pytest.warns(RegevalWarning, match="birth date differs between years"):
        report = validate(directory)
    (warning,) = report.warnings
    assert (warning.table, warning.column, warning.rows) == ("bef", "foed_dag", 4)
    assert warning.examples[0].startswith("pnr=100003, aar=2016")


def test_start_dates_outside_the_coverage_are_reported(tmp_path):
    edit = {"deltagere": lambda df: set_rows("startdato", [2], date(2015, 12, 1))(set_rows("startdato", [4], date(2020, 1, 2))(df))}
    line = assert_violation(
        contract_error(write_registers(tmp_path, edit=edit)), "deltagere.startdato", "start date outside coverage", rows=2,
        example="deltager_id=2, startdato=2015-12-01, pnr=100002",
    )
    assert "deltager_id=4, startdato=2020-01-02" in line


def test_a_diagnosis_before_the_birth_year_is_impossible(tmp_path):
    # 100003 is born 1988; 100006 born 1970 (diagnosis in 1990 is fine)
    edit = {"diag": set_rows("aar", [3], 1987)}
    line = assert_violation(
        contract_error(write_registers(tmp_path, edit=edit)), "diag.aar", "diagnosed before birth year", rows=1,
        example="pnr=100003, diag=DF711, aar=1987",
    )
    assert "birth year=1988" in line


def test_participants_whose_person_id_is_never_in_bef_are_reported(tmp_path):
    edit = {"deltagere": set_rows("pnr", [0, 1, 4], 999999)}  # participant 1 (two starts) and 4
    line = assert_violation(
        contract_error(write_registers(tmp_path, edit=edit)), "deltagere.pnr", "participant not in bef", rows=3,
        example="deltager_id=1, startdato=2017-03-01, pnr=999999",
    )
    assert "1 participant(s)" in line  # one distinct person id


def test_persons_in_a_yearly_table_who_are_never_in_bef_are_an_error(tmp_path):
    frames = valid_frames()
    extra = pd.DataFrame({"pnr": [200001, 200001, 200002], "aar": [2016, 2017, 2019], "skattepl_indk": [1.0, 2.0, 3.0]})
    directory = write_registers(tmp_path, edit={"indkomst": lambda df: pd.concat([df, extra], ignore_index=True)})
    line = assert_violation(
        contract_error(directory), "indkomst.pnr", "person not in bef", rows=3, example="pnr=200001, aar=2016"
    )
    assert "2 person(s)" in line
    assert "pnr=200002, aar=2019" in line
    assert len(frames["indkomst"]) == 44


def test_persons_with_a_diagnosis_who_are_never_in_bef_are_a_warning(tmp_path):
    extra = pd.DataFrame({"pnr": [300001, 300001], "diag": ["DF700", "DF840"], "aar": [1995, 1996]})
    directory = write_registers(tmp_path, edit={"diag": lambda df: pd.concat([df, extra], ignore_index=True)})
    with pytest.warns(RegevalWarning, match="diag.pnr: person not in bef — 2 rows"):
        report = validate(directory)
    assert report.warnings[0].examples == ("pnr=300001, diag=DF700",)


def test_persons_resident_in_only_some_years_are_known_to_bef(tmp_path):
    # rows of persons in years they are not resident are not checked against bef
    extra = pd.DataFrame({"pnr": [LEFT_AFTER_2017, ARRIVED_2018], "aar": [2019, 2016], "laege_kontakter": [1, 2],
                          "speciallaege_kontakter": [0, 0], "somatisk_kontakt": [True, False],
                          "psykiatrisk_kontakt": [False, False]})
    validate(write_registers(tmp_path, edit={"sundhed": lambda df: pd.concat([df, extra], ignore_index=True)}))


# -- reporting ------------------------------------------------------------------------------


def test_several_violations_in_several_tables_are_all_reported_in_one_error(tmp_path):
    frames = valid_frames()
    directory = write_registers(
        tmp_path,
        omit=("sundhed",),
        garbage=("udda",),
        edit={
            "bef": lambda df: set_rows("koen", [0, 1], 3)(set_rows("kom", [2], 50)(df)),
            "forsorg": lambda df: pd.concat([df, df.iloc[[0]]], ignore_index=True),
            "indkomst": lambda df: df.drop(columns="skattepl_indk"),
            "deltagere": set_rows("startdato", [5], date(2030, 1, 1)),
        },
    )
    message = contract_error(directory)
    assert_violation(message, "sundhed", "table missing")
    assert_violation(message, "udda", "unreadable")
    assert_violation(message, "bef.koen", "value not allowed", rows=2, example=key_of(frames["bef"], 0))
    assert_violation(message, "bef.kom", "code not in list", rows=1, example=key_of(frames["bef"], 2))
    assert_violation(message, "forsorg.pnr+aar", "duplicate key", rows=2, example=key_of(frames["forsorg"], 0))
    assert_violation(message, "indkomst.skattepl_indk", "column missing")
    assert_violation(message, "deltagere.startdato", "start date outside coverage", rows=1, example="deltager_id=5")
    assert len(error_lines(message)) == 7
    assert message.splitlines()[0].startswith("the register data violate the data contract (7 problem(s) in 6 table(s)")


def test_the_error_carries_the_violations_and_examples_are_limited(tmp_path):
    edit = {"forsorg": set_rows("ydelse", list(range(10)), "pension")}
    directory = write_registers(tmp_path, edit={**edit})
    with pytest.raises(DataContractError) as info:
        validate(directory, max_examples=2)
    (violation,) = info.value.violations
    assert violation.rows == 10
    assert len(violation.examples) == 2
    assert violation.message() in str(info.value)


def test_bad_coverage_years_are_a_config_error(tmp_path):
    sources = resolve_sources(write_registers(tmp_path))
    with pytest.raises(ConfigError, match="first <= last"):
        validate_registers(sources, (2019, 2016))
    with pytest.raises(ConfigError, match="pair"):
        validate_registers(sources, 2016)  # type: ignore[arg-type]


def test_a_source_for_an_unknown_table_is_ignored_with_a_warning(tmp_path):
    sources = dict(resolve_sources(write_registers(tmp_path)))
    sources["bopael"] = TableSource("bopael", tmp_path / "bopael.parquet")
    with pytest.warns(RegevalWarning, match="bopael"):
        validate_registers(sources, YEARS)


# -- the human-readable contract ------------------------------------------------------------


def doc_sections() -> dict[str, str]:
    """Sections of docs/data_contract.md by heading line."""
    sections: dict[str, str] = {}
    heading = ""
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            heading = line
            sections[heading] = ""
        else:
            sections[heading] = sections.get(heading, "") + line + "\n"
    return sections


def test_the_data_contract_document_mentions_every_table_and_column():
    sections = doc_sections()
    for name, spec in CONTRACT.items():
        headings = [h for h in sections if h.startswith("### ") and f"`{name}`" in h]
        assert len(headings) == 1, f"no section (or several) for table {name}"
        section = sections[headings[0]]
        assert spec.register.split(" (")[0].lower() in headings[0].lower(), f"section of {name} does not name its register"
        assert ("**Sparse**" in section) == spec.sparse, f"section of {name} misstates sparse/dense"
        assert "Key: (" + ", ".join(f"`{k}`" for k in spec.key) + ")" in section.replace("\n", " ")
        for col in spec.columns:
            rows = [line for line in section.splitlines() if line.startswith(f"| `{col.name}` |")]
            assert len(rows) == 1, f"column {name}.{col.name} not documented (once) in its section"
            cells = [c.strip() for c in rows[0].split("|")[1:-1]]
            assert cells[1].startswith(col.kind), f"{name}.{col.name}: kind {col.kind} expected, doc says {cells[1]}"
            assert ("nullable" in cells[1]) == col.nullable
            for value in col.allowed or ():
                assert f"{value}" in cells[2], f"allowed value {value!r} of {name}.{col.name} not documented"


def doc_table(heading: str) -> list[list[str]]:
    """The rows (cells) of the first table under ``heading`` in the data contract page."""
    text = DOC.read_text(encoding="utf-8")
    assert heading + "\n" in text, f"no section {heading!r}"
    section = text.split(heading + "\n", 1)[1]
    rows, started = [], False
    for line in section.splitlines():
        if line.startswith("| "):
            started = True
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            if cells[0] not in ("problem", "check", "--- |") and not set(cells[0]) <= set("-"):
                rows.append(cells)
        elif started:
            break
    return rows


def _name(cell: str) -> str:
    assert cell.startswith("`") and cell.endswith("`"), cell
    return cell[1:-1]


def test_the_data_contract_document_lists_every_validation_problem_with_a_message_example():
    """A new problem in PROBLEMS without its doc row (or a doc row without a problem) fails."""
    from regeval.registers.validate import PROBLEMS

    rows = doc_table("#### Rules")
    assert [_name(r[0]) for r in rows] == list(PROBLEMS)
    for cells in rows:
        problem, example = _name(cells[0]), cells[-1]
        assert f": {problem}" in example, f"the example of {problem!r} is not one of its messages: {example}"
        assert cells[1].startswith(("error", "warning")), cells


def test_the_data_contract_document_lists_every_configuration_check_with_a_message_example():
    from regeval.pipeline.config import CONFIG_CHECKS

    rows = doc_table("### Configuration checks")
    assert [_name(r[0]) for r in rows] == list(CONFIG_CHECKS)
    for cells in rows:
        example = cells[-1]
        assert re.match(r"^`[a-z_]+(\.[A-Za-z0-9_<>]+)*: ", example), f"example does not start with a key path: {example}"


def test_the_data_contract_document_lists_every_base_population_check_with_a_message_example():
    from regeval.population.base import POPULATION_CHECKS

    rows = doc_table("### Base-population checks")
    assert [_name(r[0]) for r in rows] == list(POPULATION_CHECKS)
    for cells in rows:
        assert _name(cells[0]) in cells[-1], cells


def test_the_data_contract_document_lists_the_municipality_codes():
    from regeval.registers.contract import EXTRA_RESIDENCE_CODES, MUNICIPALITIES

    text = DOC.read_text(encoding="utf-8").split("## Municipality codes\n", 1)[1].split("\n## ", 1)[0]
    listed = dict(re.findall(r"\| (\d{3}) ([^|]+?) (?=\|)", text.replace("| ", "|  ").replace("|  ", "| ")))
    assert {int(k): v.strip() for k, v in listed.items()} == {**MUNICIPALITIES, **EXTRA_RESIDENCE_CODES}
