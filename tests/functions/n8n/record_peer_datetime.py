"""Record ``peer_datetime.json`` (Date & Time v1 and v2 cases) from n8n's real engine (not a test).

``TZ=UTC python tests/functions/n8n/record_peer_datetime.py /path/to/peer``: each case is
manual trigger -> testData (the case's items) -> one Date & Time node, in the case's workflow
time zone; its output items or the run's error go to ``peer_datetime.json``, which
``test_datetime.py`` reads (the tests never need the peer). ``TZ=UTC``: moment's local time
is the process's zone, and sfnflow's runner runs in UTC.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

PEER = Path(sys.argv[1]) / "run-n8n.js"
HERE = Path(__file__).parent
DATES = [{"d": "2024-01-31T10:20:30+02:00"}, {"d": 1700000000}, {"d": "2024-03-10 01:30:00"},
         {"d": "Tue, 01 Nov 2016 01:23:45 +0000"}, {"d": "1700000000123"}, {"d": 1.5e9}]
# moment's fallback to the engine's Date parser differs between engines: not in v1 calculate
V1_DATES = [item for item in DATES if item["d"] != "1700000000123"]
D = "={{ $json.d }}"
BERLIN = "Europe/Berlin"
V2 = 2
V1 = 1
# name: (typeVersion, parameters, items, workflow time zone; None: UTC, set explicitly, as
# n8n's own default is the instance's, America/New_York)
CASES = {
    "add_months_berlin": (V2, {"operation": "addToDate", "magnitude": D, "timeUnit": "months",
                               "duration": 1}, DATES, BERLIN),
    "add_days_utc": (V2, {"operation": "addToDate", "magnitude": D, "duration": 3}, DATES,
                     None),
    "subtract_hours_input_fields": (
        V2, {"operation": "subtractFromDate", "magnitude": D, "timeUnit": "hours",
             "duration": 5, "outputFieldName": "earlier",
             "options": {"includeInputFields": True}}, DATES, "America/New_York"),
    "subtract_quarters": (V2, {"operation": "subtractFromDate", "magnitude": D,
                               "timeUnit": "quarters", "duration": 1}, DATES, None),
    "format_default": (V2, {"operation": "formatDate", "date": D}, DATES, BERLIN),
    "format_custom_with_zone": (
        V2, {"operation": "formatDate", "date": D, "format": "custom",
             "customFormat": "yyyy LLLL dd HH:mm:ss ZZ EEEE", "options": {"timezone": True}},
        DATES, "Asia/Tokyo"),
    "format_unix": (V2, {"operation": "formatDate", "date": D, "format": "X"}, DATES, None),
    "format_from_format": (
        V2, {"operation": "formatDate", "date": D, "format": "yyyy-MM-dd",
             "options": {"fromFormat": "dd/MM/yyyy"}}, [{"d": "25/12/2023"}],
        None),
    "format_from_format_bad": (V2, {"operation": "formatDate", "date": D,
                                    "options": {"fromFormat": "dd/MM/yyyy"}}, [{"d": "bad"}],
                               None),
    "format_odd_inputs": (
        V2, {"operation": "formatDate", "date": D, "format": "custom",
             "customFormat": "yyyy-MM-dd'T'HH:mm:ss.SSS ZZ"},
        [{"d": "2024-01-01T00:00:00.000Z"}, {"d": "1700000000.5"}, {"d": "2024-06-15"},
         {"d": "2024-06-15T08:00"}, {"d": "20240615T080000Z"}, {"d": 0}, {"d": ""},
         {"d": "2024-W24-6"}, {"d": "2024-06-15T08:00:00-0330"}], "Europe/Berlin"),
    "format_with_zone_and_from_format": (
        V2, {"operation": "formatDate", "date": D, "format": "custom",
             "customFormat": "dd LLL yyyy HH:mm z", "options": {"fromFormat": "yyyy-MM-dd HH:mm",
                                                                "timezone": True}},
        [{"d": "2024-06-15 08:30"}], "America/Sao_Paulo"),
    "format_null": (V2, {"operation": "formatDate", "date": D}, [{"d": None}], None),
    "round_down_day": (V2, {"operation": "roundDate", "date": D, "toNearest": "day"}, DATES,
                       BERLIN),
    "round_down_week": (V2, {"operation": "roundDate", "date": D, "toNearest": "week"},
                        DATES, None),
    "round_up_month": (V2, {"operation": "roundDate", "date": D, "mode": "roundUp",
                            "to": "month"}, DATES, BERLIN),
    "between_default_days": (V2, {"operation": "getTimeBetweenDates", "startDate": D,
                                  "endDate": "2025-06-01T00:00:00Z"}, DATES, None),
    "between_units_iso": (
        V2, {"operation": "getTimeBetweenDates", "startDate": D,
             "endDate": "2025-06-01T12:00:00+02:00", "units": ["year", "month", "hour"],
             "options": {"isoString": True}}, DATES, BERLIN),
    "between_units_object": (
        V2, {"operation": "getTimeBetweenDates", "startDate": D, "endDate": "2025-06-01",
             "units": ["week", "day", "minute", "second", "millisecond"]}, DATES, None),
    "extract_week": (V2, {"operation": "extractDate", "date": D, "part": "week"}, DATES, None),
    "extract_hour_berlin": (V2, {"operation": "extractDate", "date": D, "part": "hour"},
                            DATES, BERLIN),
    "extract_year_output": (V2, {"operation": "extractDate", "date": D, "part": "year",
                                 "outputFieldName": "y"}, DATES, None),
    "invalid_date": (V2, {"operation": "addToDate", "magnitude": D, "duration": 1},
                     [{"d": "not a date"}], None),
    "v1_format_default": (V1, {"value": D}, DATES, None),
    "v1_format_tokens": (V1, {"value": D, "custom": True,
                              "toFormat": "YYYY-MM-DD HH:mm:ss [at] ddd, MMMM Q A hh SSS"},
                         DATES, None),
    "v1_format_literal_letters": (V1, {"value": D, "custom": True,
                                       "toFormat": "YYYY-MM-DDTHH:mm:ss [Week] W, tuv"},
                                  DATES, None),
    "v1_format_to_zone": (V1, {"value": D, "custom": True, "toFormat": "YYYY-MM-DD HH:mm Z",
                               "options": {"toTimezone": "America/New_York"}}, DATES, BERLIN),
    "v1_format_from_zone": (V1, {"value": D, "custom": True, "toFormat": "YYYY-MM-DD HH:mm ZZ",
                                 "options": {"fromTimezone": "Asia/Tokyo"}}, DATES, BERLIN),
    "v1_format_unix": (V1, {"value": D, "toFormat": "X", "dataPropertyName": "out.unix"},
                       DATES, None),
    "v1_format_from_format": (V1, {"value": D, "toFormat": "YYYY/MM/DD",
                                   "options": {"fromFormat": "DD.MM.YYYY"}},
                              [{"d": "24.12.2023"}], None),
    "v1_format_unrecognised": (V1, {"value": D}, [{"d": "soon"}], None),
    "v1_calculate_add": (V1, {"action": "calculate", "value": D, "duration": 2,
                              "timeUnit": "hours"}, V1_DATES, None),
    "v1_calculate_subtract_months": (
        V1, {"action": "calculate", "value": D, "operation": "subtract", "duration": 1,
             "timeUnit": "months", "dataPropertyName": "when"}, V1_DATES, BERLIN),
    "v1_calculate_from_format": (
        V1, {"action": "calculate", "value": D, "duration": 1, "timeUnit": "days",
             "options": {"fromFormat": "YYYY-MM-DD"}}, [{"d": "2024-02-28"}], None),
}


def workflow(version: float, parameters: dict, items: list, timezone: str | None) -> dict:
    settings = {"executionOrder": "v1", "timezone": timezone or "UTC"}
    return {
        "name": "w", "settings": settings,
        "nodes": [
            {"name": "T", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
             "parameters": {}, "position": [0, 0]},
            {"name": "D", "type": "n8n-nodes-testing.testData", "typeVersion": 1,
             "parameters": {"data": items}, "position": [1, 0]},
            {"name": "DT", "type": "n8n-nodes-base.dateTime", "typeVersion": version,
             "parameters": parameters, "position": [2, 0]},
        ],
        "connections": {
            "T": {"main": [[{"node": "D", "type": "main", "index": 0}]]},
            "D": {"main": [[{"node": "DT", "type": "main", "index": 0}]]},
        },
    }


out = {}
with tempfile.TemporaryDirectory() as scratch:
    path = Path(scratch) / "wf.json"
    for name, (version, parameters, items, timezone) in CASES.items():
        path.write_text(json.dumps(workflow(version, parameters, items, timezone)))
        result = json.loads(subprocess.run(["node", str(PEER), str(path)], capture_output=True,
                                           text=True, check=False).stdout)
        out[name] = {"typeVersion": version, "parameters": parameters, "items": items,
                     "timezone": timezone, "output": result["nodes"].get("DT", {}).get("items"),
                     "error": result.get("error")}
        print(name, json.dumps(out[name]["output"] or out[name]["error"])[:200])
(HERE / "peer_datetime.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
