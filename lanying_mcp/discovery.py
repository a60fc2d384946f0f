"""Discovery mode: three meta-tools instead of the whole catalogue, so the listing stays tiny.

`search_tools` finds operations by words (English or Chinese), `get_tool_schema` returns one tool's
full contract, and `call_tool` runs any reachable operation with its arguments validated exactly
as if the tool were listed (it goes through the same `dispatch.execute` boundary).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import errors
from .dispatch import Outcome, execute, failure, output_model
from .schema import input_schema, output_schema
from .spec import READ, WRITE, ApiModel, Operation, Params, f

if TYPE_CHECKING:
    from .dispatch import CallContext

_WORD = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]+")


def _terms(text: str) -> list[str]:
    """Lower-case words; runs of Chinese characters also yield their two-character pieces."""
    out: list[str] = []
    for token in _WORD.findall(text.lower()):
        out.append(token)
        if "\u4e00" <= token[0] <= "\u9fff" and len(token) > 2:
            out += [token[i : i + 2] for i in range(len(token) - 1)]
    return out


def _haystack(op: Operation) -> str:
    return " ".join([op.name.replace("_", " "), op.toolset, op.http, *op.title, *op.description]).lower()


def search(ops: list[Operation], query: str, limit: int = 8) -> list[Operation]:
    terms = _terms(query)
    if not terms:
        return ops[:limit]
    scored = []
    for index, op in enumerate(ops):
        hay = _haystack(op)
        name_words = set(op.name.split("_"))
        score = sum(2 if t in name_words else 1 for t in terms if t in hay)
        if score:
            scored.append((-score, index, op))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [op for _, _, op in scored[:limit]]


class SearchTools(Params):
    query: str = f(
        "Words describing the task, English or Chinese (e.g. 'mute group member', '禁言').",
        "描述任务的词,中英文均可(如'mute group member'、'禁言')。",
        max_length=200,
    )
    limit: int = f("How many matches to return.", "返回的匹配数量。", 8, ge=1, le=30)


class ToolMatch(ApiModel):
    name: str
    title: str
    description: str
    toolset: str
    read_only: bool
    required: list[str] = f(
        "Required arguments as 'name: type'.", "必填参数,格式为'名称: 类型'。", default_factory=list
    )
    optional: list[str] = f(
        "Optional arguments as 'name: type'.", "选填参数,格式为'名称: 类型'。", default_factory=list
    )


class GetToolSchema(Params):
    name: str = f("Tool name from search_tools.", "search_tools返回的工具名。", max_length=128)


class ToolSchema(ApiModel):
    name: str
    title: str
    description: str
    toolset: str
    http: str | list[str]
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    read_only: bool
    destructive: bool
    idempotent: bool


class CallTool(Params):
    name: str = f("Tool name from search_tools.", "search_tools返回的工具名。", max_length=128)
    arguments: dict[str, Any] = f(
        "The tool's arguments, as its schema (get_tool_schema) describes.",
        "工具参数,按get_tool_schema给出的结构。",
        default_factory=dict,
    )


def _type(node: dict[str, Any]) -> str:
    """A short type for a schema node: int, str, bool, [int], {…}, 0|1|2, a|b."""
    if "enum" in node:
        return "|".join(str(v) for v in node["enum"][:6])
    if "const" in node:
        return repr(node["const"])
    options = node.get("anyOf") or node.get("oneOf")
    if options:
        kinds = [_type(o) for o in options if o.get("type") != "null"]
        return "|".join(dict.fromkeys(kinds)) or "null"
    kind = node.get("type")
    if kind == "array":
        return f"[{_type(node.get('items') or {})}]"
    return {"integer": "int", "string": "str", "boolean": "bool", "number": "float", "object": "{…}"}.get(
        str(kind), "any"
    )


def signature(op: Operation, lang: str) -> tuple[list[str], list[str]]:
    """(required, optional) arguments of a tool as 'name: type', enough to call it without its schema."""
    schema = input_schema(op.params, lang)
    props: dict[str, Any] = schema.get("properties", {})
    needed = set(schema.get("required", []))
    required = [f"{name}: {_type(node)}" for name, node in props.items() if name in needed]
    optional = [f"{name}: {_type(node)}" for name, node in props.items() if name not in needed]
    return required, optional


def build(reachable: Callable[[], dict[str, Operation]], refuse: Callable[[str], str | None]) -> list[Operation]:
    """The meta-tools over `reachable()` operations; `refuse(name)` explains why a known tool is off, if it is."""

    def find(name: str) -> Operation:
        ops = reachable()
        if name in ops and ops[name].runs is not None:
            raise errors.ArgumentError(f"{name} cannot be run through call_tool; call it directly")
        if name in ops:
            return ops[name]
        why = refuse(name)
        if why:
            raise errors.NotAllowed(why)
        raise errors.ArgumentError(f"no tool named {name!r}; use search_tools to find one")

    async def do_search(ctx: CallContext, p: SearchTools) -> list[ToolMatch]:
        lang = ctx.lang
        matches: list[ToolMatch] = []
        for op in search([o for o in reachable().values() if o.runs is None], p.query, p.limit):
            required, optional = signature(op, lang)
            title, description = op.text(lang)
            matches.append(
                ToolMatch(
                    name=op.name,
                    title=title,
                    description=description,
                    toolset=op.toolset,
                    read_only=op.hints.read_only,
                    required=required,
                    optional=optional,
                )
            )
        return matches

    async def do_schema(ctx: CallContext, p: GetToolSchema) -> ToolSchema:
        op = find(p.name)
        title, description = op.text(ctx.lang)
        return ToolSchema(
            name=op.name,
            title=title,
            description=description,
            toolset=op.toolset,
            http=op.http_meta,
            input_schema=input_schema(op.params, ctx.lang),
            output_schema=output_schema(output_model(op), ctx.lang),
            read_only=op.hints.read_only,
            destructive=op.hints.destructive,
            idempotent=op.hints.idempotent,
        )

    async def do_call(ctx: CallContext, p: CallTool) -> Outcome:
        try:
            op = find(p.name)
        except errors.LanyingError as exc:
            return failure(p.name, exc, ctx.lang)
        return await execute(op, p.arguments, ctx)

    return [
        Operation(
            name="search_tools",
            http="LOCAL search_tools",
            local=True,
            params=SearchTools,
            result=list[ToolMatch],
            handler=do_search,
            hints=READ,
            toolset="discovery",
            title=("Search tools", "搜索工具"),
            description=(
                "Find any Lanying IM admin tool (users, friends, groups, moderation, messages, push, files, "
                "AI) by words; each hit lists its arguments, so call_tool can usually run it directly.",
                "按关键词查找任意蓝莺IM管理工具(用户、好友、群、群管理、消息、推送、文件、AI);"
                "每个结果列出参数,通常可直接用call_tool调用。",
            ),
        ),
        Operation(
            name="get_tool_schema",
            http="LOCAL get_tool_schema",
            local=True,
            params=GetToolSchema,
            result=ToolSchema,
            handler=do_schema,
            hints=READ,
            toolset="discovery",
            title=("Get tool schema", "获取工具定义"),
            description=(
                "A tool's full contract: description, input and output schema, hints, HTTP call.",
                "工具的完整定义:说明、输入输出结构、提示、HTTP调用。",
            ),
        ),
        Operation(
            name="call_tool",
            http="LOCAL call_tool",
            local=True,
            runs=lambda p: (p.name, p.arguments),
            params=CallTool,
            result=Any,
            handler=do_call,
            hints=WRITE,
            toolset="discovery",
            title=("Call tool", "调用工具"),
            description=(
                "Run a tool by name; arguments are validated against its schema. Returns the tool's "
                "own result or structured error.",
                "按名称调用工具,参数按其结构校验。返回该工具自身的结果或结构化错误。",
            ),
        ),
    ]
