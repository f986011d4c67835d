#!/usr/bin/env node
// Validate many Amazon States Language definitions in one node process with asl-validator.
//
// Usage: node validate_asl.js DIR
//   DIR/index.json maps file names to definition names: {"0.json": "my-workflow", ...};
//   each file holds one definition. Prints {"<definition name>": ["problem", ...], ...} as
//   JSON on stdout (an empty list means valid) and exits 0; exits 2 on a usage error.
"use strict";

const fs = require("fs");
const path = require("path");

let validator;
try {
  validator = require("asl-validator");
} catch (err) {
  process.stderr.write(`cannot load asl-validator (run \`npm ci\`): ${err.message}\n`);
  process.exit(3);
}

const dir = process.argv[2];
if (!dir) {
  process.stderr.write("usage: validate_asl.js DIR\n");
  process.exit(2);
}

const index = JSON.parse(fs.readFileSync(path.join(dir, "index.json"), "utf8"));
const options = { checkPaths: true, checkArn: true };
const results = {};
for (const [file, name] of Object.entries(index)) {
  let definition;
  try {
    definition = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
  } catch (err) {
    results[name] = [`INVALID_JSON: ${err.message}`];
    continue;
  }
  try {
    const { isValid, errors } = validator(definition, options);
    results[name] = isValid
      ? []
      : errors.map((error) => `${error["Error code"]}: ${error.Message}`);
  } catch (err) {
    results[name] = [`VALIDATOR_EXCEPTION: ${err.stack || err}`];
  }
}
process.stdout.write(JSON.stringify(results));
