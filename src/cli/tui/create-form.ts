// The create form: name, provider, mode and a worker pool size, validated as you type with
// the same rules the server applies; enter submits only when every field is valid.
import { Box, Text } from 'ink';
import React from 'react';
import type { CreateClusterBody } from '../../client/backend.ts';
import { nameProblem } from '../../domain/names.ts';
import { MAX_POOL_COUNT, MODES, PROVIDERS } from '../../domain/spec.ts';
import { useRoutedInput } from './input-router.ts';
import { h, useLiveState } from './h.ts';
import { edited, Field } from './text-field.ts';
import { clusterSpecSchema } from '../../domain/spec.ts';
import { planCreate } from '../plans.ts';
import { PlanPreview, usePlan } from './plan-preview.ts';

const FIELDS = ['name', 'provider', 'mode', 'workers'] as const;
type FieldName = (typeof FIELDS)[number];

export interface CreateValues {
  name: string;
  provider: (typeof PROVIDERS)[number];
  mode: (typeof MODES)[number];
  workers: string;
}

export function countProblem(value: string): string | null {
  if (!/^\d+$/.test(value)) return 'must be a whole number';
  const n = Number(value);
  return n > MAX_POOL_COUNT ? `must be at most ${MAX_POOL_COUNT}` : null;
}

export function createProblems(v: CreateValues): Partial<Record<FieldName, string>> {
  const out: Partial<Record<FieldName, string>> = {};
  const name = nameProblem(v.name);
  if (name) out.name = `name ${name}`;
  const count = countProblem(v.workers);
  if (count) out.workers = `workers ${count}`;
  return out;
}

export function createBodyFrom(v: CreateValues): CreateClusterBody {
  const workers = Number(v.workers);
  return { name: v.name, spec: { provider: v.provider, mode: v.mode, nodePools: workers > 0 ? [{ name: 'workers', count: workers }] : [] } };
}

function cycle<T>(options: readonly T[], current: T, step: number): T {
  const i = options.indexOf(current);
  return options[(i + step + options.length) % options.length] ?? current;
}

export function CreateForm(props: { onSubmit: (body: CreateClusterBody) => void; onCancel: () => void; error?: string | undefined; busy?: boolean }) {
  const [values, setValues, valuesNow] = useLiveState<CreateValues>({ name: '', provider: 'sim', mode: 'dev', workers: '1' });
  const [focus, setFocus, focusNow] = useLiveState<FieldName>('name');
  // Errors show for a field once it was touched or a submit was tried, not on an empty new form.
  const [touched, setTouched] = React.useState<ReadonlySet<FieldName>>(new Set());
  const problems = createProblems(values);

  useRoutedInput('create', (input, key) => {
    if (props.busy) return;
    if (key.escape) return props.onCancel();
    const focus = focusNow.current;
    const values = valuesNow.current;
    const move = (step: number): void => setFocus(FIELDS[(FIELDS.indexOf(focus) + step + FIELDS.length) % FIELDS.length] ?? 'name');
    if (key.tab || key.downArrow) return move(key.shift ? -1 : 1);
    if (key.upArrow) return move(-1);
    if (key.return) {
      setTouched(new Set(FIELDS));
      if (Object.keys(createProblems(values)).length === 0) props.onSubmit(createBodyFrom(values));
      return;
    }
    if (focus === 'provider' || focus === 'mode') {
      const step = key.leftArrow ? -1 : key.rightArrow || input === ' ' ? 1 : 0;
      if (step === 0) return;
      if (focus === 'provider') setValues({ ...values, provider: cycle(PROVIDERS, values.provider, step) });
      else setValues({ ...values, mode: cycle(MODES, values.mode, step) });
      return;
    }
    setTouched((t) => new Set(t).add(focus));
    setValues({ ...values, [focus]: edited(values[focus], input, key) });
  });

  const valid = Object.keys(problems).length === 0;
  const body = createBodyFrom(values);
  const preview = usePlan(valid ? (book) => planCreate(body.name, { spec: clusterSpecSchema.parse(body.spec), labels: {} }, book) : null, JSON.stringify(body));
  const show = (f: FieldName): string | undefined => (touched.has(f) ? problems[f] : undefined);
  return h(
    Box,
    { flexDirection: 'column', borderStyle: 'round', paddingX: 1 },
    h(Text, { bold: true }, 'Create cluster'),
    h(Field, { label: 'name', value: values.name, focused: focus === 'name', error: show('name'), hint: 'lower-case letters, digits, "-"' }),
    h(Field, { label: 'provider', value: `‹ ${values.provider} ›`, focused: focus === 'provider', hint: '←/→ to change' }),
    h(Field, { label: 'mode', value: `‹ ${values.mode} ›`, focused: focus === 'mode', hint: 'dev: 1 server, ha: 3' }),
    h(Field, { label: 'workers', value: values.workers, focused: focus === 'workers', error: show('workers'), hint: `0..${MAX_POOL_COUNT}` }),
    h(PlanPreview, { ...preview, pending: valid }),
    props.error ? h(Text, { color: 'red' }, props.error) : null,
    h(Text, { dimColor: true }, props.busy ? 'creating…' : 'tab/↑↓ move · enter create · esc cancel'),
  );
}
