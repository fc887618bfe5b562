"""A small mutation tester: change one thing in the rules, run the tests that cover it, expect a failure.

    python scripts/mutate.py                 # the full run (make mutation)
    python scripts/mutate.py --list          # only list the mutants
    python scripts/mutate.py --only commit   # one group: scheduling | accounts | commit
    python scripts/mutate.py --sample 66     # every commit mutant and exactly 66 others, evenly spread
    python scripts/mutate.py --match "toggle_slot" --reuse-map --extra-test tests/x.py::test_new   # re-run some

Operators: comparisons flipped (< <=, > >=, == !=, in / not in, is / is not), `and` / `or` swapped, `not`
dropped, integer constants moved by one, True / False swapped, and "forget the commit": a unit of work
(`with unit_of_work(...)`) replaced by `contextlib.nullcontext()`, so the business write never commits.

How it stays fast: the tree is copied once; the in-process suite runs once under coverage with one context per
test (scripts/mutation_plugin.py), which says which tests execute each line (cached until a source or test
changes); this process then imports the copy's code and test modules once, and each mutant runs in a fork of it
with the mutated functions' code swapped in place, only the tests that executed the mutated line, those that
killed earlier mutants first, then the quickest, stopping at the first failure (-x), on a copy of one migrated
SQLite template in /dev/shm. Survivors are printed with their place, to be judged by a person.
"""

from __future__ import annotations

import argparse
import ast
import copy
import gc
import hashlib
import importlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(os.environ.get("HMS_MUTATION_DIR", "/tmp/hms-mutation"))

# Candidate tests: the in-process suite. Each mutant runs only those that executed its line (a per-test coverage
# map made once per run), fastest and most deadly first, stopping at the first failure.
CANDIDATE_TESTS = ["tests"]
CANDIDATE_ARGS = [
    "-m",
    "not browser and not slow and not fuzz and not faults",
    "--ignore=tests/browser",
    "--ignore=tests/e2e_http",
    "--ignore=tests/faults",
    "--ignore=tests/test_fuzz_api.py",
]
# Modules of a group: every module of the package but its HTTP and schema layers (so a split of the service into
# modules is followed without editing this list); functions whose comparisons and constants are rules are named below.
EXCLUDED_MODULES = {"__init__.py", "views.py", "schemas.py", "cli.py"}
EXTRA_MODULES = {"accounts": ["hms/common/auth.py"]}
# Functions whose comparisons and constants are rules (others are formatting, queries' plumbing, calendars); a name
# is looked for in every module of its group. None: every function of the module.
RULE_FUNCTIONS: dict[str, set[str] | None] = {
    "hms/scheduling/rules.py": None,
    "scheduling": {
        "cut_slots",
        "_slots",
        "doctor_ids_available_on",
        "_check_time",
        "_place",
        "_patients_day_and_holdings",
        "_patient_conflicts",
        "_patient_conflict",
        "book",
        "_notify_waitlist",
        "reschedule",
        "cancel",
        "_cancel",
        "_one_day_state",
        "set_status",
        "_replace_windows",
        "_future_only",
        "apply_template",
        "toggle_slot",
        "join_waitlist",
        "leave_waitlist",
        "doctor_feed",
    },
    "accounts": {
        "check_password",
        "login",
        "_count_failure",
        "_check_not_locked",
        "set_active",
        "change_password",
        "logout",
        "verify_password",
        "password_problems",
        "_lookup",
        "roles_required",
        "wrapper",
        "init_jwt",
    },
}
# The business writes of issue 18's "Done means": each one's unit of work is removed in turn (looked up by function
# name in these packages).
COMMIT_SITES = {
    "hms/scheduling": [
        "book",
        "reschedule",
        "cancel",
        "set_status",
        "join_waitlist",
        "toggle_slot",
        "_apply_windows",  # PUT availability and the weekly template
    ],
    "hms/clinical": ["update_treatment"],
    "hms/directory": ["update_doctor", "update_patient", "set_doctor_active", "set_patient_active", "register"],
    "hms/accounts": ["change_password", "login"],
}
GROUPS = {"scheduling": "hms/scheduling", "accounts": "hms/accounts"}


def _modules(package: str, extra: list[str] | None = None) -> list[str]:
    """The package's modules that hold rules (relative paths), in a stable order."""
    paths = sorted(p for p in (ROOT / package).glob("*.py") if p.name not in EXCLUDED_MODULES)
    return [str(p.relative_to(ROOT)) for p in paths] + list(extra or [])


