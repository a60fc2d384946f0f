"""AI scenarios against the sandbox: asking a chatbot, and feeding its knowledge base through
upload_knowledge_document (URL, base64 file, local file) — the stored bytes must come back intact."""

from __future__ import annotations

import base64
import re

import httpx2
import pytest

from lanying_mcp.sandbox import Store, build_app
from tests.helpers import call, call_error, sandbox_client


def documents(reply: dict) -> int:
    (message,) = reply["data"]["messages"]
    return int(re.search(r"holds (\d+) document", message["content"]).group(1))


async def download(store: Store, url: str) -> bytes:
    transport = httpx2.ASGITransport(app=build_app(store))
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox.test") as http:
        got = await http.get(url)
        assert got.status_code == 200, got.text
        return got.content


@pytest.mark.anyio
async def test_knowledge_uploads_reach_the_chatbot(mode: str, tmp_path) -> None:
    store = Store()
    bot, admin, asker = (store.add_user(n, "pw").user_id for n in ("bot", "kb-admin", "asker"))
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    pdf = allowed / "manual.pdf"
    pdf.write_bytes(b"%PDF-1.7 sandbox manual\x00\xff")
    async with sandbox_client(store, mode=mode, upload_roots=(str(allowed),)) as client:
        question = {"user_ids": [bot], "from_user_id": asker, "content": "What is Lanying?"}
        reply = await call(client, "send_ai_message", question)
        assert documents(reply) == 0 and reply["data"]["message_quota_usage"] == 1.0
        (message,) = reply["data"]["messages"]
        assert message["from_xid"]["uid"] == bot and message["to_xid"]["uid"] == asker
        assert message["type"] == "CHAT" and "What is Lanying?" in message["content"]

        url = await call(
            client, "upload_knowledge_document", {"chatbot_id": bot, "admin_user_id": admin, "url": "https://x.io/a"}
        )
        assert url["data"]["source"] == "url" and len(url["data"]["msg_ids"]) == 1

        inline = b"plain text knowledge \xe4\xb8\xad"
        by_bytes = await call(
            client,
            "upload_knowledge_document",
            {
                "chatbot_id": bot,
                "admin_user_id": admin,
                "file_base64": base64.b64encode(inline).decode(),
                "file_name": "notes.txt",
                "metadata": {"topic": "intro"},
            },
        )
        assert by_bytes["data"]["file_name"] == "notes.txt" and by_bytes["data"]["size"] == len(inline)
        assert await download(store, by_bytes["data"]["download_url"]) == inline

        by_path = await call(
            client, "upload_knowledge_document", {"chatbot_id": bot, "admin_user_id": admin, "file_path": str(pdf)}
        )
        assert by_path["data"]["source"] == "file" and by_path["data"]["file_name"] == "manual.pdf"
        assert await download(store, by_path["data"]["download_url"]) == pdf.read_bytes()

        assert documents(await call(client, "send_ai_message", {**question, "content": "and now?"})) == 3

        outside = tmp_path / "elsewhere.txt"
        outside.write_text("secret")
        err = await call_error(
            client, "upload_knowledge_document", {"chatbot_id": bot, "admin_user_id": admin, "file_path": str(outside)}
        )
        assert err["code"] == "invalid_arguments" and "outside" in err["message"]
        assert documents(await call(client, "send_ai_message", question)) == 3


@pytest.mark.anyio
async def test_asking_rules() -> None:
    store = Store()
    bot, asker, other_bot = (store.add_user(n, "pw").user_id for n in ("bot", "asker", "bot2"))
    async with sandbox_client(store) as client:
        once = {"as_user_id": asker, "user_ids": [bot], "content": "hi", "transaction_id": 9}
        first = await call(client, "send_ai_message", once)
        again = await call(client, "send_ai_message", once)
        # a retried question is answered once (each call has its own journal entry)
        assert first.pop("change_id") != again.pop("change_id")
        assert first == again

        both = await call(
            client, "send_ai_message", {"as_user_id": asker, "user_ids": [bot, other_bot], "content": "?"}
        )
        assert {m["from_xid"]["uid"] for m in both["data"]["messages"]} == {bot, other_bot}
        assert both["data"]["message_quota_usage"] == 2.0

        err = await call_error(client, "send_ai_message", {"user_ids": [bot], "content": "who am I?"})
        assert err["code"] == 10002  # nobody asks: the admin token needs a user
        gid = (await call(client, "create_group", {"as_user_id": asker, "name": "g"}))["data"]["group_id"]
        err = await call_error(client, "send_ai_message", {"as_user_id": asker, "group_ids": [gid], "content": "hi"})
        assert err["code"] == 10002
        err = await call_error(client, "send_ai_message", {"as_user_id": asker, "user_ids": [424242], "content": "hi"})
        assert err["code"] == 10000
