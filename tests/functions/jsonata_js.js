// Evaluates a JSON array of cases [{expr, input}] with the jsonata npm package (the
// JavaScript engine Step Functions runs) and prints one JSON array of results:
// {value} (absent when undefined), or {error: code}. Used by test_jsonata_differential.py.
"use strict";
const jsonata = require("jsonata");

async function evaluate(expr, input) {
  try {
    const value = await jsonata(expr).evaluate(input, { json: input });
    return value === undefined ? {} : { value: JSON.parse(JSON.stringify(value)) };
  } catch (error) {
    return { error: error.code || String(error.message || error) };
  }
}

(async () => {
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  const results = [];
  for (const { expr, input } of JSON.parse(text)) results.push(await evaluate(expr, input));
  process.stdout.write(JSON.stringify({ version: require("jsonata/package.json").version,
                                        results }));
})();
