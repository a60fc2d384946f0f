"""Discovery mode: three meta-tools instead of the whole catalogue, so the listing stays tiny.

`search_tools` finds operations by words (English or Chinese), `get_tool_schema` returns one tool's
full contract, and `call_tool` runs any reachable operation with its arguments validated exactly
as if the tool were listed (it goes through the same `dispatch.execute` boundary).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as _field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pydantic import Field

from ..core import errors
from ..core.schema import input_schema, output_schema
from ..core.spec import READ, UNPAGED, WRITE, ApiModel, Operation, Params, by_name, f
from .call import Outcome, failure, output_model
from .dispatch import execute

if TYPE_CHECKING:
    from .call import CallContext

# The meta-tools' names, for code that must say whether they are listed.
SEARCH_TOOLS, GET_TOOL_SCHEMA, CALL_TOOL = "search_tools", "get_tool_schema", "call_tool"

_WORD = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]+")
_TERMS_FILE = Path(__file__).with_name("search_terms.json")
# What the API's own reference calls each tool's request (tools/gen_search_keywords.py writes it).
_KEYWORDS_FILE = Path(__file__).with_name("search_keywords.json")
# Field weights: a word in the tool's name or title says more about what it does than one in its prose.
_FIELDS = {
    "name": 3.0,
    "title": 3.0,
    "upstream": 3.0,
    "examples": 0.5,
    "args": 1.0,
    "description": 1.0,
    "arg_text": 0.0,
    "toolset": 0.5,
}
# Chinese characters that carry no meaning of their own in an admin's request (particles, pronouns,
# measure words); every other character also counts alone, at a lower weight than the pairs it forms.
_STOP_CHARS = frozenset(
    "的了吗呢吧啊呀把被给让我你他她它们这那个些一下哪谁什么怎样是在有和与及或就都也还要想请帮再能会可从将对向"
)
_CHAR = "\x00"  # prefix of a single-character term, so 群 alone and the word 群 stay apart
_CHAR_WEIGHT = 0.15
# Names in prose (other tools, arguments) say what a tool points to, not what it does.
_IDENTIFIER = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")
_K1, _B = 1.2, 0.5  # BM25 saturation and length normalisation
_COVERAGE = 4.0  # bonus for a query that says everything a tool's title or name says
_SENSE_KEEP = 0.5  # weight of a query's term read in another sense (search_terms.json `senses`)
_RELATED = 0.5  # weight of a term close to the query's (remove ~ delete), against 1 for the query's own
_ASKS = 1.5  # bonus for a tool that only reads, when the query is a question (how many, 有没有, 是哪个)


def _stem(word: str) -> str:
    """A crude English stem, the same on both sides: members → member, muted → mut, mute → mut."""
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 4 and word.endswith("es") and word[-3] in "sxh":
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    if len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
    elif len(word) > 4 and word.endswith("ed"):
        word = word[:-2]
    else:
        return word[:-1] if len(word) > 3 and word.endswith("e") else word
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]  # banned → ban, stopping → stop
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


def _is_ascii_word(text: str) -> bool:
    return text.isascii() and " " not in text and text.replace("'", "").isalnum()


@dataclass(frozen=True)
class _Vocabulary:
    """search_terms.json, compiled: phrases and Chinese words are rewritten in the text, single English
    words after stemming."""

    phrases: re.Pattern[str]
    rewrite: dict[str, str]  # phrase → canonical text ("" for a stopword)
    words: dict[str, tuple[str, ...]]  # stem → canonical stems (() for a stopword)
    related: dict[str, tuple[str, ...]]  # canonical stem → close terms a query also looks for, at half weight
    # term → (terms of which one beside it in a query changes what it means, what it then means)
    senses: dict[str, tuple[tuple[frozenset[str], str], ...]]
    cues: tuple[
        tuple[re.Pattern[str], tuple[str, ...]], ...
    ]  # a query's form → terms it asks for (these 30 users: batch)
    asks: re.Pattern[str]  # a question's form (how many, 有没有, 是哪个): the query asks to read, not to write


@lru_cache(maxsize=1)
def _vocabulary() -> _Vocabulary:
    data = json.loads(_TERMS_FILE.read_text(encoding="utf-8"))
    rewrite: dict[str, str] = {}
    words: dict[str, tuple[str, ...]] = {}
    entries = [(v, "") for v in data["stopwords"]]
    entries += [(v.lower(), key) for key, variants in data["synonyms"].items() for v in variants]
    for variant, key in entries:
        canonical = tuple(_stem(w) for w in key.split())
        if _is_ascii_word(variant):
            words[_stem(variant)] = canonical
        else:
            rewrite[variant] = " ".join(canonical)
    parts: list[str] = []
    for phrase in sorted(rewrite, key=len, reverse=True):
        escaped = re.escape(phrase)
        parts.append(rf"(?<![a-z0-9]){escaped}(?![a-z0-9])" if phrase.isascii() else escaped)
    related = {_stem(k): tuple(_stem(v) for v in vs) for k, vs in data.get("related", {}).items()}
    senses: dict[str, list[tuple[frozenset[str], str]]] = {}
    for sense in data.get("senses", ()):
        beside = frozenset(_stem(w) for w in sense["with"])
        senses.setdefault(_stem(sense["term"]), []).append((beside, _stem(sense["means"])))
    cues = tuple((re.compile(c["pattern"]), tuple(_terms_of(c["means"], words))) for c in data.get("cues", ()))
    asks = re.compile("|".join(data.get("questions", ())) or r"(?!)")
    return _Vocabulary(
        re.compile("|".join(parts)), rewrite, words, related, {k: tuple(v) for k, v in senses.items()}, cues, asks
    )


def _terms_of(key: str, words: dict[str, tuple[str, ...]]) -> list[str]:
    """The canonical terms of a vocabulary key (English words)."""
    out: list[str] = []
    for word in key.split():
        out += words.get(_stem(word), (_stem(word),))
    return out


def _terms(text: str) -> list[str]:
    """Canonical terms of a text in either language: English words stemmed and mapped through the
    synonyms, runs of Chinese characters cut into two-character pieces after their words are mapped."""
    vocab = _vocabulary()
    text = vocab.phrases.sub(lambda m: f" {vocab.rewrite[m.group(0)]} ", text.lower().replace("_", " "))
    out: list[str] = []
    for token in _WORD.findall(text):
        if "\u4e00" <= token[0] <= "\u9fff":
            pieces = [token] if len(token) < 3 else [token[i : i + 2] for i in range(len(token) - 1)]
            out += [p for p in pieces if not all(c in _STOP_CHARS for c in p)]  # 这个, 给这: no meaning
            out += [_CHAR + c for c in token if c not in _STOP_CHARS]
        else:
            stem = _stem(token)
            out += vocab.words.get(stem, (stem,))
    return out


@lru_cache(maxsize=1)
def _keywords() -> dict[str, dict[str, list[str]]]:
    if not _KEYWORDS_FILE.exists():
        return {}
    data: dict[str, dict[str, list[str]]] = json.loads(_KEYWORDS_FILE.read_text(encoding="utf-8"))
    return data


def _arg_text(op: Operation) -> list[str]:
    """The descriptions of a tool's arguments, in both languages."""
    out: list[str] = []
    for field in op.params.model_fields.values():
        out.append(field.description or "")
        extra = field.json_schema_extra
        if isinstance(extra, dict):
            out.append(str(cast(dict[str, Any], extra).get("x-zh") or ""))
    return out


