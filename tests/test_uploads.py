"""Local-file uploads: refused unless the operator set upload roots; kernel and own files never; no links."""

from __future__ import annotations

import base64
import os

import pytest

from lanying_mcp.core.errors import ArgumentError, NotAllowed
from lanying_mcp.core.settings import Settings
from lanying_mcp.sandbox import Store
from lanying_mcp.toolsets.ai import read_local_file
from tests.helpers import call, call_error, sandbox_client

LIMIT = 1024 * 1024


def settings(*roots, **changes) -> Settings:
    return Settings(upload_roots=tuple(str(r) for r in roots), **changes)


@pytest.mark.anyio
async def test_without_upload_roots_local_paths_are_refused_and_base64_still_works(tmp_path):
    store = Store()
    bot, admin = (store.add_user(n, "pw").user_id for n in ("bot", "kb-admin"))
    doc = tmp_path / "doc.txt"
    doc.write_text("knowledge")
    args = {"chatbot_id": bot, "admin_user_id": admin}
    async with sandbox_client(store) as client:
        for path in (str(doc), "/proc/self/environ"):
            err = await call_error(client, "upload_knowledge_document", {**args, "file_path": path})
            assert err["code"] == "not_allowed" and "LANYING_UPLOAD_ROOTS" in err["message"]
        ok = await call(
            client,
            "upload_knowledge_document",
            {**args, "file_base64": base64.b64encode(b"inline").decode(), "file_name": "a.txt"},
        )
        assert ok["data"]["size"] == 6
        url = await call(client, "upload_knowledge_document", {**args, "url": "https://example.com/a"})
        assert url["data"]["source"] == "url"


@pytest.mark.parametrize("path", ["/proc/self/environ", "/proc/1/cmdline", "/sys/kernel/hostname", "/dev/zero"])
def test_kernel_files_are_never_uploadable_even_below_root(path):
    with pytest.raises(NotAllowed, match="never"):
        read_local_file(path, settings("/"), LIMIT)


def test_the_servers_own_files_are_never_uploadable(tmp_path):
    own = {name: tmp_path / f"{name}.file" for name in ("audit_log", "policy_file", "profiles_file")}
    for path in own.values():
        path.write_text("secret")
    s = settings(tmp_path, **{k: str(v) for k, v in own.items()})
    for path in own.values():
        with pytest.raises(NotAllowed):
            read_local_file(str(path), s, LIMIT)
    # A hard link to one of them is the same file: refused too.
    os.link(own["policy_file"], tmp_path / "innocent.txt")
    with pytest.raises(NotAllowed):
        read_local_file(str(tmp_path / "innocent.txt"), s, LIMIT)
    (tmp_path / "fine.txt").write_text("ok")
    assert read_local_file("fine.txt", s, LIMIT) == b"ok"  # relative to the (first) root


def test_links_out_of_the_root_are_never_followed(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (root / "link.txt").symlink_to(outside / "secret.txt")
    (root / "dirlink").symlink_to(outside)
    s = settings(root)
    for path in (root / "link.txt", root / "dirlink" / "secret.txt"):
        with pytest.raises(ArgumentError, match="symbolic link|outside|not a readable"):
            read_local_file(str(path), s, LIMIT)
    with pytest.raises(ArgumentError, match="outside"):
        read_local_file(str(root / ".." / "outside" / "secret.txt"), s, LIMIT)


def test_a_directory_swapped_for_a_link_after_the_check_is_not_followed(tmp_path, monkeypatch):
    """The race: the path is checked, then a component is replaced by a link before the open."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "doc.txt").write_text("fine")
    outside.mkdir()
    (outside / "doc.txt").write_text("secret")
    import lanying_mcp.toolsets.ai as ai

    real = ai._forbidden

    def swap_then_check(path, s):  # runs between the path check and the open
        if (root / "sub").is_dir() and not (root / "sub").is_symlink():
            (root / "sub" / "doc.txt").unlink()
            (root / "sub").rmdir()
            (root / "sub").symlink_to(outside)
        return real(path, s)

    monkeypatch.setattr(ai, "_forbidden", swap_then_check)
    with pytest.raises(ArgumentError, match="symbolic link|not a readable"):
        read_local_file(str(root / "sub" / "doc.txt"), settings(root), LIMIT)


def test_fifos_and_folders_are_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "folder").mkdir()
    for name in ("pipe", "folder"):
        with pytest.raises(ArgumentError, match="not a regular file|not a readable"):
            read_local_file(str(tmp_path / name), settings(tmp_path), LIMIT)


def test_the_size_limit_holds(tmp_path):
    (tmp_path / "big.bin").write_bytes(b"x" * 2048)
    with pytest.raises(ArgumentError, match="1024 byte"):
        read_local_file(str(tmp_path / "big.bin"), settings(tmp_path), 1024)
