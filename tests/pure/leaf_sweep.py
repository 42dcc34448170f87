"""The leaf sweep of the bad-input suites: every leaf of a real payload
replaced by a bad value, one at a time, and what the reader made of it.

Each suite gives its own ``broken_promise(read, document, path)`` (what is
wrong with reading ``document`` whose leaf ``path`` is bad, or None); the
helpers here walk, replace and check texts the same way for all of them.
"""

import json

# A leaf replaced by MISSING is removed from its object.
MISSING = object()

# Not compressible (see the Odoo suite): a 100k-character text.
LONG_TEXT = "".join(f"{index:x}" for index in range(25_000))[:100_000]


def leaves(value, path=()):
    """``(path, value)`` of every leaf; an empty list or object is a leaf."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path, value


def label(path):
    """A path as an error names it: ``("lines", 2, "qty")`` -> ``lines[2].qty``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")


def replaced(document, path, value):
    """``document`` with the leaf at ``path`` replaced (or removed): only the
    containers on the path are copied, the rest is shared."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy = list(document) if isinstance(document, list) else dict(document)
    if not rest and value is MISSING:
        del copy[head]
    else:
        copy[head] = replaced(document[head], rest, value)
    return copy


def unstorable(text):
    """Why PostgreSQL would refuse ``text``, or None."""
    if "\x00" in text:
        return "a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone surrogate"
    return None


def strings(value):
    """Every text in a result, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key)
            yield from strings(item)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from strings(item)


def sweep(broken_promise, read, payload, bad_value):
    """``(failures, cases)`` of reading ``payload`` with each leaf replaced by
    ``bad_value``; asserts that reading never changed ``payload`` (the sweep
    shares it between cases)."""
    failures, count = [], 0
    before = json.dumps(payload, sort_keys=True, default=str)
    for path, _value in leaves(payload):
        if not path:
            continue
        count += 1
        problem = broken_promise(read, replaced(payload, path, bad_value), path)
        if problem:
            failures.append(f"{label(path)}: {problem}")
    assert json.dumps(payload, sort_keys=True, default=str) == before
    return failures, count
