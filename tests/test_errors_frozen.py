"""A failure is immutable once made: what a layer learns later travels in a changed copy, never by setting
attributes on an exception that was raised. And the three error modules keep their import direction."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from lanying_mcp.core import error_codes, error_text, errors

PACKAGE = Path(errors.__file__).parent


def _samples() -> list[errors.LanyingError]:
    return [
        errors.LanyingError("boom", code="internal_error", details={"a": 1}, zh="故障"),
        errors.ApiError(20000, "db down"),
        errors.HttpStatusError(503, "busy", retry_after=2.0),
        errors.TransportError("slow", code="timeout"),
        errors.InvalidResponse("not json"),
        errors.ResponseTooLarge(1024, 4096),
        errors.ArgumentError("bad", zh="参数错误"),
        errors.NotAllowed("read-only"),
        errors.EndpointRefused("not allowed"),
        errors.ScopeMissing("needs admin"),
        errors.LookupCapReached(50),
        errors.DeadlineExceeded(30.0, may_have_applied=True),
        errors.RateLimited(10, 0.2),
        errors.AuditUnavailable("/x/audit.jsonl", "EACCES"),
        errors.JournalUnavailable("disk full"),
    ]


def _subclasses(cls: type) -> list[type]:
    return [c for sub in cls.__subclasses__() for c in (sub, *_subclasses(sub))]


def test_every_exception_class_of_the_package_is_sampled_here():
    ours = {c for c in _subclasses(errors.LanyingError) if c.__module__.startswith("lanying_mcp")}
    assert ours | {errors.LanyingError} == {type(e) for e in _samples()}


@pytest.mark.parametrize("exc", _samples(), ids=lambda e: type(e).__name__)
def test_an_exception_cannot_change_once_made(exc: errors.LanyingError):
    before = dict(vars(exc))
    for name in ("message", "code", "retryable", "may_have_applied", "details", "dedup", "retry_key"):
        with pytest.raises(AttributeError, match="cannot change"):
            setattr(exc, name, "changed")
    with pytest.raises(AttributeError, match="cannot change"):
        del exc.message
    assert vars(exc) == before
    # Python's own bookkeeping still works on it: raised, chained, annotated.
    with pytest.raises(type(exc)) as info:
        try:
            raise ValueError("cause")
        except ValueError as cause:
            raise exc from cause
    assert isinstance(info.value.__cause__, ValueError)
    exc.add_note("a note")
    assert exc.__notes__ == ["a note"]


@pytest.mark.parametrize("exc", _samples(), ids=lambda e: type(e).__name__)
def test_a_changed_copy_keeps_everything_else_and_leaves_the_original_alone(exc: errors.LanyingError):
    was = (exc.may_have_applied, exc.dedup, exc.message, exc.message_zh)
    applied = exc.with_applied(True)
    keyed = exc.with_dedup("transaction_id", 42)
    prefixed = exc.with_prefix("first: ", "先:")
    assert (exc.may_have_applied, exc.dedup, exc.message, exc.message_zh) == was
    for copy in (applied, keyed, prefixed):
        assert type(copy) is type(exc) and copy is not exc
        assert (copy.code, copy.retryable, copy.details) == (exc.code, exc.retryable, exc.details)
        assert getattr(copy, "retry_after", None) == getattr(exc, "retry_after", None)
        with pytest.raises(AttributeError):
            copy.message = "changed"
    assert applied.may_have_applied is True and keyed.dedup == ("transaction_id", 42)
    assert prefixed.message == "first: " + exc.message and str(prefixed) == prefixed.message
    assert prefixed.message_zh == (f"先:{exc.message_zh}" if exc.message_zh else None)


def _exception_names(func: ast.AST, exception_classes: set[str]) -> set[str]:
    """Names bound by `except ... as NAME`, or assigned an exception constructed in place, in `func`."""
    names: set[str] = set()
    for node in ast.walk(func):
        if isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            callee = node.value.func
            called = callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", "")
            if called in exception_classes:
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _attribute_writes(tree: ast.AST, exception_classes: set[str]) -> list[str]:
    found: list[str] = []
    scopes = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module))]
    for scope in scopes:
        bound = _exception_names(scope, exception_classes)
        for node in ast.walk(scope):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = list(node.targets)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = [node.target]
            elif isinstance(node, ast.Delete):
                targets = list(node.targets)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("setattr", "delattr")
                and node.args
            ):
                targets = [ast.Attribute(value=node.args[0], attr="?")]
            for target in targets:
                for part in ast.walk(target):
                    if isinstance(part, ast.Attribute) and isinstance(part.value, ast.Name) and part.value.id in bound:
                        found.append(f"line {node.lineno}: {part.value.id}.{part.attr}")
    return sorted(set(found))


def test_no_module_sets_an_attribute_on_an_exception():
    """Outside errors.py nothing assigns to (or deletes) an attribute of a caught or freshly made exception."""
    exception_classes = {name for name, value in vars(errors).items() if inspect.isclass(value)}
    exception_classes |= {"Exception", "ValueError", "RuntimeError", "LookupError", "KeyError", "TypeError"}
    offenders: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "errors.py":
            continue
        writes = _attribute_writes(ast.parse(path.read_text(encoding="utf-8")), exception_classes)
        if writes:
            offenders[str(path.relative_to(PACKAGE.parent))] = writes
    assert not offenders, f"exceptions changed after they were made (raise a changed copy instead): {offenders}"


def test_the_scan_finds_what_it_looks_for():
    classes = {"NotAllowed"}
    src = (
        "def f():\n"
        "    try:\n        pass\n    except E as exc:\n        exc.retry_key = 1\n        raise\n"
        "def g():\n    err = errors.NotAllowed('x')\n    err.details = {}\n    setattr(err, 'code', 1)\n"
        "def h():\n    ok = Thing()\n    ok.value = 1\n"
    )
    assert _attribute_writes(ast.parse(src), classes) == [
        "line 10: err.?",
        "line 5: exc.retry_key",
        "line 9: err.details",
    ]


def _package_imports(module: object) -> set[str]:
    tree = ast.parse(Path(inspect.getfile(module)).read_text(encoding="utf-8"))  # type: ignore[arg-type]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            found.update([node.module] if node.module else [a.name for a in node.names])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lanying_mcp"):
            found.add((node.module or "").removeprefix("lanying_mcp").lstrip(".") or "lanying_mcp")
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("lanying_mcp"))
    return found


def test_the_error_modules_import_downward_only():
    assert _package_imports(error_codes) == set()  # the table: data, importing nothing of the package
    assert _package_imports(errors) == {"error_codes"}  # the tree reads the table (which API codes are retryable)
    assert _package_imports(error_text) == {"error_codes", "errors"}  # the rendering reads both


def test_the_code_table_is_data():
    tree = ast.parse(Path(error_codes.__file__).read_text(encoding="utf-8"))
    functions = [n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    assert functions == [], "error_codes.py holds data only; lookups belong in error_text.py"
