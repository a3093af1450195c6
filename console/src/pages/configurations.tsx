import { useState, type FormEvent } from 'react';
import { api, ApiError, request, unwrap } from '../api/client';
import { appleCredentialsFromP12 } from '../api/pkcs12';
import type { WalletConfiguration } from '../api/types';
import { ErrorBox, Notice, TextField, formatDate, useLoad } from '../components/ui';
import { useCan } from '../session';

const DAY_MS = 24 * 3600 * 1000;

function daysLeft(apple: NonNullable<WalletConfiguration['apple']>): number | null {
  if (typeof apple.daysLeft === 'number') return apple.daysLeft;
  const end = Date.parse(apple.expiresAt ?? apple.certificateExpiresAt);
  return Number.isNaN(end) ? null : Math.floor((end - Date.now()) / DAY_MS);
}

export function ConfigurationsPage() {
  const isAdmin = useCan('admin');
  const list = useLoad(
    () => unwrap(api.GET('/api/v1/wallet-configurations', { params: { query: { limit: 200 } } })),
    [],
  );
  const [editing, setEditing] = useState<WalletConfiguration | 'new' | null>(null);

  return (
    <section>
      <div className="page-head">
        <h1>Wallet configurations</h1>
        {isAdmin && editing === null && (
          <button type="button" onClick={() => setEditing('new')}>
            New configuration
          </button>
        )}
      </div>
      <p>The Apple certificate and the Google service account that sign and write a tenant’s passes.</p>
      <ErrorBox error={list.error} />
      {editing !== null && (
        <ConfigurationForm
          existing={editing === 'new' ? null : editing}
          onDone={() => {
            setEditing(null);
            list.reload();
          }}
          onCancel={() => setEditing(null)}
        />
      )}
      {list.data && list.data.items.length === 0 && editing === null && (
        <Notice>
          No configuration yet. {isAdmin ? 'Create one from your .p12 file.' : 'Ask an admin to add one.'}
        </Notice>
      )}
      <ul className="cards">
        {list.data?.items.map((c) => (
          <li key={c.id} className="card">
            <ConfigurationCard config={c} />
            {isAdmin && (
              <button type="button" className="secondary small" onClick={() => setEditing(c)}>
                Replace credentials
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

function ConfigurationCard({ config }: { config: WalletConfiguration }) {
  const apple = config.apple;
  const left = apple ? daysLeft(apple) : null;
  const warnings = [...(config.warnings ?? []), ...(apple?.warnings ?? [])];
  return (
    <>
      <h2>{config.name}</h2>
      <dl className="facts">
        <dt>Apple pass type id</dt>
        <dd>{apple ? <code>{apple.passTypeIdentifier}</code> : 'not configured'}</dd>
        {apple && (
          <>
            <dt>Team id</dt>
            <dd>
              <code>{apple.teamIdentifier}</code>
            </dd>
            <dt>Certificate expires</dt>
            <dd>
              {formatDate(apple.expiresAt ?? apple.certificateExpiresAt)}
              {left !== null && (
                <span className={left < 30 ? 'badge warn' : 'badge'}>
                  {left < 0 ? 'expired' : `${left} days left`}
                </span>
              )}
            </dd>
            <dt>APNs</dt>
            <dd>
              <span className={apple.apnsStatus === 'OK' ? 'badge ok' : 'badge warn'}>
                {apple.apnsStatus}
              </span>
              {apple.apnsError && <span className="muted"> {apple.apnsError}</span>}
            </dd>
          </>
        )}
        <dt>Google issuer</dt>
        <dd>{config.google ? <code>{config.google.issuerId}</code> : 'not configured'}</dd>
        {config.google && (
          <>
            <dt>Service account</dt>
            <dd>{config.google.clientEmail}</dd>
          </>
        )}
      </dl>
      {left !== null && left < 30 && (
        <Notice tone="warn">
          The Apple certificate {left < 0 ? 'has expired' : `expires in ${left} days`}: renew it in the Apple
          developer portal and replace it here.
        </Notice>
      )}
      {warnings.map((w) => (
        <Notice key={w} tone="warn">
          {w}
        </Notice>
      ))}
    </>
  );
}

function ConfigurationForm({
  existing,
  onDone,
  onCancel,
}: {
  existing: WalletConfiguration | null;
  onDone: () => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(existing?.name ?? '');
  const [p12, setP12] = useState<File | null>(null);
  const [p12Password, setP12Password] = useState('');
  const [wwdr, setWwdr] = useState<File | null>(null);
  const [issuerId, setIssuerId] = useState(existing?.google?.issuerId ?? '');
  const [serviceAccount, setServiceAccount] = useState<File | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const body: Record<string, unknown> = { name };
      if (p12) body.apple = await appleCredentialsFromP12(p12, p12Password, wwdr);
      if (serviceAccount) {
        let key: unknown;
        try {
          key = JSON.parse(await serviceAccount.text());
        } catch {
          throw new ApiError(400, 'VALIDATION_FAILED', 'The service-account file is not JSON', [
            { field: 'google.serviceAccountKey', message: 'is not a JSON file' },
          ]);
        }
        body.google = { issuerId, serviceAccountKey: key };
      }
      if (existing) await request('PATCH', `/api/v1/wallet-configurations/${existing.id}`, body);
      else await request('POST', '/api/v1/wallet-configurations', body);
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const fieldError = (f: string) => (error instanceof ApiError ? error.fieldMessage(f) : undefined);

  return (
    <form className="card" onSubmit={(e) => void submit(e)} aria-label="Wallet configuration">
      <h2>{existing ? `Replace credentials of ${existing.name}` : 'New wallet configuration'}</h2>
      <TextField
        label="Name"
        required
        maxLength={200}
        value={name}
        error={fieldError('name')}
        onChange={(e) => setName(e.target.value)}
      />
      <fieldset>
        <legend>Apple Wallet</legend>
        <TextField
          label="Pass Type ID certificate (.p12)"
          type="file"
          accept=".p12,.pfx,application/x-pkcs12"
          required={!existing}
          hint="Export the certificate with its private key from Keychain Access as a .p12 file."
          error={
            fieldError('apple.p12') ??
            fieldError('apple.certificatePem') ??
            fieldError('apple.privateKeyPem') ??
            fieldError('apple')
          }
          onChange={(e) => setP12(e.target.files?.[0] ?? null)}
        />
        <TextField
          label=".p12 password"
          type="password"
          autoComplete="off"
          value={p12Password}
          error={fieldError('apple.p12Password')}
          onChange={(e) => setP12Password(e.target.value)}
        />
        <TextField
          label="Apple WWDR certificate (only if the .p12 lacks it)"
          type="file"
          accept=".cer,.pem,.crt"
          hint="AppleWWDRCAG4.cer from apple.com/certificateauthority; the .p12 opens in your browser, only its contents are sent."
          error={fieldError('apple.wwdrCertificatePem')}
          onChange={(e) => setWwdr(e.target.files?.[0] ?? null)}
        />
      </fieldset>
      <fieldset>
        <legend>Google Wallet (optional)</legend>
        <TextField
          label="Issuer id"
          inputMode="numeric"
          pattern="[0-9]{1,25}"
          required={serviceAccount !== null}
          value={issuerId}
          error={fieldError('google.issuerId')}
          onChange={(e) => setIssuerId(e.target.value)}
        />
        <TextField
          label="Service-account key (.json)"
          type="file"
          accept=".json,application/json"
          error={fieldError('google.serviceAccountKey') ?? fieldError('google')}
          onChange={(e) => setServiceAccount(e.target.files?.[0] ?? null)}
        />
      </fieldset>
      {existing && (
        <p className="hint">
          Passes keep working during the change: the new credentials are checked first and replace the old
          ones in one step. Files you leave empty keep their current credentials.
        </p>
      )}
      <ErrorBox error={error} />
      <div className="actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : existing ? 'Replace credentials' : 'Create configuration'}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
