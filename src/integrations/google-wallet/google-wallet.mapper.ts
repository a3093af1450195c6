import { createHash } from 'node:crypto';
import {
  FIELD_GROUPS,
  GOOGLE_TYPE_BY_STYLE,
  type BarcodeFormat,
  type CampaignTemplate,
  type PassStyle,
  type TemplateField,
} from '../../domain/pass-design/campaign-template';
import type { GoogleWalletResource } from './google-wallet.client';

const LANGUAGE = 'en-US';

const BARCODE_TYPES: Record<BarcodeFormat, string> = {
  QR: 'QR_CODE',
  PDF417: 'PDF_417',
  AZTEC: 'AZTEC',
  CODE128: 'CODE_128',
};

export interface GoogleClassInput {
  style: PassStyle;
  classId: string;
  /** The campaign template as stored, tokens included: only token-free text reaches the class. */
  template: CampaignTemplate;
  issuerName: string;
  logoUrl?: string;
  heroImageUrl?: string;
}

export interface GoogleObjectInput {
  style: PassStyle;
  objectId: string;
  classId: string;
  /** The template with this pass's tokens filled in. */
  template: CampaignTemplate;
  state: 'ACTIVE' | 'INACTIVE';
  logoUrl?: string;
  heroImageUrl?: string;
  /** Loyalty (store card) passes: the member's account. */
  accountId?: string;
  accountName?: string;
}

interface LocalizedString {
  defaultValue: { language: string; value: string };
}

interface Image {
  sourceUri: { uri: string };
}

/**
 * Reduces `s` to the characters Google allows in the identifier part of a class or object id
 * (`[A-Za-z0-9._-]`). A string that already fits is returned unchanged; otherwise each other
 * character becomes `_` and a short hash of the original is appended, so that two different
 * inputs (`a b`, `a/b`) do not end up naming the same pass.
 */
export function googleResourceSuffix(s: string): string {
  const cleaned = s.replace(/[^A-Za-z0-9._-]/g, '_');
  if (cleaned === s && s.length > 0) return s;
  const digest = createHash('sha256').update(s, 'utf8').digest('hex').slice(0, 10);
  return cleaned.length > 0 ? `${cleaned}-${digest}` : digest;
}

/** The Google class for a campaign: shared by every pass issued from it. */
export function buildGoogleClass(input: GoogleClassInput): GoogleWalletResource {
  const { template } = input;
  const type = GOOGLE_TYPE_BY_STYLE[input.style];
  const color = hexColor(template.backgroundColor);
  const primary = template.primaryFields[0];
  const logo = input.logoUrl ? image(input.logoUrl) : undefined;
  const hero = input.heroImageUrl ? image(input.heroImageUrl) : undefined;
  const organization = firstStatic(template.organizationName, template.logoText) ?? input.issuerName;

  switch (type) {
    case 'offer':
      return compact({
        id: input.classId,
        issuerName: input.issuerName,
        provider: organization,
        title:
          firstStatic(primary?.value, template.description, primary?.label, template.organizationName) ??
          input.issuerName,
        redemptionChannel: 'BOTH',
        reviewStatus: 'UNDER_REVIEW',
        hexBackgroundColor: color,
        titleImage: logo,
        heroImage: hero,
      });
    case 'loyalty':
      if (!logo) throw new Error('A Google loyalty class needs a logo URL (programLogo is required)');
      return compact({
        id: input.classId,
        issuerName: input.issuerName,
        programName: firstStatic(template.description, template.organizationName) ?? input.issuerName,
        programLogo: logo,
        reviewStatus: 'UNDER_REVIEW',
        hexBackgroundColor: color,
        heroImage: hero,
      });
    case 'eventTicket':
      return compact({
        id: input.classId,
        issuerName: input.issuerName,
        eventName: localized(
          firstStatic(template.description, primary?.value, template.organizationName) ?? input.issuerName,
        ),
        reviewStatus: 'UNDER_REVIEW',
        hexBackgroundColor: color,
        logo,
        heroImage: hero,
      });
    case 'generic':
      // Generic classes carry no design of their own: colour, logo and texts live on the objects.
      return { id: input.classId };
  }
}

/** The Google object for one pass, from the template rendered with the pass's data. */
export function buildGoogleObject(input: GoogleObjectInput): GoogleWalletResource {
  const { template } = input;
  const type = GOOGLE_TYPE_BY_STYLE[input.style];
  const color = hexColor(template.backgroundColor);
  const base = {
    id: input.objectId,
    classId: input.classId,
    state: input.state,
    barcode: barcode(template),
    textModulesData: textModules(template),
  };

  switch (type) {
    case 'offer':
      return compact(base);
    case 'loyalty':
      return compact({
        ...base,
        accountId: nonEmpty(input.accountId),
        accountName: nonEmpty(input.accountName),
      });
    case 'eventTicket':
      return compact({ ...base, hexBackgroundColor: color });
    case 'generic': {
      const primary = template.primaryFields.find((f) => f.value.trim() !== '');
      const title =
        nonEmpty(template.organizationName) ??
        nonEmpty(template.logoText) ??
        nonEmpty(template.description) ??
        'Wallet pass';
      return compact({
        ...base,
        cardTitle: localized(title),
        subheader: primary?.label ? localized(primary.label) : undefined,
        header: localized(primary?.value ?? nonEmpty(template.description) ?? title),
        hexBackgroundColor: color,
        logo: input.logoUrl ? image(input.logoUrl) : undefined,
        heroImage: input.heroImageUrl ? image(input.heroImageUrl) : undefined,
      });
    }
  }
}

function textModules(template: CampaignTemplate): Array<{ id: string; header?: string; body: string }> {
  const modules: Array<{ id: string; header?: string; body: string }> = [];
  for (const group of FIELD_GROUPS) {
    for (const field of template[group]) {
      if (field.value.trim() === '') continue;
      modules.push(textModule(field));
    }
  }
  return modules;
}

function textModule(field: TemplateField): { id: string; header?: string; body: string } {
  const header = nonEmpty(field.label);
  return { id: googleResourceSuffix(field.key), ...(header ? { header } : {}), body: field.value };
}

function barcode(template: CampaignTemplate): Record<string, string> | undefined {
  const code = template.barcode;
  if (!code || code.message === '') return undefined;
  const alternateText = nonEmpty(code.altText);
  return {
    type: BARCODE_TYPES[code.format],
    value: code.message,
    ...(alternateText ? { alternateText } : {}),
  };
}

const TOKEN = /\{\{[^}]*\}\}/;

/** The first candidate with text and without personalisation tokens. */
function firstStatic(...candidates: Array<string | undefined>): string | undefined {
  return candidates.find((c): c is string => c !== undefined && c.trim() !== '' && !TOKEN.test(c));
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value : undefined;
}

function hexColor(value: string | undefined): string | undefined {
  return value && /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(value) ? value : undefined;
}

function localized(value: string): LocalizedString {
  return { defaultValue: { language: LANGUAGE, value } };
}

function image(uri: string): Image {
  return { sourceUri: { uri } };
}

/**
 * Drops fields with no value. Empty arrays stay: a PATCH replaces arrays wholesale, so an empty
 * `textModulesData` is how removed fields disappear from a saved pass.
 */
function compact<T extends { id: string }>(resource: T): GoogleWalletResource {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(resource)) {
    if (value !== undefined) out[key] = value;
  }
  return out as GoogleWalletResource;
}
