import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../api/client';
import type { Role } from '../api/types';
import { ErrorBox, SelectField, TextField, formatDate, useLoad } from '../components/ui';
import { useSession } from '../session';

const ROLES: ReadonlyArray<{ value: Role; label: string }> = [
  { value: 'viewer', label: 'Viewer — reads everything' },
  { value: 'editor', label: 'Editor — changes campaigns and passes' },
  { value: 'admin', label: 'Admin — also configurations, users, keys' },
];

export function UsersPage() {
  const { session } = useSession();
  const users = useLoad(async () => (await unwrap(api.GET('/api/v1/users'))).items, []);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('editor');
  const [error, setError] = useState<unknown>(null);

  if (session.user.role !== 'admin') return <p>Only admins manage users.</p>;

  const add = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await unwrap(api.POST('/api/v1/users', { body: { email, password, role } }));
      setEmail('');
      setPassword('');
      users.reload();
    } catch (err) {
      setError(err);
    }
  };
  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      users.reload();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section>
      <h1>Users</h1>
      <ErrorBox error={users.error ?? error} />
      <div className="table-wrap" role="region" aria-label="Users table" tabIndex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Added</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(users.data ?? []).map((u) => (
              <tr key={u.id}>
                <td>{u.email}</td>
                <td>
                  <label className="sr-only" htmlFor={`role-${u.id}`}>
                    Role of {u.email}
                  </label>
                  <select
                    id={`role-${u.id}`}
                    value={u.role}
                    disabled={u.id === session.user.id}
                    onChange={(e) =>
                      void act(() =>
                        unwrap(
                          api.PATCH('/api/v1/users/{id}', {
                            params: { path: { id: u.id } },
                            body: { role: e.target.value as Role },
                          }),
                        ),
                      )
                    }
                  >
                    {ROLES.map((r) => (
                      <option key={r.value} value={r.value}>
                        {r.value}
                      </option>
                    ))}
                  </select>
                </td>
                <td>{formatDate(u.createdAt)}</td>
                <td>
                  {u.id !== session.user.id && (
                    <button
                      type="button"
                      className="danger small"
                      aria-label={`Remove ${u.email}`}
                      onClick={() => {
                        if (window.confirm(`Remove ${u.email}? Their sessions end at once.`)) {
                          void act(() =>
                            unwrap(api.DELETE('/api/v1/users/{id}', { params: { path: { id: u.id } } })),
                          );
                        }
                      }}
                    >
                      Remove
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form className="card narrow" onSubmit={(e) => void add(e)}>
        <h2>Add a user</h2>
        <TextField
          label="Email"
          type="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
        <TextField
          label="Initial password"
          type="password"
          autoComplete="new-password"
          required
          minLength={10}
          hint="Tell them to change it after signing in."
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <SelectField
          label="Role"
          options={ROLES}
          value={role}
          onChange={(e) => setRole(e.target.value as Role)}
        />
        <button type="submit">Add user</button>
      </form>
    </section>
  );
}
