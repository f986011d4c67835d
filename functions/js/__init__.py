"""n8n's expressions and JavaScript Code node, on an embedded QuickJS engine.

Why QuickJS (``quickjs-ng``): it ships Linux arm64 wheels for Python 3.12 (the Lambdas are
arm64; mini-racer has none), needs no Node.js, and a context is cheap enough to create per
node run. Luxon (n8n's date library) is vendored in ``vendor/`` so local runs and the Lambda
asset load the same file with no npm.

The API the node runner uses (one node run at a time):

1. Describe the node run with :class:`NodeRunData` (``run_data.py``): the node's name, its
   input items (``[{"json": ...}]``, index = ``$itemIndex``), where each input came from
   (:class:`Source`), the run data of the nodes that ran before (per node: its runs, each a
   :class:`TaskData` of output ports -> items with ``pairedItem``, plus the source of each
   input), every node's parameters/context (:class:`NodeInfo`), n8n-style ``connections``,
   workflow/execution meta (``{"id", "name", "active"}``, ``{"id", "mode", "resumeUrl"}``),
   variables (``$vars``), the workflow time zone, and optionally a frozen ``now_millis``.
2. Expressions: ``ExpressionEvaluator(data, node_parameters).resolve(item_index)`` returns the
   parameter tree with every ``"=..."`` string evaluated the n8n way (typing rules in
   ``expressions.py``); ``UNDEFINED`` stands for JavaScript's undefined. Failures raise
   :class:`ExpressionEvaluationError` (``node``, ``parameter`` as a dotted path, ``item_index``;
   ``error_type`` "Sfnflow.ExpressionError").
3. Code node: ``run_code(data, js_code, mode)`` with mode ``"runOnceForAllItems"`` or
   ``"runOnceForEachItem"`` returns :class:`CodeResult` (``items`` as n8n items with lineage,
   ``logs`` from console.log). Failures and limit hits raise :class:`CodeNodeError` (``node``,
   ``item_index``, ``kind``: error/time/memory/stack/output; "Sfnflow.CodeError").
4. Lineage helpers for other nodes: ``paired_items.resolve`` (the ancestor of an item in a
   referenced node) and ``paired_items.assign_default_lineage`` (n8n's default ``pairedItem``
   for outputs that have none).

Limits (``engine.Limits``): CPU seconds per evaluation, memory and stack for user code, with
defaults for a 1 GB Lambda. No host access: no require, fs, network, process, env or timers.
"""

from functions.js.code_node import ALL_ITEMS, EACH_ITEM, CodeResult, run_code
from functions.js.engine import JsEngine, Limits
from functions.js.errors import CodeNodeError, ExpressionEvaluationError, JsError, JsLimitExceeded
from functions.js.expressions import UNDEFINED, ExpressionEvaluator, evaluate, is_expression
from functions.js.run_data import NodeInfo, NodeRunData, Source, TaskData

__all__ = [
    "ALL_ITEMS",
    "EACH_ITEM",
    "UNDEFINED",
    "CodeNodeError",
    "CodeResult",
    "ExpressionEvaluationError",
    "ExpressionEvaluator",
    "JsEngine",
    "JsError",
    "JsLimitExceeded",
    "Limits",
    "NodeInfo",
    "NodeRunData",
    "Source",
    "TaskData",
    "evaluate",
    "is_expression",
    "run_code",
]
