"""``qj check DATA [--out DIR]``: load a data package and say what was read, kept and found."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qjlib.core.errors import QjError
from qjlib.io.issues import KINDS
from qjlib.io.load import load_package


def check_main(args: Any) -> int:
    """``qj check DATA [--out DIR]``: load, print the accounting, findings by kind and notes;
    with ``--out`` write ``rejects.csv`` and ``findings.csv`` (UTF-8 BOM, personal values masked).
    Returns 0 when the package is usable; an unusable one raises :class:`InputError` (one line,
    exit 1, printed by :mod:`qjlib.cli`)."""
    from qjlib.core.privacy import mask_frame

    pkg = load_package(args.data)
    acc = pkg.accounting
    print(f"数据包 data package: {args.data}")
    print("读取情况 rows read / kept / rejected:")
    print(acc.rename(columns={"table": "表 table", "file": "文件 file", "sheet": "工作表 sheet",
                              "read": "读取 read", "kept": "保留 kept", "rejected": "剔除 rejected"})
          .fillna("").to_string(index=False))
    print(f"合计 total: 读取 {int(acc['read'].sum())}，保留 {int(acc['kept'].sum())}，"
          f"剔除 {int(acc['rejected'].sum())}")
    for title, ledger in (("剔除行 rejects", pkg.rejects), ("数据质量问题 findings", pkg.findings)):
        counts = ledger.groupby(["table", "kind"]).size()
        print(f"{title}: {len(ledger)}")
        for (table, kind), n in counts.items():
            print(f"  {table:<10} {kind:<26} {n:>6}  {KINDS.get(kind, '')}")
    towns = pkg.towns
    if len(towns):
        # the codes are what a notebook's `scope` parameter and `qj report --scope` take
        print("乡镇及代码 towns and codes: " + "、".join(
            f"{t}({c})" for t, c in zip(towns["town"], towns["town_code"], strict=True)))
    if pkg.notes:
        print("说明 notes:")
        for note in pkg.notes:
            print(f"  - {note}")
    if args.out is not None:
        out = Path(args.out)
        try:
            out.mkdir(parents=True, exist_ok=True)
            for name, ledger in (("rejects", pkg.rejects), ("findings", pkg.findings)):
                mask_frame(ledger, "masked").to_csv(out / f"{name}.csv", index=False,
                                                    encoding="utf-8-sig", lineterminator="\n")
        except OSError as e:
            raise QjError(f"无法写出台账到 {out}：{e.strerror} / cannot write the ledgers to {out}") from None
        print(f"已写出 written: {out / 'rejects.csv'}, {out / 'findings.csv'}")
    print("数据包可用 / the package is usable")
    return 0