@dataclass
class _Doc:
    op: Operation
    tf: dict[str, float]  # weighted term frequency over the fields
    length: float
    titles: list[set[str]]  # the name and each title, as term sets, for the coverage bonus
    heading: set[str]  # the terms of the name and titles: what the tool is about


def _doc(op: Operation) -> _Doc:
    fields = {
        "name": _terms(op.name),
        "title": _terms(" ".join(op.title)),
        "args": _terms(" ".join(op.params.model_fields)),
        "description": _terms(_IDENTIFIER.sub(" ", " ".join(op.description))),
        "upstream": _terms(" ".join(_keywords().get(op.name, {}).get("upstream", ()))),
        "examples": _terms(" ".join(_keywords().get(op.name, {}).get("examples", ()))),
        "arg_text": _terms(_IDENTIFIER.sub(" ", " ".join(_arg_text(op)))),
        "toolset": _terms(op.toolset),
    }
    tf: dict[str, float] = {}
    for field, terms in fields.items():
        for term in terms:
            tf[term] = tf.get(term, 0.0) + _FIELDS[field]
    length = sum(_FIELDS[field] * len(terms) for field, terms in fields.items())
    titles = [set(fields["name"]), *(set(_terms(t)) for t in op.title)]
    return _Doc(op, tf, length, [t for t in titles if t], set[str]().union(*titles))


