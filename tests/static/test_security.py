"""Access rights: ir.model.access.csv files against the models the addon
declares, and the groups they reference."""

import ast
import collections
import csv

from lxml import etree

ACCESS_HEADER = [
    "id",
    "name",
    "model_id:id",
    "group_id:id",
    "perm_read",
    "perm_write",
    "perm_create",
    "perm_unlink",
]
MODEL_DIRS = ("models", "wizards")
CONCRETE_BASES = {"Model", "TransientModel"}
ABSTRACT_BASES = {"AbstractModel"}


def access_files(addon_dir, addon_files):
    return [
        path
        for path in addon_files(addon_dir, ".csv")
        if path.name == "ir.model.access.csv"
    ]


def read_access_rows(path):
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0] if rows else [], rows[1:]


def _base_name(node):
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def _str_value(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def declared_models(addon_dir, addon_files, folders=MODEL_DIRS):
    """{model name: (kind, "file:line")} of the classes with a ``_name``;
    kind is "concrete" (Model, TransientModel) or "abstract" (AbstractModel).
    A class whose ``_name`` is also in its ``_inherit`` only extends it."""
    models = {}
    for folder in folders:
        if not (addon_dir / folder).is_dir():
            continue
        for path in addon_files(addon_dir / folder, ".py"):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for cls in ast.walk(tree):
                if not isinstance(cls, ast.ClassDef):
                    continue
                bases = {_base_name(b) for b in cls.bases}
                if bases & CONCRETE_BASES:
                    kind = "concrete"
                elif bases & ABSTRACT_BASES:
                    kind = "abstract"
                else:
                    continue
                attrs = {}
                for stmt in cls.body:
                    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                        target = stmt.targets[0]
                        if isinstance(target, ast.Name):
                            attrs[target.id] = stmt.value
                name = _str_value(attrs.get("_name"))
                if not name:
                    continue
                inherit = attrs.get("_inherit")
                inherited = set()
                if _str_value(inherit):
                    inherited.add(_str_value(inherit))
                elif isinstance(inherit, ast.List | ast.Tuple):
                    inherited |= {_str_value(e) for e in inherit.elts}
                if name in inherited:
                    continue
                rel = path.relative_to(addon_dir)
                models[name] = (kind, f"{rel}:{cls.lineno}")
    return models


def model_xmlid(model_name):
    return "model_" + model_name.replace(".", "_")


def strip_module(xmlid, addon):
    """``addon.x`` -> ``x``; ids of other modules are returned unchanged."""
    if xmlid.startswith(addon + "."):
        return xmlid[len(addon) + 1 :]
    return xmlid


def test_access_file_exists_when_models_are_declared(addon_dir, addon_files):
    concrete = {
        name: where
        for name, (kind, where) in declared_models(addon_dir, addon_files).items()
        if kind == "concrete"
    }
    if concrete:
        assert access_files(addon_dir, addon_files), (
            f"the addon declares models {sorted(concrete)} but has no "
            "security/ir.model.access.csv"
        )


def test_access_csv_header(addon_dir, addon_files):
    problems = []
    for path in access_files(addon_dir, addon_files):
        header, _rows = read_access_rows(path)
        if header != ACCESS_HEADER:
            problems.append(
                f"{path.relative_to(addon_dir)}: header {','.join(header)!r}, "
                f"expected {','.join(ACCESS_HEADER)!r}"
            )
    assert not problems, "\n".join(problems)


def test_access_csv_rows(addon, addon_dir, addon_files):
    """Each row has 8 columns, a unique id, 0/1 permissions."""
    problems = []
    seen = collections.defaultdict(list)
    for path in access_files(addon_dir, addon_files):
        rel = path.relative_to(addon_dir)
        _header, rows = read_access_rows(path)
        for lineno, row in enumerate(rows, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(ACCESS_HEADER):
                problems.append(f"{rel}:{lineno}: {len(row)} columns")
                continue
            seen[strip_module(row[0], addon)].append(f"{rel}:{lineno}")
            if not row[0] or not row[2]:
                problems.append(f"{rel}:{lineno}: empty id or model_id:id")
            for value in row[4:]:
                if value not in ("0", "1"):
                    problems.append(f"{rel}:{lineno}: permission {value!r}, not 0/1")
    for xmlid, where in sorted(seen.items()):
        if len(where) > 1:
            problems.append(f"id {xmlid!r} used more than once: {', '.join(where)}")
    assert not problems, "\n".join(problems)


def _access_rows(addon_dir, addon_files):
    for path in access_files(addon_dir, addon_files):
        header, rows = read_access_rows(path)
        if header != ACCESS_HEADER:
            continue  # reported by test_access_csv_header
        rel = path.relative_to(addon_dir)
        for lineno, row in enumerate(rows, start=2):
            if len(row) == len(ACCESS_HEADER):
                yield f"{rel}:{lineno}", dict(zip(ACCESS_HEADER, row, strict=True))


def test_every_model_has_access(addon, addon_dir, addon_files):
    covered = {
        strip_module(row["model_id:id"], addon)
        for _where, row in _access_rows(addon_dir, addon_files)
    }
    missing = [
        f"{name} ({where}): no row with model_id:id {model_xmlid(name)!r}"
        for name, (kind, where) in sorted(
            declared_models(addon_dir, addon_files).items()
        )
        if kind == "concrete" and model_xmlid(name) not in covered
    ]
    assert not missing, "models without access rights:\n" + "\n".join(missing)


def test_access_rows_reference_own_models(addon, addon_dir, addon_files):
    """``model_x`` without a module prefix is ``<addon>.model_x``: the addon
    must declare that model (another module's model needs ``module.model_x``)."""
    all_models = declared_models(addon_dir, addon_files, folders=(".",))
    own = {model_xmlid(name) for name in all_models}
    problems = [
        f"{where}: {row['model_id:id']!r} is not a model of this addon"
        for where, row in _access_rows(addon_dir, addon_files)
        if "." not in strip_module(row["model_id:id"], addon)
        and strip_module(row["model_id:id"], addon) not in own
    ]
    assert not problems, "\n".join(problems)


def _defined_groups(addon, addon_dir, addon_files):
    groups = set()
    for path in addon_files(addon_dir, ".xml"):
        try:
            tree = etree.parse(str(path))
        except etree.XMLSyntaxError:
            continue  # reported by test_xml.py
        for record in tree.iter("record"):
            if record.get("model") == "res.groups" and record.get("id"):
                groups.add(strip_module(record.get("id"), addon))
    return groups


def _xml_group_references(addon, addon_dir, addon_files):
    """(where, xmlid) of the ``groups="..."`` attributes."""
    for path in addon_files(addon_dir, ".xml"):
        try:
            tree = etree.parse(str(path))
        except etree.XMLSyntaxError:
            continue
        rel = path.relative_to(addon_dir)
        for el in tree.iter(etree.Element):
            for ref in (el.get("groups") or "").split(","):
                ref = ref.strip().lstrip("!")
                if ref:
                    yield f"{rel}:{el.sourceline}", ref


def test_referenced_groups_are_defined(addon, addon_dir, addon_files):
    """Group ids without a module prefix (access rows, ``groups=``
    attributes) must be res.groups records of the addon's XML files."""
    defined = _defined_groups(addon, addon_dir, addon_files)
    references = [
        (where, row["group_id:id"])
        for where, row in _access_rows(addon_dir, addon_files)
        if row["group_id:id"]
    ]
    references += list(_xml_group_references(addon, addon_dir, addon_files))
    problems = [
        f"{where}: group {ref!r} is not defined in the addon's XML files"
        for where, ref in references
        if "." not in strip_module(ref, addon)
        and strip_module(ref, addon) not in defined
    ]
    assert not problems, "\n".join(problems)
