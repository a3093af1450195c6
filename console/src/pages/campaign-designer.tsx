import { useEffect, useMemo, useRef, useState, type DragEvent, type FormEvent } from 'react';
import { api, ApiError, unwrap } from '../api/client';
import type {
  BarcodeFormat,
  Campaign,
  CampaignTemplate,
  Impact,
  PassStyle,
  PreviewResult,
  SampleData,
  TemplateField,
  WalletConfiguration,
} from '../api/types';
import { PreviewPanel } from '../components/pass-preview';
import { TokenPicker } from '../components/token-picker';
import {
  Dialog,
  ErrorBox,
  Notice,
  SelectField,
  TextField,
  readBase64,
  sameOriginAsset,
  useLoad,
} from '../components/ui';
import { navigate } from '../router';
import { useCan } from '../session';

type Group = 'headerFields' | 'primaryFields' | 'secondaryFields' | 'auxiliaryFields' | 'backFields';
type ImageName = 'icon' | 'logo' | 'strip' | 'thumbnail' | 'background' | 'footer';

const GROUPS: ReadonlyArray<{ group: Group; label: string; max: number }> = [
  { group: 'headerFields', label: 'Header fields', max: 3 },
  { group: 'primaryFields', label: 'Primary fields', max: 3 },
  { group: 'secondaryFields', label: 'Secondary fields', max: 4 },
  { group: 'auxiliaryFields', label: 'Auxiliary fields', max: 5 },
  { group: 'backFields', label: 'Back of the pass', max: 50 },
];

const STYLES: ReadonlyArray<{ value: PassStyle; label: string }> = [
  { value: 'coupon', label: 'Coupon (Google: offer)' },
  { value: 'storeCard', label: 'Store card (Google: loyalty)' },
  { value: 'eventTicket', label: 'Event ticket' },
  { value: 'generic', label: 'Generic' },
];

const BARCODES: ReadonlyArray<{ value: BarcodeFormat | ''; label: string }> = [
  { value: 'QR', label: 'QR code' },
  { value: 'PDF417', label: 'PDF417' },
  { value: 'AZTEC', label: 'Aztec' },
  { value: 'CODE128', label: 'Code 128' },
  { value: '', label: 'No barcode' },
];

/** Apple's sizes in points; the @3x pixels are what to upload for sharp passes. */
const IMAGES: ReadonlyArray<{ name: ImageName; label: string; guide: string; styles: PassStyle[] | 'all' }> =
  [
    { name: 'icon', label: 'Icon', guide: '29×29 pt — upload 87×87 px', styles: 'all' },
    { name: 'logo', label: 'Logo', guide: 'up to 160×50 pt — upload up to 480×150 px', styles: 'all' },
    {
      name: 'strip',
      label: 'Strip',
      guide: '375×123 pt — upload 1125×369 px',
      styles: ['coupon', 'storeCard'],
    },
    {
      name: 'thumbnail',
      label: 'Thumbnail',
      guide: '90×90 pt — upload 270×270 px',
      styles: ['eventTicket', 'generic'],
    },
    {
      name: 'background',
      label: 'Background',
      guide: '180×220 pt — upload 540×660 px',
      styles: ['eventTicket'],
    },
  ];

const MAX_IMAGE_BYTES = 1024 * 1024;

function emptyTemplate(): CampaignTemplate {
  return {
    organizationName: '',
    description: '',
    logoText: '',
    backgroundColor: '#1E88E5',
    foregroundColor: '#FFFFFF',
    labelColor: '#E3F2FD',
    headerFields: [{ key: 'value', label: 'Value', value: '{{voucher.value|10%}}' }],
    primaryFields: [{ key: 'offer', label: 'Offer', value: '{{voucher.title|Welcome offer}}' }],
    secondaryFields: [{ key: 'name', label: 'For', value: '{{contact.firstName|there}}' }],
    auxiliaryFields: [],
    backFields: [{ key: 'terms', label: 'Terms', value: 'One voucher per customer.' }],
    barcode: { format: 'QR', message: '{{voucher.code}}', altText: '{{voucher.code}}' },
  };
}

