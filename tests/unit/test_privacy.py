"""Masking of personal information: the contract's examples, PII columns, rejects/findings values."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qjlib.core.errors import QjError
from qjlib.core.privacy import (
    mask_bank,
    mask_frame,
    mask_id,
    mask_name,
    mask_phone,
    mask_series,
    pii_kind,
)


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三明", "张*明"), ("张三", "张*"), ("欧阳小明", "欧**明"), ("李", "*"),
     ("阿卜杜·热合曼", "阿*****曼")],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_mask_id_phone_bank_contract_examples():
    assert mask_id("610830199001011234") == "610830********1234"
    assert mask_id("61083019900101123X") == "610830********123X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_bank("6222021234567890123") == "6222***********0123"
    # too short to keep anything: all masked, length kept
    assert mask_id("6.1083E+17") == "*" * 10
    assert mask_phone("1234567") == "*******"


KEPT_AT_MOST = {"name": 2, "id": 10, "phone": 7, "bank": 8}


@given(st.lists(st.one_of(st.none(), st.text(max_size=25)), max_size=30),
       st.sampled_from(["name", "id", "phone", "bank"]))
def test_vectorised_masking_agrees_with_the_scalar_rule(values, kind):
    scalar = {"name": mask_name, "id": mask_id, "phone": mask_phone, "bank": mask_bank}[kind]
    out = mask_series(pd.Series(values, dtype="object"), kind)
    for v, m in zip(values, out.tolist(), strict=True):
        if v is None:
            assert pd.isna(m)
        else:
            assert m == scalar(v)
            assert len(m) == len(v)
            # every character is kept or starred, and at most the allowed number are kept
            assert all(a in (b, "*") for a, b in zip(m, v, strict=True))
            assert m.count("*") >= len(v) - KEPT_AT_MOST[kind]
            if len(v) >= 1:
                assert m.count("*") >= 1


def test_pii_columns_from_schema_and_ledger_names():
    assert pii_kind("head_name") == "name"
    assert pii_kind("head_id_number") == "id"
    assert pii_kind("phone") == "phone"
    assert pii_kind("helper_name") == "name"
    assert pii_kind("户主身份证号") == "id"
    assert pii_kind("bank_card") == "bank"
    assert pii_kind("project_name") is None
    assert pii_kind("town_name") is None
    assert pii_kind("hh_id") is None
    # `name` is a person's name in members, a project's in projects
    assert pii_kind("name", "members") == "name"
    assert pii_kind("name", "projects") is None


def test_mask_frame_masks_pii_columns_and_keeps_the_rest():
    df = pd.DataFrame({
        "hh_id": ["610830000001", "610830000002"],
        "head_name": ["张三明", "王五"],
        "head_id_number": ["610830199001011234", None],
        "phone": ["13812345678", "13900001111"],
        "project_name": ["光伏电站", "苹果园"],
        "net_income": [1000.0, 2000.0],
    })
    out = mask_frame(df)
    assert out["head_name"].tolist() == ["张*明", "王*"]
    assert out["head_id_number"].iloc[0] == "610830********1234"
    assert pd.isna(out["head_id_number"].iloc[1])
    assert out["phone"].tolist() == ["138****5678", "139****1111"]
    assert out["hh_id"].tolist() == df["hh_id"].tolist()
    assert out["project_name"].tolist() == df["project_name"].tolist()
    assert out["net_income"].tolist() == [1000.0, 2000.0]
    assert df["head_name"].iloc[0] == "张三明"  # the input is not modified


def test_mask_frame_full_is_unchanged_and_bad_mode_is_refused():
    df = pd.DataFrame({"head_name": ["张三明"]})
    assert mask_frame(df, pii="full")["head_name"].iloc[0] == "张三明"
    with pytest.raises(QjError, match="pii"):
        mask_frame(df, pii="partial")


def test_rejects_and_findings_values_masked_by_their_column():
    findings = pd.DataFrame({
        "table": ["households", "members", "projects", "income", "helpers"],
        "column": ["head_id_number", "name", "name", "wage", "phone"],
        "value": ["610830199001011235", "李四光", "光伏电站", "abc", "13812345678"],
        "reason_zh": ["身份证校验位错误", "重复", "不在列表", "无法解析", "重复"],
    })
    out = mask_frame(findings)
    assert out["value"].tolist() == [
        "610830********1235", "李*光", "光伏电站", "abc", "138****5678",
    ]
    # without a table column, column names alone decide
    out2 = mask_frame(findings.drop(columns="table"))
    assert out2["value"].tolist()[:2] == ["610830********1235", "李*光"]


def test_a_name_column_labelled_as_a_thing_is_not_masked():
    df = pd.DataFrame({"name": ["光伏电站"], "helper_name": ["赵六一"]})
    out = mask_frame(df, labels={"name": "项目名称", "helper_name": "帮扶责任人姓名"})
    assert out["name"].iloc[0] == "光伏电站" and out["helper_name"].iloc[0] == "赵*一"
    assert mask_frame(df, labels={"name": "姓名"})["name"].iloc[0] == "光**站"


def test_extra_pii_columns_of_a_ledger_spec():
    df = pd.DataFrame({"helper": ["赵六一"], "hh_id": ["1"]})
    assert mask_frame(df, extra={"helper": "name"})["helper"].iloc[0] == "赵*一"
