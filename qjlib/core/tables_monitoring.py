"""The tables of ``shared/contract/monitoring.md``: return-to-poverty monitoring (edge_households).

Written with the blocks of :mod:`qjlib.core.columns`; :mod:`qjlib.core.schema` adds them to its
``TABLES``, ``VALUE_LISTS`` (keys ``table.column`` for one table's column, ``column`` for all)
and ``CODE_LABELS_ZH``.

``edge_households`` (非贫边缘户): one row per non-registered household under watch. Its ``hh_id``
is the county's own id, never a registered household's (one that is: a finding, see
:mod:`qjlib.io.monitoring`). ``groups`` holds any of :data:`EDGE_GROUPS` joined by 、 , ， or ;.
"""

from __future__ import annotations

from qjlib.core.columns import HH_ID, TOWN, VILLAGE, C, Table, required

EDGE_GROUPS: tuple[str, ...] = ("低保户", "五保户", "危房户", "大病户", "残疾户")
"""The plan's special groups of non-poor households (the ``groups`` column's tokens)."""

EDGE_GROUP_SEPARATORS = r"[、,，;；]"
"""What may join several groups in one ``groups`` cell (a regular expression)."""

TABLES: tuple[Table, ...] = (
    Table(
        "edge_households", "非贫边缘户", ("edge_households", "边缘户", "非贫边缘户"), ("hh_id",),
        (
            HH_ID,
            required(TOWN),
            required(VILLAGE),
            C("head_name", "text", "户主姓名", "户主", pii=True),
            C("head_id_number", "idnum", "户主证件号码", "户主身份证号", pii=True),
            C("size", "int", "家庭人口数", "当前家庭人口数", "人数", required=True),
            C("net_per_capita", "money", "人均纯收入", "人均纯收入（元）", required=True),
            C("income_year", "year", "收入年度"),
            C("groups", "text", "特殊群体", "户类型"),
        ),
        uses=("非贫边缘户监测（monitoring_edge 台账）关闭", "edge-household monitoring (monitoring_edge) off"),
    ),
)
"""The area's tables, in contract order."""

VALUE_LISTS: dict[str, dict[str, tuple[str, ...]]] = {}
"""Canonical value → accepted spellings, per ``table.column`` (or ``column``)."""

CODE_LABELS_ZH: dict[str, dict[str, str]] = {}
"""Chinese labels of canonical codes, per column."""