FLIP = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}


@dataclass
class Mutant:
    group: str
    path: str
    line: int
    what: str
    tree: ast.Module  # the whole module with the one change, compiled in the test process
    covered_at: list[int]  # the lines whose tests are this mutant's tests (its statement's, as coverage records)


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            yield node


def _statement_lines(function: ast.FunctionDef) -> dict[int, int]:
    """id(node) -> the line coverage records it under: its innermost statement's first line.

    A default value or a decorator runs at import, before any test: its mutants take the tests of the body.
    """
    statements = function.body
    if statements and isinstance(statements[0], ast.Expr) and isinstance(statements[0].value, ast.Constant):
        statements = statements[1:]  # coverage records no line for a docstring
    body_line = statements[0].lineno if statements else function.lineno
    owner: dict[int, int] = {id(n): body_line for n in ast.walk(function)}
    for statement in ast.walk(function):  # breadth first: inner statements come later and win
        if isinstance(statement, ast.stmt) and statement is not function:
            for node in ast.walk(statement):
                owner[id(node)] = statement.lineno
    return owner


def _mutations(function: ast.FunctionDef) -> Iterator[tuple[ast.AST, str, str]]:
    """(node, description, replacement-maker) for each place in a function that can be mutated."""
    for node in ast.walk(function):
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in FLIP:
            yield node, f"{type(node.ops[0]).__name__} -> {FLIP[type(node.ops[0])].__name__}", "compare"
        elif isinstance(node, ast.BoolOp):
            yield node, f"{type(node.op).__name__} -> {'Or' if isinstance(node.op, ast.And) else 'And'}", "boolop"
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield node, "drop not", "not"
        elif isinstance(node, ast.Constant) and type(node.value) is bool:
            yield node, f"{node.value} -> {not node.value}", "bool"
        elif isinstance(node, ast.Constant) and type(node.value) is int and node.value not in (0,):
            yield node, f"{node.value} -> {node.value + 1}", "int"


def _apply(tree: ast.Module, target: ast.AST, kind: str) -> ast.Module:
    """A copy of the module with the one node changed."""
    mutated = copy.deepcopy(tree)
    index = list(ast.walk(tree)).index(target)
    node = list(ast.walk(mutated))[index]
    if kind == "compare":
        node.ops = [FLIP[type(node.ops[0])]()]
    elif kind == "boolop":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif kind == "not":
        replacement = node.operand
        for parent in ast.walk(mutated):
            for field, value in ast.iter_fields(parent):
                if value is node:
                    setattr(parent, field, replacement)
                elif isinstance(value, list) and node in value:
                    value[value.index(node)] = replacement
    elif kind == "bool":
        node.value = not node.value
    elif kind == "int":
        node.value = node.value + 1
    return mutated


def _without_unit_of_work(tree: ast.Module, function_name: str) -> tuple[ast.Module, list[int]] | None:
    """The module with `with unit_of_work(...)` of one function replaced by a context that commits nothing,
    and the lines of those `with` statements."""
    mutated = copy.deepcopy(tree)
    function = next((f for f in _functions(mutated) if f.name == function_name), None)
    if function is None:
        return None
    lines: list[int] = []
    for node in ast.walk(function):
        if isinstance(node, ast.With):
            for item in node.items:
                call = item.context_expr
                if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "unit_of_work":
                    item.context_expr = ast.parse("__import__('contextlib').nullcontext()", mode="eval").body
                    lines.append(node.lineno)
    return (mutated, lines) if lines else None


def _allowed(group: str, path: str) -> set[str] | None:
    if path in RULE_FUNCTIONS:
        return RULE_FUNCTIONS[path]
    return RULE_FUNCTIONS[group] or set()


