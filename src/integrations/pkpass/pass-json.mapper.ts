import {
  FIELD_GROUPS,
  type BarcodeFormat,
  type CampaignTemplate,
  type PassStyle,
  type TemplateField,
} from '../../domain/pass-design/campaign-template';

export interface PassJsonInput {
  style: PassStyle;
  /** Already rendered: every token filled for this pass. */
  template: CampaignTemplate;
  passTypeIdentifier: string;
  teamIdentifier: string;
  serialNumber: string;
  authenticationToken: string;
  webServiceURL: string;
  voided?: boolean;
}

const APPLE_BARCODE_FORMATS: Record<BarcodeFormat, string> = {
  QR: 'PKBarcodeFormatQR',
  PDF417: 'PKBarcodeFormatPDF417',
  AZTEC: 'PKBarcodeFormatAztec',
  CODE128: 'PKBarcodeFormatCode128',
};

/** `#rrggbb` or `#rgb` → `rgb(r, g, b)`, the form Apple documents for pass colours. */
export function hexToAppleRgb(hex: string): string {
  const match = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(hex.trim());
  if (!match?.[1]) throw new RangeError(`"${hex}" is not a #rgb or #rrggbb colour`);
  const digits = match[1].length === 3 ? [...match[1]].map((d) => d + d).join('') : match[1];
  const channel = (i: number) => parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  return `rgb(${channel(0)}, ${channel(1)}, ${channel(2)})`;
}

function toAppleField(field: TemplateField): Record<string, string> {
  const out: Record<string, string> = { key: field.key, value: field.value };
  if (field.label !== undefined) out.label = field.label;
  if (field.changeMessage !== undefined) out.changeMessage = field.changeMessage;
  return out;
}

/** The pass.json for one pass, from a campaign template whose tokens are already filled. */
export function buildPassJson(input: PassJsonInput): Record<string, unknown> {
  const { template } = input;
  const pass: Record<string, unknown> = {
    formatVersion: 1,
    passTypeIdentifier: input.passTypeIdentifier,
    teamIdentifier: input.teamIdentifier,
    serialNumber: input.serialNumber,
    authenticationToken: input.authenticationToken,
    webServiceURL: input.webServiceURL,
    organizationName: template.organizationName,
    description: template.description,
  };
  if (template.logoText !== undefined) pass.logoText = template.logoText;
  if (template.backgroundColor !== undefined) pass.backgroundColor = hexToAppleRgb(template.backgroundColor);
  if (template.foregroundColor !== undefined) pass.foregroundColor = hexToAppleRgb(template.foregroundColor);
  if (template.labelColor !== undefined) pass.labelColor = hexToAppleRgb(template.labelColor);

  const structure: Record<string, unknown> = {};
  for (const group of FIELD_GROUPS) {
    const fields = template[group];
    if (fields.length > 0) structure[group] = fields.map(toAppleField);
  }
  pass[input.style] = structure;

  if (template.barcode) {
    const barcode: Record<string, string> = {
      format: APPLE_BARCODE_FORMATS[template.barcode.format],
      message: template.barcode.message,
      messageEncoding: 'iso-8859-1',
    };
    if (template.barcode.altText !== undefined) barcode.altText = template.barcode.altText;
    pass.barcodes = [barcode];
  }
  if (input.voided === true) pass.voided = true;
  return pass;
}
