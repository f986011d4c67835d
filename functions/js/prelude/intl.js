// The part of ECMA-402 (Intl) that Luxon and n8n's number format() touch, for QuickJS, which
// ships without Intl. English (en-US) only, latin digits, Gregorian calendar: Luxon then takes
// its built-in English paths for month/weekday names and relative times. Time-zone offsets do
// not come from here: engine.py replaces Luxon's IANAZone offset/validity with Python's
// zoneinfo (host callables), so formatToParts below only serves zone-name formatting.
(function () {
  "use strict";
  if (typeof globalThis.Intl !== "undefined") return;

  function pad(n, w) {
    var s = String(Math.abs(Math.trunc(n)));
    while (s.length < w) s = "0" + s;
    return (n < 0 ? "-" : "") + s;
  }

  function DateTimeFormat(locale, options) {
    if (!(this instanceof DateTimeFormat)) return new DateTimeFormat(locale, options);
    this._options = options || {};
  }
  DateTimeFormat.prototype.resolvedOptions = function () {
    return {
      locale: "en-US",
      calendar: "gregory",
      numberingSystem: "latn",
      timeZone: this._options.timeZone || globalThis.__sfnflowDefaultZone || "UTC",
    };
  };
  DateTimeFormat.prototype.formatToParts = function (date) {
    var d = date === undefined ? new Date() : new Date(+date);
    var zone = this._options.timeZone || "UTC";
    var parts = [
      { type: "month", value: pad(d.getUTCMonth() + 1, 2) },
      { type: "literal", value: "/" },
      { type: "day", value: pad(d.getUTCDate(), 2) },
      { type: "literal", value: "/" },
      { type: "year", value: String(d.getUTCFullYear()) },
      { type: "literal", value: ", " },
      { type: "hour", value: pad(d.getUTCHours(), 2) },
      { type: "literal", value: ":" },
      { type: "minute", value: pad(d.getUTCMinutes(), 2) },
      { type: "literal", value: ":" },
      { type: "second", value: pad(d.getUTCSeconds(), 2) },
    ];
    if (this._options.timeZoneName) {
      parts.push({ type: "literal", value: " " });
      parts.push({ type: "timeZoneName", value: zone });
    }
    return parts;
  };
  DateTimeFormat.prototype.format = function (date) {
    return this.formatToParts(date).map(function (p) { return p.value; }).join("");
  };
  DateTimeFormat.supportedLocalesOf = function () { return ["en-US"]; };

  function NumberFormat(locale, options) {
    if (!(this instanceof NumberFormat)) return new NumberFormat(locale, options);
    this._o = options || {};
  }
  NumberFormat.prototype.resolvedOptions = function () {
    return { locale: "en-US", numberingSystem: "latn" };
  };
  NumberFormat.prototype.format = function (value) {
    var o = this._o;
    var n = Number(value);
    if (!isFinite(n)) return isNaN(n) ? "NaN" : (n < 0 ? "-∞" : "∞");
    var style = o.style || "decimal";
    if (style === "percent") n = n * 100;
    var minFrac = o.minimumFractionDigits !== undefined ? o.minimumFractionDigits : 0;
    var maxFrac = o.maximumFractionDigits !== undefined ? Math.max(o.maximumFractionDigits, minFrac)
      : Math.max(minFrac, style === "currency" ? 2 : style === "percent" ? 0 : 3);
    if (style === "currency" && o.minimumFractionDigits === undefined) minFrac = 2;
    var fixed = Math.abs(n).toFixed(maxFrac);
    var dot = fixed.indexOf(".");
    var intPart = dot < 0 ? fixed : fixed.slice(0, dot);
    var frac = dot < 0 ? "" : fixed.slice(dot + 1);
    while (frac.length > minFrac && frac[frac.length - 1] === "0") frac = frac.slice(0, -1);
    if (o.minimumIntegerDigits) while (intPart.length < o.minimumIntegerDigits) intPart = "0" + intPart;
    if (o.useGrouping !== false) intPart = intPart.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var body = intPart + (frac ? "." + frac : "");
    if (style === "currency") body = (o.currency === "USD" || !o.currency ? "$" : o.currency + " ") + body;
    if (style === "percent") body = body + "%";
    return (n < 0 && Number(fixed) !== 0 ? "-" : "") + body;
  };
  NumberFormat.supportedLocalesOf = function () { return ["en-US"]; };

  globalThis.Intl = { DateTimeFormat: DateTimeFormat, NumberFormat: NumberFormat };
})();
