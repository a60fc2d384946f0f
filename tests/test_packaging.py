"""server.json is valid for the registry and agrees with the package; the README keeps its promises."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import jsonschema
import pytest

from lanying_mcp import __version__
from lanying_mcp.core.settings import declared

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "tools" / "upstream" / "server.schema.json"


def test_server_json_validates_against_the_registry_schema():
    schema = json.loads(SCHEMA.read_text())
    doc = json.loads((ROOT / "server.json").read_text())
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    assert [e.message for e in validator.iter_errors(doc)] == []


def test_versions_agree_and_secrets_are_marked():
    doc = json.loads((ROOT / "server.json").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert doc["version"] == project["version"] == __version__
    (package,) = doc["packages"]
    assert package["version"] == __version__ and package["identifier"] == project["name"]
    env = {v["name"]: v for v in package["environmentVariables"]}
    secret = {s.env for s in declared() if s.secret}
    assert env["LANYING_ACCESS_TOKEN"]["isSecret"] is True
    assert all(v.get("isSecret", False) == (name in secret) for name, v in env.items())
    assert f"mcp-name: {doc['name']}" in (ROOT / "README.md").read_text()


def test_readme_starts_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    blocks = [b.split("```", 1)[0].strip() for b in text.split("```bash\n")[1:3]]
    assert "lanying-mcp --sandbox" in blocks[0]
    assert "pytest" in blocks[1]


def build_wheel(tmp_path: Path) -> zipfile.ZipFile:
    """Build the wheel from a copy of what the build reads, so the checkout gains no build/ folder."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "lanying_mcp", src / "lanying_mcp", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("lanying_mcp-*.whl")
    return zipfile.ZipFile(wheel)


@pytest.mark.xfail(
    (ROOT / "lanying_mcp" / "sandbox" / "faults.py").exists(),
    reason="the test-only fault injector still lives in the package",
    strict=True,
)
def test_the_wheel_holds_the_server_and_nothing_the_tests_need(tmp_path):
    with build_wheel(tmp_path) as wheel:
        names = wheel.namelist()
        files = [n for n in names if not n.endswith("/")]
        package = [n for n in files if n.startswith("lanying_mcp/")]
        meta = [n for n in files if ".dist-info/" in n]
        assert sorted(set(files) - set(package) - set(meta)) == [], "files outside the package"
        assert "lanying_mcp/schemas/users.json" in package and "lanying_mcp/schemas/meta.json" in package
        assert "lanying_mcp/__main__.py" in package
        assert "lanying_mcp/py.typed" in package  # type checkers read our annotations (PEP 561)
        assert "lanying_mcp/sandbox/__init__.py" in package  # --sandbox is a feature of the server
        shipped = {n.removeprefix("lanying_mcp/") for n in package if n.endswith(".py")}
        expected = {str(p.relative_to(ROOT / "lanying_mcp")) for p in (ROOT / "lanying_mcp").rglob("*.py")}
        assert shipped == expected - {"sandbox/faults.py"}
        for name in package:
            text = wheel.read(name).decode("utf-8", "replace")
            assert "FaultInjector" not in text, f"{name}: test-only fault injection in the wheel"
            assert "import pytest" not in text and "from tests" not in text, f"{name} needs the tests"
        (entry_points,) = [n for n in meta if n.endswith("entry_points.txt")]
        assert "lanying-mcp = lanying_mcp.cli:main" in wheel.read(entry_points).decode()


def fill(value: str, unpacked: Path, config: dict[str, str]) -> str:
    """What the host does to a manifest string: its folder and the user's settings put in."""
    value = value.replace("${__dirname}", str(unpacked))
    for key, item in config.items():
        value = value.replace("${user_config." + key + "}", item)
    return value


