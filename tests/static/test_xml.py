"""XML files of the addons: well-formed, and written for Odoo 18.0."""

import collections

import pytest
from lxml import etree

XMLID_TAGS = ("record", "template", "menuitem")


def parse(path):
    """The parsed file; the test is skipped when the file is not well-formed
    (test_xml_is_well_formed reports it)."""
    try:
        return etree.parse(str(path))
    except etree.XMLSyntaxError as e:
        pytest.skip(f"not well-formed XML: {e}")


def _where(element):
    return f"{element.base}:{element.sourceline}"


def test_xml_is_well_formed(xml_file):
    try:
        etree.parse(str(xml_file))
    except etree.XMLSyntaxError as e:
        pytest.fail(f"{xml_file} is not well-formed XML: {e}")


def test_no_tree_view(xml_file):
    """Odoo 18.0 renamed the tree view to list: ``<list>``, view_mode list."""
    tree = parse(xml_file)
    problems = [
        f"{_where(el)}: <tree> element (use <list>)" for el in tree.iter("tree")
    ]
    for field in tree.iter("field"):
        if field.get("name") == "view_mode" and field.text:
            modes = [mode.strip() for mode in field.text.split(",")]
            if "tree" in modes:
                problems.append(
                    f"{_where(field)}: view_mode {field.text!r} (use 'list')"
                )
    assert not problems, "\n".join(problems)


def test_no_attrs_or_states(xml_file):
    """``attrs`` and ``states`` were removed in 17.0: use Python expressions in
    ``invisible``/``readonly``/``required``."""
    tree = parse(xml_file)
    problems = [
        f"{_where(el)}: <{el.tag} {attr}=...>"
        for el in tree.iter(etree.Element)
        for attr in ("attrs", "states")
        if attr in el.attrib
    ]
    assert not problems, "\n".join(problems)


def test_cron_has_no_removed_fields(xml_file):
    """``numbercall`` and ``doall`` no longer exist on ir.cron in 18.0."""
    tree = parse(xml_file)
    problems = [
        f"{_where(field)}: ir.cron {record.get('id')!r} sets {field.get('name')!r}"
        for record in tree.iter("record")
        if record.get("model") == "ir.cron"
        for field in record.iter("field")
        if field.get("name") in ("numbercall", "doall")
    ]
    assert not problems, "\n".join(problems)


def test_xmlids_unique_in_addon(addon, addon_dir, addon_files):
    """An id given twice in one addon: the second record silently overwrites
    the first. ``<addon>.x`` and ``x`` are the same id."""
    seen = collections.defaultdict(list)
    for path in addon_files(addon_dir, ".xml"):
        try:
            tree = etree.parse(str(path))
        except etree.XMLSyntaxError:
            continue  # reported by test_xml_is_well_formed
        for tag in XMLID_TAGS:
            for el in tree.iter(tag):
                xmlid = el.get("id")
                if not xmlid:
                    continue
                if xmlid.startswith(addon + "."):
                    xmlid = xmlid[len(addon) + 1 :]
                rel = path.relative_to(addon_dir)
                seen[xmlid].append(f"{rel}:{el.sourceline}")
    duplicates = {xmlid: where for xmlid, where in seen.items() if len(where) > 1}
    assert not duplicates, "ids defined more than once:\n" + "\n".join(
        f"  {xmlid}: {', '.join(where)}" for xmlid, where in sorted(duplicates.items())
    )
