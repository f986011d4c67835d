// n8n's Date & Time node on Luxon (functions/n8n/datetime.py loads this once per node run).
// __sfnflowDateTime(requestJson) -> JSON {ok: value} | {error: message[, parameter: name]}.
// v2 is Luxon, as in n8n. v1 is moment.js in n8n: its parsing is read as moment reads
// (ISO 8601, RFC 2822, else the engine's Date parser) and its format strings are translated
// to Luxon's tokens (MOMENT_TOKENS); a token without an exact Luxon twin is an error naming
// the parameter.
(function () {
  "use strict";

  function Refused(message, parameter) {
    this.message = message;
    this.parameter = parameter;
  }

  function utcISO(millis) {
    return DateTime.fromMillis(millis, { zone: "utc" }).toISO();
  }

  // ------------------------------------------------------------------ moment's reading
  // What moment(text) accepts: ISO 8601 (also with a space for T), RFC 2822; otherwise
  // moment falls back to the JavaScript Date parser. Without an offset the text is local
  // time: the runner's zone is UTC (Lambda's, and the peer's when recorded).
  function momentMillis(value) {
    if (typeof value === "number") return value;
    if (value === null || value === undefined) return NaN;
    var text = String(value);
    var iso = DateTime.fromISO(text.replace(/^(\d{4}-\d\d-\d\d) (\d)/, "$1T$2"), { zone: "utc" });
    if (iso.isValid) return iso.toMillis();
    var rfc = DateTime.fromRFC2822(text, { zone: "utc" });
    if (rfc.isValid) return rfc.toMillis();
    return new Date(text).getTime();
  }

  // ------------------------------------------------------------------ v2 (Luxon)
  // n8n's parseDate: numbers (and numeric text) are epoch seconds (< 12 digits) or
  // milliseconds (a fraction: seconds); text is read as moment reads it; text with a "+"
  // and no zone given keeps that offset (as n8n does, by its first two digits).
  function parseDate(date, timezone, fromFormat) {
    var parsed;
    if (!Number.isNaN(Number(date)) && !fromFormat) {
      date = Number(date);
      if (!Number.isInteger(date)) date = date * 1000;
    }
    if (Number.isInteger(date)) {
      parsed = String(date).length < 12 ? DateTime.fromSeconds(date) : DateTime.fromMillis(date);
    } else {
      if (!timezone && date.includes("+")) {
        timezone = "Etc/GMT-" + Number(date.split("+")[1].slice(0, 2));
      }
      if (fromFormat) {
        parsed = DateTime.fromFormat(date, fromFormat);
      } else {
        var millis = momentMillis(date);
        parsed = Number.isNaN(millis) ? DateTime.fromISO(null) : DateTime.fromISO(utcISO(millis));
      }
    }
    parsed = parsed.setZone(timezone || "Etc/UTC");
    if (parsed.invalidReason === "unparsable") throw new Error("Invalid date format");
    return parsed;
  }

  function zoneChecked(zone) {
    if (DateTime.now().setZone(zone).invalidReason === "unsupported zone") {
      throw new Error("The timezone " + zone + " is not valid. Please check the timezone.");
    }
    return zone;
  }

  var V2 = {
    getCurrentDate: function (r) {
      var zone = zoneChecked(r.options.timezone ? r.options.timezone : r.timezone);
      var now = DateTime.now().setZone(zone);
      return (r.includeTime ? now : now.startOf("day")).toString();
    },
    addToDate: function (r) {
      var change = {};
      change[r.timeUnit] = r.duration;
      return parseDate(r.magnitude, r.timezone).plus(change).toString();
    },
    subtractFromDate: function (r) {
      var change = {};
      change[r.timeUnit] = r.duration;
      return parseDate(r.magnitude, r.timezone).minus(change).toString();
    },
    formatDate: function (r) {
      if (r.date === null || r.date === undefined) return r.date;
      var date = parseDate(r.date, r.options.timezone ? r.timezone : undefined,
        r.options.fromFormat);
      return date.toFormat(r.format === "custom" ? r.customFormat : r.format);
    },
    roundDate: function (r) {
      var date = parseDate(r.date, r.timezone);
      if (r.mode === "roundDown") return date.startOf(r.toNearest).toString();
      if (r.mode === "roundUp") {
        var step = {};
        step[r.to] = 1;
        return date.plus(step).startOf(r.to).toString();
      }
      return undefined;
    },
    getTimeBetweenDates: function (r) {
      var start = parseDate(r.startDate, r.timezone);
      var end = parseDate(r.endDate, r.timezone);
      var duration = end.diff(start, r.units);
      return r.options.isoString ? duration.toString() : duration.toObject();
    },
    extractDate: function (r) {
      var date = parseDate(r.date, r.timezone);
      return r.part === "week" ? date.weekNumber : date.get(r.part);
    },
  };

  // ------------------------------------------------------------------ v1 (moment)
  // moment format token -> Luxon token, where both print the same thing (English).
  var MOMENT_TOKENS = {
    YYYY: "yyyy", YY: "yy", Q: "q", M: "M", MM: "MM", MMM: "MMM", MMMM: "MMMM",
    D: "d", DD: "dd", DDD: "o", DDDD: "ooo", ddd: "EEE", dddd: "EEEE", E: "c",
    W: "W", WW: "WW", GGGG: "kkkk", GG: "kk",
    H: "H", HH: "HH", h: "h", hh: "hh", k: null, m: "m", mm: "mm", s: "s", ss: "ss",
    S: "S", SS: null, SSS: "SSS", A: "a", Z: "ZZ", ZZ: "ZZZ", X: "X", x: "x",
  };
  var MOMENT_TOKEN = /\[[^\]]*\]|YYYY|YY|Y|Qo|Q|MMMM|MMM|MM|Mo|M|DDDD|DDDo|DDD|Do|DD|D|dddd|ddd|dd|do|d|E|e|WW|Wo|W|ww|wo|w|GGGG|GG|gggg|gg|HH|H|hh|h|kk|k|mm|m|ss|s|SSS+|SS|S|A|a|ZZ|Z|X|x|zz|z|N+|LTS|LT|LLLL|LLL|LL|L|llll|lll|ll|l|[A-Za-z]|[^A-Za-z[]+/g;
  // Letters moment reads as (parts of) tokens; any other letter prints as itself.
  var MOMENT_LETTERS = /[YQMDdEeWwGgHhkmsSAaZXxzNLl]/;

  function luxonFormat(format, parameter) {
    var out = "";
    var parts = String(format).match(MOMENT_TOKEN) || [];
    for (var i = 0; i < parts.length; i++) {
      var part = parts[i];
      if (part.charAt(0) === "[") {
        out += literal(part.slice(1, -1));
      } else if (!/[A-Za-z]/.test(part) || (part.length === 1 && !MOMENT_LETTERS.test(part))) {
        out += literal(part);
      } else if (Object.prototype.hasOwnProperty.call(MOMENT_TOKENS, part) && MOMENT_TOKENS[part]) {
        out += MOMENT_TOKENS[part];
      } else {
        throw new Refused("the moment.js format token '" + part + "' has no exact Luxon " +
          "equivalent on sfnflow (supported: " + Object.keys(MOMENT_TOKENS)
            .filter(function (t) { return MOMENT_TOKENS[t]; }).join(" ") + ", [text])", parameter);
      }
    }
    return out;
  }

  function literal(text) {
    return text === "" ? "" : "'" + text.replace(/'/g, "''") + "'";
  }

  // moment(value) / moment.unix / moment(value, format) / moment.tz(value[, format], zone)
  function momentDate(r) {
    var value = r.value;
    if (!Number.isNaN(Number(value))) {
      value = Number(value);
      if (!Number.isInteger(value)) value = value * 1000;
    }
    var options = r.options;
    if (options.fromFormat === undefined && Number.isNaN(momentMillis(value))) {
      throw new Error('The date input format could not be recognized. Please set the "From Format" field');
    }
    var date;
    if (Number.isInteger(value)) {
      date = String(value).length < 12 ? DateTime.fromSeconds(value, { zone: "utc" })
        : DateTime.fromMillis(value, { zone: "utc" });
    } else {
      var zone = options.fromTimezone || options.toTimezone
        ? options.fromTimezone || r.timezone : "utc";
      if (options.fromFormat) {
        date = DateTime.fromFormat(String(value), luxonFormat(options.fromFormat,
          "options.fromFormat"), { zone: zone });
      } else {
        var millis = momentMillis(value);
        var local = DateTime.fromMillis(millis, { zone: "utc" });
        date = hasOffset(String(value)) || zone === "utc" ? local.setZone(zone)
          : local.setZone(zone, { keepLocalTime: true });
      }
    }
    if (options.toTimezone || options.fromTimezone) {
      date = date.setZone(options.toTimezone || r.timezone);
    }
    return date;
  }

  function hasOffset(text) {
    return /(Z|[+-]\d\d(:?\d\d)?)$/.test(text.trim()) || /GMT|UT|[+-]\d{4}\s*$/.test(text);
  }

  var V1 = {
    format: function (r) {
      var date = momentDate(r);
      if (!date.isValid) return "Invalid date";
      return date.toFormat(luxonFormat(r.toFormat, "toFormat"));
    },
    calculate: function (r) {
      var date;
      if (r.options.fromFormat) {
        date = DateTime.fromFormat(String(r.value), luxonFormat(r.options.fromFormat,
          "options.fromFormat"), { zone: "utc" });
        if (!date.isValid) {
          throw new Error('Date input cannot be parsed. Please recheck the value and the "From Format" field.');
        }
      } else {
        var millis = new Date(r.value).getTime();
        if (Number.isNaN(millis)) {
          throw new Error('Unrecognized date input. Please specify a format in the "From Format" field.');
        }
        date = DateTime.fromMillis(millis, { zone: "utc" });
      }
      var change = {};
      change[r.timeUnit] = r.operation === "add" ? r.duration : -r.duration;
      return date.plus(change).toUTC().toISO();
    },
  };

  globalThis.__sfnflowDateTime = function (requestJson) {
    var r = JSON.parse(requestJson);
    if (r.nowMillis !== null) luxon.Settings.now = function () { return r.nowMillis; };
    // n8n's expression proxy sets Luxon's default zone to the workflow's: a date read
    // without a zone (fromFormat) is the workflow's local time.
    luxon.Settings.defaultZone = r.timezone;
    try {
      var table = r.version >= 2 ? V2 : V1;
      var op = table[r.node_operation];
      if (!op) throw new Refused("unknown operation '" + r.node_operation + "'", r.version >= 2 ? "operation" : "action");
      return JSON.stringify({ ok: op(r) }).slice(0);
    } catch (e) {
      if (e instanceof Refused) return JSON.stringify({ error: e.message, parameter: e.parameter }).slice(0);
      return JSON.stringify({ error: String(e && e.message !== undefined ? e.message : e) }).slice(0);
    }
  };
})();
