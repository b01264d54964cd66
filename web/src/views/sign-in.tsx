// Sign-in: the pasted token goes to POST /api/v1/session once and is forgotten; the browser
// keeps only the HttpOnly cookie the server sets.
import { useState } from 'preact/hooks';
import { ApiError, api, message } from '../api.ts';
import type { Me } from '../types.ts';

export function SignIn({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = (e: Event): void => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    api<Me>('POST', '/api/v1/session', { token })
      .then((me) => {
        setToken('');
        onSignedIn(me);
      })
      .catch((err: unknown) => setError(err instanceof ApiError ? (err.field('token') ? `Token ${err.field('token')}` : err.message) : message(err)))
      .finally(() => setBusy(false));
  };
  return (
    <main class="sign-in">
      <h1>Sign in to goman</h1>
      <form onSubmit={submit}>
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          aria-describedby={error ? 'token-error' : 'token-help'}
          aria-invalid={error ? true : undefined}
          required
        />
        <p id="token-help" class="help">
          Paste a token from <code>goman token create</code>. It is exchanged for a session cookie and not stored.
        </p>
        {error && (
          <p id="token-error" class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || token.trim() === ''}>
          Sign in
        </button>
      </form>
    </main>
  );
}
