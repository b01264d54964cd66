// The recipe explorer: pick service, accelerator, intent and OS; see the components with
// their versions, the constraints a node must meet and the deployment order; download the
// Helm bundle (POST /v1/bundle) for exactly what is shown.
import { useEffect, useState } from 'preact/hooks';
import { api, message, request } from '../api.ts';
import { Field } from '../format.tsx';
import { ACCELERATORS, INTENTS, OSES, SERVICES } from '../../../src/nodeconfig/constants.ts';
import type { RecipeResult } from '../../../src/nodeconfig/types.ts';

const CRITERIA = { service: SERVICES, accelerator: ACCELERATORS, intent: INTENTS, os: OSES } as const;
type Criteria = Record<keyof typeof CRITERIA, string>;

export function RecipeView() {
  const [criteria, setCriteria] = useState<Criteria>({ service: 'eks', accelerator: 'h100', intent: 'training', os: 'ubuntu' });
  const [recipe, setRecipe] = useState<RecipeResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const q = new URLSearchParams(criteria).toString();
    api<RecipeResult>('GET', `/v1/recipe?${q}`).then(
      (r) => {
        setRecipe(r);
        setError(null);
      },
      (e: unknown) => setError(message(e)),
    );
  }, [criteria]);
  const download = (): void => {
    request('POST', '/v1/bundle', criteria)
      .then(async (res) => {
        const url = URL.createObjectURL(await res.blob());
        const a = document.createElement('a');
        a.href = url;
        a.download = `goman-bundle-${criteria.service}-${criteria.accelerator}.zip`;
        a.click();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      })
      .catch((e: unknown) => setError(message(e)));
  };
  return (
    <section aria-labelledby="recipes-title">
      <h1 id="recipes-title">Node configuration recipes</h1>
      <form class="filters" aria-label="recipe criteria" onSubmit={(e) => e.preventDefault()}>
        {(Object.keys(CRITERIA) as (keyof typeof CRITERIA)[]).map((k) => (
          <Field key={k} id={`recipe-${k}`} label={k}>
            <select value={criteria[k]} onChange={(e) => setCriteria({ ...criteria, [k]: e.currentTarget.value })}>
              {CRITERIA[k].map((v) => (
                <option key={v}>{v}</option>
              ))}
            </select>
          </Field>
        ))}
        <button type="button" onClick={download}>
          Download Helm bundle
        </button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {recipe && (
        <>
          <p>Overlays applied: {recipe.metadata.appliedOverlays.join(', ') || 'none'}</p>
          <h2>Components</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Component</th>
                <th scope="col">Version</th>
                <th scope="col">Chart</th>
                <th scope="col">Repository</th>
              </tr>
            </thead>
            <tbody>
              {recipe.components.map((c) => (
                <tr key={c.name}>
                  <td>{c.name}</td>
                  <td>{c.version}</td>
                  <td>{c.source.chart}</td>
                  <td>{c.source.repository}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Constraints</h2>
          <ul>
            {recipe.constraints.map((c) => (
              <li key={c.name}>
                <code>
                  {c.name} {c.operator} {c.value}
                </code>
              </li>
            ))}
          </ul>
          <h2>Deployment order</h2>
          <ol>
            {recipe.deploymentOrder.map((n) => (
              <li key={n}>{n}</li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
