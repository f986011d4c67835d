// IANA time zones for Luxon without Intl. Offsets come from the frame's tables (zones.py:
// offset changes 1900-2100 from Python's zoneinfo) when the node run was given the zone, else
// from Python through the host callable (possible only without a time limit, i.e. in
// expressions, not in the Code node).
globalThis.__sfnflowZones = {};
__onLuxon(function (luxon) {
  "use strict";
  var IANAZone = luxon.IANAZone;

  function fromTable(table, ts) {
    var instants = table[0], offsets = table[1];
    var low = 0, high = instants.length - 1;
    if (ts < instants[0]) return offsets[0];
    while (low < high) {
      var middle = (low + high + 1) >> 1;
      if (instants[middle] <= ts) low = middle; else high = middle - 1;
    }
    return offsets[low];
  }

  // Fixed zones need no tables: "UTC", "Etc/UTC", "Etc/GMT+5" (POSIX sign: 5 hours west).
  function fixedOffset(name) {
    if (/^(?:Etc\/)?(?:UTC|GMT|UCT|Zulu|Universal)$/.test(name)) return 0;
    var m = /^Etc\/GMT([+-])(\d{1,2})$/.exec(name);
    return m ? (m[1] === "+" ? -60 : 60) * Number(m[2]) : null;
  }

  IANAZone.isValidZone = function (zone) {
    if (!zone) return false;
    if (fixedOffset(zone) !== null) return true;
    if (Object.prototype.hasOwnProperty.call(globalThis.__sfnflowZones, zone)) return true;
    return __sfnflowHost("tzValid", String(zone)) === "true";
  };
  IANAZone.prototype.offset = function (ts) {
    if (isNaN(ts)) return NaN;
    var fixed = fixedOffset(this.name);
    if (fixed !== null) return fixed;
    var table = globalThis.__sfnflowZones[this.name];
    if (table !== undefined) return fromTable(table, ts);
    return Number(__sfnflowHost("tzOffset", JSON.stringify([this.name, ts])));
  };
});
