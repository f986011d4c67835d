// The part of ECMA-402 (Intl) that Luxon and n8n's number format() touch, for QuickJS, which
// ships without Intl. English (en-US) only, latin digits, Gregorian calendar: Luxon then takes
// its built-in English paths for month/weekday names and relative times. Time-zone offsets do
// not come from here (zones.js); toLocaleString's layouts below follow what ICU writes for
// en-US, with short zone names as "UTC"/"GMT+1".
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
  var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"];
  var WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

  // The instant as wall-clock fields in the formatter's zone, through Luxon's own zones.
  function wallClock(date, zone) {
    var DateTime = globalThis.luxon.DateTime;
    var gmt = /^Etc\/GMT([+-]\d+)$/.exec(zone || "");
    var target = gmt ? globalThis.luxon.FixedOffsetZone.instance(-60 * Number(gmt[1])) : (zone || undefined);
    var dt = DateTime.fromJSDate(date, target ? { zone: target } : {});
    return dt.isValid ? dt : DateTime.fromJSDate(date, { zone: "utc" });
  }
  function text(list, index, width) {
    var name = list[index];
    return width === "long" ? name : width === "narrow" ? name.charAt(0) : name.slice(0, 3);
  }

  // en-US layouts as ICU writes them: "5/6/2024", "Mon, May 6, 2024", "10:00 AM",
  // "May 6, 2024, 10:00 AM", "May 6, 2024 at 10:00 AM UTC".
  DateTimeFormat.prototype.formatToParts = function (date) {
    var o = this._options;
    var d = date === undefined ? new Date() : new Date(+date);
    var dt = wallClock(d, o.timeZone);
    var hasDate = o.year || o.month || o.day || o.weekday;
    var hasTime = o.hour || o.minute || o.second;
    if (!hasDate && !hasTime) { o = { year: "numeric", month: "numeric", day: "numeric", timeZone: o.timeZone }; hasDate = true; }
    var parts = [];
    function push(type, value) { parts.push({ type: type, value: String(value) }); }
    function lit(value) { push("literal", value); }
    if (o.weekday) { push("weekday", text(WEEKDAYS, dt.weekday - 1, o.weekday)); if (o.month || o.day || o.year) lit(", "); }
    if (o.month === "numeric" || o.month === "2-digit" || (!o.month && (o.day || o.year))) {
      var fields = [];
      if (o.month) fields.push(["month", o.month === "2-digit" ? pad(dt.month, 2) : dt.month]);
      if (o.day) fields.push(["day", o.day === "2-digit" ? pad(dt.day, 2) : dt.day]);
      if (o.year) fields.push(["year", o.year === "2-digit" ? pad(dt.year % 100, 2) : dt.year]);
      fields.forEach(function (f, i) { if (i) lit("/"); push(f[0], f[1]); });
    } else if (o.month) {
      push("month", text(MONTHS, dt.month - 1, o.month));
      if (o.day) { lit(" "); push("day", o.day === "2-digit" ? pad(dt.day, 2) : dt.day); }
      if (o.year) { lit(o.day ? ", " : " "); push("year", o.year === "2-digit" ? pad(dt.year % 100, 2) : dt.year); }
    }
    if (hasTime) {
      if (hasDate) lit(o.month === "long" ? " at " : ", ");
      var h24 = o.hour12 === false || o.hourCycle === "h23" || o.hourCycle === "h24";
      var hour = h24 ? dt.hour : (dt.hour % 12 === 0 ? 12 : dt.hour % 12);
      if (o.hour) push("hour", h24 || o.hour === "2-digit" ? pad(hour, 2) : hour);
      if (o.minute) { if (o.hour) lit(":"); push("minute", pad(dt.minute, 2)); }
      if (o.second) { lit(":"); push("second", pad(dt.second, 2)); }
      if (o.hour && !h24) { lit("\u202f"); push("dayPeriod", dt.hour < 12 ? "AM" : "PM"); }
    }
    if (o.timeZoneName) {
      lit(" ");
      var off = dt.offset;
      push("timeZoneName", off === 0 ? "UTC" : "GMT" + (off > 0 ? "+" : "-") + Math.floor(Math.abs(off) / 60) +
        (Math.abs(off) % 60 ? ":" + pad(Math.abs(off) % 60, 2) : ""));
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