@pytest.mark.skipif(shutil.which("node") is None or shutil.which("npm") is None, reason="node and npm build the bundle")
@pytest.mark.anyio
async def test_the_bundle_is_built_validated_unpacked_and_serves(tmp_path):
    import anyio
    from mcp import Client, StdioServerParameters

    from tests.procs import start_sandbox, stop

    bundle = tmp_path / "lanying-mcp.mcpb"
    built = subprocess.run(
        ["bash", str(ROOT / "tools" / "build_bundle.sh"), str(bundle)], capture_output=True, text=True, timeout=600
    )
    assert built.returncode == 0, built.stdout + built.stderr
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(bundle) as z:
        names = z.namelist()
        z.extractall(unpacked)
    assert "manifest.json" in names and "pyproject.toml" in names and "lanying_mcp/__main__.py" in names
    assert not [n for n in names if n.startswith(("tests/", "tools/")) or "__pycache__" in n]
    manifest = json.loads((unpacked / "manifest.json").read_text())
    assert manifest["version"] == __version__
    user_config = manifest["user_config"]
    assert user_config["access_token"]["sensitive"] is True
    assert all(not v.get("sensitive") for k, v in user_config.items() if k != "access_token")
    mcp_config = manifest["server"]["mcp_config"]
    assert {"LANYING_API_ENDPOINT", "LANYING_APP_ID", "LANYING_ACCESS_TOKEN"} <= set(mcp_config["env"])

    token = "bundle-admin-token-41d2"
    with open(tmp_path / "sandbox.log", "wb") as log:
        proc, url = start_sandbox(token, log)
        try:
            config = {"api_endpoint": url, "app_id": "sandbox", "access_token": token, "toolsets": "users"}
            env = {k: v for k, v in os.environ.items() if not k.startswith("LANYING_")}
            env.update({k: fill(v, unpacked, config) for k, v in mcp_config["env"].items()})
            if shutil.which(mcp_config["command"]):  # the host's way: uv installs the dependencies and runs it
                command, args = mcp_config["command"], [fill(a, unpacked, config) for a in mcp_config["args"]]
            else:  # no uv here: the bundled source on this interpreter, which has the dependencies
                command, args = sys.executable, ["-m", "lanying_mcp"]
                env["PYTHONPATH"] = str(unpacked)
                where = subprocess.run(
                    [command, "-c", "import lanying_mcp; print(lanying_mcp.__file__)"],
                    env=env,
                    cwd=unpacked,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                assert where.stdout.strip().startswith(str(unpacked)), where.stdout
            params = StdioServerParameters(command=command, args=args, env=env, cwd=str(unpacked))
            with anyio.fail_after(600):  # a hang guard: the first `uv run` may download the dependencies
                async with Client(params, mode="legacy") as client:
                    tools = await client.list_tools()
                    assert "list_users" in {t.name for t in tools.tools}
                    result = await client.call_tool("list_users", {"page_size": 5})
                    assert not result.is_error, result.content
        finally:
            stop(proc)


def test_server_json_lists_the_declared_stdio_settings():
    (package,) = json.loads((ROOT / "server.json").read_text())["packages"]
    listed = [v["name"] for v in package["environmentVariables"]]
    assert listed == [s.env for s in declared() if s.env and s.opt.stdio]


def test_server_json_is_generated_from_the_settings(monkeypatch):
    """tools/gen_server.py --check in CI, here too so a stale file fails where settings are tested."""
    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    from gen_server import render

    current = (ROOT / "server.json").read_text(encoding="utf-8")
    assert render(current) == current, "server.json is stale: run tools/regen"


def test_the_public_surface_resolves_and_import_stays_cheap():
    """What `__all__` names can be imported; `import lanying_mcp` alone loads neither the server nor the SDK."""
    code = (
        "import sys, lanying_mcp\n"
        "assert 'lanying_mcp.serving.server' not in sys.modules and 'mcp' not in sys.modules, sorted(sys.modules)\n"
        "for name in lanying_mcp.__all__: getattr(lanying_mcp, name)\n"
        "assert callable(lanying_mcp.build_server) and callable(lanying_mcp.build_sandbox_app)\n"
        "try:\n    lanying_mcp.nothing_here\nexcept AttributeError: pass\nelse: raise SystemExit('no error')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
