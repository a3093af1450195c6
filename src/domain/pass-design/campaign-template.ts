/**
 * The campaign's pass design as stored and as sent by marketers. Text values may hold
 * `{{contact.<field>}}` / `{{voucher.<field>}}` tokens (with `|default`), filled per pass.
 */
export const PASS_STYLES = ['coupon', 'storeCard', 'eventTicket', 'generic'] as const;
export type PassStyle = (typeof PASS_STYLES)[number];

export const BARCODE_FORMATS = ['QR', 'PDF417', 'AZTEC', 'CODE128'] as const;
export type BarcodeFormat = (typeof BARCODE_FORMATS)[number];

export const FIELD_GROUPS = [
  'headerFields',
  'primaryFields',
  'secondaryFields',
  'auxiliaryFields',
  'backFields',
] as const;
export type FieldGroup = (typeof FIELD_GROUPS)[number];

export interface TemplateField {
  key: string;
  label?: string;
  value: string;
  /** Apple alert text on change; must contain `%@`. */
  changeMessage?: string;
}

export interface TemplateBarcode {
  format: BarcodeFormat;
  message: string;
  altText?: string;
}

export interface CampaignTemplate {
  organizationName: string;
  description: string;
  logoText?: string;
  /** `#rrggbb` */
  backgroundColor?: string;
  foregroundColor?: string;
  labelColor?: string;
  headerFields: TemplateField[];
  primaryFields: TemplateField[];
  secondaryFields: TemplateField[];
  auxiliaryFields: TemplateField[];
  backFields: TemplateField[];
  barcode?: TemplateBarcode;
}

export const IMAGE_NAMES = ['icon', 'logo', 'strip', 'thumbnail', 'background', 'footer'] as const;
export type ImageName = (typeof IMAGE_NAMES)[number];

export type PersonalisationValue = string | number | boolean | null;

/** The data a link carries for one pass: contact and voucher attributes. */
export interface PersonalisationData {
  contact: Record<string, PersonalisationValue>;
  voucher: Record<string, PersonalisationValue>;
}

/** Google Wallet class/object type per Apple pass style. */
export const GOOGLE_TYPE_BY_STYLE: Record<PassStyle, 'offer' | 'loyalty' | 'eventTicket' | 'generic'> = {
  coupon: 'offer',
  storeCard: 'loyalty',
  eventTicket: 'eventTicket',
  generic: 'generic',
};