def mutants(only: str | None = None) -> list[Mutant]:
    found: list[Mutant] = []
    seen: set[tuple[str, int, int, str]] = set()  # nested functions are walked twice: count each place once
    for group, package in GROUPS.items():
        if only not in (None, group):
            continue
        named = RULE_FUNCTIONS[group] or set()
        present: set[str] = set()
        for path in _modules(package, EXTRA_MODULES.get(group)):
            tree = ast.parse((ROOT / path).read_text())
            allowed = _allowed(group, path)
            for function in _functions(tree):
                present.add(function.name)
                if allowed is not None and function.name not in allowed:
                    continue
                lines = _statement_lines(function)
                for node, what, kind in _mutations(function):
                    if isinstance(node, ast.Constant) and _is_docstring(function, node):
                        continue
                    key = (path, node.lineno, node.col_offset, what)
                    if key in seen:
                        continue
                    seen.add(key)
                    mutated = _apply(tree, node, kind)
                    found.append(
                        Mutant(group, path, node.lineno, f"{function.name}: {what}", mutated, [lines[id(node)]])
                    )
        missing = named - present
        if missing:  # a rule function renamed or moved out of the package: retarget RULE_FUNCTIONS
            raise SystemExit(f"{package}: no function named {', '.join(sorted(missing))}")
    if only in (None, "commit"):
        for package, names in COMMIT_SITES.items():
            for function_name in names:
                site = None
                for path in _modules(package):
                    tree = ast.parse((ROOT / path).read_text())
                    mutated = _without_unit_of_work(tree, function_name)
                    if mutated is not None:
                        line = next(f.lineno for f in _functions(tree) if f.name == function_name)
                        site = Mutant("commit", path, line, f"{function_name}: no commit", mutated[0], mutated[1])
                        break
                if site is None:
                    raise SystemExit(f"{package}: no function {function_name} with a unit of work")
                found.append(site)
    return found


def _is_docstring(function: ast.FunctionDef, node: ast.AST) -> bool:
    first = function.body[0] if function.body else None
    return isinstance(first, ast.Expr) and first.value is node


def _prepare() -> None:
    """A copy of the working tree (sources and tests) in which mutants are applied one at a time."""
    if WORK.exists():
        shutil.rmtree(WORK)
    ignore = shutil.ignore_patterns(".venv", "node_modules", ".git", "instance", "__pycache__", "docs", "dist")
    shutil.copytree(ROOT, WORK, ignore=ignore, symlinks=True)


def _env() -> dict[str, str]:
    """The tests' environment: the copy's sources first, SQLite files in memory-backed /dev/shm when there is one."""
    env = {**os.environ, "PYTHONPATH": str(WORK), "PYTHONDONTWRITEBYTECODE": "1"}
    if Path("/dev/shm").is_dir():
        env["TMPDIR"] = "/dev/shm"
    env[TEMPLATE] = str(WORK / ".mutation-template.sqlite3")
    return env


PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "scripts.mutation_plugin"]
# A migrated SQLite database copied for each mutant's test session instead of migrating again (tests/conftest.py).
TEMPLATE = "HMS_MUTATION_SQLITE_TEMPLATE"


@dataclass
class TestMap:
    """Which tests executed each line of the mutated modules, and how long each test takes."""

    lines: dict[str, dict[int, set[str]]]
    durations: dict[str, float]

    def tests_for(self, mutant: Mutant) -> set[str]:
        by_line = self.lines.get(mutant.path, {})
        return set().union(*(by_line.get(line, set()) for line in mutant.covered_at))


