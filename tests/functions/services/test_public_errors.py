"""What a public caller sees of a failure (``functions.services.public_errors``): the error
name always, the author's ``stopAndError`` message when the error is one of theirs, never
the runtime's report."""

from __future__ import annotations

import json

from compiler import compile_workflow
from functions.services.public_errors import (
    authored_error_types,
    fixed_message,
    public_failure,
)

LAMBDA_REPORT = json.dumps({
    "errorType": "Sfnflow.CodeError", "errorMessage": "code node 'X': KeyError: 'password'",
    "stackTrace": ['  File "/var/task/functions/runner.py", line 9, in run\n']})


def test_a_runtime_failure_shows_its_type_and_the_fixed_sentence() -> None:
    view = public_failure("Sfnflow.CodeError", LAMBDA_REPORT,
                          authored=frozenset({"Shop.Refused"}))
    assert view == {"type": "Sfnflow.CodeError",
                    "message": fixed_message("Sfnflow.CodeError")}
    assert public_failure(None, None)["message"] == fixed_message(None)


def test_an_authored_failure_shows_the_message_never_the_trace() -> None:
    report = json.dumps({"errorType": "Shop.Refused", "errorMessage": "no stock",
                         "stackTrace": ["/var/task/x.py"]})
    authored = frozenset({"Shop.Refused"})
    assert public_failure("Shop.Refused", report, authored)["message"] == "no stock"
    assert public_failure("Shop.Refused", "no stock", authored)["message"] == "no stock"
    # A cause that is JSON but not a runtime report (a branch's whole state) is not shown.
    nested = json.dumps({"ports": [], "error": LAMBDA_REPORT})
    assert public_failure("Shop.Refused", nested, authored)["message"] == \
        fixed_message("Shop.Refused")


def test_authored_types_come_from_native_and_runner_stop_nodes() -> None:
    document = {"name": "w", "nodes": [
        {"name": "S", "type": "manualTrigger"},
        {"name": "Native", "type": "stopAndError",
         "parameters": {"message": "a {% $json.x %}", "errorType": "Shop.Native"}},
        {"name": "Runner", "type": "stopAndError",
         "parameters": {"message": "{% 'b' & $json.x %}", "errorType": "Shop.Runner"}},
        {"name": "Default", "type": "stopAndError", "parameters": {"message": "{% 'c' %}"}},
        {"name": "Code", "type": "code", "parameters": {"code": "return items"}}],
        "connections": [{"from": "S", "to": name} for name in
                        ("Native", "Runner", "Default", "Code")]}
    definition = json.loads(compile_workflow(document).definition_json({}))
    assert authored_error_types(definition) == {"Shop.Native", "Shop.Runner",
                                                "Sfnflow.StoppedByNode"}
