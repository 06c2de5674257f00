// JSON as the chat template's `tojson` writes it: Python's json.dumps(ensure_ascii=False) with its
// default separators ", " and ": ", keys in insertion order. Also Kimi's deep key sort of tools.
// Known limit shared with every JS renderer: a JSON float with an integral value (1.0) has become the
// number 1 by the time we see it, so it prints as "1" where Python prints "1.0".

export function pythonJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "string":
    case "number":
    case "boolean":
      return JSON.stringify(value);
    case "object":
      if (Array.isArray(value)) return `[${value.map(pythonJson).join(", ")}]`;
      return `{${Object.entries(value as Record<string, unknown>)
        .map(([k, v]) => `${JSON.stringify(k)}: ${pythonJson(v)}`)
        .join(", ")}}`;
    default:
      throw new TypeError(`cannot serialise a ${typeof value} as JSON`);
  }
}

/** Python's sorted() order on str: by code point (JS's default sort compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done === true) return y.done === true ? 0 : -1;
    if (y.done === true) return 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

/** Every object's keys sorted, recursively (tokenization_kimi.py deep_sort_dict, applied to tools). */
export function deepSortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(deepSortKeys) as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort(compareCodePoints)) {
      out[key] = deepSortKeys((value as Record<string, unknown>)[key]);
    }
    return out as T;
  }
  return value;
}
