"""Validates OCSF records against the OCSF 1.1.0 JSON Schemas of test/fixtures/ocsf-1.1.0/.

Reads NDJSON on stdin, one `{"class": "<class name>", "record": {...}}` per line, and prints one JSON
object: {"validated": <records checked>, "errors": [{"line", "class", "uid", "path", "message"}, ...]}
(at most 100 errors). A null attribute is an absent one, as in Parquet: nulls are removed before
validation. Runs with the `jsonschema` package of the project's .venv (installed there as a dependency of
cfn-lint and moto, requirements-dev.txt).
"""

import json
import pathlib
import sys

from jsonschema import Draft202012Validator

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "ocsf-1.1.0"


def without_nulls(value):
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value if v is not None]
    return value


def main():
    validators = {}
    validated = 0
    errors = []
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        item = json.loads(line)
        name = item["class"]
        if name not in validators:
            schema = json.loads((FIXTURES / f"{name}.schema.json").read_text())
            Draft202012Validator.check_schema(schema)
            validators[name] = Draft202012Validator(schema)
        record = without_nulls(item["record"])
        validated += 1
        for error in validators[name].iter_errors(record):
            if len(errors) < 100:
                errors.append(
                    {
                        "line": number,
                        "class": name,
                        "uid": (record.get("metadata") or {}).get("uid"),
                        "path": "/".join(str(p) for p in error.absolute_path),
                        "message": error.message[:500],
                    }
                )
    print(json.dumps({"validated": validated, "errors": errors}))


main()
