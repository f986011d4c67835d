// IANA time zones for Luxon without Intl: offsets and validity come from Python's zoneinfo
// through the host callable (engine.py). Cached per zone and minute, since Luxon asks for the
// offset of the same instant several times while building one DateTime.
(function () {
  "use strict";
  var IANAZone = luxon.IANAZone;
  var offsets = {};
  IANAZone.isValidZone = function (zone) {
    return !!zone && __sfnflowHost("tzValid", String(zone)) === "true";
  };
  IANAZone.prototype.offset = function (ts) {
    if (isNaN(ts)) return NaN;
    var key = this.name + "\u0000" + Math.floor(ts / 60000);
    var hit = offsets[key];
    if (hit === undefined) {
      hit = Number(__sfnflowHost("tzOffset", JSON.stringify([this.name, ts])));
      offsets[key] = hit;
    }
    return hit;
  };
})();
