import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, setCsrfToken, setUnauthorizedHandler, unwrap } from './api/client';
import type { SessionInfo } from './api/types';
import { Link, navigate, usePath } from './router';
import { SessionContext, useSession, type SessionContextValue } from './session';
import { AccountPage } from './pages/account';
import { ApiKeysPage } from './pages/api-keys';
import { CampaignDesignerPage } from './pages/campaign-designer';
import { CampaignPage } from './pages/campaign';
import { CampaignsPage } from './pages/campaigns';
import { ConfigurationsPage } from './pages/configurations';
import { SignInPage } from './pages/sign-in';
import { UsersPage } from './pages/users';

const SIGNED_IN = 'wallet-console:signed-in';

export function App() {
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);

  const adopt = useCallback((s: SessionInfo | null) => {
    setCsrfToken(s?.csrfToken ?? null);
    if (s) localStorage.setItem(SIGNED_IN, '1');
    else localStorage.removeItem(SIGNED_IN);
    setSession(s);
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(() => adopt(null));
    // The cookie is HttpOnly: this flag only spares a visitor who never signed in a 401 on load.
    if (localStorage.getItem(SIGNED_IN) === null) adopt(null);
    else unwrap(api.GET('/api/v1/auth/me')).then(adopt, () => adopt(null));
  }, [adopt]);

  const value = useMemo<SessionContextValue | null>(
    () =>
      session
        ? {
            session,
            signOut: async () => {
              try {
                await unwrap(api.POST('/api/v1/auth/logout'));
              } finally {
                adopt(null);
                navigate('/', true);
              }
            },
          }
        : null,
    [session, adopt],
  );

  if (session === undefined) {
    return (
      <main className="center" aria-busy="true">
        <p>Loading…</p>
      </main>
    );
  }
  if (!value) return <SignInPage onSignedIn={adopt} />;
  return (
    <SessionContext.Provider value={value}>
      <Shell />
    </SessionContext.Provider>
  );
}

function Shell() {
  const path = usePath();
  const { session, signOut } = useSession();
  const isAdmin = session.user.role === 'admin';
  const nav: Array<[string, string]> = [
    ['/', 'Campaigns'],
    ['/configurations', 'Wallet configurations'],
    ...(isAdmin
      ? ([
          ['/users', 'Users'],
          ['/api-keys', 'API keys'],
        ] as Array<[string, string]>)
      : []),
    ['/account', 'Account'],
  ];
  const section = (to: string) =>
    to === '/' ? path === '/' || path.startsWith('/campaigns') : path.startsWith(to);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand">
          <span aria-hidden="true" className="brand-mark">
            ◧
          </span>{' '}
          {session.tenant.name}
        </div>
        <nav aria-label="Main">
          <ul>
            {nav.map(([to, label]) => (
              <li key={to}>
                <Link to={to} aria-current={section(to) ? 'page' : undefined}>
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span>
            {session.user.email} <span className="badge">{session.user.role}</span>
          </span>
          <button type="button" className="secondary small" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Route path={path} />
      </main>
    </>
  );
}

function Route({ path }: { path: string }) {
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 0) return <CampaignsPage />;
  const [first, second, third] = parts;
  switch (first) {
    case 'campaigns':
      if (second === 'new') return <CampaignDesignerPage />;
      if (second && third === 'design') return <CampaignDesignerPage campaignId={second} />;
      if (second) return <CampaignPage campaignId={second} />;
      return <CampaignsPage />;
    case 'configurations':
      return <ConfigurationsPage />;
    case 'users':
      return <UsersPage />;
    case 'api-keys':
      return <ApiKeysPage />;
    case 'account':
      return <AccountPage />;
    case undefined:
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            Nothing lives at this address. <Link to="/">Back to campaigns</Link>
          </p>
        </section>
      );
  }
}
