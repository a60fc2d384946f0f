"""The start-up caches go stale one toolset module at a time.

Each `lanying_mcp/schemas/<module>.json`, and each module's part of `lanying_mcp/toolsets/_index.py`,
records the sources it was made from. An edit to one module (simulated here by a different digest for its
file, never by editing it) recomputes that module's tools' schemas and imports that module alone; every
other tool is still served from the files.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx2
import pytest

from lanying_mcp import toolsets
from lanying_mcp.core import schema
from lanying_mcp.core.spec import Operation
from lanying_mcp.sandbox import Store, build_app
from lanying_mcp.serving import server
from lanying_mcp.toolsets import CATALOGUE, MODULES, LazyOperation
from tests.helpers import sandbox_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

import gen_schemas  # noqa: E402


def tools_of(module: str) -> set[str]:
    """The tools a schema file holds."""
    doc = json.loads((schema.CACHE_DIR / f"{module}.json").read_text(encoding="utf-8"))
    return set(doc["en"])


@pytest.fixture
def edited(monkeypatch) -> Iterator[set[str]]:
    """Add a source file's path to the yielded set and it reads as edited since the files were generated."""
    paths: set[str] = set()
    real = schema.file_digest

    def digest(path: str) -> str:
        return "0" * 64 if path in paths else real(path)

    monkeypatch.setattr(schema, "file_digest", digest)
    schema._cache.cache_clear()
    yield paths
    schema._cache.cache_clear()


def test_every_tool_has_one_file():
    files = sorted(p.stem for p in schema.CACHE_DIR.glob("*.json"))
    assert files == sorted([*MODULES, gen_schemas.META])
    held = [tool for module in files for tool in tools_of(module)]
    assert len(held) == len(set(held)), "a tool in two files"
    assert set(CATALOGUE) <= set(held)


def test_a_file_lists_its_module_what_it_imports_and_the_shared_sources():
    sources = {m: set(json.loads((schema.CACHE_DIR / f"{m}.json").read_text("utf-8"))["sources"]) for m in MODULES}
    for module, paths in sources.items():
        assert set(schema.SHARED) | {f"toolsets/{module}.py"} <= paths
    assert {"toolsets/files.py", "toolsets/messages.py", "toolsets/common.py"} <= sources["ai"]
    assert "toolsets/insight.py" in sources["diagnose"]
    assert "toolsets/groups.py" not in sources["users"] and "engine/discovery.py" not in sources["users"]


def test_an_edited_module_stales_its_own_schemas_only(edited):
    users, groups, meta = tools_of("users"), tools_of("groups"), tools_of("meta")
    assert all(schema.cached(tool, "en", "input") is not None for tool in users | groups | meta)
    edited.add("toolsets/users.py")
    schema._cache.cache_clear()
    for tool in users:
        assert schema.cached(tool, "en", "input") is None and schema.cached(tool, "zh", "output") is None
    for tool in groups | meta:
        assert schema.cached(tool, "en", "input") is not None and schema.cached(tool, "zh", "output") is not None


def test_a_module_imported_by_another_stales_both(edited):
    edited.add("toolsets/insight.py")
    schema._cache.cache_clear()
    stale = {tool for tool in CATALOGUE if schema.cached(tool, "en", "input") is None}
    assert stale == tools_of("insight") | tools_of("diagnose")


def test_a_shared_source_stales_every_file(edited):
    edited.add("core/spec.py")
    schema._cache.cache_clear()
    assert schema._cache() == {}


