import { useEffect, useState, type FormEvent } from 'react';
import { api, unwrap } from '../api/client';
import type { CampaignStats, CampaignUpdate } from '../api/types';
import { DailyChart } from '../components/charts';
import { QrCode } from '../components/qr-code';
import { ErrorBox, Notice, SelectField, TextField, formatDate, useLoad } from '../components/ui';
import { Link } from '../router';
import { useCan } from '../session';

const APPLE = '#111827';
const GOOGLE = '#1a73e8';

export function CampaignPage({ campaignId }: { campaignId: string }) {
  const canEdit = useCan('editor');
  const campaign = useLoad(
    () => unwrap(api.GET('/api/v1/campaigns/{id}', { params: { path: { id: campaignId } } })),
    [campaignId],
  );
  const stats = useLoad(
    async () =>
      (await unwrap(
        api.GET('/api/v1/campaigns/{id}/stats', { params: { path: { id: campaignId } } }),
      )) as CampaignStats,
    [campaignId],
  );
  const updateId = new URLSearchParams(window.location.search).get('update');

  if (!campaign.data) return campaign.error ? <ErrorBox error={campaign.error} /> : <p>Loading…</p>;
  const c = campaign.data;
  const s = stats.data;
  return (
    <section>
      <div className="page-head">
        <h1>{c.name}</h1>
        <Link to={`/campaigns/${c.id}/design`} className="button">
          {canEdit && c.status === 'active' ? 'Edit design' : 'View design'}
        </Link>
      </div>
      <dl className="facts inline">
        <dt>Status</dt>
        <dd>
          <span className={c.status === 'active' ? 'badge ok' : 'badge'}>{c.status}</span>
        </dd>
        <dt>Style</dt>
        <dd>{c.passStyle}</dd>
        <dt>Google class</dt>
        <dd>
          {c.google ? (
            <>
              <span className={c.google.syncStatus === 'SYNCED' ? 'badge ok' : 'badge warn'}>
                {c.google.syncStatus}
              </span>
              {c.google.lastError && <span className="muted"> {c.google.lastError}</span>}
            </>
          ) : (
            'no Google issuer'
          )}
        </dd>
        <dt>Design version</dt>
        <dd>{c.contentVersion}</dd>
      </dl>
      {updateId && <UpdateProgress campaignId={c.id} updateId={updateId} />}
      <ErrorBox error={stats.error} />
      {s && (
        <ul className="tiles" aria-label="Totals">
          <li>
            <strong>{s.passes.total}</strong> passes
          </li>
          <li>
            <strong>{s.passes.apple}</strong> Apple
          </li>
          <li>
            <strong>{s.passes.google}</strong> Google
          </li>
          <li>
            <strong>{s.appleDevicesRegistered}</strong> devices
          </li>
          <li>
            <strong>{s.pushes.sent}</strong> pushes sent
          </li>
          <li>
            <strong>{s.pushes.failed}</strong> pushes failed
          </li>
        </ul>
      )}
      <Charts campaignId={c.id} />
      {c.status === 'active' && <TryIt campaignId={c.id} />}
      <Passes campaignId={c.id} canEdit={canEdit} onChange={stats.reload} />
      <DeviceLogs campaignId={c.id} />
    </section>
  );
}

function Charts({ campaignId }: { campaignId: string }) {
  const daily = useLoad(
    () =>
      unwrap(
        api.GET('/api/v1/campaigns/{id}/stats/daily', {
          params: { path: { id: campaignId }, query: { days: 30 } },
        }),
      ),
    [campaignId],
  );
  if (daily.error) return <ErrorBox error={daily.error} />;
  if (!daily.data) return <p className="muted">Loading charts…</p>;
  const days = daily.data.days;
  const dates = days.map((d) => d.date);
  return (
    <div className="charts" data-testid="charts">
      <h2>Last 30 days</h2>
      <DailyChart
        title="Passes issued"
        kind="stacked"
        dates={dates}
        series={[
          { name: 'Apple', color: APPLE, values: days.map((d) => d.passesIssued.APPLE) },
          { name: 'Google', color: GOOGLE, values: days.map((d) => d.passesIssued.GOOGLE) },
        ]}
      />
      <DailyChart
        title="Apple devices"
        kind="lines"
        dates={dates}
        series={[
          { name: 'Registered', color: '#188038', values: days.map((d) => d.devicesRegistered) },
          { name: 'Removed', color: '#b3261e', values: days.map((d) => d.devicesRemoved) },
        ]}
      />
      <DailyChart
        title="Pushes"
        kind="stacked"
        dates={dates}
        series={[
          { name: 'Sent', color: '#188038', values: days.map((d) => d.pushesSent) },
          { name: 'Failed', color: '#b3261e', values: days.map((d) => d.pushesFailed) },
        ]}
      />
    </div>
  );
}

