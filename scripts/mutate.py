"""A small mutation tester: change one thing in the rules, run the tests that cover them, expect a failure.

    python scripts/mutate.py                 # the full run (make mutation)
    python scripts/mutate.py --list          # only list the mutants
    python scripts/mutate.py --only commit   # one group: scheduling | accounts | commit
    python scripts/mutate.py --sample 90     # every commit mutant and an even sample of about 90 others

Operators: comparisons flipped (< <=, > >=, == !=, in / not in, is / is not), `and` / `or` swapped, `not`
dropped, integer constants moved by one, True / False swapped, and "forget the commit": a unit of work
(`with unit_of_work(...)`) replaced by `contextlib.nullcontext()`, so the business write never commits.
Each mutant is applied to a copy of the working tree, the group's tests run there with -x, and the mutant is
killed when they fail. Survivors are printed with their place, to be judged by a person.
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(os.environ.get("HMS_MUTATION_DIR", "/tmp/hms-mutation"))

SCHEDULING_TESTS = [
    "tests/scheduling/test_rules.py",
    "tests/scheduling/test_booking.py",
    "tests/scheduling/test_slots.py",
    "tests/scheduling/test_availability.py",
    "tests/scheduling/test_lists_and_calendars.py",
    "tests/analytics/test_dashboard.py",
    "tests/clinical/test_treatments_and_history.py",
]
ACCOUNT_TESTS = [
    "tests/accounts/test_auth.py",
    "tests/accounts/test_passwords.py",
    "tests/accounts/test_bruteforce.py",
    "tests/accounts/test_profile.py",
    "tests/accounts/test_commands.py",
    "tests/scheduling/test_rules.py::test_a_token_stops_working_once_its_user_is_inactive_even_without_a_new_cut_off",
]
# The business writes of issue 18's "Done means": each one's unit of work is removed in turn.
COMMIT_SITES = {
    "hms/scheduling/booking.py": {
        "book": SCHEDULING_TESTS,
        "reschedule": SCHEDULING_TESTS,
        "cancel": SCHEDULING_TESTS,
        "set_status": SCHEDULING_TESTS,
    },
    "hms/scheduling/waitlist.py": {"join_waitlist": SCHEDULING_TESTS},
    "hms/scheduling/availability.py": {
        "toggle_slot": SCHEDULING_TESTS,
        "_apply_windows": SCHEDULING_TESTS,  # PUT availability and the weekly template
    },
    "hms/clinical/service.py": {"update_treatment": ["tests/clinical/test_treatments_and_history.py"]},
    "hms/directory/doctors.py": {
        "update_doctor": ["tests/directory/test_admin_people.py", "tests/accounts/test_profile.py"],
        "set_doctor_active": ["tests/directory/test_admin_people.py"],
    },
    "hms/directory/patients.py": {
        "update_patient": ["tests/accounts/test_profile.py", "tests/directory/test_admin_people.py"],
        "set_patient_active": ["tests/directory/test_admin_people.py"],
    },
    "hms/accounts/service.py": {"change_password": ACCOUNT_TESTS, "login": ACCOUNT_TESTS},
    "hms/directory/profiles.py": {"register": ACCOUNT_TESTS},
}
GROUPS = {
    "scheduling": (
        [
            "hms/scheduling/rules.py",
            "hms/scheduling/slots.py",
            "hms/scheduling/booking.py",
            "hms/scheduling/waitlist.py",
            "hms/scheduling/availability.py",
            "hms/scheduling/calendar.py",
        ],
        SCHEDULING_TESTS,
    ),
    "accounts": (["hms/accounts/service.py", "hms/accounts/passwords.py", "hms/common/auth.py"], ACCOUNT_TESTS),
}
# Functions whose comparisons and constants are rules (others are formatting, queries' plumbing, calendars).
RULE_FUNCTIONS = {
    "hms/scheduling/rules.py": None,  # every function
    "hms/scheduling/slots.py": {"cut_slots", "_slots", "doctor_ids_available_on"},
    "hms/scheduling/booking.py": {"_check_time", "_place", "book", "reschedule", "cancel", "set_status"},
    "hms/scheduling/waitlist.py": {"_notify_waitlist", "join_waitlist", "leave_waitlist"},
    "hms/scheduling/availability.py": {"_replace_windows", "_future_only", "apply_template", "toggle_slot"},
    "hms/scheduling/calendar.py": {"doctor_feed"},
    "hms/accounts/service.py": {"check_password", "login", "_count_account_failure", "change_password", "logout"},
    "hms/accounts/passwords.py": {"verify_password", "password_problems"},
    "hms/common/auth.py": {"_lookup", "roles_required", "wrapper", "init_jwt"},
}

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
    source: str
    tests: list[str]


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            yield node


def _mutations(function: ast.FunctionDef) -> Iterator[tuple[ast.AST, str, object]]:
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


def _without_unit_of_work(tree: ast.Module, function_name: str) -> ast.Module | None:
    """The module with `with unit_of_work(...)` of one function replaced by a context that commits nothing."""
    mutated = copy.deepcopy(tree)
    function = next((f for f in _functions(mutated) if f.name == function_name), None)
    if function is None:
        return None
    found = False
    for node in ast.walk(function):
        if isinstance(node, ast.With):
            for item in node.items:
                call = item.context_expr
                if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "unit_of_work":
                    item.context_expr = ast.parse("__import__('contextlib').nullcontext()", mode="eval").body
                    found = True
    return mutated if found else None


def mutants(only: str | None = None) -> list[Mutant]:
    found: list[Mutant] = []
    seen: set[tuple[str, int, int, str]] = set()  # nested functions are walked twice: count each place once
    for group, (paths, tests) in GROUPS.items():
        if only not in (None, group):
            continue
        for path in paths:
            tree = ast.parse((ROOT / path).read_text())
            allowed = RULE_FUNCTIONS.get(path)
            for function in _functions(tree):
                if allowed is not None and function.name not in allowed:
                    continue
                for node, what, kind in _mutations(function):
                    if isinstance(node, ast.Constant) and _is_docstring(function, node):
                        continue
                    key = (path, node.lineno, node.col_offset, what.split(": ")[-1])
                    if key in seen:
                        continue
                    seen.add(key)
                    source = ast.unparse(_apply(tree, node, kind))
                    found.append(Mutant(group, path, node.lineno, f"{function.name}: {what}", source, tests))
    if only in (None, "commit"):
        for path, sites in COMMIT_SITES.items():
            tree = ast.parse((ROOT / path).read_text())
            for function_name, tests in sites.items():
                mutated = _without_unit_of_work(tree, function_name)
                if mutated is None:
                    raise SystemExit(f"{path}: {function_name} has no unit of work")
                line = next(f.lineno for f in _functions(tree) if f.name == function_name)
                found.append(Mutant("commit", path, line, f"{function_name}: no commit", ast.unparse(mutated), tests))
    return found


def _is_docstring(function: ast.FunctionDef, node: ast.AST) -> bool:
    first = function.body[0] if function.body else None
    return isinstance(first, ast.Expr) and first.value is node


def _prepare() -> None:
    """A copy of the working tree (sources and tests) in which mutants are applied one at a time."""
    if WORK.exists():
        shutil.rmtree(WORK)
    ignore = shutil.ignore_patterns(".venv", "node_modules", ".git", "instance", "__pycache__", "docs")
    shutil.copytree(ROOT, WORK, ignore=ignore, symlinks=True)


def _run(mutant: Mutant, timeout: int) -> tuple[str, float]:
    target = WORK / mutant.path
    original = target.read_text()
    target.write_text(mutant.source)
    started = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", "not browser", *mutant.tests],
            cwd=WORK,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "PYTHONPATH": str(WORK), "PYTHONDONTWRITEBYTECODE": "1"},
        )
        outcome = "survived" if result.returncode == 0 else "killed"
        if result.returncode not in (0, 1):  # collection or internal error: the mutant broke the import
            outcome = "killed"
    except subprocess.TimeoutExpired:
        outcome = "killed"  # a hang is a failure users would notice
    finally:
        target.write_text(original)
    return outcome, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["scheduling", "accounts", "commit"])
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--sample", type=int, default=0, help="keep every commit mutant and about N others")
    parser.add_argument("--shard", default="1/1", help="i/n: run every n-th mutant from the i-th (parallel runs)")
    parser.add_argument("--match", action="append", default=[], help="only mutants whose description has this")
    args = parser.parse_args()
    found = mutants(args.only)
    if args.sample:
        others = [m for m in found if m.group != "commit"]
        stride = max(1, len(others) // args.sample)
        found = [m for m in found if m.group == "commit"] + others[::stride]
    if args.match:
        found = [m for m in found if any(text in m.what for text in args.match)]
    shard, shards = (int(part) for part in args.shard.split("/"))
    found = found[shard - 1 :: shards]
    if args.list:
        for mutant in found:
            print(f"{mutant.group:<10} {mutant.path}:{mutant.line} {mutant.what}")
        print(f"{len(found)} mutants")
        return 0
    _prepare()
    survivors: list[Mutant] = []
    for number, mutant in enumerate(found, 1):
        outcome, seconds = _run(mutant, args.timeout)
        print(
            f"[{number}/{len(found)}] {outcome:<8} {seconds:5.1f}s {mutant.path}:{mutant.line} {mutant.what}",
            flush=True,
        )
        if outcome == "survived":
            survivors.append(mutant)
    killed = len(found) - len(survivors)
    print(f"\nmutation score: {killed}/{len(found)} killed ({100 * killed / max(1, len(found)):.1f} %)")
    for mutant in survivors:
        print(f"  survived: {mutant.path}:{mutant.line} {mutant.what}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