@dataclass
class _Index:
    docs: list[_Doc]
    idf: dict[str, float]
    avg_length: float
    kin: dict[str, tuple[str, ...]] = _field(
        default_factory=dict[str, tuple[str, ...]]
    )  # an unknown word → indexed words of its family


def _kin(index: _Index, term: str) -> tuple[str, ...]:
    """Indexed English words of the same family as a word no tool uses (transferral → transfer,
    downloadable → download): one is the other's start, and the shared start is at least 5 letters."""
    if term in index.idf or not term.isascii() or len(term) < 5 or not term.isalpha():
        return ()
    if term not in index.kin:
        if len(index.kin) > 4096:
            index.kin.clear()
        index.kin[term] = tuple(
            t for t in index.idf if t.isascii() and len(t) >= 5 and (t.startswith(term) or term.startswith(t))
        )
    return index.kin[term]


# Keyed by the operations' identities; an index holds its operations, so an identity is not reused while cached.
_INDEXES: dict[tuple[int, ...], _Index] = {}


def _index(ops: list[Operation]) -> _Index:
    key = tuple(id(op) for op in ops)
    if key not in _INDEXES:
        docs = [_doc(op) for op in ops]
        # A term's weight is how few tools are about it (name and titles); a term only found in
        # descriptions and arguments counts by how many tools mention it at all.
        about: Counter[str] = Counter(t for d in docs for t in d.heading)
        mentioned: Counter[str] = Counter(t for d in docs for t in d.tf)
        n = len(docs)
        idf = {t: math.log(1 + (n - (about[t] or k) + 0.5) / ((about[t] or k) + 0.5)) for t, k in mentioned.items()}
        avg = sum(d.length for d in docs) / n if n else 1.0
        if len(_INDEXES) > 8:
            _INDEXES.clear()
        _INDEXES[key] = _Index(docs, idf, avg or 1.0)
    return _INDEXES[key]


def _senses(asked: Iterable[str]) -> dict[str, bool]:
    """The terms a query asks for once each is read in the sense the others give it, each with whether it was
    read otherwise (ban beside group: block, not disable; delete beside member: remove). A term read
    otherwise still counts, less; a term it then means may give another its context (allow … banned … group:
    block, then unblock)."""
    senses = _vocabulary().senses
    read = dict.fromkeys(asked, False)
    changed = True
    while changed:
        changed = False
        for term in list(read):
            for beside, means in senses.get(term, ()):
                if beside & read.keys() and (not read[term] or means not in read):
                    read[term] = True
                    read.setdefault(means, False)
                    changed = True
    return read


