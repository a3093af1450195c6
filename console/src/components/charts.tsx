import { useId } from 'react';

export interface Series {
  name: string;
  color: string;
  values: number[];
}

const W = 560;
const H = 180;
const PAD = { top: 10, right: 8, bottom: 24, left: 34 };

function niceMax(max: number): number {
  if (max <= 4) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s * 4 >= max) ?? magnitude * 10;
  return step * 4;
}

function shortDate(iso: string): string {
  const d = new Date(`${iso}T00:00:00Z`);
  return Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
}

/**
 * A chart of daily counts as bars (stacked) or lines, drawn by hand in SVG. The numbers are also
 * in a visually hidden table so screen readers get them too.
 */
export function DailyChart({
  title,
  dates,
  series,
  kind,
}: {
  title: string;
  dates: string[];
  series: Series[];
  kind: 'stacked' | 'lines';
}) {
  const id = useId();
  const n = Math.max(dates.length, 1);
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const totals = dates.map((_, i) =>
    kind === 'stacked'
      ? series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0)
      : Math.max(0, ...series.map((s) => s.values[i] ?? 0)),
  );
  const max = niceMax(Math.max(0, ...totals));
  const y = (v: number) => PAD.top + innerH - (v / max) * innerH;
  const slot = innerW / n;
  const ticks = [0, max / 4, max / 2, (3 * max) / 4, max];
  const labelEvery = Math.ceil(n / 6);
  const sum = series.map((s) => s.values.reduce((a, b) => a + b, 0));

  return (
    <figure className="chart" aria-labelledby={`${id}-title`}>
      <figcaption id={`${id}-title`}>
        <strong>{title}</strong>
        <span className="legend">
          {series.map((s, i) => (
            <span key={s.name}>
              <span className="swatch" style={{ background: s.color }} aria-hidden="true" /> {s.name}:{' '}
              {sum[i]}
            </span>
          ))}
        </span>
      </figcaption>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${title}, last ${dates.length} days`}
        preserveAspectRatio="none"
      >
        {ticks.map((t) => (
          <g key={t}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} className="grid" />
            <text x={PAD.left - 4} y={y(t) + 3} textAnchor="end" className="axis">
              {Number.isInteger(t) ? t : t.toFixed(1)}
            </text>
          </g>
        ))}
        {kind === 'stacked'
          ? dates.map((date, i) => {
              let base = 0;
              return series.map((s) => {
                const v = s.values[i] ?? 0;
                const top = y(base + v);
                const height = y(base) - top;
                base += v;
                return v > 0 ? (
                  <rect
                    key={`${date}-${s.name}`}
                    x={PAD.left + i * slot + slot * 0.15}
                    width={slot * 0.7}
                    y={top}
                    height={height}
                    fill={s.color}
                  >
                    <title>{`${shortDate(date)}: ${v} ${s.name}`}</title>
                  </rect>
                ) : null;
              });
            })
          : series.map((s) => (
              <polyline
                key={s.name}
                fill="none"
                stroke={s.color}
                strokeWidth={2}
                vectorEffect="non-scaling-stroke"
                points={dates
                  .map((_, i) => `${PAD.left + i * slot + slot / 2},${y(s.values[i] ?? 0)}`)
                  .join(' ')}
              />
            ))}
        {dates.map((date, i) =>
          i % labelEvery === 0 ? (
            <text
              key={date}
              x={PAD.left + i * slot + slot / 2}
              y={H - 6}
              textAnchor="middle"
              className="axis"
            >
              {shortDate(date)}
            </text>
          ) : null,
        )}
      </svg>
      <table className="sr-only">
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            {series.map((s) => (
              <th scope="col" key={s.name}>
                {s.name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {dates.map((date, i) => (
            <tr key={date}>
              <th scope="row">{date}</th>
              {series.map((s) => (
                <td key={s.name}>{s.values[i] ?? 0}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
