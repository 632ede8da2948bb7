"""The `token-ledger` command line."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb

from token_ledger import __version__
from token_ledger.config import Home, check_environment
from token_ledger.errors import LedgerError, LockedError, one_line
from token_ledger.land.formats import FORMATS

OWNERS_HELP = ("a CSV of folder,user_email: the transcripts (claude-code-jsonl) under a folder of that name "
               "are that person's; many people's in one landing")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _home_parent() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--home", metavar="DIR", default=argparse.SUPPRESS,
                        help="home folder (default: $TOKEN_LEDGER_HOME or ./warehouse)")
    return parent


def cmd_generate(args: argparse.Namespace, home: Home) -> int:
    from token_ledger.generate import generate

    result = generate(Path(args.out), profile=args.profile, users=args.users, days=args.days, start=args.start,
                      seed=args.seed, fmt=args.format, outcomes=args.outcomes,
                      bills=args.bills, mispriced_bill=args.mispriced_bill)
    print(f"generated {result.events} records in {len(result.files)} files and {result.people.name} "
          f"into {Path(args.out).resolve()}")
    return 0


def cmd_land(args: argparse.Namespace, home: Home) -> int:
    from token_ledger.landing import land_paths

    report = land_paths(home, args.paths, fmt=args.format, user=args.user, owners=args.owners)
    print(report.line())
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for error in report.refused + report.errors:
        print(f"error: {error}", file=sys.stderr)
    return 3 if report.errors else 1 if report.refused else 0  # errors: the warehouse itself failed


def cmd_build(args: argparse.Namespace, home: Home) -> int:
    from token_ledger.dbt_runner import build

    code = build(home, args.dbt_args)
    if code != 0:
        print(f"error: dbt build failed (exit {code}); see {home.root / 'dbt' / 'logs' / 'dbt.log'}",
              file=sys.stderr)
    return code


def cmd_validate(args: argparse.Namespace, home: Home) -> int:
    from token_ledger.validate import validate

    result = validate(home)
    print(result.line())
    return 0 if result.success else 1


def cmd_publish(args: argparse.Namespace, home: Home) -> int:
    from token_ledger.publish import publish

    tables = publish(home)
    print(f"published {len(tables)} tables to {home.published_db}: {', '.join(tables)}")
    return 0


def cmd_run(args: argparse.Namespace, home: Home) -> int:
    from token_ledger.pipeline import run

    return run(home, args.paths, fmt=args.format, user=args.user, owners=args.owners)


def cmd_erase(args: argparse.Namespace, home: Home) -> int:
    from token_ledger.erase import erase

    print(erase(home, args.user).line() + "; run `token-ledger run` to carry the erasure into the published file")
    return 0


def cmd_report(args: argparse.Namespace, home: Home) -> int:
    from token_ledger.report import build_report

    print(f"dashboard: {build_report(home)}")
    return 0


def cmd_docs(args: argparse.Namespace, home: Home) -> int:
    from token_ledger.dbt_runner import run_dbt

    target = home.sub("docs")
    code = run_dbt(home, ["docs", "generate", "--static", "--target-path", str(target)], quiet=True)
    if code != 0:
        print(f"error: dbt docs generate failed (exit {code}); see {home.root / 'dbt' / 'logs' / 'dbt.log'}",
              file=sys.stderr)
        return code
    print(f"dbt docs (one file, opens offline): {target / 'static_index.html'}")
    return 0


def cmd_metrics(args: argparse.Namespace, home: Home) -> int:
    from token_ledger.metrics import metrics

    return metrics(home, args.mf_args)


def cmd_bench(args: argparse.Namespace, home: Home) -> int:
    from token_ledger.bench import bench

    print(bench(home, args.events, args.repeats, keep=args.keep, fmt=args.format))
    return 0


def cmd_demo(args: argparse.Namespace, home: Home) -> int:
    from token_ledger.demo import demo

    return demo(home, users=args.users, days=args.days)


def build_parser() -> argparse.ArgumentParser:
    home = _home_parent()
    parser = argparse.ArgumentParser(
        prog="token-ledger",
        description="A governed warehouse for your organisation's LLM token usage (dbt on DuckDB).",
        parents=[home],
    )
    parser.add_argument("--version", action="version", version=f"token-ledger {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[[argparse.Namespace, Home], int], text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[home], help=text, description=text)
        p.set_defaults(handler=handler)
        return p

    p = add("generate", cmd_generate, "write synthetic usage logs and people.csv into a folder")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--profile", default="demo", choices=["demo", "claudeonomics"])
    p.add_argument("--users", type=int, default=200)
    p.add_argument("--days", type=int, default=31)
    p.add_argument("--start", type=_date, default=dt.date(2026, 10, 1), metavar="YYYY-MM-DD")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--outcomes", action="store_true",
                   help="also write what the usage bought: Claude Code outcome metrics and analytics report, "
                        "Copilot's users-1-day report (under outcomes/), and GitHub logins in people.csv")
    p.add_argument("--format", default="canonical",
                   help="canonical (JSONL), canonical-csv, canonical-parquet, or a source format")
    p.add_argument("--bills", action="store_true",
                   help="also write what Anthropic and OpenAI bill for the usage (bills/: anthropic-cost-report, "
                        "openai-costs)")
    p.add_argument("--mispriced-bill", action="store_true",
                   help="write the bills with one model-day overcharged by 10%% (bills/MISPRICED.txt says which)")

    p = add("land", cmd_land, "land files or folders into the private warehouse")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--format", default="auto", choices=["auto", *FORMATS])
    p.add_argument("--user", metavar="EMAIL", help="the person for formats that carry no identity")
    p.add_argument("--owners", metavar="CSV", help=OWNERS_HELP)

    p = add("build", cmd_build, "dbt build of the whole project against the private warehouse")
    p.add_argument("dbt_args", nargs=argparse.REMAINDER, metavar="-- DBT_ARGS")

    add("validate", cmd_validate, "Great Expectations checkpoints on landed data and the public marts")
    add("publish", cmd_publish, "write analytics.duckdb atomically from the public marts")

    p = add("run", cmd_run, "land PATHs (if any), build, validate, publish: the scheduled command")
    p.add_argument("paths", nargs="*", metavar="PATH")
    p.add_argument("--format", default="auto", choices=["auto", *FORMATS])
    p.add_argument("--user", metavar="EMAIL")
    p.add_argument("--owners", metavar="CSV", help=OWNERS_HELP)

    p = add("erase", cmd_erase, "remove one person's identity and raw records (right to erasure)")
    p.add_argument("--user", required=True, metavar="EMAIL")

    add("report", cmd_report, "write the standard dashboard <home>/report/index.html from analytics.duckdb")
    add("docs", cmd_docs, "generate dbt's documentation of every model into <home>/docs (one offline HTML file)")

    p = add("metrics", cmd_metrics, "MetricFlow over the semantic layer of the published marts, e.g. "
                                    "`metrics -- query --metrics cost_usd --group-by metric_time__month`")
    p.add_argument("mf_args", nargs=argparse.REMAINDER, metavar="-- MF_ARGS")

    p = add("bench", cmd_bench, "the performance benchmark: land, build, publish vs. a hand-written floor")
    p.add_argument("--events", type=int, default=10_000_000)
    p.add_argument("--keep", action="store_true", help="keep the benchmark's generated files and home")
    p.add_argument("--repeats", type=int, default=3,
                   help="times the incremental day and the day alone are each timed (their medians compared)")
    p.add_argument("--format", default="canonical", choices=["canonical", "claude-code-otel", "claude-code-jsonl",
                                                              "litellm-spendlogs"])

    p = add("demo", cmd_demo, "generate a demo organisation, run the pipeline, print a summary")
    p.add_argument("--users", type=int, default=200)
    p.add_argument("--days", type=int, default=31)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.raiseExceptions = False  # a log line a library cannot write (a full disk): no traceback
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("dbt_args", "mf_args"):
        if getattr(args, name, None) and getattr(args, name)[:1] == ["--"]:
            setattr(args, name, getattr(args, name)[1:])
    try:
        check_environment()
        home = Home.resolve(getattr(args, "home", None))
        return args.handler(args, home)
    except LockedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 75  # EX_TEMPFAIL: try again later
    except LedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except duckdb.Error as exc:  # the warehouse itself failed (disk, memory, a corrupt file): one line, no record
        kind = type(exc).__name__.removesuffix("Exception")
        print(f"error: DuckDB {kind}: {one_line(exc)}", file=sys.stderr)
        return 3
    except OSError as exc:
        print(f"error: {exc.strerror or exc} ({exc.filename or 'no file'})", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
