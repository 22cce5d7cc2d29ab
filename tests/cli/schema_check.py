"""A small JSON Schema (draft 2020-12) checker for the keywords docs/depctl.schema.json uses:
type, properties, additionalProperties, required, enum, items, minimum, exclusiveMinimum,
oneOf, pattern, propertyNames, uniqueItems. Returns a list of "path: problem" strings."""
import re

TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
KNOWN = {"$schema", "$id", "title", "description", "type", "properties", "additionalProperties",
         "required", "enum", "items", "minimum", "exclusiveMinimum", "oneOf", "pattern",
         "propertyNames", "uniqueItems"}


def errors(schema, value, path="$"):
    unknown = set(schema) - KNOWN
    if unknown:  # a keyword this checker would silently skip: fail loudly instead
        return [f"{path}: schema keyword(s) {sorted(unknown)} not supported by schema_check.py"]
    out = []
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(TYPES[k](value) for k in kinds):
            return [f"{path}: expected {kind}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{path}: {value!r} not one of {schema['enum']}")
    if "pattern" in schema and isinstance(value, str) and not re.search(schema["pattern"], value):
        out.append(f"{path}: {value!r} does not match {schema['pattern']}")
    if "minimum" in schema and TYPES["number"](value) and value < schema["minimum"]:
        out.append(f"{path}: {value} < {schema['minimum']}")
    if "exclusiveMinimum" in schema and TYPES["number"](value) and value <= schema["exclusiveMinimum"]:
        out.append(f"{path}: {value} <= {schema['exclusiveMinimum']}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                out.append(f"{path}: missing {key!r}")
        for key, item in value.items():
            if "propertyNames" in schema:
                out += errors(schema["propertyNames"], key, f"{path}.{key} (name)")
            if key in props:
                out += errors(props[key], item, f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                out.append(f"{path}: unknown key {key!r}")
            elif isinstance(schema.get("additionalProperties"), dict):
                out += errors(schema["additionalProperties"], item, f"{path}.{key}")
    if isinstance(value, list):
        if "items" in schema:
            for i, item in enumerate(value):
                out += errors(schema["items"], item, f"{path}[{i}]")
        if schema.get("uniqueItems") and len({repr(v) for v in value}) != len(value):
            out.append(f"{path}: items are not unique")
    if "oneOf" in schema:
        passing = [s for s in schema["oneOf"] if not errors(s, value, path)]
        if len(passing) != 1:
            out.append(f"{path}: matches {len(passing)} of the oneOf alternatives, not exactly 1")
    return out
