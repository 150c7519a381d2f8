"""Historical import of 12345 hotline exports (CSV or XLSX) as cases. See docs/import.md."""

from shanzhi.cases.imports.importer import ImportInterrupted, ImportResult, case_import

__all__ = ["ImportInterrupted", "ImportResult", "case_import"]
