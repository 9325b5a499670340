#!/usr/bin/env python3
"""Validates cloud-configs against kindling's JSON Schema with the `jsonschema` package.

Usage: check.py SCHEMA < LIST, where each line of LIST is `valid<TAB>PATH` or `invalid<TAB>PATH`
(what the validator said). Each file's first YAML document is read with PyYAML (YAML 1.1, as
coreos-cloudinit's parser) and checked; every file whose outcome differs is printed, and the
exit status is 1 when there is any. Timestamps stay strings and !!binary stays its text, as a
JSON-minded YAML parser (yaml-language-server) hands them over.
"""
import json
import sys

import jsonschema
import yaml


class Loader(yaml.SafeLoader):
    pass


# JSON has no dates: leave timestamps as the strings they are written as.
Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_constructor(
    "tag:yaml.org,2002:binary", lambda loader, node: loader.construct_scalar(node)
)


def first_document(path):
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    for doc in yaml.load_all(text, Loader=Loader):
        return doc
    return None


def main():
    schema = json.load(open(sys.argv[1]))
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    bad, counts = [], {"valid": 0, "invalid": 0, "unreadable": 0}
    for line in sys.stdin:
        expect, path = line.rstrip("\n").split("\t", 1)
        try:
            doc = first_document(path)
        except (yaml.YAMLError, UnicodeDecodeError) as e:
            # PyYAML refuses some YAML 1.2 the validator accepts; not the schema's business.
            counts["unreadable"] += 1
            print(f"skipped (PyYAML cannot read it): {path}: {str(e).splitlines()[0]}")
            continue
        errors = list(validator.iter_errors(json.loads(json.dumps(doc, default=str))))
        got = "invalid" if errors else "valid"
        counts[expect] += 1
        if got != expect:
            why = "; ".join(
                f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:200]}"
                for e in errors[:3]
            )
            bad.append(f"{path}: the validator says {expect}, the schema says {got} {why}")
    print(json.dumps(counts))
    for b in bad:
        print(b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