function UpdateProgress({ campaignId, updateId }: { campaignId: string; updateId: string }) {
  const [update, setUpdate] = useState<CampaignUpdate | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const u = await unwrap(
          api.GET('/api/v1/campaigns/{id}/updates/{updateId}', {
            params: { path: { id: campaignId, updateId } },
          }),
        );
        if (stop) return;
        setUpdate(u);
        if (u.status !== 'DONE' && u.status !== 'COALESCED') timer = setTimeout(() => void poll(), 1000);
      } catch (err) {
        if (!stop) setError(err);
      }
    };
    void poll();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [campaignId, updateId]);
  if (error) return <ErrorBox error={error} />;
  if (!update) return null;
  const total = update.total ?? 0;
  return (
    <div className="card" aria-live="polite">
      <h2>Publishing the change</h2>
      <p>
        {update.status === 'DONE'
          ? `Done: ${update.sent} pushes sent, ${update.failed} failed.`
          : update.status === 'COALESCED'
            ? 'Folded into a newer change.'
            : update.total === null
              ? 'Counting the devices to notify…'
              : `${update.done} of ${total} devices notified (${update.failed} failed).`}
      </p>
      <progress
        max={Math.max(total, 1)}
        value={update.status === 'DONE' ? Math.max(total, 1) : update.done}
        aria-label="Update progress"
      />
    </div>
  );
}

function TryIt({ campaignId }: { campaignId: string }) {
  const [platform, setPlatform] = useState<'APPLE' | 'GOOGLE'>('APPLE');
  const [contactId, setContactId] = useState('test-1');
  const [firstName, setFirstName] = useState('Ada');
  const [voucherCode, setVoucherCode] = useState('TEST-001');
  const [link, setLink] = useState<{ url: string; platform: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const { url } = await unwrap(
        api.POST('/api/v1/campaigns/{id}/test-links', {
          params: { path: { id: campaignId } },
          body: { platform, contact: { id: contactId, firstName }, voucher: { code: voucherCode } },
        }),
      );
      setLink({ url, platform });
    } catch (err) {
      setError(err);
    }
  };
  return (
    <div className="card try-it">
      <h2>Try it on a phone</h2>
      <form onSubmit={(e) => void submit(e)} className="try-form">
        <SelectField
          label="Platform"
          value={platform}
          options={[
            { value: 'APPLE', label: 'Apple Wallet' },
            { value: 'GOOGLE', label: 'Google Wallet' },
          ]}
          onChange={(e) => setPlatform(e.target.value as 'APPLE' | 'GOOGLE')}
        />
        <TextField
          label="Contact id"
          required
          value={contactId}
          onChange={(e) => setContactId(e.target.value)}
        />
        <TextField label="First name" value={firstName} onChange={(e) => setFirstName(e.target.value)} />
        <TextField
          label="Voucher code"
          value={voucherCode}
          onChange={(e) => setVoucherCode(e.target.value)}
        />
        <button type="submit">Get test link</button>
      </form>
      <ErrorBox error={error} />
      {link && (
        <div className="test-link" data-testid="test-link">
          <QrCode value={link.url} label="QR code of the test link" />
          <div>
            <p>Scan with the phone’s camera, or open:</p>
            <p>
              <a href={link.url} className="break">
                {link.url}
              </a>
            </p>
            {link.platform === 'APPLE' && (
              <p>
                <a className="button secondary" href={link.url} download="pass.pkpass">
                  Download .pkpass
                </a>
              </p>
            )}
          </div>
        </div>
      )}
    </div>
  );
}

