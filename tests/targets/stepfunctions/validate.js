// Validate state machine definitions with both npm validators.
//
//   node validate.js FILE.asl.json...
//
// Prints one JSON object: {file: {"asl-validator": [messages], "amazon-states-language-service": [messages]}}.
// An empty list means the validator accepts the file. Every diagnostic the
// language service reports counts, whatever its severity: both its schema
// warnings and its own errors are things AWS would reject or mis-run.
"use strict";

const fs = require("fs");
const aslValidator = require("asl-validator");
const { getLanguageService } = require("amazon-states-language-service");
const { TextDocument } = require("vscode-languageserver-textdocument");

const service = getLanguageService({});

async function validate(file) {
  const text = fs.readFileSync(file, "utf8");
  const definition = JSON.parse(text);

  const byValidator = aslValidator(definition, { checkPaths: true, checkArn: true });
  const first = byValidator.isValid ? [] : byValidator.errors.map((e) => `${e["Error code"] || ""} ${e.Message || JSON.stringify(e)}`.trim());

  const document = TextDocument.create(`file://${file}`, "json", 1, text);
  const parsed = service.parseJSONDocument(document);
  const diagnostics = await service.doValidation(document, parsed);
  const second = diagnostics.map((d) => `line ${d.range.start.line + 1}: ${d.message}`);

  return { "asl-validator": first, "amazon-states-language-service": second };
}

(async () => {
  const out = {};
  for (const file of process.argv.slice(2)) {
    out[file] = await validate(file);
  }
  process.stdout.write(JSON.stringify(out, null, 1) + "\n");
})().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(2);
});
