// The console's shell: who is signed in, navigation (hash routes, so the server serves one
// page), the unreachable banner, and the live fleet shared by every view.
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, message, onReachability, request, setReachable, whenSignedOut } from './api.ts';
import { Fleet } from './fleet.ts';
import type { Me } from './types.ts';
import { AdminView } from './views/admin.tsx';
import { ClusterView } from './views/cluster.tsx';
import { CreateView } from './views/create.tsx';
import { FleetView } from './views/fleet.tsx';
import { RecipeView } from './views/recipes.tsx';
import { SignIn } from './views/sign-in.tsx';
import './styles.css';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = (): void => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function useReachable(): boolean {
  const [up, setUp] = useState(true);
  useEffect(() => onReachability(setUp), []);
  useEffect(() => {
    if (up) return;
    // While the server is away, knock on /healthz; the fleet's watch reconnects by itself.
    const timer = setInterval(() => {
      fetch('/healthz').then((r) => r.ok && setReachable(true), () => {});
    }, 1000);
    return () => clearInterval(timer);
  }, [up]);
  return up;
}

function Banner() {
  return (
    <div class="banner" role="alert">
      The goman server is unreachable. Reconnecting…
    </div>
  );
}

function Shell({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const hash = useHash();
  const fleet = useMemo(() => new Fleet(), []);
  useEffect(() => {
    fleet.start();
    const off = onReachability((up) => up && fleet.wake());
    return () => {
      off();
      fleet.stop();
    };
  }, [fleet]);
  const route = hash.replace(/^#\/?/, '');
  const clusterRef = /^clusters\/([^/]+)$/.exec(route)?.[1];
  let view;
  if (clusterRef) view = <ClusterView fleet={fleet} idOrName={decodeURIComponent(clusterRef)} me={me} />;
  else if (route === 'new') view = <CreateView />;
  else if (route === 'recipes') view = <RecipeView />;
  else if (route === 'admin' && me.role === 'admin') view = <AdminView />;
  else view = <FleetView fleet={fleet} />;
  const nav = (href: string, label: string, active: boolean) => (
    <a href={href} aria-current={active ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <>
      <header class="top">
        <a class="brand" href="#/">
          goman
        </a>
        <nav aria-label="main">
          {nav('#/', 'Fleet', route === '' || !!clusterRef)}
          {nav('#/new', 'New cluster', route === 'new')}
          {nav('#/recipes', 'Recipes', route === 'recipes')}
          {me.role === 'admin' && nav('#/admin', 'Admin', route === 'admin')}
        </nav>
        <div class="me">
          <span data-testid="whoami">
            {me.subject} <span class="role">({me.role})</span>
          </span>
          {me.via === 'session' && (
            <button type="button" onClick={onSignOut}>
              Sign out
            </button>
          )}
        </div>
      </header>
      <main>{view}</main>
    </>
  );
}

function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const up = useReachable();
  useEffect(() => {
    whenSignedOut(() => setMe(null));
    api<Me>('GET', '/api/v1/whoami').then(setMe, (e: unknown) => {
      setMe(null);
      if (!(e instanceof Error && 'status' in e)) setError(message(e));
    });
  }, []);
  const signOut = (): void => {
    request('DELETE', '/api/v1/session').then(
      () => setMe(null),
      (e: unknown) => setError(message(e)),
    );
  };
  return (
    <>
      {!up && <Banner />}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {me === undefined ? <p class="loading">Loading…</p> : me === null ? <SignIn onSignedIn={setMe} /> : <Shell me={me} onSignOut={signOut} />}
    </>
  );
}

render(<App />, document.getElementById('app')!);
