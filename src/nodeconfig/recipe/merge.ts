// Deep merge of component values: objects merge key by key, all the way down; arrays and
// scalars from the overlay replace. Inputs are never modified (eidos merged shallowly and
// wrote into its cached store).
export type Values = Record<string, unknown>;

function isPlainObject(v: unknown): v is Values {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function deepMerge(base: Values, overlay: Values): Values {
  const out: Values = { ...base };
  for (const [k, v] of Object.entries(overlay)) {
    const prev = out[k];
    out[k] = isPlainObject(prev) && isPlainObject(v) ? deepMerge(prev, v) : structuredClone(v);
  }
  return out;
}
