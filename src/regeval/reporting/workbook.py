"""The Excel workbook of a spec: every checked export table, one sheet each."""

from __future__ import annotations

import datetime
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from regeval.reporting.sections import ReportData

FIXED_TIME = datetime.datetime(2000, 1, 1)


def write_workbook(data: ReportData, path: Path) -> None:
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        for entry in data.disclosure["tables"]:
            df = pd.read_parquet(data.tables_dir / f"{entry['table']}.parquet")
            df.to_excel(xl, sheet_name=entry["table"][:31], index=False)
        xl.book.properties.created = FIXED_TIME
        xl.book.properties.modified = FIXED_TIME
        xl.book.properties.creator = "regeval"
    normalise_zip(path)


def normalise_zip(path: Path) -> None:
    """Rewrite a zip file (xlsx) with fixed entry timestamps, so that the same
    tables give a byte-identical workbook."""
    with zipfile.ZipFile(path) as zin:
        entries = [(info, zin.read(info.filename)) for info in zin.infolist()]
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w") as zout:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                # openpyxl stamps the save time into the document properties
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", data)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            zout.writestr(fixed, data)
    tmp.replace(path)
