"""``sciml``: the command line over the catalog and the flows.

    sciml catalog list
    sciml catalog show NAME
    sciml catalog import NAME FILE
    sciml query NAME --sel key=value ... [--isel key=i ...] [--var v ...] [--csv] [--nearest]
    sciml run FLOW|pipeline [--profile paper] [--set key=value ...] [--runner dask [--address A]]
    sciml serve [--host 127.0.0.1] [--port 4200]

The catalog commands read only the data layer; ``run`` and ``serve`` import the Prefect flows
lazily, so the science package itself never imports Prefect.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from sciml.catalog import Catalog
from sciml.errors import SciMLError

__all__ = ["main", "parse_selection"]


def _parse_value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_selection(pairs: list[str] | None) -> dict[str, Any]:
    """``["param=0.6", "model=ANP"]`` -> ``{"param": 0.6, "model": "ANP"}``; repeated keys -> list."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise SciMLError(f"selection {pair!r} must look like key=value")
        key, value = pair.split("=", 1)
        values = [_parse_value(v) for v in value.split(",")]
        out[key] = values if len(values) > 1 else values[0]
    return out


def _coerce(ds, sel: dict[str, Any]) -> dict[str, Any]:
    """Cast CLI values to the coordinate's dtype (a string label stays a string)."""
    out = {}
    for key, value in sel.items():
        if key not in ds.coords:
            raise SciMLError(f"--sel {key}: no coordinate {key!r}; coordinates: {list(ds.coords)}")
        kind = ds[key].dtype.kind
        vals = value if isinstance(value, list) else [value]
        if kind in "iu":
            vals = [int(v) for v in vals]
        elif kind == "f":
            vals = [float(v) for v in vals]
        else:
            vals = [str(v) for v in vals]
        out[key] = vals if isinstance(value, list) else vals[0]
    return out


def _to_frame(ds) -> pd.DataFrame:
    """Table of ``ds``; a fully reduced (0-d) selection gives one row."""
    if ds.sizes:
        return ds.to_dataframe()
    row = {k: v.item() for k, v in ds.coords.items()}
    row.update({k: v.item() for k, v in ds.data_vars.items()})
    return pd.DataFrame([row])


def _query(args: argparse.Namespace) -> int:
    cat = Catalog.load()
    ds = cat.open(args.name, version=args.version, as_of=args.as_of)
    sel = _coerce(ds, parse_selection(args.sel))
    for key in sel:
        if key not in ds.indexes:
            ds = ds.set_xindex(key)
    if sel:
        ds = ds.sel(sel, method="nearest" if args.nearest else None)
    isel = {k: int(v) for k, v in parse_selection(args.isel).items()}
    if isel:
        ds = ds.isel(isel)
    if args.var:
        missing = [v for v in args.var if v not in ds.data_vars]
        if missing:
            raise SciMLError(f"--var {missing}: not in {list(ds.data_vars)}")
        ds = ds[args.var]
    df = _to_frame(ds.load())
    if args.csv:
        df.to_csv(sys.stdout)
    else:
        with pd.option_context("display.max_rows", args.max_rows, "display.width", 160):
            print(df)
    return 0


def _catalog(args: argparse.Namespace) -> int:
    cat = Catalog.load()
    if args.action == "list":
        for name in cat.list():
            entry, _ = cat.entry(name)
            mark = "written" if cat.exists(name) else "-"
            print(f"{name:40s} {mark:8s} {entry.producer:15s} {entry.description}")
        return 0
    if args.action == "import":
        notify = _prefect_events()
        version = cat.import_file(args.name, args.file)
        if notify is not None:
            notify()
        print(f"imported {args.file} as {args.name}, version {version} ({cat.path(args.name)})")
        return 0
    if args.action == "expire":
        from datetime import UTC, datetime, timedelta

        cutoff = datetime.now(UTC) - timedelta(days=args.older_than_days)
        names = [n for n in cat.list() if cat.exists(n)] if args.name == "all" else [args.name]
        for name in names:
            n_versions, n_objects = cat.expire(name, cutoff)
            print(f"{name}: {n_versions} version(s) older than {args.older_than_days} days expired, "
                  f"{n_objects} object(s) deleted")  # fmt: skip
        return 0
    if args.action == "history":
        rows = [v.as_row() for v in cat.history(args.name)]
        if not rows:
            print(f"{args.name}: one version, written before the catalog kept versions")
            return 0
        keep = ["version", "written_utc", "message", "producer", "config_hash", "flow_run_id",
                "git_revision"]  # fmt: skip
        df = pd.DataFrame(rows)
        df = df[[c for c in keep if c in df.columns]].set_index("version")
        with pd.option_context("display.max_rows", args.max_rows, "display.width", 160,
                               "display.max_colwidth", 48):  # fmt: skip
            print(df)
        return 0
    print(json.dumps(cat.describe(args.name), indent=2, default=str))
    return 0