function Passes({
  campaignId,
  canEdit,
  onChange,
}: {
  campaignId: string;
  canEdit: boolean;
  onChange: () => void;
}) {
  const [q, setQ] = useState('');
  const [query, setQuery] = useState('');
  const list = useLoad(
    () =>
      unwrap(
        api.GET('/api/v1/campaigns/{id}/passes', {
          params: { path: { id: campaignId }, query: { limit: 20, ...(query ? { q: query } : {}) } },
        }),
      ),
    [campaignId, query],
  );
  const [selected, setSelected] = useState<string | null>(null);
  return (
    <div className="card">
      <h2>Passes</h2>
      <form
        role="search"
        className="search"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(q.trim());
        }}
      >
        <TextField
          label="Find a pass"
          hint="Serial number, voucher code or contact id"
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
        <button type="submit">Search</button>
      </form>
      <ErrorBox error={list.error} />
      {list.data && (
        <p className="muted">
          {list.data.total} pass{list.data.total === 1 ? '' : 'es'}
          {query ? ` matching “${query}”` : ''}
        </p>
      )}
      <div className="table-wrap" role="region" aria-label="Passes table" tabIndex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">Serial</th>
              <th scope="col">Voucher / contact</th>
              <th scope="col">Platforms</th>
              <th scope="col">Devices</th>
              <th scope="col">Changed</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.items.map((p) => (
              <tr key={p.serialNumber}>
                <td>
                  <button type="button" className="link" onClick={() => setSelected(p.serialNumber)}>
                    {p.serialNumber}
                  </button>
                  {p.voided && <span className="badge warn">voided</span>}
                </td>
                <td>{passIdentity(p.data)}</td>
                <td>{p.platforms.join(', ') || '—'}</td>
                <td>{p.registeredDevices}</td>
                <td>{formatDate(p.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {selected && (
        <PassDetail
          campaignId={campaignId}
          serial={selected}
          canEdit={canEdit}
          onVoided={() => {
            list.reload();
            onChange();
          }}
        />
      )}
    </div>
  );
}

function PassDetail({
  campaignId,
  serial,
  canEdit,
  onVoided,
}: {
  campaignId: string;
  serial: string;
  canEdit: boolean;
  onVoided: () => void;
}) {
  const pass = useLoad(
    () =>
      unwrap(
        api.GET('/api/v1/campaigns/{id}/passes/{serialNumber}', {
          params: { path: { id: campaignId, serialNumber: serial } },
        }),
      ),
    [campaignId, serial],
  );
  const [error, setError] = useState<unknown>(null);
  const voidPass = async () => {
    if (!window.confirm(`Void pass ${serial}? It shows as void on the phone and cannot be used.`)) return;
    setError(null);
    try {
      await unwrap(
        api.POST('/api/v1/campaigns/{id}/passes/{serialNumber}/void', {
          params: { path: { id: campaignId, serialNumber: serial } },
        }),
      );
      pass.reload();
      onVoided();
    } catch (err) {
      setError(err);
    }
  };
  const p = pass.data;
  return (
    <div className="pass-detail" aria-label={`Pass ${serial}`} role="region">
      <h3>Pass {serial}</h3>
      <ErrorBox error={pass.error ?? error} />
      {p && (
        <>
          <dl className="facts">
            <dt>Platforms</dt>
            <dd>{p.platforms.join(', ') || 'not added to a wallet yet'}</dd>
            <dt>Apple devices</dt>
            <dd>{p.registeredDevices}</dd>
            <dt>Last push</dt>
            <dd>
              {p.lastPush
                ? `${formatDate(p.lastPush.at)}: ${p.lastPush.sent} sent, ${p.lastPush.failed} failed` +
                  (p.lastPush.scope === 'CAMPAIGN' ? ' (campaign-wide update)' : '')
                : '—'}
            </dd>
            <dt>Google object</dt>
            <dd>{p.googleObjectId ?? '—'}</dd>
            <dt>Status</dt>
            <dd>{p.voided ? 'voided' : 'valid'}</dd>
            <dt>Contact</dt>
            <dd>
              <code>{JSON.stringify(p.data.contact)}</code>
            </dd>
            <dt>Voucher</dt>
            <dd>
              <code>{JSON.stringify(p.data.voucher)}</code>
            </dd>
          </dl>
          {canEdit && !p.voided && (
            <button type="button" className="danger" onClick={() => void voidPass()}>
              Void pass
            </button>
          )}
        </>
      )}
    </div>
  );
}

function DeviceLogs({ campaignId }: { campaignId: string }) {
  const logs = useLoad(
    () =>
      unwrap(
        api.GET('/api/v1/campaigns/{id}/device-logs', {
          params: { path: { id: campaignId }, query: { limit: 50 } },
        }),
      ),
    [campaignId],
  );
  return (
    <div className="card">
      <h2>Device log messages</h2>
      <p className="hint">
        What Apple Wallet reported about this campaign’s passes (errors it met fetching them).
      </p>
      {logs.error ? (
        <ErrorBox error={logs.error} />
      ) : logs.data && logs.data.items.length === 0 ? (
        <Notice>No messages.</Notice>
      ) : (
        <ul className="logs">
          {logs.data?.items.map((l, i) => (
            <li key={i}>
              <time>{formatDate(l.createdAt)}</time> <code>{l.serialNumber}</code> {l.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function passIdentity(data: {
  contact?: Record<string, unknown>;
  voucher?: Record<string, unknown>;
}): string {
  const code = data.voucher?.code;
  const contact = data.contact?.id;
  return [typeof code === 'string' ? code : null, typeof contact === 'string' ? contact : null]
    .filter(Boolean)
    .join(' / ');
}
