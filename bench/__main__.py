"""``python -m bench {import,search,all,matching,data}``: see bench/README.md."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.data import DEFAULT_SEED, OrgGenerator, write_csv
from bench.gateway_bench import print_gateway, run_gateway
from bench.harness import log, write_results
from bench.import_bench import print_import, run_import
from bench.reporting_bench import print_reporting, run_reporting
from bench.screening_bench import DEFAULT_THRESHOLD, print_screening, run_screening
from bench.search_bench import print_search, run_search


def _backends(args: argparse.Namespace) -> list[str]:
    backend = args.backend or ("postgresql" if args.postgres else "sqlite")
    if backend in ("postgresql", "both") and not args.postgres:
        raise SystemExit(f"--backend {backend} needs --postgres URL (or TEJIDO_BENCH_POSTGRES)")
    return ["sqlite", "postgresql"] if backend == "both" else [backend]


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=os.environ.get("TEJIDO_BENCH_POSTGRES") or None,
        help="PostgreSQL URL (a throwaway schema is created and dropped); alone, runs on PostgreSQL",
    )
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), help="default: sqlite")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="data generator seed")
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=900.0,
        help="longest wait (s) for the outbox to publish every event between phases",
    )


def _import_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=10_000, help="rows of the imported CSV file")
    parser.add_argument("--baseline-rows", type=int, default=300, help="organizations registered one by one")


def _search_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--orgs", type=int, default=100_000, help="organizations loaded before searching")
    parser.add_argument("--chunk", type=int, default=10_000, help="rows per import request while loading")
    parser.add_argument("--requests", type=int, default=200, help="measured requests per query")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured requests per query first")
    parser.add_argument(
        "--query-budget", type=float, default=120.0, help="at most this many seconds of requests per query"
    )
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="after loading: SQLite ANALYZE, PostgreSQL VACUUM (ANALYZE) of the registry's tables",
    )
    parser.add_argument(
        "--load-only", action="store_true", help="only load (the import's rate per chunk), no queries"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Tejido benchmarks")
    sub = parser.add_subparsers(dest="command", required=True)
    p_import = sub.add_parser("import", help="bulk import throughput vs one-by-one registration")
    _import_args(p_import)
    _common(p_import)
    p_search = sub.add_parser("search", help="search latency percentiles at --orgs organizations")
    _search_args(p_search)
    _common(p_search)
    p_all = sub.add_parser("all", help="import then search, with their defaults")
    _import_args(p_all)
    _search_args(p_all)
    _common(p_all)
    p_gateway = sub.add_parser("gateway", help="the gateway hop: req/s and latency vs the registry directly")
    p_gateway.add_argument("--concurrency", type=int, default=4, help="client threads")
    p_gateway.add_argument("--seconds", type=float, default=8.0, help="measured seconds per round and path")
    p_gateway.add_argument("--rounds", type=int, default=3, help="alternating rounds (direct, gateway)")
    p_matching = sub.add_parser("matching", help="matching quality and speed (see bench/matching_bench.py)")
    p_matching.add_argument("--orgs", type=int, nargs="+", default=[10_000, 100_000])
    p_matching.add_argument("--requests", type=int, default=300, help="measured rank requests per size")
    p_matching.add_argument(
        "--distractors", type=int, default=500, help="generated profiles added to the pool"
    )
    p_matching.add_argument("--updates", type=int, default=30, help="registry updates timed end to end")
    p_matching.add_argument("--no-model", action="store_true", help="skip the embedding model")
    p_matching.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p_matching.add_argument(
        "--speed-only", action="store_true", help="only matches/s, service time, floor and the stage"
    )
    p_exact = sub.add_parser(
        "matching-exact", help="store or check every ranking answer on a fixed 3,000-organization pool"
    )
    mode = p_exact.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", type=Path, help="store the current code's answers in this file")
    mode.add_argument("--check", type=Path, help="compare the current code's answers with this file")
    p_screen = sub.add_parser(
        "screening", help="due-diligence screening: names/s vs a pairwise scan, quality"
    )
    p_screen.add_argument("--names", type=int, default=10_000, help="organization names screened")
    p_screen.add_argument("--entries", type=int, default=20_000, help="watch-list entries")
    p_screen.add_argument("--baseline-names", type=int, default=10, help="names the pairwise baseline scans")
    p_screen.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, help="default: the service's")
    p_screen.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p_rep = sub.add_parser("reporting", help="impact reporting: bulk ingest rate and aggregate latency")
    p_rep.add_argument("--observations", type=int, default=1_000_000)
    p_rep.add_argument("--orgs", type=int, default=500)
    p_rep.add_argument("--indicators", type=int, default=40)
    p_rep.add_argument("--years", type=int, default=3)
    p_rep.add_argument("--municipalities", type=int, default=200)
    p_rep.add_argument("--chunk", type=int, default=50_000, help="rows per import request")
    p_rep.add_argument("--requests", type=int, default=100, help="measured aggregate requests per query")
    _common(p_rep)
    p_relay = sub.add_parser("relay", help="outbox relay: events/s marking in chunks vs one by one")
    p_relay.add_argument("--events", type=int, default=3_000)
    p_relay.add_argument("--mark-every", type=int, default=20)
    _common(p_relay)
    p_data = sub.add_parser("data", help="write the generated organizations to a CSV file (no benchmark)")
    p_data.add_argument("--rows", type=int, default=10_000)
    p_data.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p_data.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    if args.command == "data":
        start = time.perf_counter()
        write_csv(args.out, OrgGenerator(seed=args.seed).orgs(args.rows))
        log(f"wrote {args.rows:,} organizations to {args.out} in {time.perf_counter() - start:.1f}s")
        return 0

    if args.command == "gateway":
        gateway = run_gateway(args.concurrency, args.seconds, args.rounds)
        print_gateway(gateway)
        print(f"\nresults: {write_results('gateway', vars(args), {'gateway': gateway})}")
        return 0

    if args.command == "matching":
        import tejido_matching  # noqa: F401  (first: limits BLAS to one thread before numpy loads)
        from bench.matching_bench import print_matching, run_matching

        matching = run_matching(
            args.orgs,
            args.requests,
            args.seed,
            args.distractors,
            not args.no_model,
            args.updates,
            speed_only=args.speed_only,
        )
        print_matching(matching)
        print(f"\nresults: {write_results('matching', vars(args), {'matching': matching})}")
        return 0

    if args.command == "matching-exact":
        from bench.matching_exact import run as run_exact

        return run_exact(args.write or args.check, write=args.write is not None)

    if args.command == "screening":
        result = run_screening(
            names=args.names,
            entries=args.entries,
            baseline_names=args.baseline_names,
            threshold=args.threshold,
            seed=args.seed,
        )
        print_screening(result)
        print(f"\nresults: {write_results('screening', vars(args), {'screening': result})}")
        return 0

    backends = _backends(args)
    results: dict[str, Any] = {}
    if args.command == "relay":
        from bench.relay_bench import print_relay, run_relay

        results["relay"] = []
        for backend in backends:
            result = run_relay(backend, args.postgres, args.events, args.mark_every)
            results["relay"].append(result)
            print_relay(result)
    if args.command in ("import", "all"):
        results["import"] = []
        for backend in backends:
            result = run_import(
                backend,
                args.postgres,
                rows=args.rows,
                baseline_rows=args.baseline_rows,
                seed=args.seed,
                drain_timeout=args.drain_timeout,
            )
            results["import"].append(result)
            print_import(result)
    if args.command in ("search", "all"):
        results["search"] = []
        for backend in backends:
            result = run_search(
                backend,
                args.postgres,
                orgs=args.orgs,
                chunk=args.chunk,
                requests=args.requests,
                warmup=args.warmup,
                seed=args.seed,
                drain_timeout=args.drain_timeout,
                query_budget=args.query_budget,
                analyze=args.analyze,
                load_only=args.load_only,
            )
            results["search"].append(result)
            print_search(result)
    if args.command == "reporting":
        results["reporting"] = []
        for backend in backends:
            result = run_reporting(
                backend,
                args.postgres,
                observations=args.observations,
                orgs=args.orgs,
                indicators=args.indicators,
                years=args.years,
                municipalities=args.municipalities,
                chunk=args.chunk,
                requests=args.requests,
                seed=args.seed,
            )
            results["reporting"].append(result)
            print_reporting(result)
    recorded = {k: v for k, v in vars(args).items() if k != "postgres"}
    recorded["postgres"] = bool(args.postgres)  # never write connection strings to results
    path = write_results(args.command, recorded, results)
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