def search(ops: list[Operation], query: str, limit: int = 8) -> list[Operation]:
    """The operations that best match `query` (English or Chinese), best first: BM25 over the weighted
    fields of each tool, plus a bonus when the query covers a tool's title or name. Each term is read in the
    sense the rest of the query gives it (`_senses`)."""
    asked = {t: _CHAR_WEIGHT if t.startswith(_CHAR) else 1.0 for t in _terms(query)}
    if not asked or not ops:
        return ops[:limit]
    vocab = _vocabulary()
    lowered = query.lower()
    for cue, means in vocab.cues:
        if cue.search(lowered):
            for term in means:
                asked.setdefault(term, 1.0)
    asks = _ASKS if vocab.asks.search(lowered) else 0.0
    read = _senses(asked.keys())
    for term in read.keys() - asked.keys():
        asked[term] = 1.0
    for term in read:
        if read[term]:
            asked[term] = min(asked[term], _SENSE_KEEP)
    # How much of a title each asked term covers: a Chinese character as much as a word, a term read in
    # another sense less.
    covered = {t: 1.0 if t.startswith(_CHAR) else w for t, w in asked.items()}
    terms = dict(asked)
    index = _index(ops)
    for term in asked:
        for close in _vocabulary().related.get(term, ()):
            terms.setdefault(close, _RELATED)
        for close in _kin(index, term):
            terms.setdefault(close, _RELATED)
    scored: list[tuple[float, int, Operation]] = []
    for position, doc in enumerate(index.docs):
        norm = _K1 * (1 - _B + _B * doc.length / index.avg_length)
        score = 0.0
        for term, weight in terms.items():
            tf = doc.tf.get(term, 0.0)
            if tf:
                score += weight * index.idf[term] * tf * (_K1 + 1) / (tf + norm)
        if not score:
            continue
        cover = max(
            sum(index.idf.get(t, 0.0) * covered[t] for t in title & covered.keys())
            / (sum(index.idf.get(t, 0.0) for t in title) or 1.0)
            for title in doc.titles
        )
        scored.append((score + _COVERAGE * cover + (asks if doc.op.hints.read_only else 0.0), position, doc.op))
    scored.sort(key=lambda item: (-item[0], item[1]))
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
    required: list[str] = f("Required arguments, 'name: type'.", "必填参数,格式'名称: 类型'。", default_factory=list)
    optional: list[str] = Field(default_factory=list)  # the other arguments, in the same form


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
    # A user list needed by IDs or by usernames: one required entry says both ways.
    either = {mark.ids: name for name, mark in by_name(op.params) if mark.required and name in props}
    needed |= set(either)
    shown = {name: f"{name}: {_type(node)}" for name, node in props.items() if name not in either.values()}
    for ids, name in either.items():
        shown[ids] += f" (or {name}: {_type(props[name])})"
    required = [text for name, text in shown.items() if name in needed]
    optional = [text for name, text in shown.items() if name not in needed]
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
        # With OAuth, only what the token may run is found, as only that is listed (scopes.py).
        found = [o for o in reachable().values() if o.runs is None and (ctx.access is None or ctx.access.may_list(o))]
        for op in search(found, p.query, p.limit):
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
            name=SEARCH_TOOLS,
            http="LOCAL search_tools",
            local=True,
            params=SearchTools,
            result=list[ToolMatch],
            handler=do_search,
            paging=UNPAGED,
            hints=READ,
            toolset="discovery",
            title=("Search tools", "搜索工具"),
            description=(
                "Find any Lanying IM admin tool by words (English or Chinese); each hit lists its "
                "arguments, so call_tool can usually run it directly.",
                "按关键词(中英文均可)查找任意蓝莺IM管理工具;每个结果列出参数,通常可直接用call_tool调用。",
            ),
        ),
        Operation(
            name=GET_TOOL_SCHEMA,
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
            name=CALL_TOOL,
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
                "Run a tool by name with its arguments, validated as if it were listed; returns its result or error.",
                "按名称调用工具,参数按其结构校验;返回该工具的结果或错误。",
            ),
        ),
    ]
