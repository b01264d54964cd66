// Admin: API tokens (create: the secret is shown once, here, and never again; list; revoke)
// and the registered controllers with their heartbeat age.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, message } from '../api.ts';
import { Field, age } from '../format.tsx';
import type { TokenRecord } from '../types.ts';

interface Controller {
  name: string;
  providers: string[];
  required: boolean;
  registeredAt: string;
  lastHeartbeat: string;
}

export function AdminView() {
  const [tokens, setTokens] = useState<TokenRecord[]>([]);
  const [controllers, setControllers] = useState<Controller[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [subject, setSubject] = useState('');
  const [role, setRole] = useState('user');
  const [expiresIn, setExpiresIn] = useState('30d');
  const [secret, setSecret] = useState<string | null>(null);
  const reload = (): void => {
    api<{ items: TokenRecord[] }>('GET', '/api/v1/tokens').then((r) => setTokens(r.items), (e: unknown) => setError(message(e)));
    api<{ items: Controller[] }>('GET', '/api/v1/controllers').then((r) => setControllers(r.items), (e: unknown) => setError(message(e)));
  };
  useEffect(reload, []);
  const create = (e: Event): void => {
    e.preventDefault();
    setError(null);
    api<TokenRecord & { token: string }>('POST', '/api/v1/tokens', { subject, role, ...(expiresIn ? { expiresIn } : {}) }).then(
      (t) => {
        setSecret(t.token);
        setSubject('');
        reload();
      },
      (err: unknown) => setError(err instanceof ApiError && err.errors.length ? err.errors.map((x) => `${x.path} ${x.message}`).join('; ') : message(err)),
    );
  };
  const revoke = (id: string): void => {
    api('DELETE', `/api/v1/tokens/${id}`).then(reload, (e: unknown) => setError(message(e)));
  };
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">Admin</h1>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <h2>Tokens</h2>
      <form class="filters" aria-label="create a token" onSubmit={create}>
        <Field id="token-subject" label="Subject">
          <input value={subject} onInput={(e) => setSubject(e.currentTarget.value)} required />
        </Field>
        <Field id="token-role" label="Role">
          <select value={role} onChange={(e) => setRole(e.currentTarget.value)}>
            <option>user</option>
            <option>controller</option>
            <option>admin</option>
          </select>
        </Field>
        <Field id="token-expires" label="Expires in">
          <input value={expiresIn} placeholder="30d (empty: never)" onInput={(e) => setExpiresIn(e.currentTarget.value)} />
        </Field>
        <button type="submit">Create token</button>
      </form>
      {secret && (
        <div class="notice" role="status">
          <label>
            New token (shown only now; copy it)
            <input readOnly value={secret} data-testid="new-token" onFocus={(e) => e.currentTarget.select()} />
          </label>
          <button type="button" onClick={() => setSecret(null)}>
            Done
          </button>
        </div>
      )}
      <table>
        <thead>
          <tr>
            <th scope="col">Subject</th>
            <th scope="col">Role</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {tokens.map((t) => (
            <tr key={t.id}>
              <td>{t.subject}</td>
              <td>{t.role}</td>
              <td>{age(t.createdAt)} ago</td>
              <td>{t.expiresAt ? new Date(t.expiresAt).toLocaleString() : 'never'}</td>
              <td>
                <button type="button" class="destructive" onClick={() => revoke(t.id)} aria-label={`Revoke the token of ${t.subject}`}>
                  Revoke
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Controllers</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Providers</th>
            <th scope="col">Required</th>
            <th scope="col">Registered</th>
            <th scope="col">Heartbeat age</th>
          </tr>
        </thead>
        <tbody>
          {controllers.map((c) => (
            <tr key={c.name}>
              <td>{c.name}</td>
              <td>{c.providers.join(', ')}</td>
              <td>{c.required ? 'yes' : 'no'}</td>
              <td>{new Date(c.registeredAt).toLocaleString()}</td>
              <td>{age(c.lastHeartbeat)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