def _fingerprint() -> str:
    """What the test map depends on: the sources and the tests. A map is reused while they are unchanged."""
    digest = hashlib.sha256()
    for folder in ("hms", "tests", "scripts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def build_map(*, reuse: bool = False) -> TestMap:
    """Run the candidate tests once under coverage, each test its own context (scripts/mutation_plugin.py).

    The map is kept beside the copy (WORK's parent) and reused while no source or test changed."""
    cached = WORK.parent / f"hms-mutation-map-{_fingerprint()}.json"
    saved_maps = sorted(WORK.parent.glob("hms-mutation-map-*.json"), key=lambda p: p.stat().st_mtime)
    if reuse and saved_maps:
        cached = saved_maps[-1]
    if cached.exists():
        saved = json.loads(cached.read_text())
        lines = {p: {int(n): set(t) for n, t in by_line.items()} for p, by_line in saved["lines"].items()}
        print(f"test map: reused {cached}", flush=True)
        return TestMap(lines, saved["durations"])
    import coverage

    data_file = WORK / ".mutation-coverage"
    durations_file = WORK / ".mutation-durations.json"
    started = time.monotonic()
    result = subprocess.run(
        [
            *[sys.executable, "-m", "coverage", "run", f"--data-file={data_file}", "--source=hms", *PYTEST[1:]],
            *CANDIDATE_ARGS,
            *CANDIDATE_TESTS,
        ],
        cwd=WORK,
        capture_output=True,
        text=True,
        env={**_env(), "HMS_MUTATION_DURATIONS": str(durations_file)},
    )
    if result.returncode != 0:  # the unmutated code must pass, or every mutant would look killed
        print(result.stdout[-4000:], result.stderr[-4000:])
        raise SystemExit("the tests fail without any mutant: fix them first")
    data = coverage.CoverageData(basename=str(data_file))
    data.read()
    lines: dict[str, dict[int, set[str]]] = {}
    for measured in data.measured_files():
        path = str(Path(measured).resolve().relative_to(WORK.resolve()))
        contexts = data.contexts_by_lineno(measured)
        lines[path] = {line: {c for c in names if c} for line, names in contexts.items()}
    durations = json.loads(durations_file.read_text())
    saved_lines = {p: {n: sorted(t) for n, t in by_line.items()} for p, by_line in lines.items()}
    cached.write_text(json.dumps({"lines": saved_lines, "durations": durations}))
    print(f"test map: {len(durations)} tests in {time.monotonic() - started:.0f} s", flush=True)
    return TestMap(lines, durations)


def _preload(paths: set[str], test_modules: set[str]) -> None:
    """Import the copy's application and the test tools once, in this process, before any mutant.

    Every mutant then runs in a fork of this process: no interpreter start, no imports, only its tests.
    """
    os.chdir(WORK)
    os.environ.update(_env())
    sys.path.insert(0, str(WORK))
    import pytest  # noqa: F401  (and its plugins, through their imports below)

    import hms

    for module in sorted(paths):
        importlib.import_module(module.removesuffix(".py").replace("/", "."))
    for module in sorted(test_modules):  # the children's pytest finds them imported (asserts not rewritten: still fail)
        try:
            importlib.import_module(module.removesuffix(".py").replace("/", "."))
        except Exception as error:  # pytest will import it again and report the error where it belongs
            print(f"preload: {module}: {error!r}")
    if Path(hms.__file__).resolve().parent != (WORK / "hms").resolve():
        raise SystemExit(f"hms was imported from {hms.__file__}, not from the copy in {WORK}")


def _patch(mutant: Mutant) -> int:
    """Swap in the mutant's code for the functions of its module, wherever they are referenced (decorated routes,
    closures made at import), leaving classes and module state as they are. Returns how many were changed."""
    filename = str((WORK / mutant.path).resolve())
    compiled = compile(ast.fix_missing_locations(mutant.tree), filename, "exec", dont_inherit=True)
    new_code: dict[tuple[str, int], types.CodeType] = {}

    def collect(code: types.CodeType) -> None:
        for constant in code.co_consts:
            if isinstance(constant, types.CodeType):
                new_code[(constant.co_qualname, constant.co_firstlineno)] = constant
                collect(constant)

    collect(compiled)
    # Default values are not in the code: they are evaluated when the def runs. Literal ones are set directly.
    new_defaults: dict[int, tuple[tuple[object, ...], dict[str, object]]] = {}
    for function in _functions(mutant.tree):
        try:
            positional = tuple(ast.literal_eval(d) for d in function.args.defaults)
            keywords = {
                a.arg: ast.literal_eval(d)
                for a, d in zip(function.args.kwonlyargs, function.args.kw_defaults, strict=True)
                if d is not None
            }
        except ValueError:
            continue
        first = min([function.lineno] + [d.lineno for d in function.decorator_list])
        new_defaults[first] = (positional, keywords)
    changed = 0
    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType) and obj.__code__.co_filename == filename:
            replacement = new_code.get((obj.__code__.co_qualname, obj.__code__.co_firstlineno))
            if replacement is not None and replacement != obj.__code__:
                obj.__code__ = replacement
                changed += 1
            defaults = new_defaults.get(obj.__code__.co_firstlineno)
            if defaults is not None and (obj.__defaults__ or (), obj.__kwdefaults__ or {}) != defaults:
                obj.__defaults__ = defaults[0] or None
                obj.__kwdefaults__ = defaults[1] or None
                changed += 1
    return changed


