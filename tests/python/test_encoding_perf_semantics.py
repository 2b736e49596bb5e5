"""What the encoding fast paths keep: instances of one class with different
fields keep their own struct types, a step's locals share a value budget that
cuts big containers visibly (never scalars or strings), and arguments are not
cut by that budget. Every program runs in a real subprocess through the CLI."""

from __future__ import annotations

from conftest import payloads as names, record_events as record


def step_locals(events: list[dict], line: int) -> dict[str, dict]:
    """The locals recorded with the last step at ``line``."""
    variables = names(events, "VariableName")
    found: dict[str, dict] = {}
    current: dict[str, dict] | None = None
    for event in events:
        if "Step" in event:
            current = {} if event["Step"]["line"] == line else None
            if current is not None:
                found = current
        elif "Value" in event and current is not None:
            current[variables[event["Value"]["variable_id"]]] = event["Value"]["value"]
    return found


def count(value: dict) -> int:
    children = value.get("elements", value.get("field_values", []))
    return 1 + sum(count(child) for child in children)


def test_struct_types_follow_each_instance_fields(tmp_path):
    events = record(
        tmp_path,
        "class P:\n"
        "    pass\n"
        "def make():\n"
        "    a = P(); a.x = 1\n"
        "    b = P(); b.x = 'one'\n"
        "    c = P(); c.x = 2; c.y = 3\n"
        "    return 0\n"
        "make()\n",
    )
    types = names(events, "Type")
    values = step_locals(events, 7)
    fields = {
        name: [
            (field["name"], types[field["type_id"]]["lang_type"])
            for field in types[values[name]["type_id"]]["specific_info"]["fields"]
        ]
        for name in "abc"
    }
    assert fields == {
        "a": [("x", "int")],
        "b": [("x", "str")],
        "c": [("x", "int"), ("y", "int")],
    }
    assert [field["i"] for field in values["c"]["field_values"]] == [2, 3]


def test_a_step_shares_its_budget_and_keeps_scalars_and_strings_exact(tmp_path):
    events = record(
        tmp_path,
        "def work():\n"
        "    rows = [list(range(10)) for _ in range(200)]\n"
        "    table = {str(i): {'i': i} for i in range(200)}\n"
        "    name = 'exact \\u00e9 text ' * 100\n"
        "    n = 12345678901234\n"
        "    return 0\n"
        "work()\n",
    )
    values = step_locals(events, 6)
    assert sum(count(value) for value in values.values()) <= 256
    for name in ("rows", "table"):
        assert values[name]["kind"] == "Sequence"
        assert values[name]["is_slice"] is True, f"{name} is visibly cut"
        assert values[name]["elements"], f"{name} keeps a preview"
    assert values["name"] == {**values["name"], "kind": "String", "text": "exact \u00e9 text " * 100}
    assert values["n"]["i"] == 12345678901234


def test_arguments_keep_the_per_value_budget(tmp_path):
    events = record(
        tmp_path,
        "def f(a, b, c, d, e, g, h):\n"
        "    return 0\n"
        "xs = list(range(100))\n"
        "f(xs, xs, xs, xs, xs, xs, xs)\n",
    )
    functions = [item["name"] for item in names(events, "Function")]
    call = next(c for c in names(events, "Call") if functions[c["function_id"]] == "f")
    for arg in call["args"]:
        # 32 items per container, whatever the other arguments hold.
        assert len(arg["value"]["elements"]) == 32
        assert arg["value"]["is_slice"] is True