def _listed_with_counts() -> tuple[set[str], int, int]:
    """List every tool; the tools whose cached schemas were missing, and how many schemas were computed."""
    missed: set[str] = set()
    computed = {"input": 0, "output": 0}
    real_cached, real_input, real_output = server.cached, server.input_schema, server.output_schema

    def cached(tool: str, lang: str, kind: str):
        found = real_cached(tool, lang, kind)
        if found is None:
            missed.add(tool)
        return found

    def input_schema(*args, **kwargs):
        computed["input"] += 1
        return real_input(*args, **kwargs)

    def output_schema(*args, **kwargs):
        computed["output"] += 1
        return real_output(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(server, "cached", cached)
        patch.setattr(server, "input_schema", input_schema)
        patch.setattr(server, "output_schema", output_schema)
        store = Store()
        built = server.build_server(sandbox_settings(store), transport=httpx2.ASGITransport(app=build_app(store)))
        listed = anyio.run(built.list_tools)
    assert len(listed) > 100
    return missed, computed["input"], computed["output"]


def test_a_server_recomputes_the_edited_modules_tools_only(edited):
    # the tools the server itself builds (preview_call, apply_plan, await_approval) are never pre-computed
    built, inputs, outputs = _listed_with_counts()
    assert built <= {"preview_call", "apply_plan", "await_approval"}, "a schema file is stale: run tools/regen"
    edited.add("toolsets/users.py")
    schema._cache.cache_clear()
    missed, stale_inputs, stale_outputs = _listed_with_counts()
    users = tools_of("users")
    assert missed == built | users
    assert stale_inputs - inputs == stale_outputs - outputs == len(users)


def test_an_edited_module_alone_is_imported_at_start_up(edited):
    """The catalogue takes an edited module's operations from the module, every other one from the index."""
    edited.add("toolsets/users.py")
    sets, catalogue = toolsets._build()
    assert sets == toolsets.TOOLSETS and list(sets) == list(toolsets.TOOLSETS)
    users = tools_of("users")
    for name, op in catalogue.items():  # before a comparison reads the models of every operation
        if name in users:
            assert type(op) is Operation and op.toolset == "users"
        else:
            assert isinstance(op, LazyOperation) and "_module" in op.__dict__, name
    assert list(catalogue) == list(CATALOGUE) and catalogue == CATALOGUE


def test_a_module_missing_from_the_index_is_imported(monkeypatch):
    from lanying_mcp.toolsets import _index

    monkeypatch.setattr(_index, "SOURCES", {m: v for m, v in _index.SOURCES.items() if m != "tokens"})
    _, catalogue = toolsets._build()
    assert catalogue == CATALOGUE
    assert {name for name, op in catalogue.items() if type(op) is Operation} == tools_of("tokens")


def test_the_check_names_each_stale_file(edited, capsys):
    assert gen_schemas.main(["--check"]) == 0
    capsys.readouterr()
    edited.add("toolsets/users.py")
    assert gen_schemas.main(["--check"]) == 1
    stale = capsys.readouterr().err.splitlines()
    assert [line.split()[0] for line in stale] == ["lanying_mcp/schemas/users.json", "lanying_mcp/toolsets/_index.py"]
    assert all("is out of date: run `python tools/gen_schemas.py`" in line for line in stale)


def test_an_index_of_an_earlier_layout_is_not_used(monkeypatch):
    from lanying_mcp.toolsets import _index

    monkeypatch.delattr(_index, "SOURCES")
    _, catalogue = toolsets._build()
    assert catalogue == CATALOGUE and all(type(op) is Operation for op in catalogue.values())


def test_a_fresh_process_with_one_edited_module_imports_that_module_alone(tmp_path):
    """A copy of the package with one module edited: listing every tool imports that module and no other."""
    package = Path(schema.__file__).parent.parent  # lanying_mcp/
    shutil.copytree(package, tmp_path / package.name, ignore=shutil.ignore_patterns("__pycache__"))
    edited = tmp_path / package.name / "toolsets" / "users.py"
    edited.write_text(edited.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    code = """
import sys, anyio, httpx2
import lanying_mcp
from lanying_mcp.core import schema
from lanying_mcp.sandbox import Store, build_app
from lanying_mcp.serving.server import build_server
from lanying_mcp.toolsets import MODULES
from tests.helpers import sandbox_settings

store = Store()
server = build_server(sandbox_settings(store), transport=httpx2.ASGITransport(app=build_app(store)))
tools = anyio.run(server.list_tools)
print(lanying_mcp.__file__)
print(len(tools), sorted(m for m in MODULES if f"lanying_mcp.toolsets.{m}" in sys.modules))
print(sorted(t.name for t in tools if schema.cached(t.name, "en", "input") is None))
"""
    repo = package.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(repo)])}
    run = [sys.executable, "-c", code]  # run from the copy: `-c` puts the working directory first on the path
    out = subprocess.run(run, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    where, listed, missed = out.stdout.splitlines()
    assert where.startswith(str(tmp_path)), where
    assert int(listed.split()[0]) > 100 and listed.endswith(" ['users']"), listed
    server_built = {"preview_call", "apply_plan", "await_approval"}  # never pre-computed
    assert set(ast.literal_eval(missed)) - server_built == tools_of("users")
