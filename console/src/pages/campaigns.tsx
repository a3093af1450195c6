import { api, unwrap } from '../api/client';
import type { Campaign } from '../api/types';
import { ErrorBox, Notice, formatDate, useLoad } from '../components/ui';
import { Link } from '../router';
import { useCan } from '../session';

export function CampaignsPage() {
  const canEdit = useCan('editor');
  const list = useLoad(
    async () =>
      (await unwrap(api.GET('/api/v1/campaigns', { params: { query: { limit: 200 } } }))) as unknown as {
        items: Campaign[];
      },
    [],
  );
  return (
    <section>
      <div className="page-head">
        <h1>Campaigns</h1>
        {canEdit && (
          <Link to="/campaigns/new" className="button">
            New campaign
          </Link>
        )}
      </div>
      <ErrorBox error={list.error} />
      {list.data?.items.length === 0 && <Notice>No campaigns yet.</Notice>}
      <div className="table-wrap" role="region" aria-label="Campaigns table" tabIndex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Style</th>
              <th scope="col">Status</th>
              <th scope="col">Google class</th>
              <th scope="col">Changed</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.items.map((c) => (
              <tr key={c.id}>
                <td>
                  <Link to={`/campaigns/${c.id}`}>{c.name}</Link>
                </td>
                <td>{c.passStyle}</td>
                <td>
                  <span className={c.status === 'active' ? 'badge ok' : 'badge'}>{c.status}</span>
                </td>
                <td>{c.google ? c.google.syncStatus : '—'}</td>
                <td>{formatDate(c.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
