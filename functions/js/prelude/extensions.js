// n8n's expression extension methods ("abc".toTitleCase(), [1,2].sum(), $now.format(...)),
// written for sfnflow from n8n's documented behaviour (packages/workflow/src/Extensions).
//
// Why prototypes: n8n rewrites every `.method(` call of an expression into `extend(value,
// "method", args)` with a JavaScript parser. We have no parser in the engine and one context
// per node run that nobody else shares, so we install the methods, non-enumerable, on the
// prototypes of String, Number, Boolean, Array, Object, Date and Luxon's DateTime. Own data
// keys still shadow them ($json.keys is the field), JSON.stringify and for-in ignore them.
// Known differences: an extension call on undefined/null is n8n's error "x can't be used on
// undefined value" (runtime.js), and so is isEmpty()/isNotEmpty() unless called on a `$...`
// member chain (`$json.a.isEmpty()`, rewritten in runtime.js), where n8n answers true/false;
// `'x'.length()` is unavailable (length is a property); `'x'.toTitleCase` without a call is a
// function here, undefined in n8n.
(function () {
  "use strict";
  // Bound when Luxon loads (luxon.js); every path that can run before that calls __luxon().
  var DateTime = null;
  var Duration = null;
  var nativePlus = null;
  var nativeMinus = null;
  function needLuxon() {
    if (DateTime === null) __luxon();
  }

  function ExtensionError(message) {
    var e = new Error(message);
    e.name = "ExpressionExtensionError";
    e.__n8nExpressionError = true;
    return e;
  }
  globalThis.__ExtensionError = ExtensionError;

  function define(proto, name, fn) {
    Object.defineProperty(proto, name, { value: fn, writable: true, configurable: true, enumerable: false });
  }
  var names = {};
  function defineAll(proto, table) {
    Object.keys(table).forEach(function (name) { define(proto, name, table[name]); names[name] = true; });
  }
  globalThis.__isExtensionMethod = function (name) { return names[name] === true; };
  function isPlainObject(v) {
    return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date) && v.isLuxonDateTime !== true;
  }
  function deepEqual(a, b) {
    if (a === b) return true;
    if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") {
      return a !== a && b !== b; // NaN equals NaN, as lodash isEqual
    }
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    var ka = Object.keys(a), kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    for (var i = 0; i < ka.length; i++) {
      if (!Object.prototype.hasOwnProperty.call(b, ka[i]) || !deepEqual(a[ka[i]], b[ka[i]])) return false;
    }
    return true;
  }
  function uniqueBy(list, keyOf) {
    var out = [], keys = [];
    list.forEach(function (v) {
      var k = keyOf(v);
      for (var i = 0; i < keys.length; i++) if (deepEqual(keys[i], k)) return;
      keys.push(k); out.push(v);
    });
    return out;
  }

  // ---- strings --------------------------------------------------------------------------
  var CURRENCY = /[$€£¥₹₽₩₪₫₱₦₴₺₡₭₮₲₵฿៛﷼¢]/gu;
  var EMAIL = /(?:[^<>()\[\]\\.,;:\s@"]+(?:\.[^<>()\[\]\\.,;:\s@"]+)*|".+")@((?:\[\d{1,3}(?:\.\d{1,3}){3}\])|(?:[a-zA-Z0-9-]+\.)+[a-zA-Z]{2,})/;
  var HOST = "((?:www\\.)?(?:(?:[-\\w]+\\.)+(?:[a-zA-Z]{2,}|xn--[a-zA-Z0-9]+)|localhost|\\d{1,3}(?:\\.\\d{1,3}){3}))";
  var URL_IN_TEXT = new RegExp("(?:https?|ftp)://" + HOST + "(?::\\d+)?(?:/[^\\s?#]*)?(?:\\?[^\\s#]*)?(?:#[^\\s]*)?", "i");
  var URL_EXACT = new RegExp("^" + URL_IN_TEXT.source + "$", "i");
  var DOMAIN_EXACT = new RegExp("^" + HOST + "(?::\\d+)?(?:/[^\\s?]*)?(?:\\?[^\\s#]*)?(?:#\\S*)?$", "i");
  var DOMAIN_IN = new RegExp("^(?:(?:https?|ftp)://)?(?:mailto:)?(?://)?" + HOST + "(?::\\d+)?(?:/[^\\s?]*)?(?:\\?[^\\s#]*)?(?:#\\S*)?$", "i");
  // Title case as n8n's title-case library does it: tokens split at spaces, colons and dashes;
  // small words stay as written unless first or last; words with inner capitals or dots
  // (iPhone, example.com) stay as written; the first letter or digit of the rest goes upper.
  var SMALL_WORD = /\b(?:an?d?|a[st]|because|but|by|en|for|i[fn]|neither|nor|o[fnr]|only|over|per|so|some|tha[tn]|the|to|up|upon|vs?\.?|versus|via|when|with|without|yet)\b/i;
  var MANUAL_CASE = /.(?=[A-Z]|\..)/;

  // Latin letters that do not decompose into ASCII + accents (what transliteration writes).
  var LATIN_LETTERS = {
    "\u00df": "ss", "\u00e6": "ae", "\u00c6": "AE", "\u00f8": "o", "\u00d8": "O", "\u0153": "oe",
    "\u0152": "OE", "\u0142": "l", "\u0141": "L", "\u0111": "d", "\u0110": "D", "\u00fe": "th",
    "\u00de": "TH", "\u00f0": "d", "\u00d0": "D", "\u0131": "i",
  };
  function isEmail(s) { return EMAIL.test(s) && s.indexOf(" ") < 0; }
  function titleCase(s) {
    var tokens = /[^\s:\u2013\u2014-]+|./g;
    var out = "", m;
    while ((m = tokens.exec(s)) !== null) {
      var token = m[0], at = m.index, after = at + token.length;
      var edge = at === 0 || after === s.length;
      var beforeColon = s.charAt(after) === ":" && !/\s/.test(s.charAt(after + 1));
      if (!MANUAL_CASE.test(token) && (edge || !SMALL_WORD.test(token)) && !beforeColon) {
        out += token.replace(/[A-Za-z0-9\u00C0-\u00FF]/, function (c) { return c.toUpperCase(); });
      } else {
        out += token;
      }
    }
    return out;
  }
  var B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  function base64Encode(s) {
    var bytes = unescape(encodeURIComponent(s)), out = "";
    for (var i = 0; i < bytes.length; i += 3) {
      var n = (bytes.charCodeAt(i) << 16) | ((bytes.charCodeAt(i + 1) || 0) << 8) | (bytes.charCodeAt(i + 2) || 0);
      out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] +
        (i + 1 < bytes.length ? B64[(n >> 6) & 63] : "=") + (i + 2 < bytes.length ? B64[n & 63] : "=");
    }
    return out;
  }
  function base64Decode(s) {
    var clean = String(s).replace(/[^A-Za-z0-9+/]/g, ""), bytes = "";
    for (var i = 0; i < clean.length; i += 4) {
      var n = 0, count = 0;
      for (var j = 0; j < 4; j++) {
        var c = B64.indexOf(clean[i + j]);
        if (c >= 0) { n |= c << (18 - 6 * j); count++; }
      }
      bytes += String.fromCharCode((n >> 16) & 255);
      if (count > 2) bytes += String.fromCharCode((n >> 8) & 255);
      if (count > 3) bytes += String.fromCharCode(n & 255);
    }
    try { return decodeURIComponent(escape(bytes)); } catch (e) { return bytes; }
  }

  defineAll(String.prototype, {
    isEmpty: function () { return this.length === 0; },
    isNotEmpty: function () { return this.length !== 0; },
    toNumber: function () {
      var n = Number(String(this).replace(CURRENCY, ""));
      if (isNaN(n)) throw ExtensionError("cannot convert to number");
      return n;
    },
    toFloat: function () {
      if (this.indexOf(",") >= 0) throw ExtensionError("cannot convert to float, expected . as decimal separator");
      var n = parseFloat(String(this).replace(CURRENCY, ""));
      if (isNaN(n)) throw ExtensionError("cannot convert to float");
      return n;
    },
    toInt: function (radix) {
      var n = parseInt(String(this).replace(CURRENCY, ""), radix);
      if (isNaN(n)) throw ExtensionError("cannot convert to integer");
      return n;
    },
    toBoolean: function () {
      var s = String(this).toLowerCase();
      return s.length > 0 && s !== "false" && s !== "no" && s !== "0";
    },
    toDateTime: function (format) {
      needLuxon();
      var s = String(this);
      if (format === "ms" || format === "s" || format === "us" || format === "excel") return Number(s).toDateTime(format);
      var dt = format ? DateTime.fromFormat(s, format) : __parseDateTime(s);
      if (!dt || !dt.isValid) throw ExtensionError("cannot convert to Luxon DateTime");
      return dt;
    },
    toDate: function () {
      var d = new Date(Date.parse(String(this)));
      if (isNaN(d.getTime())) throw ExtensionError("cannot convert to date");
      if (this.indexOf(":") < 0) d.setHours(0, 0, 0);
      return d;
    },
    extractEmail: function () { var m = EMAIL.exec(this); return m ? m[0] : undefined; },
    extractDomain: function () {
      var s = String(this);
      if (isEmail(s)) { var e = EMAIL.exec(s); return e ? e[1] : undefined; }
      var m = DOMAIN_IN.exec(s);
      return m ? m[1] : undefined;
    },
    extractUrl: function () { var m = URL_IN_TEXT.exec(this); return m ? m[0] : undefined; },
    extractUrlPath: function () {
      var m = /^[a-z]+:\/\/[^/?#]+(\/[^?#]*)?/i.exec(this);
      return m ? (m[1] || "/") : undefined;
    },
    isEmail: function () { return isEmail(String(this)); },
    isUrl: function () { return URL_EXACT.test(this); },
    isDomain: function () { return DOMAIN_EXACT.test(this); },
    isNumeric: function () {
      var s = String(this);
      return s.indexOf(" ") < 0 && !isNaN(s) && !isNaN(parseFloat(s));
    },
    removeMarkdown: function () {
      return String(this)
        .replace(/^([\s\t]*)([*\-+]|\d\.)\s+/gm, "$1")
        .replace(/\n={2,}/g, "\n").replace(/~~/g, "").replace(/`{3}.*\n/g, "")
        .replace(/!\[.*?\][[(].*?[\])]/g, "")
        .replace(/\[(.*?)\][[(].*?[\])]/g, "$1")
        .replace(/>/g, "")
        .replace(/^#{1,6}\s*([^#]*)\s*(#{1,6})?/gm, "$1")
        .replace(/([*_]{1,3})(\S.*?\S)\1/g, "$2")
        .replace(/`(.+?)`/g, "$1")
        .replace(/\n{2,}/g, "\n\n");
    },
    removeTags: function () { return String(this).replace(/<[^>]*>?/gm, ""); },
    toTitleCase: function () { return titleCase(String(this)); },
    toSentenceCase: function () {
      var out = "", rest = String(this);
      while (/\p{L}/u.test(rest)) {
        var i = rest.search(/\p{L}/u);
        rest = rest.slice(0, i) + rest[i].toUpperCase() + rest.slice(i + 1).toLowerCase();
        var p = rest.search(/[!?.]/);
        if (p < 0) { out += rest; rest = ""; break; }
        out += rest.slice(0, p + 1);
        rest = rest.slice(p + 1);
      }
      return out;
    },
    toSnakeCase: function () {
      return String(this).toLowerCase().replace(/[ \-]/g, "_")
        .replace(/[\u2000-\u206F\u2E00-\u2E7F\\'!"#$%&()*+,.\/:;<=>?@\[\]^`{|}~]/g, "");
    },
    urlEncode: function (whole) { return whole ? encodeURI(String(this)) : encodeURIComponent(String(this)); },
    urlDecode: function (whole) { return whole ? decodeURI(String(this)) : decodeURIComponent(String(this)); },
    hash: function (algorithm) {
      var algo = (algorithm || "md5").toLowerCase();
      if (algo === "base64") return base64Encode(String(this));
      var r = __sfnflowHost("hash", JSON.stringify([algo, String(this)]));
      if (r === null) throw ExtensionError("Unknown algorithm " + algo + ". Available algorithms are: md5,sha1,sha224,sha256,sha384,sha512,sha3, and Base64.");
      return r;
    },
    base64Encode: function () { return base64Encode(String(this)); },
    base64Decode: function () { return base64Decode(String(this)); },
    quote: function (q) {
      q = q === undefined ? '"' : q;
      return q + String(this).replace(/\\/g, "\\\\").split(q).join("\\" + q) + q;
    },
    replaceSpecialChars: function () {
      return String(this).normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/[^\x00-\x7F]/g, function (c) {
        return LATIN_LETTERS[c] || "?";
      });
    },
    parseJson: function () {
      try { return JSON.parse(String(this)); } catch (e) { throw ExtensionError("could not parse JSON"); }
    },
    toJsonString: function () { return JSON.stringify(String(this)); },
    toDecimalNumber: function () { return String(this).toFloat(); },
    toWholeNumber: function () { return String(this).toInt(); },
  });

  // ---- numbers --------------------------------------------------------------------------
  function numberToDateTime(value, format) {
    needLuxon();
    format = format === undefined ? "ms" : format;
    if (format === "ms") return DateTime.fromMillis(value);
    if (format === "s") return DateTime.fromSeconds(value);
    if (format === "us") return DateTime.fromMillis(value / 1000);
    if (format === "excel") return DateTime.fromSeconds((value - 25569) * 86400);
    throw ExtensionError("Unsupported format '" + String(format) + "'. toDateTime() supports 'ms', 's', 'us' and 'excel'.");
  }
  defineAll(Number.prototype, {
    round: function (places) { return +Number(this).toFixed(places || 0); },
    floor: function () { return Math.floor(this); },
    ceil: function () { return Math.ceil(this); },
    abs: function () { return Math.abs(this); },
    isInteger: function () { return Number.isInteger(+this); },
    isEven: function () {
      if (!Number.isInteger(+this)) throw ExtensionError("isEven() is only callable on integers");
      return this % 2 === 0;
    },
    isOdd: function () {
      if (!Number.isInteger(+this)) throw ExtensionError("isOdd() is only callable on integers");
      return Math.abs(this) % 2 === 1;
    },
    toBoolean: function () { return +this !== 0; },
    toInt: function () { return +Number(this).toFixed(0); },
    toFloat: function () { return +this; },
    format: function (locales, options) { return new Intl.NumberFormat(locales || "en-US", options || {}).format(+this); },
    toDateTime: function (format) { return numberToDateTime(+this, format); },
    isEmpty: function () { return false; },
    isNotEmpty: function () { return true; },
  });

  defineAll(Boolean.prototype, {
    toBoolean: function () { return this.valueOf(); },
    toInt: function () { return this.valueOf() ? 1 : 0; },
    toFloat: function () { return this.valueOf() ? 1 : 0; },
    toNumber: function () { return this.valueOf() ? 1 : 0; },
    isEmpty: function () { return false; },
    isNotEmpty: function () { return true; },
  });

  // ---- arrays ---------------------------------------------------------------------------
  function numbersOnly(list, name) {
    if (list.some(function (v) { return typeof v !== "number"; })) {
      throw ExtensionError(name + "(): all array elements must be numbers");
    }
  }
  function sum(list) { numbersOnly(list, "sum"); return list.reduce(function (a, b) { return a + b; }, 0); }
  function unique(list, fields) {
    return uniqueBy(list, function (v) {
      if (fields.length && v && typeof v === "object") {
        var key = {};
        fields.forEach(function (f) { key[f] = v[f]; });
        return key;
      }
      return v;
    });
  }
  function mergeMissing(target, other) {
    var out = Object.assign({}, target);
    Object.keys(other).forEach(function (k) { if (!Object.prototype.hasOwnProperty.call(out, k)) out[k] = other[k]; });
    return out;
  }
  defineAll(Array.prototype, {
    first: function () { return this[0]; },
    last: function () { return this[this.length - 1]; },
    isEmpty: function () { return this.length === 0; },
    isNotEmpty: function () { return this.length > 0; },
    unique: function () { return unique(this, Array.prototype.slice.call(arguments)); },
    removeDuplicates: function () { return unique(this, Array.prototype.slice.call(arguments)); },
    sum: function () { return sum(this); },
    min: function () { numbersOnly(this, "min"); return Math.min.apply(null, this); },
    max: function () { numbersOnly(this, "max"); return Math.max.apply(null, this); },
    average: function () { numbersOnly(this, "average"); return this.length ? sum(this) / this.length : 0; },
    pluck: function () {
      var fields = Array.prototype.slice.call(arguments);
      if (!fields.length) return this;
      var out = [];
      this.forEach(function (v) {
        if (!v || typeof v !== "object") return;
        var picked = Object.keys(v).filter(function (k) { return fields.indexOf(k) >= 0; }).map(function (k) { return v[k]; });
        if (picked.length) out.push(picked.length === 1 ? picked[0] : picked);
      });
      return out;
    },
    chunk: function (size) {
      if (typeof size !== "number" || size === 0) throw ExtensionError("chunk(): expected non-zero numeric arg, e.g. .chunk(5)");
      var out = [];
      for (var i = 0; i < this.length; i += size) out.push(this.slice(i, i + size));
      return out;
    },
    compact: function () {
      return this.filter(function (v) {
        if (v && typeof v === "object" && Object.keys(v).length === 0) return false;
        return v !== null && v !== undefined && v !== "nil" && v !== "";
      }).map(function (v) { return v !== null && typeof v === "object" ? v.compact() : v; });
    },
    randomItem: function () { return this.length ? this[Math.floor(Math.random() * this.length)] : undefined; },
    difference: function (other) {
      if (!Array.isArray(other)) throw ExtensionError("difference(): expected array arg, e.g. .difference([1, 2, 3, 4])");
      return unique(this.filter(function (v) { return !other.some(function (w) { return deepEqual(v, w); }); }), []);
    },
    intersection: function (other) {
      if (!Array.isArray(other)) throw ExtensionError("intersection(): expected array arg, e.g. .intersection([1, 2, 3, 4])");
      return unique(this.filter(function (v) { return other.some(function (w) { return deepEqual(v, w); }); }), []);
    },
    union: function (other) {
      if (!Array.isArray(other)) throw ExtensionError("union(): expected array arg, e.g. .union([1, 2, 3, 4])");
      return unique(this.concat(other), []);
    },
    append: function () { return this.concat(Array.prototype.slice.call(arguments)); },
    merge: function (others) {
      if (others === undefined) {
        return this.reduce(function (acc, v) { return isPlainObject(v) ? mergeMissing(acc, v) : acc; }, {});
      }
      if (!Array.isArray(others)) throw ExtensionError("merge(): expected array arg, e.g. .merge([{ id: 1, otherValue: 3 }])");
      var out = {};
      for (var i = 0; i < Math.max(this.length, others.length); i++) {
        if (this[i] !== undefined && typeof this[i] === "object" && typeof others[i] === "object") {
          Object.assign(out, mergeMissing(this[i], others[i] || {}));
        }
      }
      return out;
    },
    smartJoin: function (keyField, valueField) {
      if (typeof keyField !== "string" || typeof valueField !== "string" || !keyField || !valueField) {
        throw ExtensionError('smartJoin(): expected two string args, e.g. .smartJoin("name", "value")');
      }
      var out = {};
      this.forEach(function (v) {
        if (v && typeof v === "object" && keyField in v && valueField in v) out[v[keyField]] = v[valueField];
      });
      return out;
    },
    renameKeys: function () {
      var pairs = Array.prototype.slice.call(arguments);
      if (!pairs.length || pairs.length % 2) throw ExtensionError("renameKeys(): expected an even amount of args: from1, to1 [, from2, to2, ...]. e.g. .renameKeys(\"name\", \"title\")");
      return this.map(function (v) {
        if (!v || typeof v !== "object") return v;
        var o = Object.assign({}, v);
        for (var i = 0; i < pairs.length; i += 2) {
          if (Object.prototype.hasOwnProperty.call(o, pairs[i])) { o[pairs[i + 1]] = o[pairs[i]]; delete o[pairs[i]]; }
        }
        return o;
      });
    },
    toJsonString: function () { return JSON.stringify(this); },
  });

  // ---- objects --------------------------------------------------------------------------
  function fieldMatches(value, needle) {
    return typeof value === "string" && value.indexOf(needle) >= 0;
  }
  // application/x-www-form-urlencoded, as URLSearchParams writes it (space -> "+").
  function formEncode(s) {
    return encodeURIComponent(s).replace(/[!'()~]/g, function (c) {
      return "%" + c.charCodeAt(0).toString(16).toUpperCase();
    }).replace(/%20/g, "+");
  }
  defineAll(Object.prototype, {
    isEmpty: function () { return Object.keys(this).length === 0; },
    isNotEmpty: function () { return Object.keys(this).length !== 0; },
    hasField: function (name) { return Object.prototype.hasOwnProperty.call(this, name); },
    removeField: function (name) {
      var o = Object.assign({}, this);
      delete o[name];
      return o;
    },
    removeFieldsContaining: function (needle) {
      if (typeof needle !== "string" || needle === "") throw ExtensionError("removeFieldsContaining(): expected non-empty string arg");
      var o = {}, self = this;
      Object.keys(self).forEach(function (k) { if (!fieldMatches(self[k], needle)) o[k] = self[k]; });
      return o;
    },
    keepFieldsContaining: function (needle) {
      if (typeof needle !== "string" || needle === "") throw ExtensionError("keepFieldsContaining(): expected non-empty string arg");
      var o = {}, self = this;
      Object.keys(self).forEach(function (k) { if (fieldMatches(self[k], needle)) o[k] = self[k]; });
      return o;
    },
    compact: function () {
      var o = {}, self = this;
      Object.keys(self).forEach(function (k) {
        var v = self[k];
        if (v === null || v === undefined || v === "nil" || v === "") return;
        if (typeof v === "object") {
          if (Object.keys(v).length === 0) return;
          o[k] = v.compact();
        } else {
          o[k] = v;
        }
      });
      return o;
    },
    urlEncode: function () {
      var self = this;
      return Object.keys(self).map(function (k) {
        return formEncode(k) + "=" + formEncode(String(self[k]));
      }).join("&");
    },
    keys: function () { return Object.keys(this); },
    values: function () { return Object.values(this); },
    toJsonString: function () { return JSON.stringify(this); },
  });

  // ---- dates (Luxon DateTime and JS Date) -----------------------------------------------
  function toLuxon(d) {
    needLuxon();
    return DateTime.isDateTime(d) ? d : DateTime.fromJSDate(d);
  }
  // n8n: plus(5, "days"), plus({days: 5}), and a bare number counts minutes. Luxon itself
  // calls dt.minus(1) meaning one millisecond (endOf, toRelative), and these methods sit on
  // its prototype, so on a DateTime a bare number keeps Luxon's meaning; on a JS Date it is
  // n8n's, and the result is a JS Date again, as in n8n.
  function durationArgs(amount, unit, bareUnit) {
    if (typeof amount === "object" && amount !== null) return amount;
    var o = {};
    o[Duration.normalizeUnit(unit || bareUnit)] = amount;
    return o;
  }
  function shift(method, self, amount, unit) {
    var luxonInput = self.isLuxonDateTime === true;
    var dt = toLuxon(self); // loads Luxon, which binds the native methods
    var out = (method === "plus" ? nativePlus : nativeMinus).call(dt, durationArgs(amount, unit, luxonInput ? "milliseconds" : "minutes"));
    return luxonInput ? out : out.toJSDate();
  }
  var dateMethods = {
    plus: function (amount, unit) { return shift("plus", this, amount, unit); },
    minus: function (amount, unit) { return shift("minus", this, amount, unit); },
    format: function (fmt) { return toLuxon(this).toFormat(fmt); },
    beginningOf: function (unit) { return toLuxon(this).startOf(unit || "week"); },
    endOfMonth: function () { return toLuxon(this).endOf("month"); },
    extract: function (part) {
      var dt = toLuxon(this);
      var p = part || "week";
      if (p === "week" || p === "weekNumber") return dt.weekNumber;
      if (p === "yearDayNumber") return dt.ordinal;
      return dt.get(Duration.normalizeUnit(p).replace(/s$/, ""));
    },
    isBetween: function (a, b) {
      if (arguments.length !== 2) throw ExtensionError("isBetween(): expected exactly two args");
      var start = toLuxonAny(a), end = toLuxonAny(b);
      var t = toLuxon(this);
      if (start > end) { var x = start; start = end; end = x; }
      return t > start && t < end;
    },
    isDst: function () { return toLuxon(this).isInDST; },
    isInLast: function (amount, unit) {
      needLuxon();
      var now = DateTime.now();
      var since = now.minus(durationArgs(amount || 0, unit, "minutes"));
      var t = toLuxon(this);
      return t >= since && t <= now;
    },
    isWeekend: function () { return toLuxon(this).weekday >= 6; },
    diffTo: function (other, unit) {
      var u = unit || "days";
      var d = toLuxon(this).diff(toLuxonAny(other), Array.isArray(u) ? u : [u]);
      var o = d.toObject();
      return Array.isArray(u) ? o : o[Duration.normalizeUnit(u)];
    },
    diffToNow: function (unit) { needLuxon(); return dateMethods.diffTo.call(this, DateTime.now(), unit); },
    toDateTime: function () { return toLuxon(this); },
    toInt: function () { return toLuxon(this).toMillis(); },
    toFloat: function () { return toLuxon(this).toMillis(); },
    toBoolean: function () { return undefined; },
    isEmpty: function () { return false; },
    isNotEmpty: function () { return true; },
  };
  function toLuxonAny(v) {
    needLuxon();
    if (DateTime.isDateTime(v)) return v;
    if (v instanceof Date) return DateTime.fromJSDate(v);
    if (typeof v === "number") return DateTime.fromMillis(v);
    return __parseDateTime(String(v));
  }
  defineAll(Date.prototype, dateMethods);
  __onLuxon(function (luxon) {
    DateTime = luxon.DateTime;
    Duration = luxon.Duration;
    nativePlus = DateTime.prototype.plus;
    nativeMinus = DateTime.prototype.minus;
    defineAll(DateTime.prototype, dateMethods);
  });

  // n8n's lenient date parsing (type-validation tryToParseDateTime): ISO, HTTP, RFC 2822,
  // SQL, then the JS Date parser; the result is in the workflow's zone.
  globalThis.__parseDateTime = function (s) {
    needLuxon();
    var attempts = [DateTime.fromISO, DateTime.fromHTTP, DateTime.fromRFC2822, DateTime.fromSQL];
    for (var i = 0; i < attempts.length; i++) {
      var dt = attempts[i].call(DateTime, s, { setZone: true });
      if (dt.isValid) return dt;
    }
    var ms = Date.parse(s);
    if (!isNaN(ms)) return DateTime.fromMillis(ms);
    if (/^\d+$/.test(s)) return DateTime.fromMillis(Number(s));
    throw ExtensionError("cannot convert to Luxon DateTime");
  };
})();
