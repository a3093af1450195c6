import { useState, type FormEvent } from 'react';
import { api, csrfHeader, unwrap } from '../api/client';
import { ErrorBox, Notice, TextField } from '../components/ui';
import { useSession } from '../session';

export function AccountPage() {
  const { session } = useSession();
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setDone(false);
    try {
      await unwrap(
        api.POST('/api/v1/auth/password', {
          params: { header: csrfHeader() },
          body: { currentPassword, newPassword },
        }),
      );
      setDone(true);
      setCurrent('');
      setNew('');
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section>
      <h1>Account</h1>
      <p>
        Signed in as <strong>{session.user.email}</strong> ({session.user.role}) in {session.tenant.name}.
      </p>
      <form className="card narrow" onSubmit={(e) => void submit(e)}>
        <h2>Change password</h2>
        <TextField
          label="Current password"
          type="password"
          autoComplete="current-password"
          required
          value={currentPassword}
          onChange={(e) => setCurrent(e.target.value)}
        />
        <TextField
          label="New password"
          type="password"
          autoComplete="new-password"
          required
          minLength={10}
          hint="At least 10 characters."
          value={newPassword}
          onChange={(e) => setNew(e.target.value)}
        />
        <ErrorBox error={error} />
        {done && <Notice tone="ok">Password changed.</Notice>}
        <button type="submit">Change password</button>
      </form>
    </section>
  );
}
