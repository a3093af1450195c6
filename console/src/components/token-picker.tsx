import { useId, useState } from 'react';

/** Suggests `{{contact.*}}` / `{{voucher.*}}` tokens (with an optional default) to insert into a value. */
export function TokenPicker({
  tokens,
  fieldLabel,
  onInsert,
}: {
  tokens: string[];
  fieldLabel: string;
  onInsert: (token: string) => void;
}) {
  const id = useId();
  const [open, setOpen] = useState(false);
  const [token, setToken] = useState(tokens[0] ?? 'contact.firstName');
  const [fallback, setFallback] = useState('');
  if (!open) {
    return (
      <button
        type="button"
        className="secondary small"
        aria-label={`Insert a token into ${fieldLabel}`}
        onClick={() => setOpen(true)}
      >
        {'{{ }}'}
      </button>
    );
  }
  return (
    <div className="token-picker" role="group" aria-label={`Token for ${fieldLabel}`}>
      <label htmlFor={`${id}-t`}>Token</label>
      <select id={`${id}-t`} value={token} onChange={(e) => setToken(e.target.value)}>
        {tokens.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
      </select>
      <label htmlFor={`${id}-d`}>Default when empty</label>
      <input
        id={`${id}-d`}
        value={fallback}
        placeholder="e.g. there"
        onChange={(e) => setFallback(e.target.value)}
      />
      <button
        type="button"
        className="small"
        onClick={() => {
          onInsert(`{{${token}${fallback ? `|${fallback}` : ''}}}`);
          setOpen(false);
          setFallback('');
        }}
      >
        Insert
      </button>
      <button type="button" className="secondary small" onClick={() => setOpen(false)}>
        Cancel
      </button>
    </div>
  );
}
