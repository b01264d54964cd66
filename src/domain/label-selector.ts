// Label selectors (`a=b,c!=d,e,!f`), the kubectl equality-based subset. Parsed here so a bad
// selector is a 400 naming `labelSelector`; stores only evaluate the parsed requirements.
import { validationFailed } from './index.ts';
import type { LabelRequirement } from './resources.ts';

const KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const MAX_REQUIREMENTS = 20;

// The same grammar as one regular expression, for the OpenAPI document (so generated
// clients and fuzzers know what a valid selector looks like).
const KEY_SRC = KEY.source.slice(1, -1);
const VALUE_SRC = VALUE.source.slice(1, -1);
const REQUIREMENT_SRC = `(!?${KEY_SRC}|${KEY_SRC}(=|==|!=)${VALUE_SRC})`;
export const SELECTOR_PATTERN = new RegExp(`^(${REQUIREMENT_SRC}(,${REQUIREMENT_SRC})*)?$`);

export function parseLabelSelector(selector: string, field = 'labelSelector'): LabelRequirement[] {
  const fail = (message: string): never => {
    throw validationFailed(`invalid label selector: ${message}`, [{ path: field, message }]);
  };
  if (selector.trim() === '') return [];
  const parts = selector.split(',').map((p) => p.trim());
  if (parts.length > MAX_REQUIREMENTS) fail(`at most ${MAX_REQUIREMENTS} requirements`);
  return parts.map((part): LabelRequirement => {
    if (part === '') fail('empty requirement');
    const m = /^([^=!]+?)\s*(!=|==|=)\s*(.*)$/.exec(part);
    if (m) {
      const [, key = '', op, value = ''] = m;
      if (!KEY.test(key)) fail(`"${key}" is not a label key`);
      if (!VALUE.test(value)) fail(`"${value}" is not a label value`);
      return op === '!=' ? { key, op: '!=', value } : { key, op: '=', value };
    }
    const negated = part.startsWith('!');
    const key = negated ? part.slice(1).trim() : part;
    if (!KEY.test(key)) fail(`"${part}" is not a requirement (a=b, a!=b, a or !a)`);
    return negated ? { key, op: '!exists' } : { key, op: 'exists' };
  });
}

/** Whether labels satisfy every requirement (the S3 store filters here; SQL stores in their query). */
export function labelsMatch(labels: Readonly<Record<string, string>>, selector: readonly LabelRequirement[]): boolean {
  return selector.every((r) => {
    const v = labels[r.key];
    switch (r.op) {
      case '=':
        return v === r.value;
      case '!=':
        return v !== r.value;
      case 'exists':
        return v !== undefined;
      case '!exists':
        return v === undefined;
    }
  });
}
