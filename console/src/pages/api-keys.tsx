import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../api/client';
import type { ApiKey, Page } from '../api/types';
import { ErrorBox, Notice, TextField, formatDate, useLoad } from '../components/ui';
import { useSession } from '../session';

export function ApiKeysPage() {
  const { session } = useSession();
  const keys = useLoad(
    async () =>
      (await unwrap(
        api.GET('/api/v1/api-keys', { params: { query: { limit: 200 } } }),
      )) as unknown as Page<ApiKey>,
    [],
  );
  const [name, setName] = useState('');
  const [created, setCreated] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  if (session.user.role !== 'admin') return <p>Only admins manage API keys.</p>;

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const key = await unwrap(api.POST('/api/v1/api-keys', { body: { name } }));
      setCreated((key as unknown as { apiKey: string }).apiKey);
      setName('');
      keys.reload();
    } catch (err) {
      setError(err);
    }
  };
  const revoke = async (key: ApiKey) => {
    if (!window.confirm(`Revoke "${key.name ?? key.prefix}"? Systems using it stop working at once.`)) return;
    setError(null);
    try {
      await unwrap(api.DELETE('/api/v1/api-keys/{id}', { params: { path: { id: key.id } } }));
      keys.reload();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section>
      <h1>API keys</h1>
      <p>Keys are for machines (the email personalisation service, scripts). People sign in instead.</p>
      <ErrorBox error={keys.error ?? error} />
      {created && (
        <Notice tone="ok">
          New key (shown once — copy it now): <code className="secret">{created}</code>
        </Notice>
      )}
      <div className="table-wrap" role="region" aria-label="API keys table" tabIndex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Prefix</th>
              <th scope="col">Created</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(keys.data?.items ?? []).map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td>
                <td>
                  <code>{k.prefix}</code>
                </td>
                <td>{formatDate(k.createdAt)}</td>
                <td>{k.revokedAt ? `revoked ${formatDate(k.revokedAt)}` : 'active'}</td>
                <td>
                  {!k.revokedAt && (
                    <button
                      type="button"
                      className="danger small"
                      aria-label={`Revoke ${k.name ?? k.prefix ?? 'key'}`}
                      onClick={() => void revoke(k)}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form className="card narrow" onSubmit={(e) => void create(e)}>
        <h2>Create a key</h2>
        <TextField
          label="Name"
          required
          maxLength={200}
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <button type="submit">Create key</button>
      </form>
    </section>
  );
}
