// n8n's expression runtime for one node run: the template language ("text {{ js }} text"),
// the per-item globals ($json, $input, $('Node'), $node, ...) and the Code node's wrapper.
// Python (expressions.py, code_node.py) talks to it through `__sfnflow` and hands it one JSON
// frame per node run; nothing here calls back into Python except $jmespath.
(function () {
  "use strict";
  var UNDEFINED_MARK = { "\u0000undefined": true };

  function ExpressionError(message) {
    var e = new Error(message);
    e.name = "ExpressionError";
    e.__n8nExpressionError = true;
    return e;
  }
  function host(op, args) {
    var raw = __sfnflowHost(op, JSON.stringify(args));
    var reply = JSON.parse(raw);
    if (reply && reply.error !== undefined) throw ExpressionError(reply.error);
    return reply.value;
  }

  // ---- frame: what one node run sees; item-level state -----------------------------------
  var frame = null;
  var state = { itemIndex: 0, eachItem: false };

  // Python preloads every node the node run references (frame.nodes, see expressions.py):
  // runs -> output ports -> items, plus each input item's paired item as [run, output, index].
  function nodeData(name) {
    var data = frame.nodes[name];
    if (data === undefined) throw ExpressionError("Referenced node doesn't exist");
    return data;
  }
  function nodeOutput(name, output, run, strict) {
    var data = nodeData(name);
    var r = run === undefined || run === null || run === -1 ? data.runs.length - 1 : run;
    if (r < 0 || r >= data.runs.length) throw ExpressionError("Run " + r + ' of node "' + name + '" not found');
    var o = output === undefined || output === null ? data.defaultOutput : output;
    if (o === null) {
      if (strict) throw ExpressionError('connect "' + frame.node + '" to "' + name + '"');
      o = 0;
    }
    var ports = data.runs[r];
    if (o >= ports.length) throw ExpressionError('Node "' + name + '" has no branch with index ' + o + ".");
    return ports[o] || [];
  }
  function nodeInfo(name) { return nodeData(name); }
  function inputItems() { return frame.inputItems; }
  function currentItem() {
    var item = frame.inputItems[state.itemIndex];
    return item === undefined ? { json: {} } : item;
  }

  function nodeProxy(name) {
    if (!name) throw ExpressionError("When calling $(), please specify a node");
    var info = nodeInfo(name);
    function executed() {
      if (!info.executed) throw ExpressionError("Node '" + name + "' hasn't been executed");
    }
    function paired(index, method) {
      executed();
      var found = info.paired[index];
      if (found === undefined || found === null) {
        throw ExpressionError("Can\u2019t get data for expression under item " + index);
      }
      if (found.error !== undefined) throw ExpressionError(found.error);
      return info.runs[found[0]][found[1]][found[2]];
    }
    return {
      get item() { return paired(state.itemIndex, "item"); },
      itemMatching: function (index) {
        if (index === undefined) throw ExpressionError("Missing item index for .itemMatching()");
        return paired(index, "itemMatching");
      },
      pairedItem: function (index) { return paired(index === undefined ? state.itemIndex : index, "pairedItem"); },
      first: function (branch, run) { executed(); return nodeOutput(name, branch, run)[0]; },
      last: function (branch, run) { executed(); var items = nodeOutput(name, branch, run); return items[items.length - 1]; },
      all: function (branch, run) { executed(); return nodeOutput(name, branch, run); },
      get isExecuted() { return info.executed; },
      get context() { return info.context; },
      get params() { return info.parameters; },
    };
  }

  function legacyNode(name) {
    var info = nodeInfo(name);
    function itemAt() {
      var items = nodeOutput(name, null, null, true);
      if (items.length <= state.itemIndex) {
        throw ExpressionError('"' + name + '" node has ' + items.length + " item(s) but you're trying to access item " + state.itemIndex);
      }
      return items[state.itemIndex];
    }
    return {
      get json() { return itemAt().json; },
      get binary() { return itemAt().binary || {}; },
      get data() { return itemAt().json; },
      get context() { return info.context; },
      get parameter() { return info.parameters; },
      get runIndex() { return info.runIndex; },
    };
  }

  var env = new Proxy({}, {
    get: function () { throw ExpressionError("access to env vars denied"); },
    has: function () { throw ExpressionError("access to env vars denied"); },
  });

  function ifEmpty(value, fallback) {
    if (arguments.length !== 2) throw ExpressionError("expected two arguments (value, defaultValue) for this function");
    if (value === undefined || value === null || value === "") return fallback;
    if (typeof value === "object" && (Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0)) return fallback;
    return value;
  }

  function defineGlobal(name, get) {
    Object.defineProperty(globalThis, name, { get: get, configurable: true, enumerable: false });
  }
  defineGlobal("$json", function () { return currentItem().json; });
  defineGlobal("$binary", function () { return currentItem().binary || {}; });
  defineGlobal("$itemIndex", function () { return state.itemIndex; });
  defineGlobal("$runIndex", function () { return frame.runIndex; });
  defineGlobal("$prevNode", function () { return frame.prevNode; });
  defineGlobal("$workflow", function () { return frame.workflow; });
  defineGlobal("$execution", function () { return frame.execution; });
  defineGlobal("$mode", function () { return frame.mode; });
  defineGlobal("$vars", function () { return frame.vars; });
  defineGlobal("$parameter", function () { return frame.parameters; });
  defineGlobal("$env", function () { return env; });
  defineGlobal("$now", function () { return __luxon().DateTime.now(); });
  defineGlobal("$today", function () { return __luxon().DateTime.now().startOf("day"); });
  // n8n's Code node in "Run Once for Each Item" mode refuses the whole-input accessors.
  function wholeInput(name) {
    if (state.eachItem) throw new Error("Can't use ." + name + "() here");
  }
  defineGlobal("$input", function () {
    return {
      get item() { return currentItem(); },
      all: function () { wholeInput("all"); return inputItems(); },
      first: function () { wholeInput("first"); return inputItems()[0]; },
      last: function () { wholeInput("last"); var items = inputItems(); return items[items.length - 1]; },
      get params() { return frame.parameters; },
      get context() { return frame.context; },
    };
  });
  globalThis.$ = nodeProxy;
  globalThis.$node = new Proxy({}, { get: function (_, name) { return typeof name === "string" ? legacyNode(name) : undefined; } });
  globalThis.$items = function (name, output, run) {
    if (name === undefined) return inputItems();
    return nodeOutput(name, output === undefined ? 0 : output, run);
  };
  globalThis.$jmespath = function (data, expression) { return host("jmespath", [data, expression]); };
  globalThis.$if = function (condition, whenTrue, whenFalse) {
    if (arguments.length < 2 || arguments.length > 3) throw ExpressionError("expected 2 or 3 arguments: $if(condition, valueIfTrue, valueIfFalse?)");
    return condition ? whenTrue : (whenFalse === undefined ? false : whenFalse);
  };
  globalThis.$ifEmpty = ifEmpty;
  globalThis.$min = Math.min;
  globalThis.$max = Math.max;
  globalThis.$not = function (v) { return !v; };
  globalThis.$average = function () { var a = Array.prototype.slice.call(arguments); return a.length ? a.reduce(function (x, y) { return x + y; }, 0) / a.length : 0; };

  // ---- the template language -------------------------------------------------------------
  // Split like n8n's tournament: "{{" opens unless preceded by an odd number of backslashes,
  // the first "}}" closes; an unclosed part runs to the end. Text before a code part gets
  // "\\\\" -> "\\" like n8n.
  function split(text) {
    var chunks = [];
    var buffer = "";
    var open = true;
    var i = 0;
    while (i < text.length) {
      var at = text.indexOf(open ? "{{" : "}}", i);
      if (at < 0) {
        buffer += text.slice(i);
        chunks.push(open ? { code: false, text: buffer } : { code: true, text: buffer.replace("\\}}", "}}") });
        return chunks;
      }
      var slashes = /\\*$/.exec(text.slice(i, at))[0].length;
      if (slashes % 2 === 1) {
        buffer += text.slice(i, at + 2);
        i = at + 2;
        continue;
      }
      buffer += text.slice(i, at);
      chunks.push(open ? { code: false, text: buffer.replace(/\\\\/g, "\\") } : { code: true, text: buffer.replace("\\}}", "}}") });
      open = !open;
      buffer = "";
      i = at + 2;
    }
    return chunks.length ? chunks : [{ code: false, text: "" }];
  }

  // n8n answers `$json.missing.isEmpty()` with true (its extend() has a generic isEmpty for
  // undefined/null). On prototypes that call would throw, so calls on a `$...` member chain
  // are rewritten to a helper; other receivers keep the TypeError (see extensions.js).
  var EMPTY_CALL = /(\$[\w$]*(?:\s*(?:\.\s*[\w$]+|\[[^\[\]]*\]|\([^()]*\)))*)\s*\.\s*(isEmpty|isNotEmpty)\s*\(\s*\)/g;
  globalThis.__sfnflowEmpty = function (value, wantEmpty) {
    if (value === undefined || value === null) return wantEmpty;
    return wantEmpty ? value.isEmpty() : value.isNotEmpty();
  };

  function compilePart(code) {
    var body = code.replace(/[\s;]+$/, "").replace(EMPTY_CALL, function (_, receiver, name) {
      return "__sfnflowEmpty(" + receiver + ", " + (name === "isEmpty") + ")";
    });
    if (/^\s*\{/.test(body)) body = "(" + body + ")";
    try {
      return new Function("return (" + body + "\n);");
    } catch (e) {
      throw ExpressionError("invalid syntax");
    }
  }

  function isFatal(e) {
    return e && (e.__n8nExpressionError || e.name === "InternalError");
  }
  var ON_NOTHING = /^cannot read property '([^']+)' of (undefined|null)$/;
  function runPart(fn, source) {
    try {
      return fn();
    } catch (e) {
      if (isFatal(e)) throw e;
      // n8n's extend() refuses an extension call on undefined/null with its own error.
      var m = e instanceof TypeError ? ON_NOTHING.exec(e.message) : null;
      if (m && __isExtensionMethod(m[1]) && new RegExp("\\.\\s*" + m[1] + "\\s*\\(").test(source)) {
        throw ExpressionError(m[1] + " can't be used on " + m[2] + " value");
      }
      return undefined; // n8n swallows any other error of an expression part
    }
  }

  var compiled = {};
  function compile(expression) {
    if (Object.prototype.hasOwnProperty.call(compiled, expression)) return compiled[expression];
    var source = expression.slice(1);
    var result;
    if (/\.\s*constructor/m.test(source)) {
      result = function () { throw ExpressionError("Expression contains invalid constructor function call"); };
    } else {
      var chunks = split(source);
      if (chunks.length === 2 && !chunks[0].code && chunks[0].text === "") {
        var single = compilePart(chunks[1].text);
        var singleSource = chunks[1].text;
        result = function () { return runPart(single, singleSource); };
      } else {
        var parts = chunks.filter(function (c) { return c.code || c.text !== ""; }).map(function (c) {
          if (!c.code) return c.text;
          var fn = compilePart(c.text);
          return function () {
            var v = runPart(fn, c.text);
            return v || v === 0 || v === false ? v : "";
          };
        });
        result = function () {
          return parts.map(function (p) { return typeof p === "string" ? p : p(); }).join("");
        };
      }
    }
    compiled[expression] = result;
    return result;
  }

  function evaluate(expression) {
    var value = compile(expression)();
    if (typeof value === "function") {
      throw ExpressionError(value.name === "DateTime" ? "this is a DateTime, please access its methods" : "this is a function, please add ()");
    }
    return value;
  }

  // Resolve every "=..." string of a parameter tree; `path` names the failing parameter.
  function resolveTree(value, path) {
    if (typeof value === "string") {
      if (value.charAt(0) !== "=") return value;
      try {
        var v = evaluate(value);
        return v === undefined ? UNDEFINED_MARK : v;
      } catch (e) {
        if (e && e.__sfnflowPath === undefined) {
          try { e.__sfnflowPath = path; } catch (ignored) { /* frozen */ }
        }
        throw e;
      }
    }
    if (Array.isArray(value)) {
      return value.map(function (v, i) { return resolveTree(v, path + "[" + i + "]"); });
    }
    if (value !== null && typeof value === "object") {
      var out = {};
      Object.keys(value).forEach(function (k) { out[k] = resolveTree(value[k], path ? path + "." + k : k); });
      return out;
    }
    return value;
  }

  function describe(e) {
    return JSON.stringify({
      name: e && e.name ? String(e.name) : "Error",
      message: e && e.message !== undefined ? String(e.message) : String(e),
      path: e && e.__sfnflowPath !== undefined ? e.__sfnflowPath : null,
      n8n: !!(e && e.__n8nExpressionError),
      stack: e && e.stack ? String(e.stack) : "",
    });
  }

  // ---- the Code node ---------------------------------------------------------------------
  var logs = [];
  function show(v) {
    if (typeof v === "string") return v;
    if (v === undefined) return "undefined";
    if (typeof v === "function") return "[Function]";
    try { return JSON.stringify(v); } catch (e) { return String(v); }
  }
  globalThis.console = {
    log: function () { logs.push(Array.prototype.map.call(arguments, show).join(" ")); },
  };
  globalThis.console.info = globalThis.console.log;
  globalThis.console.warn = globalThis.console.log;
  globalThis.console.error = globalThis.console.log;
  globalThis.console.debug = globalThis.console.log;

  var code = { done: false, value: undefined, error: null };

  globalThis.__sfnflow = {
    undefinedMark: "\u0000undefined",
    setFrame: function (json) {
      frame = JSON.parse(json);
      frame.execution.customData = {
        set: function () {}, setAll: function () {},
        get: function () { return undefined; }, getAll: function () { return {}; },
      };
      state.itemIndex = 0;
      globalThis.__sfnflowZones = frame.zones || {};
      var zone = frame.timezone || "UTC";
      var fixed = frame.nowMillis;
      __onLuxon(function (luxon) {
        luxon.Settings.defaultZone = zone;
        if (fixed !== null && fixed !== undefined) luxon.Settings.now = function () { return fixed; };
      });
    },
    // One call per item: resolve the whole parameter tree, return JSON (or an error).
    resolve: function (treeJson, itemIndex) {
      state.itemIndex = itemIndex;
      state.eachItem = false;
      try {
        return "1" + JSON.stringify(resolveTree(JSON.parse(treeJson), ""));
      } catch (e) {
        return "0" + describe(e);
      }
    },
    // itemIndex < 0: "Run Once for All Items" ($json is then the first item, as in n8n).
    startCode: function (source, itemIndex) {
      state.itemIndex = itemIndex < 0 ? 0 : itemIndex;
      state.eachItem = itemIndex >= 0;
      code = { done: false, value: undefined, error: null };
      var fn;
      try {
        fn = new Function("items", "return (async function () {\n" + source + "\n})();");
      } catch (e) {
        code.done = true;
        code.error = e;
        return;
      }
      var items = itemIndex < 0 ? inputItems() : undefined;
      Promise.resolve().then(function () { return fn(items); }).then(
        function (v) { code.done = true; code.value = v; },
        function (e) { code.done = true; code.error = e; }
      );
    },
    codeState: function () {
      if (!code.done) return "pending";
      if (code.error !== null) return "0" + describe(code.error);
      var v = code.value;
      var seen = v === undefined ? UNDEFINED_MARK : v;
      return "1" + JSON.stringify(seen);
    },
    takeLogs: function () {
      var out = JSON.stringify(logs);
      logs = [];
      return out;
    },
  };
})();