const DEFAULT_SAMPLE: SampleData = {
  contact: { id: 'c-1', firstName: 'Ada', lastName: 'Lovelace' },
  voucher: { code: 'SUMMER-001', title: '10% off everything', value: '10%' },
};

interface ImageState {
  /** base64 of a new image to upload; null removes a stored one. */
  upload?: string | null;
  /** What the preview shows: a data: URL or the stored image's URL. */
  src?: string;
  info?: string;
  error?: string;
}

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return debounced;
}

function cleanTemplate(t: CampaignTemplate): CampaignTemplate {
  const out: CampaignTemplate = { ...t };
  if (!out.logoText) delete out.logoText;
  if (out.barcode && !out.barcode.altText)
    out.barcode = { format: out.barcode.format, message: out.barcode.message };
  return out;
}

function luminance(hex: string): number | null {
  const m = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!m?.[1]) return null;
  const channel = (i: number) => {
    const c = parseInt(m[1]!.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
}

/** WCAG contrast ratio of two #rrggbb colours (1 to 21). */
function contrast(a: string | undefined, b: string | undefined): number | null {
  const la = a ? luminance(a) : null;
  const lb = b ? luminance(b) : null;
  if (la === null || lb === null) return null;
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

function pngSize(bytes: Uint8Array): { width: number; height: number } | null {
  const signature = [137, 80, 78, 71, 13, 10, 26, 10];
  if (bytes.length < 24 || signature.some((b, i) => bytes[i] !== b)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

export function CampaignDesignerPage({ campaignId }: { campaignId?: string }) {
  const canEdit = useCan('editor');
  const configs = useLoad(
    () => unwrap(api.GET('/api/v1/wallet-configurations', { params: { query: { limit: 200 } } })),
    [],
  );
  const existing = useLoad(
    async () =>
      campaignId ? unwrap(api.GET('/api/v1/campaigns/{id}', { params: { path: { id: campaignId } } })) : null,
    [campaignId],
  );
  if (campaignId && !existing.data) {
    return existing.error ? <ErrorBox error={existing.error} /> : <p>Loading…</p>;
  }
  const configItems = (configs.data?.items ?? []) as WalletConfiguration[];
  if (!configs.data) return configs.error ? <ErrorBox error={configs.error} /> : <p>Loading…</p>;
  return (
    <Designer
      key={campaignId ?? 'new'}
      campaign={existing.data ?? null}
      configurations={configItems}
      readOnly={!canEdit}
    />
  );
}

function Designer({
  campaign,
  configurations,
  readOnly,
}: {
  campaign: Campaign | null;
  configurations: WalletConfiguration[];
  readOnly: boolean;
}) {
  const [name, setName] = useState(campaign?.name ?? '');
  const [configId, setConfigId] = useState(campaign?.walletConfigurationId ?? configurations[0]?.id ?? '');
  const [passStyle, setPassStyle] = useState<PassStyle>(campaign?.passStyle ?? 'coupon');
  const [template, setTemplate] = useState<CampaignTemplate>(() => {
    const t = campaign?.template ?? emptyTemplate();
    return { ...emptyTemplate(), ...t, logoText: t.logoText ?? '' };
  });
  const [images, setImages] = useState<Partial<Record<ImageName, ImageState>>>(() =>
    Object.fromEntries(
      Object.entries(campaign?.images ?? {}).map(([k, url]) => [k, { src: sameOriginAsset(String(url)) }]),
    ),
  );
  const [sample, setSample] = useState<SampleData>(DEFAULT_SAMPLE);
  const [preview, setPreview] = useState<PreviewResult | undefined>(undefined);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const [error, setError] = useState<unknown>(null);
  const [impact, setImpact] = useState<Impact | null>(null);
  const [saving, setSaving] = useState(false);

  const previewInput = useDebounced({ passStyle, template, configId, sample }, 250);
  const sequence = useRef(0);
  useEffect(() => {
    const seq = ++sequence.current;
    unwrap(
      api.POST('/api/v1/campaigns/preview', {
        body: {
          passStyle: previewInput.passStyle,
          template: cleanTemplate(previewInput.template),
          ...(previewInput.configId ? { walletConfigurationId: previewInput.configId } : {}),
          sample: previewInput.sample,
        },
      }),
    ).then(
      (p) => {
        if (seq !== sequence.current) return;
        setPreview(p);
        setPreviewError(null);
      },
      (e: unknown) => {
        if (seq === sequence.current) setPreviewError(e);
      },
    );
  }, [previewInput]);

  const tokens = useMemo(() => {
    const t = new Set<string>();
    for (const k of Object.keys(sample.contact)) t.add(`contact.${k}`);
    for (const k of Object.keys(sample.voucher)) t.add(`voucher.${k}`);
    [
      'contact.id',
      'contact.firstName',
      'contact.lastName',
      'contact.email',
      'voucher.code',
      'voucher.title',
      'voucher.value',
    ].forEach((x) => t.add(x));
    return [...t];
  }, [sample]);

  const setT = <K extends keyof CampaignTemplate>(k: K, v: CampaignTemplate[K]) =>
    setTemplate((t) => ({ ...t, [k]: v }));
  const setFields = (group: Group, update: (list: TemplateField[]) => TemplateField[]) =>
    setTemplate((t) => ({ ...t, [group]: update(t[group] ?? []) }));

  const imagesForPreview = Object.fromEntries(
    Object.entries(images).flatMap(([k, v]) => (v?.src ? [[k, v.src]] : [])),
  ) as Partial<Record<string, string>>;

  const addImage = async (name: ImageName, file: File) => {
    const bytes = new Uint8Array(await file.slice(0, 32).arrayBuffer());
    const size = pngSize(bytes);
    if (!size) {
      setImages((s) => ({ ...s, [name]: { ...s[name], error: `${file.name} is not a PNG image` } }));
      return;
    }
    if (file.size > MAX_IMAGE_BYTES) {
      setImages((s) => ({ ...s, [name]: { ...s[name], error: `${file.name} is larger than 1 MB` } }));
      return;
    }
    const b64 = await readBase64(file);
    setImages((s) => ({
      ...s,
      [name]: {
        upload: b64,
        src: `data:image/png;base64,${b64}`,
        info: `${file.name}: ${size.width}×${size.height} px, ${Math.ceil(file.size / 1024)} KB`,
      },
    }));
  };

  const save = async (confirmed: boolean) => {
    setError(null);
    const body = { name, template: cleanTemplate(template) };
    const imageBody = Object.fromEntries(
      Object.entries(images).flatMap(([k, v]) => (v && v.upload !== undefined ? [[k, v.upload]] : [])),
    );
    setSaving(true);
    try {
      if (!campaign) {
        const created = await unwrap(
          api.POST('/api/v1/campaigns', {
            body: {
              ...body,
              walletConfigurationId: configId,
              passStyle,
              ...(Object.keys(imageBody).length > 0 ? { images: imageBody as Record<string, string> } : {}),
            },
          }),
        );
        navigate(`/campaigns/${created.id}`);
        return;
      }
      if (campaign.status === 'active' && !confirmed) {
        setImpact(
          await unwrap(api.GET('/api/v1/campaigns/{id}/impact', { params: { path: { id: campaign.id } } })),
        );
        return;
      }
      const updated = await unwrap(
        api.PATCH('/api/v1/campaigns/{id}', {
          params: { path: { id: campaign.id } },
          body: { ...body, ...(Object.keys(imageBody).length > 0 ? { images: imageBody } : {}) },
        }),
      );
      setImpact(null);
      navigate(`/campaigns/${campaign.id}${updated.updateId ? `?update=${updated.updateId}` : ''}`);
    } catch (err) {
      setImpact(null);
      setError(err);
      if (err instanceof ApiError) {
        setImages((s) => {
          const next = { ...s };
          for (const n of Object.keys(next) as ImageName[]) {
            const message = err.fieldMessage(`images.${n}`);
            if (message) next[n] = { ...next[n], error: message };
          }
          return next;
        });
      }
    } finally {
      setSaving(false);
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save(false);
  };
  const fieldError = (f: string) => (error instanceof ApiError ? error.fieldMessage(f) : undefined);

  return (
    <section>
      <h1>{campaign ? `Design: ${campaign.name}` : 'New campaign'}</h1>
      {readOnly && <Notice>You can look at the design; your role (viewer) cannot change it.</Notice>}
      {configurations.length === 0 && (
        <Notice tone="warn">Create a wallet configuration first: campaigns sign passes with it.</Notice>
      )}
      <div className="designer">
        <form className="designer-form" onSubmit={submit} aria-label="Campaign design">
          <fieldset disabled={readOnly}>
            <legend>Campaign</legend>
            <TextField
              label="Campaign name"
              required
              value={name}
              error={fieldError('name')}
              onChange={(e) => setName(e.target.value)}
            />
            <SelectField
              label="Wallet configuration"
              value={configId}
              disabled={campaign !== null}
              options={configurations.map((c) => ({ value: c.id, label: c.name }))}
              onChange={(e) => setConfigId(e.target.value)}
            />
            <SelectField
              label="Pass style"
              value={passStyle}
              disabled={campaign !== null}
              options={STYLES}
              onChange={(e) => setPassStyle(e.target.value as PassStyle)}
            />
          </fieldset>
          <fieldset disabled={readOnly}>
            <legend>Look</legend>
            <TextField
              label="Organization name"
              required
              value={template.organizationName}
              error={fieldError('template.organizationName')}
              onChange={(e) => setT('organizationName', e.target.value)}
            />
            <TextField
              label="Description"
              required
              hint="Read by VoiceOver and shown in notifications."
              value={template.description}
              error={fieldError('template.description')}
              onChange={(e) => setT('description', e.target.value)}
            />
            <TextField
              label="Logo text"
              value={template.logoText ?? ''}
              onChange={(e) => setT('logoText', e.target.value)}
            />
            <div className="colors">
              {(
                [
                  ['backgroundColor', 'Background'],
                  ['foregroundColor', 'Text'],
                  ['labelColor', 'Labels'],
                ] as const
              ).map(([k, label]) => (
                <TextField
                  key={k}
                  label={`${label} colour`}
                  type="color"
                  value={template[k] ?? '#000000'}
                  onChange={(e) => setT(k, e.target.value.toUpperCase())}
                />
              ))}
            </div>
            {(contrast(template.foregroundColor, template.backgroundColor) ?? 21) < 4.5 && (
              <Notice tone="warn">
                Text and background contrast is{' '}
                {contrast(template.foregroundColor, template.backgroundColor)?.toFixed(1)}:1 — below 4.5:1,
                the pass is hard to read for many people.
              </Notice>
            )}
          </fieldset>
          {GROUPS.map(({ group, label, max }) => (
            <FieldGroupEditor
              key={group}
              prefix={group.replace('Fields', '')}
              label={label}
              max={max}
              fields={template[group] ?? []}
              tokens={tokens}
              readOnly={readOnly}
              errorFor={(i) => fieldError(`template.${group}[${i}]`)}
              onChange={(update) => setFields(group, update)}
            />
          ))}
          <fieldset disabled={readOnly}>
            <legend>Barcode</legend>
            <SelectField
              label="Barcode format"
              value={template.barcode?.format ?? ''}
              options={BARCODES}
              onChange={(e) =>
                setT(
                  'barcode',
                  e.target.value === ''
                    ? undefined
                    : {
                        format: e.target.value as BarcodeFormat,
                        message: template.barcode?.message ?? '{{voucher.code}}',
                        altText: template.barcode?.altText,
                      },
                )
              }
            />
            {template.barcode && (
              <>
                <TextField
                  label="Barcode message"
                  required
                  value={template.barcode.message}
                  error={fieldError('template.barcode')}
                  onChange={(e) =>
                    template.barcode && setT('barcode', { ...template.barcode, message: e.target.value })
                  }
                />
                <TextField
                  label="Text under the barcode"
                  value={template.barcode.altText ?? ''}
                  onChange={(e) =>
                    template.barcode && setT('barcode', { ...template.barcode, altText: e.target.value })
                  }
                />
              </>
            )}
          </fieldset>
          <fieldset disabled={readOnly}>
            <legend>Images</legend>
            <p className="hint">PNG, at most 1 MB each. Drop a file on a box or choose one.</p>
            <div className="image-drops">
              {IMAGES.filter((i) => i.styles === 'all' || i.styles.includes(passStyle)).map((img) => (
                <ImageDrop
                  key={img.name}
                  label={img.label}
                  guide={img.guide}
                  state={images[img.name]}
                  onFile={(f) => void addImage(img.name, f)}
                  onRemove={() =>
                    setImages((s) => ({ ...s, [img.name]: { upload: campaign ? null : undefined } }))
                  }
                />
              ))}
            </div>
          </fieldset>
          <ErrorBox error={error} />
          {!readOnly && (
            <div className="actions sticky-actions">
              <button type="submit" disabled={saving || configurations.length === 0}>
                {saving ? 'Saving…' : campaign ? 'Save changes' : 'Create campaign'}
              </button>
              {campaign && (
                <button
                  type="button"
                  className="secondary"
                  onClick={() => navigate(`/campaigns/${campaign.id}`)}
                >
                  Cancel
                </button>
              )}
            </div>
          )}
        </form>
        <aside className="designer-preview" aria-label="Live preview">
          <h2>Preview</h2>
          <SampleEditor sample={sample} onChange={setSample} />
          <div aria-live="polite" className="preview-status">
            {previewError ? <ErrorBox error={previewError} /> : null}
          </div>
          <PreviewPanel preview={preview} images={imagesForPreview} />
        </aside>
      </div>
      <Dialog title="Publish this change?" open={impact !== null} onClose={() => setImpact(null)}>
        {impact && (
          <>
            <p data-testid="impact">
              Saving updates <strong>{impact.passes}</strong> issued passes:{' '}
              <strong>{impact.appleDevices}</strong> Apple devices get a push and{' '}
              <strong>{impact.googlePasses}</strong> Google passes are patched.
            </p>
            <div className="actions">
              <button type="button" disabled={saving} onClick={() => void save(true)}>
                Publish to {impact.passes} passes
              </button>
              <button type="button" className="secondary" onClick={() => setImpact(null)}>
                Keep editing
              </button>
            </div>
          </>
        )}
      </Dialog>
    </section>
  );
}

function FieldGroupEditor({
  prefix,
  label,
  max,
  fields,
  tokens,
  readOnly,
  errorFor,
  onChange,
}: {
  prefix: string;
  label: string;
  max: number;
  fields: TemplateField[];
  tokens: string[];
  readOnly: boolean;
  errorFor: (i: number) => string | undefined;
  onChange: (update: (list: TemplateField[]) => TemplateField[]) => void;
}) {
  const set = (i: number, patch: Partial<TemplateField>) =>
    onChange((list) => list.map((f, j) => (j === i ? { ...f, ...patch } : f)));
  const move = (i: number, by: number) =>
    onChange((list) => {
      const next = [...list];
      const [item] = next.splice(i, 1);
      if (item) next.splice(i + by, 0, item);
      return next;
    });
  return (
    <fieldset disabled={readOnly} className="field-group">
      <legend>{label}</legend>
      {fields.length === 0 && <p className="hint">None.</p>}
      <ol>
        {fields.map((f, i) => {
          const name = `${label} ${i + 1}`;
          return (
            <li key={i} className="template-field">
              <div className="field-row">
                <TextField
                  label={`${name}: label`}
                  value={f.label ?? ''}
                  onChange={(e) => set(i, { label: e.target.value })}
                />
                <TextField
                  label={`${name}: value`}
                  value={f.value}
                  error={errorFor(i)}
                  onChange={(e) => set(i, { value: e.target.value })}
                />
              </div>
              <div className="field-tools">
                <TokenPicker
                  tokens={tokens}
                  fieldLabel={name}
                  onInsert={(t) => set(i, { value: f.value + t })}
                />
                <button
                  type="button"
                  className="secondary small"
                  aria-label={`Move ${name} up`}
                  disabled={i === 0}
                  onClick={() => move(i, -1)}
                >
                  ↑
                </button>
                <button
                  type="button"
                  className="secondary small"
                  aria-label={`Move ${name} down`}
                  disabled={i === fields.length - 1}
                  onClick={() => move(i, 1)}
                >
                  ↓
                </button>
                <button
                  type="button"
                  className="danger small"
                  aria-label={`Remove ${name}`}
                  onClick={() => onChange((list) => list.filter((_, j) => j !== i))}
                >
                  Remove
                </button>
              </div>
            </li>
          );
        })}
      </ol>
      {fields.length < max && (
        <button
          type="button"
          className="secondary small"
          onClick={() =>
            onChange((list) => {
              const keys = new Set(list.map((f) => f.key));
              let n = list.length + 1;
              while (keys.has(`${prefix}${n}`)) n++;
              return [...list, { key: `${prefix}${n}`, label: '', value: '' }];
            })
          }
        >
          Add to {label.toLowerCase()}
        </button>
      )}
    </fieldset>
  );
}

function ImageDrop({
  label,
  guide,
  state,
  onFile,
  onRemove,
}: {
  label: string;
  guide: string;
  state: ImageState | undefined;
  onFile: (f: File) => void;
  onRemove: () => void;
}) {
  const [over, setOver] = useState(false);
  const inputId = `image-${label.toLowerCase()}`;
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const file = e.dataTransfer.files[0];
    if (file) onFile(file);
  };
  return (
    <div
      className={`image-drop${over ? ' over' : ''}`}
      data-testid={`drop-${label.toLowerCase()}`}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <label htmlFor={inputId}>{label}</label>
      <span className="hint">{guide}</span>
      {state?.src && <img src={state.src} alt={`${label} image`} />}
      <input
        id={inputId}
        type="file"
        accept="image/png"
        onChange={(e) => {
          const f = e.target.files?.[0];
          if (f) onFile(f);
          e.target.value = '';
        }}
      />
      {state?.info && <span className="hint">{state.info}</span>}
      {state?.error && (
        <span className="field-error" role="alert">
          {state.error}
        </span>
      )}
      {state?.src && (
        <button type="button" className="secondary small" onClick={onRemove}>
          Remove {label.toLowerCase()}
        </button>
      )}
    </div>
  );
}

function SampleEditor({ sample, onChange }: { sample: SampleData; onChange: (s: SampleData) => void }) {
  const part = (which: 'contact' | 'voucher', title: string) => (
    <fieldset className="sample">
      <legend>{title}</legend>
      {Object.entries(sample[which]).map(([k, v]) => (
        <TextField
          key={k}
          label={`${which}.${k}`}
          value={v}
          onChange={(e) => onChange({ ...sample, [which]: { ...sample[which], [k]: e.target.value } })}
        />
      ))}
    </fieldset>
  );
  return (
    <details className="sample-editor" open>
      <summary>Sample data</summary>
      <div className="sample-grid">
        {part('contact', 'Sample contact')}
        {part('voucher', 'Sample voucher')}
      </div>
    </details>
  );
}