def _run(mutant: Mutant, tests: list[str], timeout: float) -> tuple[str, float, str | None]:
    """Run the mutant's tests (-x) in a fork with the mutant swapped in. Returns the outcome, the time and the
    first test that failed."""
    if not tests:
        return "uncovered", 0.0, None
    args_file = WORK / ".mutation-tests"
    args_file.write_text("\n".join(tests) + "\n")
    log = WORK / ".mutation-log"
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: patch, run pytest, leave without running the parent's clean-up
        code = 3
        try:
            os.setsid()
            out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(out, 1)
            os.dup2(out, 2)
            if _patch(mutant) == 0:
                print("MUTANT NOT APPLIED")
                code = 4
            else:
                import pytest

                code = int(pytest.main([*PYTEST[3:], "-x", "-rfE", f"@{args_file}"]))
        except BaseException as error:  # a mutant that breaks the module: the tests would not even start
            print(f"MUTANT BROKE: {error!r}")
            code = 2
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    deadline = started + timeout
    status = None
    while status is None:
        done, raw = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(raw)
        elif time.monotonic() > deadline:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "killed", time.monotonic() - started, "(timeout)"  # a hang is a failure users would notice
        else:
            time.sleep(0.05)
    output = log.read_text(errors="replace")
    if status == 4:  # counted as a survivor, and listed: the runner could not apply it
        return "unapplied", time.monotonic() - started, None
    failed = next((m.group(2) for m in re.finditer(r"^(FAILED|ERROR) (\S+::\S+)", output, re.M)), None)
    if status == 2 and failed is None:
        failed = "(import)"
    return ("survived" if status == 0 else "killed"), time.monotonic() - started, failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["scheduling", "accounts", "commit"])
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--sample", type=int, default=0, help="keep every commit mutant and about N others")
    parser.add_argument("--shard", default="1/1", help="i/n: run every n-th mutant from the i-th (parallel runs)")
    parser.add_argument("--match", action="append", default=[], help="only mutants whose description has this")
    parser.add_argument("--reuse-map", action="store_true", help="use the newest test map even if the code changed")
    parser.add_argument("--extra-test", action="append", default=[], help="also run this test (new since the map)")
    args = parser.parse_args()
    found = mutants(args.only)
    if args.sample:  # every commit mutant and exactly N others, evenly spread over the modules
        others = [m for m in found if m.group != "commit"]
        chosen = sorted({int(i * len(others) / args.sample) for i in range(min(args.sample, len(others)))})
        found = [m for m in found if m.group == "commit"] + [others[i] for i in chosen]
    if args.match:
        found = [m for m in found if any(text in m.what for text in args.match)]
    shard, shards = (int(part) for part in args.shard.split("/"))
    found = found[shard - 1 :: shards]
    if args.list:
        for mutant in found:
            print(f"{mutant.group:<10} {mutant.path}:{mutant.line} {mutant.what}")
        print(f"{len(found)} mutants")
        return 0
    started = time.monotonic()
    _prepare()
    test_map = build_map(reuse=args.reuse_map)
    _preload({m.path for m in found}, {t.split("::")[0] for t in test_map.durations})
    kills: dict[str, int] = {}  # tests that killed earlier mutants go first (they are the likeliest to kill again)
    survivors: list[tuple[Mutant, str]] = []
    for number, mutant in enumerate(found, 1):
        chosen = test_map.tests_for(mutant) | set(args.extra_test)
        tests = sorted(chosen, key=lambda t: (-kills.get(t, 0), test_map.durations.get(t, 1.0), t))
        timeout = 120 + 4 * sum(test_map.durations.get(t, 1.0) for t in tests)
        outcome, seconds, failed = _run(mutant, tests, timeout)
        if failed in chosen:
            kills[failed] = kills.get(failed, 0) + 1
        print(
            f"[{number}/{len(found)}] {outcome:<9} {seconds:5.1f}s {len(tests):3d} tests "
            f"{mutant.path}:{mutant.line} {mutant.what}" + (f"  <- {failed}" if failed else ""),
            flush=True,
        )
        if outcome in ("survived", "uncovered", "unapplied"):
            survivors.append((mutant, outcome))
    killed = len(found) - len(survivors)
    print(f"\nmutation score: {killed}/{len(found)} killed ({100 * killed / max(1, len(found)):.1f} %)")
    print(f"total time: {time.monotonic() - started:.0f} s")
    for mutant, outcome in survivors:
        print(f"  {outcome}: {mutant.path}:{mutant.line} {mutant.what}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
