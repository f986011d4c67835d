import textwrap

import pytest

from functions.errors import CodeError

from .support import run


def code(source: str, *ports: list[dict]) -> list[dict]:
    [out] = run("code", {"code": textwrap.dedent(source)}, *ports)
    return out


def test_code_maps_items() -> None:
    source = """
        out = []
        for item in items:
            item["double"] = item["n"] * 2
            out.append(item)
        return out
    """
    assert code(source, [{"n": 1}, {"n": 2}]) == [{"n": 1, "double": 2}, {"n": 2, "double": 4}]


def test_code_gets_a_copy_of_items() -> None:
    items = [{"a": {"b": 1}}]
    code("items[0]['a']['b'] = 2\nreturn items", items)
    assert items == [{"a": {"b": 1}}]


def test_code_single_dict_becomes_one_item() -> None:
    assert code("return {'count': len(items)}", [{}, {}]) == [{"count": 2}]


def test_code_keeps_multiline_strings_intact() -> None:
    source = 'text = """a\nb"""\nreturn [{"text": text}]'
    assert code(source, [{}]) == [{"text": "a\nb"}]


def test_code_can_define_functions_classes_and_import_allowed_modules() -> None:
    source = """
        import math
        from collections import Counter

        class Box:
            def __init__(self, value):
                self.value = value

        def root(n):
            return math.isqrt(n)

        counts = Counter(item["k"] for item in items)
        return [{"root": root(16), "box": Box(3).value, "counts": dict(counts)}]
    """
    assert code(source, [{"k": "a"}, {"k": "a"}]) == [{"root": 4, "box": 3, "counts": {"a": 2}}]


def test_code_output_is_normalised_through_json() -> None:
    assert code("return [{'t': (1, 2)}]", [{}]) == [{"t": [1, 2]}]


def test_code_runtime_error_names_type_message_and_line() -> None:
    source = "x = 1\n\ny = items[0]['missing']\nreturn []"
    with pytest.raises(CodeError, match=r"KeyError: 'missing' \(line 3\)"):
        code(source, [{}])


def test_code_error_line_inside_a_helper_function() -> None:
    source = "def f():\n    return 1 / 0\n\nreturn [{'v': f()}]"
    with pytest.raises(CodeError, match=r"ZeroDivisionError: division by zero \(line 2\)"):
        code(source, [{}])


def test_code_syntax_error_line() -> None:
    with pytest.raises(CodeError, match=r"SyntaxError: .* \(line 2\)"):
        code("x = 1\nreturn [x +]", [{}])


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("pass", "not None"),
        ("return 5", "not int"),
        ("return [{'a': 1}, 2]", "not a list holding dict, int"),
        ("return [{'a': {1, 2}}]", "not JSON"),
        ("return [{'a': float('nan')}]", "not JSON"),
    ],
)
def test_code_wrong_return_value(source: str, message: str) -> None:
    with pytest.raises(CodeError, match=message):
        code(source, [{}])


@pytest.mark.parametrize("source", ["import os", "open('/etc/passwd')", "__import__('subprocess')"])
def test_code_has_restricted_builtins(source: str) -> None:
    with pytest.raises(CodeError, match="ImportError|NameError"):
        code(source + "\nreturn []", [{}])


def test_code_is_not_evaluated_as_an_expression() -> None:
    assert code("return [{'s': '{% $json.a %}'}]", [{"a": 1}]) == [{"s": "{% $json.a %}"}]


def test_code_globals_do_not_leak_between_runs() -> None:
    code("global seen\nseen = 1\nreturn []", [{}])
    with pytest.raises(CodeError, match="NameError"):
        code("return [{'v': seen}]", [{}])


def test_the_code_process_gets_no_more_time_than_the_invocation_has_left() -> None:
    from functions.nodes.code import MIN_CODE_SECONDS, limits_within
    from functions.sandbox import Limits

    assert limits_within(None) == Limits()
    assert limits_within(10_000) == Limits()
    assert limits_within(2.5).timeout_seconds == 2.5
    assert limits_within(0).timeout_seconds == MIN_CODE_SECONDS
