// Create a cluster: every keystroke is checked against the server's own spec schema (the same
// zod objects the API validates with), and the validated spec, defaults filled in, is shown
// before you confirm. The server's problem+json still has the last word, shown by field.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, api, message } from '../api.ts';
import { Field } from '../format.tsx';
import type { Cluster, PlanResult } from '../types.ts';
import { costText } from '../../../src/domain/cost.ts';
import { MODES, PROVIDERS, clusterSpecSchema, labelsSchema, nameSchema } from '../../../src/domain/spec.ts';

interface Form {
  name: string;
  provider: string;
  region: string;
  mode: string;
  k3sVersion: string;
  instanceType: string;
  poolName: string;
  poolCount: string;
  labels: string;
}

const INITIAL: Form = { name: '', provider: 'sim', region: 'ap-south-1', mode: 'dev', k3sVersion: 'stable', instanceType: 't3.medium', poolName: 'workers', poolCount: '2', labels: '' };

type Errors = Record<string, string>;

function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [k, v = ''] = part.split('=', 2);
    out[k!.trim()] = v.trim();
  }
  return out;
}

/** The request body and the field errors, keyed by the form's field names. */
function validate(f: Form): { body: unknown; errors: Errors } {
  const errors: Errors = {};
  const name = nameSchema.safeParse(f.name);
  if (!name.success) errors.name = name.error.issues[0]!.message;
  const labels = labelsSchema.safeParse(parseLabels(f.labels));
  if (!labels.success) errors.labels = labels.error.issues[0]!.message;
  const pools = f.poolName.trim() ? [{ name: f.poolName.trim(), count: Number(f.poolCount) }] : [];
  const spec = clusterSpecSchema.safeParse({ provider: f.provider, region: f.region, mode: f.mode, k3sVersion: f.k3sVersion, instanceType: f.instanceType, nodePools: pools });
  if (!spec.success) {
    for (const issue of spec.error.issues) {
      const [top, , leaf] = issue.path.map(String);
      const key = top === 'nodePools' ? (leaf === 'count' ? 'poolCount' : 'poolName') : (top ?? 'spec');
      errors[key] ??= issue.message;
    }
  }
  return { body: spec.success ? { name: f.name, labels: labels.success ? labels.data : {}, spec: spec.data } : null, errors };
}

/** A server field path (`spec.nodePools.0.count`) → the form field that shows it. */
function formField(path: string): string {
  const parts = path.split('.');
  if (parts[0] === 'spec') parts.shift();
  if (parts[0] === 'nodePools') return parts[2] === 'count' ? 'poolCount' : 'poolName';
  return parts[0] ?? 'name';
}

/**
 * The server's plan for a valid form (POST ?dryRun=true: validated and planned, nothing
 * written), asked again a moment after the last keystroke.
 */
function useDryRun(body: unknown): { result: PlanResult } | { error: string } | null {
  const [plan, setPlan] = useState<{ result: PlanResult } | { error: string } | null>(null);
  const key = JSON.stringify(body);
  useEffect(() => {
    if (!body) {
      setPlan(null);
      return;
    }
    let current = true;
    const timer = setTimeout(() => {
      api<Cluster & { plan?: PlanResult }>('POST', '/api/v1/clusters?dryRun=true', body).then(
        (c) => current && setPlan(c.plan ? { result: c.plan } : null),
        (e: unknown) => current && setPlan({ error: message(e) }),
      );
    }, 300);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [key]);
  return plan;
}

export function CreateView() {
  const [form, setForm] = useState<Form>(INITIAL);
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const [serverErrors, setServerErrors] = useState<Errors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const { body, errors } = useMemo(() => validate(form), [form]);
  const plan = useDryRun(body);

  const set = (key: keyof Form) => (e: Event): void => {
    setForm({ ...form, [key]: (e.currentTarget as HTMLInputElement).value });
    setTouched({ ...touched, [key]: true });
    setServerErrors({});
  };
  const fieldError = (key: string): string | undefined => serverErrors[key] ?? (touched[key] ? errors[key] : undefined);
  const field = (key: keyof Form, label: string, input: preact.VNode) => (
    <Field id={`f-${key}`} label={label} error={fieldError(key)}>
      {input}
    </Field>
  );
  const submit = (e: Event): void => {
    e.preventDefault();
    setTouched(Object.fromEntries(Object.keys(form).map((k) => [k, true])));
    if (Object.keys(errors).length > 0 || !body) return;
    setBusy(true);
    setError(null);
    api<Cluster>('POST', '/api/v1/clusters', body)
      .then((c) => (location.hash = `#/clusters/${encodeURIComponent(c.name)}`))
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.errors.length) setServerErrors(Object.fromEntries(err.errors.map((x) => [formField(x.path), x.message])));
        // A taken name is about the name field, though the problem carries no field list.
        else if (err instanceof ApiError && err.code === 'NAME_TAKEN') setServerErrors({ name: err.message });
        setError(message(err));
      })
      .finally(() => setBusy(false));
  };

  return (
    <section aria-labelledby="create-title" class="create">
      <h1 id="create-title">New cluster</h1>
      <div class="two">
        <form onSubmit={submit} noValidate>
          {field('name', 'Name', <input value={form.name} onInput={set('name')} autocomplete="off" required />)}
          {field(
            'provider',
            'Provider',
            <select value={form.provider} onChange={set('provider')}>
              {PROVIDERS.map((p) => (
                <option key={p}>{p}</option>
              ))}
            </select>,
          )}
          {field('region', 'Region', <input value={form.region} onInput={set('region')} />)}
          {field(
            'mode',
            'Mode',
            <select value={form.mode} onChange={set('mode')}>
              {MODES.map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>,
          )}
          {field('k3sVersion', 'K3s version', <input value={form.k3sVersion} onInput={set('k3sVersion')} />)}
          {field('instanceType', 'Instance type', <input value={form.instanceType} onInput={set('instanceType')} />)}
          {field('poolName', 'Worker pool name', <input value={form.poolName} onInput={set('poolName')} />)}
          {field('poolCount', 'Worker pool nodes', <input type="number" min={0} max={100} value={form.poolCount} onInput={set('poolCount')} />)}
          {field('labels', 'Labels (key=value, comma-separated)', <input value={form.labels} onInput={set('labels')} />)}
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" disabled={busy}>
            Create cluster
          </button>
        </form>
        <aside aria-labelledby="preview-title">
          <h2 id="preview-title">Preview</h2>
          {body ? <pre data-testid="preview">{JSON.stringify(body, null, 2)}</pre> : <p>Fix the highlighted fields to see the spec that will be created.</p>}
          {plan && 'error' in plan && <p class="error">{plan.error}</p>}
          {plan && 'result' in plan && (
            <div data-testid="plan">
              <h3>Plan</h3>
              <ol>
                {plan.result.actions.map((a, i) => (
                  <li key={i}>
                    {a.kind}
                    {a.count && a.count > 1 ? ` ×${a.count}` : ''}
                    {a.pool ? ` (${a.pool})` : ''}: {a.reason}
                  </li>
                ))}
              </ol>
              <p>
                Cost: <strong data-testid="plan-cost">{costText(plan.result.cost.after)}</strong>
              </p>
            </div>
          )}
        </aside>
      </div>
    </section>
  );
}
