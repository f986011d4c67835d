// Luxon loads on first use. Parsing it is most of a context's set-up cost (see
// benchmarks/js_expressions.py), and most expressions ($json.a, templates, string methods)
// never touch a date. engine.py puts the vendored source in __sfnflowLuxonSource; the first
// read of luxon, DateTime, Duration, Interval, $now or $today (or a date extension) evaluates
// it and runs the hooks other prelude files registered with __onLuxon.
(function () {
  "use strict";
  var lib = null;
  var hooks = [];
  var NAMES = ["DateTime", "Duration", "Interval"];

  function load() {
    if (lib !== null) return lib;
    var source = globalThis.__sfnflowLuxonSource;
    delete globalThis.luxon;
    (0, eval)(source);
    lib = globalThis.luxon;
    delete globalThis.__sfnflowLuxonSource;
    NAMES.forEach(function (name) {
      Object.defineProperty(globalThis, name, { value: lib[name], writable: true, configurable: true, enumerable: false });
    });
    hooks.forEach(function (hook) { hook(lib); });
    hooks = [];
    return lib;
  }
  function lazy(name, pick) {
    Object.defineProperty(globalThis, name, {
      get: function () { return pick(load()); },
      configurable: true,
      enumerable: false,
    });
  }
  globalThis.__luxon = load;
  globalThis.__luxonLoaded = function () { return lib !== null; };
  globalThis.__onLuxon = function (hook) {
    if (lib !== null) hook(lib); else hooks.push(hook);
  };
  lazy("luxon", function (l) { return l; });
  NAMES.forEach(function (name) { lazy(name, function (l) { return l[name]; }); });
})();