def _prefect_events():
    """Where a Prefect API is configured, emit this process's commits as Prefect events (they start
    the retraining deployments fed by the dataset); returns the function that flushes them."""
    if not os.environ.get("PREFECT_API_URL"):
        return None
    from flows.events import flush, install

    install()
    return flush


def _run(args: argparse.Namespace) -> int:
    os.environ.setdefault("SCIML_PROGRESS_BAR", "1" if sys.stderr.isatty() else "0")
    # the ephemeral Prefect server would try to send usage telemetry (and log an error offline)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows.common import with_runner
    from flows.pipeline import pipeline_flow
    from flows.registry import get_workflow

    overrides = parse_selection(args.set)
    if args.flow in ("pipeline", "all"):
        flow = with_runner(pipeline_flow, args.runner, args.address)
        timings = flow(profile=args.profile)
        print(json.dumps(timings, indent=2))
    else:
        wf = get_workflow(args.flow)
        config = wf.config.for_profile(args.profile, **overrides)
        with_runner(wf.flow, args.runner, args.address)(config=config)
    cat = Catalog.load()
    written = [n for n in cat.list() if cat.exists(n)]
    bin_dir = Path(sys.executable).parent
    with contextlib.suppress(ValueError):
        bin_dir = bin_dir.relative_to(Path.cwd())
    print(f"\nResults are in {cat.data_dir} ({len(written)} datasets written). Try:")
    print(f"  {bin_dir}/sciml catalog list")
    if "gpme/stefan/test" in written:
        print(f"  {bin_dir}/sciml query gpme/stefan/test --sel param=0.6 --sel t=0.05 --var u")
    query = "from sciml.catalog import Catalog; print(Catalog.load().open('gpme/stefan/test').sel(param=0.6))"
    print(f'  {bin_dir}/python -c "{query}"')
    return 0


def _serve(args: argparse.Namespace) -> int:
    from flows.server import serve_with_local_server

    return serve_with_local_server(args.host, args.port, args.only)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sciml", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p_cat = sub.add_parser("catalog", help="list or show catalog datasets")
    cat_sub = p_cat.add_subparsers(dest="action", required=True)
    cat_sub.add_parser("list", help="every dataset, whether written, its producer")
    p_show = cat_sub.add_parser("show", help="dims, variables and attrs of one dataset")
    p_show.add_argument("name")
    p_imp = cat_sub.add_parser("import", help="write a file of yours (zarr or .nc) as a dataset, validated")
    p_imp.add_argument("name")
    p_imp.add_argument("file")
    p_hist = cat_sub.add_parser("history", help="every version of a dataset, newest first")
    p_hist.add_argument("name")
    p_hist.add_argument("--max-rows", type=int, default=60)
    p_exp = cat_sub.add_parser("expire", help="forget versions older than N days, free their storage")
    p_exp.add_argument("name", help="a dataset name, or 'all'")
    p_exp.add_argument("--older-than-days", type=float, required=True)
    p_cat.set_defaults(func=_catalog)

    p_q = sub.add_parser("query", help="select from a dataset and print a table")
    p_q.add_argument("name")
    p_q.add_argument("--sel", action="append", help="key=value (label); repeatable; a,b for several")
    p_q.add_argument("--isel", action="append", help="key=index; repeatable")
    p_q.add_argument("--var", action="append", help="keep only these variables")
    p_q.add_argument("--nearest", action="store_true", help="nearest-label selection")
    p_q.add_argument("--csv", action="store_true", help="CSV on stdout")
    p_q.add_argument("--max-rows", type=int, default=60)
    p_q.add_argument("--version", default=None, help="a version id from `sciml catalog history`")
    p_q.add_argument("--as-of", default=None, help="the version newest at this ISO 8601 time (UTC)")
    p_q.set_defaults(func=_query)

    p_run = sub.add_parser("run", help="run one workflow's flow, or the whole pipeline")
    p_run.add_argument("flow", help="workflow name, or 'pipeline'")
    p_run.add_argument("--profile", default="fast")
    p_run.add_argument("--set", action="append", help="config override key=value; repeatable")
    p_run.add_argument("--runner", choices=["thread", "dask"], default=None)
    p_run.add_argument("--address", default=None, help="Dask scheduler address (with --runner dask)")
    p_run.set_defaults(func=_run)

    p_serve = sub.add_parser("serve", help="local Prefect server (SQLite) + every deployment")
    p_serve.add_argument("--host", default="127.0.0.1")
    p_serve.add_argument("--port", type=int, default=4200)
    p_serve.add_argument("--only", nargs="*", default=None)
    p_serve.set_defaults(func=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SciMLError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
