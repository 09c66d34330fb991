"""The ``qj`` command (also ``python -m qjlib``).

    qj demo   [--out DIR] [--seed N] [--households N]
    qj check  DATA [--out DIR]
    qj report DATA --period 2019Q3 [--out reports] [--params FILE] [--scope …] [--pii masked|full]
    qj verify reports/2019Q3/manifest.json

Errors meant for people (:class:`qjlib.errors.QjError`) print as one line and exit 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qjlib.core.errors import QjError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="qj", description="清涧县扶贫数据分析与审计 / qjlib")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="写出合成示范县数据包 / write the synthetic demo county")
    d.add_argument("--out", type=Path, default=Path("data/demo"))
    d.add_argument("--seed", type=int, default=2019)
    d.add_argument("--households", type=int, default=12000)

    c = sub.add_parser("check", help="读取并校验数据包 / read and validate a data package")
    c.add_argument("data", type=Path)
    c.add_argument("--out", type=Path, default=None, help="写出 rejects/findings 台账的目录")

    r = sub.add_parser("report", help="生成季度报告 / run the quarterly report")
    r.add_argument("data", type=Path)
    r.add_argument("--period", required=True, help="报告期，如 2019Q3")
    r.add_argument("--out", type=Path, default=Path("reports"))
    r.add_argument("--params", type=Path, default=None, help="参数文件，默认 params/<period>.yaml")
    r.add_argument("--scope", nargs="*", default=None,
                   help="范围：county（县）和/或乡镇名称或代码；默认县及全部乡镇")
    r.add_argument("--pii", choices=("masked", "full"), default="masked",
                   help="个人信息：masked（默认，脱敏）或 full（须明确要求）")
    r.add_argument("--jobs", type=int, default=None, help="并行进程数，默认 CPU 核数")
    r.add_argument("--notebooks", nargs="*", default=None, help="只运行这些笔记本（文件名）")

    v = sub.add_parser("verify", help="按清单复算并比对 / re-run from a manifest and compare")
    v.add_argument("manifest", type=Path)
    v.add_argument("--all", action="store_true", dest="show_all",
                   help="逐项列出每个汇总数字（默认只列不一致的项和各部分的计数）"
                        " / list every figure, not only the differences and counts per part")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            from qjlib.demo import demo_main

            return demo_main(args)
        if args.command == "check":
            from qjlib.io.check_command import check_main

            return check_main(args)
        if args.command == "report":
            from qjlib.report.runner import report_main

            return report_main(args)
        if args.command == "verify":
            from qjlib.report.runner import verify_main

            return verify_main(args)
    except QjError as e:
        print(f"qj {args.command}: {e}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
