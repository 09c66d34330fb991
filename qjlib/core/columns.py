"""The building blocks of the data package's tables: :class:`Column`, :class:`Table` and the
columns shared by several tables (their aliases hold in every table that has them).

:mod:`qjlib.core.schema` assembles the tables of the register (``inputs.md``) and of each added
contract (``departments.md``, ``monitoring.md``, ``exit.md``, ``targets.md``), each written in its
own module (``qjlib.core.tables_*``) from these blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    """One column of a table of the data package, as the contract defines it."""

    name: str
    """The canonical English name (the column's name after loading, in every ledger)."""
    kind: str
    """Its kind, which fixes the canonical dtype (the module docstring's table)."""
    zh: str
    """The Chinese label: the header the demo county writes and ledgers and notebooks show."""
    aliases: tuple[str, ...] = ()
    """Every header (``zh`` first) that the loader recognises as this column."""
    required: bool = False
    """The header must exist; a row whose cell here is blank, or (for numbers, dates, years)
    unparseable, is rejected (unless ``blank_ok``)."""
    pii: bool = False
    """Personal information: masked in every output unless ``--pii full``."""
    blank_ok: bool = False
    """A required column whose blank cell does not make the row unusable (only recorded as a
    finding); its header must still exist."""


@dataclass(frozen=True)
class Table:
    """One table of the data package: its files, key and columns."""

    name: str
    """The canonical name (``households``, ``members``…): the key of :data:`TABLES`."""
    zh: str
    """The Chinese name, for messages to people."""
    stems: tuple[str, ...]
    """File or folder names (without extension, compared normalised) that hold this table."""
    key: tuple[str, ...]
    """The columns that identify a row; a row repeating an earlier row's key is rejected."""
    columns: tuple[Column, ...] = field(default_factory=tuple)
    """Every column the contract defines for the table, in contract order."""
    uses: tuple[str, str] = ("", "")
    """What the table switches on (Chinese, English): the load note when it is missing says
    that this is off."""

    @property
    def required(self) -> tuple[str, ...]:
        """The names of the required columns."""
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        """The column named ``name`` (``KeyError`` when the table has none)."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def C(name: str, kind: str, zh: str, *aliases: str, required: bool = False, pii: bool = False) -> Column:
    """A :class:`Column` whose Chinese label ``zh`` is also its first alias."""
    return Column(name, kind, zh, (zh, *aliases), required, pii)


# Columns shared by several tables keep their aliases everywhere (contract: "A column's aliases hold
# in every table that has the column").
HH_ID = C("hh_id", "id", "户编号", required=True)
YEAR = C("year", "year", "年度", "收入年份", "实施年度", "项目年度", required=True)
TOWN = C("town", "text", "乡(镇)", "乡镇", "乡", "镇")
VILLAGE = C("village", "text", "行政村", "村")
PROJECT_ID = C("project_id", "id", "项目编号", required=True)
HELPER_ID = C("helper_id", "id", "帮扶责任人编号", required=True)


def required(col: Column) -> Column:
    """``col`` made required."""
    return Column(col.name, col.kind, col.zh, col.aliases, True, col.pii)
