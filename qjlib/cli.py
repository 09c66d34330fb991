"""The ``qj`` command (also ``python -m qjlib``).

    qj demo   [--out DIR] [--seed N] [--households N]
    qj check  DATA [--out DIR]
    qj report DATA --period 2019Q3 [--as-of DATE] [--out reports] [--params FILE] [--scope …] [--pii masked|full]
    qj verify reports/2019Q3/manifest.json [--all]
    qj collect reports/2019Q3 RETURNED.xlsx|FOLDER … [--collected-on DATE]
    qj notebooks refresh notebooks/NN_x.ipynb […]

Every sub-command's handler is here but ``qj demo``'s (:func:`qjlib.demo.demo_main`) and
``qj check``'s. Errors meant for people (:class:`qjlib.core.errors.QjError`) print as one line and
exit 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qjlib.core.errors import QjError

ROOT = Path(__file__).resolve().parents[1]
DEMO_DIR = ROOT / "data" / "demo"  # the demo county the committed notebooks are run on


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="qj", description="清涧县扶贫数据分析与审计 / qjlib")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="写出合成示范县数据包 / write the synthetic demo county")
    d.add_argument("--out", type=Path, default=None,
                   help="默认 data/demo（2019Q4：data/demo-2019Q4）/ default data/demo")
    d.add_argument("--seed", type=int, default=2019)
    d.add_argument("--households", type=int, default=12000)
    d.add_argument("--period", default="2019Q3",
                   help="2019Q3（默认）或 2019Q4：下一季度的数据包与乡镇退回的工作簿 / the next quarter")
    d.add_argument("--returned-from", default=None, dest="returned_from", type=Path,
                   help="上期报告目录（默认 reports/2019Q3），据此生成乡镇退回的工作簿")
    d.add_argument("--reports", default=Path("reports"), type=Path, help=argparse.SUPPRESS)

    c = sub.add_parser("check", help="读取并校验数据包 / read and validate a data package")
    c.add_argument("data", type=Path)
    c.add_argument("--out", type=Path, default=None, help="写出 rejects/findings 台账的目录")

    r = sub.add_parser("report", help="生成季度报告 / run the quarterly report")
    r.add_argument("data", type=Path)
    r.add_argument("--period", required=True, help="报告期，如 2019Q3")
    r.add_argument("--out", type=Path, default=Path("reports"))
    r.add_argument("--as-of", default=None, dest="as_of",
                   help="截至日期 YYYY-MM-DD（须在报告期内，默认报告期最后一天）/ the as-of date")
    r.add_argument("--params", type=Path, default=None, help="参数文件，默认 params/<period>.yaml")
    r.add_argument("--scope", nargs="*", default=None,
                   help="范围：county（县）和/或乡镇名称或代码；默认县及全部乡镇")
    r.add_argument("--pii", choices=("masked", "full"), default="masked",
                   help="个人信息：masked（默认，脱敏）或 full（须明确要求）")
    r.add_argument("--jobs", type=int, default=None, help="并行进程数，默认 CPU 核数")
    r.add_argument("--notebooks", nargs="*", default=None, help="只运行这些笔记本（文件名）")
    r.add_argument("--previous", default=None,
                   help="上期报告目录（默认：--out 下的上一季度目录，存在时）；none 不对账"
                        " / the previous report (default: the preceding period beside this one)")

    v = sub.add_parser("verify", help="按清单复算并比对 / re-run from a manifest and compare")
    v.add_argument("manifest", type=Path)
    v.add_argument("--all", action="store_true", dest="show_all",
                   help="逐项列出每个汇总数字（默认只列不一致的项和各部分的计数）"
                        " / list every figure, not only the differences and counts per part")

    co = sub.add_parser("collect", help="读取乡镇退回的台账答复 / read the towns' returned "
                                        "workbooks")
    co.add_argument("report", type=Path, help="报告目录，如 reports/2019Q3")
    co.add_argument("files", nargs="+", type=Path, help="退回的工作簿或其所在目录")
    co.add_argument("--collected-on", default=None, dest="collected_on",
                    help="收集日期 YYYY-MM-DD（默认今天，记入清单）/ the collection date")

    n = sub.add_parser("notebooks", help="提交的笔记本 / the committed notebooks")
    nsub = n.add_subparsers(dest="action", required=True)
    nr = nsub.add_parser("refresh", help="在示范县上原位执行笔记本 / execute notebooks in place on "
                                         "the demo county")
    nr.add_argument("notebooks", nargs="+", type=Path)
    return p


def report_main(args: argparse.Namespace) -> int:
    """``qj report``: exit 0 when every analysis and notebook succeeded, 1 otherwise."""
    from qjlib.report.runner import run_report

    command = ["qj", "report", str(args.data), "--period", args.period, "--out", str(args.out),
               "--pii", args.pii]
    if args.params is not None:
        command += ["--params", str(args.params)]
    if args.as_of is not None:
        command += ["--as-of", args.as_of]
    if args.scope:
        command += ["--scope", *args.scope]
    if args.jobs is not None:
        command += ["--jobs", str(args.jobs)]
    if args.notebooks:
        command += ["--notebooks", *args.notebooks]
    if args.previous is not None:
        command += ["--previous", args.previous]
    run = run_report(
        args.data, args.period, args.out, args.params, args.scope, args.pii, args.jobs,
        args.notebooks, command=command, as_of=args.as_of, previous=args.previous,
    )
    m = run.manifest
    ok_nb = sum(r["status"] == "ok" for r in m["notebooks"])
    print(f"报告已写入 report written to {run.folder}")
    print(f"  台账 ledgers: {len(m['outputs']['ledgers'])}，笔记本 notebooks: {ok_nb}/"
          f"{len(m['notebooks'])} 成功 ok，用时 {m['seconds']['total']} s")
    prev = m["outputs"].get("previous")
    if prev is not None:
        print(f"  对账 reconciled with {prev['folder']} ({prev['period']})")
        for name, note in prev["refused"].items():
            print(f"  未对账 {name}: {note}")
    if run.failures:
        print(f"失败 {len(run.failures)} 项 / {len(run.failures)} failure(s):", file=sys.stderr)
        for f in run.failures:
            print(f"  - {f}", file=sys.stderr)
        return 1
    return 0


def verify_main(args: argparse.Namespace) -> int:
    """``qj verify MANIFEST``: exit 0 only when every ledger and figure is identical."""
    from qjlib.report.verify import verify

    return 0 if verify(args.manifest, show_all=args.show_all) else 1


def collect_main(args: argparse.Namespace) -> int:
    """``qj collect REPORT FILE…``: exit 0 when every file was read (rejected rows are listed,
    not errors), 1 when a file was not one of the report's workbooks."""
    import datetime as dt

    from qjlib.report.collect import collect

    try:
        on = None if args.collected_on is None else dt.date.fromisoformat(args.collected_on)
    except ValueError as e:
        raise QjError(f"--collected-on 应为 YYYY-MM-DD：{args.collected_on} / not a date") from e
    res = collect(args.report, args.files, on)
    bad = 0
    for f in res.files:
        if f["error"]:
            bad += 1
            print(f"  ✗ {f['file']}: {f['error']}", file=sys.stderr)
        else:
            print(f"  {f['file']}: 读 read {f['rows_read']}，采用 kept {f['rows_kept']}，"
                  f"退回 rejected {f['rows_rejected']}")
    print(f"答复 responses: {len(res.responses)} → {args.report / 'responses.csv'}；"
          f"退回 rejects: {len(res.rejects)} → {args.report / 'responses_rejects.csv'}")
    for _, r in res.rejects.iterrows():
        print(f"  - {r['file']} {r['sheet']} 第 {r['row']} 行 row: {r['reason_zh']}")
    if res.findings:
        print(f"已遮蔽答复中的身份证号/电话 {len(res.findings)} 处 / masked ID or phone numbers: "
              f"{len(res.findings)}")
    return 1 if bad else 0


def notebooks_main(args: argparse.Namespace, demo_dir: Path = DEMO_DIR) -> int:
    """``qj notebooks refresh NOTEBOOK…``: execute the committed notebooks in place on the demo
    county (``data/demo``, written first when absent) and tidy them
    (:func:`qjlib.report.refresh.refresh`)."""
    from qjlib.report.refresh import refresh

    if not (demo_dir / "truth.json").exists():
        from qjlib.demo import write_demo

        print(f"[qj] 生成示范县 generating the demo county into {demo_dir}", file=sys.stderr)
        write_demo(demo_dir)
    refresh(args.notebooks)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the ``qj`` command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            from qjlib.demo import demo_main

            return demo_main(args)
        if args.command == "check":
            from qjlib.io.check_command import check_main

            return check_main(args)
        if args.command == "report":
            return report_main(args)
        if args.command == "verify":
            return verify_main(args)
        if args.command == "collect":
            return collect_main(args)
        if args.command == "notebooks":
            return notebooks_main(args)
    except QjError as e:
        print(f"qj {args.command}: {e}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
