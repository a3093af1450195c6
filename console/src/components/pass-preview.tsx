import { useState, type CSSProperties } from 'react';
import type { BarcodeFormat, PreviewResult } from '../api/types';
import { QrCode } from './qr-code';
import { sameOriginAsset } from './ui';

type Json = Record<string, unknown>;
interface AppleField {
  key: string;
  label?: string;
  value: string;
}

const APPLE_STYLES = ['coupon', 'storeCard', 'eventTicket', 'generic', 'boardingPass'] as const;

function fields(structure: Json | undefined, group: string): AppleField[] {
  const list = structure?.[group];
  return Array.isArray(list) ? (list as AppleField[]) : [];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function FieldList({ items, className }: { items: AppleField[]; className: string }) {
  if (items.length === 0) return null;
  return (
    <dl className={className}>
      {items.map((f) => (
        <div key={f.key}>
          <dt className="pass-label">{f.label ?? ''}</dt>
          <dd>{String(f.value)}</dd>
        </div>
      ))}
    </dl>
  );
}

function Barcode({ format, message, altText }: { format: string; message: string; altText?: string }) {
  const qr = format === 'QR' || format.endsWith('QR') || format === 'QR_CODE';
  return (
    <div className="pass-barcode">
      {qr ? (
        <QrCode value={message || ' '} label={`Barcode: ${message}`} size={110} />
      ) : (
        <div
          className={`barcode-placeholder ${format.toLowerCase()}`}
          role="img"
          aria-label={`${format} barcode: ${message}`}
        />
      )}
      {altText && <div className="pass-alt">{altText}</div>}
    </div>
  );
}

/** The Apple pass as Wallet lays it out, from the pass.json the preview endpoint rendered. */
export function ApplePassPreview({
  passJson,
  images,
}: {
  passJson: Json;
  images: Partial<Record<string, string>>;
}) {
  const [side, setSide] = useState<'front' | 'back'>('front');
  const style = APPLE_STYLES.find((s) => passJson[s] !== undefined) ?? 'generic';
  const structure = passJson[style] as Json | undefined;
  const barcodes = Array.isArray(passJson.barcodes) ? (passJson.barcodes as Json[]) : [];
  const barcode = barcodes[0];
  const colors = {
    background: str(passJson.backgroundColor) ?? 'rgb(255, 255, 255)',
    foreground: str(passJson.foregroundColor) ?? 'rgb(0, 0, 0)',
    label: str(passJson.labelColor) ?? str(passJson.foregroundColor) ?? 'rgb(90, 90, 90)',
  };
  const strip = style === 'coupon' || style === 'storeCard' ? images.strip : undefined;
  const thumbnail = style === 'generic' || style === 'eventTicket' ? images.thumbnail : undefined;
  return (
    <figure className="pass-preview">
      <figcaption>
        Apple Wallet
        <span className="segmented" role="group" aria-label="Apple pass side">
          <button type="button" aria-pressed={side === 'front'} onClick={() => setSide('front')}>
            Front
          </button>
          <button type="button" aria-pressed={side === 'back'} onClick={() => setSide('back')}>
            Back
          </button>
        </span>
      </figcaption>
      <div
        className={`apple-pass apple-${style}`}
        data-testid="apple-pass"
        style={
          {
            background: colors.background,
            color: colors.foreground,
            '--pass-label': colors.label,
          } as CSSProperties
        }
      >
        {side === 'front' ? (
          <>
            <div className="pass-header">
              {images.logo ? <img className="pass-logo" src={images.logo} alt="" /> : null}
              <span className="pass-logo-text">{str(passJson.logoText)}</span>
              <FieldList items={fields(structure, 'headerFields')} className="pass-header-fields" />
            </div>
            <div className="pass-primary-area">
              {strip && <img className="pass-strip" src={strip} alt="" />}
              <FieldList items={fields(structure, 'primaryFields')} className="pass-primary" />
              {thumbnail && <img className="pass-thumbnail" src={thumbnail} alt="" />}
            </div>
            <FieldList items={fields(structure, 'secondaryFields')} className="pass-row" />
            <FieldList items={fields(structure, 'auxiliaryFields')} className="pass-row" />
            {barcode && (
              <Barcode
                format={str(barcode.format) ?? 'QR'}
                message={str(barcode.message) ?? ''}
                altText={str(barcode.altText)}
              />
            )}
          </>
        ) : (
          <div className="pass-back" data-testid="apple-pass-back">
            <FieldList items={fields(structure, 'backFields')} className="pass-back-fields" />
            {fields(structure, 'backFields').length === 0 && <p>No back fields.</p>}
            <p className="pass-label">{str(passJson.organizationName)}</p>
          </div>
        )}
      </div>
    </figure>
  );
}

function localized(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  const d = (v as { defaultValue?: { value?: unknown } } | undefined)?.defaultValue?.value;
  return typeof d === 'string' ? d : undefined;
}

function imageUri(v: unknown): string | undefined {
  const uri = str((v as { sourceUri?: { uri?: unknown } } | undefined)?.sourceUri?.uri);
  return uri === undefined ? undefined : sameOriginAsset(uri);
}

/** The Google Wallet pass from the class and object the preview endpoint built. */
export function GooglePassPreview({
  classResource,
  objectResource,
  images,
}: {
  classResource: Json;
  objectResource: Json;
  images: Partial<Record<string, string>>;
}) {
  const background =
    str(objectResource.hexBackgroundColor) ?? str(classResource.hexBackgroundColor) ?? '#4285f4';
  const logo =
    images.logo ??
    imageUri(objectResource.logo) ??
    imageUri(classResource.logo) ??
    imageUri(classResource.titleImage) ??
    imageUri(classResource.programLogo);
  const hero = images.strip ?? imageUri(objectResource.heroImage) ?? imageUri(classResource.heroImage);
  const issuer =
    localized(objectResource.cardTitle) ?? str(classResource.provider) ?? str(classResource.issuerName);
  const title =
    localized(objectResource.header) ??
    str(classResource.title) ??
    str(classResource.programName) ??
    localized(classResource.eventName) ??
    '';
  const subheader = localized(objectResource.subheader);
  const modules = Array.isArray(objectResource.textModulesData)
    ? (objectResource.textModulesData as Array<{ id?: string; header?: string; body?: string }>)
    : [];
  const barcode = objectResource.barcode as
    { type?: string; value?: string; alternateText?: string } | undefined;
  return (
    <figure className="pass-preview">
      <figcaption>Google Wallet</figcaption>
      <div className="google-pass" data-testid="google-pass" style={{ background }}>
        <div className="google-top">
          {logo && <img className="google-logo" src={logo} alt="" />}
          <span>{issuer}</span>
        </div>
        {subheader && <div className="google-subheader">{subheader}</div>}
        <div className="google-title">{title}</div>
        <dl className="google-modules">
          {modules.map((m, i) => (
            <div key={m.id ?? i}>
              <dt>{m.header ?? ''}</dt>
              <dd>{m.body}</dd>
            </div>
          ))}
        </dl>
        {barcode?.value && (
          <Barcode
            format={barcode.type ?? 'QR_CODE'}
            message={barcode.value}
            altText={barcode.alternateText}
          />
        )}
        {hero && <img className="google-hero" src={hero} alt="" />}
      </div>
    </figure>
  );
}

export function PreviewPanel({
  preview,
  images,
}: {
  preview: PreviewResult | undefined;
  images: Partial<Record<string, string>>;
}) {
  if (!preview) return <p className="muted">Preparing the preview…</p>;
  return (
    <div className="previews">
      {preview.apple ? (
        <ApplePassPreview passJson={preview.apple.passJson} images={images} />
      ) : (
        <p className="muted">No Apple preview: the configuration has no Apple certificate.</p>
      )}
      {preview.google ? (
        <GooglePassPreview
          classResource={preview.google.classResource}
          objectResource={preview.google.objectResource}
          images={images}
        />
      ) : (
        <p className="muted">No Google preview: the configuration has no Google issuer.</p>
      )}
    </div>
  );
}

export type { BarcodeFormat };
